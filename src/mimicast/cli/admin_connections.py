"""`mimicast admin connection …`: Directory Sync connections (an LDIF or CSV export file the
sync reads) and the sync itself, the same service `/api/directory/execute-sync` runs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from mimicast.cli.admin_common import AccountCode, Db, Json, done, show, store, unit
from mimicast.cli.common import command_group

connections = command_group("Directory Sync: connections to LDIF or CSV exports, and syncs.")

Name = Annotated[str, typer.Argument(help="The connection's name.")]
COLUMNS = ("Name", "Kind", "Enabled", "File", "Last sync", "Status", "Result")


def _result(view: dict[str, Any]) -> str:
    from mimicast.services import dirsync

    if view["status"] == dirsync.FAILED:
        return str(view["info"])
    return ", ".join(f"{k} {v}" for k, v in view["lastResult"].items()) if view["status"] else ""


def _row(view: dict[str, Any]) -> list[Any]:
    return [view["description"], view["serverType"], view["enabled"], view["sourcePath"],
            view["lastSync"], view["status"], _result(view)]


@connections.command("add")
def connection_add(
    name: Annotated[str, typer.Option("--name", help="A name for the connection; it also names "
                                                     "the folder its groups go in.")],
    kind: Annotated[str, typer.Option("--kind", help="The file's format: ldif or csv.")],
    file: Annotated[Path, typer.Option("--file", help="The export file, read at each sync.")],
    disabled: Annotated[bool, typer.Option(
        "--disabled", help="Sync it only when named (not with every enabled one).")] = False,
    db: Db = None, account: AccountCode = None, as_json: Json = False,
) -> None:
    """Add a connection (its file is read at each sync, not now)."""
    from mimicast.services import dirsync

    with store(db) as deps, unit(deps, account) as ctx:
        value = dirsync.connection_view(dirsync.add_connection(
            ctx, name, kind, str(file.expanduser().resolve()), enabled=not disabled))
    done(as_json, value, f"Added connection {value['description']} ({value['serverType']}, "
                         f"{value['sourcePath']}).")


@connections.command("list")
def connection_list(db: Db = None, account: AccountCode = None, as_json: Json = False) -> None:
    """The account's connections and how each last synced."""
    from mimicast.services import dirsync

    with store(db) as deps, unit(deps, account) as ctx:
        rows = [dirsync.connection_view(row) for row in dirsync.list_connections(ctx)]
    show(as_json, rows, "Directory connections", COLUMNS, [_row(v) for v in rows])


@connections.command("show")
def connection_show(name: Name, db: Db = None, account: AccountCode = None,
                    as_json: Json = False) -> None:
    """One connection."""
    from mimicast.services import dirsync

    with store(db) as deps, unit(deps, account) as ctx:
        value = dirsync.connection_view(dirsync.find_connection(ctx, name))
    show(as_json, value, f"Directory connection {value['description']}", COLUMNS, [_row(value)])


@connections.command("remove")
def connection_remove(name: Name, db: Db = None, account: AccountCode = None,
                      as_json: Json = False) -> None:
    """Remove a connection with the users and groups it imported."""
    from mimicast.services import dirsync

    with store(db) as deps, unit(deps, account) as ctx:
        value = {"description": name.strip(), **dirsync.remove_connection(ctx, name)}
    done(as_json, value, f"Removed connection {value['description']}: "
                         f"{value['usersRemoved']} user(s) and {value['groupsRemoved']} "
                         "group(s) removed.")


@connections.command("sync")
def connection_sync(
    name: Annotated[str | None, typer.Argument(
        help="Only this connection (default: every enabled one).")] = None,
    db: Db = None, account: AccountCode = None, as_json: Json = False,
) -> None:
    """Sync now: users, groups and memberships follow the export file; prints the counts."""
    from mimicast.services import dirsync

    with store(db) as deps, unit(deps, account) as ctx:
        chosen = dirsync.find_connection(ctx, name) if name else None
        rows = [dirsync.connection_view(row) for row in dirsync.sync(ctx, chosen)]
    done(as_json, rows, "\n".join(f"Synced {v['description']}: {_result(v)}." for v in rows))
