"""Profile groups (a folder tree of addresses), authentication profiles, application settings,
and the rule that gives each user an effective authentication profile."""

from __future__ import annotations

import re
from typing import Any, Protocol, TypeVar

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from mimicast.services import audit
from mimicast.services.context import Context
from mimicast.services.identity import normalise_domain, normalise_email
from mimicast.store.query import Query
from mimicast.store.schema import (
    AppSetting,
    AuthProfile,
    DirectoryConnection,
    GroupMember,
    ProfileGroup,
)
from mimicast.store.unit import Unit
from mimicast.wire.errors import ApiError


class _Imported(Protocol):
    connection_id: int | None


G = TypeVar("G", bound=_Imported)

TTL_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
NEVER_MS = 3_153_600_000_000  # what the real service reports as the duration of "Never Expires"


def parse_ttl(text: str) -> int | None:
    """`90s`, `30m`, `12h`, `3d` → seconds; `never` → None."""
    value = text.strip().lower()
    if value in {"never", "never expires", "none"}:
        return None
    match = re.fullmatch(r"(\d+)\s*([smhd]?)", value)
    if not match or int(match.group(1)) <= 0:
        raise ApiError("err_validation_invalid_value", field="ttl",
                       reason=f"{text!r}: use a number with s, m, h or d, or 'never'")
    return int(match.group(1)) * TTL_UNITS[match.group(2) or "m"]


def format_ttl(seconds: int | None) -> str:
    if seconds is None:
        return "never"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


# Profile groups -----------------------------------------------------------------------------

def _split_path(path: str) -> list[str]:
    parts = [p.strip() for p in path.strip().strip("/").split("/") if p.strip()]
    if not parts:
        raise ApiError("err_validation_blank", field="group")
    return parts


def find_group(ctx: Context, path: str) -> ProfileGroup:
    """A group by its folder path, e.g. `Integrations/Splunk Admin`."""
    parent: int | None = None
    group: ProfileGroup | None = None
    for name in _split_path(path):
        group = ctx.session.scalar(select(ProfileGroup).where(
            ProfileGroup.account_id == ctx.caller.account_id, ProfileGroup.name == name,
            ProfileGroup.parent_id.is_(None) if parent is None
            else ProfileGroup.parent_id == parent))
        if group is None:
            raise ApiError("err_object_not_found", what="Profile group", name=path)
        parent = group.id
    assert group is not None
    return group


_CONNECTION_NAME = Query(select(DirectoryConnection.name).where(
    DirectoryConnection.id == bindparam("id")))


def editable(ctx: Context, group: G) -> G:
    """The group itself (an ORM object or a row), unless a directory connection imported it:
    then it changes only by syncing (the API and the CLI alike get
    `err_folder_managed_by_sync`)."""
    if group.connection_id is not None:
        name = _CONNECTION_NAME.scalar(ctx.unit, id=group.connection_id)
        raise ApiError("err_folder_managed_by_sync", connection=name)
    return group


def member_of(address: str) -> tuple[str, str]:
    """(normalised member, kind): an address (`user@example.com`) or a whole domain."""
    value = address.strip().lower()
    if "@" in value:
        return normalise_email(value), "email"
    return normalise_domain(value, "address"), "domain"


def create_group(ctx: Context, path: str) -> ProfileGroup:
    """Create the folder at `path`, and any missing folders above it."""
    parts = _split_path(path)
    parent: ProfileGroup | None = None
    created = False
    for index, name in enumerate(parts):
        sub_path = "/".join(parts[: index + 1])
        try:
            parent = find_group(ctx, sub_path)
        except ApiError:
            if parent is not None:
                editable(ctx, parent)
            parent = ProfileGroup(account_id=ctx.caller.account_id, name=name,
                                  parent_id=parent.id if parent else None, created_at=ctx.now())
            ctx.session.add(parent)
            ctx.session.flush()
            created = True
    if not created:
        raise ApiError("err_already_exists", what="Profile group", name=path)
    audit.record(ctx, audit.DIRECTORY, "Profile group created", path)
    assert parent is not None
    return parent


_PARENT = Query(select(ProfileGroup.name, ProfileGroup.parent_id)
                .where(ProfileGroup.id == bindparam("id")))


def group_path(work: Unit | Session, group: Any) -> str:
    """The group's folder path, `Parent/Child` (`group` an ORM object or a row)."""
    unit = work if isinstance(work, Unit) else Unit.over(work)
    names = [group.name]
    parent_id = group.parent_id
    while parent_id is not None:
        parent = _PARENT.first(unit, id=parent_id)
        if parent is None:
            break
        names.append(parent.name)
        parent_id = parent.parent_id
    return "/".join(reversed(names))


def list_groups(ctx: Context) -> list[tuple[str, list[str]]]:
    groups = ctx.session.scalars(select(ProfileGroup).where(
        ProfileGroup.account_id == ctx.caller.account_id))
    result = []
    for group in groups:
        members = ctx.session.scalars(select(GroupMember.address).where(
            GroupMember.group_id == group.id).order_by(GroupMember.address))
        result.append((group_path(ctx.session, group), list(members)))
    return sorted(result)


def add_group_member(ctx: Context, path: str, address: str) -> None:
    """Add an address (`user@example.com`) or a whole domain (`example.com`) to a group."""
    group = editable(ctx, find_group(ctx, path))
    member, kind = member_of(address)
    if ctx.session.get(GroupMember, (group.id, member)) is not None:
        raise ApiError("err_already_exists", what="Group member", name=member)
    ctx.session.add(GroupMember(group_id=group.id, address=member, kind=kind))
    audit.record(ctx, audit.DIRECTORY, "Profile group member added", f"{member} → {path}")


def remove_group_member(ctx: Context, path: str, address: str) -> None:
    group = editable(ctx, find_group(ctx, path))
    member = ctx.session.get(GroupMember, (group.id, address.strip().lower()))
    if member is None:
        raise ApiError("err_object_not_found", what="Group member", name=address)
    ctx.session.delete(member)
    audit.record(ctx, audit.DIRECTORY, "Profile group member removed", f"{address} ← {path}")


# Authentication profiles and application settings --------------------------------------------

def create_auth_profile(ctx: Context, description: str, ttl_seconds: int | None,
                        extend_on_validate: bool = False) -> AuthProfile:
    if not description.strip():
        raise ApiError("err_validation_blank", field="description")
    profile = AuthProfile(account_id=ctx.caller.account_id, description=description.strip(),
                          ttl_seconds=ttl_seconds, extend_on_validate=extend_on_validate,
                          is_default=False, created_at=ctx.now())
    ctx.session.add(profile)
    ctx.session.flush()
    audit.record(ctx, audit.SERVICES, "Authentication profile created",
                 f"{profile.description} ttl={format_ttl(ttl_seconds)} "
                 f"extendOnValidate={extend_on_validate}")
    return profile


def find_auth_profile(ctx: Context, ref: str) -> AuthProfile:
    """By id or by description."""
    query = select(AuthProfile).where(AuthProfile.account_id == ctx.caller.account_id)
    profile = ctx.session.scalar(query.where(AuthProfile.id == int(ref)) if ref.isdigit()
                                 else query.where(AuthProfile.description == ref.strip()))
    if profile is None:
        raise ApiError("err_object_not_found", what="Authentication profile", name=ref)
    return profile


def list_auth_profiles(ctx: Context) -> list[AuthProfile]:
    return list(ctx.session.scalars(select(AuthProfile).where(
        AuthProfile.account_id == ctx.caller.account_id).order_by(AuthProfile.id)))


def create_app_setting(ctx: Context, description: str, group: str, profile: str) -> AppSetting:
    if not description.strip():
        raise ApiError("err_validation_blank", field="description")
    setting = AppSetting(account_id=ctx.caller.account_id, description=description.strip(),
                         group_id=find_group(ctx, group).id,
                         auth_profile_id=find_auth_profile(ctx, profile).id, created_at=ctx.now())
    ctx.session.add(setting)
    ctx.session.flush()
    audit.record(ctx, audit.SERVICES, "Application setting created",
                 f"{setting.description}: group {group}, profile {profile}")
    return setting


def list_app_settings(ctx: Context) -> list[AppSetting]:
    return list(ctx.session.scalars(select(AppSetting).where(
        AppSetting.account_id == ctx.caller.account_id).order_by(AppSetting.id)))


def effective_profile(session: Session, account_id: int, email: str) -> AuthProfile:
    """The profile of the oldest application setting whose group, or a folder below it, holds
    the address or its domain; otherwise the account's default profile."""
    domain = email.rsplit("@", 1)[-1]
    member_groups = set(session.scalars(select(GroupMember.group_id).join(
        ProfileGroup, ProfileGroup.id == GroupMember.group_id).where(
        ProfileGroup.account_id == account_id, GroupMember.address.in_([email, domain]))))
    # Each group a member belongs to also counts for every folder above it.
    covered = set()
    for group_id in member_groups:
        current: int | None = group_id
        while current is not None and current not in covered:
            covered.add(current)
            current = session.scalar(select(ProfileGroup.parent_id).where(
                ProfileGroup.id == current))
    if covered:
        profile = session.scalar(select(AuthProfile).join(
            AppSetting, AppSetting.auth_profile_id == AuthProfile.id).where(
            AppSetting.account_id == account_id, AppSetting.group_id.in_(covered))
            .order_by(AppSetting.id).limit(1))
        if profile is not None:
            return profile
    default = session.scalar(select(AuthProfile).where(
        AuthProfile.account_id == account_id, AuthProfile.is_default.is_(True)))
    assert default is not None, "every account has a default authentication profile"
    return default
