"""What the commands share: settings from flags, opening the store, printing, and turning every
failure the user can fix into one red line.

Every command module imports this one, and `mimicast --help` imports them all: so rich,
pydantic, SQLAlchemy, the services and the store are imported inside the functions that use
them, and help is plain text.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import sys
from collections.abc import Iterator
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from rich.console import Console

    from mimicast.config import Settings
    from mimicast.services.context import Deps

DbOption = typer.Option(None, "--db", envvar="MIMICAST_DB", metavar="URL",
                        show_default="SQLite in the data directory",
                        help="Database URL: sqlite:///PATH or postgresql://USER@HOST/DATABASE.")


def command_group(help: str | None = None) -> typer.Typer:
    """A command group. Help is plain text: typer's rich help costs more to import than the
    rest of the command line together."""
    return typer.Typer(help=help, no_args_is_help=True, rich_markup_mode=None)


@functools.cache
def console() -> Console:
    """Where output goes (rich: colour and tables on a terminal)."""
    from rich.console import Console

    return Console()


@functools.cache
def errors() -> Console:
    """Where errors and warnings go."""
    from rich.console import Console

    return Console(stderr=True)


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print one red line on stderr; the caller raises the returned Exit."""
    from rich.markup import escape

    # Escaped and unwrapped: messages carry data (URLs, JSON, brackets) and stay one line.
    errors().print(f"[red]error[/red]: {escape(message)}", soft_wrap=True, highlight=False)
    return typer.Exit(code)


def settings_from(**flags: Any) -> Settings:
    """The settings: the flags given (None: not given) over the environment over the defaults.
    An invalid value is a usage error: one line per setting, naming its flag and variable."""
    from pydantic import ValidationError

    from mimicast.config import Settings, env_name

    try:
        return Settings(**{name: value for name, value in flags.items() if value is not None})
    except ValidationError as error:
        for problem in error.errors():
            name = str(problem["loc"][0])
            cause = problem.get("ctx", {}).get("error")
            reason = str(cause) if isinstance(cause, ValueError) else problem["msg"]
            fail(f"--{name.replace('_', '-')} ({env_name(name)}): {reason}")
        raise typer.Exit(2) from None


def open_deps(settings: Settings) -> Deps:
    """The store (migrated first when it is empty or behind), the key vault and the DNS
    resolver. A database that cannot be opened or a key file that cannot be read or made is
    one red line and exit 1."""
    from sqlalchemy.exc import SQLAlchemyError

    from mimicast.config import hide_password
    from mimicast.services.context import Deps
    from mimicast.services.crypto import Vault
    from mimicast.services.dns import make_resolver
    from mimicast.store import revision
    from mimicast.store.engine import Store

    where = hide_password(settings.db)
    try:
        store = Store(settings.db)
    except (SQLAlchemyError, OSError) as error:
        raise fail(f"cannot open the database {where}: {_reason(error)}") from None
    try:
        with store.engine.connect() as connection:
            behind = revision.needs_upgrade(connection)
        if behind:
            store.migrate()
    except (SQLAlchemyError, OSError, revision.UnknownRevision) as error:
        store.dispose()
        raise fail(f"cannot open the database {where}: {_reason(error)}") from None
    try:
        vault = Vault(settings.key_file)
    except (OSError, ValueError) as error:  # ValueError: not a Fernet key
        store.dispose()
        key = ("MIMICAST_SECRET_KEY" if os.environ.get("MIMICAST_SECRET_KEY")
               else f"the key file {settings.key_file}")
        raise fail(f"cannot use {key}: {_reason(error)}") from None
    return Deps(store=store, vault=vault, resolver=make_resolver(settings.dns, store.sessions),
                siem_slice=timedelta(minutes=settings.siem_slice_minutes),
                log_retention=timedelta(days=settings.log_retention_days))


def _reason(error: BaseException) -> str:
    """The first line of what went wrong, without SQLAlchemy's wrapping."""
    if isinstance(error, OSError) and error.strerror:
        return f"{error.strerror}: {error.filename}" if error.filename else error.strerror
    cause = getattr(error, "orig", None) or error
    return (str(cause).strip().splitlines() or [type(cause).__name__])[0]


@contextlib.contextmanager
def failures_as_exit() -> Iterator[None]:
    """An ApiError (bad input, missing object) prints one clear line and exits 1."""
    from mimicast.wire.errors import ApiError

    try:
        yield
    except ApiError as error:
        where = f" ({error.field})" if error.field else ""
        raise fail(error.message + where) from None


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2 if sys.stdout.isatty() else None, default=str))
    sys.stdout.write("\n")
