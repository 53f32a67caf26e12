"""A message as it reaches the gateway (`Draft`), and what the policy engine decided for it
(`Decision`). Plain values: the engine is a function from a draft and the account's rules
to a decision, and the store keeps the decision's facts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

ROUTES = ("inbound", "outbound", "internal")
# A recipient's outcome. "queued": accepted, not yet delivered (the processing queue).
DELIVERED, HELD, REJECTED, BOUNCED, QUEUED = "delivered", "held", "rejected", "bounced", "queued"
STATUSES = (DELIVERED, HELD, REJECTED, BOUNCED, QUEUED)


# Recipients and drafts are not frozen: a frozen dataclass sets each field through
# object.__setattr__, which made a 22-field Draft 5x dearer to build (~5 µs), once per
# simulated message. Nothing changes them once made.
@dataclass(slots=True)
class Recipient:
    address: str
    name: str = ""
    kind: str = "to"  # "to" | "cc" | "bcc"


@dataclass(frozen=True)
class Attachment:
    name: str
    content_type: str
    size: int
    sha256: str
    # The bytes, when the sender gave them (send-email); a simulated attachment's content is
    # rendered from the message's facts, and its verdict comes from its hash.
    content: bytes | None = None


@dataclass(slots=True)
class Draft:
    """A message as the gateway receives it. `external`: it came in from the internet (its
    sender then proves nothing, however internal the address looks), rather than from the
    account's own users through an authenticated path."""

    sender: str  # envelope sender
    recipients: tuple[Recipient, ...]
    received_at: datetime
    external: bool
    header_from: str = ""  # "" means the envelope sender
    from_name: str = ""
    reply_to: str = ""
    subject: str = ""
    text: str = ""  # the plain body, or what the simulator's content says (spam scoring)
    links: tuple[str, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    sender_ip: str = ""
    helo: str = ""  # the sending server's host name
    # What the sending side's authentication showed: "pass" | "fail" | "none".
    spf: str = "pass"
    dkim: str = "pass"
    dmarc: str = "pass"
    message_id: str = ""
    in_reply_to: str = ""
    size: int = 0
    seed: int | None = None  # the simulator's: renders the content
    body: str | None = None  # the body an API caller sent

    @property
    def from_address(self) -> str:
        return self.header_from or self.sender


@dataclass
class Outcome:
    """What happened for one recipient, and which policy decided it ("" when none did)."""

    address: str  # after address alteration
    original: str
    name: str
    kind: str
    status: str = DELIVERED
    reason: str = ""
    reason_code: str = ""
    policy: str = ""

    def decide(self, status: str, reason: str, code: str, policy: str) -> None:
        self.status, self.reason, self.reason_code, self.policy = status, reason, code, policy


@dataclass
class Decision:
    route: str
    recipients: list[Outcome]
    spam_score: int = 0
    detection_level: str = ""
    attachment_verdicts: list[str] = field(default_factory=list)  # per attachment, in order
    link_actions: list[str] = field(default_factory=list)  # per link, in order
    impersonation: list[str] = field(default_factory=list)  # the indicators it hit
    dlp: list[tuple[str, str]] = field(default_factory=list)  # (action, definition) hits
