"""Managed senders: a sender always permitted, or always blocked, for one internal recipient.

One row per account, sender and recipient (spec 6.6): asking again for the same pair changes
its action and keeps its id. The real service manages senders per internal recipient, so the
recipient must be an address in one of the account's internal domains.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import exc, select

from mimicast.services import audit, ids, paging
from mimicast.services.context import Context
from mimicast.services.identity import normalise_email
from mimicast.store.schema import Domain, ManagedSender
from mimicast.wire.errors import ApiError

# The wire's `type` for each stored action.
ACTIONS = {"permit": "Permit", "block": "Block"}
_EVENTS = {"permit": "Managed sender permitted", "block": "Managed sender blocked"}

# Managed-sender ids carry a prefix in front of the usual opaque id (spec 9).
ID_PREFIX = "MTOKEN:"
ID_KIND = "managedsender"


def secure_id(number: int) -> str:
    return ID_PREFIX + ids.secure_id(ID_KIND, number)


def row_id(value: str) -> int | None:
    """The row behind an id; the prefix may be left off, as clients treat ids as opaque."""
    return ids.row_id(ID_KIND, value.removeprefix(ID_PREFIX))


def _view(row: ManagedSender) -> dict[str, Any]:
    return {"id": secure_id(row.id), "sender": row.sender, "to": row.recipient,
            "type": ACTIONS[row.action]}


def _action(value: str) -> str:
    action = value.strip().lower()
    if action not in ACTIONS:
        raise ApiError("err_validation_invalid_value", field="action",
                       reason="action must be permit or block")
    return action


def _require_internal(ctx: Context, recipient: str) -> None:
    domain = recipient.rpartition("@")[2]
    if ctx.session.scalar(select(Domain.id).where(
            Domain.account_id == ctx.caller.account_id, Domain.name == domain,
            Domain.status == "internal")) is None:
        raise ApiError("err_managed_sender_recipient_not_internal", field="to", to=recipient)


def _find(ctx: Context, sender: str, recipient: str) -> ManagedSender | None:
    return ctx.session.scalar(select(ManagedSender).where(
        ManagedSender.account_id == ctx.caller.account_id, ManagedSender.sender == sender,
        ManagedSender.recipient == recipient))


def permit_or_block(ctx: Context, sender: str, to: str, action: str) -> dict[str, Any]:
    """Permit or block `sender` for the internal recipient `to`; the pair's row is created or
    its action changed. Answers `{id, sender, to, type}`."""
    sender_address = normalise_email(sender, "sender")
    recipient = normalise_email(to, "to")
    wanted = _action(action)
    _require_internal(ctx, recipient)
    row = _find(ctx, sender_address, recipient)
    if row is None:
        row = ManagedSender(account_id=ctx.caller.account_id, sender=sender_address,
                            recipient=recipient, action=wanted, created_at=ctx.now())
        try:
            with ctx.session.begin_nested():
                ctx.session.add(row)
        except exc.IntegrityError:
            # A concurrent request added the pair first: change that row instead.
            row = _find(ctx, sender_address, recipient)
            if row is None:
                raise
        else:
            audit.record(ctx, audit.POLICY, _EVENTS[wanted], f"{sender_address} → {recipient}")
            return _view(row)
    if row.action != wanted:
        row.action = wanted
        audit.record(ctx, audit.POLICY, _EVENTS[wanted], f"{sender_address} → {recipient}")
    return _view(row)


def list_managed_senders(ctx: Context, to: str | None = None, sender: str | None = None,
                         action: str | None = None) -> paging.Paged:
    """The account's managed senders in the order they were first made, optionally only one
    recipient's, one sender's and/or one action's; paged by key."""
    query = select(ManagedSender).where(ManagedSender.account_id == ctx.caller.account_id)
    recipient = normalise_email(to, "to") if to is not None else None
    sender_address = normalise_email(sender, "sender") if sender is not None else None
    wanted = _action(action) if action is not None else None
    if recipient is not None:
        query = query.where(ManagedSender.recipient == recipient)
    if sender_address is not None:
        query = query.where(ManagedSender.sender == sender_address)
    if wanted is not None:
        query = query.where(ManagedSender.action == wanted)
    scope = f"managedsender|{recipient or ''}|{sender_address or ''}|{wanted or ''}"
    page = paging.keyset(ctx, query, order=[ManagedSender.id], key_of=lambda row: (row.id,),
                         pinned=[ManagedSender.account_id], scope=scope)
    return paging.Paged(data=[_view(row) for row in page.rows], pagination=page.pagination)


def delete_managed_sender(ctx: Context, sender_id: str) -> dict[str, Any]:
    """Remove a managed sender: the pair is then neither permitted nor blocked."""
    number = row_id(sender_id)
    row = ctx.session.get(ManagedSender, number) if number is not None else None
    if row is None or row.account_id != ctx.caller.account_id:
        raise ApiError("err_managed_sender_not_found", field="id", id=sender_id)
    ctx.session.delete(row)
    audit.record(ctx, audit.POLICY, "Managed sender removed", f"{row.sender} → {row.recipient}")
    return {"id": secure_id(row.id)}
