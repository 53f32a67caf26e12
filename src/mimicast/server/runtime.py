"""Everything a server process builds once from its settings."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from mimicast.catalog import ENDPOINTS, Endpoint
from mimicast.config import Settings
from mimicast.server.credentials import Credentials
from mimicast.server.loginguard import Guard, MemoryGuard, Policy, RedisGuard
from mimicast.server.passwords import PasswordChecks
from mimicast.server.ratelimit import Limiter, MemoryLimiter, RedisLimiter
from mimicast.server.replay import ReplayGuard
from mimicast.server.singleflight import SingleFlight
from mimicast.server.storethreads import StoreThreads
from mimicast.services.context import Deps, utcnow
from mimicast.services.crypto import Vault
from mimicast.services.dns import make_resolver
from mimicast.services.mail import delivery
from mimicast.store import revision
from mimicast.store.engine import Store

# Connections beyond the store threads' own: the odd unit outside them (start-up checks).
SPARE_CONNECTIONS = 2
# How often queued mail whose retry has come is delivered (services/mail/delivery.py).
DELIVERY_SECONDS = 60.0
log = logging.getLogger("mimicast.server")


@dataclass
class Runtime:
    settings: Settings
    deps: Deps
    store: StoreThreads
    credentials: Credentials
    limiter: Limiter
    login_guard: Guard
    passwords: PasswordChecks
    replay: ReplayGuard
    endpoints: dict[str, Endpoint]
    loads: SingleFlight
    _background: set[asyncio.Future[Any]] = field(default_factory=set)
    _simulating: asyncio.Future[Any] | None = None
    _delivering: asyncio.Future[Any] | None = None

    @classmethod
    def build(cls, settings: Settings, deps: Deps | None = None) -> Runtime:
        if deps is None:
            store = Store(settings.db, settings.store_threads + SPARE_CONNECTIONS)
            with store.engine.connect() as connection:
                behind = revision.needs_upgrade(connection)
            if behind:  # `serve` has migrated already; a worker only checks (no Alembic)
                store.migrate()
            deps = Deps(store=store, vault=Vault(settings.key_file),
                        resolver=make_resolver(settings.dns, store.sessions))
        # This server's own view of the shared collaborators: another server on the same store
        # (a test's second one) has its own address and limits.
        deps = replace(deps, public_url=settings.base_url,
                       max_upload_bytes=settings.max_upload_bytes,
                       siem_slice=timedelta(minutes=settings.siem_slice_minutes),
                       log_retention=timedelta(days=settings.log_retention_days))
        threads = StoreThreads(deps.store, settings.store_threads)
        policy = Policy(settings.login_max_failures, settings.login_max_failures_per_client,
                        settings.login_backoff_seconds, settings.login_backoff_max_seconds)
        limiter: Limiter
        guard: Guard
        if settings.redis_url:
            limiter, guard = RedisLimiter(settings.redis_url), RedisGuard(policy,
                                                                          settings.redis_url)
        else:
            limiter, guard = MemoryLimiter(), MemoryGuard(policy)
        return cls(settings=settings, deps=deps, store=threads,
                   credentials=Credentials(deps, threads, settings.cache_seconds, deps.clock),
                   limiter=limiter, login_guard=guard,
                   passwords=PasswordChecks(settings.login_concurrency, settings.login_queue),
                   replay=ReplayGuard(settings.max_clock_skew,
                                      settings.reject_replayed_request_ids, utcnow),
                   endpoints=ENDPOINTS, loads=SingleFlight(threads.read))

    def start(self) -> None:
        """Begin what runs beside the requests (on the event loop, as the app starts): the
        gateway's retries of queued mail, and live simulated mail when `simulate` is set,
        each worker sending its share of the rate."""
        self._delivering = asyncio.ensure_future(self._deliver_queued())
        if self.settings.simulate:
            from mimicast.sim.live import LiveTraffic

            traffic = LiveTraffic(self.deps, self.settings.simulate / self.settings.workers,
                                  self.store.run)
            self._simulating = asyncio.ensure_future(traffic.run())

    def background(self, work: Coroutine[Any, Any, Any]) -> None:
        """Run `work` without waiting for it (kept referenced until it ends)."""
        task = asyncio.ensure_future(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _deliver_queued(self) -> None:
        """Every DELIVERY_SECONDS, the queued copies whose retry has come are delivered (by
        every worker: a copy delivered once is not queued for the next)."""
        while True:
            try:
                await self.store.run(delivery.deliver_all, self.deps)
            except Exception:  # a store outage: try again next time
                log.exception("delivering queued mail failed")
            await asyncio.sleep(DELIVERY_SECONDS)

    async def close(self) -> None:
        if self._delivering is not None:
            self._delivering.cancel()
            await asyncio.gather(self._delivering, return_exceptions=True)
        if self._simulating is not None:  # stop sending; a batch under way finishes first
            self._simulating.cancel()
            await asyncio.gather(self._simulating, return_exceptions=True)
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)
        for closeable in (self.limiter, self.login_guard):
            if isinstance(closeable, (RedisLimiter, RedisGuard)):
                await closeable.close()
        self.passwords.close()
        self.store.close()
        self.deps.store.dispose()
