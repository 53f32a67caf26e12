"""Key-based (keyset) paging for the list endpoints.

A page token names the sort key of the row it continues from, never an offset, so a page deep
in a million rows costs what the first one does: `WHERE key > :last ORDER BY key LIMIT n+1`
walks the index from the right place. Rows added or removed between calls neither repeat nor
vanish from the walk. Tokens are signed and bound to their list (`wire.pagetokens`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeAlias

from sqlalchemy import ColumnElement, Integer, Select, bindparam, func, select, tuple_
from sqlalchemy.orm import QueryableAttribute

from mimicast.store.query import Query
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


Column: TypeAlias = ColumnElement[Any] | QueryableAttribute[Any]
AnySelect: TypeAlias = Select[*tuple[Any, ...]]


def _typed_key(dated: Sequence[bool], key: Any) -> list[Any]:
    """A token's key with each value as its column's Python type (`dated`: which columns
    hold datetimes): JSON brought datetimes back as ISO strings."""
    if not isinstance(key, list) or len(key) != len(dated):
        raise pagetokens.invalid()
    typed = []
    for is_date, value in zip(dated, key, strict=True):
        if isinstance(value, str) and is_date:
            try:
                value = datetime.fromisoformat(value)
            except ValueError:
                raise pagetokens.invalid() from None
        typed.append(value)
    return typed


class Keyset:
    """A list that pages by key, declared once (at import) and paged per request.

    `base` selects the columns a page shows, filtered by named `bindparam`s; `order` (columns
    among those selected, unique together, indexed) is the walk. `pinned`: columns the base
    fixes by equality that lead the index to walk (`account_id`, …); they lead the ORDER BY
    too, so every planner picks that index rather than one on `order` alone. `descending`
    walks newest first; `count`: answer `totalCount`. `window`: the names of the bind
    parameters that bound the first order column from below and above (a time window), if
    the base has them: a page after (or before) a key narrows them to the key, so the index
    range starts at the key — SQLite takes one bound per side for the range and, given the
    window's and the key's, walked from the window's edge to the key on every page. The
    count, the first page and the pages after or before a key are compiled queries, built
    here once.
    """

    def __init__(self, base: AnySelect, order: Sequence[Column], *,
                 pinned: Sequence[Column] = (), descending: bool = False,
                 count: bool = True, window: tuple[str, str] | None = None) -> None:
        self.order = list(order)
        self.count = count
        self.descending = descending
        self.window = window
        self._dated = [column.type.python_type is datetime for column in self.order]
        names = list(base.selected_columns.keys())
        self._key_at = [names.index(str(column.key)) for column in self.order]
        keys = [bindparam(f"key_{i}", type_=column.type) for i, column in enumerate(order)]
        position = tuple_(*order) if len(order) > 1 else order[0]
        bound = tuple_(*keys) if len(order) > 1 else keys[0]
        walk = [*pinned, *order]
        forwards = [c.desc() if descending else c.asc() for c in walk]
        backwards = [c.asc() if descending else c.desc() for c in walk]
        later, earlier = (position < bound, position > bound) if descending else (
            position > bound, position < bound)
        limit = bindparam("limit", type_=Integer())
        # Counted over the walk's columns only: computed columns (a folder's member count)
        # would otherwise be worked out for every row counted.
        self._count = Query(select(func.count()).select_from(
            base.with_only_columns(*order).order_by(None).subquery()))
        self._first = Query(base.order_by(*forwards).limit(limit))
        self._after = Query(base.where(later).order_by(*forwards).limit(limit))
        self._before = Query(base.where(earlier).order_by(*backwards).limit(limit))
        self._all = Query(base.order_by(*forwards))

    def _narrowed(self, params: dict[str, Any], first: Any, direction: str) -> dict[str, Any]:
        """The window's bounds with the key's first value as the bound on the walking side
        (the rows beyond it are the next pages', the tuple comparison keeps exactness)."""
        assert self.window is not None
        lower, upper = self.window
        towards_smaller = (direction == AFTER) == self.descending
        if towards_smaller and params[upper] > first:
            return {**params, upper: first}
        if not towards_smaller and params[lower] < first:
            return {**params, lower: first}
        return params

    def key_of(self, row: Any) -> list[Any]:
        return [row[i] for i in self._key_at]

    def typed_key(self, key: Any) -> tuple[Any, ...]:
        """A key as JSON kept it (`key_of`'s, dumped and loaded), comparable with
        `key_of`'s again (ApiError for one that is not this list's)."""
        return tuple(_typed_key(self._dated, key))

    def everything(self, ctx: Context, **params: Any) -> list[Any]:
        """Every row of the list, in its walk's order: for an operator's report (the
        collector ledger's), not for an API answer."""
        return self._all.all(ctx.unit, **params)

    def page(self, ctx: Context, scope: str, **params: Any) -> Page:
        """One page as `ctx.page` asks. `scope` names the list and its filters (the same
        filters must give the same scope); `params` fill the base's bind parameters.

        The pagination answers `pageSize` (rows returned), `totalCount` (with `count`:
        counted once, when a walk starts, and carried in its tokens, so a deep page costs
        what the first does), and `next` / `previous` only when there are rows that way.
        """
        unit, page, secret = ctx.unit, ctx.page, ctx.deps.vault.mac_key
        limit = page.limit
        direction, key, total = (pagetokens.decode(secret, scope, page.token) if page.token
                                 else (AFTER, None, None))
        if self.count and total is None:
            total = self._count.scalar(unit, **params)
        rows: list[Any] = []
        if key is None:
            if limit:
                rows = self._first.all(unit, limit=limit + 1, **params)
            more, more_before = len(rows) > limit, False
            rows = rows[:limit]
        else:
            typed = _typed_key(self._dated, key)
            bound = {f"key_{i}": value for i, value in enumerate(typed)}
            if self.window is not None:
                params = self._narrowed(params, typed[0], direction)
            if direction == AFTER:
                if limit:
                    rows = self._after.all(unit, limit=limit + 1, **bound, **params)
                more, more_before = len(rows) > limit, True
                rows = rows[:limit]
            else:
                if limit:
                    rows = self._before.all(unit, limit=limit + 1, **bound, **params)
                more_before, more = len(rows) > limit, True  # came back from a later page
                rows = rows[:limit][::-1]
        pagination: dict[str, Any] = {"pageSize": len(rows)}
        carried = total if self.count else None
        if carried is not None:
            pagination["totalCount"] = carried
        if rows and more:
            pagination["next"] = pagetokens.encode(secret, scope, AFTER, self.key_of(rows[-1]),
                                                   carried)
        if rows and more_before:
            pagination["previous"] = pagetokens.encode(secret, scope, BEFORE,
                                                       self.key_of(rows[0]), carried)
        return Page(rows, pagination)
