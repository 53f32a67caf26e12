"""What a catalog entry says about an endpoint."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict

from mimicast.services.context import Caller, Context, Deps

# The longest search text a list endpoint takes (a name, an address, a URL): longer ones get a
# fail entry on the field instead of reaching the store (SQLite refuses LIKE patterns past
# 50,000 characters).
MAX_SEARCH_LENGTH = 2048


class Item(BaseModel):
    """Base of request item models: unknown keys are ignored, loose scalars ("true", "100")
    are coerced, as real clients need (client-compatibility.md 3, 4)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True, str_strip_whitespace=True)


class NoItem(Item):
    """For endpoints whose request `data` is `[]` (or `[{}]`)."""


Handler = Callable[[Context, Any], Any]
Snapshot = Callable[[Deps, Caller], "list[Any] | None"]


@dataclass(frozen=True)
class Endpoint:
    path: str
    summary: str
    # None only for unsigned endpoints, which the server's login module answers itself.
    handler: Handler | None
    # The role permission the caller needs; None: any authenticated user.
    permission: str | None
    request: type[Item] = NoItem
    response: type[BaseModel] | None = None
    # True: the handler runs once per request item ("several items = several calls").
    # False: it runs once, with the first item (or an empty one), and returns the whole list.
    per_item: bool = True
    min_items: int = 0
    max_items: int | None = None
    # A bare scalar item (a form body's `data=<value>`) is read as this field.
    scalar_field: str | None = None
    # Answered without a signature (discovery, login).
    unsigned: bool = False
    # For read-mostly endpoints (per_item=False): the answer from a snapshot the handler left
    # less than a second ago, or None. It runs on the event loop and must not touch the store;
    # it spares the hot path the worker-thread hop and the database.
    snapshot: Snapshot | None = None
    # A list endpoint (per_item=False) that reads `meta.pagination` and answers it; the handler
    # returns a `services.paging.Paged`.
    paged: bool = False
    # Where a page's records sit: the key of the wrapper object `data[0]` that holds them
    # ("users", "folders", …), or None when they are `data` itself.
    page_items: str | None = None
    # The endpoint only reads the store. Its transaction never takes the write lock (SQLite
    # has one writer at a time) and may not write: a read-only endpoint that tries gets an
    # error from the store, not a silent lock wait. False (the default) for anything that
    # records a change or an audit event.
    read_only: bool = False
    # The endpoint may take long on something other than the store (reading a directory
    # export, a DNS lookup): it always runs on a store thread, never on the event loop.
    slow: bool = False
    # On success the answer is a file (the handler returns a `services.downloads.Download`),
    # not the envelope; failures are still the envelope.
    download: bool = False

    def __post_init__(self) -> None:
        if self.paged and self.per_item:
            raise ValueError(f"{self.path}: a paged endpoint reads one item (per_item=False)")

    @property
    def namespace(self) -> str:
        return self.path.removeprefix("/api/").rsplit("/", 1)[0]

    @property
    def action(self) -> str:
        return self.path.rsplit("/", 1)[1]
