"""A small time-bounded cache: what the hot path reads instead of the store, for at most
`ttl` seconds, so changes (a revoked binding, a new user) show within that time."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

T = TypeVar("T")


class TtlCache(Generic[T]):
    MAX_ENTRIES = 50_000

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        # In insertion order, so the oldest entry goes first when the cache is full.
        self._entries: OrderedDict[Hashable, tuple[float, T]] = OrderedDict()

    def get(self, key: Hashable) -> T | None:
        entry = self._entries.get(key)
        if entry is None or entry[0] < time.monotonic():
            return None
        return entry[1]

    def put(self, key: Hashable, value: T) -> None:
        self._entries[key] = (time.monotonic() + self.ttl, value)
        self._entries.move_to_end(key)
        if len(self._entries) > self.MAX_ENTRIES:
            self._entries.popitem(last=False)  # bounded: random keys must not grow memory

    def forget(self, key: Hashable) -> None:
        self._entries.pop(key, None)

    def forget_where(self, predicate: Callable[[T], bool]) -> None:
        for key in [key for key, (_, value) in self._entries.items() if predicate(value)]:
            del self._entries[key]
