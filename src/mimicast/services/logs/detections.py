"""The logs of what the gateway found in messages, rendered from the facts each message keeps
(`Message.impersonation`, `Message.dlp`): Impersonation Protect's (`ttp/impersonation/get-logs`,
data families §4) and Data Leak Prevention's (`dlp/get-logs`, §5).

An impersonation entry is one recipient copy of a message that hit at least one indicator;
its `action` is "hold" when that copy was held for impersonation (held still, or released or
rejected since), else "none". A DLP entry is one copy and one definition the message matched,
with the definition's action ("hold" or "notification"). Both walk only the messages that hit,
along partial indexes (account, time, id) of those alone.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, bindparam, false, not_, or_, select

from mimicast.services import ids, paging
from mimicast.services.context import Context
from mimicast.services.logs import ledger, mta, window
from mimicast.services.mail import dlp, engine
from mimicast.services.mail.rules import domain_of
from mimicast.store.query import LIKE_ESCAPE, contains
from mimicast.store.schema import Message, MessageRecipient
from mimicast.wire.dates import format_date
from mimicast.wire.errors import ApiError

IMPERSONATION_PATH = "/api/ttp/impersonation/get-logs"
DLP_PATH = "/api/dlp/get-logs"
LOG_ID_KIND = "impersonation-log"
# The engine's indicator names → the API's (spec §4: `reply_address_mismatch`).
IDENTIFIERS = {"internal_user_name": "internal_user_name",
               "newly_observed_domain": "newly_observed_domain",
               "reply_to_address_mismatch": "reply_address_mismatch",
               "similar_internal_domain": "similar_internal_domain"}
_BY_API_NAME = {api: ours for ours, api in IDENTIFIERS.items()}
SEARCH_FIELDS = ("all", "senderaddress", "recipientaddress", "subject", "policy")
ACTIONS = ("hold", "none")
NOTHING = "nothing"  # filters that exclude each other
# `mta.held_for_impersonation` in SQL: held for it, or released or rejected since.
_HELD = or_(MessageRecipient.reason_code == engine.IMPERSONATION_HOLD[1],
            and_(MessageRecipient.reason_code.in_(mta.AFTER_THE_HOLD),
                 MessageRecipient.policy.like("%Impersonation%")))
_REFUSED = tuple(code for _reason, code in (
    engine.BLOCKED_SENDER, engine.MANAGED_BLOCK, engine.SPOOFED, engine.INVALID_RECIPIENT))
DEFAULT_DEFINITION = "Default Impersonation Definition"

_COPY = MessageRecipient.id.label("copy_id")
_ROWS = (select(Message.id, Message.received_at, Message.route, Message.sender,
                Message.header_from, Message.from_name, Message.sender_ip, Message.subject,
                Message.message_id.label("message_id_header"), Message.impersonation,
                Message.dlp, _COPY, MessageRecipient.address, MessageRecipient.status,
                MessageRecipient.reason_code, MessageRecipient.policy)
         .join(MessageRecipient, MessageRecipient.message_id == Message.id))
_SEARCHED = {"senderaddress": (Message.sender, Message.header_from),
             "recipientaddress": (MessageRecipient.address,),
             "subject": (Message.subject,), "policy": (MessageRecipient.policy,)}


@functools.cache
def _impersonations(search: str | None, identifiers: int, action: str | None,
                    oldest_first: bool) -> paging.Keyset:
    base = _ROWS.where(Message.account_id == bindparam("account"),
                       Message.impersonation != "",
                       Message.received_at >= bindparam("start"),
                       Message.received_at <= bindparam("end"),
                       MessageRecipient.reason_code.not_in(_REFUSED))
    if search is not None:
        columns = [c for name in (_SEARCHED if search == "all" else (search,))
                   for c in _SEARCHED[name]]
        base = base.where(or_(*(c.ilike(bindparam("needle"), escape=LIKE_ESCAPE)
                                for c in columns)))
    if identifiers:
        base = base.where(or_(*(Message.impersonation.like(bindparam(f"identifier_{i}"))
                                for i in range(identifiers))))
    if action == "hold":
        base = base.where(_HELD)
    elif action == "none":
        base = base.where(not_(_HELD))
    elif action == NOTHING:
        base = base.where(false())
    return paging.Keyset(base, order=[Message.received_at, Message.id, _COPY],
                         pinned=[Message.account_id], descending=not oldest_first,
                         window=("start", "end"))


def whole_impersonation_log() -> paging.Keyset:
    """The impersonation log unnarrowed, oldest first (the ledger's report reads it
    whole)."""
    return _impersonations(None, 0, None, True)


def _results(row: Any, found: list[str]) -> list[dict[str, str]]:
    """What each indicator matched: the claimed name or address and what it resembles."""
    shown = f"{row.from_name} <{row.header_from}>" if row.from_name else row.header_from
    sources = {"internal_user_name": ("internal_user_name", row.from_name),
               "similar_internal_domain": ("internal_domain", domain_of(row.header_from)),
               "newly_observed_domain": ("newly_observed_domain", domain_of(row.header_from)),
               "reply_to_address_mismatch": ("reply_address", domain_of(row.header_from))}
    return [{"impersonationDomainSource": sources[hit][0], "similarDomain": shown,
             "stringSimilarToDomain": sources[hit][1], "checkerResult": "hit"}
            for hit in found if hit in sources]


def impersonation_view(row: Any) -> dict[str, Any]:
    found = row.impersonation.split(",")
    held = mta.held_for_impersonation(row)
    return {"id": ids.secure_id(LOG_ID_KIND, row.copy_id), "senderAddress": row.sender or "<>",
            "recipientAddress": row.address, "senderIpAddress": row.sender_ip,
            "subject": row.subject,
            "definition": row.policy if held and row.policy else DEFAULT_DEFINITION,
            "hits": len(found), "identifiers": [IDENTIFIERS.get(f, f) for f in found],
            "impersonationResults": _results(row, found), "action": "hold" if held else "none",
            "taggedExternal": row.route == "inbound", "taggedMalicious": held,
            "eventTime": format_date(row.received_at), "messageId": row.message_id_header}


def _action(actions: set[str], tagged_malicious: bool | None) -> str | None:
    """The one action `actions` and `taggedMalicious` (true: held) leave, None for both, or
    NOTHING when they contradict each other."""
    if tagged_malicious is not None:
        tagged = {"hold" if tagged_malicious else "none"}
        actions = actions & tagged if actions else tagged
        if not actions:
            return NOTHING
    return next(iter(actions)) if len(actions) == 1 else None


def _choices(given: Sequence[str] | None, allowed: Sequence[str], field: str) -> list[str]:
    chosen = [str(value).strip().lower() for value in given or ()]
    wrong = [value for value in chosen if value not in allowed]
    if wrong:
        raise ApiError("err_validation_invalid_value", field=field,
                       reason=f"{wrong[0]!r} is not one of " + ", ".join(allowed))
    return chosen


def impersonation_logs(ctx: Context, start_text: str | None, end_text: str | None, *,
                       oldest_first: bool, tagged_malicious: bool | None,
                       search_field: str | None, query: str | None,
                       identifiers: Sequence[str] | None, actions: Sequence[str] | None
                       ) -> paging.Paged:
    """`ttp/impersonation/get-logs`: the copies of messages that hit impersonation
    indicators, newest first unless `oldest_first`; `taggedMalicious` (true: held),
    `identifiers` (any of them), `actions` (hold / none) and `searchField` + `query` narrow
    them. The answer is `data[0] = {impersonationLogs, resultCount}`."""
    start, end = window.day_window(ctx, start_text, end_text, start_field="from",
                                   end_field="to")
    field = (search_field or "all").strip().lower()
    if field not in SEARCH_FIELDS:
        raise ApiError("err_validation_invalid_value", field="searchField",
                       reason="searchField must be one of senderAddress, recipientAddress, "
                              "subject, policy, all")
    wanted = _choices(identifiers, tuple(_BY_API_NAME), "identifiers")
    action = _action(set(_choices(actions, ACTIONS, "actions")), tagged_malicious)
    params: dict[str, Any] = {"account": ctx.caller.account_id, "start": start, "end": end}
    searched = field if query and query.strip() else None
    if searched is not None:
        params["needle"] = contains(str(query).strip())
    for index, name in enumerate(wanted):
        params[f"identifier_{index}"] = f"%{_BY_API_NAME[name]}%"
    scope = (f"impersonation|{searched}|{params.get('needle')}|{','.join(wanted)}|{action}|"
             f"{oldest_first}|{window.scope(start_text, end_text)}")
    keyset = _impersonations(searched, len(wanted), action, oldest_first)
    page = keyset.page(ctx, scope, **params)
    ledger.record_page(ctx, IMPERSONATION_PATH, [keyset.key_of(row) for row in page.rows],
                       [row.received_at for row in page.rows],
                       filtered=bool(searched or wanted) or action is not None)
    return paging.Paged([{"impersonationLogs": [impersonation_view(r) for r in page.rows],
                          "resultCount": page.pagination.get("totalCount", len(page.rows))}],
                        page.pagination)


# Data leak prevention -----------------------------------------------------------------------

@functools.cache
def _leaks(oldest_first: bool) -> paging.Keyset:
    base = _ROWS.where(Message.account_id == bindparam("account"), Message.dlp != "",
                       Message.received_at >= bindparam("start"),
                       Message.received_at <= bindparam("end"))
    return paging.Keyset(base, order=[Message.received_at, Message.id, _COPY],
                         pinned=[Message.account_id], descending=not oldest_first,
                         count=False, window=("start", "end"))


def whole_dlp_log() -> paging.Keyset:
    """The DLP log oldest first (the ledger's report reads it whole)."""
    return _leaks(True)


def dlp_views(row: Any) -> list[dict[str, Any]]:
    """A copy's lines: one per definition its message matched."""
    return [{"senderAddress": row.sender or "<>", "recipientAddress": row.address,
             "subject": row.subject, "eventTime": format_date(row.received_at),
             "route": row.route, "policy": name, "action": action,
             "messageId": row.message_id_header} for action, name in dlp.decode(row.dlp)]


def dlp_logs(ctx: Context, start_text: str | None, end_text: str | None,
             oldest_first: bool) -> paging.Paged:
    """`dlp/get-logs`: what DLP found in mail leaving the account, a line per recipient
    copy and definition, newest first unless `oldest_first`; a page holds `pageSize`
    copies. The answer is `data[0].dlpLogs`."""
    start, end = window.day_window(ctx, start_text, end_text, start_field="from",
                                   end_field="to")
    keyset = _leaks(oldest_first)
    page = keyset.page(ctx, f"dlp|{oldest_first}|{window.scope(start_text, end_text)}",
                       account=ctx.caller.account_id, start=start, end=end)
    lines = [line for row in page.rows for line in dlp_views(row)]
    ledger.record_page(ctx, DLP_PATH, [keyset.key_of(row) for row in page.rows],
                       [row.received_at for row in page.rows], events=len(lines))
    return paging.Paged([{"dlpLogs": lines}], page.pagination)
