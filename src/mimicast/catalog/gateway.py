"""Gateway namespace: the hold queue and the other message queues (spec 5.7, 6.5; data
families §7).

Where the spec is silent or unsure, chosen here:
- A held message is one recipient's copy; its `id` is the same id Message Finder shows, so
  either can be released. `admin` is read as a bool or the string "true" (clients send both);
  false (the default) lists the caller's own held mail.
- Without `start`/`end` a list covers the last 30 days.
- get-rejections answers `{id, fromAddress, toAddress, subject, type, info, remoteIp,
  created}` (the searchable fields; not observed); find-processing-messages reads
  `{start, end, sortOrder, searchBy, filterBy}` and answers `data[0].messages`.
- get-held-release-logs answers `data[0].heldReleaseLogs` with `spamProcessingDetail`
  (spelled as Message Finder spells it).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from mimicast.catalog.model import MAX_SEARCH_LENGTH, Endpoint, Item, NoItem
from mimicast.services import permissions
from mimicast.services.mail import queue, render
from mimicast.services.mail.views import copy

# Requests -----------------------------------------------------------------------------------

class SearchBy(Item):
    fieldName: str | None = Field(default=None, description="Which field `value` is sought in.")
    value: str | None = Field(default=None, max_length=MAX_SEARCH_LENGTH,
                              description="Text the field contains (any case).")


class FilterBy(Item):
    fieldName: str | None = None
    value: str | None = Field(default=None, max_length=MAX_SEARCH_LENGTH)


class WindowItem(Item):
    start: str | None = Field(default=None, description="Oldest time (default: 30 days ago).")
    end: str | None = Field(default=None, description="Newest time (default: now).")


class HoldListItem(WindowItem):
    admin: bool | str = Field(default=False, description=(
        "true: every held message of the account; false: the caller's own."))
    searchBy: SearchBy | None = Field(default=None, description=(
        "fieldName all, subject, sender, recipient or reason_code."))
    filterBy: list[FilterBy] | FilterBy | None = Field(default=None, description=(
        "fieldName route (all, internal, outbound, inbound, external) or heldGroup "
        "(administrator, user)."))


class HeldRefItem(Item):
    id: str = Field(min_length=1, description="The held message's id.")


class RejectItem(Item):
    ids: list[str] = Field(min_length=1, description="The held messages' ids.")
    message: str | None = Field(default=None, max_length=2000,
                                description="A note for the sender, when notified.")
    reasonType: str | None = Field(default=None, description=(
        "One of " + ", ".join(queue.REJECT_REASONS) + "."))
    notify: bool = Field(default=False, description="Tell the sender.")


class RejectionsItem(WindowItem):
    admin: bool | str = False
    mailbox: str | None = Field(default=None, description="Only this recipient's.")
    searchBy: SearchBy | None = Field(default=None, description=(
        "fieldName all, from, to, type, info or remoteIp."))


class ProcessingItem(WindowItem):
    sortOrder: str | None = Field(default=None, description="asc or desc (default).")
    searchBy: SearchBy | None = None
    filterBy: list[FilterBy] | FilterBy | None = Field(
        default=None, description="fieldName route.")


# Responses ----------------------------------------------------------------------------------

class Address(BaseModel):
    displayableName: str | None = None
    emailAddress: str


class HeldMessage(BaseModel):
    id: str
    dateReceived: str
    reason: str = Field(description="Why it is held, e.g. \"Relaxed Spam Detection\".")
    reasonId: str = Field(description="The reason without spaces (deprecated).")
    reasonCode: str
    heldGroup: str = Field(description="Administrator, or User (spam).")
    # `from` is a Python keyword: the field is named for the wire by its alias.
    from_: Address = Field(alias="from")
    fromHeader: Address
    to: Address
    toHeader: Address
    subject: str
    route: str = Field(description="INBOUND, OUTBOUND or INTERNAL.")
    hasAttachments: bool
    size: int
    policyInfo: str = Field(description="The policy that held it.")


class HoldSummary(BaseModel):
    policyInfo: str
    numberOfItems: int


class Released(BaseModel):
    id: str
    release: bool


class Rejected(BaseModel):
    id: str
    reject: bool


class ReleaseLog(BaseModel):
    id: str
    status: str = Field(description="released or rejected.")
    rejectReason: str | None = None
    heldReason: str
    messageInfo: str
    released: str
    operator: Address
    fromEnv: Address
    fromHdr: Address
    to: list[Address]
    subject: str
    attachments: bool
    route: str
    size: int
    policy: str
    spamScore: int
    detectionLevel: str
    spamProcessingDetail: dict[str, Any]


class ReleaseLogs(BaseModel):
    heldReleaseLogs: list[ReleaseLog]


class Rejection(BaseModel):
    id: str
    fromAddress: str
    toAddress: str
    subject: str
    type: str
    info: str
    remoteIp: str
    created: str


class ProcessingMessage(BaseModel):
    id: str
    fromEnv: Address
    fromHeader: Address
    to: list[Address]
    subject: str
    attachment: bool
    routing: str
    size: int
    remoteIp: str
    attempts: int
    nextAttempt: str
    created: str
    info: str
    priority: int


class ProcessingMessages(BaseModel):
    messages: list[ProcessingMessage]


class MessageDetail(BaseModel):
    id: str
    subject: str
    headerDate: str
    size: int
    processed: str
    hasHtmlBody: bool
    from_: dict[str, str] = Field(alias="from")
    envelopeFrom: dict[str, str]
    replyTo: dict[str, str]
    to: list[dict[str, str]]
    cc: list[dict[str, str]]
    headers: list[dict[str, Any]]
    attachments: list[dict[str, Any]]
    messageBodyPreview: str



# Entries ------------------------------------------------------------------------------------

def _held_list(path: str, summary: str) -> Endpoint:
    return Endpoint(path, summary,
                    lambda ctx, item: queue.held_messages(ctx, item.model_dump()),
                    permissions.HELD_READ, HoldListItem, HeldMessage, per_item=False,
                    max_items=1, paged=True, page_items=None, read_only=True)


ENDPOINTS = [
    _held_list("/api/gateway/get-hold-message-list",
               "Held messages, newest first and paged, one per recipient: the caller's own, "
               "or with `admin` true the account's. `start`/`end`, `searchBy` and `filterBy` "
               "narrow the list."),
    _held_list("/api/gateway/find-held-messages",
               "The older name of get-hold-message-list: the same request and answer."),
    Endpoint("/api/gateway/get-hold-summary-list",
             "How many messages each policy holds: `{policyInfo, numberOfItems}`.",
             lambda ctx, item: queue.hold_summary(ctx), permissions.HELD_READ, NoItem,
             HoldSummary, per_item=False, read_only=True),
    Endpoint("/api/gateway/hold-release",
             "Release held messages by `id`: each is delivered (Message Finder then shows it "
             "delivered). A message that is not held fails with `err_message_not_held`.",
             lambda ctx, item: queue.release(ctx, item.id), permissions.HELD_EDIT,
             HeldRefItem, Released, min_items=1, max_items=100),
    Endpoint("/api/gateway/hold-reject",
             "Reject held messages: each item's `ids` are refused together (or none is), "
             "with an optional `reasonType`, `message` and `notify`.",
             lambda ctx, item: queue.reject(ctx, item.ids, item.message, item.reasonType,
                                            item.notify),
             permissions.HELD_EDIT, RejectItem, Rejected, min_items=1, max_items=100),
    Endpoint("/api/gateway/get-held-release-logs",
             "Released and rejected held messages, newest first and paged, in "
             "`data[0].heldReleaseLogs`; `start`/`end` bound the action time.",
             lambda ctx, item: queue.release_logs(ctx, item.model_dump()),
             permissions.HELD_READ, WindowItem, ReleaseLogs, per_item=False, max_items=1,
             paged=True, page_items="heldReleaseLogs", read_only=True),
    Endpoint("/api/gateway/get-rejections",
             "Messages refused for a recipient, newest first and paged: the caller's own, "
             "`mailbox`'s, or with `admin` true the account's; `searchBy` narrows the list.",
             lambda ctx, item: queue.rejections(ctx, item.model_dump()),
             permissions.REJECTIONS_READ, RejectionsItem, Rejection, per_item=False,
             max_items=1, paged=True, page_items=None, read_only=True),
    Endpoint("/api/gateway/find-processing-messages",
             "Messages accepted and still waiting for delivery, in `data[0].messages` (most of "
             "the time none).",
             lambda ctx, item: queue.processing(ctx, item.model_dump()),
             permissions.QUEUES_READ, ProcessingItem, ProcessingMessages, per_item=False,
             max_items=1, paged=True, page_items="messages", read_only=True),
    Endpoint("/api/gateway/message/get-file",
             "A file, by `id`: an attachment (get-message-detail's `attachments[].id`), or a "
             "whole message as an .eml (a held or tracked message's id). The answer is the "
             "file itself (`Content-Disposition: attachment`); a failure is the envelope.",
             lambda ctx, item: render.file(ctx, item.id), permissions.HELD_READ, HeldRefItem,
             None, per_item=False, min_items=1, max_items=1, read_only=True, download=True),
    Endpoint("/api/gateway/message/get-message-detail",
             "A held (or any tracked) message's headers, recipients, attachments and the "
             "start of its body, by `id` (the archive's get-message-detail keys).",
             lambda ctx, item: render.detail(ctx, copy(ctx, item.id)), permissions.HELD_READ,
             HeldRefItem, MessageDetail, min_items=1, max_items=100, read_only=True),
]
