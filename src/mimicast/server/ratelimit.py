"""Per-user call quotas: a token bucket of `limit` calls refilled evenly over `window_ms`.

In memory for one process; in Redis (one atomic script) when workers or hosts share the load.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Quota:
    allowed: bool
    limit: int
    remaining: int
    reset_ms: int  # until one more call is allowed back

    def raw_headers(self) -> list[tuple[bytes, bytes]]:
        return [(b"x-ratelimit-limit", b"%d" % self.limit),
                (b"x-ratelimit-remaining", b"%d" % self.remaining),
                (b"x-ratelimit-reset", b"%d" % self.reset_ms)]


class Limiter(Protocol):
    async def take(self, key: str, limit: int, window_ms: int) -> Quota: ...


def _refill_ms(limit: int, window_ms: int) -> float:
    return max(window_ms / max(limit, 1), 1.0)


class MemoryLimiter:
    """Buckets in least recently used order; past MAX_KEYS the least recently used go. A
    flood of new keys (spoofed client addresses) then costs the idle, not the busy: a user
    mid-burst keeps an empty bucket instead of getting a full one back."""

    MAX_KEYS = 100_000

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        # key → (tokens, updated at in ms)
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    async def take(self, key: str, limit: int, window_ms: int) -> Quota:
        now = self._clock() * 1000.0
        per_token = _refill_ms(limit, window_ms)
        tokens, updated = self._buckets.get(key, (float(limit), now))
        tokens = min(float(limit), tokens + (now - updated) / per_token)
        allowed = tokens >= 1.0
        if allowed:
            tokens -= 1.0
        self._buckets[key] = (tokens, now)
        self._buckets.move_to_end(key)
        if len(self._buckets) > self.MAX_KEYS:
            self._buckets.popitem(last=False)
        reset = 0 if tokens >= limit else math.ceil((1.0 - (tokens % 1.0)) * per_token)
        return Quota(allowed, limit, int(tokens), reset)


_REDIS_SCRIPT = """
local limit = tonumber(ARGV[1])
local per_token = tonumber(ARGV[2])
local now = tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 't', 'u')
local tokens = tonumber(state[1]) or limit
local updated = tonumber(state[2]) or now
tokens = math.min(limit, tokens + (now - updated) / per_token)
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'u', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(limit * per_token) + 1000)
return {allowed, tostring(tokens)}
"""


class RedisLimiter:
    def __init__(self, url: str, prefix: str = "mimicast:rl:") -> None:
        import redis.asyncio as redis

        self._redis = redis.Redis.from_url(url)
        self._script = self._redis.register_script(_REDIS_SCRIPT)
        # Servers that share quotas share the prefix; anything else (a test) picks its own.
        self._prefix = prefix

    async def take(self, key: str, limit: int, window_ms: int) -> Quota:
        per_token = _refill_ms(limit, window_ms)
        allowed, tokens_text = await self._script(
            keys=[f"{self._prefix}{key}"], args=[limit, per_token, time.time() * 1000.0])
        tokens = float(tokens_text)
        reset = 0 if tokens >= limit else math.ceil((1.0 - (tokens % 1.0)) * per_token)
        return Quota(bool(allowed), limit, int(tokens), reset)

    async def close(self) -> None:
        await self._redis.aclose()
