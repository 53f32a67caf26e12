"""Email namespace: sending a message, and the delivery queues' figures (spec 5.7; data
families §8).

Where the spec is unsure ([1]: one client's shapes), chosen here: send-email reads `to`,
`cc`, `bcc` as lists of `{emailAddress, displayableName?}` (or bare addresses), `from`
(an address of the account's own domains; default: the caller), `replyTo`, `subject`,
`plainBody`/`text` and `htmlBody`/`html` (`{content}` or a string), `inReplyTo`, and
`attachments[] {filename, contentType, content (base64)}` or `{id, filename?, contentType?}`
(a file uploaded through `file/file-upload`); it answers `{id, messageId}`: the
id of the first recipient's copy (for Message Finder and the hold queue) and the Message-ID
header. The permission is named "Gateway | Email | Send" (not observed).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from mimicast.catalog.model import Endpoint, Item
from mimicast.services import permissions
from mimicast.services.mail import queue, sending


class QueuesItem(Item):
    start: str = Field(min_length=1, description="The first sample's time.")
    end: str = Field(min_length=1, description="The last sample's time (at most 7 days on).")


class SendItem(Item):
    to: list[Any] | None = Field(default=None, description=(
        "Recipients: `{emailAddress, displayableName?}` objects (or addresses)."))
    cc: list[Any] | None = None
    bcc: list[Any] | None = None
    from_: Any = Field(default=None, alias="from", description=(
        "The sender, an address of the account's internal domains (default: the caller)."))
    replyTo: Any = None
    subject: str = Field(default="", max_length=998)
    plainBody: Any = Field(default=None, description="`{content}` or a string.")
    text: str | None = None
    htmlBody: Any = Field(default=None, description="`{content}` or a string.")
    html: str | None = None
    inReplyTo: str | None = Field(default=None, max_length=998)
    attachments: list[Any] | None = Field(default=None, description=(
        "`{filename, contentType, content}`, the content in base64; or `{id, filename?, "
        "contentType?}`, a file uploaded through `file/file-upload`."))


class Sent(BaseModel):
    id: str = Field(description="The first recipient's copy (Message Finder, hold queue).")
    messageId: str = Field(description="The Message-ID header.")


class QueueSample(BaseModel):
    count: int
    date: str


class EmailQueues(BaseModel):
    inboundEmailQueue: list[QueueSample]
    outboundEmailQueue: list[QueueSample]


ENDPOINTS = [
    Endpoint("/api/email/send-email",
             "Send messages (1–500 items), each through the account's gateway as mail from "
             "its own users: the policies apply, and Message Finder and the hold queue then "
             "show it delivered or held.",
             lambda ctx, item: sending.send(ctx, item.model_dump(by_alias=True)),
             permissions.SEND_EMAIL, SendItem, Sent, min_items=1, max_items=500),
    Endpoint("/api/email/get-email-queues",
             "How many messages waited in the inbound and outbound delivery queues, sampled "
             "every ten minutes from `start` to `end`.",
             lambda ctx, item: queue.email_queues(ctx, item.model_dump()),
             permissions.QUEUES_READ, QueuesItem, EmailQueues, per_item=False, min_items=1,
             max_items=1, read_only=True),
]
