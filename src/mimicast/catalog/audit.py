"""Audit namespace: the account's audit trail and its category codes (spec 6.3), and the SIEM
log download (spec 6.2; services/logs/siem.py says how files and tokens work).

Where the spec is silent: a page's `meta.pagination` carries `pageSize`, `totalCount`, `next`
and `previous` (no `recordStart`: pages are key-based, not offsets); `user` is the acting
user's address, or `cli` for changes made with `mimicast admin`.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, Field

from mimicast.catalog.model import MAX_SEARCH_LENGTH, Endpoint, Item
from mimicast.services import audit_events, permissions
from mimicast.services.logs import siem

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


class SiemItem(Item):
    type: str | None = Field(default="MTA", max_length=16, description="`MTA` (the only type).")
    token: str | None = Field(default=None, max_length=4096, description=(
        "The `mc-siem-token` of the previous file; none (or \"\") for the first call, which "
        "resumes after this binding's last file."))
    fileFormat: str | None = Field(default="key_value", max_length=16, description=(
        "`key_value` (default) or `json`, any case."))
    compress: Any = Field(default=False, description=(
        "A zip holding the file (`true`, `\"true\"` or `True`)."))


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
    Endpoint("/api/audit/get-siem-logs",
             "The next file of the account's MTA log (receipt, process, delivery, anti-virus, "
             "attachment and URL protect, impersonation, spam and journal records), one per "
             "call: `application/octet-stream` with the next call's `mc-siem-token` header; "
             "caught up, the envelope with `meta.isLastToken` and no token. Files cover "
             "fixed time slices and are served once their slice has ended.",
             siem.get_siem_logs, permissions.TRACKING_READ, SiemItem, per_item=False,
             max_items=1, download=True, read_only=True),
]
