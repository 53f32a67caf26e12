"""A unit of work: one transaction, seen two ways.

Compiled queries (`store.query`) run on the driver connection directly; the ORM session, for
code that loads and changes mapped objects, is opened on first use and joins the same
transaction. The unit begins, commits and rolls back on the driver itself: SQLAlchemy's own
transaction bookkeeping (events, nesting state) cost ~30 µs a unit, several times a short
query. When the session is used, SQLAlchemy's transaction is opened over the one already
running (the engine's begin listener sees it and sends nothing), and the unit ends it through
SQLAlchemy so the session stays in step.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.orm import Session

_SAVEPOINTS = itertools.count(1)


class Unit:
    def __init__(self, connection: Connection, session: Session | None = None) -> None:
        self.connection = connection
        self.dialect = connection.dialect
        self._session = session
        # An ORM session someone else opened and will commit (`over`): this unit only reads
        # and writes through it.
        self._borrowed = session is not None
        self._driver: Any = None
        self._open = False

    @classmethod
    def over(cls, session: Session) -> Unit:
        """The unit of an ORM session someone else opened and will commit (the CLI, tests)."""
        return cls(session.connection(), session=session)

    def begin(self, start: Callable[[Any], None]) -> None:
        """Begin on the driver: `start(driver)` sends what this backend and mode need."""
        start(self.raw)
        self._open = True

    @property
    def session(self) -> Session:
        if self._session is None:
            # Joined, not owned: the unit commits. A rollback through the session ends the
            # unit's transaction (one failed item of a one-item request).
            self._session = Session(bind=self.connection, expire_on_commit=False,
                                    join_transaction_mode="rollback_only")
        return self._session

    @property
    def raw(self) -> Any:
        """The DBAPI connection (one for the unit's whole life)."""
        if self._driver is None:
            self._driver = self.connection.connection.driver_connection
        return self._driver

    @property
    def driver(self) -> Any:
        """The DBAPI connection, with the session's pending changes written first, so a
        compiled query sees what the ORM did earlier in the unit (as autoflush would)."""
        if self._session is not None:
            self._session.flush()
        return self.raw

    @contextlib.contextmanager
    def savepoint(self) -> Iterator[None]:
        """Work that may fail and be caught: the failure then undoes only that work (on
        PostgreSQL a failed statement otherwise spoils the whole transaction). Sent at once,
        straight to the driver — the ORM's `begin_nested()` is lazy, and compiled statements
        never make it send its SAVEPOINT. On failure the session forgets what it had loaded,
        as that may be what was undone."""
        name = f"mimicast_{next(_SAVEPOINTS)}"
        self.driver.execute(f"SAVEPOINT {name}")  # the session's earlier changes go first
        try:
            yield
            self.driver.execute(f"RELEASE SAVEPOINT {name}")  # with the block's changes
        except BaseException:
            self.raw.execute(f"ROLLBACK TO SAVEPOINT {name}")  # no flush: undoing
            self.raw.execute(f"RELEASE SAVEPOINT {name}")
            if self._session is not None:
                self._session.expunge_all()
            raise

    def rollback(self) -> None:
        """Undo everything the unit did; it then commits nothing."""
        if self._borrowed:
            assert self._session is not None
            self._session.rollback()
            return
        self._end(commit=False)

    def _end(self, commit: bool) -> None:
        if not self._open:
            return
        try:
            if self.connection.in_transaction():  # the session joined: end it through it
                if commit:
                    self.connection.commit()
                else:
                    self.connection.rollback()
            elif commit:
                self.raw.commit()
            else:
                self.raw.rollback()
        except BaseException:
            self._abandon()
            raise
        self._open = False

    def _abandon(self) -> None:
        """Roll back whatever is still open after a failure (a failed commit may leave
        SQLite's transaction running)."""
        self._open = False
        with contextlib.suppress(Exception):
            if self.connection.in_transaction():
                self.connection.rollback()
        with contextlib.suppress(Exception):
            self.raw.rollback()

    def __enter__(self) -> Unit:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        if self._borrowed:
            return
        session, self._session = self._session, None
        try:
            if kind is None and self._open and session is not None:
                session.flush()
            self._end(commit=kind is None)
        except BaseException:
            self._abandon()
            raise
        finally:
            if session is not None:
                session.close()
