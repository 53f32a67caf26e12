"""The users of the account's internal domains: creation and settings, the internal-user
list, attributes, aliases and delegates (spec 5.10, 6.8).

Rules:
- every address, primary or alias, lies in one of the account's internal domains and is
  unique across all accounts, users and aliases alike (login finds the account from it);
- a locked or disabled user can neither log in nor use a binding it holds, from the moment
  the change commits: the change asks the server to drop the user's cached credentials
  (`ctx.revoked`), and does so on unlocking too, so the keys work again at once;
- a user is named by address and looked up in the caller's account only: another account's
  user is "not found", exactly like an unknown address.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import exc, select
from sqlalchemy.orm import QueryableAttribute

from mimicast.services import audit, identity, ids, paging
from mimicast.services.context import Context
from mimicast.services.crypto import hash_password
from mimicast.services.identity import normalise_domain, normalise_email
from mimicast.store.schema import (
    Account,
    Base,
    Role,
    RoleMember,
    User,
    UserAlias,
    UserAttribute,
    UserDelegate,
)
from mimicast.wire.dates import format_date, parse_date
from mimicast.wire.errors import ApiError

ID_KIND = "user"


# Look-ups -----------------------------------------------------------------------------------

def find_user(ctx: Context, email: str, field: str = "emailAddress") -> User:
    """The caller's user with this primary address."""
    address = normalise_email(email, field)
    user = ctx.session.scalar(select(User).where(User.account_id == ctx.caller.account_id,
                                                 User.email == address))
    if user is None:
        raise ApiError("err_user_not_found", field=field, email=address)
    return user


def _in_use(ctx: Context, address: str) -> bool:
    """Whether any account has this address as a user or an alias."""
    return (ctx.session.scalar(select(User.id).where(User.email == address)) is not None
            or ctx.session.scalar(select(UserAlias.id).where(UserAlias.address == address))
            is not None)


def _new_address(ctx: Context, value: str, field: str) -> str:
    """An address a new user or alias may take."""
    address = normalise_email(value, field)
    try:
        identity.internal_domain_of(ctx, address)
    except ApiError:
        raise ApiError("err_user_domain_not_internal", field=field, email=address) from None
    if _in_use(ctx, address):
        raise ApiError("err_user_address_in_use", field=field, email=address)
    return address


def _insert(ctx: Context, row: Base, conflict: ApiError) -> None:
    """Add a row whose unique key was checked free; a concurrent request taking it first
    is reported as `conflict`, not as a server error."""
    try:
        with ctx.session.begin_nested():
            ctx.session.add(row)
    except exc.IntegrityError:
        raise conflict from None


def _date(value: datetime | None) -> str:
    return format_date(value) if value is not None else ""


def _state(user: User) -> dict[str, Any]:
    """What update-user echoes: the user's settings."""
    return {"emailAddress": user.email, "name": user.name,
            "forcePasswordChange": user.force_password_change,
            "passwordNeverExpires": user.password_never_expires,
            "accountLocked": user.locked, "accountDisabled": user.disabled,
            "allowSmtp": user.allow_smtp, "allowPop": user.allow_pop,
            "archiveStartDate": _date(user.archive_start)}


# Users --------------------------------------------------------------------------------------

def create_user(ctx: Context, email: str, *, password: str | None = None, name: str | None = None,
                force_password_change: bool | None = None,
                account_code: str | None = None) -> dict[str, Any]:
    """A cloud user (password hashed with argon2); answers `{emailAddress, id}`."""
    if account_code is not None:
        account = ctx.session.get(Account, ctx.caller.account_id)
        if account is None or account_code.strip().upper() != account.code.upper():
            raise ApiError("err_validation_invalid_value", field="accountCode",
                           reason="not the code of the caller's account")
    address = _new_address(ctx, email, "emailAddress")
    try:
        with ctx.session.begin_nested():
            user = identity.create_user(ctx, address, password=password, name=name or "",
                                        category=audit.USERS)
    except exc.IntegrityError:
        raise ApiError("err_user_address_in_use", field="emailAddress", email=address) from None
    user.force_password_change = bool(force_password_change)
    return {"emailAddress": user.email, "id": ids.secure_id(ID_KIND, user.id)}


def update_user(ctx: Context, email: str, *, name: str | None = None,
                password: str | None = None, archive_start: str | None = None,
                force_password_change: bool | None = None,
                password_never_expires: bool | None = None, allow_pop: bool | None = None,
                allow_smtp: bool | None = None, locked: bool | None = None,
                disabled: bool | None = None) -> dict[str, Any]:
    """Change what is given (None: unchanged); answers the user's settings."""
    user = find_user(ctx, email)
    start = parse_date(archive_start, "archiveStartDate") if archive_start is not None else None
    changed: list[str] = []
    if name is not None and name != user.name:
        user.name = name
        changed.append("name")
    if password is not None:
        user.password_hash = hash_password(password)
        changed.append("password")
    if start is not None and start != user.archive_start:
        user.archive_start = start
        changed.append("archiveStartDate")
    if (locked is not None and locked != user.locked) or (
            disabled is not None and disabled != user.disabled):
        # Locking ends the user's bindings and unlocking restores them, both at once.
        ctx.revoked.users.add(user.id)
    flags = {"forcePasswordChange": ("force_password_change", force_password_change),
             "passwordNeverExpires": ("password_never_expires", password_never_expires),
             "allowPop": ("allow_pop", allow_pop), "allowSmtp": ("allow_smtp", allow_smtp),
             "accountLocked": ("locked", locked), "accountDisabled": ("disabled", disabled)}
    for wire_name, (attribute, value) in flags.items():
        if value is not None and value != getattr(user, attribute):
            setattr(user, attribute, value)
            changed.append(f"{wire_name}={str(value).lower()}")
    if changed:
        audit.record(ctx, audit.USERS, "User updated", f"{user.email}: {', '.join(changed)}")
    return _state(user)


def internal_users(ctx: Context, domain: str | None = None) -> paging.Paged:
    """One page of the account's users by address, all or one domain's; `userCount` is the
    total. Primary addresses only: aliases are listed by get-aliases and get-profile."""
    account_id = ctx.caller.account_id
    query = select(User).where(User.account_id == account_id)
    name = normalise_domain(domain) if domain else ""
    pinned: list[QueryableAttribute[Any]] = [User.account_id]
    if name:
        # Another account's domain simply matches none of this account's users.
        query = query.where(User.domain == name)
        pinned.append(User.domain)
    # Ordered by address within the account (and domain): the ix_users_account_email and
    # ix_users_account_domain_email index ranges, so a deep page costs what the first does.
    page = paging.keyset(ctx, query, order=[User.email], key_of=lambda user: (user.email,),
                         pinned=pinned, scope=f"user/get-internal-users|{account_id}|{name}")
    users = [{"name": user.name, "emailAddress": user.email, "domain": user.domain,
              "alias": False, "addressType": "internal", "source": user.source}
             for user in page.rows]
    return paging.Paged([{"users": users, "userCount": page.pagination["totalCount"]}],
                        page.pagination)


def profile(ctx: Context, email: str) -> dict[str, Any]:
    user = find_user(ctx, email)
    roles = ctx.session.scalars(select(Role.name).join(RoleMember, RoleMember.role_id == Role.id)
                                .where(RoleMember.user_id == user.id).order_by(Role.name))
    aliases = ctx.session.scalars(select(UserAlias.address).where(UserAlias.user_id == user.id)
                                  .order_by(UserAlias.address))
    return {"id": ids.secure_id(ID_KIND, user.id), **_state(user), "domain": user.domain,
            "source": user.source, "created": _date(user.created_at), "roles": list(roles),
            "aliases": list(aliases)}


# Attributes ---------------------------------------------------------------------------------

def attributes(ctx: Context, email: str) -> dict[str, Any]:
    user = find_user(ctx, email)
    return _attributes_view(ctx, user)


def _attributes_view(ctx: Context, user: User) -> dict[str, Any]:
    rows = ctx.session.scalars(select(UserAttribute).where(UserAttribute.user_id == user.id)
                               .order_by(UserAttribute.name))
    return {"emailAddress": user.email,
            "attributes": [{"name": row.name, "value": row.value} for row in rows]}


def update_attributes(ctx: Context, email: str,
                      changes: Sequence[tuple[str, str | None]]) -> dict[str, Any]:
    """Set each `(name, value)`; an empty value removes the attribute. Answers them all."""
    user = find_user(ctx, email)
    set_names: list[str] = []
    removed: list[str] = []
    for name, value in dict(changes).items():  # a name given twice: the last value counts
        row = ctx.session.get(UserAttribute, (user.id, name))
        if value and row is None:
            row = UserAttribute(user_id=user.id, name=name, value=value)
            try:
                with ctx.session.begin_nested():
                    ctx.session.add(row)
            except exc.IntegrityError:
                # A concurrent request created it first: this value is the later one.
                row = ctx.session.get(UserAttribute, (user.id, name))
                assert row is not None
                row.value = value
            set_names.append(name)
        elif value and row is not None and row.value != value:
            row.value = value
            set_names.append(name)
        elif not value and row is not None:
            ctx.session.delete(row)
            removed.append(name)
    if set_names or removed:
        parts = ([f"set {', '.join(set_names)}"] if set_names else []) + (
            [f"removed {', '.join(removed)}"] if removed else [])
        audit.record(ctx, audit.USERS, "User attributes updated",
                     f"{user.email}: {'; '.join(parts)}")
    ctx.session.flush()
    return _attributes_view(ctx, user)


# Aliases ------------------------------------------------------------------------------------

def aliases(ctx: Context, email: str) -> dict[str, Any]:
    user = find_user(ctx, email)
    rows = ctx.session.scalars(select(UserAlias).where(UserAlias.user_id == user.id)
                               .order_by(UserAlias.address))
    return {"emailAddress": user.email,
            "aliases": [{"aliasAddress": row.address, "created": _date(row.created_at)}
                        for row in rows]}


def add_alias(ctx: Context, email: str, alias: str) -> dict[str, Any]:
    user = find_user(ctx, email)
    address = _new_address(ctx, alias, "aliasAddress")
    _insert(ctx, UserAlias(account_id=ctx.caller.account_id, user_id=user.id, address=address,
                           created_at=ctx.now()),
            ApiError("err_user_address_in_use", field="aliasAddress", email=address))
    audit.record(ctx, audit.USERS, "Alias added", f"{address} → {user.email}")
    return {"emailAddress": user.email, "aliasAddress": address}


def remove_alias(ctx: Context, alias: str, email: str | None = None) -> dict[str, Any]:
    """Remove an alias of the account; with `email`, only when it is that user's."""
    address = normalise_email(alias, "aliasAddress")
    query = select(UserAlias, User).join(User, User.id == UserAlias.user_id).where(
        UserAlias.account_id == ctx.caller.account_id, UserAlias.address == address)
    if email is not None:
        query = query.where(User.email == normalise_email(email))
    row = ctx.session.execute(query).first()
    if row is None:
        raise ApiError("err_user_alias_not_found", field="aliasAddress", email=address)
    found, owner = row
    ctx.session.delete(found)
    audit.record(ctx, audit.USERS, "Alias removed", f"{address} → {owner.email}")
    return {"emailAddress": owner.email, "aliasAddress": address}


# Delegates ----------------------------------------------------------------------------------

def _pair(ctx: Context, email: str, delegate: str) -> tuple[User, User]:
    return find_user(ctx, email), find_user(ctx, delegate, "delegateAddress")


def add_delegate(ctx: Context, email: str, delegate: str) -> dict[str, Any]:
    """Let `delegate` act on `email`'s mailbox."""
    user, other = _pair(ctx, email, delegate)
    if other.id == user.id:
        raise ApiError("err_validation_invalid_value", field="delegateAddress",
                       reason="a user cannot be their own delegate")
    exists = ApiError("err_user_delegate_exists", field="delegateAddress",
                      delegate=other.email, email=user.email)
    if ctx.session.get(UserDelegate, (user.id, other.id)) is not None:
        raise exists
    _insert(ctx, UserDelegate(user_id=user.id, delegate_id=other.id, created_at=ctx.now()),
            exists)
    audit.record(ctx, audit.USERS, "Delegate added", f"{other.email} → {user.email}")
    return {"emailAddress": user.email, "delegateAddress": other.email}


def delegates(ctx: Context, email: str) -> dict[str, Any]:
    user = find_user(ctx, email)
    rows = ctx.session.execute(select(User, UserDelegate.created_at)
                               .join(UserDelegate, UserDelegate.delegate_id == User.id)
                               .where(UserDelegate.user_id == user.id).order_by(User.email))
    return {"emailAddress": user.email,
            "delegates": [{"emailAddress": other.email, "name": other.name,
                           "created": _date(created)} for other, created in rows]}


def remove_delegate(ctx: Context, email: str, delegate: str) -> dict[str, Any]:
    user, other = _pair(ctx, email, delegate)
    row = ctx.session.get(UserDelegate, (user.id, other.id))
    if row is None:
        raise ApiError("err_user_delegate_not_found", field="delegateAddress",
                       delegate=other.email, email=user.email)
    ctx.session.delete(row)
    audit.record(ctx, audit.USERS, "Delegate removed", f"{other.email} → {user.email}")
    return {"emailAddress": user.email, "delegateAddress": other.email}
