"""What the mail endpoints share: ids of a message's recipient rows (the unit the hold queue and
Message Finder both name), address objects, time windows, and the rows they read."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, exists, select

from mimicast.services import ids
from mimicast.services.context import Context
from mimicast.store.query import Query
from mimicast.store.schema import Message, MessageAttachment, MessageRecipient
from mimicast.wire.dates import parse_date
from mimicast.wire.errors import ApiError

# One kind of id for a recipient's copy of a message: an id from Message Finder releases the
# same held message the hold queue lists.
ID_KIND = "message"

# What a list of a recipient's copies reads: the recipient row and its message's facts.
COLUMNS = (MessageRecipient.id, MessageRecipient.address, MessageRecipient.original,
           MessageRecipient.name, MessageRecipient.kind, MessageRecipient.status,
           MessageRecipient.reason, MessageRecipient.reason_code, MessageRecipient.policy,
           MessageRecipient.received_at, MessageRecipient.updated_at,
           MessageRecipient.message_id.label("message"),
           Message.message_id.label("message_id_header"), Message.route, Message.sender,
           Message.header_from, Message.from_name, Message.reply_to, Message.subject,
           Message.size, Message.sender_ip, Message.helo, Message.spf, Message.dkim,
           Message.dmarc, Message.spam_score, Message.detection_level,
           Message.seed, exists().where(MessageAttachment.message_id == Message.id)
           .label("has_attachments"))
COPIES = select(*COLUMNS).join(Message, Message.id == MessageRecipient.message_id)

_ONE = Query(COPIES.where(MessageRecipient.id == bindparam("id"),
                          MessageRecipient.account_id == bindparam("account")))


def secure_id(recipient_id: int) -> str:
    return ids.secure_id(ID_KIND, recipient_id)


def copy(ctx: Context, value: str, field: str = "id", code: str = "err_message_not_found"
         ) -> Any:
    """The caller's recipient copy this id names, or the error (`code`) on `field`."""
    number = ids.row_id(ID_KIND, value)
    row = _ONE.first(ctx.unit, id=number, account=ctx.caller.account_id) if number else None
    if row is None:
        raise ApiError(code, field=field, id=value)
    return row


def address(email: str, name: str = "") -> dict[str, str]:
    """An address object; `displayableName` only when there is one (the real answers omit
    it rather than send "")."""
    return {"displayableName": name, "emailAddress": email} if name else {"emailAddress": email}


def window(ctx: Context, given: Mapping[str, Any], *, default_days: int,
           start_key: str = "start", end_key: str = "end") -> tuple[datetime, datetime]:
    """`start`/`end` of a request, each optional: the last `default_days` days up to now."""
    now = ctx.now()
    end = parse_date(str(given[end_key]), end_key) if given.get(end_key) else now
    start = (parse_date(str(given[start_key]), start_key) if given.get(start_key)
             else end - timedelta(days=default_days))
    if start > end:
        raise ApiError("err_validation_invalid_value", field=end_key,
                       reason=f"{end_key} is before {start_key}")
    return start, end


def window_scope(given: Mapping[str, Any], start_key: str = "start", end_key: str = "end"
                 ) -> str:
    """The window as the request gave it, for a page token's scope: a defaulted window
    ("the last day") moves with the clock, and its next page must still be accepted."""
    return f"{given.get(start_key) or ''}|{given.get(end_key) or ''}"
