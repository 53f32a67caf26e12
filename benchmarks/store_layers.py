"""What one read costs at each layer of the store, in one process, on the same data.

    python benchmarks/store_layers.py [--users 10000] [--rounds 5]

The same page (25 users of a domain, by address, after a key) is read five ways: through an
ORM session with the statement built per call (what the services did before issue 9),
through a session with a prebuilt statement, through SQLAlchemy Core on a held connection,
as a compiled `mimicast.store.query.Query` in a unit, and with raw sqlite3 on the same file
(the floor). Then what a unit of work costs (begin + commit) through SQLAlchemy and on the
driver, and a hop to a worker thread and back (`loop.run_in_executor`), next to calling
inline. Best of `--rounds` runs, µs per call.
"""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from mimicast.store.engine import Store
from mimicast.store.query import Query
from mimicast.store.schema import Account, User

DOMAIN = "bench.example"


def best_us(work: Callable[[], Any], calls: int, rounds: int) -> float:
    for _ in range(calls // 10):
        work()
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(calls):
            work()
        best = min(best, (time.perf_counter() - start) / calls * 1e6)
    return best


def seed(store: Store, count: int) -> int:
    now = datetime.now(UTC)
    with store.unit() as unit:
        account = Account(code="CBENCH", name="Bench", region="us", created_at=now)
        unit.session.add(account)
        unit.session.flush()
        unit.session.execute(User.__table__.insert(), [
            {"account_id": account.id, "email": f"user{n:06d}@{DOMAIN}", "domain": DOMAIN,
             "name": f"User {n}", "source": "cloud", "created_at": now} for n in range(count)])
        return account.id


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="mimicast-layers-"))
    path = folder / "layers.db"
    store = Store(f"sqlite:///{path}")
    store.migrate()
    account = seed(store, args.users)
    after = f"user{args.users // 2:06d}@{DOMAIN}"
    columns = (User.name, User.email, User.domain, User.source)
    where = (User.account_id == bindparam("account"), User.domain == bindparam("domain"),
             User.email > bindparam("after"))
    page = select(*columns).where(*where).order_by(User.account_id, User.domain,
                                                   User.email).limit(26)
    params = {"account": account, "domain": DOMAIN, "after": after}
    compiled = Query(page)
    held = store.hold()
    raw = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    with store.unit(write=False) as unit:
        expected = [tuple(row) for row in compiled.all(unit, **params)]
        # The SQL and values the compiled query runs, for the floor.
        sql, bound = compiled._plans["sqlite"].parameters(params)

    def orm_built() -> Any:
        with Session(bind=held) as session:
            rows = session.scalars(select(User).where(
                User.account_id == account, User.domain == DOMAIN, User.email > after)
                .order_by(User.account_id, User.domain, User.email).limit(26)).all()
            session.commit()
            return rows

    def orm_prebuilt() -> Any:
        with Session(bind=held) as session:
            rows = session.execute(page, params).all()
            session.commit()
            return rows

    def core() -> Any:
        with held.begin():
            return held.execute(page, params).all()

    def query() -> Any:
        with store.unit(write=False) as unit:
            return compiled.all(unit, **params)

    def sqlite_floor() -> Any:
        raw.execute("BEGIN")
        rows = raw.execute(sql, bound).fetchall()
        raw.execute("COMMIT")
        return rows

    for name, work in (("ORM", orm_built), ("ORM prebuilt", orm_prebuilt), ("Core", core),
                       ("Query", query), ("sqlite3", sqlite_floor)):
        rows = work()
        if len(rows) != 26 or (name != "ORM" and [tuple(r) for r in rows] != expected):
            print(f"*** INVALID: {name} read the wrong page", file=sys.stderr)
            return 1
    print(f"one page of 25 users (of {args.users:,}), after a key; best of {args.rounds}, "
          "µs per call (begin, query, commit):")
    floor = best_us(sqlite_floor, args.calls, args.rounds)
    for name, work, what in (
            ("ORM session, statement built per call", orm_built, "before issue 9"),
            ("ORM session, prebuilt statement", orm_prebuilt, ""),
            ("Core, held connection, prebuilt", core, ""),
            ("compiled Query in a unit", query, "now"),
            ("raw sqlite3", sqlite_floor, "the floor")):
        cost = floor if work is sqlite_floor else best_us(work, args.calls, args.rounds)
        print(f"  {name:40} {cost:8.1f}  {cost / floor:5.1f}x  {what}")

    def sa_transaction() -> None:
        with held.begin():
            pass

    def empty_unit() -> None:
        with store.unit(write=False):
            pass

    def raw_transaction() -> None:
        raw.execute("BEGIN")
        raw.execute("COMMIT")

    print("a transaction with nothing in it:")
    for name, work in (("SQLAlchemy begin + commit", sa_transaction),
                       ("a read unit (begins on the driver)", empty_unit),
                       ("raw sqlite3 BEGIN + COMMIT", raw_transaction)):
        print(f"  {name:40} {best_us(work, args.calls * 5, args.rounds):8.1f}")

    pool = ThreadPoolExecutor(4)

    def nothing() -> None:
        pass

    async def hops(n: int) -> None:
        loop = asyncio.get_running_loop()
        for _ in range(n):
            await loop.run_in_executor(pool, nothing)

    async def inline(n: int) -> None:
        for _ in range(n):
            nothing()

    print("a call from the event loop (one task, nothing else running):")
    for name, coro in (("hop to a worker thread and back", hops), ("inline", inline)):
        best = float("inf")
        for _ in range(args.rounds):
            start = time.perf_counter()
            asyncio.run(coro(args.calls))
            best = min(best, (time.perf_counter() - start) / args.calls * 1e6)
        print(f"  {name:40} {best:8.1f}")
    print("  (under load the hop costs far more: the loop and the thread hand the GIL and the "
          "CPU back and forth; see 'Where the time went' in benchmarks/README.md)")
    pool.shutdown()
    raw.close()
    held.close()
    store.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
