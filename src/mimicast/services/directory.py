"""Directory groups as the API sees them: the profile-group folder tree (which
`services/profiles.py` manages by folder path for the CLI), addressed by opaque ids.

The rules are profiles.py's: a folder's name is unique among its siblings and holds no "/"
(so every group keeps a path the CLI can name), members are normalised addresses or bare
domains, and the audit events read the same ("Profile group created", "… member added").

A group that a directory connection imported (`connection_id` set) is the directory's: it
changes only by syncing, so the API refuses to edit it, to add or remove its members, or to
put a folder into it (`err_folder_managed_by_sync`).
"""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import and_, bindparam, delete, func, insert, select, update
from sqlalchemy.orm import aliased

from mimicast.services import audit, ids, paging, profiles
from mimicast.services.context import Context
from mimicast.services.identity import normalise_domain, normalise_email
from mimicast.store.query import LIKE_ESCAPE, Query, contains
from mimicast.store.schema import Domain, GroupMember, ProfileGroup, User
from mimicast.wire.errors import ApiError

ID_KIND = "group"
SOURCES = ("cloud", "ldap")
# get-group-members `type`: how a member got into its group.
MEMBER_TYPES = {"cloud": "created_manually", "ldap": "ldap"}


def secure_id(number: int) -> str:
    return ids.secure_id(ID_KIND, number)


def row_id(value: str) -> int | None:
    return ids.row_id(ID_KIND, value)


# Look-ups -----------------------------------------------------------------------------------

_GROUP = Query(select(ProfileGroup.__table__).where(
    ProfileGroup.id == bindparam("id"), ProfileGroup.account_id == bindparam("account")))


def group_row(ctx: Context, group_id: str, field: str | None = None) -> Any:
    """The caller's group with this id, to read (a row of its columns); the same errors."""
    number = row_id(group_id)
    row = (_GROUP.first(ctx.unit, id=number, account=ctx.caller.account_id)
           if number is not None else None)
    if row is None:
        raise ApiError("err_folder_not_found", field=field, id=group_id)
    return row


_INTERNAL_DOMAINS = Query(select(Domain.name).where(Domain.account_id == bindparam("account"),
                                                    Domain.status == "internal"))


def internal_domains(ctx: Context) -> set[str]:
    return set(_INTERNAL_DOMAINS.scalars(ctx.unit, account=ctx.caller.account_id))


_SIBLING = select(ProfileGroup.id).where(ProfileGroup.account_id == bindparam("account"),
                                         ProfileGroup.name == bindparam("name"),
                                         ProfileGroup.id != bindparam("other"))
_AT_ROOT = Query(_SIBLING.where(ProfileGroup.parent_id.is_(None)).limit(1))
_UNDER = Query(_SIBLING.where(ProfileGroup.parent_id == bindparam("parent")).limit(1))


def name_taken(ctx: Context, parent_id: int | None, name: str,
               other_than: int | None = None) -> bool:
    """Whether a sibling under `parent_id` (None: the root) already has this name."""
    params = {"account": ctx.caller.account_id, "name": name, "other": other_than or 0}
    found = (_AT_ROOT.first(ctx.unit, **params) if parent_id is None
             else _UNDER.first(ctx.unit, parent=parent_id, **params))
    return found is not None


def _check_name(description: str) -> str:
    name = description.strip()
    if not name:
        raise ApiError("err_validation_blank", field="description")
    if "/" in name:
        raise ApiError("err_validation_invalid_value", field="description",
                       reason="a group name must not contain '/', which separates folders")
    return name


# Shapes -------------------------------------------------------------------------------------

def _folder_columns() -> list[Any]:
    """A folder as find-groups shows it, its member and sub-folder counts included."""
    child = aliased(ProfileGroup)
    members = (select(func.count()).select_from(GroupMember)
               .where(GroupMember.group_id == ProfileGroup.id).scalar_subquery())
    folders = (select(func.count()).select_from(child)
               .where(child.parent_id == ProfileGroup.id).scalar_subquery())
    return [ProfileGroup.id, ProfileGroup.name, ProfileGroup.source, ProfileGroup.parent_id,
            members.label("members"), folders.label("folders")]


_FOLDER = Query(select(*_folder_columns()).where(ProfileGroup.id == bindparam("id")))


def _folder(row: Any) -> dict[str, Any]:
    return {"id": secure_id(row.id), "description": row.name, "source": row.source,
            "parentId": secure_id(row.parent_id) if row.parent_id is not None else "",
            "userCount": row.members, "folderCount": row.folders}


def _member_view(source: str, member: Any, internal: set[str]) -> dict[str, Any]:
    # Told apart by the address, not `kind`: the CLI's path-based add stores every member
    # with the default kind "email", domains included.
    is_email = "@" in member.address
    domain = member.address.rpartition("@")[2]
    return {"emailAddress": member.address if is_email else "",
            "domain": "" if is_email else member.address,
            "internal": domain in internal,
            "type": MEMBER_TYPES.get(source, MEMBER_TYPES["cloud"]),
            "name": member.name or "", "notes": member.notes}


def _change_view(ctx: Context, group: Any, address: str, kind: str) -> dict[str, Any]:
    return {"id": ids.secure_id(f"groupmember:{address}", group.id),
            "folderId": secure_id(group.id),
            "emailAddress" if kind == "email" else "domain": address,
            "internal": address.rpartition("@")[2] in internal_domains(ctx)}


# Listings -----------------------------------------------------------------------------------

@functools.cache
def _groups(by_name: bool) -> paging.Keyset:
    """One source's groups of an account, oldest first, along (account, source, id)."""
    base = select(*_folder_columns()).where(ProfileGroup.account_id == bindparam("account"),
                                            ProfileGroup.source == bindparam("source"))
    if by_name:
        base = base.where(ProfileGroup.name.ilike(bindparam("needle"), escape=LIKE_ESCAPE))
    return paging.Keyset(base, order=[ProfileGroup.id],
                         pinned=[ProfileGroup.account_id, ProfileGroup.source])


def find_groups(ctx: Context, query: str | None, source: str | None) -> paging.Paged:
    """One page of the groups from `source` (the cloud ones by default, as the real service)
    whose name contains `query` (any case), oldest first; always the wrapper object."""
    chosen = source or "cloud"
    params: dict[str, Any] = {"account": ctx.caller.account_id, "source": chosen}
    if query:
        params["needle"] = contains(query)
    page = _groups(bool(query)).page(ctx, f"directory/find-groups|{chosen}|{query or ''}",
                                     **params)
    wrapper: dict[str, Any] = {"folders": [_folder(row) for row in page.rows],
                               "source": chosen}
    if query is not None:
        wrapper["query"] = query
    return paging.Paged(data=[wrapper], pagination=page.pagination)


# A group's members by address, with the name of the account's user each address is, if any.
_MEMBERS = paging.Keyset(
    select(GroupMember.address, GroupMember.notes, User.name)
    .outerjoin(User, and_(User.email == GroupMember.address,
                          User.account_id == bindparam("account")))
    .where(GroupMember.group_id == bindparam("group")),
    order=[GroupMember.address], pinned=[GroupMember.group_id])


def group_members(ctx: Context, group_id: str) -> paging.Paged:
    """One page of a group's members by address; `name` is the user's when the address is a
    user of the account."""
    group = group_row(ctx, group_id)
    page = _MEMBERS.page(ctx, f"directory/get-group-members|{group.id}",
                         account=ctx.caller.account_id, group=group.id)
    internal = internal_domains(ctx)
    return paging.Paged(
        data=[{"groupMembers": [_member_view(group.source, m, internal) for m in page.rows]}],
        pagination=page.pagination)


# Members ------------------------------------------------------------------------------------

def _member_address(email: str | None, domain: str | None) -> tuple[str, str]:
    """(address, kind) of the member an item names: an address or a whole domain. Empty
    strings count as absent (clients send `"domain": ""` beside an address)."""
    if email and domain:
        raise ApiError("err_validation_invalid_value", field="domain",
                       reason="give emailAddress or domain, not both")
    if email:
        return normalise_email(email), "email"
    if domain:
        return normalise_domain(domain), "domain"
    raise ApiError("err_validation_null", field="emailAddress")


_MEMBER = Query(select(GroupMember.address).where(GroupMember.group_id == bindparam("group"),
                                                  GroupMember.address == bindparam("address")))
_ADD_MEMBER = Query(insert(GroupMember).values(
    group_id=bindparam("group"), address=bindparam("address"), kind=bindparam("kind"),
    notes=bindparam("notes")))
_REMOVE_MEMBER = Query(delete(GroupMember).where(GroupMember.group_id == bindparam("group"),
                                                 GroupMember.address == bindparam("address")))


def add_member(ctx: Context, group_id: str, email: str | None, domain: str | None,
               notes: str = "") -> dict[str, Any]:
    group = profiles.editable(ctx, group_row(ctx, group_id))
    address, kind = _member_address(email, domain)
    if _MEMBER.first(ctx.unit, group=group.id, address=address) is not None:
        raise ApiError("err_folder_group_member_already_exists")
    _ADD_MEMBER.execute(ctx.unit, group=group.id, address=address, kind=kind, notes=notes)
    audit.record(ctx, audit.DIRECTORY, "Profile group member added",
                 f"{address} → {profiles.group_path(ctx.unit, group)}")
    return _change_view(ctx, group, address, kind)


def remove_member(ctx: Context, group_id: str, email: str | None,
                  domain: str | None) -> dict[str, Any]:
    group = profiles.editable(ctx, group_row(ctx, group_id))
    address, kind = _member_address(email, domain)
    if not _REMOVE_MEMBER.execute(ctx.unit, group=group.id, address=address):
        raise ApiError("err_folder_email_address_not_found")
    audit.record(ctx, audit.DIRECTORY, "Profile group member removed",
                 f"{address} ← {profiles.group_path(ctx.unit, group)}")
    return _change_view(ctx, group, address, kind)


# Groups -------------------------------------------------------------------------------------

_ADD_GROUP = Query(insert(ProfileGroup).values(
    account_id=bindparam("account"), name=bindparam("name"), parent_id=bindparam("parent"),
    source="cloud", created_at=bindparam("at")).returning(ProfileGroup.id))
_MOVE_GROUP = Query(update(ProfileGroup).where(ProfileGroup.id == bindparam("id"))
                    .values(name=bindparam("name"), parent_id=bindparam("parent")))
_REMOVE_GROUP = Query(delete(ProfileGroup).where(ProfileGroup.id == bindparam("id")))


def create_group(ctx: Context, description: str, parent_id: str | None) -> dict[str, Any]:
    """A new folder at the root, or under `parent_id` ("" or absent: the root)."""
    name = _check_name(description)
    parent = (profiles.editable(ctx, group_row(ctx, parent_id, "parentId")) if parent_id
              else None)
    if name_taken(ctx, parent.id if parent else None, name):
        raise ApiError("err_folder_already_exists", field="description", name=name)
    number = _ADD_GROUP.scalar(ctx.unit, account=ctx.caller.account_id, name=name,
                               parent=parent.id if parent else None, at=ctx.now())
    folder = _FOLDER.first(ctx.unit, id=number)
    audit.record(ctx, audit.DIRECTORY, "Profile group created",
                 profiles.group_path(ctx.unit, folder))
    return _folder(folder)


def _ancestors(ctx: Context, group: Any) -> set[int]:
    found: set[int] = set()
    current = group.parent_id
    while current is not None and current not in found:
        found.add(current)
        current = _PARENT_ID.scalar(ctx.unit, id=current)
    return found


_PARENT_ID = Query(select(ProfileGroup.parent_id).where(ProfileGroup.id == bindparam("id")))


def update_group(ctx: Context, group_id: str, description: str | None,
                 parent_id: str | None) -> dict[str, Any]:
    """Rename (`description`) and/or move (`parentId`; "" moves to the root) a folder; what
    is not given stays. A folder cannot move into itself or below itself."""
    group = profiles.editable(ctx, group_row(ctx, group_id))
    name = _check_name(description) if description is not None else group.name
    parent = group.parent_id
    if parent_id is not None:
        target = (profiles.editable(ctx, group_row(ctx, parent_id, "parentId"))
                  if parent_id else None)
        if target is not None and (target.id == group.id or group.id in _ancestors(ctx, target)):
            raise ApiError("err_validation_invalid_value", field="parentId",
                           reason="a group cannot move into itself or a folder below it")
        parent = target.id if target is not None else None
    if (name, parent) != (group.name, group.parent_id):
        if name_taken(ctx, parent, name, other_than=group.id):
            raise ApiError("err_folder_already_exists", field="description", name=name)
        before = profiles.group_path(ctx.unit, group)
        _MOVE_GROUP.execute(ctx.unit, id=group.id, name=name, parent=parent)
        audit.record(ctx, audit.DIRECTORY, "Profile group updated",
                     f"{before} → {profiles.group_path(ctx.unit, group_row(ctx, group_id))}")
    return _folder(_FOLDER.first(ctx.unit, id=group.id))


def delete_group(ctx: Context, group_id: str) -> dict[str, Any]:
    """Delete a folder with every folder below it, their members, and the application
    settings that point at any of them (the store's cascades)."""
    group = profiles.editable(ctx, group_row(ctx, group_id))
    path = profiles.group_path(ctx.unit, group)
    _REMOVE_GROUP.execute(ctx.unit, id=group.id)
    audit.record(ctx, audit.DIRECTORY, "Profile group deleted", path)
    return {"id": secure_id(group.id), "description": group.name, "deleted": True}
