"""What the commands share: opening the store, printing, turning ApiError into one line."""

from __future__ import annotations

import contextlib
import json
import sys
from typing import Any, Iterator

import typer
from rich.console import Console

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
        errors.print(f"[red]error[/red]: {error.message}{where}")
        raise typer.Exit(1) from None


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, indent=2 if sys.stdout.isatty() else None, default=str))
    sys.stdout.write("\n")
