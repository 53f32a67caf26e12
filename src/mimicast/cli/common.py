"""What the commands share: opening the store, printing, turning ApiError into one line."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape

from mimicast.config import Settings
from mimicast.services.context import Deps
from mimicast.services.crypto import Vault
from mimicast.services.dns import make_resolver
from mimicast.store.engine import Store
from mimicast.wire.errors import ApiError

console = Console()
errors = Console(stderr=True)

DbOption = typer.Option(None, "--db", help="Database URL (default: SQLite in the data directory).",
                        envvar="MIMICAST_DB")


def open_deps(db: str | None) -> Deps:
    settings = Settings.from_env(db=db)
    store = Store(settings.db)
    store.migrate()
    return Deps(store=store, vault=Vault(settings.key_file),
                resolver=make_resolver(settings.dns, store.sessions))


@contextlib.contextmanager
def failures_as_exit() -> Iterator[None]:
    """An ApiError (bad input, missing object) prints one clear line and exits 1."""
    try:
        yield
    except ApiError as error:
        where = f" ({error.field})" if error.field else ""
        # Escaped and unwrapped: the message is data (it may hold brackets) and stays one line.
        errors.print(f"[red]error[/red]: {escape(error.message + where)}", soft_wrap=True,
                     highlight=False)
        raise typer.Exit(1) from None


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2 if sys.stdout.isatty() else None, default=str))
    sys.stdout.write("\n")
