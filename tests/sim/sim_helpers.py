"""An account set up the same way in any store (same code, domains, users, groups), so the
simulator's facts can be compared across stores; and a canonical dump of those facts."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import text

from mimicast.services import identity, profiles
from mimicast.services.context import Caller, Context, Deps
from mimicast.services.crypto import Vault
from mimicast.services.dns import SimulatedResolver
from mimicast.store.engine import Store

CODE = "CSIMACME1"
DOMAINS = ("acme.example.com", "acme-labs.test")
PEOPLE = (("ann.archer", "Ann Archer"), ("bob.baker", "Bob Baker"), ("cara.cole", "Cara Cole"),
          ("dev.dunn", "Dev Dunn"), ("eve.evans", "Eve Evans"), ("finance", ""),
          ("gus.grant", "Gus Grant"), ("hana.ito", "Hana Ito"))
ANCHOR = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)  # a Friday evening

# What a run writes, and each table's columns in the canonical dump: everything but the
# surrogate ids (a row's message is named by its Message-ID header instead).
DUMP = {
    "messages": "SELECT m.message_id, m.route, m.sender, m.header_from, m.from_name, "
                "m.reply_to, m.subject, m.size, m.sender_ip, m.received_at, m.spam_score, "
                "m.detection_level, m.in_reply_to, m.seed, m.body FROM messages m",
    "message_recipients": "SELECT m.message_id, r.address, r.original, r.name, r.kind, "
                          "r.status, r.reason, r.reason_code, r.policy, r.received_at, "
                          "r.updated_at FROM message_recipients r "
                          "JOIN messages m ON m.id = r.message_id",
    "message_attachments": "SELECT m.message_id, a.name, a.content_type, a.size, a.sha256, "
                           "a.verdict FROM message_attachments a "
                           "JOIN messages m ON m.id = a.message_id",
    "message_links": "SELECT m.message_id, l.url, l.action, l.code FROM message_links l "
                     "JOIN messages m ON m.id = l.message_id",
    "link_clicks": "SELECT m.message_id, l.url, c.recipient, c.clicked_at, c.action, "
                   "c.source_ip, c.user_agent FROM link_clicks c "
                   "JOIN message_links l ON l.id = c.link_id JOIN messages m ON m.id = "
                   "l.message_id",
    "sender_domains": "SELECT domain, first_seen FROM sender_domains",
    "simulations": "SELECT mode, seed, anchor, days, generated FROM simulations",
}


@dataclass
class Office:
    deps: Deps
    account_id: int

    def ctx(self, unit: Any) -> Context:
        return Context(self.deps, unit, Caller(account_id=self.account_id, actor="test"))


@contextlib.contextmanager
def office(url: str, key_dir: Path) -> Iterator[Office]:
    """A migrated store at `url` with the account of this module."""
    store = Store(url)
    store.migrate()
    deps = Deps(store=store, vault=Vault(key_dir / "secret.key"),
                resolver=SimulatedResolver(store.sessions))
    try:
        with store.unit() as unit:
            account = identity.create_account(unit.session, name="Acme", code=CODE,
                                              actor="setup")
            unit.session.flush()
            ctx = Context(deps, unit, Caller(account_id=account.id, actor="setup"))
            for domain in DOMAINS:
                identity.add_internal_domain(ctx, domain)
            for index, (local, name) in enumerate(PEOPLE):
                identity.create_user(ctx, f"{local}@{DOMAINS[index % 2]}", name=name)
            profiles.create_group(ctx, "Finance")
            for local, _ in PEOPLE[:4]:
                profiles.add_group_member(ctx, "Finance", f"{local}@{DOMAINS[0]}")
            profiles.add_group_member(ctx, "Finance", f"{PEOPLE[1][0]}@{DOMAINS[1]}")
            account_id = account.id
        yield Office(deps, account_id)
    finally:
        store.dispose()


def dump(store: Store) -> dict[str, list[tuple[str, ...]]]:
    """Every fact the simulator stored, as sorted rows of text (times in UTC ISO form)."""
    found = {}
    with store.engine.connect() as connection:
        for table, query in DUMP.items():
            rows = connection.execute(text(query)).all()
            found[table] = sorted(tuple(_canonical(value) for value in row) for row in rows)
    return found


def _canonical(value: Any) -> str:
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).isoformat()
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] == " " \
            and value[13] == ":":  # SQLite keeps times as text
        return datetime.fromisoformat(value).replace(tzinfo=UTC).isoformat()
    return str(value)
