"""The tables. Secrets (application keys, binding secret keys) are stored encrypted; passwords
and access keys only as hashes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite would hand back naive ones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    @property
    def python_type(self) -> type[datetime]:
        return datetime

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime stored; use datetime.now(UTC)")
        return value.astimezone(UTC) if value is not None else None

    def bind_processor(self, dialect: Dialect) -> Callable[[datetime | None], Any] | None:
        if dialect.name == "sqlite":
            return _sqlite_text
        return super().bind_processor(dialect)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


def _sqlite_text(value: datetime | None) -> str | None:
    """The text SQLAlchemy's SQLite DATETIME keeps for `process_bind_param(value)`
    ("2026-11-30 18:00:00.000000"), made by one C call rather than by formatting eight fields:
    bulk writers bind one a row, and that format was 2% of a simulator backfill's time."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime stored; use datetime.now(UTC)")
    utc = value if value.tzinfo is UTC else value.astimezone(UTC)
    return utc.isoformat(" ", "microseconds")[:26]  # without the "+00:00"


class Base(DeclarativeBase):
    type_annotation_map = {datetime: UtcDateTime}


# Tables whose ids reach clients (as opaque ids): SQLite must never hand a deleted row's id to
# a new row, or a stale id would name another object. (PostgreSQL sequences never reuse.)
NEVER_REUSED_IDS = {"sqlite_autoincrement": True}


# Every foreign key column leads an index (tests/store/test_schema.py checks it): deleting a
# parent row looks up its children by that column, and without an index each delete (and each
# cascade) scans the child table.


def account_key() -> Mapped[int]:
    """The owning tenant: every row below belongs to one account, and goes with it."""
    return mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)


class Account(Base):
    __tablename__ = "accounts"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    region: Mapped[str] = mapped_column(String(16))
    admin_email: Mapped[str] = mapped_column(String(320), default="")
    # Per-account rate limit: a bucket of `rate_limit` calls refilled over `rate_window_ms`.
    rate_limit: Mapped[int] = mapped_column(Integer, default=800)
    rate_window_ms: Mapped[int] = mapped_column(Integer, default=60_000)
    max_bindings: Mapped[int] = mapped_column(Integer, default=10)
    created_at: Mapped[datetime]


class Domain(Base):
    __tablename__ = "domains"
    __table_args__ = (UniqueConstraint("account_id", "name"),
                      NEVER_REUSED_IDS)
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = account_key()
    name: Mapped[str] = mapped_column(String(253), index=True)
    status: Mapped[str] = mapped_column(String(16))  # "pending" | "internal"
    inbound_type: Mapped[str] = mapped_column(String(16), default="any")
    token: Mapped[str] = mapped_column(String(100), default="")
    send_only: Mapped[bool] = mapped_column(Boolean, default=False)
    local: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    verified_at: Mapped[datetime | None]


class User(Base):
    __tablename__ = "users"
    # Key-based paging walks these: all of an account's users, or one domain's, by address.
    __table_args__ = (Index("ix_users_account_email", "account_id", "email"),
                      Index("ix_users_account_domain_email", "account_id", "domain", "email"),
                      NEVER_REUSED_IDS)
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = account_key()
    # Login finds the account from the address alone, so addresses are unique across accounts.
    email: Mapped[str] = mapped_column(String(320), unique=True)
    # The address's domain part, kept so a domain's users are an index range.
    domain: Mapped[str] = mapped_column(String(253), default="")
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str | None] = mapped_column(String(200))
    domain_password_hash: Mapped[str | None] = mapped_column(String(200))
    locked: Mapped[bool] = mapped_column(Boolean, default=False)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    force_password_change: Mapped[bool] = mapped_column(Boolean, default=False)
    password_never_expires: Mapped[bool] = mapped_column(Boolean, default=False)
    allow_pop: Mapped[bool] = mapped_column(Boolean, default=False)
    allow_smtp: Mapped[bool] = mapped_column(Boolean, default=False)
    archive_start: Mapped[datetime | None]
    # "cloud" (made here) or "ldap" (imported by a directory sync, from `connection_id`).
    source: Mapped[str] = mapped_column(String(16), default="cloud")
    connection_id: Mapped[int | None] = mapped_column(
        ForeignKey("directory_connections.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime]


class UserAlias(Base):
    """Another address of a user; unique across accounts, like the primary address."""

    __tablename__ = "user_aliases"
    __table_args__ = (NEVER_REUSED_IDS,)
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = account_key()
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    address: Mapped[str] = mapped_column(String(320), unique=True)
    created_at: Mapped[datetime]


class UserAttribute(Base):
    __tablename__ = "user_attributes"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    value: Mapped[str] = mapped_column(Text, default="")


class UserDelegate(Base):
    """`delegate_id` may act on `user_id`'s mailbox."""

    __tablename__ = "user_delegates"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    delegate_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                             primary_key=True, index=True)
    created_at: Mapped[datetime]


class Role(Base):
    __tablename__ = "roles"
    __table_args__ = (UniqueConstraint("account_id", "name"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = account_key()
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(500), default="")
    permissions: Mapped[list[str]] = mapped_column(JSON)
    builtin: Mapped[bool] = mapped_column(Boolean, default=False)


class RoleMember(Base):
    __tablename__ = "role_members"
    role_id: Mapped[int] = mapped_column(ForeignKey("roles.id", ondelete="CASCADE"),
                                         primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True, index=True)


class ProfileGroup(Base):
    """A folder of the profile-group tree (the API's directory groups); members are addresses
    or domains."""

    __tablename__ = "profile_groups"
    __table_args__ = (UniqueConstraint("account_id", "parent_id", "name"),
                      Index("ix_profile_groups_account_source_id", "account_id", "source", "id"),
                      NEVER_REUSED_IDS)
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = account_key()
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("profile_groups.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    # "cloud" (made here) or "ldap" (imported by a directory sync, from `connection_id`).
    source: Mapped[str] = mapped_column(String(16), default="cloud")
    connection_id: Mapped[int | None] = mapped_column(
        ForeignKey("directory_connections.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime]


class GroupMember(Base):
    __tablename__ = "group_members"
    group_id: Mapped[int] = mapped_column(ForeignKey("profile_groups.id", ondelete="CASCADE"),
                                          primary_key=True)
    # An email address, or a bare domain when `kind` is "domain".
    address: Mapped[str] = mapped_column(String(320), primary_key=True, index=True)
    kind: Mapped[str] = mapped_column(String(16), default="email")
    notes: Mapped[str] = mapped_column(String(1000), default="")


class DirectoryConnection(Base):
    """A directory a sync imports users and group memberships from: here, a file (LDIF or
    CSV) an administrator points at, read at each sync."""

    __tablename__ = "directory_connections"
    __table_args__ = (UniqueConstraint("account_id", "name"),
                      NEVER_REUSED_IDS)
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = account_key()
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))  # "ldif" | "csv"
    source_path: Mapped[str] = mapped_column(Text)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    # The last sync: when, how it ended ("" until the first), and what it did (counts).
    last_sync_at: Mapped[datetime | None]
    last_status: Mapped[str] = mapped_column(String(32), default="")
    last_result: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime]


class AuthProfile(Base):
    __tablename__ = "auth_profiles"
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = account_key()
    description: Mapped[str] = mapped_column(String(500))
    ttl_seconds: Mapped[int | None] = mapped_column(Integer)  # None: never expires
    extend_on_validate: Mapped[bool] = mapped_column(Boolean, default=False)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]


class AppSetting(Base):
    """Gives the members of a group an authentication profile."""

    __tablename__ = "app_settings"
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = account_key()
    description: Mapped[str] = mapped_column(String(500))
    group_id: Mapped[int] = mapped_column(ForeignKey("profile_groups.id", ondelete="CASCADE"),
                                          index=True)
    auth_profile_id: Mapped[int] = mapped_column(
        ForeignKey("auth_profiles.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]


class Application(Base):
    __tablename__ = "applications"
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = account_key()
    app_id: Mapped[str] = mapped_column(String(64), unique=True)
    app_key_enc: Mapped[bytes] = mapped_column(LargeBinary)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class Binding(Base):
    """An access key + secret key pair of one user for one application."""

    __tablename__ = "bindings"
    __table_args__ = (Index("ix_bindings_user_app", "user_id", "application_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = account_key()
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id", ondelete="CASCADE"), index=True)
    access_key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    access_key_hint: Mapped[str] = mapped_column(String(16))
    secret_key_enc: Mapped[bytes] = mapped_column(LargeBinary)
    ttl_seconds: Mapped[int | None] = mapped_column(Integer)
    extend_on_validate: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class ManagedSender(Base):
    """A permitted or blocked sender (`managedsender/permit-or-block-sender`)."""

    __tablename__ = "managed_senders"
    __table_args__ = (UniqueConstraint("account_id", "sender", "recipient"),
                      Index("ix_managed_senders_account_id_id", "account_id", "id"),
                      NEVER_REUSED_IDS)
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = account_key()
    sender: Mapped[str] = mapped_column(String(320))
    recipient: Mapped[str] = mapped_column(String(320))
    action: Mapped[str] = mapped_column(String(16))  # "permit" | "block"
    created_at: Mapped[datetime]


class Policy(Base):
    """A policy of one family (`blockedsenders`, `address-alteration`, `antispoofing-bypass`,
    `webwhiteurl`, and the address-alteration sets and definitions they refer to): the
    family's fields are the JSON `body`, as the API shows them."""

    __tablename__ = "policies"
    __table_args__ = (Index("ix_policies_account_family", "account_id", "family", "id"),
                      Index("ix_policies_lookup", "account_id", "family", "parent_id", "lookup"),
                      NEVER_REUSED_IDS)
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = account_key()
    family: Mapped[str] = mapped_column(String(64))
    # The object this one belongs to (a definition's address-alteration set), if any.
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("policies.id", ondelete="CASCADE"),
                                                  index=True)
    body: Mapped[dict[str, object]] = mapped_column(JSON)
    # What a family looks its rows up by, out of the JSON so an index holds it (a definition's
    # original address: unique in its set); None for the families that need none.
    lookup: Mapped[str | None] = mapped_column(String(320))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ManagedUrl(Base):
    """A URL Protect managed URL: always permitted or blocked, by exact URL or domain."""

    __tablename__ = "managed_urls"
    __table_args__ = (UniqueConstraint("account_id", "match_type", "url"),
                      Index("ix_managed_urls_account_url", "account_id", "url", "id"),
                      NEVER_REUSED_IDS)
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = account_key()
    # The normalised URL (explicit) or domain (domain match) the uniqueness rule compares.
    url: Mapped[str] = mapped_column(String(2048))
    scheme: Mapped[str] = mapped_column(String(16), default="")
    domain: Mapped[str] = mapped_column(String(253))
    port: Mapped[int] = mapped_column(Integer, default=-1)
    path: Mapped[str] = mapped_column(Text, default="")
    query_string: Mapped[str] = mapped_column(Text, default="")
    match_type: Mapped[str] = mapped_column(String(16))  # "explicit" | "domain"
    action: Mapped[str] = mapped_column(String(16))  # "block" | "permit"
    comment: Mapped[str] = mapped_column(Text, default="")
    disable_rewrite: Mapped[bool] = mapped_column(Boolean, default=False)
    disable_user_awareness: Mapped[bool] = mapped_column(Boolean, default=False)
    disable_log_click: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]


class RewrittenUrl(Base):
    """A URL as URL Protect rewrote it in a delivered message: `code` is the path segment of
    the rewritten link, which `ttp/url/decode-url` turns back into `url`."""

    __tablename__ = "rewritten_urls"
    __table_args__ = (NEVER_REUSED_IDS,)
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = account_key()
    code: Mapped[str] = mapped_column(String(64), unique=True)
    url: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]


class AuditEvent(Base):
    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_account_time", "account_id", "created_at", "id"),
                      NEVER_REUSED_IDS)
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    actor: Mapped[str] = mapped_column(String(320))
    category: Mapped[str] = mapped_column(String(64))
    event_type: Mapped[str] = mapped_column(String(200))
    info: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]


class DnsRecord(Base):
    """The simulated DNS zone `mimicast admin dns` edits, for offline domain verification."""

    __tablename__ = "dns_records"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(253), index=True)
    type: Mapped[str] = mapped_column(String(10))
    value: Mapped[str] = mapped_column(Text)


class DemoCredentials(Base):
    """The demo account's credentials, encrypted, so `mimicast init` can print them again."""

    __tablename__ = "demo_credentials"
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"),
                                            primary_key=True)
    blob_enc: Mapped[bytes] = mapped_column(LargeBinary)


# Mail: the facts of each message the gateway handled. Tracking records, the hold queue, the
# logs and the archive are views of these rows, rendered when asked; a simulated message's
# MIME content is rendered from them too, never stored.

class Message(Base):
    """A message as the gateway received it, and the verdicts that apply to all of it."""

    __tablename__ = "messages"
    __table_args__ = (Index("ix_messages_account_received", "account_id", "received_at", "id"),
                      Index("ix_messages_account_sender", "account_id", "sender", "received_at"),
                      Index("ix_messages_account_message_id", "account_id", "message_id"),
                      # The impersonation and DLP logs walk only the messages that hit: a
                      # few in a hundred.
                      Index("ix_messages_account_impersonation", "account_id", "received_at",
                            "id", sqlite_where=text("impersonation != ''"),
                            postgresql_where=text("impersonation != ''")),
                      Index("ix_messages_account_dlp", "account_id", "received_at", "id",
                            sqlite_where=text("dlp != ''"), postgresql_where=text("dlp != ''")),
                      NEVER_REUSED_IDS)
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    message_id: Mapped[str] = mapped_column(String(998))  # the Message-ID header
    route: Mapped[str] = mapped_column(String(16))  # "inbound" | "outbound" | "internal"
    sender: Mapped[str] = mapped_column(String(320))  # the envelope sender
    header_from: Mapped[str] = mapped_column(String(320))
    from_name: Mapped[str] = mapped_column(String(200), default="")
    reply_to: Mapped[str] = mapped_column(String(320), default="")
    subject: Mapped[str] = mapped_column(Text, default="")
    size: Mapped[int] = mapped_column(Integer)  # bytes of the rendered message
    sender_ip: Mapped[str] = mapped_column(String(45))
    helo: Mapped[str] = mapped_column(String(253), default="")  # the sending server's name
    # What the sender's authentication showed: "pass" | "fail" | "none".
    spf: Mapped[str] = mapped_column(String(8), default="none")
    dkim: Mapped[str] = mapped_column(String(8), default="none")
    dmarc: Mapped[str] = mapped_column(String(8), default="none")
    received_at: Mapped[datetime]
    spam_score: Mapped[int] = mapped_column(Integer, default=0)
    # "" (not scanned), "relaxed" | "moderate" | "aggressive" (what the score reached)
    detection_level: Mapped[str] = mapped_column(String(16), default="")
    in_reply_to: Mapped[str] = mapped_column(String(998), default="")
    # Impersonation protection's indicators the message hit, comma-separated
    # ("newly_observed_domain,reply_to_address_mismatch"); DLP's hits, as
    # `services.mail.dlp.encode` writes them. Both "" when none.
    impersonation: Mapped[str] = mapped_column(String(200), default="")
    dlp: Mapped[str] = mapped_column(String(1000), default="")
    # What renders the content: the simulator's seed, or None for a message sent through the
    # API, whose body the client gave (`body`).
    seed: Mapped[int | None] = mapped_column(Integer)
    body: Mapped[str | None] = mapped_column(Text)


class MessageRecipient(Base):
    """One recipient of a message and what happened to the message for it: the hold queue's
    entries and Message Finder's tracked emails are these rows."""

    __tablename__ = "message_recipients"
    __table_args__ = (Index("ix_recipients_account_address", "account_id", "address",
                            "received_at"),
                      # The policy too: the hold summary counts by it from the index alone.
                      Index("ix_recipients_account_status", "account_id", "status",
                            "received_at", "id", "policy"),
                      NEVER_REUSED_IDS)
    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"),
                                            index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    # The address the message went to (after address alteration) and the one it was sent to.
    address: Mapped[str] = mapped_column(String(320))
    original: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(200), default="")
    kind: Mapped[str] = mapped_column(String(3), default="to")  # "to" | "cc" | "bcc"
    # "delivered" | "held" | "rejected" | "bounced" | "queued" | "accepted"
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(200), default="")  # "Relaxed Spam Detection"
    reason_code: Mapped[str] = mapped_column(String(64), default="")
    # The policy (or definition) that decided, by name; "" when none did.
    policy: Mapped[str] = mapped_column(String(200), default="")
    # The message's received time, here too so the per-address and per-status indexes can
    # answer a time window on their own.
    received_at: Mapped[datetime]
    updated_at: Mapped[datetime]  # when the status last changed


class MessageAttachment(Base):
    __tablename__ = "message_attachments"
    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"),
                                            index=True)
    name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(127))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    verdict: Mapped[str] = mapped_column(String(16))  # "safe" | "malicious"
    # The bytes an API caller sent; None for a simulated file (`content.attachment_bytes`).
    content: Mapped[bytes | None] = mapped_column(LargeBinary)


class Upload(Base):
    """A file announced by `file/file-upload` (its SHA-256 and size), then PUT to the URL that
    answered; send-email attaches it by id. `content` is None until the bytes arrive."""

    __tablename__ = "uploads"
    __table_args__ = (NEVER_REUSED_IDS,)
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = account_key()
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(255), default="")
    content_type: Mapped[str] = mapped_column(String(127), default="")
    content: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]


class MessageLink(Base):
    """A link in a message's body and URL Protect's verdict on it. A rewritten link's `code`
    is the path segment `ttp/url/decode-url` turns back into `url`."""

    __tablename__ = "message_links"
    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"),
                                            index=True)
    url: Mapped[str] = mapped_column(Text)
    # "rewritten" | "blocked" (a managed URL, or a known-malicious one) | "permitted"
    # (a managed URL that disables rewriting) | "kept" (rewriting turned off)
    action: Mapped[str] = mapped_column(String(16))
    code: Mapped[str | None] = mapped_column(String(64), unique=True)


class SenderDomain(Base):
    """A domain the account's gateway has received mail from, and when it first did:
    impersonation protection's "newly observed domain"."""

    __tablename__ = "sender_domains"
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"),
                                            primary_key=True)
    domain: Mapped[str] = mapped_column(String(253), primary_key=True)
    first_seen: Mapped[datetime]


class HoldAction(Base):
    """An administrator's release or rejection of a held message, for one recipient."""

    __tablename__ = "hold_actions"
    __table_args__ = (Index("ix_hold_actions_account_time", "account_id", "created_at", "id"),
                      NEVER_REUSED_IDS)
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    recipient_id: Mapped[int] = mapped_column(
        ForeignKey("message_recipients.id", ondelete="CASCADE"), index=True)
    action: Mapped[str] = mapped_column(String(16))  # "released" | "rejected"
    reason_type: Mapped[str] = mapped_column(String(64), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    notify: Mapped[bool] = mapped_column(Boolean, default=False)
    operator: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime]


class LedgerEntry(Base):
    """What a collector was served: a SIEM file or a page of a log, by which binding, when,
    and which records (the key range, as the log walks them). `mimicast ledger` reads these
    to tell what a collector fetched twice or never."""

    __tablename__ = "collector_ledger"
    __table_args__ = (Index("ix_collector_ledger_binding", "account_id", "binding_id", "id"),
                      NEVER_REUSED_IDS)
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    # None for an operator's call; bindings may be deleted, their history stays.
    binding_id: Mapped[int | None] = mapped_column(Integer)
    log: Mapped[str] = mapped_column(String(32))  # "siem" or an endpoint's path
    kind: Mapped[str] = mapped_column(String(32), default="")  # the SIEM record type
    name: Mapped[str] = mapped_column(String(200), default="")  # the file's name
    window_start: Mapped[datetime]  # the SIEM slice, or the earliest record's time
    window_end: Mapped[datetime]
    # Where the file (page) starts and where the next one does, as JSON: a SIEM position
    # [slice, kind, after, part], or a page's first and last record keys.
    start: Mapped[str] = mapped_column(String(200))
    following: Mapped[str] = mapped_column(String(200))
    events: Mapped[int] = mapped_column(Integer)
    token_sent: Mapped[bool] = mapped_column(Boolean, default=False)
    served_at: Mapped[datetime]


# The simulator: its runs, and what recipients did with delivered mail.

class Simulation(Base):
    """A simulator run, so a rerun with the same seed continues it instead of repeating it:
    message k of a seed is the same message every time, and `generated` counts those made.
    `mode`: "backfill" (`mimicast simulate`, spread over the `days` before `anchor`) or "live"
    (`serve --simulate`, stamped as it goes)."""

    __tablename__ = "simulations"
    __table_args__ = (UniqueConstraint("account_id", "mode", "seed",
                                       name="uq_simulations_account_mode_seed"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    mode: Mapped[str] = mapped_column(String(16))
    seed: Mapped[int] = mapped_column(Integer)
    anchor: Mapped[datetime]  # the window's end (backfill); when it started (live)
    days: Mapped[int] = mapped_column(Integer)  # the window's length (0: live)
    generated: Mapped[int] = mapped_column(Integer, default=0)  # messages 0 … generated-1
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class LinkClick(Base):
    """A recipient following a link of a delivered message that URL Protect rewrote, and what
    it did: "allowed", "warned" (the message scored as suspicious: the user saw a warning page
    first) or "blocked" (a known-malicious host, or a link URL Protect had blocked)."""

    __tablename__ = "link_clicks"
    __table_args__ = (Index("ix_link_clicks_account_time", "account_id", "clicked_at", "id"),
                      NEVER_REUSED_IDS)
    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    link_id: Mapped[int] = mapped_column(ForeignKey("message_links.id", ondelete="CASCADE"),
                                         index=True)
    recipient: Mapped[str] = mapped_column(String(320))  # the address the message went to
    clicked_at: Mapped[datetime]
    action: Mapped[str] = mapped_column(String(16))  # "allowed" | "warned" | "blocked"
    source_ip: Mapped[str] = mapped_column(String(45))
    user_agent: Mapped[str] = mapped_column(String(500))
