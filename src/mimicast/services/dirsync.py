"""Directory Sync: connections to a directory export (an LDIF or CSV file an operator points
at, read afresh at each sync) and the sync that makes the account match it.

What a sync does, for each connection:
- Users. Every address of the file in one of the account's internal domains becomes a user
  (source "ldap", this connection, no password: Basic-AD once a domain password is set);
  names follow the file. A user this connection imported that the file no longer lists (or
  whose domain is no longer internal) is deleted from the account, with its bindings. An
  address that is not valid, outside the internal domains, or another user's (a cloud user,
  another connection's, another account's) is `skipped`; an address of the account's own
  users still counts as a group member.
- Groups. Under a root folder named after the connection, one folder per directory group
  ("/" in a name becomes "-", as "/" separates folders); a group gone from the file is
  deleted; memberships follow the file exactly.
Every sync reads the whole file (`type` "full": there are no deltas), so a second sync of an
unchanged file changes nothing. One audit event per sync carries the counts.

A sync is one transaction. A file that cannot be read or parsed fails the sync before
anything is written: the failure is recorded on the connection (status "failed", `info`) in
a transaction of its own, and the caller gets `err_directory_sync_failed`.
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, select

from mimicast.services import audit, directory, ids
from mimicast.services.context import Context
from mimicast.services.identity import normalise_email
from mimicast.store.query import Query
from mimicast.store.schema import DirectoryConnection, GroupMember, ProfileGroup, User, UserAlias
from mimicast.wire.dates import format_date
from mimicast.wire.errors import ApiError

ID_KIND = "dirconnection"
KINDS = ("ldif", "csv")
SYNC_TYPE = "full"
OK, FAILED = "ok", "failed"
COUNTS = ("created", "updated", "removed", "groupsCreated", "groupsRemoved",
          "membershipsAdded", "membershipsRemoved", "skipped")
NAME_LENGTH = 200  # users.name and profile_groups.name
EMAIL_LENGTH = 320
CHUNK = 500  # addresses per IN (...) look-up


class SyncError(Exception):
    """Why a connection cannot be synced: its file cannot be read or parsed (the message
    names the line), or its groups have no place in the tree."""


@dataclass
class Source:
    """What a directory file says: its users and its groups."""

    # address (as written, lower-cased) → display name; the first mention wins
    users: dict[str, str] = field(default_factory=dict)
    # group name → member addresses
    groups: dict[str, set[str]] = field(default_factory=dict)

    def add_user(self, address: str, name: str) -> None:
        self.users.setdefault(address.strip().lower(), name.strip())

    def add_group(self, name: str) -> set[str]:
        return self.groups.setdefault(name.strip(), set())

    def add_member(self, group: str, address: str) -> None:
        self.add_group(group).add(address.strip().lower())


# Reading the file ---------------------------------------------------------------------------

def read_source(kind: str, path: str) -> Source:
    try:
        raw = Path(path).read_bytes()
    except OSError as error:
        raise SyncError(f"cannot read {path}: {error.strerror or error}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise SyncError(f"{path} is not UTF-8 text (byte {error.start})") from None
    return parse_ldif(text) if kind == "ldif" else parse_csv(text)


# CSV: a header row, then one user per row; the groups cell lists groups split by ";".
CSV_COLUMNS = {"emailaddress": "email", "email": "email", "mail": "email",
               "name": "name", "displayname": "name", "cn": "name", "fullname": "name",
               "groups": "groups", "group": "groups", "memberof": "groups"}
CSV_LABELS = {"email": "email address", "name": "name", "groups": "groups"}


def parse_csv(text: str) -> Source:
    """Header names are matched without case, spaces, "-" or "_" (`Email Address`, `mail`,
    `displayName`, `memberOf` …); unknown columns are ignored; blank rows are skipped."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    source = Source()
    try:
        rows = (row for row in reader if any(cell.strip() for cell in row))
        header = next(rows, None)
        if header is None:
            raise SyncError("the file is empty: expected a header row such as "
                            "emailAddress,name,groups")
        columns: dict[str, int] = {}
        for index, title in enumerate(header):
            key = CSV_COLUMNS.get(re.sub(r"[\s_-]", "", title).lower())
            if key in columns:
                raise SyncError(f"line {reader.line_num}: two columns give the "
                                f"{CSV_LABELS[key]}")
            if key is not None:
                columns[key] = index
        if "email" not in columns:
            raise SyncError(f"line {reader.line_num}: no email address column "
                            "(emailAddress, email or mail)")
        for row in rows:
            if len(row) > len(header):
                raise SyncError(f"line {reader.line_num}: {len(row)} fields, but the header "
                                f"has {len(header)}")
            cells = {key: row[index].strip() if index < len(row) else ""
                     for key, index in columns.items()}
            source.add_user(cells["email"], cells.get("name", ""))
            for group in cells.get("groups", "").split(";"):
                if group.strip() and cells["email"]:
                    source.add_member(group, cells["email"])
    except csv.Error as error:
        raise SyncError(f"line {reader.line_num}: {error}") from None
    return source


# LDIF (RFC 2849): records separated by blank lines, each starting with `dn:`; `attr: value`,
# `attr:: base64`; a line starting with one space continues the one before; `#` comments.
ATTRIBUTE = re.compile(r"(?P<name>[A-Za-z0-9][A-Za-z0-9.;-]*)(?P<sep>::|:<|:) *(?P<value>.*)",
                       re.DOTALL)
GROUP_CLASSES = frozenset({"group", "groupofnames", "groupofuniquenames"})


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """(number of its first physical line, unfolded line); "" separates records."""
    current: list[str] | None = None
    start = 0
    for number, line in enumerate(text.split("\n"), 1):
        line = line.removesuffix("\r")
        if line.startswith(" "):
            if not current or current == [""]:
                raise SyncError(f"line {number}: a continuation line (one leading space) "
                                "must follow an attribute line")
            current.append(line[1:])
            continue
        if current is not None:
            yield start, "".join(current)
        current, start = [line], number
    if current is not None:
        yield start, "".join(current)


def _attribute(number: int, line: str) -> tuple[str, str | None]:
    """(attribute name in lower case, without options; value, or None for a URL value)."""
    match = ATTRIBUTE.fullmatch(line)
    if match is None:
        raise SyncError(f"line {number}: expected 'attribute: value', found {line[:60]!r}")
    name, sep, value = match["name"].split(";")[0].lower(), match["sep"], match["value"]
    if sep == ":<":
        return name, None  # never fetched: a sync reads the one file it was given
    if sep == "::":
        try:
            # Binary attributes (photos, GUIDs) decode with replacements; only text is used.
            value = base64.b64decode(value.strip(), validate=True).decode("utf-8", "replace")
        except binascii.Error:
            raise SyncError(f"line {number}: {name} has a value that is not base64") from None
    return name, value.strip()


def ldif_records(text: str) -> Iterator[tuple[str, dict[str, list[str]]]]:
    """(dn, attributes by lower-case name) of each content record."""
    block: list[tuple[int, str]] = []
    first = True
    for number, line in [*_logical_lines(text), (0, "")]:
        if line.startswith("#"):
            continue
        if line:
            block.append((number, line))
            continue
        if first and block and _attribute(*block[0])[0] == "version":
            block = block[1:]
        if block:
            first = False
            yield _record(block)
        block = []


def _record(block: list[tuple[int, str]]) -> tuple[str, dict[str, list[str]]]:
    number, line = block[0]
    name, dn = _attribute(number, line)
    if name != "dn" or dn is None:
        raise SyncError(f"line {number}: a record must start with 'dn:'")
    attributes: dict[str, list[str]] = {}
    for number, line in block[1:]:
        name, value = _attribute(number, line)
        if value is not None:
            attributes.setdefault(name, []).append(value)
    change = attributes.get("changetype", ["add"])[0].lower()
    if change != "add":
        raise SyncError(f"line {block[0][0]}: a change record (changetype: {change}); "
                        "export the directory's entries instead")
    return dn, attributes


_UNESCAPED_COMMA = re.compile(r"(?<!\\),")


def dn_key(dn: str) -> str:
    """A DN compared as directories do: no case, no spaces around "," and "="."""
    return ",".join(re.sub(r"\s*=\s*", "=", part.strip(), count=1).lower()
                    for part in _UNESCAPED_COMMA.split(dn))


def rdn_value(dn: str) -> str:
    """The value of a DN's first component: `cn=Sales\\, EU,ou=Groups` → `Sales, EU`."""
    value = _UNESCAPED_COMMA.split(dn, maxsplit=1)[0].partition("=")[2].strip()
    out = bytearray()
    index = 0
    while index < len(value):
        pair = value[index + 1:index + 3]
        if value[index] == "\\" and re.fullmatch(r"[0-9A-Fa-f]{2}", pair):
            out.append(int(pair, 16))
            index += 3
        elif value[index] == "\\" and index + 1 < len(value):
            out += value[index + 1].encode()
            index += 2
        else:
            out += value[index].encode()
            index += 1
    return out.decode("utf-8", "replace")


def _first(attributes: dict[str, list[str]], name: str) -> str:
    return next((v for v in attributes.get(name, []) if v), "")


def parse_ldif(text: str) -> Source:
    """Users are entries with a `mail` (named by `displayName`, else `cn`); groups are entries
    of class group / groupOfNames / groupOfUniqueNames (named by `cn`), whose `member` /
    `uniqueMember` DNs resolve to users' addresses. A user's `memberOf` DNs add it to those
    groups, named by the group entry or else by the DN's first value. Member DNs that are not
    user entries (nested groups, contacts without mail) are ignored."""
    users: list[tuple[str, str, str, list[str]]] = []
    groups: list[tuple[str, str, list[str]]] = []
    for dn, attributes in ldif_records(text):
        classes = {c.lower() for c in attributes.get("objectclass", [])}
        if classes & GROUP_CLASSES:
            members = attributes.get("member", []) + attributes.get("uniquemember", [])
            groups.append((dn_key(dn), _first(attributes, "cn") or rdn_value(dn), members))
        elif _first(attributes, "mail"):
            name = _first(attributes, "displayname") or _first(attributes, "cn")
            users.append((dn_key(dn), _first(attributes, "mail"), name,
                          attributes.get("memberof", [])))
    source = Source()
    by_dn: dict[str, str] = {}
    for key, address, name, _ in users:
        source.add_user(address, name)
        by_dn.setdefault(key, address)
    group_names = {key: name for key, name, _ in groups}
    for _, name, members in groups:
        source.add_group(name)
        for member in members:
            if dn_key(member) in by_dn:
                source.add_member(name, by_dn[dn_key(member)])
    for _, address, _, member_of in users:
        for dn in member_of:
            source.add_member(group_names.get(dn_key(dn)) or rdn_value(dn), address)
    return source


# Connections --------------------------------------------------------------------------------

def secure_id(number: int) -> str:
    return ids.secure_id(ID_KIND, number)


def connection_view(row: Any) -> dict[str, Any]:
    result: dict[str, Any] = dict(row.last_result or {})
    return {"id": secure_id(row.id), "description": row.name, "serverType": row.kind,
            "enabled": row.enabled, "sourcePath": row.source_path, "status": row.last_status,
            "info": str(result.get("error", "")),
            "lastSync": format_date(row.last_sync_at) if row.last_sync_at else "",
            "lastResult": {name: int(result.get(name, 0)) for name in COUNTS}}


def _check_connection_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise ApiError("err_validation_blank", field="name")
    if "/" in name or len(name) > NAME_LENGTH:
        # The name is also the name of the root folder its groups sit in.
        raise ApiError("err_validation_invalid_value", field="name",
                       reason=f"a connection name has at most {NAME_LENGTH} characters and "
                              "no '/' (it names the folder of its groups)")
    return name


def add_connection(ctx: Context, name: str, kind: str, source_path: str,
                   enabled: bool = True) -> DirectoryConnection:
    name = _check_connection_name(name)
    kind = kind.strip().lower()
    if kind not in KINDS:
        raise ApiError("err_validation_invalid_value", field="kind",
                       reason="kind must be one of " + ", ".join(KINDS))
    if not source_path.strip():
        raise ApiError("err_validation_blank", field="file")
    if ctx.session.scalar(select(DirectoryConnection.id).where(
            DirectoryConnection.account_id == ctx.caller.account_id,
            DirectoryConnection.name == name)) is not None:
        raise ApiError("err_already_exists", what="Directory connection", name=name)
    row = DirectoryConnection(account_id=ctx.caller.account_id, name=name, kind=kind,
                              source_path=source_path.strip(), enabled=enabled, last_status="",
                              last_result={}, created_at=ctx.now())
    ctx.session.add(row)
    ctx.session.flush()
    audit.record(ctx, audit.DIRECTORY, "Directory connection added",
                 f"{name} ({kind}, {row.source_path})")
    return row


_CONNECTIONS = select(DirectoryConnection).where(
    DirectoryConnection.account_id == bindparam("account")).order_by(DirectoryConnection.name)
_CONNECTION_ROWS = Query(_CONNECTIONS.with_only_columns(*DirectoryConnection.__table__.columns))


def list_connections(ctx: Context) -> list[DirectoryConnection]:
    """The account's connections by name, to change."""
    return list(ctx.session.scalars(_CONNECTIONS, {"account": ctx.caller.account_id}))


def connection_rows(ctx: Context) -> list[Any]:
    """The account's connections by name, to read (rows of their columns)."""
    return _CONNECTION_ROWS.all(ctx.unit, account=ctx.caller.account_id)


def find_connection(ctx: Context, name: str) -> DirectoryConnection:
    row = ctx.session.scalar(select(DirectoryConnection).where(
        DirectoryConnection.account_id == ctx.caller.account_id,
        DirectoryConnection.name == name.strip()))
    if row is None:
        raise ApiError("err_directory_connection_not_found", connection=name)
    return row


def get_connection(ctx: Context, connection_id: str) -> DirectoryConnection:
    number = ids.row_id(ID_KIND, connection_id)
    row = ctx.session.get(DirectoryConnection, number) if number is not None else None
    if row is None or row.account_id != ctx.caller.account_id:
        raise ApiError("err_directory_connection_not_found", field="connectionId",
                       connection=connection_id)
    return row


def _root(ctx: Context, row: DirectoryConnection) -> ProfileGroup | None:
    return ctx.session.scalar(select(ProfileGroup).where(
        ProfileGroup.account_id == ctx.caller.account_id,
        ProfileGroup.connection_id == row.id, ProfileGroup.parent_id.is_(None)))


def remove_connection(ctx: Context, name: str) -> dict[str, int]:
    """Remove a connection and what it imported: its users (deleted from the account) and its
    groups. Answers how many of each went."""
    row = find_connection(ctx, name)
    users = list(ctx.session.scalars(select(User).where(
        User.account_id == ctx.caller.account_id, User.connection_id == row.id)))
    for user in users:
        ctx.revoked.users.add(user.id)
        ctx.session.delete(user)
    root = _root(ctx, row)
    groups = 0
    if root is not None:
        groups = len(ctx.session.scalars(select(ProfileGroup.id).where(
            ProfileGroup.parent_id == root.id)).all())
        ctx.session.delete(root)  # its folders and their members go with it (cascade)
    ctx.session.delete(row)
    audit.record(ctx, audit.DIRECTORY, "Directory connection removed",
                 f"{row.name}: {len(users)} user(s) and {groups} group(s) removed")
    return {"usersRemoved": len(users), "groupsRemoved": groups}


# The sync -----------------------------------------------------------------------------------

def execute_sync(ctx: Context, connection_id: str | None) -> dict[str, str]:
    """`/api/directory/execute-sync`: sync now; the wire answer of the real service."""
    sync(ctx, get_connection(ctx, connection_id) if connection_id else None)
    return {"syncStatus": "started", "type": SYNC_TYPE}


def sync(ctx: Context, connection: DirectoryConnection | None = None
         ) -> list[DirectoryConnection]:
    """Sync one connection, or every enabled one, all or nothing; answers the synced
    connections with their new `last_result`."""
    rows = ([connection] if connection is not None
            else [r for r in list_connections(ctx) if r.enabled])
    if not rows:
        raise ApiError("err_directory_sync_no_connection")
    plans: list[tuple[DirectoryConnection, Source]] = []
    failures: list[tuple[DirectoryConnection, str]] = []
    for row in rows:
        try:
            plans.append((row, _prepare(ctx, row)))
        except SyncError as error:
            failures.append((row, str(error)))
    if failures:
        _record_failures(ctx, failures)
        raise ApiError("err_directory_sync_failed",
                       reason="; ".join(f"{row.name}: {message}" for row, message in failures))
    # Two syncs of one connection take turns (a row lock on PostgreSQL; SQLite has one writer).
    ctx.session.execute(select(DirectoryConnection.id).where(
        DirectoryConnection.id.in_([row.id for row in rows])).with_for_update())
    for row, source in plans:
        counts: dict[str, object] = dict(_apply(ctx, row, source))
        row.last_sync_at, row.last_status, row.last_result = ctx.now(), OK, counts
        audit.record(ctx, audit.DIRECTORY, "Directory sync",
                     f"{row.name}: " + " ".join(f"{k}={v}" for k, v in counts.items()))
    return rows


def _prepare(ctx: Context, row: DirectoryConnection) -> Source:
    """Everything that can fail, checked before anything is written."""
    source = read_source(row.kind, row.source_path)
    if _root(ctx, row) is None and directory.name_taken(ctx, None, row.name):
        raise SyncError(f"a root group named {row.name!r} already exists; rename that group "
                        "or add the connection under another name")
    return source


def _record_failures(ctx: Context, failures: list[tuple[DirectoryConnection, str]]) -> None:
    """Recorded in a unit of its own once the caller's has ended: the error raised next rolls
    the caller's back, and it holds the store's one writer until then."""
    failed = [(row.id, row.name, message) for row, message in failures]

    def record() -> None:
        with ctx.deps.store.unit() as unit:
            own = Context(ctx.deps, unit, ctx.caller)
            for number, name, message in failed:
                stored = own.session.get(DirectoryConnection, number)
                if stored is None:
                    continue
                stored.last_sync_at, stored.last_status = ctx.now(), FAILED
                stored.last_result = {"error": message}
                audit.record(own, audit.DIRECTORY, "Directory sync failed", f"{name}: {message}")

    ctx.followups.append(record)


def _chunks(values: Iterable[str]) -> Iterator[list[str]]:
    items = list(values)
    for start in range(0, len(items), CHUNK):
        yield items[start:start + CHUNK]


def _importable(ctx: Context, source: Source, counts: dict[str, int]) -> dict[str, str]:
    """The file's addresses as written → normalised, for those this account may hold."""
    internal = directory.internal_domains(ctx)
    accepted: dict[str, str] = {}
    for raw in source.users:
        try:
            address = normalise_email(raw)
        except ApiError:
            address = ""
        if address and len(address) <= EMAIL_LENGTH and address.rpartition("@")[2] in internal:
            accepted[raw] = address
        else:
            counts["skipped"] += 1
    return accepted


def _apply(ctx: Context, row: DirectoryConnection, source: Source) -> dict[str, int]:
    counts = dict.fromkeys(COUNTS, 0)
    accepted = _importable(ctx, source, counts)
    wanted = {address: source.users[raw][:NAME_LENGTH] or address
              for raw, address in accepted.items()}
    members = _sync_users(ctx, row, wanted, counts)
    _sync_groups(ctx, row, source, {raw: a for raw, a in accepted.items() if a in members},
                 counts)
    return counts


def _sync_users(ctx: Context, row: DirectoryConnection, wanted: dict[str, str],
                counts: dict[str, int]) -> set[str]:
    """Create, rename and delete this connection's users; answers the addresses that may be
    group members (every wanted address that is, or now became, a user of the account)."""
    account = ctx.caller.account_id
    known: dict[str, User] = {}
    for chunk in _chunks(wanted):
        known.update((u.email, u) for u in ctx.session.scalars(select(User).where(
            User.account_id == account, User.email.in_(chunk))))
    taken: set[str] = set()
    for chunk in _chunks(a for a in wanted if a not in known):
        taken.update(ctx.session.scalars(select(User.email).where(User.email.in_(chunk))))
        taken.update(ctx.session.scalars(select(UserAlias.address).where(
            UserAlias.address.in_(chunk))))
    for address, name in wanted.items():
        user = known.get(address)
        if user is None and address not in taken:
            ctx.session.add(User(account_id=account, email=address,
                                 domain=address.rpartition("@")[2], name=name, source="ldap",
                                 connection_id=row.id, created_at=ctx.now()))
            counts["created"] += 1
        elif user is not None and user.connection_id == row.id:
            if user.name != name:
                user.name = name
                counts["updated"] += 1
        else:
            counts["skipped"] += 1
    for user in list(ctx.session.scalars(select(User).where(
            User.account_id == account, User.connection_id == row.id))):
        if user.email not in wanted:
            ctx.revoked.users.add(user.id)
            ctx.session.delete(user)
            counts["removed"] += 1
    return set(wanted) - taken


def _group_name(raw: str) -> str:
    return raw.strip().replace("/", "-")[:NAME_LENGTH].strip()


def _sync_groups(ctx: Context, row: DirectoryConnection, source: Source,
                 addresses: dict[str, str], counts: dict[str, int]) -> None:
    """Make the folders under the connection's root folder, and their members, match the
    file; `addresses` maps the file's addresses to the members they may become."""
    desired: dict[str, set[str]] = {}
    for raw_name, raw_members in source.groups.items():
        name = _group_name(raw_name)
        if name:
            desired.setdefault(name, set()).update(
                addresses[m] for m in raw_members if m in addresses)
    root = _root(ctx, row)
    if root is None:
        root = ProfileGroup(account_id=ctx.caller.account_id, name=row.name, source="ldap",
                            connection_id=row.id, created_at=ctx.now())
        ctx.session.add(root)
        ctx.session.flush()
    current = {g.name: g for g in ctx.session.scalars(select(ProfileGroup).where(
        ProfileGroup.parent_id == root.id))}
    have: dict[int, dict[str, GroupMember]] = {}
    for member in ctx.session.scalars(select(GroupMember).join(
            ProfileGroup, ProfileGroup.id == GroupMember.group_id).where(
            ProfileGroup.parent_id == root.id)):
        have.setdefault(member.group_id, {})[member.address] = member
    for name, group in current.items():
        if name not in desired:
            ctx.session.delete(group)  # its members go with it (cascade)
            counts["groupsRemoved"] += 1
    for name, wanted in desired.items():
        found = current.get(name)
        if found is None:
            group = ProfileGroup(account_id=ctx.caller.account_id, parent_id=root.id,
                                 name=name, source="ldap", connection_id=row.id,
                                 created_at=ctx.now())
            ctx.session.add(group)
            ctx.session.flush()
            counts["groupsCreated"] += 1
        else:
            group = found
        existing = have.get(group.id, {})
        for address in sorted(wanted - existing.keys()):
            ctx.session.add(GroupMember(group_id=group.id, address=address, kind="email"))
            counts["membershipsAdded"] += 1
        for address in existing.keys() - wanted:
            ctx.session.delete(existing[address])
            counts["membershipsRemoved"] += 1
