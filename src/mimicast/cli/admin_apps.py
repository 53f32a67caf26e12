"""`mimicast admin app|binding …`: registered applications and the bindings (access key +
secret key pairs) users hold for them."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer

from mimicast.cli.admin_common import AccountCode, Db, Json, done, show, store, unit, when
from mimicast.cli.common import command_group

if TYPE_CHECKING:
    from mimicast.services import applications
    from mimicast.store.schema import Application

apps = command_group("Registered applications (app id + app key).")
bindings = command_group("Bindings: users' access keys, per application.")


def _app_json(app: Application) -> dict[str, Any]:
    return {"appId": app.app_id, "name": app.name, "description": app.description,
            "createdAt": when(app.created_at), "revoked": app.revoked_at is not None,
            "revokedAt": when(app.revoked_at)}


@apps.command("register")
def app_register(
    name: Annotated[str, typer.Argument(help="The application's name.")],
    description: Annotated[str, typer.Option(help="What the application is.")] = "",
    db: Db = None, account: AccountCode = None, as_json: Json = False,
) -> None:
    """Register an application; prints its app id and app key (shown only here)."""
    from mimicast.services import applications

    with store(db) as deps, unit(deps, account) as ctx:
        registered = applications.register_application(ctx, name, description)
    value = {"appId": registered.app_id, "appKey": registered.app_key,
             "name": registered.name, "description": description}
    done(as_json, value, f"Registered application {registered.name}.\n"
                         f"  appId   {registered.app_id}\n"
                         f"  appKey  {registered.app_key}\n"
                         "Keep the app key now: it is not shown again.")


@apps.command("list")
def app_list(db: Db = None, account: AccountCode = None, as_json: Json = False) -> None:
    """The account's registered applications (without their keys)."""
    from mimicast.services import applications

    with store(db) as deps, unit(deps, account) as ctx:
        rows = [_app_json(a) for a in applications.list_applications(ctx)]
    show(as_json, rows, "Registered applications", ("App id", "Name", "Description", "Revoked"),
         [[a["appId"], a["name"], a["description"], a["revoked"]] for a in rows])


@apps.command("revoke")
def app_revoke(app_id: Annotated[str, typer.Argument(help="The application's app id.")],
               db: Db = None, account: AccountCode = None, as_json: Json = False) -> None:
    """Revoke an application: its logins and signed calls stop (within the 1 s cache)."""
    from mimicast.services import applications

    with store(db) as deps, unit(deps, account) as ctx:
        applications.revoke_application(ctx, app_id.strip())
    done(as_json, {"appId": app_id.strip(), "revoked": True},
         f"Revoked application {app_id.strip()}.")


def _status(view: applications.BindingView, now: datetime) -> str:
    if view.revoked:
        return "revoked"
    if view.expires_at is not None and view.expires_at <= now:
        return "expired"
    return "active"


@bindings.command("list")
def binding_list(
    user: Annotated[str | None, typer.Option(help="Only this user's bindings.")] = None,
    db: Db = None, account: AccountCode = None, as_json: Json = False,
) -> None:
    """Bindings, with the first characters of each access key."""
    from mimicast.services import applications, identity

    with store(db) as deps, unit(deps, account) as ctx:
        if user is not None:
            user = identity.get_user(ctx, user).email  # an unknown address is an error
        now = ctx.now()
        rows = [{"id": b.id, "user": b.user, "application": b.application,
                 "accessKeyHint": b.access_key_hint, "createdAt": when(b.created_at),
                 "expiresAt": when(b.expires_at), "status": _status(b, now)}
                for b in applications.list_bindings(ctx, user)]
    show(as_json, rows, "Bindings",
         ("Id", "User", "Application", "Access key", "Expires", "Status"),
         [[b["id"], b["user"], b["application"], f"{b['accessKeyHint']}…",
           b["expiresAt"] or "never", b["status"]] for b in rows])


@bindings.command("revoke")
def binding_revoke(binding_id: Annotated[int, typer.Argument(metavar="ID",
                                                             help="The binding's id.")],
                   db: Db = None, account: AccountCode = None, as_json: Json = False) -> None:
    """Revoke a binding: its access key stops working (within the 1 s cache)."""
    from mimicast.services import applications

    with store(db) as deps, unit(deps, account) as ctx:
        applications.revoke_binding(ctx, binding_id)
    done(as_json, {"id": binding_id, "revoked": True}, f"Revoked binding {binding_id}.")
