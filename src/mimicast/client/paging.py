"""Pagination: a list endpoint's answer page by page, or its records across all pages.

    for user in client.user.get_internal_users(domain="example.com"):   # records, all pages
        ...
    for page in client.user.get_internal_users(page_size=100).pages():  # page by page
        print(page.total_count, len(page.items), page.next)

The walk asks for the next page with the `next` token the last answer gave and stops exactly
when an answer has none (the real service's rule: `next` "only returned if there are more").
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One answer of a list endpoint."""

    items: list[T]  # the page's records (out of the wrapper object, when there is one)
    data: list[Any]  # the envelope's `data` as answered
    pagination: dict[str, Any] = field(default_factory=dict)

    @property
    def next(self) -> str | None:
        token = self.pagination.get("next")
        return str(token) if token else None

    @property
    def previous(self) -> str | None:
        token = self.pagination.get("previous")
        return str(token) if token else None

    @property
    def total_count(self) -> int | None:
        total = self.pagination.get("totalCount")
        return total if isinstance(total, int) else None


def page_meta(page_size: int | None, page_token: str | None) -> dict[str, Any] | None:
    """The request's `meta` for one page (None: the server's defaults, first page)."""
    pagination: dict[str, Any] = {}
    if page_size is not None:
        pagination["pageSize"] = page_size
    if page_token:
        pagination["pageToken"] = page_token
    return {"pagination": pagination} if pagination else None


def records(data: list[Any], items_key: str | None) -> list[Any]:
    """The records of a page: `data` itself, or the list under `items_key` in `data[0]`."""
    if items_key is None:
        return list(data)
    wrapper = data[0] if data else None
    found = wrapper.get(items_key) if isinstance(wrapper, dict) else None
    return list(found) if isinstance(found, list) else []


class RepeatedTokenError(RuntimeError):
    """A server answered a page token it had already given: following it would never end."""


def _check_new(token: str, seen: set[str]) -> None:
    if token in seen:
        raise RepeatedTokenError(f"the server sent page token {token!r} twice; stopping")
    seen.add(token)


class Pager(Generic[T]):
    """The pages of one list request; iterating it gives the records of every page."""

    def __init__(self, fetch: Callable[[str | None], Page[T]], start: str | None = None) -> None:
        self._fetch = fetch
        self._start = start

    def pages(self) -> Iterator[Page[T]]:
        token, seen = self._start, set[str]()
        while True:
            page = self._fetch(token)
            yield page
            token = page.next
            if token is None:
                return
            _check_new(token, seen)

    def first(self) -> Page[T]:
        """Only the first page (from the starting token, when one was given)."""
        return self._fetch(self._start)

    def __iter__(self) -> Iterator[T]:
        for page in self.pages():
            yield from page.items


class AsyncPager(Generic[T]):
    """`Pager` for `AsyncClient`: `async for record in pager`, `async for page in
    pager.pages()`, `await pager.first()`."""

    def __init__(self, fetch: Callable[[str | None], Awaitable[Page[T]]],
                 start: str | None = None) -> None:
        self._fetch = fetch
        self._start = start

    async def pages(self) -> AsyncIterator[Page[T]]:
        token, seen = self._start, set[str]()
        while True:
            page = await self._fetch(token)
            yield page
            token = page.next
            if token is None:
                return
            _check_new(token, seen)

    async def first(self) -> Page[T]:
        return await self._fetch(self._start)

    async def __aiter__(self) -> AsyncIterator[T]:
        async for page in self.pages():
            for item in page.items:
                yield item
