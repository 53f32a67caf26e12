"""What a run is made of: the kinds of mail and what the default hold policies do with them,
the routes, the daily rhythm, threads, lookalike domains, the attachments' hashes and the
clicks after delivery."""

from __future__ import annotations

import collections
import hashlib
import random
from pathlib import Path

from sim_helpers import ANCHOR, office
from sqlalchemy import func, select

from mimicast.services.mail import engine
from mimicast.services.mail.content import attachment_bytes
from mimicast.services.mail.world import MALICIOUS_HOSTS
from mimicast.sim import mix
from mimicast.sim.files import pool
from mimicast.sim.outside import lookalikes
from mimicast.sim.rhythm import HOURLY
from mimicast.sim.runs import backfill
from mimicast.store.schema import (
    LinkClick,
    Message,
    MessageAttachment,
    MessageLink,
    MessageRecipient,
)


def test_two_thousand_messages_look_like_an_organisation_s_mail(store_url: str,
                                                                 tmp_path: Path) -> None:
    with office(store_url, tmp_path) as made:
        report = backfill(made.deps, made.account_id, seed=21, messages=2_000, days=7,
                          anchor=ANCHOR)
        tally = report.tally
        with made.deps.store.session() as session:
            routes = {row.route: row.count for row in session.execute(
                select(Message.route, func.count().label("count")).group_by(Message.route))}
            reasons = collections.Counter((row.status, row.reason_code) for row in session.execute(
                select(MessageRecipient.status, MessageRecipient.reason_code)))
            hours = collections.Counter(
                when.hour for when in session.scalars(select(Message.received_at)
                                                      .where(Message.route != "inbound")))
            replies = session.scalar(select(func.count()).where(Message.in_reply_to != "",
                                                                Message.subject.like("Re: %")))
            clicks = collections.Counter(session.scalars(select(LinkClick.action)))
            blocked_hosts = {url.split("/")[2] for url in session.scalars(
                select(MessageLink.url).join(LinkClick, LinkClick.link_id == MessageLink.id)
                .where(LinkClick.action == "blocked"))}
            files = session.execute(select(MessageAttachment.name, MessageAttachment.size,
                                           MessageAttachment.sha256,
                                           MessageAttachment.verdict).distinct()).all()
    assert tally.messages == 2_000
    assert all(tally.statuses[status] > 0
               for status in ("delivered", "held", "rejected", "bounced"))
    assert tally.statuses["held"] > 0.08 * tally.recipients
    assert tally.statuses["delivered"] > 0.75 * tally.recipients
    # Mostly inbound, some outbound, some internal.
    assert routes["inbound"] > 0.6 * 2_000 and routes["outbound"] > 0.1 * 2_000
    assert routes["internal"] > 0.05 * 2_000
    # The default hold policies hold spam, impersonation and malware; the gateway rejects
    # spoofed senders and unknown recipients; the far side bounces mistyped addresses.
    for held in ("spam_relaxed", "impersonation", "attachment"):
        assert reasons["held", held] > 0, held
    for refused in (("rejected", "anti_spoofing"), ("rejected", "invalid_recipient"),
                    ("bounced", "remote_rejected")):
        assert reasons[refused] > 0, refused
    # People write in office hours (UTC) more than at night.
    office_hours = sum(hours[h] for h in range(9, 17))
    night = sum(hours[h] for h in range(0, 6))
    assert office_hours > 5 * max(night, 1)
    assert replies and replies > 50
    # Recipients click; URL Protect blocks the clicks on malicious hosts, and only those.
    assert clicks["allowed"] > 20 and clicks["blocked"] > 0
    assert blocked_hosts and blocked_hosts <= MALICIOUS_HOSTS
    # Each attachment's hash is of the bytes the seed makes again for its name and size.
    assert files
    for name, size, sha256, verdict in files:
        data = attachment_bytes(21, name, size, malicious=verdict == "malicious")
        assert hashlib.sha256(data).hexdigest() == sha256, name


def test_the_mix_adds_up_and_its_pieces_are_what_they_claim() -> None:
    assert sum(kind.share for kind in mix.KINDS) == 100
    documented = mix.__doc__ or ""
    for kind in mix.KINDS:  # the table in mix.py's docstring says what the code does
        assert f"| {kind.name:<13} | {kind.share:4.1f}  |" in documented, kind.name
    assert len(HOURLY) == 24
    rng = random.Random(1)
    for domain in ("acme.example.com", "mimicast.test", "ab.example.org"):
        for fake in lookalikes(domain, rng, 5):
            assert fake != domain and engine._within_two_edits(fake, domain), fake
    files = pool(3)
    names = [file.name for file in files.clean + files.malicious]
    assert len(names) == len(set(names))  # distinct names: the bytes follow from the name
    assert all(file.content is None for file in files.clean)
    assert all(file.content is not None and len(file.content) == file.size
               for file in files.malicious)
