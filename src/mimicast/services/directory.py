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

from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select

from mimicast.services import audit, ids, paging, profiles
from mimicast.services.context import Context
from mimicast.services.identity import normalise_domain, normalise_email
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

def get_group(ctx: Context, group_id: str, field: str | None = None) -> ProfileGroup:
    """The caller's group with this id; any other id (unknown, forged, another account's, or
    another kind's) is `err_folder_not_found`."""
    number = row_id(group_id)
    group = ctx.session.get(ProfileGroup, number) if number is not None else None
    if group is None or group.account_id != ctx.caller.account_id:
        raise ApiError("err_folder_not_found", field=field, id=group_id)
    return group


def internal_domains(ctx: Context) -> set[str]:
    return set(ctx.session.scalars(select(Domain.name).where(
        Domain.account_id == ctx.caller.account_id, Domain.status == "internal")))


def name_taken(ctx: Context, parent_id: int | None, name: str,
               other_than: int | None = None) -> bool:
    """Whether a sibling under `parent_id` (None: the root) already has this name."""
    query = select(ProfileGroup.id).where(
        ProfileGroup.account_id == ctx.caller.account_id, ProfileGroup.name == name,
        ProfileGroup.parent_id.is_(None) if parent_id is None
        else ProfileGroup.parent_id == parent_id)
    if other_than is not None:
        query = query.where(ProfileGroup.id != other_than)
    return ctx.session.scalar(query.limit(1)) is not None


def _check_name(description: str) -> str:
    name = description.strip()
    if not name:
        raise ApiError("err_validation_blank", field="description")
    if "/" in name:
        raise ApiError("err_validation_invalid_value", field="description",
                       reason="a group name must not contain '/', which separates folders")
    return name


# Shapes -------------------------------------------------------------------------------------

def _tallies(ctx: Context, groups: Iterable[ProfileGroup]) -> tuple[dict[int, int],
                                                                     dict[int, int]]:
    """Members and direct sub-folders of each group, in two queries for a whole page."""
    numbers = [g.id for g in groups]
    if not numbers:
        return {}, {}
    members = ctx.session.execute(select(GroupMember.group_id, func.count()).where(
        GroupMember.group_id.in_(numbers)).group_by(GroupMember.group_id))
    folders = ctx.session.execute(select(ProfileGroup.parent_id, func.count()).where(
        ProfileGroup.parent_id.in_(numbers)).group_by(ProfileGroup.parent_id))
    return ({number: count for number, count in members},
            {number: count for number, count in folders if number is not None})


def _folder(group: ProfileGroup, members: dict[int, int],
            folders: dict[int, int]) -> dict[str, Any]:
    return {"id": secure_id(group.id), "description": group.name, "source": group.source,
            "parentId": secure_id(group.parent_id) if group.parent_id is not None else "",
            "userCount": members.get(group.id, 0), "folderCount": folders.get(group.id, 0)}


def folder_view(ctx: Context, group: ProfileGroup) -> dict[str, Any]:
    ctx.session.flush()
    return _folder(group, *_tallies(ctx, [group]))


def _member_view(group: ProfileGroup, member: GroupMember, internal: set[str],
                 names: dict[str, str]) -> dict[str, Any]:
    # Told apart by the address, not `kind`: the CLI's path-based add stores every member
    # with the default kind "email", domains included.
    is_email = "@" in member.address
    domain = member.address.rpartition("@")[2]
    return {"emailAddress": member.address if is_email else "",
            "domain": "" if is_email else member.address,
            "internal": domain in internal,
            "type": MEMBER_TYPES.get(group.source, MEMBER_TYPES["cloud"]),
            "name": names.get(member.address, ""), "notes": member.notes}


def _change_view(ctx: Context, group: ProfileGroup, address: str, kind: str) -> dict[str, Any]:
    return {"id": ids.secure_id(f"groupmember:{address}", group.id),
            "folderId": secure_id(group.id),
            "emailAddress" if kind == "email" else "domain": address,
            "internal": address.rpartition("@")[2] in internal_domains(ctx)}


# Listings -----------------------------------------------------------------------------------

def find_groups(ctx: Context, query: str | None, source: str | None) -> paging.Paged:
    """One page of the groups from `source` (the cloud ones by default, as the real service)
    whose name contains `query` (any case), oldest first; always the wrapper object."""
    chosen = source or "cloud"
    statement = select(ProfileGroup).where(ProfileGroup.account_id == ctx.caller.account_id,
                                           ProfileGroup.source == chosen)
    if query:
        pattern = query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        statement = statement.where(ProfileGroup.name.ilike(f"%{pattern}%", escape="\\"))
    page = paging.keyset(ctx, statement, order=[ProfileGroup.id], key_of=lambda g: (g.id,),
                         pinned=[ProfileGroup.account_id, ProfileGroup.source],
                         scope=f"directory/find-groups|{chosen}|{query or ''}")
    members, folders = _tallies(ctx, page.rows)
    wrapper: dict[str, Any] = {"folders": [_folder(g, members, folders) for g in page.rows],
                               "source": chosen}
    if query is not None:
        wrapper["query"] = query
    return paging.Paged(data=[wrapper], pagination=page.pagination)


def group_members(ctx: Context, group_id: str) -> paging.Paged:
    """One page of a group's members by address; `name` is the user's when the address is a
    user of the account."""
    group = get_group(ctx, group_id)
    statement = select(GroupMember).where(GroupMember.group_id == group.id)
    page = paging.keyset(ctx, statement, order=[GroupMember.address],
                         key_of=lambda m: (m.address,),
                         scope=f"directory/get-group-members|{group.id}")
    addresses = [m.address for m in page.rows if "@" in m.address]
    names: dict[str, str] = {}
    if addresses:
        for email, user_name in ctx.session.execute(select(User.email, User.name).where(
                User.account_id == ctx.caller.account_id, User.email.in_(addresses))):
            names[email] = user_name
    internal = internal_domains(ctx)
    return paging.Paged(
        data=[{"groupMembers": [_member_view(group, m, internal, names) for m in page.rows]}],
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


def add_member(ctx: Context, group_id: str, email: str | None, domain: str | None,
               notes: str = "") -> dict[str, Any]:
    group = profiles.editable(ctx, get_group(ctx, group_id))
    address, kind = _member_address(email, domain)
    if ctx.session.get(GroupMember, (group.id, address)) is not None:
        raise ApiError("err_folder_group_member_already_exists")
    ctx.session.add(GroupMember(group_id=group.id, address=address, kind=kind, notes=notes))
    audit.record(ctx, audit.DIRECTORY, "Profile group member added",
                 f"{address} → {profiles.group_path(ctx.session, group)}")
    return _change_view(ctx, group, address, kind)


def remove_member(ctx: Context, group_id: str, email: str | None,
                  domain: str | None) -> dict[str, Any]:
    group = profiles.editable(ctx, get_group(ctx, group_id))
    address, kind = _member_address(email, domain)
    member = ctx.session.get(GroupMember, (group.id, address))
    if member is None:
        raise ApiError("err_folder_email_address_not_found")
    ctx.session.delete(member)
    audit.record(ctx, audit.DIRECTORY, "Profile group member removed",
                 f"{address} ← {profiles.group_path(ctx.session, group)}")
    return _change_view(ctx, group, address, kind)


# Groups -------------------------------------------------------------------------------------

def create_group(ctx: Context, description: str, parent_id: str | None) -> dict[str, Any]:
    """A new folder at the root, or under `parent_id` ("" or absent: the root)."""
    name = _check_name(description)
    parent = profiles.editable(ctx, get_group(ctx, parent_id, "parentId")) if parent_id else None
    if name_taken(ctx, parent.id if parent else None, name):
        raise ApiError("err_folder_already_exists", field="description", name=name)
    group = ProfileGroup(account_id=ctx.caller.account_id, name=name,
                         parent_id=parent.id if parent else None, created_at=ctx.now())
    ctx.session.add(group)
    ctx.session.flush()
    audit.record(ctx, audit.DIRECTORY, "Profile group created",
                 profiles.group_path(ctx.session, group))
    return folder_view(ctx, group)


def _ancestors(ctx: Context, group: ProfileGroup) -> set[int]:
    found: set[int] = set()
    current = group.parent_id
    while current is not None and current not in found:
        found.add(current)
        current = ctx.session.scalar(select(ProfileGroup.parent_id).where(
            ProfileGroup.id == current))
    return found


def update_group(ctx: Context, group_id: str, description: str | None,
                 parent_id: str | None) -> dict[str, Any]:
    """Rename (`description`) and/or move (`parentId`; "" moves to the root) a folder; what
    is not given stays. A folder cannot move into itself or below itself."""
    group = profiles.editable(ctx, get_group(ctx, group_id))
    name = _check_name(description) if description is not None else group.name
    parent = group.parent_id
    if parent_id is not None:
        target = (profiles.editable(ctx, get_group(ctx, parent_id, "parentId"))
                  if parent_id else None)
        if target is not None and (target.id == group.id or group.id in _ancestors(ctx, target)):
            raise ApiError("err_validation_invalid_value", field="parentId",
                           reason="a group cannot move into itself or a folder below it")
        parent = target.id if target is not None else None
    if (name, parent) != (group.name, group.parent_id):
        if name_taken(ctx, parent, name, other_than=group.id):
            raise ApiError("err_folder_already_exists", field="description", name=name)
        before = profiles.group_path(ctx.session, group)
        group.name, group.parent_id = name, parent
        audit.record(ctx, audit.DIRECTORY, "Profile group updated",
                     f"{before} → {profiles.group_path(ctx.session, group)}")
    return folder_view(ctx, group)


def delete_group(ctx: Context, group_id: str) -> dict[str, Any]:
    """Delete a folder with every folder below it, their members, and the application
    settings that point at any of them (the store's cascades)."""
    group = profiles.editable(ctx, get_group(ctx, group_id))
    path = profiles.group_path(ctx.session, group)
    view = {"id": secure_id(group.id), "description": group.name, "deleted": True}
    ctx.session.delete(group)
    audit.record(ctx, audit.DIRECTORY, "Profile group deleted", path)
    return view
