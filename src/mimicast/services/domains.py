"""Domain registration: a new domain is *pending* with a TXT verification token until the
owner publishes the token in DNS and verifies it; then it is *internal* (users may live there).

Rules (spec 6.1):
- a domain under one the account already owns (`sub.example.com` below `example.com`) is
  internal at once, with no token;
- a domain that is, or lies under, another account's internal domain is refused;
- a pending registration lapses after `VERIFICATION_DAYS`; creating the domain again renews it.

Only the caller's own rows are ever read or changed: the sole cross-account look-up is the
"managed by another account" refusal, which reveals nothing but that refusal.
"""

from __future__ import annotations

import functools
import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, delete, exc, insert, select, update

from mimicast.services import audit, ids
from mimicast.services.context import Context
from mimicast.services.identity import normalise_domain
from mimicast.store.query import Query
from mimicast.store.schema import Domain
from mimicast.wire.dates import format_date
from mimicast.wire.errors import ApiError

PENDING = "pending"
INTERNAL = "internal"
EXPIRED = "expired"  # reported by get-provision-status; never stored
INBOUND_TYPES = ("any", "smtp", "ldap", "known")
VERIFICATION_DAYS = 30
TOKEN_PREFIX = "mimecast-verification="


# Ids ----------------------------------------------------------------------------------------

ID_KIND = "domain"


def secure_id(number: int) -> str:
    return ids.secure_id(ID_KIND, number)


def row_id(value: str) -> int | None:
    return ids.row_id(ID_KIND, value)


# Look-ups -----------------------------------------------------------------------------------

def _ancestors(name: str) -> list[str]:
    """`a.b.example.com` → `b.example.com`, `example.com` (never the bare top-level label)."""
    labels = name.split(".")
    return [".".join(labels[i:]) for i in range(1, len(labels) - 1)]


def _own(ctx: Context, name: str) -> Any:
    return _domains(True, False, False).first(ctx.unit, account=ctx.caller.account_id,
                                              name=name)


@functools.cache
def _domains(by_name: bool, by_id: bool, status: bool) -> Query:
    """The caller's domains, by name (then id), optionally narrowed."""
    query = select(Domain.__table__).where(Domain.account_id == bindparam("account"))
    for wanted, column in ((by_name, Domain.name), (by_id, Domain.id), (status, Domain.status)):
        if wanted:
            query = query.where(column == bindparam(column.key))
    return Query(query.order_by(Domain.name, Domain.id))


def _find(ctx: Context, domain: str | None, domain_id: str | None) -> Any:
    """The caller's domain named by `domain` or by `id` (both given: they must agree), as a
    row; a change loads it from the session by its id."""
    if domain is None and domain_id is None:
        raise ApiError("err_validation_null", field="domain")
    name = normalise_domain(domain) if domain is not None else None
    number = row_id(domain_id) if domain_id is not None else None
    if domain_id is not None and number is None:
        raise ApiError("err_domain_not_found", domain=domain_id)
    given = {key: value for key, value in (("name", name), ("id", number)) if value is not None}
    row = _domains("name" in given, "id" in given, False).first(
        ctx.unit, account=ctx.caller.account_id, **given)
    if row is None:
        raise ApiError("err_domain_not_found", domain=domain_id if domain_id is not None
                       else name)
    return row


_INTERNAL = select(Domain.id).where(Domain.name.in_(bindparam("names", expanding=True)),
                                    Domain.status == INTERNAL)
_ELSEWHERE = Query(_INTERNAL.where(Domain.account_id != bindparam("account")).limit(1))
_OWN_PARENT = Query(_INTERNAL.where(Domain.account_id == bindparam("account")).limit(1))
_ADD = Query(insert(Domain).values(
    {column: bindparam(column) for column in (
        "account_id", "name", "status", "inbound_type", "token", "created_at", "expires_at",
        "verified_at")}).returning(Domain.id))
_RENEW = Query(update(Domain).where(Domain.id == bindparam("id")).values(
    token=bindparam("token"), inbound_type=bindparam("inbound_type"),
    created_at=bindparam("at"), expires_at=bindparam("expires")))
_VERIFIED = Query(update(Domain).where(Domain.id == bindparam("id")).values(
    status=INTERNAL, verified_at=bindparam("at"), expires_at=None))
_REMOVE = Query(delete(Domain).where(Domain.id == bindparam("id")))


def _managed_elsewhere(ctx: Context, name: str) -> bool:
    """Whether another account owns this domain, or a domain it lies under, as internal."""
    return _ELSEWHERE.first(ctx.unit, names=[name, *_ancestors(name)],
                            account=ctx.caller.account_id) is not None


def _parent_is_own(ctx: Context, name: str) -> bool:
    parents = _ancestors(name)
    return bool(parents) and _OWN_PARENT.first(ctx.unit, names=parents,
                                               account=ctx.caller.account_id) is not None


def _reread(ctx: Context, number: int) -> Any:
    return _domains(False, True, False).first(ctx.unit, account=ctx.caller.account_id,
                                              id=number)


def _expired(ctx: Context, row: Any) -> bool:
    return row.status == PENDING and row.expires_at is not None and row.expires_at <= ctx.now()


def _filter_rows(ctx: Context, status: str, domain: str | None,
                 domain_id: str | None) -> list[Any]:
    """The caller's domains in `status`, optionally narrowed to one name and/or id."""
    given: dict[str, Any] = {"status": status}
    if domain is not None:
        given["name"] = normalise_domain(domain)
    if domain_id is not None:
        number = row_id(domain_id)
        if number is None:
            return []
        given["id"] = number
    return _domains("name" in given, "id" in given, True).all(
        ctx.unit, account=ctx.caller.account_id, **given)


# Shapes -------------------------------------------------------------------------------------

def _date(value: Any) -> str:
    return format_date(value) if value is not None else ""


def _pending_view(row: Any) -> dict[str, Any]:
    return {"id": secure_id(row.id), "domain": row.name, "token": row.token,
            "created": _date(row.created_at), "expiry": _date(row.expires_at)}


def _internal_view(row: Any) -> dict[str, Any]:
    return {"id": secure_id(row.id), "domain": row.name, "sendOnly": row.send_only,
            "local": row.local, "inboundType": row.inbound_type}


# Operations ---------------------------------------------------------------------------------

def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_hex(16)


def create_domain(ctx: Context, domain: str, inbound_type: str) -> dict[str, Any]:
    """Register a domain: pending with a token, or internal at once under an owned parent.

    Answers `{id, domain, token, created, expiry}`; token and expiry are "" when internal.
    """
    name = normalise_domain(domain)
    kind = inbound_type.strip().lower()
    if kind not in INBOUND_TYPES:
        raise ApiError("err_validation_invalid_value", field="inboundType",
                       reason="inboundType must be one of " + ", ".join(INBOUND_TYPES))
    if _managed_elsewhere(ctx, name):
        raise ApiError("err_domain_managed_by_another_account", domain=name)
    now = ctx.now()
    row = _own(ctx, name)
    if row is not None and not _expired(ctx, row):
        raise ApiError("err_domain_already_registered", domain=name)
    if row is not None:
        # A lapsed registration starts over: new token, new period, same id.
        _RENEW.execute(ctx.unit, id=row.id, token=new_token(), inbound_type=kind, at=now,
                       expires=now + timedelta(days=VERIFICATION_DAYS))
        audit.record(ctx, audit.DOMAIN, "Pending domain renewed", name)
        return _pending_view(_reread(ctx, row.id))
    if _parent_is_own(ctx, name):
        values = {"status": INTERNAL, "token": "", "expires_at": None, "verified_at": now}
        event = "Internal domain added (parent domain internal)"
    else:
        values = {"status": PENDING, "token": new_token(),
                  "expires_at": now + timedelta(days=VERIFICATION_DAYS), "verified_at": None}
        event = "Domain registered, pending verification"
    try:
        with ctx.unit.savepoint():
            number = _ADD.scalar(ctx.unit, account_id=ctx.caller.account_id, name=name,
                                 inbound_type=kind, created_at=now, **values)
    except exc.IntegrityError:
        # A concurrent request registered the name first (PostgreSQL: SQLite's writers
        # take turns).
        raise ApiError("err_domain_already_registered", domain=name) from None
    audit.record(ctx, audit.DOMAIN, event, name)
    return _pending_view(_reread(ctx, number))


def pending_domains(ctx: Context, domain: str | None = None,
                    domain_id: str | None = None) -> list[dict[str, Any]]:
    """The account's pending domains (lapsed ones too: their expiry says so)."""
    return [_pending_view(row) for row in _filter_rows(ctx, PENDING, domain, domain_id)]


def internal_domains(ctx: Context, domain: str | None = None,
                     domain_id: str | None = None) -> list[dict[str, Any]]:
    return [_internal_view(row) for row in _filter_rows(ctx, INTERNAL, domain, domain_id)]


def verification_code(ctx: Context, domain: str) -> dict[str, Any]:
    """The TXT value that proves ownership; an internal domain answers the token it was
    verified with ("" when it became internal through its parent)."""
    row = _find(ctx, domain, None)
    return {"domain": row.name, "token": row.token}


def verify_domain(ctx: Context, domain: str | None = None,
                  domain_id: str | None = None) -> dict[str, Any]:
    """Look for the token among the domain's TXT records; found: the domain is internal."""
    row = _find(ctx, domain, domain_id)
    if row.status != PENDING:
        raise ApiError("err_domain_not_pending", domain=row.name)
    if _expired(ctx, row):
        raise ApiError("err_domain_verification_expired", domain=row.name)
    if _managed_elsewhere(ctx, row.name):
        raise ApiError("err_domain_managed_by_another_account", domain=row.name)
    # Operators paste TXT values with their quotes now and then; the token itself has none.
    published = {value.strip().strip('"') for value in ctx.deps.resolver.txt_records(row.name)}
    if row.token not in published:
        raise ApiError("err_domain_verification_failed", domain=row.name)
    _VERIFIED.execute(ctx.unit, id=row.id, at=ctx.now())
    audit.record(ctx, audit.DOMAIN, "Domain verified", row.name)
    return {"id": secure_id(row.id), "domain": row.name, "verified": True, "status": INTERNAL}


def provision_status(ctx: Context, domain: str) -> dict[str, Any]:
    """Where a registration stands: status pending, expired (lapsed, not verified) or internal."""
    row = _find(ctx, domain, None)
    status = EXPIRED if _expired(ctx, row) else row.status
    return {"id": secure_id(row.id), "domain": row.name, "status": status,
            "verified": row.status == INTERNAL, "created": _date(row.created_at),
            "expiry": _date(row.expires_at), "verifiedDate": _date(row.verified_at)}


def delete_pending_domain(ctx: Context, domain: str | None = None,
                          domain_id: str | None = None) -> dict[str, Any]:
    """Withdraw a pending (or lapsed) registration; internal domains are not deleted here."""
    row = _find(ctx, domain, domain_id)
    if row.status != PENDING:
        raise ApiError("err_domain_not_pending", domain=row.name)
    _REMOVE.execute(ctx.unit, id=row.id)
    audit.record(ctx, audit.DOMAIN, "Pending domain deleted", row.name)
    return {"id": secure_id(row.id), "domain": row.name, "deleted": True}
