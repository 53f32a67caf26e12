"""Live traffic: `mimicast serve --simulate RATE` sends RATE messages a minute to every account
while it serves, stamped with the server's clock (`Deps.clock`), a small batch a second.

Each account's live stream is a `simulations` run (mode "live", seed `LIVE_SEED`), so it goes
on where it stopped after a restart, and several worker processes share it: each sends
RATE/workers a minute and takes the stream's next messages in its own unit. A click is
written once its time has come; clicks still pending when the server stops are dropped.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from mimicast.services.context import Caller, Context, Deps
from mimicast.sim import clicks
from mimicast.sim.messages import LIVE, Generator, Plan
from mimicast.sim.office import Office, load_office
from mimicast.sim.rhythm import Now
from mimicast.sim.runs import ACTOR, SimulationError, advance, deliver, generator, open_run
from mimicast.store.engine import retrying
from mimicast.store.query import Query
from mimicast.store.schema import Account

LIVE_SEED = 0
TICK_SECONDS = 1.0
# A tick that fell behind (the process was paused) catches up this many messages at most.
MOST_PER_TICK = 2_000
_ENDLESS = 2**62
_ACCOUNTS = Query(select(Account.id).order_by(Account.id))

log = logging.getLogger("mimicast.sim")
RunInThread = Callable[..., Awaitable[Any]]


@dataclass
class _Stream:
    office: Office
    make: Generator
    timing: Now
    position: int = -1  # the k the plans below yield next; -1: to be found again
    plans: Iterator[Plan] = field(default_factory=lambda: iter(()))
    pending: list[clicks.Click] = field(default_factory=list)


class LiveTraffic:
    """`run()` until cancelled. `step(count)` sends `count` messages to each account (on a
    thread that may wait for the store: `run_in_thread`, default `asyncio.to_thread`)."""

    def __init__(self, deps: Deps, rate: float, run_in_thread: RunInThread | None = None, *,
                 seed: int = LIVE_SEED, tick: float = TICK_SECONDS) -> None:
        self.deps, self.rate, self.seed, self.tick = deps, rate, seed, tick
        self._in_thread = run_in_thread or asyncio.to_thread
        self._streams: dict[int, _Stream] = {}
        self._last: datetime | None = None

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        started, sent = loop.time(), 0
        while True:
            await asyncio.sleep(self.tick)
            owed = int((loop.time() - started) * self.rate / 60.0) - sent
            count = min(owed, MOST_PER_TICK)
            try:
                await self._in_thread(self.step, count)
            except Exception:  # the next tick tries again; serving goes on
                log.exception("live mail simulation failed")
            sent += owed

    def step(self, count: int) -> None:
        now = self.deps.clock()
        previous = self._last if self._last is not None and self._last < now \
            else now - timedelta(seconds=self.tick)
        self._last = now
        with self.deps.store.unit(write=False) as unit:
            accounts = _ACCOUNTS.scalars(unit)
        for account in accounts:
            try:
                retrying(functools.partial(self._account, account, count, previous, now))
            except Exception:  # one account's failure does not stop the others' mail
                log.exception("live mail simulation failed for account %s", account)

    def _account(self, account: int, count: int, previous: datetime, now: datetime) -> None:
        known = self._streams.get(account)
        if not count and (known is None or not known.pending):
            return
        with self.deps.store.unit() as unit:
            ctx = Context(self.deps, unit, Caller(account_id=account, actor=ACTOR))
            stream = self._stream(ctx, account)
            if stream is None:
                return
            due = [click for click in stream.pending if click.clicked_at <= now]
            later = [click for click in stream.pending if click.clicked_at > now]
            position = stream.position
            if count:
                run = open_run(ctx, LIVE, self.seed, now, 0)
                if run.generated != position:  # a restart, or another worker went on
                    stream.plans = stream.make.plans(run.generated, _ENDLESS, stream.timing)
                stream.position = -1  # until this unit commits
                plans = []
                for index in range(count):
                    stream.timing.now = previous + (now - previous) * (index + 1) / count
                    plans.append(next(stream.plans))
                _, found = deliver(ctx, plans)
                advance(ctx, run, run.generated + count)
                position = run.generated + count
                due += [click for click in found if click.clicked_at <= now]
                later += [click for click in found if click.clicked_at > now]
            clicks.save(ctx, due)
        stream.position, stream.pending = position, later

    def _stream(self, ctx: Context, account: int) -> _Stream | None:
        """The account's stream, made again when its directory changed; None while it cannot
        get mail (no internal domain or no user)."""
        office = load_office(ctx)
        stream = self._streams.get(account)
        if stream is not None and stream.office == office:
            return stream
        try:
            make = generator(self.seed, LIVE, office)
        except SimulationError:
            self._streams.pop(account, None)
            return None
        stream = _Stream(office, make, Now(ctx.now()),
                         pending=stream.pending if stream is not None else [])
        self._streams[account] = stream
        return stream
