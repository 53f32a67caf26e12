"""Archive namespace: the archive's search and view logs (spec 5.3; data families §10.5),
served from the audit trail (`services.logs.archive`).

Where the spec is unsure, chosen here:
- get-search-logs and get-archive-search-logs are the same list, `data[0].logs`: the
  account's Message Finder searches, "Message Tracking Search" entries whose `searchText` is
  the search's criteria as the console writes them (`[From : a@example.com]`), `emailAddr`
  the searcher's address, `searchReason` the reason given. No `museQuery` or `searchPath`:
  there are no archive (XML) searches here yet.
- get-view-logs answers its entries directly in `data`, with the keys of the 1.0
  documentation (`viewer, viewed, from, to, subject, messageDate, source, contentViewed,
  discoveryCase`), not the `data[0].logs` wrapper the spec suggested before that shape was
  found. Its entries are the views of a message's content: gateway get-message-detail, and
  a message or attachment downloaded with get-file (`from` is the header sender, `to` the
  copy's recipient, or for an attachment the message's first recipient).
- `start`/`end` default to the start of the day `end` falls in and now; `query` keeps the
  entries whose user or text contains it (any case). Newest first, paged by key, with
  `totalCount`.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from mimicast.catalog.model import MAX_SEARCH_LENGTH, Endpoint, Item
from mimicast.services import permissions
from mimicast.services.logs import archive

# Requests -----------------------------------------------------------------------------------

class LogWindowItem(Item):
    start: str | None = Field(default=None, description=(
        "Oldest time (default: the start of the day `end` falls in)."))
    end: str | None = Field(default=None, description="Newest time (default: now).")
    query: str | None = Field(default=None, max_length=MAX_SEARCH_LENGTH, description=(
        "Keep entries whose user or text contains this (any case)."))


# Responses ----------------------------------------------------------------------------------

class SearchLog(BaseModel):
    createTime: str
    emailAddr: str = Field(description="Who searched.")
    source: str
    searchText: str = Field(description="The criteria, e.g. \"[From : a@example.com]\".")
    searchReason: str
    description: str = Field(description="\"Message Tracking Search\".")
    isAdmin: bool


class SearchLogs(BaseModel):
    logs: list[SearchLog]


class ViewLog(BaseModel):
    viewer: str = Field(description="Who viewed the message.")
    viewed: str = Field(description="When.")
    # `from` is a Python keyword: the field is named for the wire by its alias.
    from_: str = Field(alias="from", description="The viewed message's sender.")
    to: str = Field(description="Its recipient.")
    subject: str
    messageDate: str | None = Field(description="When the message was received.")
    source: str
    contentViewed: bool
    discoveryCase: bool


# Entries ------------------------------------------------------------------------------------

def _search_logs(path: str, summary: str) -> Endpoint:
    return Endpoint(path, summary,
                    lambda ctx, item: archive.search_logs(ctx, item.start, item.end,
                                                          item.query),
                    permissions.SEARCH_LOGS_READ, LogWindowItem, SearchLogs, per_item=False,
                    max_items=1, paged=True, page_items="logs", read_only=True)


ENDPOINTS = [
    _search_logs("/api/archive/get-search-logs",
                 "The account's mail searches (Message Finder's, as \"Message Tracking "
                 "Search\"), newest first and paged, in `data[0].logs`; `start`/`end` "
                 "(default: today) and `query` narrow them."),
    _search_logs("/api/archive/get-archive-search-logs",
                 "The same list as get-search-logs, by its other name."),
    Endpoint("/api/archive/get-view-logs",
             "Who viewed which message's content (a message's detail, or a message or "
             "attachment downloaded), newest first and paged; `start`/`end` (default: "
             "today) and `query` narrow the list.",
             lambda ctx, item: archive.view_logs(ctx, item.start, item.end, item.query),
             permissions.VIEW_LOGS_READ, LogWindowItem, ViewLog, per_item=False,
             max_items=1, paged=True, page_items=None, read_only=True),
]
