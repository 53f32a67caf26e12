"""What recipients do after delivery: some follow the links of their mail. A click is kept
only for a link URL Protect rewrote or blocked (it never sees the others), by a recipient
the message was delivered to. Who would click is part of the message (`PlannedClick`); what
happens depends on what the gateway decided: a known-malicious host or a blocked link is
"blocked", a link in a message that scored as suspicious is "warned" (the user saw a warning
page first), any other "allowed"."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import bindparam, insert, select

from mimicast.services.context import Context
from mimicast.services.mail.accept import Accepted
from mimicast.services.mail.facts import DELIVERED
from mimicast.sim.messages import Plan
from mimicast.store.query import Query
from mimicast.store.schema import LinkClick, MessageLink

ALLOWED, WARNED, BLOCKED = "allowed", "warned", "blocked"
_SEEN_BY_URL_PROTECT = frozenset({"rewritten", "blocked"})

_LINKS = Query(select(MessageLink.id)
               .where(MessageLink.message_id.in_(bindparam("messages", expanding=True)))
               .order_by(MessageLink.message_id, MessageLink.id))
_COLUMNS = ("account_id", "link_id", "recipient", "clicked_at", "action", "source_ip",
            "user_agent")
_INSERT = Query(insert(LinkClick).values({column: bindparam(column) for column in _COLUMNS}))


class Click(NamedTuple):
    clicked_at: datetime
    row: dict[str, Any]


def clicks(ctx: Context, plans: Sequence[Plan], accepted: Sequence[Accepted]) -> list[Click]:
    """The clicks on this batch's delivered mail (`plans` and `accepted` in the same order,
    which is the order of their ids)."""
    if not any(plan.clicks for plan in plans):
        return []
    linked = [item.id for item in accepted if item.draft.links]
    link_ids = iter(_LINKS.scalars(ctx.unit, messages=linked))
    account = ctx.caller.account_id
    found = []
    for plan, item in zip(plans, accepted, strict=True):
        if not item.draft.links:
            continue
        ids = [next(link_ids) for _ in item.draft.links]
        if not plan.clicks:
            continue
        decision = item.decision
        for click in plan.clicks:
            outcome = decision.recipients[click.recipient]
            link_action = decision.link_actions[click.link]
            if outcome.status != DELIVERED or link_action not in _SEEN_BY_URL_PROTECT:
                continue
            action = (BLOCKED if click.malicious or link_action == "blocked"
                      else WARNED if decision.detection_level else ALLOWED)
            when = item.draft.received_at + click.delay
            found.append(Click(when, {
                "account_id": account, "link_id": ids[click.link], "recipient": outcome.address,
                "clicked_at": when, "action": action, "source_ip": click.source_ip,
                "user_agent": click.user_agent}))
    return found


def save(ctx: Context, found: Sequence[Click]) -> None:
    _INSERT.execute_many(ctx.unit, [click.row for click in found])
