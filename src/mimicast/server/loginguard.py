"""Failed-login throttling, per address and per client address, with exponential back-off.

Each key (`addr:<email>`, `ip:<client>`) counts its failed logins. From the `max_failures`-th
on, the key is throttled for `backoff` seconds, doubling with each further failure up to
`max_backoff`; while throttled, a login is answered 429 without checking the password (so a
guesser gets a few tries per quarter of an hour instead of argon2's ~5 per second). A success
clears the address's count (not the client's: one good account must not launder a guesser's
address). Counts are forgotten after `max_backoff` without failures.

In memory for one process (least recently used keys dropped past a bound), or in Redis when
several workers or hosts share the load.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Policy:
    max_failures: int
    max_failures_per_client: int
    backoff_s: float
    max_backoff_s: float

    def limit(self, key: str) -> int:
        return self.max_failures_per_client if key.startswith("ip:") else self.max_failures

    def throttle_s(self, key: str, failures: int) -> float:
        """How long `failures` failed logins throttle the key (0: not throttled)."""
        over = failures - self.limit(key)
        if over < 0:
            return 0.0
        return min(self.backoff_s * 2.0 ** min(over, 32), self.max_backoff_s)


class Guard(Protocol):
    async def wait_ms(self, keys: list[str]) -> int:
        """0 when a login may be tried with these keys; else ms until it may."""

    async def failed(self, keys: list[str]) -> int:
        """Count a failure for each key; the ms the worst key is now throttled for."""

    async def succeeded(self, key: str) -> None:
        """Forget the key's failures."""


class MemoryGuard:
    MAX_KEYS = 100_000

    def __init__(self, policy: Policy, clock: Callable[[], float] = time.monotonic) -> None:
        self.policy = policy
        self._clock = clock
        self._keys: OrderedDict[str, tuple[int, float, float]] = OrderedDict()
        # key → (failures, throttled until, last failure), in least recently used order

    def _state(self, key: str, now: float) -> tuple[int, float, float]:
        state = self._keys.get(key)
        if state is None or now - state[2] > self.policy.max_backoff_s:
            return 0, 0.0, now
        return state

    async def wait_ms(self, keys: list[str]) -> int:
        now = self._clock()
        until = max(self._state(key, now)[1] for key in keys)
        return math.ceil((until - now) * 1000) if until > now else 0

    async def failed(self, keys: list[str]) -> int:
        now = self._clock()
        worst = 0.0
        for key in keys:
            failures = self._state(key, now)[0] + 1
            throttle = self.policy.throttle_s(key, failures)
            self._keys[key] = (failures, now + throttle, now)
            self._keys.move_to_end(key)
            worst = max(worst, throttle)
        while len(self._keys) > self.MAX_KEYS:
            self._keys.popitem(last=False)
        return math.ceil(worst * 1000)

    async def succeeded(self, key: str) -> None:
        self._keys.pop(key, None)


_FAILED_SCRIPT = """
local now = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local backoff = tonumber(ARGV[3])
local max_backoff = tonumber(ARGV[4])
local state = redis.call('HMGET', KEYS[1], 'n', 'last')
local failures = tonumber(state[1]) or 0
local last = tonumber(state[2]) or now
if now - last > max_backoff then failures = 0 end
failures = failures + 1
local throttle = 0
if failures >= limit then
  throttle = math.min(backoff * 2 ^ math.min(failures - limit, 32), max_backoff)
end
redis.call('HSET', KEYS[1], 'n', failures, 'until', tostring(now + throttle), 'last', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil((max_backoff * 2) * 1000))
return tostring(throttle)
"""


class RedisGuard:
    def __init__(self, policy: Policy, url: str, prefix: str = "mimicast:login:") -> None:
        import redis.asyncio as redis

        self.policy = policy
        self._redis = redis.Redis.from_url(url)
        self._failed = self._redis.register_script(_FAILED_SCRIPT)
        self._prefix = prefix

    async def wait_ms(self, keys: list[str]) -> int:
        now = time.time()
        untils = [await self._redis.hget(self._prefix + key, "until") for key in keys]
        until = max((float(value) for value in untils if value is not None), default=0.0)
        return math.ceil((until - now) * 1000) if until > now else 0

    async def failed(self, keys: list[str]) -> int:
        now = time.time()
        worst = 0.0
        for key in keys:
            throttle = await self._failed(keys=[self._prefix + key], args=[
                now, self.policy.limit(key), self.policy.backoff_s, self.policy.max_backoff_s])
            worst = max(worst, float(throttle))
        return math.ceil(worst * 1000)

    async def succeeded(self, key: str) -> None:
        await self._redis.delete(self._prefix + key)

    async def close(self) -> None:
        await self._redis.aclose()
