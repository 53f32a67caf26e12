"""DLP namespace: the data leak prevention log (spec 6.4; data families §5;
`services.logs.detections` says how entries are derived).

Chosen where unsure: a page holds `pageSize` recipient copies, each with a line per DLP
definition its message matched (so a page may hold more lines than `pageSize`); `oldestFirst`
is read as in the TTP logs; `meta.pagination` has no `totalCount`, as the v1 answer.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, Field

from mimicast.catalog.model import Endpoint, Item
from mimicast.services import permissions
from mimicast.services.logs import detections

Flag = Annotated[bool, BeforeValidator(lambda value: False if value is None else value)]


class DlpLogItem(Item):
    # `from` is a Python keyword: the field is named for the wire by its alias.
    from_: str | None = Field(default=None, alias="from", description=(
        "Oldest time (default: the start of the day `to` falls in)."))
    to: str | None = Field(default=None, description="Newest time (default: now).")
    oldestFirst: Flag = Field(default=False, description="Oldest first (default: newest).")


class DlpLog(BaseModel):
    senderAddress: str = Field(description="The envelope sender, \"<>\" for none.")
    recipientAddress: str
    subject: str
    eventTime: str
    route: str
    policy: str = Field(description="The DLP definition the message matched.")
    action: Literal["hold", "notification"]
    messageId: str


class DlpLogs(BaseModel):
    dlpLogs: list[DlpLog]


ENDPOINTS = [
    Endpoint(detections.DLP_PATH,
             "Data leak prevention's log: mail leaving the account that matched a DLP "
             "definition, a line per recipient copy and definition, newest first (or "
             "`oldestFirst`) and paged, in `data[0].dlpLogs`; `from`/`to` default to the "
             "start of the day and now.",
             lambda ctx, item: detections.dlp_logs(ctx, item.from_, item.to, item.oldestFirst),
             permissions.DLP_LOGS_READ, DlpLogItem, DlpLogs, per_item=False, max_items=1,
             paged=True, page_items="dlpLogs", read_only=True),
]
