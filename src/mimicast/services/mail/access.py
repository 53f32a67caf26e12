"""Administrators' access to mail, as the audit trail keeps it: each Message Finder search and
each view of a message's content is one audit event, written here and read back here for the
archive's search and view logs (`services.logs.archive`).

The event's `info` is what `audit/get-audit-events` shows, so it stays a readable line, in a
form that reads back without ambiguity:

- a search: its criteria as the console's search filter writes them, `[From : a@example.com]
  [Route : inbound]`, after `Reason "…": ` (the reason JSON-quoted) when one was given;
- a view: `Message from a@example.com to b@example.com, received <date>: <subject>`, or
  `Attachment <file> of the message from …` for a file, the free text (the subject) last.

A view is recorded in a unit of its own once the reading one has ended (`ctx.followups`), so
the endpoints that show content stay read-only: rendering a file never holds the store's one
writer, and one short write records every view of the request.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import bindparam, select

from mimicast.services import audit
from mimicast.services.context import Caller, Context, Deps
from mimicast.store.query import Query
from mimicast.store.schema import Message, MessageRecipient
from mimicast.wire.dates import format_date

SEARCHED = "Message tracking search"
VIEWED = "Message viewed"  # get-message-detail
DOWNLOADED = "Message downloaded"  # get-file of a whole message
FILE_DOWNLOADED = "Attachment downloaded"  # get-file of an attachment
VIEWS = (VIEWED, DOWNLOADED, FILE_DOWNLOADED)

_REASON = "Reason "
_VIEW = re.compile(r"(?:Attachment .*? of the message|Message) from (?P<sender>\S+) to "
                   r"(?P<to>\S+), received (?P<date>\S+): (?P<subject>.*)", re.DOTALL)


# Searches -----------------------------------------------------------------------------------

def record_search(ctx: Context, criteria: Sequence[tuple[str, str]], reason: str) -> None:
    """A Message Finder search: its criteria as (label, value) pairs, those given only, and
    the reason the searcher gave ("" for none)."""
    text = " ".join(f"[{label} : {value}]" for label, value in criteria if value)
    info = f"{_REASON}{json.dumps(reason, ensure_ascii=False)}: {text}" if reason else text
    audit.record(ctx, audit.EMAIL, SEARCHED, info)


def search_of(info: str) -> tuple[str, str]:
    """A search event's (search text, reason)."""
    if info.startswith(_REASON + '"'):
        try:
            reason, end = json.JSONDecoder().raw_decode(info, len(_REASON))
        except ValueError:
            return info, ""
        if isinstance(reason, str) and info.startswith(": ", end):
            return info[end + 2:], reason
    return info, ""


# Views --------------------------------------------------------------------------------------

class View(NamedTuple):
    sender: str
    to: str
    received: str  # as format_date wrote it
    subject: str


def view_of(info: str) -> View | None:
    """A view event's message, or None for an info this module did not write."""
    found = _VIEW.fullmatch(info)
    if found is None:
        return None
    return View(found["sender"], found["to"], found["date"], found["subject"])


@dataclass
class _Pending:
    """The views of one request, recorded together once its unit has ended."""

    deps: Deps
    caller: Caller
    events: list[tuple[str, str]] = field(default_factory=list)

    def __call__(self) -> None:
        with self.deps.store.unit() as unit:
            ctx = Context(self.deps, unit, self.caller)
            for event, info in self.events:
                audit.record(ctx, audit.ARCHIVE, event, info)


def _facts(sender: str, to: str, received: datetime, subject: str) -> str:
    """The viewed message as a view event's info names it, the subject last."""
    return (f"from {sender or '<>'} to {to or '<>'}, received {format_date(received)}: "
            f"{subject}")


def _later(ctx: Context, event: str, info: str) -> None:
    pending = next((f for f in ctx.followups if isinstance(f, _Pending)), None)
    if pending is None:
        pending = _Pending(ctx.deps, ctx.caller)
        ctx.followups.append(pending)
    pending.events.append((event, info))


def viewed(ctx: Context, row: Any, event: str = VIEWED) -> None:
    """A recipient's copy (a `views.COPIES` row) shown to the caller: its detail (VIEWED) or
    its whole .eml (DOWNLOADED)."""
    _later(ctx, event, "Message " + _facts(row.header_from, row.address, row.received_at,
                                           row.subject))


_MESSAGE = Query(select(Message.header_from, Message.received_at, Message.subject,
                        select(MessageRecipient.address)
                        .where(MessageRecipient.message_id == Message.id)
                        .order_by(MessageRecipient.id).limit(1).scalar_subquery()
                        .label("first_recipient"))
                 .where(Message.id == bindparam("message")))


def file_viewed(ctx: Context, message: int, name: str) -> None:
    """An attachment of a message downloaded by the caller; the view names the message's
    first recipient (a file belongs to the message, not to one recipient's copy)."""
    row = _MESSAGE.first(ctx.unit, message=message)
    _later(ctx, FILE_DOWNLOADED, f"Attachment {name} of the message " + _facts(
        row.header_from, row.first_recipient or "", row.received_at, row.subject))
