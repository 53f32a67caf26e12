"""The database engine and its units of work: SQLite (WAL) by default, PostgreSQL by URL.

SQLite has one writer at a time. A transaction that starts as a reader and then writes
(`BEGIN` DEFERRED) cannot wait for the lock when another writer got there first: SQLite
answers "database is locked" at once, whatever the busy timeout. So a unit of work says up
front what it is: a write unit takes this process's writer lock and then `BEGIN IMMEDIATE`
(which waits, up to the busy timeout, for writers in other processes); a read unit begins
DEFERRED under `PRAGMA query_only`, reads a WAL snapshot without waiting for anyone, and is
refused if it tries to write. A plain ORM session (`Store.session()`, for reads outside a
unit) begins DEFERRED as SQLAlchemy would. PostgreSQL needs none of this.
"""

from __future__ import annotations

import contextlib
import functools
import os
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from mimicast.store.unit import Unit

MIGRATIONS = Path(__file__).parent / "migrations"
T = TypeVar("T")

# Whether `PRAGMA query_only` is on, kept in the connection's info (it lasts per connection).
_QUERY_ONLY = "mimicast_query_only"
READ, WRITE = "read", "write"
_BEGIN = {READ: "BEGIN", WRITE: "BEGIN IMMEDIATE", None: "BEGIN"}
BUSY_TIMEOUT_MS = 30_000
# Pages read through a memory map (shared by every connection, kept by the OS page cache)
# rather than copied into each connection's 2 MB cache: reads across a store larger than
# that no longer cost a read() and a copy per page.
MMAP_BYTES = 1 << 30


def normalise_url(url: str) -> str:
    """`postgresql://` means psycopg 3 here (the driver we install)."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _private_file(database: str) -> None:
    """The SQLite file and the folder made for it readable by the owner only: they hold
    password hashes and encrypted secrets. SQLite gives its -wal and -shm files the
    database file's mode."""
    path = Path(database)
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True)
    if not path.exists():
        with contextlib.suppress(FileExistsError):
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    elif path.stat().st_mode & 0o077 and path.owner() == Path.home().owner():
        path.chmod(0o600)  # made by an earlier version, world-readable


def sqlite_begin(info: dict[Any, Any], driver: Any, mode: str | None = None) -> None:
    """Begin a SQLite transaction in `mode` (READ, WRITE, or None: DEFERRED), straight on the
    driver, with `PRAGMA query_only` on for reads (`info`: the connection's, which keeps the
    pragma's state)."""
    reading = mode == READ
    if info.get(_QUERY_ONLY, False) != reading:
        driver.execute(f"PRAGMA query_only={'ON' if reading else 'OFF'}")
        info[_QUERY_ONLY] = reading
    driver.execute(_BEGIN[mode])


def make_engine(url: str, connections: int = 5) -> Engine:
    """An engine whose pool keeps `connections` open (more are opened when needed)."""
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, pool_size=connections, max_overflow=20)
    if parsed.database and parsed.database != ":memory:":
        _private_file(parsed.database)
    engine = create_engine(url, pool_size=connections, max_overflow=20,
                           connect_args={"check_same_thread": False,
                                         "timeout": BUSY_TIMEOUT_MS / 1000})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        # SQLAlchemy, not pysqlite, begins transactions (the listener below), so that
        # SAVEPOINTs work and each transaction says whether it writes.
        dbapi_connection.isolation_level = None
        for pragma in ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON",
                       f"busy_timeout={BUSY_TIMEOUT_MS}", f"mmap_size={MMAP_BYTES}"):
            dbapi_connection.execute(f"PRAGMA {pragma}")

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        driver = connection.connection.driver_connection
        assert driver is not None
        if driver.in_transaction:  # a unit began it already; the session joins
            return
        sqlite_begin(connection.info, driver, None)  # a plain session: DEFERRED

    return engine


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (Alembic)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        if sqlite:
            # SQLite alters a table by copying it and dropping the original; with foreign keys
            # on, that drop would cascade into every child table (bindings, memberships…).
            # The pragma only takes effect outside a transaction, hence the raw connection.
            connection.connection.dbapi_connection.execute(  # type: ignore[union-attr]
                "PRAGMA foreign_keys=OFF")
        try:
            with connection.begin():
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").first()
                    if broken is not None:
                        raise RuntimeError(f"migration left a dangling reference: {broken}")
        finally:
            if sqlite:
                connection.connection.dbapi_connection.execute(  # type: ignore[union-attr]
                    "PRAGMA foreign_keys=ON")


def is_write_conflict(error: DBAPIError) -> bool:
    """A transaction lost a race and may simply be run again: PostgreSQL's serialization
    failure, deadlock, or unique violation (a concurrent transaction inserted the key this
    one had checked was free: the rerun sees its row), or SQLite's "database is locked" once
    another process held the write lock past the busy timeout. (SQLite's writers take turns,
    so a unique violation there is no race.)"""
    code = getattr(error.orig, "sqlstate", None)
    return code in {"40001", "40P01", "23505"} or "database is locked" in str(error.orig)


WRITE_CONFLICT_ATTEMPTS = 5


def retrying(work: Callable[[], T]) -> T:
    """Run a unit of work (one transaction, start to commit) again if it lost a write race."""
    for attempt in range(WRITE_CONFLICT_ATTEMPTS):
        try:
            return work()
        except DBAPIError as error:
            if not is_write_conflict(error) or attempt == WRITE_CONFLICT_ATTEMPTS - 1:
                raise
            time.sleep(0.01 * (attempt + 1) * (1 + random.random()))
    raise AssertionError("unreachable")


def _implicit(_driver: Any) -> None:
    """psycopg begins a transaction with the first statement (it is not in autocommit)."""


class WouldWait(Exception):
    """A write unit asked not to wait could not begin at once."""


def _begin_writing_now(info: dict[Any, Any], driver: Any) -> None:
    """`BEGIN IMMEDIATE` that fails at once, not after the busy timeout, when another
    process holds SQLite's write lock."""
    driver.execute("PRAGMA busy_timeout=0")
    try:
        sqlite_begin(info, driver, WRITE)
    except sqlite3.OperationalError as error:
        if "locked" in str(error) or "busy" in str(error):
            raise WouldWait from None
        raise
    finally:
        driver.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")


class Store:
    """An engine, its ORM session factory and its units of work; one per process."""

    def __init__(self, url: str, connections: int = 5) -> None:
        self.url = normalise_url(url)
        self.engine = make_engine(self.url, connections)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.sqlite = self.engine.dialect.name == "sqlite"
        # Writers of this process queue here rather than in SQLite's busy loop, which
        # polls with sleeps of up to 100 ms.
        self._writer = threading.Lock()
        self._held = threading.local()

    def migrate(self) -> None:
        migrate(self.engine)

    def session(self) -> Session:
        """A standalone ORM session, for reading outside a unit (tests, look-ups); changes
        belong in a write unit, which never waits on SQLite's lock mid-transaction."""
        return self.sessions()

    def hold(self) -> Connection:
        """Keep one connection for the calling thread: its units then run on it, with no
        checkout from the pool. For threads that do nothing but store work."""
        connection = self.engine.connect()
        self._held.connection = connection
        return connection

    @contextlib.contextmanager
    def pinned(self) -> Iterator[Connection]:
        """The calling thread's units run on one connection until the block ends: for a bulk
        writer that sets pragmas on it. A thread that holds one (`hold`) keeps using it."""
        held: Connection | None = getattr(self._held, "connection", None)
        if held is not None and not held.closed:
            yield held
            return
        connection = self.engine.connect()
        self._held.connection = connection
        try:
            yield connection
        finally:
            self._held.connection = None
            connection.close()

    @contextlib.contextmanager
    def unit(self, *, write: bool = True, wait: bool = True) -> Iterator[Unit]:
        """One transaction, committed when the block ends and rolled back if it raises.
        `write=False` promises not to write (on SQLite the store holds it to that).
        `wait=False`: raise `WouldWait` rather than wait for SQLite's writer (another thread
        or process holding it), before anything is done."""
        held: Connection | None = getattr(self._held, "connection", None)
        connection = held if held is not None and not held.closed else self.engine.connect()
        lock = self._writer if write and self.sqlite else None
        locked = False
        try:
            if lock is not None:
                locked = lock.acquire(blocking=wait)
                if not locked:
                    raise WouldWait
            with Unit(connection) as unit:
                if not self.sqlite:
                    unit.begin(_implicit)
                elif write and not wait:
                    unit.begin(functools.partial(_begin_writing_now, connection.info))
                else:
                    unit.begin(functools.partial(sqlite_begin, connection.info,
                                                 mode=WRITE if write else READ))
                yield unit
        finally:
            if locked:
                assert lock is not None
                lock.release()
            if connection is not held:
                connection.close()

    def dispose(self) -> None:
        self.engine.dispose()
