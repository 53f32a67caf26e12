"""Simulator runs. A backfill (`backfill`) spreads a seed's messages over the days before an
anchor, in batches of `BATCH` messages, one write unit each (a running server's writers wait
at most one batch). Each run is a `simulations` row keyed by (account, mode, seed) counting
the messages made so far, advanced in the same unit as the batch: a rerun with the same seed
continues where the last one stopped and adds only what is missing, and two runs of the
same seed at once take turns rather than duplicate."""

from __future__ import annotations

import collections
import contextlib
import gc
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, select, update

from mimicast.services.context import Caller, Context, Deps
from mimicast.services.mail.accept import Accepted, accept
from mimicast.services.mail.facts import BOUNCED, DELIVERED, HELD, REJECTED
from mimicast.services.mail.rules import load_rules
from mimicast.sim import DEFAULT_DAYS, DEFAULT_MESSAGES, DEFAULT_SEED, clicks
from mimicast.sim.files import pool
from mimicast.sim.messages import BACKFILL, Generator, Plan
from mimicast.sim.office import Office, load_office
from mimicast.sim.outside import outside
from mimicast.sim.rhythm import Window
from mimicast.store.engine import retrying
from mimicast.store.query import Query, upsert
from mimicast.store.schema import MessageRecipient, Simulation

MAX_MESSAGES, MAX_DAYS, MAX_SEED = 100_000_000, 3_650, 2**31 - 1
# 10,000 messages a unit: a running server's writes wait up to about half a second while a
# backfill runs; with 1,000 a unit, committing (each batch rewrites most index leaf pages the
# messages' random keys touch) cost a third of a backfill (100,000 messages on SQLite: 14,200
# messages/s at 1,000, 20,800 at 10,000; benchmarks/simulate.py).
BATCH = 10_000
# A backfill's SQLite connection while it writes (`bulk_writing`): a checkpoint every 65,536
# WAL pages (256 MB of 4 KB pages; SQLite's own is 1,000), and a 128 MB page cache (2 MB).
BULK_PRAGMAS = {"wal_autocheckpoint": 65_536, "cache_size": -131_072}
ACTOR = "simulator"
# The far side refusing a mistyped address, a few seconds after the gateway sent it.
REFUSED = ("Recipient address rejected: 550 5.1.1 user unknown", "remote_rejected")
BOUNCE_DELAY = timedelta(seconds=4)

_RUN = Query(select(Simulation.id, Simulation.anchor, Simulation.days, Simulation.generated)
             .where(Simulation.account_id == bindparam("account"),
                    Simulation.mode == bindparam("mode"), Simulation.seed == bindparam("seed"))
             .with_for_update())
_START = upsert(lambda dialect_insert: dialect_insert(Simulation).values(
    account_id=bindparam("account"), mode=bindparam("mode"), seed=bindparam("seed"),
    anchor=bindparam("anchor"), days=bindparam("days"), generated=0,
    created_at=bindparam("now"), updated_at=bindparam("now")).on_conflict_do_nothing())
_ADVANCE = Query(update(Simulation).where(Simulation.id == bindparam("run"))
                 .values(generated=bindparam("generated"), updated_at=bindparam("now")))
_BOUNCE = Query(update(MessageRecipient)
                .where(MessageRecipient.message_id == bindparam("message"),
                       MessageRecipient.address == bindparam("address"),
                       MessageRecipient.status == DELIVERED)
                .values(status=BOUNCED, reason=REFUSED[0], reason_code=REFUSED[1],
                        updated_at=bindparam("when")))


class SimulationError(Exception):
    """What stops a simulation before it starts (the message says what to change)."""


@dataclass(frozen=True)
class Run:
    id: int
    anchor: datetime
    days: int
    generated: int


@dataclass
class Tally:
    """What a run added: messages, their recipients by outcome, and clicks."""

    messages: int = 0
    statuses: dict[str, int] = field(default_factory=lambda: dict.fromkeys(
        (DELIVERED, HELD, REJECTED, BOUNCED), 0))
    clicks: int = 0

    def add(self, accepted: Sequence[Accepted], clicked: int) -> None:
        self.messages += len(accepted)
        self.clicks += clicked
        counted = collections.Counter(outcome.status for item in accepted
                                      for outcome in item.decision.recipients)
        for status, count in counted.items():
            self.statuses[status] = self.statuses.get(status, 0) + count

    @property
    def recipients(self) -> int:
        return sum(self.statuses.values())


@dataclass(frozen=True)
class Report:
    seed: int
    anchor: datetime  # the window's end
    days: int
    before: int  # messages the run had already
    total: int  # messages it has now
    tally: Tally  # what this call added


def open_run(ctx: Context, mode: str, seed: int, anchor: datetime, days: int) -> Run:
    """The run of (account, mode, seed), started now if new (at `anchor`, over `days`);
    locked until this unit ends where the store can (PostgreSQL; SQLite has one writer)."""
    account = ctx.caller.account_id
    _START.execute(ctx.unit, account=account, mode=mode, seed=seed, anchor=anchor, days=days,
                   now=ctx.now())
    row = _RUN.first(ctx.unit, account=account, mode=mode, seed=seed)
    return Run(row.id, row.anchor, row.days, row.generated)


def advance(ctx: Context, run: Run, generated: int) -> None:
    _ADVANCE.execute(ctx.unit, run=run.id, generated=generated, now=ctx.now())


def deliver(ctx: Context, plans: Sequence[Plan]) -> tuple[list[Accepted], list[clicks.Click]]:
    """Send the plans' messages through the gateway (the account's rules as they are now),
    bounce what the far side refuses, and work out the clicks on what was delivered (not
    saved: the caller keeps those that have happened)."""
    accepted = accept(ctx, [plan.draft for plan in plans], load_rules(ctx))
    bounced = []
    for plan, item in zip(plans, accepted, strict=True):
        for index in plan.bounces:
            outcome = item.decision.recipients[index]
            if outcome.status == DELIVERED:
                outcome.decide(BOUNCED, *REFUSED, "")
                bounced.append({"message": item.id, "address": outcome.address,
                                "when": item.draft.received_at + BOUNCE_DELAY})
    _BOUNCE.execute_many(ctx.unit, bounced)
    return accepted, clicks.clicks(ctx, plans, accepted)


def generator(seed: int, mode: str, office: Office) -> Generator:
    if not office.domains:
        raise SimulationError("the account has no internal domain to receive mail: add one "
                              "first (mimicast admin domain add)")
    if not office.users:
        raise SimulationError("the account has no users to send and receive mail: add one "
                              "first (mimicast admin user create)")
    return Generator(seed, mode, office, outside(seed, office.domains), pool(seed))


LIMITS = {"messages": (1, MAX_MESSAGES), "days": (1, MAX_DAYS), "seed": (0, MAX_SEED)}


def check(messages: int, days: int | None, seed: int) -> None:
    for name, value in (("messages", messages), ("days", days), ("seed", seed)):
        low, high = LIMITS[name]
        if value is not None and not low <= value <= high:
            raise SimulationError(f"{name} must be a whole number from {low} to {high:,}")


def backfill(deps: Deps, account_id: int, *, seed: int = DEFAULT_SEED,
             messages: int = DEFAULT_MESSAGES, days: int | None = None,
             anchor: datetime | None = None,
             progress: Callable[[int, int], Any] | None = None) -> Report:
    """Make messages 0 … `messages`-1 of `seed` for the account, those it lacks: spread over
    `days` (default `DEFAULT_DAYS`) up to `anchor` (default: the clock's now) on the first
    run; a rerun keeps the first run's window (other `days` are an error). `progress(done,
    total)` is called before the first batch and after each."""
    check(messages, days, seed)
    caller = Caller(account_id=account_id, actor=ACTOR)
    with deps.store.unit() as unit:
        ctx = Context(deps, unit, caller)
        make = generator(seed, BACKFILL, load_office(ctx))
        end = (anchor or ctx.now()).replace(microsecond=0)
        run = open_run(ctx, BACKFILL, seed, end, days or DEFAULT_DAYS)
        if days is not None and days != run.days:
            until = run.anchor.strftime("%Y-%m-%d %H:%M")
            raise SimulationError(
                f"seed {seed} was simulated over {run.days} days up to {until} UTC: give "
                f"--days {run.days} to add to it, or another --seed")
    window = Window(run.anchor, run.days)
    tally = Tally()
    done = run.generated
    if progress is not None:
        progress(min(done, messages), messages)
    with deps.store.pinned() as connection, _bulk_writing(connection):
        while done < messages:
            with _no_cycle_collection():
                done = retrying(lambda: _batch(deps, caller, make, window, messages, tally))
            if progress is not None:
                progress(min(done, messages), messages)
    return Report(seed, run.anchor, run.days, run.generated, max(done, run.generated), tally)


@contextlib.contextmanager
def _bulk_writing(connection: Connection) -> Iterator[None]:
    driver = connection.connection.driver_connection
    if connection.dialect.name != "sqlite" or driver is None:
        yield
        return
    with bulk_writing(driver):
        yield


@contextlib.contextmanager
def bulk_writing(driver: Any) -> Iterator[None]:
    """A SQLite driver connection set up for writing batch after batch (`BULK_PRAGMAS`), and
    as it was afterwards, when the WAL is checkpointed once more (as far as readers allow; it
    never waits for them). A batch's index entries (times, senders, Message-IDs, link codes)
    fall all over their indexes, so each batch writes most of the same index pages again: with
    SQLite's 2 MB cache each batch read them back from the WAL (at 100,000 messages, 3.8 GB
    read for 2.7 GB written), and each checkpoint copies and syncs every page written since
    the last one. The larger cache keeps them (0.3 GB read); the rarer checkpoint copies each
    of them fewer times (1.9 GB written). One bulk transaction's WAL grows as large."""
    saved = {name: driver.execute(f"PRAGMA {name}").fetchone()[0] for name in BULK_PRAGMAS}
    for name, value in BULK_PRAGMAS.items():
        driver.execute(f"PRAGMA {name}={value}")
    try:
        yield
    finally:
        for name, value in saved.items():
            driver.execute(f"PRAGMA {name}={value}")
        driver.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()


@contextlib.contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """A batch allocates tens of thousands of objects (drafts, decisions, rows) that hold no
    reference cycles and are freed by reference counting as it ends; the cycle collector
    would only scan them again and again (a fifth of the run's time). Off for the batch."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _batch(deps: Deps, caller: Caller, make: Generator, window: Window, messages: int,
           tally: Tally) -> int:
    """The run's next batch, in one unit; how many messages the run has after it."""
    with deps.store.unit() as unit:
        ctx = Context(deps, unit, caller)
        run = open_run(ctx, BACKFILL, make.seed, window.end, 0)
        if run.generated >= messages:
            return run.generated
        end = min(messages, (run.generated // BATCH + 1) * BATCH)
        plans = ordered(make.plans(run.generated, end, window))
        accepted, found = deliver(ctx, plans)
        happened = [click for click in found if click.clicked_at <= window.end]
        clicks.save(ctx, happened)
        advance(ctx, run, end)
    tally.add(accepted, len(happened))
    return end


def ordered(plans: Iterable[Plan]) -> list[Plan]:
    """A batch in the order its messages arrived (then by k), so ids follow time."""
    return sorted(plans, key=_arrival)


def _arrival(plan: Plan) -> datetime:
    return plan.draft.received_at
