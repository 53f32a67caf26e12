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

import functools
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import String, bindparam, delete, exc, insert, select, update

from mimicast.services import audit, identity, ids, paging
from mimicast.services.context import Context
from mimicast.services.crypto import hash_password
from mimicast.services.identity import normalise_domain, normalise_email
from mimicast.store.query import Query, Upsert, upsert
from mimicast.store.schema import (
    Account,
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

_USER = Query(select(User.__table__).where(User.account_id == bindparam("account"),
                                           User.email == bindparam("email")))
_USER_KEY = Query(select(User.id, User.email).where(User.account_id == bindparam("account"),
                                                    User.email == bindparam("email")))


def find_user(ctx: Context, email: str, field: str = "emailAddress") -> Any:
    """The caller's user with this primary address, to change its aliases, attributes or
    delegates: a row `(id, email)`."""
    address = normalise_email(email, field)
    row = _USER_KEY.first(ctx.unit, account=ctx.caller.account_id, email=address)
    if row is None:
        raise ApiError("err_user_not_found", field=field, email=address)
    return row


def user_row(ctx: Context, email: str, field: str = "emailAddress") -> Any:
    """The caller's user with this primary address, to read: a row with the users columns."""
    address = normalise_email(email, field)
    row = _USER.first(ctx.unit, account=ctx.caller.account_id, email=address)
    if row is None:
        raise ApiError("err_user_not_found", field=field, email=address)
    return row


def _new_address(ctx: Context, value: str, field: str) -> str:
    """An address a new user or alias may take: in one of the caller's internal domains, and
    nobody's address or alias yet (one query answers both)."""
    address = normalise_email(value, field)
    use = identity.address_use(ctx, address)
    if not use.internal:
        raise ApiError("err_user_domain_not_internal", field=field, email=address)
    if use.user_taken or use.alias_taken:
        raise ApiError("err_user_address_in_use", field=field, email=address)
    return address


def _insert(ctx: Context, query: Query, conflict: ApiError, **params: Any) -> int:
    """Run an INSERT whose unique key was checked free (its row count); a concurrent request
    taking the key first (PostgreSQL) is reported as `conflict`, not as a server error. The
    transaction is then aborted: nothing more may be written, the error goes straight up and
    the dispatcher rolls the item back."""
    try:
        return query.execute(ctx.unit, **params)
    except exc.IntegrityError:
        raise conflict from None


def _date(value: datetime | None) -> str:
    return format_date(value) if value is not None else ""


def _state(user: Any) -> dict[str, Any]:
    """What update-user echoes: the user's settings."""
    return {"emailAddress": user.email, "name": user.name,
            "forcePasswordChange": user.force_password_change,
            "passwordNeverExpires": user.password_never_expires,
            "accountLocked": user.locked, "accountDisabled": user.disabled,
            "allowSmtp": user.allow_smtp, "allowPop": user.allow_pop,
            "archiveStartDate": _date(user.archive_start)}


# Users --------------------------------------------------------------------------------------

_ACCOUNT_CODE = Query(select(Account.code).where(Account.id == bindparam("account")))


def create_user(ctx: Context, email: str, *, password: str | None = None, name: str | None = None,
                force_password_change: bool | None = None,
                account_code: str | None = None) -> dict[str, Any]:
    """A cloud user (password hashed with argon2); answers `{emailAddress, id}`."""
    if account_code is not None:
        code = _ACCOUNT_CODE.scalar(ctx.unit, account=ctx.caller.account_id)
        if code is None or account_code.strip().upper() != code.upper():
            raise ApiError("err_validation_invalid_value", field="accountCode",
                           reason="not the code of the caller's account")
    address = _new_address(ctx, email, "emailAddress")
    number = identity.insert_user(
        ctx, address, name=name or "", password=password,
        force_password_change=bool(force_password_change), category=audit.USERS,
        conflict=ApiError("err_user_address_in_use", field="emailAddress", email=address))
    return {"emailAddress": address, "id": ids.secure_id(ID_KIND, number)}


@functools.cache
def _update_user(columns: tuple[str, ...]) -> Query:
    """UPDATE of these users columns (sorted) by id; each set of changed columns its own."""
    return Query(update(User).where(User.id == bindparam("user_id"))
                 .values({column: bindparam(f"new_{column}") for column in columns}))


def update_user(ctx: Context, email: str, *, name: str | None = None,
                password: str | None = None, archive_start: str | None = None,
                force_password_change: bool | None = None,
                password_never_expires: bool | None = None, allow_pop: bool | None = None,
                allow_smtp: bool | None = None, locked: bool | None = None,
                disabled: bool | None = None) -> dict[str, Any]:
    """Change what is given (None: unchanged); answers the user's settings."""
    user = user_row(ctx, email)
    start = parse_date(archive_start, "archiveStartDate") if archive_start is not None else None
    changed: list[str] = []
    values: dict[str, Any] = {}  # column: new value
    if name is not None and name != user.name:
        values["name"] = name
        changed.append("name")
    if password is not None:
        values["password_hash"] = hash_password(password)
        changed.append("password")
    if start is not None and start != user.archive_start:
        values["archive_start"] = start
        changed.append("archiveStartDate")
    if (locked is not None and locked != user.locked) or (
            disabled is not None and disabled != user.disabled):
        # Locking ends the user's bindings and unlocking restores them, both at once.
        ctx.revoked.users.add(user.id)
    flags = {"forcePasswordChange": ("force_password_change", force_password_change),
             "passwordNeverExpires": ("password_never_expires", password_never_expires),
             "allowPop": ("allow_pop", allow_pop), "allowSmtp": ("allow_smtp", allow_smtp),
             "accountLocked": ("locked", locked), "accountDisabled": ("disabled", disabled)}
    for wire_name, (column, value) in flags.items():
        if value is not None and value != getattr(user, column):
            values[column] = value
            changed.append(f"{wire_name}={str(value).lower()}")
    if values:
        columns = tuple(sorted(values))
        _update_user(columns).execute(ctx.unit, user_id=user.id, **{
            f"new_{column}": values[column] for column in columns})
        audit.record(ctx, audit.USERS, "User updated", f"{user.email}: {', '.join(changed)}")
        user = user._replace(**values)
    return _state(user)


@functools.cache
def _users(by_domain: bool) -> paging.Keyset:
    """All of an account's users, or one domain's, by address: the ix_users_account_email and
    ix_users_account_domain_email index ranges, so a deep page costs what the first does."""
    base = select(User.name, User.email, User.domain, User.source).where(
        User.account_id == bindparam("account"))
    pinned: list[paging.Column] = [User.account_id]
    if by_domain:
        base = base.where(User.domain == bindparam("domain"))
        pinned.append(User.domain)
    return paging.Keyset(base, order=[User.email], pinned=pinned)


def internal_users(ctx: Context, domain: str | None = None) -> paging.Paged:
    """One page of the account's users by address, all or one domain's; `userCount` is the
    total. Primary addresses only: aliases are listed by get-aliases and get-profile."""
    account_id = ctx.caller.account_id
    # Another account's domain simply matches none of this account's users.
    name = normalise_domain(domain) if domain else ""
    page = _users(bool(name)).page(ctx, f"user/get-internal-users|{account_id}|{name}",
                                   account=account_id, **({"domain": name} if name else {}))
    users = [{"name": user.name, "emailAddress": user.email, "domain": user.domain,
              "alias": False, "addressType": "internal", "source": user.source}
             for user in page.rows]
    return paging.Paged([{"users": users, "userCount": page.pagination["totalCount"]}],
                        page.pagination)


_ROLES = Query(select(Role.name).join(RoleMember, RoleMember.role_id == Role.id)
               .where(RoleMember.user_id == bindparam("user")).order_by(Role.name))
_ALIASES = Query(select(UserAlias.address, UserAlias.created_at)
                 .where(UserAlias.user_id == bindparam("user")).order_by(UserAlias.address))


def profile(ctx: Context, email: str) -> dict[str, Any]:
    user = user_row(ctx, email)
    return {"id": ids.secure_id(ID_KIND, user.id), **_state(user), "domain": user.domain,
            "source": user.source, "created": _date(user.created_at),
            "roles": _ROLES.scalars(ctx.unit, user=user.id),
            "aliases": _ALIASES.scalars(ctx.unit, user=user.id)}


# Attributes ---------------------------------------------------------------------------------

_ATTRIBUTES = Query(select(UserAttribute.name, UserAttribute.value)
                    .where(UserAttribute.user_id == bindparam("user"))
                    .order_by(UserAttribute.name))


def attributes(ctx: Context, email: str) -> dict[str, Any]:
    return _attributes_view(ctx, user_row(ctx, email))


def _attributes_view(ctx: Context, user: Any) -> dict[str, Any]:
    rows = _ATTRIBUTES.all(ctx.unit, user=user.id)
    return {"emailAddress": user.email,
            "attributes": [{"name": row.name, "value": row.value} for row in rows]}


def _set_attribute(make: Callable[[Any], Upsert]) -> Upsert:
    """Created, or its value replaced (also when a concurrent request created it since it
    was read: this value is the later one)."""
    statement = make(UserAttribute).values(user_id=bindparam("user"), name=bindparam("name"),
                                           value=bindparam("value"))
    return statement.on_conflict_do_update(
        index_elements=[UserAttribute.user_id, UserAttribute.name],
        set_={"value": statement.excluded.value})


_SET_ATTRIBUTE = upsert(_set_attribute)
_REMOVE_ATTRIBUTES = Query(delete(UserAttribute).where(
    UserAttribute.user_id == bindparam("user"),
    UserAttribute.name.in_(bindparam("names", expanding=True, type_=String()))))


def update_attributes(ctx: Context, email: str,
                      changes: Sequence[tuple[str, str | None]]) -> dict[str, Any]:
    """Set each `(name, value)`; an empty value removes the attribute. Answers them all."""
    user = find_user(ctx, email)
    rows = _ATTRIBUTES.all(ctx.unit, user=user.id)
    current = {row.name: row.value for row in rows}
    set_names: list[str] = []
    removed: list[str] = []
    wanted = dict(changes)  # a name given twice: the last value counts
    for name, value in wanted.items():
        if value and current.get(name) != value:
            set_names.append(name)
        elif not value and name in current:
            removed.append(name)
    if not (set_names or removed):
        return {"emailAddress": user.email,
                "attributes": [{"name": row.name, "value": row.value} for row in rows]}
    if set_names:
        for name in set_names:
            _SET_ATTRIBUTE.execute(ctx.unit, user=user.id, name=name, value=wanted[name])
    if removed:
        _REMOVE_ATTRIBUTES.execute(ctx.unit, user=user.id, names=removed)
    parts = ([f"set {', '.join(set_names)}"] if set_names else []) + (
        [f"removed {', '.join(removed)}"] if removed else [])
    audit.record(ctx, audit.USERS, "User attributes updated",
                 f"{user.email}: {'; '.join(parts)}")
    return _attributes_view(ctx, user)


# Aliases ------------------------------------------------------------------------------------

def aliases(ctx: Context, email: str) -> dict[str, Any]:
    user = user_row(ctx, email)
    return {"emailAddress": user.email,
            "aliases": [{"aliasAddress": row.address, "created": _date(row.created_at)}
                        for row in _ALIASES.all(ctx.unit, user=user.id)]}


_INSERT_ALIAS = Query(insert(UserAlias).values(
    account_id=bindparam("account"), user_id=bindparam("user"), address=bindparam("address"),
    created_at=bindparam("at")))


def add_alias(ctx: Context, email: str, alias: str) -> dict[str, Any]:
    user = find_user(ctx, email)
    address = _new_address(ctx, alias, "aliasAddress")
    _insert(ctx, _INSERT_ALIAS,
            ApiError("err_user_address_in_use", field="aliasAddress", email=address),
            account=ctx.caller.account_id, user=user.id, address=address, at=ctx.now())
    audit.record(ctx, audit.USERS, "Alias added", f"{address} → {user.email}")
    return {"emailAddress": user.email, "aliasAddress": address}


@functools.cache
def _alias(of_user: bool) -> Query:
    """An alias of the account, `(id, owner's email)`; `of_user`: only if it is `email`'s."""
    query = select(UserAlias.id, User.email).join(User, User.id == UserAlias.user_id).where(
        UserAlias.account_id == bindparam("account"), UserAlias.address == bindparam("address"))
    if of_user:
        query = query.where(User.email == bindparam("email"))
    return Query(query)


_DELETE_ALIAS = Query(delete(UserAlias).where(UserAlias.id == bindparam("alias")))


def remove_alias(ctx: Context, alias: str, email: str | None = None) -> dict[str, Any]:
    """Remove an alias of the account; with `email`, only when it is that user's."""
    address = normalise_email(alias, "aliasAddress")
    params = {"email": normalise_email(email)} if email is not None else {}
    row = _alias(email is not None).first(ctx.unit, account=ctx.caller.account_id,
                                          address=address, **params)
    if row is None:
        raise ApiError("err_user_alias_not_found", field="aliasAddress", email=address)
    _DELETE_ALIAS.execute(ctx.unit, alias=row.id)
    audit.record(ctx, audit.USERS, "Alias removed", f"{address} → {row.email}")
    return {"emailAddress": row.email, "aliasAddress": address}


# Delegates ----------------------------------------------------------------------------------

_PAIR = Query(select(User.id, User.email).where(
    User.account_id == bindparam("account"),
    User.email.in_([bindparam("email"), bindparam("delegate")])))


def _pair(ctx: Context, email: str, delegate: str) -> tuple[Any, Any]:
    """The user and the delegate, rows `(id, email)`, in one query; the user's own error
    (bad or unknown address) comes first."""
    address = normalise_email(email)
    try:
        other_address = normalise_email(delegate, "delegateAddress")
    except ApiError:
        find_user(ctx, address)
        raise
    found = {row.email: row for row in _PAIR.all(ctx.unit, account=ctx.caller.account_id,
                                                 email=address, delegate=other_address)}
    user, other = found.get(address), found.get(other_address)
    if user is None:
        raise ApiError("err_user_not_found", field="emailAddress", email=address)
    if other is None:
        raise ApiError("err_user_not_found", field="delegateAddress", email=other_address)
    return user, other


def _add_delegate(make: Callable[[Any], Upsert]) -> Upsert:
    """Writes nothing (no row counted) when the pair is there already."""
    return make(UserDelegate).values(
        user_id=bindparam("user"), delegate_id=bindparam("delegate"), created_at=bindparam("at")
    ).on_conflict_do_nothing(index_elements=[UserDelegate.user_id, UserDelegate.delegate_id])


_INSERT_DELEGATE = upsert(_add_delegate)
_DELETE_DELEGATE = Query(delete(UserDelegate).where(UserDelegate.user_id == bindparam("user"),
                                                    UserDelegate.delegate_id
                                                    == bindparam("delegate")))


def add_delegate(ctx: Context, email: str, delegate: str) -> dict[str, Any]:
    """Let `delegate` act on `email`'s mailbox."""
    user, other = _pair(ctx, email, delegate)
    if other.id == user.id:
        raise ApiError("err_validation_invalid_value", field="delegateAddress",
                       reason="a user cannot be their own delegate")
    exists = ApiError("err_user_delegate_exists", field="delegateAddress",
                      delegate=other.email, email=user.email)
    # An IntegrityError here: one of the two users was deleted meanwhile (PostgreSQL).
    if not _insert(ctx, _INSERT_DELEGATE, exists, user=user.id,
                   delegate=other.id, at=ctx.now()):
        raise exists
    audit.record(ctx, audit.USERS, "Delegate added", f"{other.email} → {user.email}")
    return {"emailAddress": user.email, "delegateAddress": other.email}


_DELEGATES = Query(select(User.email, User.name, UserDelegate.created_at)
                   .join(UserDelegate, UserDelegate.delegate_id == User.id)
                   .where(UserDelegate.user_id == bindparam("user")).order_by(User.email))


def delegates(ctx: Context, email: str) -> dict[str, Any]:
    user = user_row(ctx, email)
    return {"emailAddress": user.email,
            "delegates": [{"emailAddress": row.email, "name": row.name,
                           "created": _date(row.created_at)}
                          for row in _DELEGATES.all(ctx.unit, user=user.id)]}


def remove_delegate(ctx: Context, email: str, delegate: str) -> dict[str, Any]:
    user, other = _pair(ctx, email, delegate)
    if not _DELETE_DELEGATE.execute(ctx.unit, user=user.id, delegate=other.id):
        raise ApiError("err_user_delegate_not_found", field="delegateAddress",
                       delegate=other.email, email=user.email)
    audit.record(ctx, audit.USERS, "Delegate removed", f"{other.email} → {user.email}")
    return {"emailAddress": user.email, "delegateAddress": other.email}
