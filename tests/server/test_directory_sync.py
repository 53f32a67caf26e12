"""Directory Sync over real HTTP (execute-sync, get-connection) and from the command line
(`mimicast admin connection …`): LDIF and CSV imports, re-sync idempotence, removals after
the file changes, a malformed file, permissions and tenant isolation."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from api import DATE, Namespace, audit_events, only_error
from sqlalchemy import select

from mimicast.services import audit, dirsync, identity, permissions
from mimicast.services.context import Caller, Context, Deps
from mimicast.services.crypto import Vault
from mimicast.services.dns import SimulatedResolver
from mimicast.store.engine import Store
from mimicast.store.schema import AuditEvent, User
from mimicast.testing import Harness
from mimicast.testing.harness import Tenant

DATA = Path(__file__).resolve().parents[1] / "data" / "dirsync"
ZERO = dict.fromkeys(dirsync.COUNTS, 0)
STARTED = [{"syncStatus": "started", "type": "full"}]
DIRECTORY = Namespace("/api/directory/")
post, ok = DIRECTORY.post, DIRECTORY.ok


def export(folder: Path, name: str, tenant: Tenant, target: str | None = None) -> Path:
    """A data file with the tenant's domain in place of corp.example, written to `folder`."""
    path = folder / (target or name)
    path.write_text((DATA / name).read_text().replace("@corp.example", f"@{tenant.domain}")
                    .replace("@CORP.example", f"@{tenant.domain.upper()}"))
    return path


def connect(harness: Harness, tenant: Tenant, name: str, kind: str, path: Path,
            enabled: bool = True) -> str:
    """Connections are the operator's (CLI) business: added through the service."""
    with harness.session_ctx(tenant) as ctx:
        row = dirsync.add_connection(ctx, name, kind, str(path), enabled)
        return dirsync.secure_id(row.id)


def sync(harness: Harness, tenant: Tenant, data: list[Any] | None = None) -> None:
    body = post(harness, tenant, "execute-sync", data or [])
    assert body == {"meta": {"status": 200}, "data": STARTED, "fail": []}, body


def connections(harness: Harness, tenant: Tenant) -> list[dict[str, Any]]:
    return ok(harness, tenant, "get-connection", [])


def synced_users(harness: Harness, tenant: Tenant) -> dict[str, str]:
    """address → name of the tenant's users a sync imported, from the store."""
    with harness.deps.store.session() as session:
        return {u.email: u.name for u in session.scalars(select(User).where(
            User.account_id == tenant.account_id, User.source == "ldap"))}


def ldap_groups(harness: Harness, tenant: Tenant) -> dict[str, dict[str, Any]]:
    """description → folder, of find-groups with source ldap."""
    body = post(harness, tenant, "find-groups", [{"source": "ldap"}])
    assert body["fail"] == []
    return {f["description"]: f for f in body["data"][0]["folders"]}


def group_members(harness: Harness, tenant: Tenant, group_id: str) -> list[dict[str, Any]]:
    body = post(harness, tenant, "get-group-members", [{"id": group_id}])
    assert body["fail"] == []
    result: list[dict[str, Any]] = body["data"][0]["groupMembers"]
    return result


def addresses(harness: Harness, tenant: Tenant, group_id: str) -> list[str]:
    return [m["emailAddress"].split("@")[0] for m in group_members(harness, tenant, group_id)]


def sync_events(harness: Harness, tenant: Tenant) -> list[tuple[str, str]]:
    found = audit_events(harness, tenant, AuditEvent.event_type.like("Directory sync%"),
                         category=audit.DIRECTORY)
    return [(e.event_type, e.info) for e in found]


# An LDIF import, then the same file again, then a changed file ------------------------------

def test_ldif_sync_then_idempotent_resync_then_removals(harness: Harness,
                                                        tmp_path: Path) -> None:
    tenant = harness.tenant()
    path = export(tmp_path, "directory.ldif", tenant)
    connection_id = connect(harness, tenant, "Corp", "ldif", path)
    [before] = connections(harness, tenant)
    assert before == {"id": connection_id, "description": "Corp", "serverType": "ldif",
                      "enabled": True, "sourcePath": str(path), "status": "", "info": "",
                      "lastSync": "", "lastResult": ZERO}

    sync(harness, tenant)
    [after] = connections(harness, tenant)
    assert DATE.match(after["lastSync"])
    assert after == {**before, "status": "ok", "lastSync": after["lastSync"], "lastResult": {
        **ZERO, "created": 3, "groupsCreated": 4, "membershipsAdded": 5, "skipped": 2}}
    d = tenant.domain
    assert synced_users(harness, tenant) == {f"alice@{d}": "Alice Smith",
                                             f"bob@{d}": "Bob Jones", f"zoe@{d}": "Zoë Ölund"}
    groups = ldap_groups(harness, tenant)
    assert set(groups) == {"Corp", "Staff", "Engineering", "All Staff", "Sales, EU"}
    root = groups["Corp"]
    assert (root["parentId"], root["folderCount"], root["source"]) == ("", 4, "ldap")
    staff = groups["Staff"]
    assert staff == {"id": staff["id"], "description": "Staff", "source": "ldap",
                     "parentId": root["id"], "userCount": 2, "folderCount": 0}
    assert group_members(harness, tenant, staff["id"]) == [
        {"emailAddress": f"alice@{d}", "domain": "", "internal": True, "type": "ldap",
         "name": "Alice Smith", "notes": ""},
        {"emailAddress": f"bob@{d}", "domain": "", "internal": True, "type": "ldap",
         "name": "Bob Jones", "notes": ""}]
    # Synced groups are not among the cloud ones.
    cloud = post(harness, tenant, "find-groups", [])["data"][0]["folders"]
    assert "Staff" not in {f["description"] for f in cloud}

    # The same file again: nothing changes.
    sync(harness, tenant)
    assert connections(harness, tenant)[0]["lastResult"] == {**ZERO, "skipped": 2}
    assert ldap_groups(harness, tenant) == groups

    # A week later: Alice renamed, Bob gone, Dave new, two groups gone.
    export(tmp_path, "directory-changed.ldif", tenant, target=path.name)
    sync(harness, tenant)
    assert connections(harness, tenant)[0]["lastResult"] == {
        **ZERO, "created": 1, "updated": 1, "removed": 1, "groupsRemoved": 2,
        "membershipsAdded": 2, "membershipsRemoved": 2, "skipped": 1}
    assert synced_users(harness, tenant) == {f"alice@{d}": "Alice Jones",
                                             f"zoe@{d}": "Zoë Ölund", f"dave@{d}": "Dave"}
    groups = ldap_groups(harness, tenant)
    assert set(groups) == {"Corp", "Staff", "Engineering"}
    assert addresses(harness, tenant, groups["Staff"]["id"]) == ["alice", "zoe"]
    assert addresses(harness, tenant, groups["Engineering"]["id"]) == ["dave", "zoe"]
    assert [kind for kind, _ in sync_events(harness, tenant)] == ["Directory sync"] * 3
    assert sync_events(harness, tenant)[1] == (
        "Directory sync", "Corp: created=0 updated=0 removed=0 groupsCreated=0 groupsRemoved=0 "
                          "membershipsAdded=0 membershipsRemoved=0 skipped=2")


def test_csv_sync_of_one_connection(harness: Harness, tmp_path: Path) -> None:
    tenant = harness.tenant()
    other = connect(harness, tenant, "Other", "csv", tmp_path / "never-read.csv")
    hr = connect(harness, tenant, "HR", "csv", export(tmp_path, "users.csv", tenant))
    sync(harness, tenant, [{"connectionId": hr}])
    by_name = {c["description"]: c for c in connections(harness, tenant)}
    assert list(by_name) == ["HR", "Other"]
    assert by_name["HR"]["lastResult"] == {**ZERO, "created": 3, "groupsCreated": 3,
                                           "membershipsAdded": 3, "skipped": 1}
    assert by_name["Other"]["status"] == "" and by_name["Other"]["id"] == other
    d = tenant.domain
    assert synced_users(harness, tenant) == {f"erin@{d}": "Erin Example",
                                             f"frank@{d}": "Frank, Jr.",
                                             f"grace@{d}": f"grace@{d}"}
    groups = ldap_groups(harness, tenant)
    assert addresses(harness, tenant, groups["Sales"]["id"]) == ["erin"]
    assert groups["HR"]["folderCount"] == 3


def test_synced_groups_change_only_by_syncing(harness: Harness, tmp_path: Path) -> None:
    tenant = harness.tenant()
    connect(harness, tenant, "Corp", "ldif", export(tmp_path, "directory.ldif", tenant))
    sync(harness, tenant)
    groups = ldap_groups(harness, tenant)
    staff, root = groups["Staff"]["id"], groups["Corp"]["id"]
    mine = post(harness, tenant, "create-group", [{"description": "Mine"}])["data"][0]["id"]
    for action, item in (("add-group-member", {"id": staff, "emailAddress": "x@example.org"}),
                         ("remove-group-member", {"id": staff,
                                                  "emailAddress": f"bob@{tenant.domain}"}),
                         ("update-group", {"id": staff, "description": "Renamed"}),
                         ("delete-group", {"id": root}),
                         ("create-group", {"description": "Inside", "parentId": staff}),
                         ("update-group", {"id": mine, "parentId": root})):
        body = post(harness, tenant, action, [item])
        error = only_error(body)
        assert error["code"] == "err_folder_managed_by_sync", action
        assert error["message"] == ("The group is kept in step with the directory connection "
                                    "Corp: change it in the directory, then sync")
        assert body["fail"][0]["key"] == item
    assert ldap_groups(harness, tenant) == groups


# Failures -----------------------------------------------------------------------------------

def test_a_malformed_file_is_a_fail_entry_and_imports_nothing(harness: Harness,
                                                              tmp_path: Path) -> None:
    tenant = harness.tenant()
    path = export(tmp_path, "malformed.csv", tenant)
    connection_id = connect(harness, tenant, "HR", "csv", path)
    for data in ([], [{}], [{"connectionId": connection_id}]):
        body = post(harness, tenant, "execute-sync", data)
        assert only_error(body) == {
            "code": "err_directory_sync_failed", "retryable": False,
            "message": "Directory sync failed, nothing was imported: HR: line 3: unexpected "
                       "end of data"}
        assert body["fail"][0]["key"] == (data[0] if data else {})
    [connection] = connections(harness, tenant)
    assert connection["status"] == "failed" and DATE.match(connection["lastSync"])
    assert connection["info"] == "line 3: unexpected end of data"
    assert connection["lastResult"] == ZERO
    assert synced_users(harness, tenant) == {} and ldap_groups(harness, tenant) == {}
    assert sync_events(harness, tenant)[-1] == ("Directory sync failed",
                                                "HR: line 3: unexpected end of data")
    # Fixed, it goes through; a missing file fails the same way.
    export(tmp_path, "users.csv", tenant, target=path.name)
    sync(harness, tenant)
    assert connections(harness, tenant)[0]["status"] == "ok"
    path.unlink()
    error = only_error(post(harness, tenant, "execute-sync", []))
    assert "HR: cannot read" in error["message"]
    assert len(synced_users(harness, tenant)) == 3  # the last good import stays


def test_execute_sync_bad_input(harness: Harness, tmp_path: Path) -> None:
    tenant = harness.tenant()
    error = only_error(post(harness, tenant, "execute-sync", []))
    assert error == {"code": "err_directory_sync_no_connection", "retryable": False,
                     "message": "The account has no enabled directory connection to sync"}
    connect(harness, tenant, "Paused", "csv", export(tmp_path, "users.csv", tenant),
            enabled=False)
    assert only_error(post(harness, tenant, "execute-sync", []))["code"] == (
        "err_directory_sync_no_connection")
    for item, code, field in (({"connectionId": "eNoUnknown"},
                               "err_directory_connection_not_found", "connectionId"),
                              ({"connectionId": ""}, "err_validation_blank", "connectionId"),
                              ({"connectionId": 42}, "err_validation_invalid_value",
                               "connectionId")):
        body = post(harness, tenant, "execute-sync", [item])
        error = only_error(body)
        assert (error["code"], error["field"]) == (code, field), item
        assert body["fail"][0]["key"] == item
    [entry] = post(harness, tenant, "execute-sync", [{}, {}])["fail"]
    assert entry["errors"][0]["code"] == "err_validation_item_count"
    assert synced_users(harness, tenant) == {}


# Permissions and tenants --------------------------------------------------------------------

def test_permissions(harness: Harness, tmp_path: Path) -> None:
    reader = harness.tenant(role="Basic Administrator")
    connect(harness, reader, "HR", "csv", export(tmp_path, "users.csv", reader))
    assert [c["description"] for c in connections(harness, reader)] == ["HR"]
    response = harness.call(reader.keys, "/api/directory/execute-sync", {"data": []})
    assert response.status_code == 403
    [error] = response.json()["fail"][0]["errors"]
    assert error["code"] == "err_xdk_forbidden"
    assert permissions.DIRECTORY_SYNC_EDIT in error["message"]
    assert synced_users(harness, reader) == {}

    groups_only = harness.tenant(role=None)
    with harness.session_ctx(groups_only) as ctx:
        identity.create_role(ctx, "Groups", [permissions.GROUPS_READ, permissions.GROUPS_EDIT])
        identity.add_role_member(ctx, "Groups", groups_only.email)
    for action, needed in (("get-connection", permissions.DIRECTORY_SYNC_READ),
                           ("execute-sync", permissions.DIRECTORY_SYNC_EDIT)):
        response = harness.call(groups_only.keys, f"/api/directory/{action}", {"data": []})
        assert response.status_code == 403, action
        assert needed in response.json()["fail"][0]["errors"][0]["message"]


def test_tenant_isolation(harness: Harness, tmp_path: Path) -> None:
    a, b = harness.tenant(), harness.tenant()
    theirs = connect(harness, a, "Corp", "ldif", export(tmp_path, "directory.ldif", a))
    assert connections(harness, b) == []
    error = only_error(post(harness, b, "execute-sync", [{"connectionId": theirs}]))
    assert error["code"] == "err_directory_connection_not_found"
    assert only_error(post(harness, b, "execute-sync", []))["code"] == (
        "err_directory_sync_no_connection")
    assert connections(harness, a)[0]["status"] == ""
    sync(harness, a)
    assert ldap_groups(harness, b) == {}
    staff = ldap_groups(harness, a)["Staff"]["id"]
    assert only_error(post(harness, b, "get-group-members", [{"id": staff}]))["code"] == (
        "err_folder_not_found")


# The command line ---------------------------------------------------------------------------

Cli = Callable[..., "subprocess.CompletedProcess[str]"]


def cli_account(home: Path, code: str) -> Store:
    """The CLI's store (in `home`, the `cli` fixture's data directory) with one account that
    owns corp.example, set up in-process: only the connection commands are under test."""
    store = Store(f"sqlite:///{home / 'mimicast.db'}")
    store.migrate()
    deps = Deps(store=store, vault=Vault(home / "secret.key"),
                resolver=SimulatedResolver(store.sessions))
    with store.unit() as unit:
        account = identity.create_account(unit.session, name="Corp", code=code, actor="setup")
        unit.session.flush()
        identity.add_internal_domain(
            Context(deps, unit, Caller(account_id=account.id, actor="setup")), "corp.example")
    return store


def test_cli_connection_add_sync_show_remove(cli: Cli, tmp_path: Path) -> None:
    store = cli_account(tmp_path, "CDIRSYNC1")
    shutil.copyfile(DATA / "directory.ldif", tmp_path / "corp.ldif")
    added = json.loads(cli("admin", "connection", "add", "--account", "CDIRSYNC1", "--name",
                           "Corp", "--kind", "ldif", "--file", str(tmp_path / "corp.ldif"),
                           "--json").stdout)
    assert (added["description"], added["serverType"], added["status"]) == ("Corp", "ldif", "")
    assert added["sourcePath"] == str(tmp_path / "corp.ldif")

    human = cli("admin", "connection", "sync").stdout
    assert human.strip() == ("Synced Corp: created 3, updated 0, removed 0, groupsCreated 4, "
                             "groupsRemoved 0, membershipsAdded 5, membershipsRemoved 0, "
                             "skipped 2.")
    [again] = json.loads(cli("admin", "connection", "sync", "Corp", "--json").stdout)
    assert again["lastResult"] == {**ZERO, "skipped": 2} and again["status"] == "ok"
    shown = json.loads(cli("admin", "connection", "show", "Corp", "--json").stdout)
    assert shown == again

    removed = json.loads(cli("admin", "connection", "remove", "Corp", "--json").stdout)
    assert removed == {"description": "Corp", "usersRemoved": 3, "groupsRemoved": 4}
    try:
        with store.session() as session:
            assert session.scalar(select(User.id).where(User.source == "ldap")) is None
            assert [e.event_type for e in session.scalars(
                select(AuditEvent).where(AuditEvent.actor == "cli")
                .order_by(AuditEvent.id))] == [
                "Directory connection added", "Directory sync", "Directory sync",
                "Directory connection removed"]
    finally:
        store.dispose()


def test_cli_sync_failure_is_one_line(cli: Cli, tmp_path: Path) -> None:
    cli_account(tmp_path, "CDIRSYNC2").dispose()
    cli("admin", "connection", "add", "--name", "HR", "--kind", "csv", "--file",
        str(DATA / "malformed.csv"))
    result = cli("admin", "connection", "sync", check=False)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.strip() == ("error: Directory sync failed, nothing was imported: HR: "
                                     "line 3: unexpected end of data")
    human = cli("admin", "connection", "list").stdout
    assert "Directory connections" in human and "HR" in human and "failed" in human
