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

import secrets
from datetime import timedelta
from typing import Any

from sqlalchemy import exc, select

from mimicast.services import audit, ids
from mimicast.services.context import Context
from mimicast.services.identity import normalise_domain
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


def _own(ctx: Context, name: str) -> Domain | None:
    return ctx.session.scalar(select(Domain).where(
        Domain.account_id == ctx.caller.account_id, Domain.name == name))


def _find(ctx: Context, domain: str | None, domain_id: str | None) -> Domain:
    """The caller's domain named by `domain` or by `id` (both given: they must agree)."""
    if domain is None and domain_id is None:
        raise ApiError("err_validation_null", field="domain")
    name = normalise_domain(domain) if domain is not None else None
    if domain_id is not None:
        number = row_id(domain_id)
        row = ctx.session.get(Domain, number) if number is not None else None
        if row is None or row.account_id != ctx.caller.account_id or (
                name is not None and row.name != name):
            raise ApiError("err_domain_not_found", domain=domain_id)
        return row
    assert name is not None
    row = _own(ctx, name)
    if row is None:
        raise ApiError("err_domain_not_found", domain=name)
    return row


def _managed_elsewhere(ctx: Context, name: str) -> bool:
    """Whether another account owns this domain, or a domain it lies under, as internal."""
    return ctx.session.scalar(select(Domain.id).where(
        Domain.name.in_([name, *_ancestors(name)]), Domain.status == INTERNAL,
        Domain.account_id != ctx.caller.account_id).limit(1)) is not None


def _parent_is_own(ctx: Context, name: str) -> bool:
    parents = _ancestors(name)
    return bool(parents) and ctx.session.scalar(select(Domain.id).where(
        Domain.name.in_(parents), Domain.status == INTERNAL,
        Domain.account_id == ctx.caller.account_id).limit(1)) is not None


def _expired(ctx: Context, row: Domain) -> bool:
    return row.status == PENDING and row.expires_at is not None and row.expires_at <= ctx.now()


def _filter_rows(ctx: Context, status: str, domain: str | None,
                 domain_id: str | None) -> list[Domain]:
    """The caller's domains in `status`, optionally narrowed to one name and/or id."""
    query = select(Domain).where(Domain.account_id == ctx.caller.account_id,
                                 Domain.status == status)
    if domain is not None:
        query = query.where(Domain.name == normalise_domain(domain))
    if domain_id is not None:
        number = row_id(domain_id)
        if number is None:
            return []
        query = query.where(Domain.id == number)
    return list(ctx.session.scalars(query.order_by(Domain.name, Domain.id)))


# Shapes -------------------------------------------------------------------------------------

def _date(value: Any) -> str:
    return format_date(value) if value is not None else ""


def _pending_view(row: Domain) -> dict[str, Any]:
    return {"id": secure_id(row.id), "domain": row.name, "token": row.token,
            "created": _date(row.created_at), "expiry": _date(row.expires_at)}


def _internal_view(row: Domain) -> dict[str, Any]:
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
        row.token, row.inbound_type = new_token(), kind
        row.created_at, row.expires_at = now, now + timedelta(days=VERIFICATION_DAYS)
        audit.record(ctx, audit.DOMAIN, "Pending domain renewed", name)
        return _pending_view(row)
    if _parent_is_own(ctx, name):
        row = Domain(account_id=ctx.caller.account_id, name=name, status=INTERNAL,
                     inbound_type=kind, token="", created_at=now, expires_at=None,
                     verified_at=now)
        event = "Internal domain added (parent domain internal)"
    else:
        row = Domain(account_id=ctx.caller.account_id, name=name, status=PENDING,
                     inbound_type=kind, token=new_token(), created_at=now,
                     expires_at=now + timedelta(days=VERIFICATION_DAYS), verified_at=None)
        event = "Domain registered, pending verification"
    try:
        with ctx.session.begin_nested():
            ctx.session.add(row)
    except exc.IntegrityError:
        # A concurrent request registered the same name first.
        raise ApiError("err_domain_already_registered", domain=name) from None
    audit.record(ctx, audit.DOMAIN, event, name)
    return _pending_view(row)


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
    row.status, row.verified_at, row.expires_at = INTERNAL, ctx.now(), None
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
    answer = {"id": secure_id(row.id), "domain": row.name, "deleted": True}
    ctx.session.delete(row)
    audit.record(ctx, audit.DOMAIN, "Pending domain deleted", row.name)
    return answer
