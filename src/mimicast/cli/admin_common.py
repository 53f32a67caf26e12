"""What the `mimicast admin …` commands share: options, one unit of work per command, password
input, and output (a rich table for people, `--json` for scripts)."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from mimicast.cli.common import (
    console,
    fail,
    failures_as_exit,
    open_deps,
    print_json,
    settings_from,
)

if TYPE_CHECKING:
    from mimicast.services.context import Context, Deps

ACTOR = "cli"  # the audit trail's actor for every change made from the command line

Db = Annotated[str | None, typer.Option(
    "--db", help="Database URL (default: SQLite in the data directory).", envvar="MIMICAST_DB")]
AccountCode = Annotated[str | None, typer.Option(
    "--account", help="Account code (default: the only account in the store).",
    envvar="MIMICAST_ACCOUNT")]
Json = Annotated[bool, typer.Option("--json", help="Print JSON (for scripts).")]


@contextlib.contextmanager
def store(db: str | None) -> Iterator[Deps]:
    """The store for one command, disposed afterwards; a bad URL is one line, not a traceback."""
    deps = open_deps(settings_from(db=db))
    try:
        yield deps
    finally:
        deps.store.dispose()


@contextlib.contextmanager
def conflicts_as_exit() -> Iterator[None]:
    """A write the database's constraints refuse becomes one line and exit code 1."""
    from sqlalchemy.exc import IntegrityError

    try:
        yield
    except IntegrityError as error:
        raise fail("the change conflicts with existing data: "
                   f"{str(error.orig).splitlines()[0]}") from None


@contextlib.contextmanager
def writing(deps: Deps) -> Iterator[Any]:
    """The ORM session of one write unit outside any account, committed at the end. A write
    unit waits its turn behind a running server's writers instead of failing half-way with
    "database is locked"."""
    with failures_as_exit(), conflicts_as_exit(), deps.store.unit() as work:
        yield work.session


@contextlib.contextmanager
def unit(deps: Deps, account: str | None) -> Iterator[Context]:
    """One unit of work on one account, committed once at the end; ApiError (and a write the
    database's constraints refuse) becomes one line and exit code 1. The work's follow-ups
    (a failed sync's record) run once it has ended, committed or not."""
    from mimicast.services import identity
    from mimicast.services.context import Caller, Context

    with failures_as_exit(), conflicts_as_exit():
        ctx: Context | None = None
        try:
            with deps.store.unit() as work:
                found = identity.find_account(work.session, account)
                ctx = Context(deps, work, Caller(account_id=found.id, actor=ACTOR))
                yield ctx
        finally:
            if ctx is not None:
                ctx.run_followups()


def read_password(given: str | None, label: str = "Password") -> str:
    """The flag's value; otherwise a hidden prompt on a terminal; otherwise a clear error."""
    from mimicast.wire.errors import ApiError

    with failures_as_exit():
        if given is not None:
            if not given:
                raise ApiError("err_validation_blank", field="password")
            return given
        if not sys.stdin.isatty():
            raise ApiError("err_validation_null", message=(
                "no password given: pass --password, or run on a terminal to be prompted"))
        value: str = typer.prompt(label, hide_input=True, confirmation_prompt=True)
        if not value:
            raise ApiError("err_validation_blank", field="password")
        return value


def when(value: datetime | None) -> str | None:
    from mimicast.wire.dates import format_date

    return format_date(value) if value is not None else None


def show(as_json: bool, value: Any, title: str, columns: Sequence[str],
         rows: Sequence[Sequence[Any]]) -> None:
    """JSON for scripts, or a table for people."""
    if as_json:
        print_json(value)
        return
    from rich.table import Table

    table = Table(title=title, title_justify="left")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(_cell(cell) for cell in row))
    console().print(table)


def done(as_json: bool, value: Any, message: str) -> None:
    """A change's result: its JSON, or one line for people."""
    if as_json:
        print_json(value)
    else:
        console().print(message, highlight=False, soft_wrap=True, markup=False)


def _cell(value: Any) -> str:
    from rich.markup import escape

    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple, frozenset, set)):
        return "\n".join(escape(str(v)) for v in value) or "-"
    if isinstance(value, datetime):
        return when(value) or ""
    return escape(str(value))
