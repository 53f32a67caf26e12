"""Password checks on a bounded pool.

An argon2 check takes ~0.4 s of a core and 64 MiB. Run in the general thread pool, 64
concurrent logins took 64 checks at once: a gigabyte of memory and every other call's latency
with it. Here `concurrency` checks run at once (about the number of cores) and at most `queue`
wait; a login beyond that is refused at once (`Busy`, answered 429) rather than queued without
bound. Unknown addresses are checked against a dummy hash, so they cost what known ones do.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from mimicast.services.crypto import verify_password_in_constant_work

RETRY_MS = 1000  # what a refused login is told to wait: about two checks' time


class Busy(Exception):
    """Every slot and queue place is taken."""


class PasswordChecks:
    def __init__(self, concurrency: int, queue: int) -> None:
        self._executor = ThreadPoolExecutor(concurrency, thread_name_prefix="mimicast-password")
        self._capacity = concurrency + queue
        self._admitted = 0  # running or waiting; only touched on the event loop

    async def verify(self, stored: str | None, password: str) -> bool:
        if self._admitted >= self._capacity:
            raise Busy
        self._admitted += 1
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._executor, verify_password_in_constant_work,
                                              stored, password)
        finally:
            self._admitted -= 1

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
