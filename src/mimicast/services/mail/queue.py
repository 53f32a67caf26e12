"""The hold queue and the other gateway queues (spec §7): held messages listed, summed up,
released and rejected; the release log; rejections; messages still in processing; the
inbound and outbound queue figures.

A held message is one recipient's copy (`MessageRecipient` with status "held"): releasing it
delivers that copy, rejecting it refuses it; each action is a `HoldAction` row and an audit
event, and the release log is a view of those rows.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, func, insert, or_, select, update

from mimicast.services import audit, ids, paging
from mimicast.services.context import Context
from mimicast.services.mail import delivery
from mimicast.services.mail.facts import DELIVERED, HELD, QUEUED, REJECTED
from mimicast.services.mail.views import (
    COLUMNS,
    COPIES,
    address,
    copy,
    secure_id,
    window,
    window_scope,
)
from mimicast.store.query import LIKE_ESCAPE, Query, contains
from mimicast.store.schema import HoldAction, Message, MessageRecipient
from mimicast.wire.dates import format_date
from mimicast.wire.errors import ApiError

HOLD_WINDOW_DAYS = 30  # a hold list without start/end: the last 30 days
REJECT_REASONS = ("MESSAGE CONTAINS UNDESIRABLE CONTENT",
                  "MESSAGE CONTAINS CONFIDENTIAL INFORMATION",
                  "REVIEWER DISAPPROVES OF CONTENT", "INAPPROPRIATE COMMUNICATION",
                  "MESSAGE GOES AGAINST EMAIL POLICIES")
# What a `searchBy.fieldName` compares, per list: the searchable columns it names.
_COLUMNS: dict[str, tuple[Any, ...]] = {
    "subject": (Message.subject,), "sender": (Message.sender, Message.header_from),
    "recipient": (MessageRecipient.address,), "reason": (MessageRecipient.reason,),
    "reason_code": (MessageRecipient.reason_code,), "sender_ip": (Message.sender_ip,)}
HOLD_SEARCH_FIELDS: dict[str, tuple[str, ...]] = {
    "all": ("subject", "sender", "recipient", "reason"), "subject": ("subject",),
    "sender": ("sender",), "recipient": ("recipient",), "reason_code": ("reason_code",),
    "reasoncode": ("reason_code",), "senderip": ("sender_ip",)}
REJECTION_SEARCH_FIELDS: dict[str, tuple[str, ...]] = {
    "all": ("sender", "recipient", "reason_code", "reason", "sender_ip"),
    "from": ("sender",), "to": ("recipient",), "type": ("reason_code",), "info": ("reason",),
    "remoteip": ("sender_ip",)}
ROUTE_FILTERS = ("all", "internal", "outbound", "inbound", "external")
HELD_GROUPS = ("administrator", "user")
RELEASE_ID_KIND = "release"


def held_group(reason_code: str) -> str:
    """Spam waits in the user's own held group (released from the user's digest); everything
    else waits for an administrator."""
    return "User" if reason_code.startswith("spam") else "Administrator"


def _route(value: Any, field: str) -> str | None:
    """A route filter: None for all; "external" is the inbound route."""
    route = str(value or "all").strip().lower()
    if route not in ROUTE_FILTERS:
        raise ApiError("err_validation_invalid_value", field=field,
                       reason="route must be one of " + ", ".join(ROUTE_FILTERS))
    return None if route == "all" else "inbound" if route == "external" else route


def _flag(value: Any) -> bool:
    """Clients send `admin` as a bool and as the string "true" (spec §7.1)."""
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return bool(value)


def _search_clause(columns: tuple[str, ...]) -> Any:
    """Any of the named columns contains the needle (any case)."""
    needle: Any = bindparam("needle")
    return or_(*(column.ilike(needle, escape=LIKE_ESCAPE)
                 for name in columns for column in _COLUMNS[name]))


@functools.cache
def _copies(status: str, own: bool, search: tuple[str, ...] | None, route: bool,
            group: str | None,
            descending: bool = True) -> paging.Keyset:
    """One status's copies in a time window, newest first, along the index (account,
    status, received_at, id); the filters narrow that walk (`search`: the columns of a
    searchBy field)."""
    base = COPIES.where(MessageRecipient.account_id == bindparam("account"),
                        MessageRecipient.status == status,
                        MessageRecipient.received_at >= bindparam("start"),
                        MessageRecipient.received_at <= bindparam("end"))
    if own:
        base = base.where(MessageRecipient.address == bindparam("me"))
    if search is not None:
        base = base.where(_search_clause(search))
    if route:
        base = base.where(Message.route == bindparam("route"))
    if group == "user":
        base = base.where(MessageRecipient.reason_code.like("spam%"))
    elif group == "administrator":
        base = base.where(MessageRecipient.reason_code.not_like("spam%"))
    return paging.Keyset(base, order=[MessageRecipient.received_at, MessageRecipient.id],
                         pinned=[MessageRecipient.account_id, MessageRecipient.status],
                         descending=descending, window=("start", "end"))


def _search(given: Any, fields: Mapping[str, tuple[str, ...]], where: str
            ) -> tuple[tuple[str, ...] | None, str | None]:
    """`searchBy {fieldName, value}`: the columns it searches (None: no search) and the
    LIKE pattern."""
    if not given:
        return None, None
    if not isinstance(given, Mapping):
        raise ApiError("err_validation_invalid_value", field=where,
                       reason="searchBy is an object {fieldName, value}")
    value = str(given.get("value") or "").strip()
    if not value:
        return None, None
    field = str(given.get("fieldName") or "all").strip().lower()
    if field not in fields:
        raise ApiError("err_validation_invalid_value", field=f"{where}.fieldName",
                       reason="fieldName must be one of " + ", ".join(fields))
    return fields[field], contains(value)


def _filters(given: Any, where: str) -> tuple[str | None, str | None]:
    """`filterBy [{fieldName: route|heldGroup, value}]`: the route and the held group."""
    if given is None:
        return None, None
    if isinstance(given, Mapping):
        given = [given]
    if not isinstance(given, list):
        raise ApiError("err_validation_invalid_value", field=where,
                       reason="filterBy is a list of {fieldName, value}")
    route = group = None
    for index, entry in enumerate(given):
        at = f"{where}[{index}]"
        if not isinstance(entry, Mapping):
            raise ApiError("err_validation_invalid_value", field=at,
                           reason="a filter is an object {fieldName, value}")
        name = str(entry.get("fieldName") or "").strip().lower()
        if name == "route":
            route = _route(entry.get("value"), f"{at}.value")
        elif name == "heldgroup":
            value = str(entry.get("value") or "").strip().lower()
            if value not in HELD_GROUPS:
                raise ApiError("err_validation_invalid_value", field=f"{at}.value",
                               reason="heldGroup must be one of " + ", ".join(HELD_GROUPS))
            group = value
        else:
            raise ApiError("err_validation_invalid_value", field=f"{at}.fieldName",
                           reason="fieldName must be route or heldGroup")
    return route, group


# Held messages ------------------------------------------------------------------------------

def held_view(row: Any) -> dict[str, Any]:
    return {"id": secure_id(row.id), "dateReceived": format_date(row.received_at),
            "reason": row.reason, "reasonId": row.reason.replace(" ", ""),
            "reasonCode": row.reason_code, "from": address(row.sender),
            "fromHeader": address(row.header_from, row.from_name),
            "to": address(row.address, row.name), "toHeader": address(row.original, row.name),
            "subject": row.subject, "route": row.route.upper(),
            "hasAttachments": bool(row.has_attachments), "size": row.size,
            "policyInfo": row.policy, "heldGroup": held_group(row.reason_code)}


def held_messages(ctx: Context, item: Mapping[str, Any]) -> paging.Paged:
    """`gateway/get-hold-message-list` (and its older name `find-held-messages`): held copies
    newest first; `admin` false (the default) keeps the caller's own."""
    start, end = window(ctx, item, default_days=HOLD_WINDOW_DAYS)
    own = not _flag(item.get("admin", False))
    searched, needle = _search(item.get("searchBy"), HOLD_SEARCH_FIELDS, "searchBy")
    route, group = _filters(item.get("filterBy"), "filterBy")
    params: dict[str, Any] = {"account": ctx.caller.account_id, "start": start, "end": end}
    if own:
        params["me"] = ctx.caller.actor
    if needle is not None:
        params["needle"] = needle
    if route is not None:
        params["route"] = route
    scope = f"held|{own}|{searched}|{needle}|{route}|{group}|{window_scope(item)}"
    page = _copies(HELD, own, searched, route is not None, group).page(ctx, scope, **params)
    return paging.Paged([held_view(row) for row in page.rows], page.pagination)


_SUMMARY = Query(select(MessageRecipient.policy, func.count().label("items"))
                 .where(MessageRecipient.account_id == bindparam("account"),
                        MessageRecipient.status == HELD)
                 .group_by(MessageRecipient.policy).order_by(MessageRecipient.policy))


def hold_summary(ctx: Context) -> list[dict[str, Any]]:
    """`gateway/get-hold-summary-list`: how many copies each policy holds."""
    return [{"policyInfo": row.policy, "numberOfItems": int(row.items)}
            for row in _SUMMARY.all(ctx.unit, account=ctx.caller.account_id)]


_SET_STATUS = Query(update(MessageRecipient).where(MessageRecipient.id == bindparam("id"))
                    .values(status=bindparam("status"), reason=bindparam("reason"),
                            reason_code=bindparam("reason_code"), updated_at=bindparam("at")))
_RECORD = Query(insert(HoldAction).values(
    account_id=bindparam("account"), recipient_id=bindparam("recipient"),
    action=bindparam("action"), reason_type=bindparam("reason_type"), note=bindparam("note"),
    notify=bindparam("notify"), operator=bindparam("operator"), created_at=bindparam("at")))


def _held(ctx: Context, value: str, field: str) -> Any:
    row = copy(ctx, value, field)
    if row.status != HELD:
        raise ApiError("err_message_not_held", field=field, id=value, status=row.status)
    return row


def release(ctx: Context, held_id: str) -> dict[str, Any]:
    """`gateway/hold-release`: the held copy is delivered."""
    row = _held(ctx, held_id, "id")
    now = ctx.now()
    _SET_STATUS.execute(ctx.unit, id=row.id, status=DELIVERED, reason="Released by an "
                        "administrator", reason_code="released", at=now)
    _RECORD.execute(ctx.unit, account=ctx.caller.account_id, recipient=row.id,
                    action="released", reason_type="", note="", notify=False,
                    operator=ctx.caller.actor, at=now)
    audit.record(ctx, audit.EMAIL, "Held message released",
                 f"{row.message_id_header} to {row.address} ({row.policy})")
    return {"id": held_id, "release": True}


def reject(ctx: Context, held_ids: Sequence[str], message: str | None,
           reason_type: str | None, notify: bool) -> list[dict[str, Any]]:
    """`gateway/hold-reject`: each held copy is refused; all of an item's ids or none."""
    reason = None
    if reason_type is not None and reason_type.strip():
        reason = reason_type.strip().upper()
        if reason not in REJECT_REASONS:
            raise ApiError("err_validation_invalid_value", field="reasonType",
                           reason="reasonType must be one of " + ", ".join(REJECT_REASONS))
    rows = [_held(ctx, value, f"ids[{index}]") for index, value in enumerate(held_ids)]
    now = ctx.now()
    for row in {row.id: row for row in rows}.values():
        _SET_STATUS.execute(ctx.unit, id=row.id, status=REJECTED,
                            reason="Rejected by an administrator",
                            reason_code="admin_rejected", at=now)
        _RECORD.execute(ctx.unit, account=ctx.caller.account_id, recipient=row.id,
                        action="rejected", reason_type=reason or "", note=message or "",
                        notify=notify, operator=ctx.caller.actor, at=now)
        audit.record(ctx, audit.EMAIL, "Held message rejected",
                     f"{row.message_id_header} to {row.address} ({reason or 'no reason'})")
    return [{"id": value, "reject": True} for value in held_ids]


# The release log ----------------------------------------------------------------------------

_RELEASES = paging.Keyset(
    select(HoldAction.id.label("action_id"), HoldAction.action, HoldAction.reason_type,
           HoldAction.note, HoldAction.operator, HoldAction.created_at,
           HoldAction.account_id, *COLUMNS)
    .join(MessageRecipient, MessageRecipient.id == HoldAction.recipient_id)
    .join(Message, Message.id == MessageRecipient.message_id)
    .where(HoldAction.account_id == bindparam("account"),
           HoldAction.created_at >= bindparam("start"),
           HoldAction.created_at <= bindparam("end")),
    order=[HoldAction.created_at, HoldAction.id], pinned=[HoldAction.account_id],
    descending=True, window=("start", "end"))


def _spam_detail(row: Any) -> dict[str, Any]:
    """The spam checks' answers as Message Finder shows them (lower-case `info`)."""
    authenticated = row.route != "inbound" or row.spam_score < 30
    verdict = "allow" if authenticated else "unknown"
    return {check: {"allow": authenticated, "info": verdict}
            for check in ("spf", "dkim", "dmarc", "rbl", "permittedSender", "managedSender")}


def release_log_view(row: Any) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": ids.secure_id(RELEASE_ID_KIND, row.action_id), "status": row.action}
    if row.action == "rejected":
        view["rejectReason"] = row.note or row.reason_type.capitalize()
    view.update({
        "heldReason": row.policy, "messageInfo": _hold_reason(row),
        "released": format_date(row.created_at),
        "operator": {"emailAddress": row.operator}, "fromEnv": address(row.sender),
        "fromHdr": address(row.header_from, row.from_name),
        "to": [address(row.address, row.name)], "subject": row.subject,
        "attachments": bool(row.has_attachments), "route": row.route, "size": row.size,
        "policy": row.policy, "spamScore": row.spam_score,
        "detectionLevel": row.detection_level, "spamProcessingDetail": _spam_detail(row)})
    return view


def _hold_reason(row: Any) -> str:
    """What held it, in the release log's words (`Spam Policy`, …)."""
    if row.policy.startswith("Default Spam"):
        return "Spam Policy"
    if "Impersonation" in row.policy:
        return "Impersonation Policy"
    if "Attachment" in row.policy:
        return "Attachment Policy"
    return str(row.policy)


def release_logs(ctx: Context, item: Mapping[str, Any]) -> paging.Paged:
    """`gateway/get-held-release-logs`: releases and rejections, newest first."""
    start, end = window(ctx, item, default_days=HOLD_WINDOW_DAYS)
    page = _RELEASES.page(ctx, f"releases|{window_scope(item)}",
                          account=ctx.caller.account_id, start=start, end=end)
    return paging.Paged([{"heldReleaseLogs": [release_log_view(row) for row in page.rows]}],
                        page.pagination)


# Rejections ---------------------------------------------------------------------------------

def rejection_view(row: Any) -> dict[str, Any]:
    return {"id": secure_id(row.id), "fromAddress": row.sender, "toAddress": row.address,
            "subject": row.subject, "type": row.reason, "info": row.policy or row.reason,
            "remoteIp": row.sender_ip, "created": format_date(row.received_at)}


def rejections(ctx: Context, item: Mapping[str, Any]) -> paging.Paged:
    """`gateway/get-rejections`: refused copies, newest first; `admin` false keeps the
    caller's own, `mailbox` one recipient's."""
    start, end = window(ctx, item, default_days=HOLD_WINDOW_DAYS)
    searched, needle = _search(item.get("searchBy"), REJECTION_SEARCH_FIELDS, "searchBy")
    mailbox = str(item.get("mailbox") or "").strip().lower()
    own = bool(mailbox) or not _flag(item.get("admin", False))
    params: dict[str, Any] = {"account": ctx.caller.account_id, "start": start, "end": end}
    if own:
        params["me"] = mailbox or ctx.caller.actor
    if needle is not None:
        params["needle"] = needle
    scope = f"rejections|{params.get('me')}|{searched}|{needle}|{window_scope(item)}"
    page = _copies(REJECTED, own, searched, False, None).page(ctx, scope, **params)
    return paging.Paged([rejection_view(row) for row in page.rows], page.pagination)


# Messages in processing, and the queues -----------------------------------------------------

def processing_view(row: Any) -> dict[str, Any]:
    route = "external" if row.route == "inbound" else row.route
    return {"id": secure_id(row.id), "fromEnv": {"emailAddress": row.sender},
            "fromHeader": {"emailAddress": row.header_from},
            "to": [{"emailAddress": row.address}], "subject": row.subject,
            "attachment": bool(row.has_attachments), "routing": route, "size": row.size,
            "remoteIp": row.sender_ip, "attempts": 1,
            "nextAttempt": format_date(row.received_at + delivery.RETRY),
            "created": format_date(row.received_at), "info": row.reason or "Queued for delivery",
            "priority": 1}


def processing(ctx: Context, item: Mapping[str, Any]) -> paging.Paged:
    """`gateway/find-processing-messages`: copies accepted and not yet delivered."""
    start, end = window(ctx, item, default_days=HOLD_WINDOW_DAYS)
    order = str(item.get("sortOrder") or "desc").strip().lower()
    if order not in ("asc", "desc"):
        raise ApiError("err_validation_invalid_value", field="sortOrder",
                       reason="sortOrder must be asc or desc")
    searched, needle = _search(item.get("searchBy"), HOLD_SEARCH_FIELDS, "searchBy")
    route, _group = _filters(item.get("filterBy"), "filterBy")  # no held group in processing
    params: dict[str, Any] = {"account": ctx.caller.account_id, "start": start, "end": end}
    if needle is not None:
        params["needle"] = needle
    if route is not None:
        params["route"] = route
    scope = f"processing|{order}|{searched}|{needle}|{route}|{window_scope(item)}"
    page = _copies(QUEUED, False, searched, route is not None, None,
                   descending=order == "desc").page(ctx, scope, **params)
    return paging.Paged([{"messages": [processing_view(row) for row in page.rows]}],
                        page.pagination)


QUEUE_STEP = timedelta(minutes=10)
MAX_QUEUE_SAMPLES = 7 * 24 * 6  # a week of ten-minute samples

_QUEUED = Query(select(Message.route, MessageRecipient.received_at)
                .join(Message, Message.id == MessageRecipient.message_id)
                .where(MessageRecipient.account_id == bindparam("account"),
                       MessageRecipient.status == QUEUED,
                       MessageRecipient.received_at <= bindparam("end")))


def email_queues(ctx: Context, item: Mapping[str, Any]) -> dict[str, Any]:
    """`email/get-email-queues`: how many copies waited in the inbound and outbound queues,
    sampled every ten minutes from `start` to `end` (both required)."""
    for key in ("start", "end"):
        if not item.get(key):
            raise ApiError("err_validation_null", field=key)
    start, end = window(ctx, item, default_days=1)
    first = start.replace(minute=start.minute - start.minute % 10, second=0, microsecond=0)
    if (end - first) / QUEUE_STEP > MAX_QUEUE_SAMPLES:
        raise ApiError("err_validation_invalid_value", field="end",
                       reason="at most 7 days of queue figures at a time")
    waiting = _QUEUED.all(ctx.unit, account=ctx.caller.account_id, end=end)
    inbound: list[dict[str, Any]] = []
    outbound: list[dict[str, Any]] = []
    sample = first
    while sample <= end:
        counts = {"inbound": 0, "outbound": 0}
        for row in waiting:
            if row.received_at <= sample:
                counts["inbound" if row.route == "inbound" else "outbound"] += 1
        inbound.append({"count": counts["inbound"], "date": format_date(sample)})
        outbound.append({"count": counts["outbound"], "date": format_date(sample)})
        sample += QUEUE_STEP
    return {"inboundEmailQueue": inbound, "outboundEmailQueue": outbound}


