"""The threads that run store work for the event loop.

Services are synchronous, so each call that touches the store hops to a thread. Starlette's
default pool has 40 threads sharing 5 pooled connections: under load each hop checked out (or
opened) a connection, and dozens of threads fought over the GIL. Here a fixed, small number of
threads (`--store-threads`) each hold one connection for their whole life; a burst of requests
queues for them instead of multiplying connections and thread switches.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from sqlalchemy import Connection

from mimicast.store.engine import Store

T = TypeVar("T")


class StoreThreads:
    def __init__(self, store: Store, count: int) -> None:
        self._store = store
        self._held: list[Connection] = []
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(count, thread_name_prefix="mimicast-store",
                                            initializer=self._hold)

    def _hold(self) -> None:
        connection = self._store.hold()
        with self._lock:
            self._held.append(connection)

    async def run(self, work: Callable[..., T], *args: Any) -> T:
        """`work(*args)` on a store thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(work, *args))

    def close(self) -> None:
        """Wait for running work, then give the held connections back."""
        self._executor.shutdown(wait=True)
        with self._lock:
            held, self._held = self._held, []
        for connection in held:
            connection.close()
