"""The gateway's door: messages go through the policy engine and their facts are stored,
a batch at a time (one INSERT per table for the whole batch), in the caller's unit of work.
The simulator and `email/send-email` both come in here."""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, insert, text

from mimicast.services.context import Context
from mimicast.services.mail import delivery, dlp, engine
from mimicast.services.mail.facts import Decision, Draft
from mimicast.services.mail.rules import Rules, domain_of, load_rules
from mimicast.store.query import Query, upsert
from mimicast.store.schema import (
    Message,
    MessageAttachment,
    MessageLink,
    MessageRecipient,
    SenderDomain,
)
from mimicast.store.unit import Unit


@dataclass(frozen=True)
class Accepted:
    id: int  # the message's row
    draft: Draft
    decision: Decision
    message_id: str  # the Message-ID header it was stored with


def _insert(table: type, columns: Sequence[str]) -> Query:
    return Query(insert(table).values({column: bindparam(column) for column in columns}))


_MESSAGE_COLUMNS = ("id", "account_id", "message_id", "route", "sender", "header_from",
                    "from_name", "reply_to", "subject", "size", "sender_ip", "helo", "spf",
                    "dkim", "dmarc", "received_at",
                    "spam_score", "detection_level", "in_reply_to", "impersonation", "dlp",
                    "seed", "body")  # the table's order: rows go to the driver as they are
_INSERT_MESSAGE = _insert(Message, _MESSAGE_COLUMNS)
_RECIPIENT_COLUMNS = ("message_id", "account_id", "address", "original", "name", "kind",
                      "status", "reason", "reason_code", "policy", "received_at", "updated_at")
_INSERT_RECIPIENT = _insert(MessageRecipient, _RECIPIENT_COLUMNS)
_ATTACHMENT_COLUMNS = ("message_id", "name", "content_type", "size", "sha256", "verdict",
                       "content")
_INSERT_ATTACHMENT = _insert(MessageAttachment, _ATTACHMENT_COLUMNS)
_LINK_COLUMNS = ("message_id", "url", "action", "code")
_INSERT_LINK = _insert(MessageLink, _LINK_COLUMNS)
_SEEN = upsert(lambda dialect_insert: dialect_insert(SenderDomain).values(
    account_id=bindparam("account_id"), domain=bindparam("domain"),
    first_seen=bindparam("first_seen")).on_conflict_do_nothing())

# The next free message ids. SQLite: the table's AUTOINCREMENT high-water mark, taken under
# the write unit's lock, so nobody else takes the same ids; PostgreSQL: the sequence.
_SQLITE_TOP = text("SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = "
                   "'messages'), 0), coalesce((SELECT max(id) FROM messages), 0))")
_POSTGRES_IDS = text("SELECT nextval(pg_get_serial_sequence('messages', 'id')) "
                     "FROM generate_series(1, :count)")


def _reserve_ids(unit: Unit, count: int) -> list[int]:
    if unit.dialect.name == "sqlite":
        top = int(unit.connection.execute(_SQLITE_TOP).scalar_one())
        return list(range(top + 1, top + count + 1))
    return [int(n) for n in unit.connection.execute(_POSTGRES_IDS, {"count": count}).scalars()]


def link_code(draft: Draft, message: int, index: int) -> str:
    """A rewritten link's code: random for mail sent through the API; for simulated mail
    derived from the seed, so a run is repeatable (and, without the seed, unguessable)."""
    if draft.seed is None:
        return secrets.token_urlsafe(16)
    digest = hashlib.blake2b(f"{message}:{index}".encode(), digest_size=16,
                             key=draft.seed.to_bytes(8, "big", signed=True)).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def message_id_header(draft: Draft, message: int) -> str:
    if draft.message_id:
        return draft.message_id
    token = (hashlib.sha1(f"{draft.seed}:{message}".encode()).hexdigest()[:24]
             if draft.seed is not None else secrets.token_hex(12))
    return f"<{token}@{domain_of(draft.from_address) or 'localhost'}>"


def estimated_size(draft: Draft) -> int:
    """A message's size in bytes when the sender did not say: headers, body, attachments
    (base64 grows them by a third)."""
    return (600 + len(draft.subject) + len(draft.text) + 60 * len(draft.links)
            + sum(a.size * 4 // 3 + 200 for a in draft.attachments))


def accept(ctx: Context, drafts: Sequence[Draft], rules: Rules | None = None) -> list[Accepted]:
    """Judge each message and store what happened; `rules` (loaded once per batch by the
    caller, or here) grow as the batch goes (domains seen for the first time)."""
    if not drafts:
        return []
    rules = rules if rules is not None else load_rules(ctx)
    seen_before = set(rules.seen_domains)
    unit = ctx.unit
    account = ctx.caller.account_id
    ids = _reserve_ids(unit, len(drafts))
    now = ctx.now()
    # Rows go to the driver as tuples in their columns' order (`Query.execute_rows`), each
    # message's time converted once for its row and its recipients' (the same column type).
    messages: list[tuple[Any, ...]] = []
    recipients: list[tuple[Any, ...]] = []
    attachments: list[tuple[Any, ...]] = []
    links: list[tuple[Any, ...]] = []
    accepted = []
    stored = _INSERT_MESSAGE.converter(unit, "received_at")
    for number, draft in zip(ids, drafts, strict=True):
        decision = engine.decide(draft, rules)
        delivery.first_attempt(decision, rules, draft.received_at, now)
        header = message_id_header(draft, number)
        accepted.append(Accepted(number, draft, decision, header))
        when = stored(draft.received_at)
        messages.append((
            number, account, header, decision.route, draft.sender,
            draft.from_address, draft.from_name, draft.reply_to, draft.subject,
            draft.size or estimated_size(draft), draft.sender_ip, draft.helo, draft.spf,
            draft.dkim, draft.dmarc, when, decision.spam_score, decision.detection_level,
            draft.in_reply_to, ",".join(decision.impersonation), dlp.encode(decision.dlp),
            draft.seed, draft.body))
        for outcome in decision.recipients:
            recipients.append((number, account, outcome.address, outcome.original,
                               outcome.name, outcome.kind, outcome.status, outcome.reason,
                               outcome.reason_code, outcome.policy, when, when))
        for attachment, verdict in zip(draft.attachments, decision.attachment_verdicts,
                                       strict=True):
            # Simulated files are rendered again when asked; a sender's are kept.
            attachments.append((number, attachment.name, attachment.content_type,
                                attachment.size, attachment.sha256, verdict,
                                attachment.content if draft.seed is None else None))
        for index, (url, action) in enumerate(zip(draft.links, decision.link_actions,
                                                  strict=True)):
            links.append((number, url, action, link_code(draft, number, index)
                          if action == "rewritten" else None))
    _INSERT_MESSAGE.execute_rows(unit, _MESSAGE_COLUMNS, messages)
    _INSERT_RECIPIENT.execute_rows(unit, _RECIPIENT_COLUMNS, recipients)
    _INSERT_ATTACHMENT.execute_rows(unit, _ATTACHMENT_COLUMNS, attachments)
    _INSERT_LINK.execute_rows(unit, _LINK_COLUMNS, links)
    first_seen: dict[str, datetime] = {}
    for item in accepted:
        domain = domain_of(item.draft.from_address)
        if domain in rules.seen_domains and domain not in seen_before:
            first_seen.setdefault(domain, item.draft.received_at)
    _SEEN.execute_many(unit, [{"account_id": account, "domain": domain, "first_seen": when}
                              for domain, when in first_seen.items()])
    return accepted
