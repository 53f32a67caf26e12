"""Managed sender namespace: permit or block a sender for an internal recipient.

permit-or-block-sender is published (spec 6.6). Listing and removal are not: get-managed-senders
and delete-managed-sender are this server's own, shaped like the published answer.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field
from pydantic_core import PydanticCustomError

from mimicast.catalog.model import Endpoint, Item
from mimicast.services import managed_senders, permissions


def _lower(value: Any) -> Any:
    if value is None:
        raise PydanticCustomError("missing", "Field required")
    return value.strip().lower() if isinstance(value, str) else value


Action = Annotated[Literal["permit", "block"], BeforeValidator(_lower)]


# Requests -----------------------------------------------------------------------------------

class PermitOrBlockItem(Item):
    sender: str = Field(min_length=1, description="The sender's email address.")
    to: str = Field(min_length=1, description="The recipient: an address in one of the "
                                              "account's internal domains.")
    action: Action = Field(description="permit: always deliver; block: always reject.")


class ManagedSenderFilterItem(Item):
    """Optional filters; only the first item of `data` is read."""

    to: str | None = Field(default=None, min_length=1)
    sender: str | None = Field(default=None, min_length=1)
    # A plain string (checked by the service): a union would name its branch in `field`.
    action: str | None = Field(default=None, min_length=1, description="permit or block.")


class ManagedSenderRefItem(Item):
    id: str = Field(min_length=1, description="The managed sender's id (MTOKEN:…).")


# Responses ----------------------------------------------------------------------------------

class ManagedSenderResult(BaseModel):
    id: str = Field(description="MTOKEN: followed by an opaque id.")
    sender: str
    to: str
    type: Literal["Permit", "Block"]


class RemovedManagedSender(BaseModel):
    id: str


# Entries ------------------------------------------------------------------------------------

ENDPOINTS = [
    Endpoint("/api/managedsender/permit-or-block-sender",
             "Always permit or always block `sender` for the internal recipient `to`; asking "
             "again for the same pair changes its action and keeps its id. A recipient outside "
             "the account's internal domains is refused "
             "(`err_managed_sender_recipient_not_internal`).",
             lambda ctx, item: managed_senders.permit_or_block(ctx, item.sender, item.to,
                                                               item.action),
             permissions.MANAGED_SENDERS_EDIT, PermitOrBlockItem, ManagedSenderResult,
             min_items=1, max_items=100),
    Endpoint("/api/managedsender/get-managed-senders",
             "The account's managed senders, oldest first, paged; `data: [{to, sender, "
             "action}]` (each optional) narrows the list. Not in the published API.",
             lambda ctx, item: managed_senders.list_managed_senders(ctx, item.to, item.sender,
                                                                    item.action),
             permissions.MANAGED_SENDERS_READ, ManagedSenderFilterItem, ManagedSenderResult,
             per_item=False, paged=True, read_only=True),
    Endpoint("/api/managedsender/delete-managed-sender",
             "Remove managed senders by `id`: the pair is then neither permitted nor blocked. "
             "Not in the published API.",
             lambda ctx, item: managed_senders.delete_managed_sender(ctx, item.id),
             permissions.MANAGED_SENDERS_EDIT, ManagedSenderRefItem, RemovedManagedSender,
             min_items=1, max_items=100),
]
