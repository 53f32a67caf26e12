"""Directory Sync straight on the services: the LDIF and CSV readers, and the sync's rules on
SQLite and PostgreSQL (created, renamed, removed, skipped; idempotence; all or nothing)."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from mimicast.services import audit, dirsync, identity, profiles
from mimicast.services.context import Caller, Context, Deps
from mimicast.services.crypto import Vault
from mimicast.services.dirsync import Source, SyncError, parse_csv, parse_ldif
from mimicast.services.dns import SimulatedResolver
from mimicast.store.engine import Store
from mimicast.store.schema import (
    AuditEvent,
    DirectoryConnection,
    GroupMember,
    ProfileGroup,
    User,
    UserAlias,
)
from mimicast.testing.harness import ManualClock
from mimicast.wire.errors import ApiError

DATA = Path(__file__).resolve().parents[1] / "data" / "dirsync"
START = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
DOMAIN = "corp.example"


# The LDIF reader ----------------------------------------------------------------------------

def test_ldif_export_reads_users_groups_and_memberships() -> None:
    source = parse_ldif((DATA / "directory.ldif").read_text())
    assert source.users == {
        "alice@corp.example": "Alice Smith",  # displayName, folded over two lines
        "bob@corp.example": "Bob Jones",  # no displayName: cn
        "zoe@corp.example": "Zoë Ölund",  # base64
        "carol@partner.example": "Carol",
        "not-an-address": "Printer",
    }
    assert source.groups == {
        # member DNs resolve whatever their case and spacing; Carol is a member too (the
        # sync, not the reader, leaves out addresses outside the internal domains)
        "Staff": {"alice@corp.example", "bob@corp.example", "carol@partner.example"},
        "Engineering": {"bob@corp.example", "zoe@corp.example"},
        "All Staff": set(),  # mail-enabled group: a group, its nested group not expanded
        "Sales, EU": {"alice@corp.example"},  # from memberOf: named by the DN's first value
    }


def test_ldif_line_endings_folding_comments_and_version() -> None:
    text = ("version: 1\r\n"
            "# a comment\r\n"
            "#  folded onto a second line\r\n"
            " still the comment\r\n"
            "\r\n"
            "dn: cn=A,dc=x\r\n"
            "objectClass: person\r\n"
            "mail: a@x.example\r\n"
            "displayName: Ann \r\n"
            " Other\r\n"
            "cn;lang-en: ignored, displayName wins\r\n")
    assert parse_ldif(text) == Source(users={"a@x.example": "Ann Other"}, groups={})
    # The version line may sit right above the first record.
    assert parse_ldif("version: 1\ndn: cn=A,dc=x\nmail: a@x.example\n").users == {
        "a@x.example": ""}
    assert parse_ldif("") == Source()


def test_ldif_member_of_a_group_entry_takes_the_entry_name() -> None:
    text = ("dn: cn=grp-eng,ou=G,dc=x\nobjectClass: groupOfUniqueNames\ncn: Engineers\n"
            "uniqueMember: cn=A,dc=x\n\n"
            "dn: cn=A,dc=x\nmail: a@x.example\nmemberOf: CN=grp-eng, OU=G, DC=x\n"
            "memberOf: cn=Unlisted,dc=x\n\n"
            "dn: cn=B,dc=x\nmail: b@x.example\nmemberOf: cn=grp-eng,ou=G,dc=x\n")
    assert parse_ldif(text).groups == {"Engineers": {"a@x.example", "b@x.example"},
                                       "Unlisted": {"a@x.example"}}


def test_ldif_change_record_of_type_add_is_an_entry() -> None:
    text = "dn: cn=A,dc=x\nchangetype: add\nmail: a@x.example\n"
    assert parse_ldif(text).users == {"a@x.example": ""}


@pytest.mark.parametrize(("text", "message"), [
    (" leading\n", "line 1: a continuation line"),
    ("dn: cn=A,dc=x\n\n continued\n", "line 3: a continuation line"),
    ("mail: a@x.example\n", "line 1: a record must start with 'dn:'"),
    ("dn: cn=A,dc=x\nmail: a@x.example\n\nmail: b@x.example\n",
     "line 4: a record must start with 'dn:'"),
    ("dn: cn=A,dc=x\nno separator here\n", "line 2: expected 'attribute: value'"),
    ("dn: cn=A,dc=x\ndisplayName:: not*base64\n", "line 2: displayname has a value that is "
                                                  "not base64"),
    ("dn: cn=A,dc=x\nchangetype: modify\nreplace: mail\n",
     "line 1: a change record (changetype: modify)"),
    ((DATA / "malformed.ldif").read_text(), "line 5: a record must start with 'dn:'"),
])
def test_malformed_ldif_names_the_line(text: str, message: str) -> None:
    with pytest.raises(SyncError) as caught:
        parse_ldif(text)
    assert str(caught.value).startswith(message), str(caught.value)


def test_dn_helpers() -> None:
    assert dirsync.dn_key("CN=Smith\\, John , OU = People,DC=X") == (
        "cn=smith\\, john,ou=people,dc=x")
    assert dirsync.rdn_value("cn=Smith\\, John,ou=People") == "Smith, John"
    assert dirsync.rdn_value("cn=Ren\\C3\\A9e,ou=People") == "Renée"
    assert dirsync.rdn_value("cn=a\\+b\\\\c") == "a+b\\c"


# The CSV reader -----------------------------------------------------------------------------

def test_csv_with_header_aliases_quotes_and_blank_rows() -> None:
    source = parse_csv((DATA / "users.csv").read_text())
    assert source.users == {"erin@corp.example": "Erin Example",
                            "frank@corp.example": "Frank, Jr.",
                            "ext@partner.example": "External",
                            "grace@corp.example": ""}
    assert source.groups == {"Sales": {"erin@corp.example", "ext@partner.example"},
                             "Managers": {"erin@corp.example"},
                             "IT": {"frank@corp.example"}}


@pytest.mark.parametrize("header", ["emailAddress,name,groups", "MAIL,displayName,memberOf",
                                    "e-mail,Full Name,Group", "email,cn,GROUPS"])
def test_csv_header_names(header: str) -> None:
    source = parse_csv(f"{header}\na@x.example,Ann,G1; G2 ;\n")
    assert source == Source(users={"a@x.example": "Ann"},
                            groups={"G1": {"a@x.example"}, "G2": {"a@x.example"}})


def test_csv_short_rows_and_only_an_email_column() -> None:
    assert parse_csv("mail,name,groups\na@x.example\n").users == {"a@x.example": ""}
    assert parse_csv("mail\nA@X.example\n") == Source(users={"a@x.example": ""})
    # A row without an address adds nobody to its groups.
    assert parse_csv("mail,groups\n,Sales\n") == Source(users={"": ""})


@pytest.mark.parametrize(("text", "message"), [
    ("", "the file is empty"),
    ("\n \n", "the file is empty"),
    ("name,groups\nAnn,G\n", "line 1: no email address column"),
    ("mail,Email Address\n", "line 1: two columns give the email address"),
    ("mail,name\na@x.example,Ann,extra\n", "line 2: 3 fields, but the header has 2"),
    ((DATA / "malformed.csv").read_text(), "line 3: unexpected end of data"),
    ('mail\n"a"b@x.example\n', "line 2: ',' expected after '\"'"),
])
def test_malformed_csv_names_the_line(text: str, message: str) -> None:
    with pytest.raises(SyncError) as caught:
        parse_csv(text)
    assert str(caught.value).startswith(message), str(caught.value)


def test_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(SyncError, match="cannot read .*missing.csv: No such file"):
        dirsync.read_source("csv", str(tmp_path / "missing.csv"))
    with pytest.raises(SyncError, match="cannot read .*: Is a directory"):
        dirsync.read_source("ldif", str(tmp_path))
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"mail\n\xff\xfe@x.example\n")
    with pytest.raises(SyncError, match="binary.csv is not UTF-8 text \\(byte 5\\)"):
        dirsync.read_source("csv", str(binary))
    bom = tmp_path / "excel.csv"
    bom.write_bytes("\ufeffEmail,Name\na@x.example,Ann\n".encode())
    assert dirsync.read_source("csv", str(bom)).users == {"a@x.example": "Ann"}


# The sync -----------------------------------------------------------------------------------

@dataclass
class World:
    deps: Deps
    account: int
    other: int  # a second account, owning other.example
    folder: Path

    def run(self, work: Callable[[Context], Any], account: int | None = None) -> Any:
        """`work` in one unit, committed; its follow-ups run afterwards, whatever happened (as
        the server and the CLI run them)."""
        with self.deps.store.session() as session:
            ctx = Context(self.deps, session,
                          Caller(account_id=account or self.account, actor="tester"))
            try:
                result = work(ctx)
                session.commit()
            finally:
                session.rollback()
                ctx.run_followups()
            return result

    def fails(self, work: Callable[[Context], Any]) -> ApiError:
        with pytest.raises(ApiError) as caught:
            self.run(work)
        return caught.value

    def file(self, name: str, target: str | None = None) -> str:
        """A data file copied to the test's folder (as `target`); its path."""
        path = self.folder / (target or name)
        shutil.copyfile(DATA / name, path)
        return str(path)

    def connect(self, name: str, kind: str, path: str, enabled: bool = True) -> int:
        row = self.run(lambda ctx: dirsync.add_connection(ctx, name, kind, path, enabled))
        return int(row.id)

    def sync(self, connection: str | None = None) -> dict[str, dict[str, int]]:
        def work(ctx: Context) -> dict[str, dict[str, int]]:
            chosen = dirsync.find_connection(ctx, connection) if connection else None
            return {row.name: dirsync.connection_view(row)["lastResult"]
                    for row in dirsync.sync(ctx, chosen)}
        result: dict[str, dict[str, int]] = self.run(work)
        return result

    def users(self) -> dict[str, tuple[str, str, int | None, bool]]:
        """address → (name, source, connection id, has a password)"""
        with self.deps.store.session() as session:
            return {u.email: (u.name, u.source, u.connection_id, u.password_hash is not None)
                    for u in session.scalars(select(User).where(
                        User.account_id == self.account))}

    def groups(self) -> dict[str, tuple[str, set[str]]]:
        """group path → (source, members)"""
        with self.deps.store.session() as session:
            result = {}
            for group in session.scalars(select(ProfileGroup).where(
                    ProfileGroup.account_id == self.account)):
                members = set(session.scalars(select(GroupMember.address).where(
                    GroupMember.group_id == group.id)))
                result[profiles.group_path(session, group)] = (group.source, members)
            return result

    def connection(self, number: int) -> DirectoryConnection:
        with self.deps.store.session() as session:
            row = session.get(DirectoryConnection, number)
            assert row is not None
            return row

    def events(self) -> list[tuple[str, str]]:
        with self.deps.store.session() as session:
            return [(e.event_type, e.info) for e in session.scalars(
                select(AuditEvent).where(AuditEvent.account_id == self.account,
                                         AuditEvent.category == audit.DIRECTORY,
                                         AuditEvent.actor == "tester")
                .order_by(AuditEvent.id))]


@pytest.fixture
def world(store_url: str, tmp_path: Path) -> Iterator[World]:
    store = Store(store_url)
    store.migrate()
    deps = Deps(store=store, vault=Vault(str(tmp_path / "secret.key")),
                resolver=SimulatedResolver(store.sessions), clock=ManualClock(START))
    accounts = []
    with store.session() as session:
        for code, domain in (("CDS1", DOMAIN), ("CDS2", "other.example")):
            account = identity.create_account(session, name=code, code=code)
            session.flush()
            identity.add_internal_domain(
                Context(deps, session, Caller(account_id=account.id, actor="setup")), domain)
            accounts.append(account.id)
        session.commit()
    yield World(deps, accounts[0], accounts[1], tmp_path)
    store.dispose()


ZERO = dict.fromkeys(dirsync.COUNTS, 0)
# Rules that do not depend on the database run on SQLite only; the ones about transactions,
# row locks and cascades run on both backends (a PostgreSQL database costs ~1 s to set up).
sqlite_only = pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
CORP = "Corp/"


def test_first_sync_imports_users_groups_and_memberships(world: World) -> None:
    number = world.connect("Corp", "ldif", world.file("directory.ldif"))
    assert world.sync() == {"Corp": {**ZERO, "created": 3, "groupsCreated": 4,
                                     "membershipsAdded": 5, "skipped": 2}}
    users = world.users()
    assert {a: u for a, u in users.items() if u[1] == "ldap"} == {
        "alice@corp.example": ("Alice Smith", "ldap", number, False),
        "bob@corp.example": ("Bob Jones", "ldap", number, False),
        "zoe@corp.example": ("Zoë Ölund", "ldap", number, False)}
    assert world.groups() == {
        "Corp": ("ldap", set()),
        f"{CORP}Staff": ("ldap", {"alice@corp.example", "bob@corp.example"}),
        f"{CORP}Engineering": ("ldap", {"bob@corp.example", "zoe@corp.example"}),
        f"{CORP}All Staff": ("ldap", set()),
        f"{CORP}Sales, EU": ("ldap", {"alice@corp.example"})}
    row = world.connection(number)
    assert (row.last_status, row.last_sync_at) == ("ok", START)
    with world.deps.store.session() as session:
        domains = {u.domain for u in session.scalars(select(User).where(
            User.connection_id == number))}
        assert domains == {DOMAIN}
    assert world.events()[-1] == (
        "Directory sync", "Corp: created=3 updated=0 removed=0 groupsCreated=4 groupsRemoved=0 "
                          "membershipsAdded=5 membershipsRemoved=0 skipped=2")


@sqlite_only
def test_a_second_sync_of_the_same_file_changes_nothing(world: World) -> None:
    world.connect("Corp", "ldif", world.file("directory.ldif"))
    world.sync()
    users, groups = world.users(), world.groups()
    assert world.sync() == {"Corp": {**ZERO, "skipped": 2}}
    assert (world.users(), world.groups()) == (users, groups)
    assert [e for e, _ in world.events()].count("Directory sync") == 2


def test_a_changed_file_renames_removes_and_regroups(world: World) -> None:
    path = world.file("directory.ldif")
    number = world.connect("Corp", "ldif", path)
    world.sync()
    with world.deps.store.session() as session:
        bob = session.scalar(select(User.id).where(User.email == "bob@corp.example"))
    shutil.copyfile(DATA / "directory-changed.ldif", path)

    def sync_and_see_revocations(ctx: Context) -> set[int]:
        dirsync.sync(ctx)
        return set(ctx.revoked.users)

    assert world.run(sync_and_see_revocations) == {bob}
    assert world.connection(number).last_result == {
        **ZERO, "created": 1, "updated": 1, "removed": 1, "groupsRemoved": 2,
        "membershipsAdded": 2, "membershipsRemoved": 2, "skipped": 1}
    users = world.users()
    assert "bob@corp.example" not in users
    assert users["alice@corp.example"][0] == "Alice Jones"
    assert users["dave@corp.example"] == ("Dave", "ldap", number, False)
    assert world.groups() == {
        "Corp": ("ldap", set()),
        f"{CORP}Staff": ("ldap", {"alice@corp.example", "zoe@corp.example"}),
        f"{CORP}Engineering": ("ldap", {"zoe@corp.example", "dave@corp.example"})}


@sqlite_only
def test_csv_sync(world: World) -> None:
    number = world.connect("HR export", "csv", world.file("users.csv"))
    assert world.sync("HR export") == {"HR export": {
        **ZERO, "created": 3, "groupsCreated": 3, "membershipsAdded": 3, "skipped": 1}}
    assert {a: u for a, u in world.users().items() if u[1] == "ldap"} == {
        "erin@corp.example": ("Erin Example", "ldap", number, False),
        "frank@corp.example": ("Frank, Jr.", "ldap", number, False),
        "grace@corp.example": ("grace@corp.example", "ldap", number, False)}
    assert world.groups()["HR export/Sales"] == ("ldap", {"erin@corp.example"})


@sqlite_only
def test_users_not_imported_by_the_connection_are_left_alone(world: World) -> None:
    """A cloud user in the file is skipped (kept as it is) but is still a group member; the
    sync never removes it. An address taken by an alias is skipped and no member."""
    def setup(ctx: Context) -> None:
        identity.create_user(ctx, "alice@corp.example", name="Alice (cloud)", password="pw")
        zoe = identity.create_user(ctx, "zoe.other@corp.example")
        ctx.session.add(UserAlias(account_id=ctx.caller.account_id, user_id=zoe.id,
                                  address="zoe@corp.example", created_at=ctx.now()))
    world.run(setup)
    path = world.file("directory.ldif")
    world.connect("Corp", "ldif", path)
    assert world.sync()["Corp"] == {**ZERO, "created": 1, "groupsCreated": 4,
                                    "membershipsAdded": 4, "skipped": 4}
    users = world.users()
    assert users["alice@corp.example"] == ("Alice (cloud)", "cloud", None, True)
    assert "zoe@corp.example" not in users
    groups = world.groups()
    assert groups[f"{CORP}Staff"][1] == {"alice@corp.example", "bob@corp.example"}
    assert groups[f"{CORP}Engineering"][1] == {"bob@corp.example"}
    # Alice leaves the file: she stays a (cloud) user, and leaves the groups.
    path_text = (DATA / "directory-changed.ldif").read_text().replace(
        "dn: cn=Alice Smith", "dn: cn=Alice Gone").replace("mail: alice@", "mail: alice.gone@")
    Path(path).write_text(path_text)
    world.sync()
    assert world.users()["alice@corp.example"] == ("Alice (cloud)", "cloud", None, True)
    assert "alice@corp.example" not in world.groups()[f"{CORP}Staff"][1]


@sqlite_only
def test_a_user_whose_domain_stops_being_internal_is_removed(world: World) -> None:
    path = world.folder / "one.csv"
    path.write_text("mail\nann@corp.example\nbob@sub.corp.example\n")
    world.connect("One", "csv", str(path))
    assert world.sync()["One"] == {**ZERO, "created": 1, "skipped": 1}  # not a subdomain
    path.write_text("mail\nann@other.example\n")  # another account's domain
    assert world.sync()["One"] == {**ZERO, "removed": 1, "skipped": 1}
    assert world.users().keys() == set()


def test_a_malformed_file_fails_the_sync_and_imports_nothing(world: World) -> None:
    path = world.file("directory.ldif", "corp.ldif")
    number = world.connect("Corp", "ldif", path)
    world.sync()
    users, groups = world.users(), world.groups()
    shutil.copyfile(DATA / "malformed.ldif", path)
    error = world.fails(lambda ctx: dirsync.sync(ctx))
    assert error.code == "err_directory_sync_failed"
    assert error.message == ("Directory sync failed, nothing was imported: Corp: line 5: a "
                             "record must start with 'dn:'")
    assert (world.users(), world.groups()) == (users, groups)
    row = world.connection(number)
    assert (row.last_status, row.last_result) == ("failed",
                                                  {"error": "line 5: a record must start "
                                                            "with 'dn:'"})
    view = dirsync.connection_view(row)
    assert (view["status"], view["info"], view["lastResult"]) == (
        "failed", "line 5: a record must start with 'dn:'", ZERO)
    assert world.events()[-1] == ("Directory sync failed",
                                  "Corp: line 5: a record must start with 'dn:'")
    Path(path).unlink()
    error = world.fails(lambda ctx: dirsync.sync(ctx))
    assert "Corp: cannot read" in error.message and "No such file" in error.message


def test_syncing_several_connections_is_all_or_nothing(world: World) -> None:
    world.connect("Good", "csv", world.file("users.csv"))
    bad = world.connect("Bad", "csv", world.file("malformed.csv"))
    error = world.fails(lambda ctx: dirsync.sync(ctx))
    assert error.message.endswith("Bad: line 3: unexpected end of data")
    assert world.users() == {} and world.groups() == {}
    assert world.connection(bad).last_status == "failed"
    # The good one alone goes through.
    assert world.sync("Good")["Good"]["created"] == 3


@sqlite_only
def test_enabled_and_disabled_connections(world: World) -> None:
    assert world.fails(lambda ctx: dirsync.sync(ctx)).code == "err_directory_sync_no_connection"
    world.connect("Paused", "csv", world.file("users.csv"), enabled=False)
    assert world.fails(lambda ctx: dirsync.sync(ctx)).code == "err_directory_sync_no_connection"
    assert world.sync("Paused")["Paused"]["created"] == 3  # named: synced all the same


@sqlite_only
def test_a_root_folder_with_the_connection_name_fails_the_sync(world: World) -> None:
    world.run(lambda ctx: profiles.create_group(ctx, "Corp"))
    world.connect("Corp", "csv", world.file("users.csv"))
    error = world.fails(lambda ctx: dirsync.sync(ctx))
    assert "a root group named 'Corp' already exists" in error.message
    assert world.users() == {}


def test_remove_connection_takes_its_users_and_groups(world: World) -> None:
    world.run(lambda ctx: identity.create_user(ctx, "alice@corp.example"))
    world.connect("Corp", "ldif", world.file("directory.ldif"))
    world.sync()
    assert world.run(lambda ctx: dirsync.remove_connection(ctx, "Corp")) == {
        "usersRemoved": 2, "groupsRemoved": 4}
    assert set(world.users()) == {"alice@corp.example"}
    assert world.groups() == {}
    assert world.events()[-1] == ("Directory connection removed",
                                  "Corp: 2 user(s) and 4 group(s) removed")
    assert world.fails(lambda ctx: dirsync.remove_connection(ctx, "Corp")).code == (
        "err_directory_connection_not_found")


@sqlite_only
def test_add_connection_rules(world: World) -> None:
    number = world.connect(" Corp ", "LDIF", " /srv/corp.ldif ")
    row = world.connection(number)
    assert (row.name, row.kind, row.source_path, row.enabled) == ("Corp", "ldif",
                                                                  "/srv/corp.ldif", True)
    assert world.events() == [("Directory connection added", "Corp (ldif, /srv/corp.ldif)")]
    for name, kind, path, code, field in (
            (" ", "csv", "/x", "err_validation_blank", "name"),
            ("A/B", "csv", "/x", "err_validation_invalid_value", "name"),
            ("X" * 201, "csv", "/x", "err_validation_invalid_value", "name"),
            ("New", "json", "/x", "err_validation_invalid_value", "kind"),
            ("New", "csv", " ", "err_validation_blank", "file"),
            ("Corp", "csv", "/x", "err_already_exists", None)):
        error = world.fails(partial(dirsync.add_connection, name=name, kind=kind,
                                    source_path=path))
        assert (error.code, error.field) == (code, field), name
    # Names are per account.
    world.run(lambda ctx: dirsync.add_connection(ctx, "Corp", "csv", "/x"), world.other)


@sqlite_only
def test_connections_and_their_users_are_per_account(world: World) -> None:
    number = world.connect("Corp", "csv", world.file("users.csv"))
    world.sync()

    def other_account(ctx: Context) -> Any:
        return dirsync.get_connection(ctx, dirsync.secure_id(number))
    with pytest.raises(ApiError) as caught:
        world.run(other_account, world.other)
    assert caught.value.code == "err_directory_connection_not_found"
    assert world.run(dirsync.list_connections, world.other) == []
    with pytest.raises(ApiError) as caught:
        world.run(lambda ctx: dirsync.sync(ctx), world.other)
    assert caught.value.code == "err_directory_sync_no_connection"
