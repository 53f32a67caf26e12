"""A unit of work: one transaction, seen two ways.

Compiled queries (`store.query`) run on the driver connection directly; the ORM session, for
code that loads and changes mapped objects, is opened on first use and joins the same
transaction. A request that only reads never pays for a session.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator
from types import TracebackType
from typing import Any

from sqlalchemy import Connection, RootTransaction
from sqlalchemy.orm import Session

_SAVEPOINTS = itertools.count(1)


class Unit:
    def __init__(self, connection: Connection, transaction: RootTransaction | None = None,
                 session: Session | None = None) -> None:
        self.connection = connection
        self._transaction = transaction
        self._session = session

    @classmethod
    def over(cls, session: Session) -> Unit:
        """The unit of an ORM session someone else opened and will commit (the CLI, tests)."""
        return cls(session.connection(), session=session)

    @property
    def session(self) -> Session:
        if self._session is None:
            # Joined, not owned: the unit commits. A rollback through the session ends the
            # unit's transaction (one failed item of a one-item request), a savepoint's only
            # that savepoint.
            self._session = Session(bind=self.connection, expire_on_commit=False,
                                    join_transaction_mode="rollback_only")
        return self._session

    @property
    def driver(self) -> Any:
        """The DBAPI connection, with the session's pending changes written first, so a
        compiled query sees what the ORM did earlier in the unit (as autoflush would)."""
        if self._session is not None:
            self._session.flush()
        return self.connection.connection.driver_connection

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
            driver: Any = self.connection.connection.driver_connection  # no flush: undoing
            driver.execute(f"ROLLBACK TO SAVEPOINT {name}")
            driver.execute(f"RELEASE SAVEPOINT {name}")
            if self._session is not None:
                self._session.expunge_all()
            raise

    def rollback(self) -> None:
        """Undo everything the unit did; it then commits nothing."""
        if self._session is not None:
            self._session.rollback()  # joined "rollback_only": this ends the transaction
        if self._transaction is not None and self._transaction.is_active:
            self._transaction.rollback()

    def __enter__(self) -> Unit:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        session, self._session = self._session, None
        if session is None or self._transaction is None:
            return
        try:
            if kind is None and self._transaction.is_active:
                session.flush()
        finally:
            session.close()
