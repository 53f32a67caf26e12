"""`mimicast admin role|group|auth-profile|app-setting …`: who may do what, and which
authentication profile (binding TTL) each user gets."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from mimicast.cli.admin_common import AccountCode, Db, Json, done, show, store, unit, when
from mimicast.cli.common import command_group

if TYPE_CHECKING:
    from mimicast.services import identity
    from mimicast.services.context import Context
    from mimicast.store.schema import AppSetting, AuthProfile

roles = command_group("Administrative roles and their members.")
groups = command_group("Profile groups: a folder tree of addresses and domains.")
auth_profiles = command_group("Authentication profiles: how long bindings live.")
app_settings = command_group("Application settings: a group gets an authentication profile.")


# Roles --------------------------------------------------------------------------------------

def _role_json(view: identity.RoleView) -> dict[str, Any]:
    return {"name": view.name, "description": view.description, "builtin": view.builtin,
            "permissions": sorted(view.permissions), "members": view.members}


def _role_view(ctx: Context, name: str) -> dict[str, Any]:
    from mimicast.services import identity

    ctx.session.flush()
    wanted = name.strip().lower()
    return next(_role_json(v) for v in identity.list_roles(ctx) if v.name.lower() == wanted)


@roles.command("list")
def role_list(db: Db = None, account: AccountCode = None, as_json: Json = False) -> None:
    """Roles with their permissions and members."""
    from mimicast.services import identity

    with store(db) as deps, unit(deps, account) as ctx:
        rows = [_role_json(v) for v in identity.list_roles(ctx)]
    show(as_json, rows, "Roles", ("Role", "Built-in", "Permissions", "Members"),
         [[r["name"], r["builtin"], r["permissions"], r["members"]] for r in rows])


@roles.command("create")
def role_create(
    name: Annotated[str, typer.Argument(help="The role's name.")],
    permission: Annotated[list[str], typer.Option(
        "--permission", help="A permission, e.g. 'Account | Dashboard | Read' (repeatable).")],
    description: Annotated[str, typer.Option(help="What the role is for.")] = "",
    db: Db = None, account: AccountCode = None, as_json: Json = False,
) -> None:
    """Create a role with the given permissions."""
    from mimicast.services import identity

    with store(db) as deps, unit(deps, account) as ctx:
        role = identity.create_role(ctx, name, permission, description)
        value = _role_view(ctx, role.name)
    done(as_json, value, f"Created role {value['name']}.")


def _membership(role: str, email: str, add: bool, db: str | None, account: str | None,
                as_json: bool) -> None:
    from mimicast.services import identity

    with store(db) as deps, unit(deps, account) as ctx:
        if add:
            identity.add_role_member(ctx, role, email)
        else:
            identity.remove_role_member(ctx, role, email)
        value = _role_view(ctx, identity.get_role(ctx, role).name)
    user = identity.normalise_email(email)
    done(as_json, value, f"{'Added' if add else 'Removed'} {user} "
                         f"{'to' if add else 'from'} role {value['name']}.")


@roles.command("add-user")
def role_add_user(role: Annotated[str, typer.Argument(help="Role name.")],
                  email: Annotated[str, typer.Argument(help="The user's address.")],
                  db: Db = None, account: AccountCode = None, as_json: Json = False) -> None:
    """Add a user to a role."""
    _membership(role, email, True, db, account, as_json)


@roles.command("remove-user")
def role_remove_user(role: Annotated[str, typer.Argument(help="Role name.")],
                     email: Annotated[str, typer.Argument(help="The user's address.")],
                     db: Db = None, account: AccountCode = None, as_json: Json = False) -> None:
    """Remove a user from a role."""
    _membership(role, email, False, db, account, as_json)


# Profile groups -----------------------------------------------------------------------------

def _group_json(ctx: Context, path: str) -> dict[str, Any]:
    from mimicast.services import profiles

    ctx.session.flush()
    group = profiles.find_group(ctx, path)
    canonical = profiles.group_path(ctx.session, group)
    members = dict(profiles.list_groups(ctx)).get(canonical, [])
    return {"path": canonical, "members": members}


@groups.command("create")
def group_create(path: Annotated[str, typer.Argument(
                     help="Folder path, e.g. 'Integrations/Splunk Admin'.")],
                 db: Db = None, account: AccountCode = None, as_json: Json = False) -> None:
    """Create a group (and any missing folders above it)."""
    from mimicast.services import profiles

    with store(db) as deps, unit(deps, account) as ctx:
        profiles.create_group(ctx, path)
        value = _group_json(ctx, path)
    done(as_json, value, f"Created group {value['path']}.")


@groups.command("list")
def group_list(db: Db = None, account: AccountCode = None, as_json: Json = False) -> None:
    """Every group with its members."""
    from mimicast.services import profiles

    with store(db) as deps, unit(deps, account) as ctx:
        rows = [{"path": path, "members": members} for path, members in profiles.list_groups(ctx)]
    show(as_json, rows, "Profile groups", ("Group", "Members"),
         [[g["path"], g["members"]] for g in rows])


@groups.command("add-member")
def group_add_member(path: Annotated[str, typer.Argument(help="Group path.")],
                     address: Annotated[str, typer.Argument(
                         help="An address (user@example.com) or a whole domain.")],
                     db: Db = None, account: AccountCode = None, as_json: Json = False) -> None:
    """Add an address or a domain to a group."""
    from mimicast.services import profiles

    with store(db) as deps, unit(deps, account) as ctx:
        profiles.add_group_member(ctx, path, address)
        value = _group_json(ctx, path)
    done(as_json, value, f"Added {address.strip().lower()} to group {value['path']}.")


@groups.command("remove-member")
def group_remove_member(path: Annotated[str, typer.Argument(help="Group path.")],
                        address: Annotated[str, typer.Argument(help="The member to remove.")],
                        db: Db = None, account: AccountCode = None,
                        as_json: Json = False) -> None:
    """Remove an address or a domain from a group."""
    from mimicast.services import profiles

    with store(db) as deps, unit(deps, account) as ctx:
        profiles.remove_group_member(ctx, path, address)
        value = _group_json(ctx, path)
    done(as_json, value, f"Removed {address.strip().lower()} from group {value['path']}.")


# Authentication profiles --------------------------------------------------------------------

def _profile_json(profile: AuthProfile) -> dict[str, Any]:
    from mimicast.services import profiles

    return {"id": profile.id, "description": profile.description,
            "ttl": profiles.format_ttl(profile.ttl_seconds), "ttlSeconds": profile.ttl_seconds,
            "extendOnValidate": profile.extend_on_validate, "default": profile.is_default,
            "createdAt": when(profile.created_at)}


@auth_profiles.command("create")
def auth_profile_create(
    description: Annotated[str, typer.Argument(help="What the profile is for.")],
    ttl: Annotated[str, typer.Option(
        help="Authentication Cache TTL: 90s, 30m, 12h, 3d, or never.")],
    extend_on_validate: Annotated[bool, typer.Option(
        "--extend-on-validate", help="Each signed call pushes the expiry forward.")] = False,
    db: Db = None, account: AccountCode = None, as_json: Json = False,
) -> None:
    """Create an authentication profile; prints its id."""
    from mimicast.services import profiles

    with store(db) as deps, unit(deps, account) as ctx:
        value = _profile_json(profiles.create_auth_profile(
            ctx, description, profiles.parse_ttl(ttl), extend_on_validate))
    done(as_json, value, str(value["id"]))


@auth_profiles.command("list")
def auth_profile_list(db: Db = None, account: AccountCode = None, as_json: Json = False) -> None:
    """The account's authentication profiles."""
    from mimicast.services import profiles

    with store(db) as deps, unit(deps, account) as ctx:
        rows = [_profile_json(p) for p in profiles.list_auth_profiles(ctx)]
    show(as_json, rows, "Authentication profiles",
         ("Id", "Description", "TTL", "Extend on validate", "Default"),
         [[p["id"], p["description"], p["ttl"], p["extendOnValidate"], p["default"]]
          for p in rows])


# Application settings -----------------------------------------------------------------------

def _setting_json(ctx: Context, setting: AppSetting) -> dict[str, Any]:
    from mimicast.services import profiles
    from mimicast.store.schema import AuthProfile, ProfileGroup

    group = ctx.session.get(ProfileGroup, setting.group_id)
    profile = ctx.session.get(AuthProfile, setting.auth_profile_id)
    assert group is not None and profile is not None  # foreign keys
    return {"id": setting.id, "description": setting.description,
            "group": profiles.group_path(ctx.session, group),
            "authProfile": {"id": profile.id, "description": profile.description,
                            "ttl": profiles.format_ttl(profile.ttl_seconds)},
            "createdAt": when(setting.created_at)}


@app_settings.command("create")
def app_setting_create(
    description: Annotated[str, typer.Argument(help="What the setting is for.")],
    group: Annotated[str, typer.Option(help="Profile group path.")],
    auth_profile: Annotated[str, typer.Option(
        help="Authentication profile: its id or its description.")],
    db: Db = None, account: AccountCode = None, as_json: Json = False,
) -> None:
    """Give a group's members an authentication profile."""
    from mimicast.services import profiles

    with store(db) as deps, unit(deps, account) as ctx:
        value = _setting_json(ctx, profiles.create_app_setting(ctx, description, group,
                                                               auth_profile))
    done(as_json, value, f"Created application setting {value['id']}: group {value['group']} "
                         f"→ profile {value['authProfile']['description']!r}.")


@app_settings.command("list")
def app_setting_list(db: Db = None, account: AccountCode = None, as_json: Json = False) -> None:
    """The account's application settings; the oldest matching one wins."""
    from mimicast.services import profiles

    with store(db) as deps, unit(deps, account) as ctx:
        rows = [_setting_json(ctx, s) for s in profiles.list_app_settings(ctx)]
    show(as_json, rows, "Application settings", ("Id", "Description", "Group", "Profile", "TTL"),
         [[s["id"], s["description"], s["group"], s["authProfile"]["description"],
           s["authProfile"]["ttl"]] for s in rows])
