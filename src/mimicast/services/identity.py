"""Accounts, internal domains, users and roles."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, exc, func, insert, select
from sqlalchemy.orm import Session

from mimicast.services import audit
from mimicast.services.context import Context, utcnow
from mimicast.services.crypto import hash_password
from mimicast.services.mail import holds
from mimicast.services.permissions import ALL, BUILTIN_ROLES, role_permissions
from mimicast.store.query import Query
from mimicast.store.schema import (
    Account,
    AuditEvent,
    AuthProfile,
    Domain,
    Policy,
    Role,
    RoleMember,
    User,
    UserAlias,
)
from mimicast.wire.errors import ApiError

EMAIL = re.compile(r"^[^@\s]+@([A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+)$")
DOMAIN = re.compile(r"^(?=.{1,253}$)([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+"
                    r"[A-Za-z]{2,63}$")
DEFAULT_TTL_SECONDS = 3 * 24 * 3600  # the real default Authentication Cache TTL: 3 days

REGION_PREFIXES = {"us": "CUSA", "usb": "CUSB", "ca": "CCA", "eu": "CUK", "uk": "CUK",
                   "de": "CDE", "au": "CAU", "za": "CSA", "je": "CJE", "sandbox": "CSB"}


def normalise_email(value: str, field: str = "emailAddress") -> str:
    email = value.strip().lower()
    if not EMAIL.match(email):
        raise ApiError("err_validation_invalid_email_address", field=field)
    return email


def normalise_domain(value: str, field: str = "domain") -> str:
    domain = value.strip().lower().rstrip(".")
    if not DOMAIN.match(domain):
        raise ApiError("err_validation_invalid_domain", field=field)
    return domain


# Accounts -----------------------------------------------------------------------------------

def create_account(session: Session, *, name: str, region: str = "us", admin_email: str = "",
                   code: str | None = None, actor: str = "system") -> Account:
    """A tenant with its built-in roles, its default authentication profile and the default
    hold policies."""
    if not name.strip():
        raise ApiError("err_validation_blank", field="name")
    admin_email = normalise_email(admin_email, "adminEmail") if admin_email else ""
    now = utcnow()
    region = region.lower()
    code = code or REGION_PREFIXES.get(region, "C") + secrets.token_hex(3).upper()
    if session.scalar(select(Account.id).where(Account.code == code)) is not None:
        raise ApiError("err_already_exists", what="Account", name=code)
    account = Account(code=code, name=name.strip(), region=region, admin_email=admin_email,
                      created_at=now)
    session.add(account)
    session.flush()
    for role_name, (description, _) in BUILTIN_ROLES.items():
        session.add(Role(account_id=account.id, name=role_name, description=description,
                         permissions=[], builtin=True))
    session.add(AuthProfile(account_id=account.id, description="Default Authentication Profile",
                            ttl_seconds=DEFAULT_TTL_SECONDS, extend_on_validate=False,
                            is_default=True, created_at=now))
    for hold in holds.DEFAULTS:
        session.add(Policy(account_id=account.id, family=holds.FAMILY, body=hold.body(),
                           created_at=now, updated_at=now))
    session.add(AuditEvent(account_id=account.id, actor=actor, category=audit.ACCOUNT,
                           event_type="Account created", info=f"{code} {name}", created_at=now))
    return account


def get_account(session: Session, account_id: int) -> Account:
    account = session.get(Account, account_id)
    if account is None:
        raise ApiError("err_object_not_found", what="Account", name=str(account_id))
    return account


def find_account(session: Session, code: str | None) -> Account:
    """The account with this code, or the only account when no code is given."""
    if code:
        account = session.scalar(select(Account).where(Account.code == code))
        if account is None:
            raise ApiError("err_object_not_found", what="Account", name=code)
        return account
    accounts = list(session.scalars(select(Account).order_by(Account.id).limit(2)))
    if len(accounts) != 1:
        raise ApiError("err_object_not_found", what="Account",
                       name="(none)" if not accounts else "(several: pass --account CODE)")
    return accounts[0]


def list_accounts(session: Session) -> list[Account]:
    return list(session.scalars(select(Account).order_by(Account.id)))


def set_account_limits(ctx: Context, *, rate_limit: int | None = None,
                       rate_window_ms: int | None = None,
                       max_bindings: int | None = None) -> Account:
    """The per-account call quota (`rate_limit` calls refilled over `rate_window_ms`) and the
    number of live bindings a user may hold per application."""
    changes = {"rate_limit": rate_limit, "rate_window_ms": rate_window_ms,
               "max_bindings": max_bindings}
    given = {name: value for name, value in changes.items() if value is not None}
    if not given:
        raise ApiError("err_validation_invalid_value", field="limits",
                       reason="give at least one of rate limit, rate window, max bindings")
    for name, value in given.items():
        if value <= 0:
            raise ApiError("err_validation_invalid_value", field=name,
                           reason=f"{value}: must be a positive number")
    account = get_account(ctx.session, ctx.caller.account_id)
    for name, value in given.items():
        setattr(account, name, value)
    audit.record(ctx, audit.ACCOUNT, "Account limits changed",
                 " ".join(f"{name}={value}" for name, value in given.items()))
    return account


# Internal domains ---------------------------------------------------------------------------

def add_internal_domain(ctx: Context, name: str) -> Domain:
    domain_name = normalise_domain(name)
    existing = ctx.session.scalar(select(Domain).where(Domain.name == domain_name,
                                                       Domain.status == "internal"))
    if existing is not None:
        raise ApiError("err_already_exists", what="Internal domain", name=domain_name)
    domain = Domain(account_id=ctx.caller.account_id, name=domain_name, status="internal",
                    inbound_type="any", created_at=ctx.now(), verified_at=ctx.now())
    ctx.session.add(domain)
    audit.record(ctx, audit.DOMAIN, "Internal domain added", domain_name)
    return domain


def list_internal_domains(ctx: Context) -> list[Domain]:
    return list(ctx.session.scalars(select(Domain).where(
        Domain.account_id == ctx.caller.account_id, Domain.status == "internal")
        .order_by(Domain.name)))


def internal_domain_of(ctx: Context, email: str) -> Domain:
    domain_name = email.rsplit("@", 1)[1]
    domain = ctx.session.scalar(select(Domain).where(
        Domain.account_id == ctx.caller.account_id, Domain.name == domain_name,
        Domain.status == "internal"))
    if domain is None:
        raise ApiError("err_object_not_found", what="Internal domain", name=domain_name)
    return domain


# Users --------------------------------------------------------------------------------------

# What a new address needs to know, in one round trip: whether its domain is one of the
# account's internal domains, and whether any account has it as a user or an alias.
_ADDRESS_USE = Query(select(
    select(Domain.id).where(Domain.account_id == bindparam("account"),
                            Domain.name == bindparam("domain"),
                            Domain.status == "internal").exists().label("internal"),
    select(User.id).where(User.email == bindparam("address")).exists().label("user_taken"),
    select(UserAlias.id).where(UserAlias.address == bindparam("address")).exists()
    .label("alias_taken")))

_INSERT_USER = Query(insert(User).values({column: bindparam(column) for column in (
    "account_id", "email", "domain", "name", "password_hash", "domain_password_hash",
    "force_password_change", "created_at")}).returning(User.id))


def address_use(ctx: Context, address: str) -> Any:
    """A row `(internal, user_taken, alias_taken)` for a normalised address: its domain is
    one of the caller's internal domains; some account (any) has it as a user; as an alias."""
    return _ADDRESS_USE.first(ctx.unit, account=ctx.caller.account_id,
                              domain=address.rpartition("@")[2], address=address)


def insert_user(ctx: Context, address: str, *, conflict: ApiError, name: str = "",
                password: str | None = None, domain_password: str | None = None,
                force_password_change: bool = False, category: str = audit.DIRECTORY) -> int:
    """Write a cloud user whose address the caller checked (`address_use`), and its audit
    event; answers the new row's id. Passwords are hashed here, once, and only when given.

    A concurrent request that took the address first (PostgreSQL) is reported as `conflict`;
    the unit must then write nothing more (its transaction is aborted): the caller lets the
    error go up, and the unit or the item's savepoint is rolled back."""
    try:
        number = _INSERT_USER.scalar(
            ctx.unit, account_id=ctx.caller.account_id, email=address,
            domain=address.rpartition("@")[2], name=name or address,
            password_hash=hash_password(password) if password else None,
            domain_password_hash=hash_password(domain_password) if domain_password else None,
            force_password_change=force_password_change, created_at=ctx.now())
    except exc.IntegrityError:
        raise conflict from None
    audit.record(ctx, category, "User created", address)
    return int(number)


def create_user(ctx: Context, email: str, *, password: str | None = None, name: str = "",
                domain_password: str | None = None, category: str = audit.DIRECTORY) -> User:
    """`category`: the audit category of the event, as the caller's family files it. For the
    CLI and tests (the API's create-user is `users.create_user`): answers the mapped `User`."""
    address = normalise_email(email)
    use = address_use(ctx, address)
    if not use.internal:
        raise ApiError("err_object_not_found", what="Internal domain",
                       name=address.rpartition("@")[2])
    exists = ApiError("err_already_exists", what="User", name=address)
    if use.user_taken:
        raise exists
    number = insert_user(ctx, address, conflict=exists, name=name, password=password,
                         domain_password=domain_password, category=category)
    user = ctx.session.get(User, number)
    assert user is not None
    return user


def get_user(ctx: Context, email: str) -> User:
    address = normalise_email(email)
    user = ctx.session.scalar(select(User).where(User.email == address,
                                                 User.account_id == ctx.caller.account_id))
    if user is None:
        raise ApiError("err_object_not_found", what="User", name=address)
    return user


def set_password(ctx: Context, email: str, password: str, *, domain: bool = False) -> User:
    """Set the cloud password, or (domain=True) the directory password `Basic-AD` checks."""
    user = get_user(ctx, email)
    if domain:
        user.domain_password_hash = hash_password(password)
    else:
        user.password_hash = hash_password(password)
    audit.record(ctx, audit.DIRECTORY,
                 "Domain password set" if domain else "Cloud password set", user.email)
    return user


def set_user_state(ctx: Context, email: str, *, locked: bool | None = None,
                   disabled: bool | None = None) -> User:
    user = get_user(ctx, email)
    if locked or disabled:
        ctx.revoked.users.add(user.id)
    if locked is not None:
        user.locked = locked
    if disabled is not None:
        user.disabled = disabled
    audit.record(ctx, audit.DIRECTORY, "User updated",
                 f"{user.email} locked={user.locked} disabled={user.disabled}")
    return user


def list_users(ctx: Context) -> list[User]:
    return list(ctx.session.scalars(select(User).where(
        User.account_id == ctx.caller.account_id).order_by(User.email)))


# Roles --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class RoleView:
    name: str
    description: str
    builtin: bool
    permissions: frozenset[str]
    members: list[str]


def list_roles(ctx: Context) -> list[RoleView]:
    roles = ctx.session.scalars(select(Role).where(Role.account_id == ctx.caller.account_id)
                                .order_by(Role.builtin.desc(), Role.name))
    views = []
    for role in roles:
        members = ctx.session.scalars(select(User.email).join(RoleMember,
                                      RoleMember.user_id == User.id)
                                      .where(RoleMember.role_id == role.id).order_by(User.email))
        views.append(RoleView(role.name, role.description, role.builtin,
                              role_permissions(role.name, role.builtin, role.permissions),
                              list(members)))
    return views


def get_role(ctx: Context, name: str) -> Role:
    role = ctx.session.scalar(select(Role).where(Role.account_id == ctx.caller.account_id,
                                                 func.lower(Role.name) == name.strip().lower()))
    if role is None:
        raise ApiError("err_object_not_found", what="Role", name=name)
    return role


def create_role(ctx: Context, name: str, permissions: list[str], description: str = "") -> Role:
    name = name.strip()
    if not name:
        raise ApiError("err_validation_blank", field="name")
    unknown = sorted(set(permissions) - ALL)
    if unknown:
        raise ApiError("err_validation_invalid_value", field="permissions",
                       reason=f"unknown permission(s): {', '.join(unknown)}")
    if ctx.session.scalar(select(Role.id).where(Role.account_id == ctx.caller.account_id,
                                                func.lower(Role.name) == name.lower())):
        raise ApiError("err_already_exists", what="Role", name=name)
    role = Role(account_id=ctx.caller.account_id, name=name, description=description,
                permissions=sorted(set(permissions)), builtin=False)
    ctx.session.add(role)
    audit.record(ctx, audit.ROLES, "Role created", f"{name}: {', '.join(sorted(permissions))}")
    return role


def add_role_member(ctx: Context, role_name: str, email: str) -> None:
    role = get_role(ctx, role_name)
    user = get_user(ctx, email)
    if ctx.session.get(RoleMember, (role.id, user.id)) is None:
        ctx.session.add(RoleMember(role_id=role.id, user_id=user.id))
        audit.record(ctx, audit.ROLES, "User added to role", f"{user.email} → {role.name}")


def remove_role_member(ctx: Context, role_name: str, email: str) -> None:
    role = get_role(ctx, role_name)
    user = get_user(ctx, email)
    member = ctx.session.get(RoleMember, (role.id, user.id))
    if member is None:
        raise ApiError("err_object_not_found", what="Role member", name=user.email)
    ctx.session.delete(member)
    audit.record(ctx, audit.ROLES, "User removed from role", f"{user.email} ← {role.name}")


def user_permissions(session: Session, user_id: int) -> frozenset[str]:
    rows = session.execute(select(Role.name, Role.builtin, Role.permissions)
                           .join(RoleMember, RoleMember.role_id == Role.id)
                           .where(RoleMember.user_id == user_id))
    granted: set[str] = set()
    for name, builtin, stored in rows:
        granted |= role_permissions(name, builtin, stored)
    return frozenset(granted)
