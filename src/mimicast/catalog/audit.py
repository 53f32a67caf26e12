"""Audit namespace: the account's audit trail and its category codes (spec 6.3).

Where the spec is silent: a page's `meta.pagination` carries `pageSize`, `totalCount`, `next`
and `previous` (no `recordStart`: pages are key-based, not offsets); `user` is the acting
user's address, or `cli` for changes made with `mimicast admin`.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, BeforeValidator, Field

from mimicast.catalog.model import MAX_SEARCH_LENGTH, Endpoint, Item
from mimicast.services import audit_events, permissions

# A lone code is read as a one-code list.
Codes = Annotated[list[str] | None,
                  BeforeValidator(lambda value: [value] if isinstance(value, str) else value)]


# Requests -----------------------------------------------------------------------------------

class AuditEventsItem(Item):
    startDateTime: str = Field(min_length=1, description=(
        f"Oldest event time; at most {audit_events.HISTORY_DAYS} days ago."))
    endDateTime: str = Field(min_length=1, description="Newest event time.")
    query: str | None = Field(default=None, max_length=MAX_SEARCH_LENGTH, description=(
        "Keep events whose user, type or info contains this text (any case)."))
    categories: Codes = Field(default=None, description=(
        "Keep events of these category codes (see /api/audit/get-categories)."))


# Responses ----------------------------------------------------------------------------------

class AuditEvent(BaseModel):
    id: str
    auditType: str = Field(description="What happened, e.g. \"Managed URL created\".")
    user: str = Field(description="Who did it: the user's address, or \"cli\".")
    eventTime: str
    eventInfo: str = Field(description="The object concerned, e.g. the URL or address.")
    category: str = Field(description="A code of /api/audit/get-categories.")


class AuditCategory(BaseModel):
    code: str
    name: str


# Entries ------------------------------------------------------------------------------------

ENDPOINTS = [
    Endpoint("/api/audit/get-audit-events",
             "The account's audit events between `startDateTime` and `endDateTime`, newest "
             f"first and paged; at most {audit_events.HISTORY_DAYS} days back. `query` and "
             "`categories` narrow the list.",
             lambda ctx, item: audit_events.get_audit_events(
                 ctx, item.startDateTime, item.endDateTime, item.query, item.categories),
             permissions.AUDIT_READ, AuditEventsItem, AuditEvent, per_item=False,
             min_items=1, max_items=1, paged=True, page_items=None, read_only=True),
    Endpoint("/api/audit/get-categories",
             "The audit category codes get-audit-events accepts, with their names.",
             lambda ctx, item: audit_events.categories(),
             permissions.AUDIT_READ, response=AuditCategory, per_item=False, read_only=True),
]
