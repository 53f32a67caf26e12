"""The simulator's backfill throughput, next to what the store can physically take.

    python benchmarks/simulate.py [--messages 100000] [--users 500] [--days 30] [--seed 7]
    python benchmarks/simulate.py --db postgresql://postgres@127.0.0.1:5432/postgres
    python benchmarks/simulate.py --profile /tmp/sim-stacks.txt   # + py-spy, one more run

1. A fresh store (a SQLite file in a temporary directory, or a new PostgreSQL database on the
   server `--db` names, dropped at the end) with one account set up through the services:
   three internal domains, `--users` users with names, five groups of them.
2. The seed's attachment pool is made first (hashing its files is a one-off per process and
   seed, reported apart), then `sim.runs.backfill` makes `--messages` messages over `--days`,
   timed end to end: generation, the policy engine, every derived row written (messages,
   recipients, attachments, links, sender domains, bounces, clicks, the run's counter), in
   write units of `runs.BATCH` (10,000) messages.
3. The floor: every row the run wrote is read back as the driver stored it and inserted into
   a second fresh database with the same schema, with one `executemany` per table in one
   transaction: what inserting those rows costs with nothing else to do. And "batched": the
   same rows inserted the way the backfill must write them, a transaction per `runs.BATCH`
   messages (one executemany per table each): what the batching itself costs. On SQLite both use the
   backfill's connection settings (page cache, checkpoints: `runs.bulk_writing`), and both
   include its last checkpoint, as the simulated run does.
4. Printed: messages/s of each, the ratio simulated ÷ floor (target ≥ 0.4) and simulated ÷
   batched, the 20,000 messages/s target, rows per message per table, and the store's bytes
   per message.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text

from mimicast.services import identity, profiles
from mimicast.services.context import Caller, Context, Deps
from mimicast.services.crypto import Vault
from mimicast.services.dns import make_resolver
from mimicast.sim import files, names, runs
from mimicast.sim.runs import backfill
from mimicast.store.engine import Store, normalise_url

# What a run writes, parents first.
TABLES = ("messages", "message_recipients", "message_attachments", "message_links",
          "link_clicks", "sender_domains", "simulations")
ANCHOR = datetime(2026, 11, 30, 18, 0, tzinfo=UTC)
TARGET_RATE, TARGET_RATIO = 20_000, 0.4
Rows = dict[str, tuple[list[str], list[tuple[Any, ...]]]]


@contextlib.contextmanager
def fresh_database(server: str | None, folder: Path, name: str) -> Iterator[str]:
    """A SQLite file in `folder`, or a new database on the PostgreSQL `server` (dropped)."""
    if server is None:
        yield f"sqlite:///{folder / name}.db"
        return
    import psycopg

    database = f"mimicast_bench_{name}_{uuid.uuid4().hex[:8]}"
    admin = normalise_url(server).replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{database}"')
    try:
        yield admin.rsplit("/", 1)[0] + f"/{database}"
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def setup(deps: Deps, users: int) -> int:
    """An account with three domains, `users` named users and five groups (services)."""
    with deps.store.unit() as unit:
        account = identity.create_account(unit.session, name="Bench", code="CBENCHSIM",
                                          admin_email="admin@bench.example.com")
        unit.session.flush()
        ctx = Context(deps, unit, Caller(account.id, "bench"))
        domains = ("bench.example.com", "bench-group.example.org", "benchlabs.test")
        for domain in domains:
            identity.add_internal_domain(ctx, domain)
        people = []
        for n in range(users):
            first = names.FIRST_NAMES[n % len(names.FIRST_NAMES)]
            last = names.LAST_NAMES[(n // len(names.FIRST_NAMES)) % len(names.LAST_NAMES)]
            address = f"{first}.{last}{n}@{domains[n % 3]}".lower()
            identity.create_user(ctx, address, name=f"{first} {last}")
            people.append(address)
        for index, group in enumerate(("Finance", "Sales", "Engineering", "Support", "Board")):
            profiles.create_group(ctx, group)
            for address in people[index::7][:40]:
                profiles.add_group_member(ctx, group, address)
        return int(account.id)


def stored_bytes(store: Store) -> int:
    """The space the store takes (SQLite: the file's pages in use; PostgreSQL: the tables a
    run writes, with their indexes and TOAST)."""
    with store.engine.connect() as connection:
        if store.sqlite:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            pages = connection.exec_driver_sql("PRAGMA page_count").scalar_one()
            free = connection.exec_driver_sql("PRAGMA freelist_count").scalar_one()
            size = connection.exec_driver_sql("PRAGMA page_size").scalar_one()
            return int((pages - free) * size)
        return sum(int(connection.execute(text(f"SELECT pg_total_relation_size('{table}')"))
                       .scalar_one()) for table in TABLES)


def dump(store: Store) -> Rows:
    """Every row of the tables the run wrote, as the driver hands them back."""
    rows = {}
    raw = store.engine.raw_connection()
    try:
        cursor = raw.cursor()
        for table in TABLES:
            cursor.execute(f"SELECT * FROM {table} ORDER BY 1")
            columns = [d[0] for d in cursor.description]
            rows[table] = (columns, [tuple(row) for row in cursor.fetchall()])
    finally:
        raw.close()
    return rows


def batches(rows: Rows, size: int) -> list[Rows]:
    """`rows` cut as the backfill wrote them: `size` messages a transaction, each with its
    recipients, attachments, links and clicks (the run's own rows in the first)."""
    messages = rows["messages"][1]
    owner: dict[str, dict[int, int]] = {}  # table → row id → its message's batch
    message_batch = {row[0]: index // size for index, row in enumerate(messages)}
    links = rows["message_links"]
    link_message = links[0].index("message_id")
    owner["link_clicks"] = {row[0]: message_batch[row[link_message]] for row in links[1]}
    cut: list[Rows] = [{table: (columns, []) for table, (columns, _) in rows.items()}
                       for _ in range(max(1, -(-len(messages) // size)))]
    for table, (columns, values) in rows.items():
        if table == "messages":
            place = [message_batch[row[0]] for row in values]
        elif "message_id" in columns:  # the row's message (messages.message_id is a header)
            at = columns.index("message_id")
            place = [message_batch[row[at]] for row in values]
        elif table == "link_clicks":
            at = columns.index("link_id")
            place = [owner["link_clicks"][row[at]] for row in values]
        else:
            place = [0] * len(values)
        for row, index in zip(values, place, strict=True):
            cut[index][table][1].append(row)
    return cut


def floor(store: Store, rows: Rows, size: int | None = None) -> float:
    """Seconds to insert `rows` with one executemany per table: in one transaction, or in
    transactions of `size` messages; on SQLite with the backfill's connection settings and
    its last checkpoint (`runs.bulk_writing`), as the simulated run is timed with them."""
    with store.unit() as unit:  # the account the rows belong to (the same id: the first)
        identity.create_account(unit.session, name="Bench", code="CBENCHSIM",
                                admin_email="admin@bench.example.com")
    raw = store.engine.raw_connection()
    try:
        driver = raw.driver_connection
        assert driver is not None
        mark = "?" if store.sqlite else "%s"
        cursor = driver.cursor()
        parts = [rows] if size is None else batches(rows, size)
        start = time.perf_counter()
        with runs.bulk_writing(driver) if store.sqlite else contextlib.nullcontext():
            for part in parts:
                if store.sqlite:
                    driver.execute("BEGIN IMMEDIATE")
                for table, (columns, values) in part.items():
                    if values:
                        cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) "
                                           f"VALUES ({', '.join([mark] * len(columns))})",
                                           values)
                driver.commit()
        return time.perf_counter() - start
    finally:
        raw.close()


def simulate(url: str, args: argparse.Namespace, folder: Path) -> tuple[float, int, Store]:
    """A backfill into a fresh store at `url`: seconds, bytes added, the store."""
    store = Store(url)
    store.migrate()
    deps = Deps(store=store, vault=Vault(str(folder / "bench.key")),
                resolver=make_resolver("simulated", store.sessions))
    account = setup(deps, args.users)
    before = stored_bytes(store)
    start = time.perf_counter()
    report = backfill(deps, account, seed=args.seed, messages=args.messages, days=args.days,
                      anchor=ANCHOR)
    elapsed = time.perf_counter() - start
    tally = report.tally
    assert tally.messages == args.messages
    print(f"  {tally.messages:,} messages to {tally.recipients:,} recipients: "
          + ", ".join(f"{count:,} {status}" for status, count in tally.statuses.items())
          + f"; {tally.clicks:,} clicks")
    return elapsed, stored_bytes(store) - before, store


def profile(args: argparse.Namespace, folder: Path) -> None:
    """py-spy on this process during one more backfill (fresh store): top functions."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists():
        print("profile: py-spy not found (pip install py-spy into the venv)")
        return
    out = Path(args.profile)
    recorder = subprocess.Popen([spy, "record", "--pid", str(os.getpid()), "--rate", "500",
                                 "--nonblocking", "--nolineno", "--format", "raw",
                                 "--output", str(out)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)  # let py-spy attach
    with fresh_database(args.db, folder, "profiled") as url:
        elapsed, _, store = simulate(url, args, folder)
        store.dispose()
    recorder.send_signal(signal.SIGINT)  # py-spy writes its file when interrupted
    recorder.communicate(timeout=60)
    if not out.exists():
        print("profile: py-spy wrote nothing")
        return
    self_time: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in out.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if "backfill" not in stack:  # the run itself, not the set-up or the idle wait
            continue
        count = int(count_text)
        frames = stack.split(";")
        total += count
        self_time[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
    per_message = elapsed / args.messages * 1e6
    print(f"\nprofile ({elapsed:.2f} s, {per_message:.1f} us a message under py-spy); "
          f"raw stacks in {out}")
    for title, table in (("self", self_time), ("inclusive", inclusive)):
        print(f"  top by {title} time (share of samples, us per message):")
        for frame, count in table.most_common(25):
            print(f"    {count / total:6.1%} {count / total * per_message:7.2f}  {frame}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--db", default=None, metavar="URL",
                        help="a PostgreSQL server (a fresh database is made on it)")
    parser.add_argument("--profile", metavar="FILE", default=None,
                        help="afterwards, py-spy one more backfill; raw stacks to FILE")
    args = parser.parse_args()
    if args.messages < 1 or args.users < 1 or args.days < 1:
        parser.error("--messages, --users and --days must be at least 1")
    folder = Path(tempfile.mkdtemp(prefix="mimicast-sim-"))
    try:
        start = time.perf_counter()
        files.pool(args.seed)
        print(f"attachment pool of seed {args.seed}: {time.perf_counter() - start:.2f} s "
              "(once per process and seed, not counted below)")
        backend = "PostgreSQL" if args.db else "SQLite"
        print(f"{backend}: a backfill of {args.messages:,} messages over {args.days} days, "
              f"{args.users} users")
        with fresh_database(args.db, folder, "sim") as url, \
                fresh_database(args.db, folder, "floor") as floor_url:
            elapsed, used, store = simulate(url, args, folder)
            rows = dump(store)
            store.dispose()
            bare = Store(floor_url)
            bare.migrate()
            raw_seconds = floor(bare, rows)
            bare.dispose()
        with fresh_database(args.db, folder, "batched") as batched_url:
            bare = Store(batched_url)
            bare.migrate()
            batched_seconds = floor(bare, rows, runs.BATCH)
            bare.dispose()
        rate, raw_rate = args.messages / elapsed, args.messages / raw_seconds
        ratio = rate / raw_rate
        print("  rows per message: " + ", ".join(
            f"{table} {len(values) / args.messages:.2f}"
            for table, (_, values) in rows.items() if table != "simulations"))
        print(f"simulated: {rate:>9,.0f} messages/s  ({elapsed:.2f} s, every row written)")
        print(f"floor:     {raw_rate:>9,.0f} messages/s  ({raw_seconds:.2f} s, the same rows: "
              "one executemany per table)")
        print(f"batched:   {args.messages / batched_seconds:>9,.0f} messages/s  "
              f"({batched_seconds:.2f} s, the same rows in transactions of "
              f"{runs.BATCH:,} messages, as the backfill writes them)")
        print(f"ratio:     {ratio:9.2f}  (target >= {TARGET_RATIO}: "
              f"{'met' if ratio >= TARGET_RATIO else 'NOT met'}); {TARGET_RATE:,} messages/s: "
              f"{'met' if rate >= TARGET_RATE else 'NOT met'}")
        print(f"vs batched:{rate * batched_seconds / args.messages:9.2f}  (simulated ÷ batched)")
        print(f"store:     {used / args.messages:9,.0f} bytes per message")
        if args.profile:
            profile(args, folder)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
