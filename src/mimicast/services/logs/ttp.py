"""Targeted Threat Protection's logs, rendered from the mail flow's facts when asked (data
families §2, §3): URL Protect's clicks (`ttp/url/get-logs`) and Attachment Protect's scans
(`ttp/attachment/get-logs`).

A click log entry is a `LinkClick` with its link and message. `action` is the click's:
allowed → "allow", warned → "warn" (the message scored as suspicious: a warning page came
first), blocked → "block". `scanResult` is "malicious" for a click URL Protect blocked on a
known-malicious site, "clean" otherwise; a link an administrator's managed URL blocks is not
scanned, so its clicks are "clean", with `adminOverride` "Block" and `category` "Blocked".

An attachment log entry is one file of a message, for each recipient copy the scan reached:
Attachment Protect scans inbound and internal mail (the account's users' outbound mail is
theirs), and a copy refused before the scan (blocked sender, managed sender, anti-spoofing,
unknown recipient) never reached it. `actionTriggered` is "hold" for a malicious file whose
copy was held (held still, or released or rejected from the hold since), else "none".
"""

from __future__ import annotations

import functools
import hashlib
from typing import Any

from sqlalchemy import and_, bindparam, or_, select

from mimicast.services import paging
from mimicast.services.context import Context
from mimicast.services.logs import ledger, window
from mimicast.services.mail import engine
from mimicast.services.mail.facts import HELD
from mimicast.store.schema import (
    LinkClick,
    Message,
    MessageAttachment,
    MessageLink,
    MessageRecipient,
)
from mimicast.wire.dates import format_date

URL_PATH = "/api/ttp/url/get-logs"
ATTACHMENT_PATH = "/api/ttp/attachment/get-logs"
ROUTES = ("all", "inbound", "outbound", "internal")
SCAN_RESULTS = ("all", "clean", "malicious")
FILE_RESULTS = ("all", "safe", "malicious")
SCANNED_ROUTES = ("inbound", "internal")
# The copies' states after a hold: released or rejected by an administrator.
_FROM_THE_HOLD = ("released", "admin_rejected")
_REFUSED_BEFORE_SCAN = tuple(code for _reason, code in (
    engine.BLOCKED_SENDER, engine.MANAGED_BLOCK, engine.SPOOFED, engine.INVALID_RECIPIENT))
_CLICK_ACTIONS = {"allowed": "allow", "warned": "warn", "blocked": "block"}
BLOCKED = "blocked"


def _definition(route: str, protection: str) -> str:
    return f"Default {route.capitalize()} {protection} Definition"


# URL Protect's clicks -----------------------------------------------------------------------

_CLICKS = (select(LinkClick.id, LinkClick.clicked_at, LinkClick.recipient, LinkClick.action,
                  MessageLink.url, MessageLink.action.label("link_action"), Message.route,
                  Message.header_from, Message.subject, Message.sender_ip,
                  Message.message_id.label("message_id_header"))
           .join(MessageLink, MessageLink.id == LinkClick.link_id)
           .join(Message, Message.id == MessageLink.message_id))
# Blocked by the scan: a blocked click on a link no managed URL blocked.
_MALICIOUS = and_(LinkClick.action == BLOCKED, MessageLink.action != BLOCKED)


@functools.cache
def _clicks(route: bool, result: str, oldest_first: bool) -> paging.Keyset:
    """The account's clicks in a window along ix_link_clicks_account_time (account, time,
    id); the link and message come by primary key, and route and scan result narrow the
    walk."""
    base = _CLICKS.where(LinkClick.account_id == bindparam("account"),
                         LinkClick.clicked_at >= bindparam("start"),
                         LinkClick.clicked_at <= bindparam("end"))
    if route:
        base = base.where(Message.route == bindparam("route"))
    if result == "malicious":
        base = base.where(_MALICIOUS)
    elif result == "clean":
        base = base.where(or_(LinkClick.action != BLOCKED, MessageLink.action == BLOCKED))
    return paging.Keyset(base, order=[LinkClick.clicked_at, LinkClick.id],
                         pinned=[LinkClick.account_id], descending=not oldest_first,
                         window=("start", "end"))


def whole_url_log() -> paging.Keyset:
    """The click log unnarrowed, oldest first (the ledger's report reads it whole)."""
    return _clicks(False, "all", True)


def click_view(row: Any) -> dict[str, Any]:
    blocked = row.action == BLOCKED
    managed = row.link_action == BLOCKED
    malicious = blocked and not managed
    return {"userEmailAddress": row.recipient, "fromUserEmailAddress": row.header_from,
            "url": row.url, "ttpDefinition": _definition(row.route, "URL Protect"),
            "subject": row.subject, "action": _CLICK_ACTIONS.get(row.action, row.action),
            "adminOverride": "Block" if managed else "N/A", "userOverride": "None",
            "scanResult": "malicious" if malicious else "clean",
            "category": "Blocked" if managed else "Phishing & Fraud" if malicious
            else "Uncategorized",
            "sendingIp": row.sender_ip if row.route == "inbound" and row.sender_ip
            else "Internal IP",
            "userAwarenessAction": "N/A", "date": format_date(row.clicked_at),
            "actions": "Block" if blocked else "None", "route": row.route,
            "creationMethod": "User Click", "emailPartsDescription": ["Body"],
            "messageId": row.message_id_header}


def url_logs(ctx: Context, start_text: str | None, end_text: str | None, route: str,
             scan_result: str, oldest_first: bool) -> paging.Paged:
    """`ttp/url/get-logs`: the clicks on URL Protect's links from `start_text` (default: the
    start of the day) to `end_text` (default: now), newest first unless `oldest_first`;
    `route` and `scan_result` ("all" for any) narrow them. The answer is
    `data[0].clickLogs`."""
    start, end = window.day_window(ctx, start_text, end_text, start_field="from",
                                   end_field="to")
    params: dict[str, Any] = {"account": ctx.caller.account_id, "start": start, "end": end}
    if route != "all":
        params["route"] = route
    keyset = _clicks(route != "all", scan_result, oldest_first)
    page = keyset.page(ctx, f"ttp-url|{route}|{scan_result}|{oldest_first}|"
                            f"{window.scope(start_text, end_text)}", **params)
    ledger.record_page(ctx, URL_PATH, [keyset.key_of(row) for row in page.rows],
                       [row.clicked_at for row in page.rows],
                       filtered=route != "all" or scan_result != "all")
    return paging.Paged([{"clickLogs": [click_view(row) for row in page.rows]}],
                        page.pagination)


# Attachment Protect's scans -----------------------------------------------------------------

_FILE = MessageAttachment.id.label("attachment_id")
_COPY = MessageRecipient.id.label("copy_id")
_SCANS = (select(Message.id, Message.received_at, Message.route, Message.sender,
                 Message.subject, Message.message_id.label("message_id_header"), _FILE,
                 MessageAttachment.name, MessageAttachment.content_type,
                 MessageAttachment.size, MessageAttachment.sha256, MessageAttachment.verdict,
                 _COPY, MessageRecipient.address, MessageRecipient.status,
                 MessageRecipient.reason_code)
          .join(MessageAttachment, MessageAttachment.message_id == Message.id)
          .join(MessageRecipient, MessageRecipient.message_id == Message.id))


@functools.cache
def _scans(route: bool, result: bool, oldest_first: bool) -> paging.Keyset:
    """The account's scanned mail in a window along ix_messages_account_received (account,
    time, id), each message's files and copies by their message_id indexes; route and
    result narrow the walk. No `totalCount` (as the real v1 answers): counting would walk
    the whole window's mail once more."""
    base = _SCANS.where(Message.account_id == bindparam("account"),
                        Message.received_at >= bindparam("start"),
                        Message.received_at <= bindparam("end"),
                        Message.route.in_(SCANNED_ROUTES),
                        MessageRecipient.reason_code.not_in(_REFUSED_BEFORE_SCAN))
    if route:
        base = base.where(Message.route == bindparam("route"))
    if result:
        base = base.where(MessageAttachment.verdict == bindparam("result"))
    return paging.Keyset(base, order=[Message.received_at, Message.id, _FILE, _COPY],
                         pinned=[Message.account_id], descending=not oldest_first,
                         count=False, window=("start", "end"))


def _details(row: Any) -> str:
    """The sandbox's verdict and how long it took, the same on every call: a second for
    each half megabyte and a few seconds more, drawn from the file's hash."""
    seconds = 1 + row.size // 500_000 + hashlib.sha256(row.sha256.encode()).digest()[0] % 6
    minutes, seconds = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return (f"{row.verdict.capitalize()}\r\nTime taken: {hours} hrs, {minutes} min, "
            f"{seconds} sec")


def scan_view(row: Any) -> dict[str, Any]:
    held = row.status == HELD or row.reason_code in _FROM_THE_HOLD
    return {"senderAddress": row.sender or "<>", "recipientAddress": row.address,
            "fileName": row.name, "fileType": row.content_type, "result": row.verdict,
            "actionTriggered": "hold" if row.verdict == "malicious" and held else "none",
            "date": format_date(row.received_at), "details": _details(row),
            "route": row.route, "messageId": row.message_id_header, "subject": row.subject,
            "fileHash": row.sha256,
            "definition": _definition(row.route, "Attachment Protect")}


def whole_attachment_log() -> paging.Keyset:
    """The scan log unnarrowed, oldest first (the ledger's report reads it whole)."""
    return _scans(False, False, True)


def attachment_logs(ctx: Context, start_text: str | None, end_text: str | None, route: str,
                    result: str, oldest_first: bool) -> paging.Paged:
    """`ttp/attachment/get-logs`: the files Attachment Protect scanned, one entry per file
    and recipient copy, from `start_text` (default: the start of the day) to `end_text`
    (default: now), newest first unless `oldest_first`; `route` and `result` ("all" for
    any) narrow them. The answer is `data[0].attachmentLogs`."""
    start, end = window.day_window(ctx, start_text, end_text, start_field="from",
                                   end_field="to")
    params: dict[str, Any] = {"account": ctx.caller.account_id, "start": start, "end": end}
    if route != "all":
        params["route"] = route
    if result != "all":
        params["result"] = result
    keyset = _scans(route != "all", result != "all", oldest_first)
    page = keyset.page(ctx, f"ttp-attachment|{route}|{result}|{oldest_first}|"
                            f"{window.scope(start_text, end_text)}", **params)
    ledger.record_page(ctx, ATTACHMENT_PATH, [keyset.key_of(row) for row in page.rows],
                       [row.received_at for row in page.rows],
                       filtered=route != "all" or result != "all")
    return paging.Paged([{"attachmentLogs": [scan_view(row) for row in page.rows]}],
                        page.pagination)
