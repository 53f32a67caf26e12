"""Registered applications (app id + app key) and the bindings users hold for them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from mimicast.services import audit
from mimicast.services.context import Context
from mimicast.store.schema import Application, Binding, User
from mimicast.wire.errors import ApiError


@dataclass(frozen=True)
class RegisteredApplication:
    app_id: str
    app_key: str
    name: str


def register_application(ctx: Context, name: str, description: str = "") -> RegisteredApplication:
    if not name.strip():
        raise ApiError("err_validation_blank", field="name")
    app_id = str(uuid.uuid4())
    app_key = str(uuid.uuid4())
    ctx.session.add(Application(account_id=ctx.caller.account_id, app_id=app_id,
                                app_key_enc=ctx.deps.vault.encrypt(app_key), name=name.strip(),
                                description=description, created_at=ctx.now()))
    audit.record(ctx, audit.SERVICES, "Application registered", f"{name} ({app_id})")
    return RegisteredApplication(app_id, app_key, name.strip())


def list_applications(ctx: Context) -> list[Application]:
    return list(ctx.session.scalars(select(Application).where(
        Application.account_id == ctx.caller.account_id).order_by(Application.id)))


def revoke_application(ctx: Context, app_id: str) -> None:
    app = ctx.session.scalar(select(Application).where(
        Application.account_id == ctx.caller.account_id, Application.app_id == app_id))
    if app is None:
        raise ApiError("err_object_not_found", what="Application", name=app_id)
    app.revoked_at = ctx.now()
    audit.record(ctx, audit.SERVICES, "Application revoked", f"{app.name} ({app_id})")


@dataclass(frozen=True)
class BindingView:
    id: int
    user: str
    application: str
    access_key_hint: str
    created_at: datetime
    expires_at: datetime | None
    revoked: bool


def list_bindings(ctx: Context, email: str | None = None) -> list[BindingView]:
    query = (select(Binding, User.email, Application.name)
             .join(User, User.id == Binding.user_id)
             .join(Application, Application.id == Binding.application_id)
             .where(Binding.account_id == ctx.caller.account_id).order_by(Binding.id))
    if email:
        query = query.where(User.email == email.strip().lower())
    return [BindingView(b.id, user, app, b.access_key_hint, b.created_at, b.expires_at,
                        b.revoked_at is not None)
            for b, user, app in ctx.session.execute(query)]


def revoke_binding(ctx: Context, binding_id: int) -> None:
    binding = ctx.session.scalar(select(Binding).where(
        Binding.account_id == ctx.caller.account_id, Binding.id == binding_id))
    if binding is None:
        raise ApiError("err_object_not_found", what="Binding", name=str(binding_id))
    if binding.revoked_at is None:
        binding.revoked_at = ctx.now()
        audit.record(ctx, audit.SERVICES, "Binding revoked",
                     f"binding {binding.id} ({binding.access_key_hint}…)")

