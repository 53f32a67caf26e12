"""Concurrent requests that need the same thing loaded share one load.

When a one-second cache entry expires under load, every in-flight request misses at once;
without this, each would take a store thread and run the same queries (a stampede that
shows up as the p99 latency)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")
Runner = Callable[..., Awaitable[Any]]


class SingleFlight:
    def __init__(self, runner: Runner) -> None:
        # Where loads run: `await runner(load, *args)` (the server's store threads).
        self._runner = runner
        self._running: dict[Hashable, asyncio.Future[Any]] = {}

    async def run(self, key: Hashable, load: Callable[..., T], *args: Any) -> T:
        """`load(*args)` through the runner, or the result of the same load already running."""
        future = self._running.get(key)
        if future is None:
            future = asyncio.ensure_future(self._runner(load, *args))
            self._running[key] = future
            future.add_done_callback(lambda _done: self._running.pop(key, None))
        # Shielded: one waiter going away (a client hanging up) must not cancel the others'.
        result: T = await asyncio.shield(future)
        return result
