"""Everything a server process builds once from its settings."""

from __future__ import annotations

from dataclasses import dataclass

from mimicast.catalog import ENDPOINTS, Endpoint
from mimicast.config import Settings
from mimicast.server.credentials import Credentials
from mimicast.server.ratelimit import Limiter, MemoryLimiter, RedisLimiter
from mimicast.server.replay import ReplayGuard
from mimicast.server.singleflight import SingleFlight
from mimicast.services.context import Deps, utcnow
from mimicast.services.crypto import Vault
from mimicast.services.dns import make_resolver
from mimicast.store.engine import Store


@dataclass
class Runtime:
    settings: Settings
    deps: Deps
    credentials: Credentials
    limiter: Limiter
    replay: ReplayGuard
    endpoints: dict[str, Endpoint]
    loads: SingleFlight

    @classmethod
    def build(cls, settings: Settings, deps: Deps | None = None) -> Runtime:
        if deps is None:
            store = Store(settings.db)
            store.migrate()
            deps = Deps(store=store, vault=Vault(settings.key_file),
                        resolver=make_resolver(settings.dns, store.sessions))
        limiter: Limiter = (RedisLimiter(settings.redis_url) if settings.redis_url
                            else MemoryLimiter())
        return cls(settings=settings, deps=deps,
                   credentials=Credentials(deps, settings.cache_seconds, deps.clock),
                   limiter=limiter,
                   replay=ReplayGuard(settings.max_clock_skew,
                                      settings.reject_replayed_request_ids, utcnow),
                   endpoints=ENDPOINTS, loads=SingleFlight())

    async def close(self) -> None:
        if isinstance(self.limiter, RedisLimiter):
            await self.limiter.close()
        self.deps.store.dispose()
