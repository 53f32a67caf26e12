"""The MTA log's records (the SIEM download's lines), rendered from a message's facts.

One message gives a receipt line per recipient (accepted or refused), a process line (the
policies applied), a delivery line per copy delivered or bounced (a released copy's at its
release), an anti-virus and an attachment-protect line per file and recipient, spam-event,
impersonation and journal lines where they apply; a click gives a URL-protect line. Keys,
their case and their value types are the real records' (spec: mimecast-data-families §1.4,
from Elastic's ingest pipeline and fixtures, Sentinel's and Mimecast's own collectors):
JSON values keep their types (`SpamScore` a number, `Delivered` a boolean); the key_value
form writes them all as text.

What the facts do not hold (TLS, the remote server's answer, latency) is derived from the
message's id, so it is the same on every download and every store.

A renderer takes the rows `siem` reads: a message's (or click's) time comes as `row.time`,
already in the wire's form (the database formats it).
"""

from __future__ import annotations

import base64
import functools
import hashlib
from collections.abc import Sequence
from typing import Any

import orjson

from mimicast.services.mail import dlp, engine
from mimicast.services.mail.content import attachment_bytes
from mimicast.services.mail.facts import BOUNCED, HELD

Record = dict[str, Any]

DIRECTIONS = {"inbound": "Inbound", "outbound": "Outbound", "internal": "Internal"}
# Attachment Protect scans what comes in and what the account's users send each other (as
# `ttp/attachment/get-logs` says).
SCANNED_ROUTES = ("inbound", "internal")
# The gateway's refusals, by the reason code the engine gave: (RejType, RejCode).
_REFUSALS = {
    engine.INVALID_RECIPIENT[1]: ("Recipient email address is possibly incorrect", "550"),
    engine.SPOOFED[1]: ("Anti-Spoofing Lockout", "550"),
    engine.BLOCKED_SENDER[1]: ("Envelope Rejected", "550"),
    engine.MANAGED_BLOCK[1]: ("Manual Envelope Rejection", "550"),
}
REFUSED_AT_RECEIPT = tuple(_REFUSALS)
# Why a message was held, as process lines code it (`Hld`).
_HOLD_CODES = {engine.ATTACHMENT_HOLD[1]: "Att", engine.IMPERSONATION_HOLD[1]: "Imp",
               engine.DLP_HOLD[1]: "Dpp"}
# The impersonation indicators (the engine's names) → process-line and impersonation-line keys.
_PROCESS_FLAGS = (("IPNewDomain", "newly_observed_domain"),
                  ("IPReplyMismatch", "reply_to_address_mismatch"),
                  ("IPInternalName", "internal_user_name"),
                  ("IPSimilarDomain", "similar_internal_domain"))
_IMPERSONATION_FLAGS = (("InternalName", "internal_user_name"),
                        ("NewDomain", "newly_observed_domain"),
                        ("ReplyMismatch", "reply_to_address_mismatch"),
                        ("SimilarInternalDomain", "similar_internal_domain"))
_CIPHERS = (("TLSv1.3", "TLS_AES_256_GCM_SHA384"), ("TLSv1.3", "TLS_AES_128_GCM_SHA256"),
            ("TLSv1.2", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"))
_AUTH_INFO = {"pass": "PASS", "fail": "FAIL", "none": "UNKNOWN"}
DELIVERY_ROUTES = {"inbound": "Office365", "internal": "Office365",
                   "outbound": "Mimecast Default Delivery Route"}
# Values of free text that the key_value form wraps in backslashes.
FREE_TEXT = frozenset({"Subject", "RejType", "RejInfo", "Err", "Error"})


# A message's lines come in several files (receipt, process, delivery, …) served one after
# another: its processing id is computed once for all of them, while its slice is drained.
@functools.lru_cache(maxsize=16384)
def a_code(account: str, message: int) -> str:
    """The processing id tying one message's receipt, process and delivery lines together:
    22 URL-safe characters, as the real ones."""
    digest = hashlib.blake2b(f"{account}:{message}".encode(), digest_size=16).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _tls(message: int) -> tuple[str, str]:
    """The TLS a message came in over: mostly 1.3, some 1.2, one in twenty none."""
    pick = message * 2654435761 % 20
    return ("", "") if pick == 0 else _CIPHERS[pick % len(_CIPHERS)]


@functools.lru_cache(maxsize=1024)
def _remote_ip(name: str) -> str:
    """The IP of the server a copy was delivered to (a documentation address)."""
    digest = hashlib.blake2b(name.encode(), digest_size=2).digest()
    return f"203.0.113.{digest[0] % 254 + 1}"


def _latency(copy: int) -> int:
    return 180 + copy * 7919 % 2800


def _domain(address: str) -> str:
    return address.rpartition("@")[2]


def _bool(value: bool) -> str:
    return "true" if value else "false"


# Records are serialized as they are made and never changed: every receipt line with the
# same authentication results shares one detail object (there are 27).
@functools.cache
def _spam_detail(spf: str, dkim: str, dmarc: str) -> dict[str, Any]:
    return {"spf": {"info": f"SPF_{_AUTH_INFO[spf]}", "allow": spf != "fail"},
            "dkim": {"info": f"DKIM_{_AUTH_INFO[dkim]}", "allow": dkim != "fail"},
            "dmarc": {"info": f"DMARC_{_AUTH_INFO[dmarc]}", "allow": dmarc != "fail"},
            "greyEmail": False}


# A held copy an administrator released or rejected since: its reason code says so, the
# policy that held it stays.
AFTER_THE_HOLD = ("released", "admin_rejected")
_HOLD_WORDS = (("Spam", "Spm"), ("Impersonation", "Imp"), ("Attachment", "Att"),
               ("Content Examination", "Dpp"))


def was_held(status: str, reason_code: str) -> bool:
    """The copy was held when the gateway processed it (and may have left the hold since)."""
    return status == HELD or reason_code in AFTER_THE_HOLD


def hold_code(reason_code: str, policy: str = "") -> str:
    """Why a copy was held, as process lines code it; after a release or rejection, from
    the policy that held it."""
    if reason_code in AFTER_THE_HOLD:
        return next((code for word, code in _HOLD_WORDS if word in policy), "Oth")
    if reason_code.startswith("spam"):
        return "Spm"
    return _HOLD_CODES.get(reason_code, "Oth")


def held_for_impersonation(row: Any) -> bool:
    """A copy (with status, reason_code and policy) held for impersonation, then or since."""
    return was_held(row.status, row.reason_code) and \
        hold_code(row.reason_code, row.policy) == "Imp"


# Receipt, process, delivery -----------------------------------------------------------------

def receipt(account: str, row: Any) -> Record:
    """A recipient's line when the gateway took the message in (or refused it)."""
    version, cipher = _tls(row.id)
    refused = row.reason_code in REFUSED_AT_RECEIPT
    record: Record = {
        "datetime": row.time, "aCode": a_code(account, row.id),
        "acc": account, "SpamLimit": engine.LEVELS[row.detection_level or "relaxed"],
        "IP": row.sender_ip, "Dir": DIRECTIONS[row.route], "MsgId": row.message_id,
        "Subject": row.subject, "headerFrom": row.header_from, "Sender": row.sender or "<>",
        "Rcpt": row.original,
        "SpamInfo": f"[Score {row.spam_score}: {row.detection_level}]" if row.detection_level
        else "[]",
        "Act": "Rej" if refused else "Acc", "TlsVer": version, "Cphr": cipher,
        "SpamProcessingDetail": _spam_detail(row.spf, row.dkim, row.dmarc),
        "SpamScore": row.spam_score}
    if refused:
        kind, code = _REFUSALS.get(row.reason_code, ("Envelope Rejected", "550"))
        record.update(RejType=kind, RejCode=code, RejInfo=row.reason)
    return record


def process(account: str, row: Any, copies: Sequence[Any], files: Sequence[Any]) -> Record:
    """A message's line once the policies ran (`copies`: its recipients the gateway
    accepted, with their status, reason code and policy; `files`: its attachments' names and
    sizes)."""
    held = next((copy for copy in copies if was_held(copy.status, copy.reason_code)), None)
    found = set(row.impersonation.split(",")) if row.impersonation else set()
    record: Record = {
        "datetime": row.time, "aCode": a_code(account, row.id),
        "acc": account, "AttCnt": len(files),
        "AttNames": ", ".join(f'"{f.name}"' for f in files), "AttSize": sum(f.size for f in files),
        "MsgSize": row.size, "MsgId": row.message_id, "Sender": row.sender or "<>",
        "Subject": row.subject, "Act": "Hld" if held is not None else "Acc"}
    if held is not None:
        record["Hld"] = hold_code(held.reason_code, held.policy)
    for key, indicator in _PROCESS_FLAGS:
        record[key] = _bool(indicator in found)
    record["IPThreadDict"] = "false"
    return record


def delivery(account: str, row: Any, when: str | None = None) -> Record:
    """A copy's delivery attempt: delivered, or refused by the receiving server (a bounce);
    `row.files` and `row.file_bytes` count and sum its message's attachments. `when`: a
    released copy's release time, in the wire's form (default: when the message came
    in)."""
    delivered = row.status != BOUNCED
    version, cipher = _tls(row.id)
    record: Record = {
        "datetime": when or row.time, "aCode": a_code(account, row.id),
        "acc": account, "Delivered": delivered, "Attempt": 1, "Dir": DIRECTIONS[row.route],
        "IP": _remote_ip(_domain(row.address)), "Rcpt": row.address,
        "Sender": row.sender or "<>", "MsgId": row.message_id, "Subject": row.subject,
        "Route": DELIVERY_ROUTES[row.route],
        "ReceiptAck": f"250 2.6.0 {row.message_id} Queued mail for delivery" if delivered
        else None,
        "Latency": _latency(row.copy), "Snt": row.size if delivered else 0,
        "AttCnt": row.files, "AttSize": row.file_bytes,
        "UseTls": "Yes" if version else "No", "TlsVer": version, "Cphr": cipher}
    if not delivered:
        record.update(RejType="Recipient server rejected the message", RejCode="550",
                      RejInfo=row.reason, Err=row.reason)
    return record


# Files: anti-virus, attachment protect ------------------------------------------------------

@functools.lru_cache(maxsize=256)
def _simulated_hashes(seed: int, name: str, size: int, malicious: bool) -> tuple[str, str]:
    data = attachment_bytes(seed, name, size, malicious=malicious)
    return hashlib.md5(data).hexdigest(), hashlib.sha1(data).hexdigest()


def file_hashes(row: Any, file: Any) -> tuple[str, str]:
    """md5 and sha1 of a file's bytes (the sender's, or those its simulated hash names)."""
    if file.content is not None:
        data = bytes(file.content)
        return hashlib.md5(data).hexdigest(), hashlib.sha1(data).hexdigest()
    return _simulated_hashes(row.seed or 0, file.name, file.size, file.verdict == "malicious")


def _file_keys(row: Any, file: Any) -> Record:
    md5, sha1 = file_hashes(row, file)
    return {"fileName": file.name, "fileExt": file.name.rpartition(".")[2].lower()
            if "." in file.name else "", "fileMime": file.content_type, "Size": file.size,
            "md5": md5, "sha1": sha1, "sha256": file.sha256}


def antivirus(account: str, row: Any, file: Any, internal: bool) -> Record:
    """A malicious file, for one recipient (`internal`: the sender's domain is the
    account's)."""
    return {"datetime": row.time, "acc": account,
            "Virus": "Mimecast:EICAR-Test-File", "Sender": row.sender or "<>",
            "Recipient": row.address, "SenderDomain": _domain(row.sender),
            "SenderDomainInternal": _bool(internal), "CustomerIP": "false",
            "MimecastIP": "false", "IP": row.sender_ip, "Route": DIRECTIONS[row.route],
            "MsgId": row.message_id, "Subject": row.subject, **_file_keys(row, file)}


def attachment_protect(account: str, row: Any, file: Any) -> Record:
    """A file attachment protection opened in its sandbox, for one recipient."""
    return {"datetime": row.time, "acc": account, "IP": row.sender_ip,
            "Sender": row.sender or "<>", "SenderDomain": _domain(row.sender),
            "Recipient": row.address, "Route": DIRECTIONS[row.route], **_file_keys(row, file)}


# Spam, impersonation, journal ---------------------------------------------------------------

def spam_event(account: str, row: Any) -> Record:
    return {"datetime": row.time, "acc": account,
            "aCode": a_code(account, row.id), "MsgId": row.message_id,
            "Sender": row.sender or "<>", "headerFrom": row.header_from,
            "Recipient": row.address, "SenderDomain": _domain(row.sender),
            "SourceIP": row.sender_ip, "Route": DIRECTIONS[row.route], "Subject": row.subject}


def impersonation(account: str, row: Any) -> Record:
    found = row.impersonation.split(",")
    held = held_for_impersonation(row)
    record: Record = {
        "datetime": row.time, "acc": account,
        "aCode": a_code(account, row.id), "Action": "Hold" if held else "None",
        "Definition": row.policy if held else "Default Impersonation Definition",
        "Hits": str(len(found)), "Sender": row.sender or "<>", "Recipient": row.address,
        "IP": row.sender_ip, "MsgId": row.message_id, "Subject": row.subject,
        "Route": DIRECTIONS[row.route], "TaggedMalicious": _bool(held),
        "TaggedExternal": "true"}
    for key, indicator in _IMPERSONATION_FLAGS:
        record[key] = _bool(indicator in found)
    record.update(SimilarCustomExternalDomain="false", SimilarMimecastExternalDomain="false",
                  ThreatDictionary="false", CustomThreatDictionary="false", CustomName="false")
    return record


def journal(account: str, row: Any) -> Record:
    return {"datetime": row.time, "acc": account,
            "aCode": a_code(account, row.id), "Dir": DIRECTIONS[row.route],
            "Sender": row.sender or "<>", "Rcpt": row.address, "RcptActType": "Jnl",
            "RcptHdrType": "Unknown"}


# Clicks -------------------------------------------------------------------------------------

_CLICK_ACTIONS = {"allowed": "Allow", "warned": "Warn", "blocked": "Block"}


def url_click(account: str, row: Any) -> Record:
    """A recipient following a link URL Protect rewrote (lower-case keys, as the real
    records). Malicious: blocked by the scan; a link a managed URL blocks is "Blocked", not
    scanned (as `ttp/url/get-logs` says)."""
    managed = row.link_action == "blocked"
    malicious = row.action == "blocked" and not managed
    return {"datetime": row.time, "acc": account,
            "reason": "malicious" if malicious else "clean", "url": row.url,
            "urlCategory": "Blocked" if managed else "Phishing & Fraud" if malicious
            else "Uncategorized",
            "sender": row.sender or "<>", "senderDomain": _domain(row.sender),
            "recipient": row.recipient, "sourceIp": row.source_ip, "route": row.route,
            "action": _CLICK_ACTIONS[row.action], "subject": row.subject,
            "msgid": row.message_id, "credentialTheft": None}


def dlp_hits(row: Any) -> list[tuple[str, str]]:
    return dlp.decode(row.dlp)


# The key_value form -------------------------------------------------------------------------

def _text(key: str, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return _bool(value)
    if isinstance(value, dict):
        return orjson.dumps(value).decode()
    text = str(value)
    # A record is one line, its fields split on "|", and collectors find records by the
    # text "datetime=": none of these may appear inside a value.
    if "|" in text or "\r" in text or "\n" in text or "datetime=" in text:
        text = (text.replace("|", "/").replace("\r", " ").replace("\n", " ")
                .replace("datetime=", "datetime:"))
    return f"\\{text}\\" if key in FREE_TEXT else text


def key_value(record: Record) -> str:
    """One record as a key_value line (`datetime` first; CRLF after it)."""
    return "|".join(f"{key}={_text(key, value)}" for key, value in record.items()) + "\r\n"
