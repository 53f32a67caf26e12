"""Hold policies: when the gateway holds a message for an administrator to review. Every
account starts with the real service's defaults (spam at the relaxed level, suspected
impersonation, malicious attachments); they are `Policy` rows of the `hold-policy` family, the
JSON body being `HoldPolicy`'s fields."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

FAMILY = "hold-policy"
KINDS = ("spam", "impersonation", "attachment")


@dataclass(frozen=True)
class HoldPolicy:
    """`kind`: spam (held at `level`: relaxed, moderate or aggressive), impersonation (held at
    `threshold` indicators or more) or attachment (held when one is malicious)."""

    kind: str
    description: str
    level: str = "relaxed"
    threshold: int = 2

    def body(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> HoldPolicy:
        return cls(str(body["kind"]), str(body["description"]),
                   level=str(body.get("level", "relaxed")),
                   threshold=int(body.get("threshold", 2)))


DEFAULTS = (
    HoldPolicy("spam", "Default Spam Scanning Definition", level="relaxed"),
    HoldPolicy("impersonation", "Default Impersonation Protection", threshold=2),
    HoldPolicy("attachment", "Default Attachment Protection"),
)
