"""The account's own side of the mail: its internal domains, its users (who send and receive)
and its groups (who get mail together), read through the store. Sorted by name, not by row
id, so the same directory gives the same messages in any store."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, select

from mimicast.services.context import Context
from mimicast.store.query import Query
from mimicast.store.schema import Domain, GroupMember, ProfileGroup, User

_DOMAINS = Query(select(Domain.name).where(Domain.account_id == bindparam("account"),
                                           Domain.status == "internal").order_by(Domain.name))
_USERS = Query(select(User.email, User.name).where(User.account_id == bindparam("account"))
               .order_by(User.email))
_MEMBERS = Query(select(ProfileGroup.name, GroupMember.address)
                 .join(GroupMember, GroupMember.group_id == ProfileGroup.id)
                 .where(ProfileGroup.account_id == bindparam("account"),
                        GroupMember.kind == "email")
                 .order_by(ProfileGroup.name, GroupMember.address))
# Groups larger than this are addressed through a sample (an all-staff list mails everyone
# through one address; here each member would be a recipient row).
GROUP_RECIPIENTS = 8


@dataclass(frozen=True)
class Person:
    address: str
    name: str


@dataclass(frozen=True)
class Office:
    domains: tuple[str, ...]
    users: tuple[Person, ...]  # each with a display name (made from the address if need be)
    # The members of each group (folders of the same name together) who are users here;
    # groups of two or more only.
    groups: tuple[tuple[Person, ...], ...]
    # Users whose display name is in the directory (whom impersonation pretends to be: the
    # gateway knows their names); all users when none has one.
    named: tuple[Person, ...] = ()


def display_name(address: str, name: str) -> str:
    """The user's name, or one made from the address (`ann.lee@…` → "Ann Lee")."""
    if name.strip():
        return name.strip()
    local = address.partition("@")[0]
    return " ".join(part.capitalize() for part in local.replace("_", ".").split(".") if part)


def load_office(ctx: Context) -> Office:
    account = ctx.caller.account_id
    domains = tuple(_DOMAINS.scalars(ctx.unit, account=account))
    internal = frozenset(domains)
    rows = [row for row in _USERS.all(ctx.unit, account=account)
            if row.email.rpartition("@")[2] in internal]
    users = tuple(Person(row.email, display_name(row.email, row.name)) for row in rows)
    named = tuple(person for person, row in zip(users, rows, strict=True)
                  if row.name.strip()) or users
    by_address = {p.address: p for p in users}
    members: dict[str, list[Person]] = {}
    for row in _MEMBERS.all(ctx.unit, account=account):
        person = by_address.get(row.address)
        if person is not None and person not in members.setdefault(row.name, []):
            members[row.name].append(person)
    groups = tuple(tuple(found) for found in members.values() if len(found) >= 2)
    return Office(domains, users, groups, named)
