"""Reading the audit trail (`audit/get-audit-events`, `audit/get-categories`); `services.audit`
is its only writer.

The real service looks back at most 60 days (spec 6.3): an older `startDateTime` is refused
rather than silently clipped, so a collector learns that its window is out of reach.
"""

from __future__ import annotations

import functools
from datetime import timedelta
from typing import Any

from sqlalchemy import String, bindparam, or_, select

from mimicast.services import audit, ids, paging
from mimicast.services.context import Context
from mimicast.store.query import LIKE_ESCAPE, contains
from mimicast.store.schema import AuditEvent
from mimicast.wire.dates import format_date, parse_date
from mimicast.wire.errors import ApiError

ID_KIND = "audit"
HISTORY_DAYS = 60


def categories() -> list[dict[str, str]]:
    return [{"code": code, "name": name} for code, name in audit.CATEGORIES.items()]


def view(row: Any) -> dict[str, Any]:
    return {"id": ids.secure_id(ID_KIND, row.id), "auditType": row.event_type,
            "user": row.actor, "eventTime": format_date(row.created_at),
            "eventInfo": row.info, "category": row.category}


def get_audit_events(ctx: Context, start_text: str, end_text: str, query: str | None,
                     codes: list[str] | None) -> paging.Paged:
    """The account's events from `start_text` to `end_text` (inclusive), newest first;
    `query` keeps those whose actor, type or info contains it (any case), `codes` those of
    the given categories."""
    start = parse_date(start_text, "startDateTime")
    end = parse_date(end_text, "endDateTime")
    if start > end:
        raise ApiError("err_validation_invalid_value", field="endDateTime",
                       reason="endDateTime is before startDateTime")
    if start < ctx.now() - timedelta(days=HISTORY_DAYS):
        raise ApiError("err_audit_history_limit", field="startDateTime", days=HISTORY_DAYS)
    unknown = sorted(set(codes or ()) - audit.CATEGORIES.keys())
    if unknown:
        raise ApiError("err_validation_invalid_value", field="categories",
                       reason=f"unknown category code(s): {', '.join(unknown)} "
                              "(see /api/audit/get-categories)")
    needle = (query or "").strip()
    chosen = sorted(set(codes or ()))
    params: dict[str, Any] = {"account": ctx.caller.account_id, "start": start, "end": end}
    if needle:
        params["needle"] = contains(needle)
    if chosen:
        params["codes"] = chosen
    page = _events(bool(needle), bool(chosen)).page(
        ctx, (f"audit/get-audit-events|{start.isoformat()}|{end.isoformat()}|{needle}|"
              f"{','.join(chosen)}"), **params)
    return paging.Paged(data=[view(row) for row in page.rows], pagination=page.pagination)


@functools.cache
def _events(by_text: bool, by_category: bool) -> paging.Keyset:
    """Newest first along ix_audit_account_time (account, time, id): the window is a range of
    that index and a page continues from the last (time, id) it showed."""
    base = select(AuditEvent.__table__).where(
        AuditEvent.account_id == bindparam("account"),
        AuditEvent.created_at >= bindparam("start", type_=AuditEvent.created_at.type),
        AuditEvent.created_at <= bindparam("end", type_=AuditEvent.created_at.type))
    if by_text:
        needle = bindparam("needle", type_=String())
        base = base.where(or_(*(column.ilike(needle, escape=LIKE_ESCAPE)
                                for column in (AuditEvent.actor, AuditEvent.event_type,
                                               AuditEvent.info))))
    if by_category:
        base = base.where(AuditEvent.category.in_(bindparam("codes", expanding=True)))
    return paging.Keyset(base, order=[AuditEvent.created_at, AuditEvent.id],
                         pinned=[AuditEvent.account_id], descending=True,
                         window=("start", "end"))
