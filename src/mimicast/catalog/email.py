"""Email namespace: the delivery queues' figures (spec 5.7; data families §8)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from mimicast.catalog.model import Endpoint, Item
from mimicast.services import permissions
from mimicast.services.mail import queue


class QueuesItem(Item):
    start: str = Field(min_length=1, description="The first sample's time.")
    end: str = Field(min_length=1, description="The last sample's time (at most 7 days on).")


class QueueSample(BaseModel):
    count: int
    date: str


class EmailQueues(BaseModel):
    inboundEmailQueue: list[QueueSample]
    outboundEmailQueue: list[QueueSample]


ENDPOINTS = [
    Endpoint("/api/email/get-email-queues",
             "How many messages waited in the inbound and outbound delivery queues, sampled "
             "every ten minutes from `start` to `end`.",
             lambda ctx, item: queue.email_queues(ctx, item.model_dump()),
             permissions.QUEUES_READ, QueuesItem, EmailQueues, per_item=False, min_items=1,
             max_items=1, read_only=True),
]
