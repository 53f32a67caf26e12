"""Which schema revision a store is at, and the newest revision the migration scripts define.

Read without Alembic, which takes longer to import than a command-line command should spend
when there is nothing to migrate: the head comes from the `revision`/`down_revision`
assignments of the scripts themselves (a test checks it against Alembic's own answer).
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

from sqlalchemy import Connection, inspect, text

VERSIONS = Path(__file__).parent / "migrations" / "versions"
VERSION_TABLE = "alembic_version"


class UnknownRevision(Exception):
    """The store is at a revision the scripts do not define (a newer mimicast's)."""


def read_scripts(folder: Path) -> dict[str, str | None]:
    """Every script's revision → the revision it follows (None for the first)."""
    found: dict[str, str | None] = {}
    for path in sorted(folder.glob("*.py")):
        values: dict[str, object] = {}
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if (isinstance(node, ast.Assign) and len(node.targets) == 1
                    and isinstance(node.targets[0], ast.Name)
                    and node.targets[0].id in ("revision", "down_revision")):
                values[node.targets[0].id] = ast.literal_eval(node.value)
        revision, down = values.get("revision"), values.get("down_revision")
        if not isinstance(revision, str) or not (down is None or isinstance(down, str)):
            raise RuntimeError(f"{path.name}: revision and down_revision must be literal "
                               "strings (down_revision None for the first)")
        found[revision] = down
    return found


def head_of(scripts: dict[str, str | None]) -> str:
    """The newest revision: the one no other script follows."""
    heads = set(scripts) - {down for down in scripts.values() if down is not None}
    if len(heads) != 1:
        raise RuntimeError(f"the migrations must form one line; heads: {sorted(heads)}")
    return heads.pop()


@cache
def _scripts() -> dict[str, str | None]:
    return read_scripts(VERSIONS)


def head_revision() -> str:
    return head_of(_scripts())


def current_revision(connection: Connection) -> str | None:
    """The store's revision; None when it has none yet (an empty store)."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    value = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()
    return None if value is None else str(value)


def needs_upgrade(connection: Connection) -> bool:
    """Whether the store is empty or behind the scripts; UnknownRevision when it is ahead."""
    current = current_revision(connection)
    if current is None:
        return True
    if current not in _scripts():
        raise UnknownRevision(f"the database is at schema revision {current}, which this "
                              f"mimicast does not know (its newest is {head_revision()}): "
                              "upgrade mimicast")
    return current != head_revision()
