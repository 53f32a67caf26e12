"""Managed senders: a sender always permitted, or always blocked, for one internal recipient.

One row per account, sender and recipient (spec 6.6): asking again for the same pair changes
its action and keeps its id. The real service manages senders per internal recipient, so the
recipient must be an address in one of the account's internal domains.
"""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update

from mimicast.services import audit, ids, paging
from mimicast.services.context import Context
from mimicast.services.identity import normalise_email
from mimicast.store.query import Query
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


def _view(row: Any) -> dict[str, Any]:
    return {"id": secure_id(row.id), "sender": row.sender, "to": row.recipient,
            "type": ACTIONS[row.action]}


def _action(value: str) -> str:
    action = value.strip().lower()
    if action not in ACTIONS:
        raise ApiError("err_validation_invalid_value", field="action",
                       reason="action must be permit or block")
    return action


_INTERNAL = Query(select(Domain.id).where(Domain.account_id == bindparam("account"),
                                          Domain.name == bindparam("name"),
                                          Domain.status == "internal"))
_PAIR = Query(select(ManagedSender.id, ManagedSender.action).where(
    ManagedSender.account_id == bindparam("account"), ManagedSender.sender == bindparam("sender"),
    ManagedSender.recipient == bindparam("recipient")))
_ADD = Query(insert(ManagedSender).values(
    account_id=bindparam("account"), sender=bindparam("sender"),
    recipient=bindparam("recipient"), action=bindparam("action"), created_at=bindparam("at"))
    .returning(ManagedSender.id))
_SET_ACTION = Query(update(ManagedSender).where(ManagedSender.id == bindparam("id"))
                    .values(action=bindparam("action")))
_ONE = Query(select(ManagedSender.__table__).where(
    ManagedSender.id == bindparam("id"), ManagedSender.account_id == bindparam("account")))
_REMOVE = Query(delete(ManagedSender).where(ManagedSender.id == bindparam("id")))


def _require_internal(ctx: Context, recipient: str) -> None:
    domain = recipient.rpartition("@")[2]
    if _INTERNAL.first(ctx.unit, account=ctx.caller.account_id, name=domain) is None:
        raise ApiError("err_managed_sender_recipient_not_internal", field="to", to=recipient)


def permit_or_block(ctx: Context, sender: str, to: str, action: str) -> dict[str, Any]:
    """Permit or block `sender` for the internal recipient `to`; the pair's row is created or
    its action changed. Answers `{id, sender, to, type}`."""
    sender_address = normalise_email(sender, "sender")
    recipient = normalise_email(to, "to")
    wanted = _action(action)
    _require_internal(ctx, recipient)
    pair = {"account": ctx.caller.account_id, "sender": sender_address,
            "recipient": recipient}
    found = _PAIR.first(ctx.unit, **pair)
    if found is None:
        # A concurrent request adding the same pair first makes this a unique violation: the
        # unit is run again and then changes that row.
        number = _ADD.scalar(ctx.unit, **pair, action=wanted, at=ctx.now())
    else:
        number = found.id
        if found.action != wanted:
            _SET_ACTION.execute(ctx.unit, id=number, action=wanted)
    if found is None or found.action != wanted:
        audit.record(ctx, audit.POLICY, _EVENTS[wanted], f"{sender_address} → {recipient}")
    return {"id": secure_id(number), "sender": sender_address, "to": recipient,
            "type": ACTIONS[wanted]}


@functools.cache
def _senders(by_recipient: bool, by_sender: bool, by_action: bool) -> paging.Keyset:
    """In the order they were first made, along (account, id); the filters narrow that walk."""
    base = select(ManagedSender.__table__).where(
        ManagedSender.account_id == bindparam("account"))
    for wanted, column in ((by_recipient, ManagedSender.recipient),
                           (by_sender, ManagedSender.sender), (by_action, ManagedSender.action)):
        if wanted:
            base = base.where(column == bindparam(column.key))
    return paging.Keyset(base, order=[ManagedSender.id], pinned=[ManagedSender.account_id])


def list_managed_senders(ctx: Context, to: str | None = None, sender: str | None = None,
                         action: str | None = None) -> paging.Paged:
    """The account's managed senders in the order they were first made, optionally only one
    recipient's, one sender's and/or one action's; paged by key."""
    filters = {"recipient": normalise_email(to, "to") if to is not None else None,
               "sender": normalise_email(sender, "sender") if sender is not None else None,
               "action": _action(action) if action is not None else None}
    given = {name: value for name, value in filters.items() if value is not None}
    scope = "managedsender|" + "|".join(value or "" for value in filters.values())
    page = _senders(*(value is not None for value in filters.values())).page(
        ctx, scope, account=ctx.caller.account_id, **given)
    return paging.Paged(data=[_view(row) for row in page.rows], pagination=page.pagination)


def delete_managed_sender(ctx: Context, sender_id: str) -> dict[str, Any]:
    """Remove a managed sender: the pair is then neither permitted nor blocked."""
    number = row_id(sender_id)
    row = _ONE.first(ctx.unit, id=number, account=ctx.caller.account_id) if number else None
    if row is None:
        raise ApiError("err_managed_sender_not_found", field="id", id=sender_id)
    _REMOVE.execute(ctx.unit, id=row.id)
    audit.record(ctx, audit.POLICY, "Managed sender removed", f"{row.sender} → {row.recipient}")
    return {"id": secure_id(row.id)}
