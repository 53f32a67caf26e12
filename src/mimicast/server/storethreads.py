"""Where store work runs for the event loop.

Services are synchronous. Work that may wait — any PostgreSQL call (the network), any write
(the writer lock, which another process may hold for seconds) — hops to one of a fixed, small
number of threads (`--store-threads`), each holding one connection for its whole life: a burst
queues for them instead of multiplying connections and thread switches. (Starlette's default
pool had 40 threads sharing 5 pooled connections: each hop checked out or opened one, and the
threads fought over the GIL.)

On SQLite, store work runs on the event loop itself when it cannot wait: SQLite is a library
in this process, a WAL reader never waits for a lock, and a write that can take the writer
lock at once (none of this process's threads holds it, and `BEGIN IMMEDIATE` succeeds with no
busy wait) is plain CPU work too. The hop only added two context switches and a GIL hand-off
each way, ~185 µs of CPU per request against ~50–300 µs for the work (benchmarks/README.md,
"Where the time went"). A write that would wait, and an endpoint marked `slow` (a directory
export, a DNS lookup), go to a thread.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy import Connection

from mimicast.store.engine import Store, WouldWait

T = TypeVar("T")


class StoreThreads:
    def __init__(self, store: Store, count: int) -> None:
        self._store = store
        self._held: list[Connection] = []
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(count, thread_name_prefix="mimicast-store",
                                            initializer=self._hold)
        self._inline_reads = store.sqlite
        self._loop_holds = False

    def _hold(self) -> None:
        connection = self._store.hold()
        with self._lock:
            self._held.append(connection)

    async def run(self, work: Callable[..., T], *args: Any) -> T:
        """`work(*args)` on a store thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(work, *args))

    async def read(self, work: Callable[..., T], *args: Any) -> T:
        """`work(*args)`, which only reads: on SQLite right here (on the event loop's own
        connection), elsewhere on a store thread."""
        if not self._inline_reads:
            return await self.run(work, *args)
        if not self._loop_holds:
            self._hold()
            self._loop_holds = True
        return work(*args)

    async def write(self, work: Callable[..., T], *args: Any) -> T:
        """`work(*args, wait=…)`, which writes: on SQLite right here when it can begin at once
        (`wait=False`: it raises `WouldWait` before doing anything when the writer lock is
        taken, by a store thread or another process), else on a store thread, which waits."""
        if self._inline_reads:
            if not self._loop_holds:
                self._hold()
                self._loop_holds = True
            try:
                return work(*args, wait=False)
            except WouldWait:
                pass
        return await self.run(functools.partial(work, *args, wait=True))

    def close(self) -> None:
        """Wait for running work, then give the held connections back."""
        self._executor.shutdown(wait=True)
        with self._lock:
            held, self._held = self._held, []
        for connection in held:
            connection.close()
