"""Journaling namespace: the account's journal connectors (`journaling/get-service`).

The spec lists the path only (5.4, "Get Journal Service"); the request and answer here are
those of the 1.0 documentation page: `data[0].id` optional, each connector `{id, description,
enabled, transferProtocol, messageFormat, journalUnknownInternalAddresses,
journalNonInternalAddresses, removeJournalHeaders, smtpJournalingConnection {…}, statusInfo
{id, status, queueSize, lastReceived}, queueSize}`. Its values are built from the account
(`services.journaling`): one SMTP connector per account with an internal domain, addressed
`journaling@journal.<primary domain>` (the address the real service provisions). Chosen
where the documentation shows only types: `messageFormat` "Exchange", `statusInfo.status`
"OK" with nothing queued and no `lastReceived`, no extra source IP ranges. An unknown `id`
fails with `err_object_not_found`.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from mimicast.catalog.model import Endpoint, Item
from mimicast.services import journaling, permissions


class ServiceItem(Item):
    id: str | None = Field(default=None, description="One connector's id (default: all).")


class SmtpConnection(BaseModel):
    inactivityTimeout: int
    emailAddress: str = Field(description="Where the mail server sends its journal.")
    ipRanges: list[str]
    extendedDeduplication: bool
    usesTls: bool
    deliveryWaitAttempts: int
    processInitialDelay: int
    usesAuthentication: bool
    prefersClearText: bool


class StatusInfo(BaseModel):
    id: str
    status: str
    queueSize: int
    lastReceived: str | None = Field(default=None, description=(
        "When the last journal message came (absent: none has)."))


class JournalService(BaseModel):
    id: str
    description: str
    enabled: bool
    transferProtocol: str
    messageFormat: str
    journalUnknownInternalAddresses: bool
    journalNonInternalAddresses: bool
    removeJournalHeaders: bool
    smtpJournalingConnection: SmtpConnection
    statusInfo: StatusInfo
    queueSize: int


ENDPOINTS = [
    Endpoint("/api/journaling/get-service",
             "The account's journal connector (one, for its primary internal domain), or the "
             "one `id` names: its SMTP service address and status.",
             lambda ctx, item: journaling.get_service(ctx, item.id),
             permissions.JOURNALING_READ, ServiceItem, JournalService, per_item=False,
             max_items=1, read_only=True),
]
