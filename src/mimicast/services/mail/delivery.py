"""Delivery to the next hop. Most servers take a copy at once; a few greylist (refuse the first
attempt for a while, `world.greylists`), and the gateway queues the copy and tries again
`RETRY` later, when it is taken. Which servers do is part of the outside world, the same for
simulated mail and mail sent through the API.

`first_attempt` decides as a batch is stored: a copy whose retry is still to come waits in
the queue (`gateway/find-processing-messages`, `email/get-email-queues`); one whose retry time
has passed already (a backfill's older mail) was delivered on it. `deliver_due` makes the
retries that have come due since; the server runs it every minute, for every account.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, update

from mimicast.services.context import Caller, Context, Deps
from mimicast.services.mail import world
from mimicast.services.mail.facts import DELIVERED, QUEUED, Decision
from mimicast.services.mail.rules import Rules, domain_of
from mimicast.store.query import Query
from mimicast.store.schema import Account, MessageRecipient

RETRY = timedelta(minutes=15)
WAITING = ("Greylisted by the receiving server: retrying", "greylisted")
RETRIED = ("Delivered on the second attempt", "delivered_on_retry")

_DUE = Query(update(MessageRecipient)
             .where(MessageRecipient.account_id == bindparam("account"),
                    MessageRecipient.status == QUEUED,
                    MessageRecipient.received_at <= bindparam("due"))
             .values(status=DELIVERED, reason=RETRIED[0], reason_code=RETRIED[1],
                     updated_at=bindparam("now")))
_ACCOUNTS = Query(select(Account.id).order_by(Account.id))


def first_attempt(decision: Decision, rules: Rules, received_at: datetime,
                  now: datetime) -> None:
    """Queue the copies for outside servers that greylist, unless their retry is past."""
    for outcome in decision.recipients:
        if outcome.status != DELIVERED or rules.is_internal(outcome.address) \
                or not world.greylists(domain_of(outcome.address)):
            continue
        waiting = received_at + RETRY > now
        outcome.decide(QUEUED if waiting else DELIVERED, *(WAITING if waiting else RETRIED),
                       outcome.policy)


def deliver_due(ctx: Context) -> int:
    """Deliver the account's queued copies whose retry has come; how many."""
    now = ctx.now()
    return _DUE.execute(ctx.unit, account=ctx.caller.account_id, due=now - RETRY, now=now)


def deliver_all(deps: Deps) -> int:
    """`deliver_due` for every account, each in a unit of its own (what the server runs)."""
    with deps.store.unit(write=False) as unit:
        accounts = _ACCOUNTS.scalars(unit)
    delivered = 0
    for account in accounts:
        with deps.store.unit() as unit:
            delivered += deliver_due(Context(deps, unit, Caller(account, actor="gateway")))
    return delivered
