"""Key-based (keyset) paging for the list endpoints.

A page token names the sort key of the row it continues from, never an offset, so a page deep
in a million rows costs what the first one does: `WHERE key > :last ORDER BY key LIMIT n+1`
walks the index from the right place. Rows added or removed between calls neither repeat nor
vanish from the walk. Tokens are signed and bound to their list (`wire.pagetokens`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, func, select, tuple_
from sqlalchemy.orm import QueryableAttribute

from mimicast.wire import pagetokens
from mimicast.wire.pagetokens import AFTER, BEFORE

if TYPE_CHECKING:
    from mimicast.services.context import Context

DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 500


@dataclass(frozen=True)
class PageRequest:
    """`meta.pagination` of the request: the size asked for (None: the default) and token."""

    size: int | None = None
    token: str | None = None

    @property
    def limit(self) -> int:
        """The page size served: the default when not asked, at most MAX_PAGE_SIZE, and 0 for
        the real service's "count only" request (`pageSize: 0`)."""
        if self.size is None:
            return DEFAULT_PAGE_SIZE
        return min(self.size, MAX_PAGE_SIZE)


@dataclass
class Paged:
    """A list endpoint's answer: the `data` array and `meta.pagination`."""

    data: list[Any]
    pagination: dict[str, Any] = field(default_factory=dict)


@dataclass
class Page:
    rows: list[Any]
    pagination: dict[str, Any]


def _typed_key(order: Sequence[QueryableAttribute[Any]], key: Any) -> list[Any]:
    """A token's key with each value as its column's Python type: JSON brought datetimes
    back as ISO strings."""
    if not isinstance(key, list) or len(key) != len(order):
        raise pagetokens.invalid()
    typed = []
    for column, value in zip(order, key, strict=True):
        if isinstance(value, str) and column.type.python_type is datetime:
            value = datetime.fromisoformat(value)
        typed.append(value)
    return typed


def keyset(ctx: Context, query: Select[Any], order: Sequence[QueryableAttribute[Any]],
           key_of: Callable[[Any], Sequence[Any]], scope: str, *,
           pinned: Sequence[QueryableAttribute[Any]] = (), descending: bool = False,
           count: bool = True) -> Page:
    """One page of `query` in `order` (mapped columns, unique together, indexed), as
    `ctx.page` asks.

    `key_of(row)` gives a row's values of the `order` columns (ints, strings, datetimes);
    `scope` names the list and its filters (the same filters must give the same scope). `pinned`:
    columns the query fixes by equality that lead the index to walk (`account_id`, …); they
    lead the ORDER BY too, so every planner picks that index rather than one on `order` alone.
    `descending` walks newest first. The pagination answers `pageSize` (rows returned),
    `totalCount` (when `count`: counted once, when a walk starts, and carried in its tokens, so
    a deep page costs what the first does), and `next` / `previous` only when there are rows
    that way.
    """
    session, page, secret = ctx.session, ctx.page, ctx.deps.vault.mac_key
    limit = page.limit
    direction, key, total = (pagetokens.decode(secret, scope, page.token) if page.token
                             else (AFTER, None, None))
    if key is not None:
        key = _typed_key(order, key)
    if count and total is None:
        total = session.scalar(select(func.count()).select_from(
            query.order_by(None).subquery()))
    position = tuple_(*order) if len(order) > 1 else order[0]
    bound = (tuple(key) if len(order) > 1 else key[0]) if key is not None else None
    walk = [*pinned, *order]
    forwards = [c.desc() if descending else c.asc() for c in walk]
    backwards = [c.asc() if descending else c.desc() for c in walk]
    if direction == AFTER:
        if bound is not None:
            query = query.where(position < bound if descending else position > bound)
        rows = list(session.scalars(query.order_by(*forwards).limit(limit + 1))) if limit else []
        more = len(rows) > limit
        rows = rows[:limit]
        more_before = key is not None
    else:
        query = query.where(position > bound if descending else position < bound)
        rows = list(session.scalars(query.order_by(*backwards).limit(limit + 1))
                    ) if limit else []
        more_before = len(rows) > limit
        rows = rows[:limit][::-1]
        more = True  # this walk came back from a later page
    pagination: dict[str, Any] = {"pageSize": len(rows)}
    carried = total if count else None
    if carried is not None:
        pagination["totalCount"] = carried
    if rows and more:
        pagination["next"] = pagetokens.encode(secret, scope, AFTER, key_of(rows[-1]), carried)
    if rows and more_before:
        pagination["previous"] = pagetokens.encode(secret, scope, BEFORE, key_of(rows[0]),
                                                   carried)
    return Page(rows, pagination)
