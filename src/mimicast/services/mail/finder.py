"""Message Finder (formerly Message Tracking, spec §6): `message-finder/search` lists the
copies of messages (one per recipient) that match, newest first; `get-message-info` tells a
copy's whole story. Both are views of the stored facts.

Searches go through indexes: by Message-ID header (account, message_id), by sender (account,
sender, received_at: `from` is the envelope sender, as the real advanced search reads it), by
recipient (account, address, received_at), or else along the time window (account,
received_at); subject, sender IP and route narrow those walks.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select

from mimicast.services import paging
from mimicast.services.context import Context
from mimicast.services.identity import normalise_email
from mimicast.services.mail import access
from mimicast.services.mail.facts import DELIVERED, HELD, QUEUED, REJECTED
from mimicast.services.mail.queue import held_group
from mimicast.services.mail.views import (
    COPIES,
    address,
    copy,
    secure_id,
    window,
    window_scope,
)
from mimicast.store.query import LIKE_ESCAPE, Query, contains
from mimicast.store.schema import Message, MessageAttachment, MessageRecipient
from mimicast.wire.dates import format_date
from mimicast.wire.errors import ApiError

HISTORY_DAYS = 30  # how far back a search may start (spec §6.1)
DEFAULT_WINDOW_DAYS = 1
RETENTION_DAYS = 30  # how long the gateway keeps a delivered copy's content
ROUTES = ("internal", "outbound", "inbound")
PROCESSING_SERVER = "mimicast-gw-01"


def _routes(value: Any, field: str) -> list[str]:
    """`route` given as an array or a string (clients do both, spec §6.1); [] for all."""
    values = value if isinstance(value, list) else [value] if value else []
    routes = []
    for index, given in enumerate(values):
        route = str(given).strip().lower()
        if route in ("all", ""):
            return []
        if route == "external":
            route = "inbound"
        if route not in ROUTES:
            where = f"{field}[{index}]" if isinstance(value, list) else field
            raise ApiError("err_validation_invalid_value", field=where,
                           reason="route must be one of all, internal, outbound, inbound")
        routes.append(route)
    return sorted(set(routes))


@functools.cache
def _search(by: str, sender: bool, recipient: bool, subject: bool, ip: bool, routes: int
            ) -> paging.Keyset:
    """`by`: the index the walk takes — message_id (account, message_id), from (account,
    sender, received_at), to (account, address, received_at) or window (account,
    received_at) — whose columns lead the order, so the planner takes it; the other filters
    narrow the walk."""
    if by == "message_id":
        # The window on the recipients' copy of the time, so the messages' time index (which
        # would walk the whole window) is no candidate for the planner.
        base = COPIES.where(Message.account_id == bindparam("account"),
                            Message.message_id == bindparam("message_id"),
                            MessageRecipient.received_at >= bindparam("start"),
                            MessageRecipient.received_at <= bindparam("end"))
        pinned: list[Any] = [Message.account_id, Message.message_id]
        order: list[Any] = [MessageRecipient.received_at, MessageRecipient.id]
    elif by == "to":
        base = COPIES.where(MessageRecipient.account_id == bindparam("account"),
                            MessageRecipient.received_at >= bindparam("start"),
                            MessageRecipient.received_at <= bindparam("end"))
        pinned = [MessageRecipient.account_id, MessageRecipient.address]
        order = [MessageRecipient.received_at, MessageRecipient.id]
    else:
        base = COPIES.where(Message.account_id == bindparam("account"),
                            Message.received_at >= bindparam("start"),
                            Message.received_at <= bindparam("end"))
        pinned = [Message.account_id]
        order = [Message.received_at, MessageRecipient.id]
        if by == "from":
            pinned = [Message.account_id, Message.sender]
    if sender:
        base = base.where(Message.sender == bindparam("sender"))
    if recipient:
        base = base.where(MessageRecipient.address == bindparam("recipient"))
    if subject:
        base = base.where(Message.subject.ilike(bindparam("subject"), escape=LIKE_ESCAPE))
    if ip:
        base = base.where(Message.sender_ip == bindparam("ip"))
    if routes:
        base = base.where(Message.route.in_([bindparam(f"route_{i}") for i in range(routes)]))
    # No totalCount: clients do not read it here (a real fixture answers pageSize 0 with a
    # result), and counting a busy hour's mail would cost more than finding its first page.
    return paging.Keyset(base, order=order, pinned=pinned, descending=True, count=False,
                         window=("start", "end"))


def _info(row: Any) -> str:
    """The one line Message Finder shows for a copy's state."""
    if row.status == HELD:
        return f"Message Hold Applied - {row.policy or row.reason}"
    if row.status == DELIVERED:
        return "Indexed and archived" if not row.reason else row.reason
    if row.status == QUEUED:
        return "Queued for delivery"
    return row.reason or ("Envelope Rejected" if row.status == REJECTED else row.status)


def _status(row: Any) -> str:
    return "archived" if row.status == DELIVERED else row.status


def _sent(row: Any) -> str:
    """The Date header: the sender wrote it a moment before the gateway received it."""
    return format_date(row.received_at - timedelta(seconds=2 + row.message % 5))


def tracked_view(row: Any) -> dict[str, Any]:
    return {"id": secure_id(row.id), "status": _status(row), "info": _info(row),
            "fromEnv": address(row.sender),
            "fromHdr": {"emailAddress": row.header_from, "displayableName": row.from_name},
            "to": [{"emailAddress": row.address, "displayableName": row.name}],
            "subject": row.subject, "received": format_date(row.received_at),
            "sent": _sent(row), "senderIP": row.sender_ip, "route": row.route,
            "attachments": bool(row.has_attachments), "detectionLevel": row.detection_level,
            "spamScore": row.spam_score}


def search(ctx: Context, item: Mapping[str, Any]) -> paging.Paged:
    """`message-finder/search`: the copies matching the item, newest first, paged; the
    answer is `data[0].trackedEmails`. Audited, as the real service audits searches."""
    start, end = window(ctx, item, default_days=DEFAULT_WINDOW_DAYS)
    if start < ctx.now() - timedelta(days=HISTORY_DAYS):
        raise ApiError("err_track_and_trace_invalid_start_date", field="start",
                       days=HISTORY_DAYS)
    options = item.get("advancedTrackAndTraceOptions") or {}
    if not isinstance(options, Mapping):
        raise ApiError("err_validation_invalid_value", field="advancedTrackAndTraceOptions",
                       reason="an object {from, to, subject, senderIP, route}")
    params: dict[str, Any] = {"account": ctx.caller.account_id, "start": start, "end": end}
    message_id = str(item.get("messageId") or "").strip()
    sender = str(options.get("from") or "").strip()
    recipient = str(options.get("to") or "").strip()
    if message_id:
        # Stored as the header holds it, in angle brackets; clients send either form.
        params["message_id"] = f"<{message_id.strip('<>')}>"
    if sender:
        params["sender"] = normalise_email(sender, "advancedTrackAndTraceOptions.from")
    if recipient:
        params["recipient"] = normalise_email(recipient, "advancedTrackAndTraceOptions.to")
    by = ("message_id" if message_id else "from" if sender else "to" if recipient
          else "window")
    subject = str(options.get("subject") or "").strip()
    ip = str(options.get("senderIP") or "").strip()
    if subject:
        params["subject"] = contains(subject)
    if ip:
        params["ip"] = ip
    routes = (_routes(options["route"], "advancedTrackAndTraceOptions.route")
              if options.get("route") else _routes(item.get("route") or item.get("routes"),
                                                   "route"))
    params.update({f"route_{i}": route for i, route in enumerate(routes)})
    keyset = _search(by, bool(sender), bool(recipient), bool(subject), bool(ip), len(routes))
    page = keyset.page(ctx, "finder|" + "|".join(str(v) for v in (
        message_id, params.get("sender"), params.get("recipient"), subject, ip,
        ",".join(routes), window_scope(item))), **params)
    if not ctx.page.token:
        access.record_search(ctx, (
            ("Message ID", params.get("message_id", "")), ("From", params.get("sender", "")),
            ("To", params.get("recipient", "")), ("Subject", subject), ("Sender IP", ip),
            ("Route", ", ".join(routes))), str(item.get("searchReason") or "").strip())
    return paging.Paged([{"trackedEmails": [tracked_view(row) for row in page.rows]}],
                        page.pagination)


# One copy's story ---------------------------------------------------------------------------

_ATTACHMENTS = Query(select(MessageAttachment.name, MessageAttachment.content_type,
                            MessageAttachment.size, MessageAttachment.sha256)
                     .where(MessageAttachment.message_id == bindparam("message"))
                     .order_by(MessageAttachment.id))


def _plain_date(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def message_info(ctx: Context, copy_id: str) -> dict[str, Any]:
    """`message-finder/get-message-info`: retention, recipient, delivery and spam
    information and the processing timeline of one copy."""
    row = copy(ctx, copy_id)
    files = _ATTACHMENTS.all(ctx.unit, message=row.message)
    received = row.received_at
    processed = received + timedelta(seconds=1)
    purge = received + timedelta(days=RETENTION_DAYS)
    remote_host = row.sender_ip and f"mail.{row.sender.rpartition('@')[2]}"
    components = [{"name": "transmission.eml", "type": "Email Transmission File",
                   "mimeType": "message/rfc822-stubbed", "extension": "eml",
                   "size": row.size, "hash": ""}]
    components += [{"name": f.name, "type": "File Attachment", "mimeType": f.content_type,
                    "extension": f.name.rpartition(".")[2] if "." in f.name else "",
                    "size": f.size, "hash": f.sha256} for f in files]
    message_info = {
        "fromEnvelope": row.sender, "fromHeader": row.header_from, "to": row.address,
        "subject": row.subject, "sent": _sent(row), "processed": format_date(processed),
        "route": row.route, "transmissionInfo": "TLS",
        "contentExpiration": f"{_plain_date(purge)} ({RETENTION_DAYS} Days)",
        "metadataExpiration": "Message Expired" if purge < ctx.now() else _plain_date(purge)}
    transmission = {
        "remoteHost": remote_host, "remoteIp": row.sender_ip,
        "remoteServerGreeting": f"EHLO {remote_host}" if remote_host else "",
        "transmissionStart": format_date(received),
        "transmissionEnd": format_date(received + timedelta(milliseconds=300)),
        "transmissionSize": row.size}
    tx_info = {
        "actualSize": row.size, "compressedStoreSize": row.size * 3 // 5,
        "deliveryType": "Encrypted (TLS)", "processStartTime": format_date(received),
        "processEndTime": format_date(processed), "processingServer": PROCESSING_SERVER,
        "queueDetailStatus": _info(row), "receiptAck": "250 2.0.0 Ok", **{
            key: transmission[key] for key in ("remoteIp", "remoteServerGreeting")},
        "remoteServer": remote_host, "remoteServerReceiptAck": "250 2.0.0 Ok",
        "returnPath": row.sender, "smtpActualSize": row.size,
        "smtpCompressedStoreSize": row.size * 3 // 5, "smtpStartTime": format_date(received),
        "smtpEndTime": format_date(processed), "to": row.address,
        "transmissionComponents": [{"fileName": f.name, "fileType": f.content_type,
                                    "hash": f.sha256, "txSize": f.size} for f in files],
        "transmissionSize": row.size,
        "txEvent": "Item currently queued for delivery" if row.status == QUEUED
        else "Item delivered" if row.status == DELIVERED else _info(row)}
    info: dict[str, Any] = {
        "id": copy_id, "status": _status(row),
        "retentionInfo": {"originalPurgeDate": format_date(purge),
                          "currentPurgeDate": format_date(purge),
                          "purgeBasedOn": "original", "retentionAdjustmentDays": -1},
        "recipientInfo": {
            "messageInfo": message_info,
            "recipientMetaInfo": {
                "binaryEmailSize": row.size, "components": components,
                "encryptionInfo": "TLS", "messageExpiresIn": RETENTION_DAYS,
                "processingServer": PROCESSING_SERVER,
                "receiptAcknowledgement": "250 2.0.0 Ok",
                "receiptEvent": "Email Received" if row.status != REJECTED
                else "Email Rejected", "spamEvent": "na" if row.spam_score < 30 else "spam",
                **transmission},
            "txInfo": tx_info},
        "spamInfo": _spam_info(row),
    }
    if row.status == DELIVERED:
        info["deliveredMessage"] = {row.address: {
            "deliveryMetaInfo": {
                "deliveryEvent": "Email Delivered via Routing Rule", "emailAddress": row.address,
                "encryptionInfo": "TLS", "messageExpiresIn": RETENTION_DAYS,
                "processingServer": PROCESSING_SERVER,
                "receiptAcknowledgement": "250 2.0.0 Ok", **transmission,
                "components": components},
            "messageInfo": message_info,
            "policyInfo": [{"policyName": "Opportunistic TLS", "policyType": "Secure Delivery",
                            "inherited": True, "inheritedCustomerCode": ""}],
            "txInfo": tx_info}}
    if row.status in (HELD, QUEUED):
        info["queueInfo"] = {
            "id": copy_id, "attachments": bool(files), "createTime": format_date(received),
            "deferred": row.status == QUEUED, "fromEnvelope": row.sender,
            "fromHeader": row.header_from, "heldGroup": held_group(row.reason_code),
            "info": f"- {row.reason}" if row.reason else "", "manageRecipient": False,
            "mtaServerName": PROCESSING_SERVER, "processThreadId": str(row.message),
            "reason": row.reason, "remoteIp": row.sender_ip,
            "remoteServerGreeting": transmission["remoteServerGreeting"],
            "remoteServerName": remote_host, "route": row.route, "size": row.size,
            "subject": row.subject, "to": row.address, "toAddressPostCheck": row.address,
            "type": row.reason_code}
    return info


def _spam_info(row: Any) -> dict[str, Any]:
    level = row.detection_level
    decision = "spam" if level else "clean"
    risk = {"relaxed": "high", "moderate": "medium", "aggressive": "low"}.get(level, "negligible")
    return {"spamScore": row.spam_score, "detectionLevel": level,
            "spamProcessingDetail": {
                "spf": _check(row.spf), "dkim": _check(row.dkim), "dmarc": _check(row.dmarc),
                "rbl": {"allow": row.spam_score < 60, "info": "allow" if row.spam_score < 60
                        else "unknown"},
                "permittedSender": {"allow": False, "info": "none"},
                "managedSender": {"allow": False, "info": "none"},
                "greyEmail": False,
                "symbolGroups": [] if not level else [
                    {"name": "spam.content.header.poorly_structured",
                     "description": "Content typical of unsolicited mail"}],
                "verdict": {"decision": decision, "description": "", "risk": risk,
                            "categories": []}}}


def _check(result: str) -> dict[str, Any]:
    return {"allow": result == "pass", "info": "allow" if result == "pass"
            else "none" if result == "none" else "unknown"}
