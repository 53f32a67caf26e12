"""Draining the SIEM log through the API with the SDK, next to what the store can physically
give: the same rows read with a bare cursor, made JSON and zipped, in the same run.

    python benchmarks/siem.py                          # 10,000,000 events, SQLite (~25 min)
    python benchmarks/siem.py --events 200000          # a quick check
    python benchmarks/siem.py --keep /tmp/siem-10m     # build once, drain again on later runs
    python benchmarks/siem.py --db postgresql://postgres@127.0.0.1:5432/postgres --events 2000000
    python benchmarks/siem.py --events 500000 --profile /tmp/siem-stacks.txt   # + py-spy

1. A fresh store: a SQLite file in a temporary directory (or `--keep DIR`), or with `--db` a
   new database on that PostgreSQL server (dropped at the end, kept with `--keep`).
   `mimicast init --json` makes the demo account; `--users` named users and five groups are
   added in its domain; then `sim.runs.backfill` simulates mail over `--days` (6, inside the
   log's 7-day retention) up to an anchor on a SIEM slice boundary one slice in the past (all
   of it served at once). The message count comes from the events: a sample of
   `--sample` messages is simulated and its events counted (SQL, below), the backfill goes
   on to the messages that many events need, and on again in rounds until the store holds
   at least `--events`. With `--keep`, the built store is kept in DIR and reused while its
   seed, days, users and event target match (its ledger is cleared before each drain).
2. The events are counted exactly with SQL, per record type, as the server defines them: a
   receipt line per copy; a process line per message with a copy the gateway took in; a
   delivery line per copy delivered or bounced as it came in, and per release; an anti-virus
   line per malicious file and accepted copy; an attachment-protect line per file and
   accepted copy of inbound and internal mail; spam, impersonation and journal lines per
   accepted copy of a message detected as such (journal: internal mail); a URL line per
   click.
3. The store is read into the OS page cache (SQLite: its file; PostgreSQL: pg_prewarm), so
   the drain and the baseline both start warm. The drain: `mimicast serve` (one worker,
   rate limit off) on CPU 0; this process (CPU 1) iterates
   `client.siem.events(file_format="json")` (compressed files: each one unzipped and
   parsed, as a collector does; the next file asked for while one is parsed, the SDK's
   default) from the first file to the caught-up answer, counting
   events per type; a response hook counts files and bytes. The server's RSS is sampled
   from /proc/<pid>/status every 0.2 s: its own memory (`RssAnon`: heap, stacks), which the
   target judges, and `VmRSS`, which also counts the SQLite file's memory-mapped pages (the
   OS page cache's, shared and reclaimable).
4. The baseline, in this process afterwards: per record type one statement with the
   equivalent joins, read with a bare DB-API cursor (sqlite3 / psycopg, streamed), each row
   made a JSON object (orjson: column → value) and the objects written as zip members of
   the same record counts as the served files (from the server's ledger), compresslevel 1
   as the server zips.
5. Printed: events, files, MB, seconds and events/s of each; the ratio drain ÷ baseline
   (target >= 0.5); server and baseline CPU per event; the server's RSS at start, peak and
   growth (target <= 64 MB own memory). The drained events per type must equal the SQL
   counts and the baseline's rows, else the run is invalid (exit 1).
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import io
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from signed_calls import (  # noqa: E402
    LOAD_CPU,
    Invalid,
    Server,
    clean_env,
    init_credentials,
)

from mimicast.services.logs import mta  # noqa: E402

RATIO_TARGET = 0.5
RSS_TARGET_MB = 64.0
SLICE = timedelta(minutes=30)  # the server's default SIEM slice
RETENTION_DAYS = 7  # the server's default log retention
SAMPLE_EVERY = 0.2
GROUPS = ("Finance", "Sales", "Engineering", "Support", "Board")

# The record types as the server serves them (its ledger's kinds, in serving order) and the
# file-name prefix each is parsed under; "release" files are named "delivery" too.
PREFIX = {"receipt": "receipt", "process": "process", "delivery": "delivery",
          "release": "delivery", "av": "av_tse", "ttp_ap": "ttp_ap",
          "spam": "spameventthread", "impersonation": "impersonation", "jrnl": "jrnl",
          "ttp_url": "ttp_url"}


# --- the events, in SQL ---------------------------------------------------------------------

def _quoted(values: tuple[str, ...]) -> str:
    return ", ".join("'" + value.replace("'", "''") + "'" for value in values)


# Each type reads the columns the server reads for it (services/logs/siem.py: what its
# renderer uses); times as the driver gives them (the server has the database format them).
_KEY = "m.id, m.received_at"
_FILE_COLUMNS = "a.name, a.size AS file_size, a.content_type, a.sha256, a.verdict, a.content"
_FILE_TOTALS = ("(SELECT count(*) FROM message_attachments a WHERE a.message_id = m.id) "
                "AS files, (SELECT coalesce(sum(a.size), 0) FROM message_attachments a "
                "WHERE a.message_id = m.id) AS file_bytes")
_DELIVERY = ("m.message_id, m.route, m.sender, m.subject, m.size, r.id AS copy, r.address, "
             f"r.status, r.reason, {_FILE_TOTALS}")
_WINDOW = "m.account_id = {p} AND m.received_at >= {p} AND m.received_at < {p}"
_COPIES = "messages m JOIN message_recipients r ON r.message_id = m.id"
_FILES = _COPIES + " JOIN message_attachments a ON a.message_id = m.id"
_ACCEPTED = f"r.reason_code NOT IN ({_quoted(mta.REFUSED_AT_RECEIPT)})"
_COPY_ORDER = "m.received_at, m.id, r.id"


@dataclass(frozen=True)
class RecordType:
    """One record type: its rows (one per event) as `SELECT <columns> FROM <source> WHERE
    <where> ORDER BY <order>`, with three parameters (account, window start and end);
    `{names}` in the columns is the backend's text aggregate of file names."""

    kind: str
    columns: str
    source: str
    where: str
    order: str

    def select(self, mark: str, names: str) -> str:
        return (f"SELECT {self.columns.format(names=names)} FROM {self.source} WHERE "
                f"{self.where.format(p=mark)} ORDER BY {self.order}")

    def count(self, mark: str) -> str:
        return f"SELECT count(*) FROM {self.source} WHERE {self.where.format(p=mark)}"


RECORD_TYPES = (
    RecordType("receipt",
               f"{_KEY}, m.message_id, m.route, m.sender, m.header_from, m.subject, "
               "m.sender_ip, m.spf, m.dkim, m.dmarc, m.spam_score, m.detection_level, "
               "r.original, r.reason, r.reason_code", _COPIES, _WINDOW, _COPY_ORDER),
    # One row a message (the server reads its accepted copies and groups them).
    RecordType("process",
               f"{_KEY}, m.message_id, m.sender, m.subject, m.size, m.impersonation, "
               "(SELECT {names} FROM message_attachments a "
               "WHERE a.message_id = m.id) AS names, "
               f"{_FILE_TOTALS}, (SELECT min(r.reason_code) FROM message_recipients r "
               "WHERE r.message_id = m.id AND r.status = 'held') AS held",
               "messages m",
               _WINDOW + " AND EXISTS (SELECT 1 FROM message_recipients r WHERE "
               f"r.message_id = m.id AND {_ACCEPTED})", "m.received_at, m.id"),
    RecordType("delivery", f"{_KEY}, {_DELIVERY}", _COPIES,
               _WINDOW + " AND r.status IN ('delivered', 'bounced') AND "
               "r.reason_code != 'released'", _COPY_ORDER),
    RecordType("release", f"{_KEY}, {_DELIVERY}, h.created_at AS released_at",
               "hold_actions h JOIN message_recipients r ON r.id = h.recipient_id "
               "JOIN messages m ON m.id = r.message_id",
               "h.account_id = {p} AND h.created_at >= {p} AND h.created_at < {p} "
               "AND h.action = 'released'", "h.created_at, h.id"),
    RecordType("av",
               f"{_KEY}, m.message_id, m.route, m.sender, m.sender_ip, m.subject, m.seed, "
               f"r.address, {_FILE_COLUMNS}", _FILES,
               f"{_WINDOW} AND {_ACCEPTED} AND a.verdict = 'malicious'", _COPY_ORDER + ", a.id"),
    RecordType("ttp_ap",
               f"{_KEY}, m.route, m.sender, m.sender_ip, m.seed, r.address, {_FILE_COLUMNS}",
               _FILES,
               f"{_WINDOW} AND {_ACCEPTED} AND m.route IN ({_quoted(mta.SCANNED_ROUTES)})",
               _COPY_ORDER + ", a.id"),
    RecordType("spam",
               f"{_KEY}, m.message_id, m.route, m.sender, m.header_from, m.sender_ip, "
               "m.subject, r.address", _COPIES,
               f"{_WINDOW} AND {_ACCEPTED} AND m.detection_level != ''", _COPY_ORDER),
    RecordType("impersonation",
               f"{_KEY}, m.message_id, m.route, m.sender, m.sender_ip, m.subject, "
               "m.impersonation, r.address, r.status, r.reason_code, r.policy", _COPIES,
               f"{_WINDOW} AND {_ACCEPTED} AND m.impersonation != ''", _COPY_ORDER),
    RecordType("jrnl", f"{_KEY}, m.route, m.sender, r.address", _COPIES,
               f"{_WINDOW} AND {_ACCEPTED} AND m.route = 'internal'", _COPY_ORDER),
    RecordType("ttp_url",
               "c.id, c.clicked_at, c.recipient, c.action, c.source_ip, l.url, "
               "l.action AS link_action, m.message_id, m.route, m.sender, m.subject",
               "link_clicks c JOIN message_links l ON l.id = c.link_id "
               "JOIN messages m ON m.id = l.message_id",
               "c.account_id = {p} AND c.clicked_at >= {p} AND c.clicked_at < {p}",
               "c.clicked_at, c.id"),
)


class Database:
    """Bare DB-API access to the store (sqlite3 or psycopg), as the baseline reads it."""

    def __init__(self, url: str) -> None:
        self.sqlite = url.startswith("sqlite")
        if self.sqlite:
            import sqlite3

            self.connection: Any = sqlite3.connect(url.removeprefix("sqlite:///"), timeout=30)
            self.mark = "?"
            self.names = "group_concat(a.name)"
        else:
            import psycopg

            self.connection = psycopg.connect(url)
            self.mark = "%s"
            self.names = "string_agg(a.name, ',')"

    def moment(self, when: datetime) -> Any:
        """A time as the store compares it (SQLite: the text SQLAlchemy writes)."""
        return when.strftime("%Y-%m-%d %H:%M:%S.%f") if self.sqlite else when

    def scalar(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        cursor = self.connection.cursor()
        cursor.execute(sql, params)
        row = cursor.fetchone()
        self.connection.commit()
        return row[0] if row else None

    def execute(self, sql: str) -> None:
        self.connection.cursor().execute(sql)
        self.connection.commit()

    @contextlib.contextmanager
    def rows(self, sql: str, params: tuple[Any, ...]) -> Iterator[tuple[list[str], Any]]:
        """The column names and a cursor streaming the rows (a server-side cursor on
        PostgreSQL, so nothing is fetched whole)."""
        cursor = (self.connection.cursor() if self.sqlite
                  else self.connection.cursor(name=f"baseline_{uuid.uuid4().hex[:8]}"))
        try:
            cursor.execute(sql, params)
            yield [d[0] for d in cursor.description], cursor
        finally:
            cursor.close()
            self.connection.commit()

    def close(self) -> None:
        self.connection.close()


# The tables the log is read from (their pages are read into memory before anything is timed).
LOG_TABLES = ("messages", "message_recipients", "message_attachments", "message_links",
              "link_clicks", "hold_actions")


def warm(url: str) -> float:
    """Read the store's log tables into the OS page cache (SQLite: the whole file;
    PostgreSQL: the tables and their indexes, with pg_prewarm), so that the drain and the
    baseline both read warm pages: otherwise whichever ran first would pay for the disk."""
    started = time.perf_counter()
    if url.startswith("sqlite"):
        path = Path(url.removeprefix("sqlite:///"))
        for part in (path, path.with_name(path.name + "-wal")):
            if part.exists():
                with part.open("rb") as handle:
                    while handle.read(1 << 23):
                        pass
        return time.perf_counter() - started
    db = Database(url)
    try:
        db.execute("CREATE EXTENSION IF NOT EXISTS pg_prewarm")
        names = ", ".join(f"'{table}'" for table in LOG_TABLES)
        db.scalar("SELECT sum(pg_prewarm(c.oid::regclass, 'read')) FROM pg_class c "
                  f"WHERE c.relname IN ({names}) OR c.oid IN (SELECT i.indexrelid FROM "
                  f"pg_index i JOIN pg_class t ON t.oid = i.indrelid WHERE t.relname IN "
                  f"({names}))")
    finally:
        db.close()
    return time.perf_counter() - started


def count_events(db: Database, account: int, start: datetime, end: datetime
                 ) -> dict[str, int]:
    window = (account, db.moment(start), db.moment(end))
    return {kind.kind: int(db.scalar(kind.count(db.mark), window)) for kind in RECORD_TYPES}


# --- the store ------------------------------------------------------------------------------

@dataclass
class Built:
    """A store the drain can run on (kept as DIR/store.json with `--keep`)."""

    url: str
    creds: dict[str, str]
    account: int
    anchor: str
    messages: int
    seed: int
    days: int
    users: int
    target: int
    database: str | None = None  # a PostgreSQL database this run made (dropped at the end)
    build_seconds: float = 0.0
    rate: float = 0.0

    @property
    def anchor_time(self) -> datetime:
        return datetime.fromisoformat(self.anchor)


def _slice_start(moment: datetime) -> datetime:
    seconds = int(moment.timestamp())
    return datetime.fromtimestamp(seconds - seconds % int(SLICE.total_seconds()), UTC)


def new_database(args: argparse.Namespace, folder: Path) -> tuple[str, str | None]:
    """A URL to an empty store: a SQLite file in `folder`, or a new PostgreSQL database."""
    if args.db is None:
        path = folder / "siem.db"
        for leftover in folder.glob("siem.db*"):
            leftover.unlink()
        return f"sqlite:///{path}", None
    import psycopg

    name = f"mimicast_bench_siem_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(args.db, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return args.db.rsplit("/", 1)[0] + f"/{name}", name


def drop_database(server: str, name: str) -> None:
    import psycopg

    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def populate(deps: Any, account: int, users: int) -> None:
    """`users` named users in the demo domain and five groups of them (the simulator's
    office: who sends to whom)."""
    from mimicast.services import identity, profiles
    from mimicast.services.context import Caller, Context
    from mimicast.services.demo import DEMO_DOMAIN
    from mimicast.sim import names

    with deps.store.unit() as unit:
        ctx = Context(deps, unit, Caller(account, "bench"))
        people = []
        for n in range(users):
            first = names.FIRST_NAMES[n % len(names.FIRST_NAMES)]
            last = names.LAST_NAMES[(n // len(names.FIRST_NAMES)) % len(names.LAST_NAMES)]
            address = f"{first}.{last}{n}@{DEMO_DOMAIN}".lower()
            identity.create_user(ctx, address, name=f"{first} {last}")
            people.append(address)
        for index, group in enumerate(GROUPS):
            profiles.create_group(ctx, group)
            for address in people[index::7][:40]:
                profiles.add_group_member(ctx, group, address)


def build(args: argparse.Namespace, folder: Path, env: dict[str, str]) -> Built:
    """A fresh store holding at least `args.events` events (see the module's notes)."""
    from sqlalchemy import select

    from mimicast.cli.common import open_deps, settings_from
    from mimicast.services.demo import DEMO_CODE
    from mimicast.sim import runs
    from mimicast.store.schema import Account

    url, database = new_database(args, folder)
    creds = init_credentials(env, url)
    deps = open_deps(settings_from(db=url))
    anchor = _slice_start(datetime.now(UTC)) - SLICE
    db = Database(url)
    try:
        with deps.store.session() as session:
            account = int(session.scalar(select(Account.id).where(Account.code == DEMO_CODE)))
        populate(deps, account, args.users)
        start = anchor - timedelta(days=args.days)
        started = time.perf_counter()
        last = [started]

        def progress(done: int, total: int) -> None:
            if time.perf_counter() - last[0] > 15:
                last[0] = time.perf_counter()
                rate = done / (last[0] - started)
                print(f"  … {done:,} of {total:,} messages ({rate:,.0f}/s)", flush=True)

        messages = min(args.sample, args.events)
        while True:
            runs.backfill(deps, account, seed=args.seed, messages=messages, days=args.days,
                          anchor=anchor, progress=progress)
            events = sum(count_events(db, account, start, anchor + SLICE).values())
            print(f"  {messages:,} messages: {events:,} events "
                  f"({events / messages:.3f} a message)", flush=True)
            if events >= args.events:
                break
            # Onwards to the messages the events a message gives so far need (a little more:
            # rounds are costly, a few extra events are not).
            messages = max(messages + 1, math.ceil(args.events / events * messages * 1.002))
        elapsed = time.perf_counter() - started
        if not db.sqlite:
            db.execute("ANALYZE")  # what autovacuum would do after the load, done now
    finally:
        db.close()
        deps.store.dispose()
    return Built(url=url, creds={"app_id": creds.app_id, "app_key": creds.app_key,
                                 "access_key": creds.access_key,
                                 "secret_key": creds.secret_key},
                 account=account, anchor=anchor.isoformat(), messages=messages,
                 seed=args.seed, days=args.days, users=args.users, target=args.events,
                 database=database, build_seconds=elapsed, rate=messages / elapsed)


def kept(args: argparse.Namespace, folder: Path) -> Built | None:
    """The store `--keep` left in `folder`, if it was built with these options."""
    path = folder / "store.json"
    if not path.exists():
        return None
    found = Built(**json.loads(path.read_text()))
    same = (found.seed, found.days, found.users, found.target) == (
        args.seed, args.days, args.users, args.events)
    same_place = found.url.startswith("sqlite") == (args.db is None) and (
        args.db is None or found.url.rsplit("/", 1)[0] == args.db.rsplit("/", 1)[0])
    if same and same_place:
        return found
    print(f"the store kept in {folder} was built with other options: building anew")
    if found.database is not None and args.db is not None:
        drop_database(args.db, found.database)
    path.unlink()
    return None


# --- the drain ------------------------------------------------------------------------------

def _status(pid: int) -> dict[str, float]:
    """VmRSS, RssAnon and RssFile of a process, in MiB."""
    found = {}
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "RssAnon", "RssFile"):
                found[key] = int(value.split()[0]) / 1024
    return found


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class RssSampler:
    """The server's memory every SAMPLE_EVERY seconds, in a thread, while the drain runs."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.samples: list[dict[str, float]] = [_status(pid)]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.wait(SAMPLE_EVERY):
            self.samples.append(_status(self.pid))

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.samples.append(_status(self.pid))

    def figures(self, key: str) -> tuple[float, float, float]:
        """Start, peak, and peak growth over the start."""
        values = [sample[key] for sample in self.samples if key in sample]
        return values[0], max(values), max(values) - values[0]

    @property
    def latest(self) -> float:
        return self.samples[-1].get("RssAnon", 0.0)


@dataclass
class Drain:
    events: collections.Counter[str] = field(default_factory=collections.Counter)
    files: int = 0
    bytes: int = 0
    seconds: float = 0.0
    server_cpu: float = 0.0
    client_cpu: float = 0.0


def drain(server: Server, built: Built, rss: RssSampler) -> Drain:
    """Every event from the first file to the caught-up answer, with the SDK."""
    import httpx

    from mimicast.client import Client

    outcome = Drain()

    def seen(response: httpx.Response) -> None:
        if "attachment" in response.headers.get("content-disposition", ""):
            outcome.files += 1
            outcome.bytes += int(response.headers.get("content-length", 0))

    creds = built.creds
    client = Client(f"http://127.0.0.1:{server.port}", creds["app_id"], creds["app_key"],
                    creds["access_key"], creds["secret_key"], timeout=600,
                    event_hooks={"response": [seen]})
    with client:
        cpu = _cpu_seconds(server.pid)
        own = time.process_time()
        started = last = time.perf_counter()
        total = 0
        for event in client.siem.events(file_format="json"):
            outcome.events[event["_type"]] += 1
            total += 1
            if not total % 50_000 and time.perf_counter() - last > 15:
                last = time.perf_counter()
                print(f"  … {total:,} events, {outcome.files:,} files "
                      f"({total / (last - started):,.0f} events/s; server RSS own "
                      f"{rss.latest:,.0f} MiB)", flush=True)
        outcome.seconds = time.perf_counter() - started
        outcome.server_cpu = _cpu_seconds(server.pid) - cpu
        outcome.client_cpu = time.process_time() - own
    return outcome


def served_files(db: Database) -> dict[str, list[int]]:
    """The record count of each file served, per kind, in order (the server's ledger)."""
    sizes: dict[str, list[int]] = collections.defaultdict(list)
    cursor = db.connection.cursor()
    cursor.execute("SELECT kind, events FROM collector_ledger WHERE log = 'siem' ORDER BY id")
    for kind, events in cursor.fetchall():
        sizes[kind].append(int(events))
    db.connection.commit()
    return sizes


# --- the baseline ---------------------------------------------------------------------------

@dataclass
class Baseline:
    events: dict[str, int] = field(default_factory=dict)
    members: int = 0
    bytes: int = 0
    seconds: float = 0.0
    cpu: float = 0.0


def baseline(db: Database, account: int, start: datetime, end: datetime,
             sizes: dict[str, list[int]]) -> Baseline:
    """Each record type's rows made JSON objects and zipped in members of the served files'
    record counts."""
    outcome = Baseline()
    window = (account, db.moment(start), db.moment(end))
    began, own = time.perf_counter(), time.process_time()
    for kind in RECORD_TYPES:
        counts = sizes.get(kind.kind, [])
        done = 0
        with db.rows(kind.select(db.mark, db.names), window) as (columns, cursor):
            for index, count in enumerate(counts):
                rows = cursor.fetchmany(count)
                records = [dict(zip(columns, row, strict=True)) for row in rows]
                body = orjson.dumps({"type": "MTA", "data": records})
                buffer = io.BytesIO()
                with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED,
                                     compresslevel=1) as archive:
                    archive.writestr(f"{kind.kind}_{index}.json", body)
                outcome.bytes += len(buffer.getvalue())
                outcome.members += 1
                done += len(rows)
            done += len(cursor.fetchmany(1))  # rows the served files did not hold: a mismatch
        outcome.events[kind.kind] = done
    outcome.seconds = time.perf_counter() - began
    outcome.cpu = time.process_time() - own
    return outcome


# --- the run --------------------------------------------------------------------------------

def by_prefix(counts: dict[str, int]) -> dict[str, int]:
    merged: collections.Counter[str] = collections.Counter()
    for kind, count in counts.items():
        merged[PREFIX[kind]] += count
    return dict(merged)


def start_profile(args: argparse.Namespace, pid: int) -> subprocess.Popen[str] | None:
    if not args.profile:
        return None
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(spy).exists():
        print("profile: py-spy not found (pip install py-spy into the venv)")
        return None
    recorder = subprocess.Popen([spy, "record", "--pid", str(pid), "--rate", "200",
                                 "--nonblocking", "--format", "raw", "--output", args.profile],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)  # let py-spy attach
    return recorder


def stop_profile(args: argparse.Namespace, recorder: subprocess.Popen[str] | None,
                 events: int, seconds: float) -> None:
    """py-spy's samples of the server's request path, top functions in µs per event."""
    if recorder is None:
        return
    recorder.send_signal(signal.SIGINT)  # py-spy writes its file when interrupted
    recorder.communicate(timeout=120)
    out = Path(args.profile)
    if not out.exists():
        print("profile: py-spy wrote nothing")
        return
    self_time: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in out.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if "get_siem_logs" not in stack:
            continue
        count = int(count_text)
        frames = [frame.rsplit(":", 1)[0] + ")" if frame.endswith(")") else frame
                  for frame in stack.split(";")]
        total += count
        self_time[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
    if not total:
        print("profile: no samples in get_siem_logs")
        return
    per_event = total / 200 / events * 1e6  # samples at 200 Hz → µs of server time
    print(f"\nprofile: {total / 200:.1f} s sampled in get_siem_logs of the drain's "
          f"{seconds:.1f} s ({per_event:.1f} us an event); raw stacks in {out}")
    for title, table in (("self", self_time), ("inclusive", inclusive)):
        print(f"  top by {title} time (share, us per event):")
        for frame, count in table.most_common(25):
            print(f"    {count / total:6.1%} {count / total * per_event:6.2f}  {frame}")


def run(args: argparse.Namespace, folder: Path, env: dict[str, str]) -> int:
    built = kept(args, folder) if args.keep else None
    backend = "PostgreSQL" if args.db else "SQLite"
    if built is None:
        print(f"{backend}: building a store of at least {args.events:,} events (seed "
              f"{args.seed}, {args.days} days, {args.users} users) …", flush=True)
        built = build(args, folder, env)
        print(f"  backfilled {built.messages:,} messages in {built.build_seconds:.0f} s "
              f"({built.rate:,.0f} messages/s)")
        if args.keep:
            (folder / "store.json").write_text(json.dumps(built.__dict__, indent=1))
    else:
        print(f"{backend}: the store kept in {folder} ({built.messages:,} messages)")
    try:
        return measure(args, built, folder, env)
    finally:
        if built.database is not None and not args.keep:
            drop_database(args.db, built.database)


def measure(args: argparse.Namespace, built: Built, folder: Path, env: dict[str, str]) -> int:
    now = datetime.now(UTC)
    data_start = built.anchor_time - timedelta(days=built.days)
    # A kept store ages: the retention is stretched to keep its oldest mail in the log.
    retention = max(RETENTION_DAYS, math.ceil((now - data_start) / timedelta(days=1)))
    oldest = _slice_start(now - timedelta(days=retention))
    end = _slice_start(now)
    db = Database(built.url)
    try:
        expected = count_events(db, built.account, oldest, end)
        db.execute("DELETE FROM collector_ledger")  # the drain starts at the oldest slice
    finally:
        db.close()
    total = sum(expected.values())
    print(f"events in the store: {total:,} ("
          + ", ".join(f"{kind} {count:,}" for kind, count in expected.items() if count) + ")")
    if retention != RETENTION_DAYS:
        print(f"  (the kept store's mail began {data_start:%Y-%m-%d %H:%M}: log retention "
              f"{retention} days)")
    print(f"the store's pages read into the page cache in {warm(built.url):.1f} s", flush=True)
    argv = [sys.executable, "-m", "mimicast", "serve", "--port", "{port}", "--db", built.url,
            "--rate-limit", "1000000000", "--log-retention-days", str(retention)]
    server = Server("mimicast", argv, env, folder / "server.log")
    try:
        server.wait_ready()
        time.sleep(1.0)  # let the server settle before its RSS is read
        print("draining through the API (SDK, json, compressed) …", flush=True)
        recorder = start_profile(args, server.pid)
        with RssSampler(server.pid) as rss:
            drained = drain(server, built, rss)
        stop_profile(args, recorder, sum(drained.events.values()), drained.seconds)
    finally:
        server.stop()
    db = Database(built.url)
    try:
        sizes = served_files(db)
        print("baseline: the same rows with a bare cursor, JSON objects, zipped …", flush=True)
        bare = baseline(db, built.account, oldest, end, sizes)
    finally:
        db.close()

    drained_total = sum(drained.events.values())
    bare_total = sum(bare.events.values())
    rate, bare_rate = drained_total / drained.seconds, bare_total / bare.seconds
    ratio = rate / bare_rate
    mib = 1024 * 1024
    print(f"\n{'':10} {'events':>12} {'files':>7} {'MB':>8} {'seconds':>8} {'events/s':>10} "
          f"{'CPU us/event':>13}")
    print(f"{'drain':10} {drained_total:12,} {drained.files:7,} {drained.bytes / mib:8.1f} "
          f"{drained.seconds:8.1f} {rate:10,.0f} {drained.server_cpu / drained_total * 1e6:13.1f}"
          f"  (server; the SDK: {drained.client_cpu / drained_total * 1e6:.1f})")
    print(f"{'baseline':10} {bare_total:12,} {bare.members:7,} {bare.bytes / mib:8.1f} "
          f"{bare.seconds:8.1f} {bare_rate:10,.0f} {bare.cpu / bare_total * 1e6:13.1f}"
          "  (this process)")
    print(f"ratio drain / baseline: {ratio:.2f} (target >= {RATIO_TARGET}: "
          f"{'met' if ratio >= RATIO_TARGET else 'NOT met'}); CPU per event baseline / server: "
          f"{bare.cpu / bare_total / (drained.server_cpu / drained_total):.2f}")
    start, peak, growth = rss.figures("RssAnon")
    vm_start, vm_peak, vm_growth = rss.figures("VmRSS")
    print(f"server RSS, own (RssAnon): start {start:,.1f} MiB, peak {peak:,.1f}, growth "
          f"{growth:,.1f} (target <= {RSS_TARGET_MB:g} MB: "
          f"{'met' if growth * mib <= RSS_TARGET_MB * 1e6 else 'NOT met'}); "
          f"{len(rss.samples)} samples")
    print(f"server VmRSS (with the store's mapped pages): start {vm_start:,.1f} MiB, peak "
          f"{vm_peak:,.1f}, growth {vm_growth:,.1f}")
    problems = []
    if dict(drained.events) != {k: v for k, v in by_prefix(expected).items() if v}:
        problems.append(f"drained {dict(drained.events)} but the store holds "
                        f"{by_prefix(expected)}")
    if bare.events != expected:
        problems.append(f"the baseline read {bare.events}, the store holds {expected}")
    if problems:
        raise Invalid("; ".join(problems))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--db", default=None, metavar="URL",
                        help="a PostgreSQL server (a fresh database is made on it)")
    parser.add_argument("--keep", default=None, metavar="DIR",
                        help="build the store in DIR and keep it; reuse it on later runs")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--days", type=int, default=6)
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--sample", type=int, default=20_000,
                        help="messages simulated first to learn the events a message gives")
    parser.add_argument("--profile", metavar="FILE", default=None,
                        help="py-spy the server during the drain; raw stacks to FILE")
    args = parser.parse_args()
    if args.events < 1000 or args.users < 10 or args.sample < 100:
        parser.error("--events at least 1000, --users at least 10, --sample at least 100")
    if not 1 <= args.days < RETENTION_DAYS:
        parser.error(f"--days from 1 to {RETENTION_DAYS - 1} (inside the log's retention)")
    if args.db is not None and not args.db.startswith(("postgresql://", "postgres://")):
        parser.error("--db takes a postgresql:// URL")
    with contextlib.suppress(OSError, AttributeError):
        os.sched_setaffinity(0, {int(LOAD_CPU)})  # the server has CPU 0 (signed_calls.Server)
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="mimicast-siem-"))
    folder.mkdir(parents=True, exist_ok=True)
    env = clean_env(folder / "home")
    try:
        return run(args, folder, env)
    except Invalid as error:
        print(f"\n*** INVALID RUN: {error} ***", file=sys.stderr)
        log = folder / "server.log"
        if log.exists():
            print("\n".join(log.read_text(errors="replace").splitlines()[-20:]),
                  file=sys.stderr)
        return 1
    finally:
        if args.keep:
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
