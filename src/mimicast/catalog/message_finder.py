"""Message Finder namespace (formerly Message Tracking; spec 6.9, data families §6).

Where the spec is unsure, chosen here: `route` is read at the item level (an array or a
string) and inside `advancedTrackAndTraceOptions`; `from` is the envelope sender; a tracked
email is one recipient's copy (`to` holds that recipient); the list is paged by key
(`meta.pagination`, without `totalCount`), newest first; without `start`/`end` the search
covers the last day; `deliveredMessage` is an object keyed by recipient address. A search is
recorded in the audit trail (Email Logs).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from mimicast.catalog.model import MAX_SEARCH_LENGTH, Endpoint, Item
from mimicast.services import permissions
from mimicast.services.mail import finder


class TrackAndTraceOptions(Item):
    # `from` is a Python keyword: the field is named for the wire by its alias.
    from_: str | None = Field(default=None, alias="from", max_length=320,
                              description="The sender (envelope or header).")
    to: str | None = Field(default=None, max_length=320, description="A recipient.")
    subject: str | None = Field(default=None, max_length=MAX_SEARCH_LENGTH,
                                description="Text the subject contains (any case).")
    senderIP: str | None = Field(default=None, max_length=45)
    route: list[str] | str | None = None


class SearchItem(Item):
    start: str | None = Field(default=None, description=(
        f"Oldest received time (default: a day ago; at most {finder.HISTORY_DAYS} days ago)."))
    end: str | None = Field(default=None, description="Newest received time (default: now).")
    searchReason: str | None = Field(default=None, max_length=500,
                                     description="Why: kept in the audit trail.")
    messageId: str | None = Field(default=None, max_length=998,
                                  description="The Message-ID header, with or without <>.")
    advancedTrackAndTraceOptions: TrackAndTraceOptions | None = None
    route: list[str] | str | None = Field(default=None, description=(
        "internal, outbound and/or inbound (default: all)."))


class MessageRefItem(Item):
    id: str = Field(min_length=1, description="A tracked email's id.")


class Party(BaseModel):
    emailAddress: str
    displayableName: str | None = None


class TrackedEmail(BaseModel):
    id: str
    status: str = Field(description="archived (delivered), held, rejected, bounced, queued.")
    info: str
    fromEnv: Party
    fromHdr: Party
    to: list[Party]
    subject: str
    received: str
    sent: str
    senderIP: str
    route: str
    attachments: bool
    detectionLevel: str
    spamScore: int


class TrackedEmails(BaseModel):
    trackedEmails: list[TrackedEmail]


class MessageInfo(BaseModel):
    id: str
    status: str
    retentionInfo: dict[str, Any]
    recipientInfo: dict[str, Any]
    spamInfo: dict[str, Any]
    deliveredMessage: dict[str, Any] | None = None
    queueInfo: dict[str, Any] | None = None


def _search(ctx: Any, item: SearchItem) -> Any:
    given = item.model_dump(by_alias=True)
    return finder.search(ctx, given)


ENDPOINTS = [
    Endpoint("/api/message-finder/search",
             "Find messages, one entry per recipient, newest first and paged, in "
             "`data[0].trackedEmails`: by `messageId`, or by `advancedTrackAndTraceOptions` "
             "(from, to, subject, senderIP, route) within `start`/`end`. A start more than "
             f"{finder.HISTORY_DAYS} days ago fails with "
             "`err_track_and_trace_invalid_start_date`.",
             _search, permissions.TRACKING_READ, SearchItem, TrackedEmails, per_item=False,
             min_items=1, max_items=1, paged=True, page_items="trackedEmails"),
    Endpoint("/api/message-finder/get-message-info",
             "One tracked email's story: retention, recipient and delivery information, spam "
             "information, and the queue entry while it is held or queued.",
             lambda ctx, item: finder.message_info(ctx, item.id), permissions.TRACKING_READ,
             MessageRefItem, MessageInfo, min_items=1, max_items=100, read_only=True),
]
