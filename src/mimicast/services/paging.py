"""Key-based (keyset) paging for the list endpoints.

A page token names the sort key of the row it continues from, never an offset, so a page deep
in a million rows costs what the first one does: `WHERE key > :last ORDER BY key LIMIT n+1`
walks the index from the right place. Rows added or removed between calls neither repeat nor
vanish from the walk.

Tokens are opaque to clients (base64url of a small JSON array). Each carries the list it was
issued for (`scope`: endpoint and filters), so a token replayed against another list, or
tampered with, is refused with a clear validation error instead of paging something else.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import Select, func, select, tuple_
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from mimicast.wire.errors import ApiError

DEFAULT_PAGE_SIZE = 25
MAX_PAGE_SIZE = 500
_MAX_TOKEN_LENGTH = 2048
_AFTER, _BEFORE = "n", "p"


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


def encode_token(scope: str, direction: str, key: Sequence[Any]) -> str:
    raw = orjson.dumps([scope, direction, list(key)])
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_token(scope: str, token: str) -> tuple[str, list[Any]]:
    """(direction, key) of a token issued for this scope; a validation error otherwise."""
    try:
        if len(token) > _MAX_TOKEN_LENGTH:
            raise ValueError("too long")
        value = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        token_scope, direction, key = value
        if token_scope != scope or direction not in (_AFTER, _BEFORE) or not isinstance(key,
                                                                                       list):
            raise ValueError("not a token of this list")
        if not all(isinstance(part, (str, int)) and not isinstance(part, bool)
                   for part in key):
            raise ValueError("bad key")
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError):
        raise ApiError("err_validation_invalid_value", field="pageToken",
                       reason="pageToken is not a 'next' or 'previous' value of this list "
                              "(with the same filters)") from None
    return direction, key


def keyset(session: Session, query: Select[Any], order: Sequence[ColumnElement[Any]],
           key_of: Callable[[Any], Sequence[Any]], page: PageRequest, scope: str,
           *, count: bool = True) -> Page:
    """One page of `query` in `order` (unique, ascending, indexed columns).

    `key_of(row)` gives a row's values of the `order` columns (ints and strings). The
    pagination answers `pageSize` (rows returned), `totalCount` (when `count`), and `next` /
    `previous` only when there are rows that way.
    """
    limit = page.limit
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())
                           ) if count else None
    direction, key = (decode_token(scope, page.token) if page.token else (_AFTER, None))
    if len(order) != (len(key) if key is not None else len(order)):
        raise ApiError("err_validation_invalid_value", field="pageToken",
                       reason="pageToken does not belong to this list")
    position = tuple_(*order) if len(order) > 1 else order[0]
    bound = (tuple(key) if len(order) > 1 else key[0]) if key is not None else None
    if direction == _AFTER:
        if bound is not None:
            query = query.where(position > bound)
        rows = list(session.scalars(query.order_by(*order).limit(limit + 1))) if limit else []
        more = len(rows) > limit
        rows = rows[:limit]
        more_before = key is not None
    else:
        query = query.where(position < bound)
        rows = list(session.scalars(query.order_by(*(c.desc() for c in order))
                                    .limit(limit + 1))) if limit else []
        more_before = len(rows) > limit
        rows = rows[:limit][::-1]
        more = True  # we came back from a later page
    pagination: dict[str, Any] = {"pageSize": len(rows)}
    if total is not None:
        pagination["totalCount"] = total
    if rows and more:
        pagination["next"] = encode_token(scope, _AFTER, key_of(rows[-1]))
    if rows and more_before:
        pagination["previous"] = encode_token(scope, _BEFORE, key_of(rows[0]))
    return Page(rows, pagination)
