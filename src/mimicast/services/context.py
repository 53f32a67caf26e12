"""Who is acting, on which account, with which store: what every service function receives."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from mimicast.services.crypto import Vault
from mimicast.services.dns import Resolver
from mimicast.services.paging import PageRequest
from mimicast.services.ttlcache import TtlCache
from mimicast.store.engine import Store
from mimicast.store.unit import Unit


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Deps:
    """Process-wide collaborators, built once."""

    store: Store
    vault: Vault
    resolver: Resolver
    clock: Callable[[], datetime] = utcnow
    # Read-mostly answers (an account's description) kept briefly off the store's hot path.
    snapshots: TtlCache[Any] = field(default_factory=lambda: TtlCache(1.0))
    # The server's base URL as clients reach it (`Settings.base_url`), for the absolute URLs
    # the API hands out (upload URLs); "" outside a server, which makes them relative.
    public_url: str = ""
    # The largest file `file/file-upload` takes (`Settings.max_upload_bytes`).
    max_upload_bytes: int = 25 * 1024 * 1024
    # The SIEM log's file slice and the logs' retention (`Settings.siem_slice_minutes`,
    # `Settings.log_retention_days`).
    siem_slice: timedelta = timedelta(minutes=30)
    log_retention: timedelta = timedelta(days=7)


@dataclass(frozen=True)
class Caller:
    """The acting identity: an API user (with permissions) or an operator at the CLI."""

    account_id: int
    actor: str
    user_id: int | None = None
    binding_id: int | None = None
    permissions: frozenset[str] = field(default_factory=frozenset)


@dataclass
class Revocations:
    """Credentials a unit of work ended (a logout, a locked user): the server drops them from
    its caches as the call returns, so they stop at once rather than within the cache's TTL."""

    users: set[int] = field(default_factory=set)
    bindings: set[int] = field(default_factory=set)


class Context:
    """One unit of work (committed by whoever opened it) and the caller.

    `work` is a `Unit`, or an ORM session someone else opened (the CLI, tests), which is then
    the unit's session. Compiled queries run on `ctx.unit`; ORM code uses `ctx.session`.
    """

    def __init__(self, deps: Deps, work: Unit | Session, caller: Caller,
                 page: PageRequest | None = None, revoked: Revocations | None = None) -> None:
        self.deps = deps
        self.unit = work if isinstance(work, Unit) else Unit.over(work)
        self.caller = caller
        # The request's `meta.pagination`, for list endpoints.
        self.page = page or PageRequest()
        self.revoked = revoked or Revocations()
        # Work to do in a unit of its own once this one has ended, committed or not (a
        # failure to record while the request's own changes roll back).
        self.followups: list[Callable[[], None]] = []

    @property
    def session(self) -> Session:
        return self.unit.session

    def now(self) -> datetime:
        return self.deps.clock()

    def run_followups(self) -> None:
        followups, self.followups = self.followups, []
        for followup in followups:
            followup()
