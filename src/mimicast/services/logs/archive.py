"""The archive's logs, read from the audit trail (data families §10.5): who searched mail
(`archive/get-search-logs`, `archive/get-archive-search-logs`) and who viewed it
(`archive/get-view-logs`). `services.mail.access` writes those audit events and reads their
`info` back; here they are walked and shown.

A search log entry is a Message Finder search, described as the console describes it
("Message Tracking Search"), its criteria as `searchText` and the searcher's address as
`emailAddr` (the API's searchers are administrators: `isAdmin` true). A view log entry is a
view of a message's content (get-message-detail, or a message or attachment downloaded with
get-file): `contentViewed` true, `source` "archive", and no discovery cases here.
"""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import String, bindparam, or_, select

from mimicast.services import audit, paging
from mimicast.services.context import Context
from mimicast.services.logs import window
from mimicast.services.mail import access
from mimicast.store.query import LIKE_ESCAPE, contains
from mimicast.store.schema import AuditEvent
from mimicast.wire.dates import format_date

SOURCE = "archive"
TRACKING_SEARCH = "Message Tracking Search"


@functools.cache
def _events(category: str, event_types: tuple[str, ...], by_text: bool) -> paging.Keyset:
    """One kind of audit event, newest first along ix_audit_account_time (account, time,
    id); `by_text`: the actor or info contains the needle (any case)."""
    base = select(AuditEvent.__table__).where(
        AuditEvent.account_id == bindparam("account"),
        AuditEvent.created_at >= bindparam("start", type_=AuditEvent.created_at.type),
        AuditEvent.created_at <= bindparam("end", type_=AuditEvent.created_at.type),
        AuditEvent.category == category, AuditEvent.event_type.in_(event_types))
    if by_text:
        needle = bindparam("needle", type_=String())
        base = base.where(or_(AuditEvent.actor.ilike(needle, escape=LIKE_ESCAPE),
                              AuditEvent.info.ilike(needle, escape=LIKE_ESCAPE)))
    return paging.Keyset(base, order=[AuditEvent.created_at, AuditEvent.id],
                         pinned=[AuditEvent.account_id], descending=True,
                         window=("start", "end"))


def _page(ctx: Context, name: str, category: str, event_types: tuple[str, ...],
          start_text: str | None, end_text: str | None, query: str | None) -> paging.Page:
    start, end = window.day_window(ctx, start_text, end_text, start_field="start",
                                   end_field="end")
    needle = (query or "").strip()
    params: dict[str, Any] = {"account": ctx.caller.account_id, "start": start, "end": end}
    if needle:
        params["needle"] = contains(needle)
    return _events(category, event_types, bool(needle)).page(
        ctx, f"{name}|{needle}|{window.scope(start_text, end_text)}", **params)


def search_view(row: Any) -> dict[str, Any]:
    text, reason = access.search_of(row.info)
    return {"createTime": format_date(row.created_at), "emailAddr": row.actor,
            "source": SOURCE, "searchText": text, "searchReason": reason,
            "description": TRACKING_SEARCH, "isAdmin": True}


def search_logs(ctx: Context, start_text: str | None, end_text: str | None,
                query: str | None) -> paging.Paged:
    """`archive/get-search-logs` (and `get-archive-search-logs`): the account's mail
    searches from `start_text` to `end_text` (default: today), newest first; `query` keeps
    those whose searcher or search text contains it (any case). The answer is
    `data[0].logs`."""
    page = _page(ctx, "archive-search-logs", audit.EMAIL, (access.SEARCHED,), start_text,
                 end_text, query)
    return paging.Paged([{"logs": [search_view(row) for row in page.rows]}], page.pagination)


def view_view(row: Any) -> dict[str, Any]:
    viewed = access.view_of(row.info)
    # An event this version did not write keeps its text as the subject.
    sender, to, received, subject = viewed or ("", "", "", row.info)
    return {"viewer": row.actor, "viewed": format_date(row.created_at), "from": sender,
            "to": to, "subject": subject, "messageDate": received or None,
            "source": SOURCE, "contentViewed": True, "discoveryCase": False}


def view_logs(ctx: Context, start_text: str | None, end_text: str | None,
              query: str | None) -> paging.Paged:
    """`archive/get-view-logs`: the views of mail content from `start_text` to `end_text`
    (default: today), newest first; `query` keeps those whose viewer, sender, recipient or
    subject contains it (any case). The entries are `data` itself, as documented."""
    page = _page(ctx, "archive-view-logs", audit.ARCHIVE, access.VIEWS, start_text,
                 end_text, query)
    return paging.Paged([view_view(row) for row in page.rows], page.pagination)
