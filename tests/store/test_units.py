"""Units of work: writers take turns instead of failing, readers never wait and never write,
and the SQLite file is private."""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.exc import OperationalError

from mimicast.store.engine import Store
from mimicast.store.query import Query
from mimicast.store.schema import Account, AuditEvent

WHEN = datetime(2026, 1, 1, tzinfo=UTC)
_ADD = Query(insert(AuditEvent).values(account_id=bindparam("account"), actor="t",
                                       category="c", event_type="t", info="",
                                       created_at=bindparam("at")))
_COUNT = Query(select(func.count()).select_from(AuditEvent))


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    store = Store(store_url)
    store.migrate()
    yield store
    store.dispose()


def _account(store: Store) -> int:
    with store.unit() as unit:
        account = Account(code="CU1", name="U", region="us", created_at=WHEN)
        unit.session.add(account)
        unit.session.flush()
        return account.id


def test_concurrent_writers_all_commit(store: Store) -> None:
    """16 threads, each a read-then-write unit 25 times: on SQLite a deferred transaction
    would get "database is locked" here; write units queue and all commit."""
    account = _account(store)
    errors: list[BaseException] = []

    def writer() -> None:
        try:
            for _ in range(25):
                with store.unit() as unit:
                    _COUNT.scalar(unit)  # read first: the classic lock upgrade
                    _ADD.execute(unit, account=account, at=WHEN)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=writer) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with store.unit(write=False) as unit:
        assert _COUNT.scalar(unit) == 16 * 25


def test_a_reader_does_not_wait_for_a_writer(store: Store) -> None:
    """A write unit stays open in another thread until the read has finished: if reads
    waited for the writer, this would never end (the joins would time out)."""
    account = _account(store)
    wrote, read = threading.Event(), threading.Event()

    def writer() -> None:
        with store.unit() as unit:
            _ADD.execute(unit, account=account, at=WHEN)
            wrote.set()
            read.wait(30)

    thread = threading.Thread(target=writer)
    thread.start()
    assert wrote.wait(30)
    with store.unit(write=False) as unit:
        assert _COUNT.scalar(unit) == 0  # the writer's change is not committed yet
    read.set()
    thread.join(30)
    assert not thread.is_alive()
    with store.unit(write=False) as unit:
        assert _COUNT.scalar(unit) == 1


def test_a_read_unit_cannot_write_on_sqlite(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'ro.db'}")
    store.migrate()
    account = _account(store)
    with pytest.raises(OperationalError, match="readonly"), store.unit(write=False) as unit:
        _ADD.execute(unit, account=account, at=WHEN)
    with store.unit() as unit:  # the same connection writes again in a write unit
        _ADD.execute(unit, account=account, at=WHEN)
    store.dispose()


def test_a_held_connection_serves_every_unit_of_its_thread(store: Store) -> None:
    held = store.hold()
    with store.unit() as first:
        assert first.connection is held
    with store.unit(write=False) as second:
        assert second.connection is held
    held.close()
    with store.unit(write=False) as third:  # closed: back to the pool
        assert third.connection is not held


def test_a_unit_rolls_back_on_error_and_its_session_joins_it(store: Store) -> None:
    account = _account(store)
    with pytest.raises(RuntimeError), store.unit() as unit:
        unit.session.add(AuditEvent(account_id=account, actor="orm", category="c",
                                    event_type="t", info="", created_at=WHEN))
        _ADD.execute(unit, account=account, at=WHEN)
        raise RuntimeError
    with store.unit() as unit:
        unit.session.add(AuditEvent(account_id=account, actor="orm", category="c",
                                    event_type="t", info="", created_at=WHEN))
        unit.rollback()  # a failed one-item request
    with store.unit(write=False) as unit:
        assert _COUNT.scalar(unit) == 0


def test_the_sqlite_file_and_its_folder_are_private(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        path = tmp_path / "data" / "mimicast.db"
        store = Store(f"sqlite:///{path}")
        store.migrate()
        store.dispose()
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    for companion in path.parent.glob("mimicast.db-*"):  # -wal, -shm
        assert stat.S_IMODE(companion.stat().st_mode) & 0o077 == 0, companion
    # A file an earlier version left world-readable is made private.
    path.chmod(0o644)
    Store(f"sqlite:///{path}").dispose()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_savepoint_undoes_only_its_own_work(store: Store) -> None:
    """What the dispatcher wraps each item of a several-item request in: sent at once, even
    when only compiled statements run inside (the ORM's begin_nested() would send nothing)."""
    account = _account(store)
    with store.unit() as unit:
        _ADD.execute(unit, account=account, at=WHEN)  # before: kept
        unit.session.add(AuditEvent(account_id=account, actor="orm-before", category="c",
                                    event_type="t", info="", created_at=WHEN))
        with pytest.raises(RuntimeError), unit.savepoint():
            _ADD.execute(unit, account=account, at=WHEN)  # undone
            unit.session.add(AuditEvent(account_id=account, actor="orm-inside",
                                        category="c", event_type="t", info="",
                                        created_at=WHEN))
            unit.session.flush()
            raise RuntimeError
        assert len(unit.session.identity_map) == 0  # what was loaded may have been undone
        with unit.savepoint():
            _ADD.execute(unit, account=account, at=WHEN)  # after: kept
    with store.unit(write=False) as unit:
        actors = Query(select(AuditEvent.actor).order_by(AuditEvent.id)).scalars(unit)
    assert actors == ["t", "orm-before", "t"]


def test_a_write_that_must_not_wait_says_so_before_doing_anything(tmp_path: Path) -> None:
    """What lets the server try a write on its event loop: when the writer is busy — one of
    this process's threads, or another process — `wait=False` raises WouldWait at once."""
    import sqlite3

    from mimicast.store.engine import WouldWait

    path = tmp_path / "w.db"
    store = Store(f"sqlite:///{path}")
    store.migrate()
    account = _account(store)
    inside, leave = threading.Event(), threading.Event()

    def writer() -> None:
        with store.unit():
            inside.set()
            leave.wait(30)

    thread = threading.Thread(target=writer)
    thread.start()
    assert inside.wait(30)
    with pytest.raises(WouldWait), store.unit(wait=False) as unit:
        _ADD.execute(unit, account=account, at=WHEN)
    leave.set()
    thread.join(30)

    other = sqlite3.connect(path, isolation_level=None)  # another process, as SQLite sees it
    other.execute("BEGIN IMMEDIATE")
    with pytest.raises(WouldWait), store.unit(wait=False) as unit:
        _ADD.execute(unit, account=account, at=WHEN)
    other.execute("COMMIT")
    other.close()
    with store.unit(wait=False) as unit:  # free again: it writes, and waits for nobody
        _ADD.execute(unit, account=account, at=WHEN)
    with store.unit(write=False) as unit:
        assert _COUNT.scalar(unit) == 1
        # the busy timeout is back for everyone else
        assert unit.raw.execute("PRAGMA busy_timeout").fetchone()[0] == 30_000
    store.dispose()
