"""Journaling: the connector through which an account's own mail server sends Mimecast a copy
of its internal mail for the archive (`journaling/get-service`).

An account has one connector, as the real service provisions one: an SMTP connector whose
service address is `journaling@journal.<primary domain>` (the account's first internal
domain), with nothing queued. An account without an internal domain has none. No
`lastReceived`: the simulated mail arrives through the gateway, not through a journal, and
finding the newest internal message could walk all of an account's recent mail.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select

from mimicast.services import ids
from mimicast.services.context import Context
from mimicast.store.query import Query
from mimicast.store.schema import Domain
from mimicast.wire.errors import ApiError

ID_KIND = "journal"
DESCRIPTION = "Journal Connector"

_PRIMARY = Query(select(Domain.name)
                 .where(Domain.account_id == bindparam("account"), Domain.status == "internal")
                 .order_by(Domain.id).limit(1))


def get_service(ctx: Context, connector_id: str | None) -> list[dict[str, Any]]:
    """The account's journal connectors (none or one); with `connector_id`, that one, or
    `err_object_not_found` on `id`."""
    account = ctx.caller.account_id
    primary = _PRIMARY.scalar(ctx.unit, account=account)
    if connector_id and (primary is None or ids.row_id(ID_KIND, connector_id) != account):
        raise ApiError("err_object_not_found", field="id", what="Journal connector",
                       name=connector_id)
    if primary is None:
        return []
    secure = ids.secure_id(ID_KIND, account)
    return [{
        "id": secure, "description": DESCRIPTION, "enabled": True, "transferProtocol": "SMTP",
        "messageFormat": "Exchange", "journalUnknownInternalAddresses": True,
        "journalNonInternalAddresses": False, "removeJournalHeaders": False,
        "smtpJournalingConnection": {
            "inactivityTimeout": 180, "emailAddress": f"journaling@journal.{primary}",
            "ipRanges": [], "extendedDeduplication": False, "usesTls": True,
            "deliveryWaitAttempts": 3, "processInitialDelay": 0, "usesAuthentication": False,
            "prefersClearText": False},
        "statusInfo": {"id": secure, "status": "OK", "queueSize": 0}, "queueSize": 0}]
