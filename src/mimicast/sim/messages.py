"""The message generator: message k of a seed is always the same message (for the same
directory and window), however many messages a run asks for and wherever a rerun resumes.

Messages come in blocks of `BLOCK`; block b draws from its own `random.Random` seeded by
(mode, seed, b), so message k costs at most one block of regeneration to reach, and no
message depends on how many come after it. Threads (replies, `Re:` subjects, `in_reply_to`)
run within a block. Each message is a `Plan`: the `Draft` the gateway receives, its kind
(`mix.KINDS`), which of its recipients will click which link once it is delivered, and
which recipients' servers will refuse it.
"""

from __future__ import annotations

import bisect
import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import accumulate
from typing import NamedTuple, TypeVar

from mimicast.services.mail.facts import Attachment, Draft, Recipient
from mimicast.sim import mix, names
from mimicast.sim.files import Pool
from mimicast.sim.office import GROUP_RECIPIENTS, Office, Person
from mimicast.sim.outside import Org, Outside
from mimicast.sim.rhythm import Timing, click_delay

BLOCK = 100
BACKFILL, LIVE = "backfill", "live"
# Where the account's own users send from and click from (documentation ranges, RFC 5737).
OFFICE_MTA_IP = "10.10.0.25"
CLICK_IPS = ("192.0.2.200", "192.0.2.200", "192.0.2.201", "192.0.2.202", "198.51.100.240",
             "198.51.100.241", "203.0.113.240")
SPOOFED_LOCALS = ("ceo", "payroll", "it-support", "hr", "finance", "admin")
_RECENT_THREADS = 24


# Named tuples rather than dataclasses: one of each per message, and made 3x faster.
class PlannedClick(NamedTuple):
    recipient: int  # index into the draft's recipients
    link: int  # index into the draft's links
    delay: timedelta  # after the message arrives
    source_ip: str
    user_agent: str
    malicious: bool  # the link's host is a known-malicious one


class Plan(NamedTuple):
    k: int
    kind: str
    draft: Draft
    clicks: tuple[PlannedClick, ...] = ()
    bounces: tuple[int, ...] = ()  # recipients whose server refuses the message


@dataclass(slots=True)
class _Thread:
    subject: str
    ours: Person  # the account's user in the conversation
    theirs: Person  # the outside party
    org: Org
    last_id: str
    last_at: datetime
    last_from_us: bool


@dataclass(slots=True)
class _Block:
    """What the messages of one block share while they are made."""

    rng: random.Random
    timing: Timing
    threads: list[_Thread] = field(default_factory=list)
    steady: bool = False  # the kind being made arrives around the clock
    bounces: tuple[int, ...] = ()


def _message_id(rng: random.Random, domain: str) -> str:
    token = rng.getrandbits(96).to_bytes(12, "big").hex()  # as f"{…:024x}", at a third
    return f"<{token[:16]}.{token[16:]}@{domain}>"


def _domain(address: str) -> str:
    return address.rpartition("@")[2]


# rng.choice and rng.randrange go through Python-level rejection sampling (~1 µs a call);
# indexing by rng.random() does the same job in a fifth of the time, at the per-message rate.
T = TypeVar("T")


def _one(rng: random.Random, items: Sequence[T]) -> T:
    return items[int(rng.random() * len(items))]


def _between(rng: random.Random, low: int, high: int) -> int:
    """low … high-1, as rng.randrange(low, high) (which it replaces)."""
    return low + int(rng.random() * (high - low))


def _mistyped(rng: random.Random, address: str) -> str:
    """The address with a letter of its local part dropped or doubled."""
    local, _, domain = address.partition("@")
    at = _between(rng, 0, len(local))
    local = (local[:at] + local[at + 1:] if len(local) > 3 and rng.random() < 0.5
             else local[:at] + local[at] + local[at:])
    return f"{local}@{domain}"


def _subject(rng: random.Random, templates: tuple[str, ...]) -> str:
    template = _one(rng, templates)
    if "{" not in template:
        return template
    return template.format(n=_between(rng, 1000, 99999), topic=_one(rng, names.TOPICS),
                           q=_between(rng, 1, 5), w=_between(rng, 1, 53),
                           year=_between(rng, 2024, 2027))


class Generator:
    """Plans of one seed's messages for one account (`office`) in one world (`outside`)."""

    def __init__(self, seed: int, mode: str, office: Office, outside: Outside,
                 pool: Pool) -> None:
        if not office.domains or not office.users:
            raise ValueError("an account needs an internal domain and a user to get mail")
        self.seed, self.mode = seed, mode
        self.office, self.outside, self.pool = office, outside, pool
        self._kinds = [kind for kind in mix.KINDS if kind.share > 0]
        self._cumulative = list(accumulate(kind.share for kind in self._kinds))
        self._users = office.users
        self._named = office.named or office.users
        self._addresses = frozenset(p.address for p in office.users)
        self._malicious = frozenset(outside.phishing_links)
        main = office.domains[0]
        self._helo = f"mail.{main}"
        self._intranet = tuple(f"https://intranet.{main}/pages/{n}"
                               for n in (101, 207, 311, 412, 530, 688, 742, 815))
        self._build: dict[str, Callable[[_Block], Draft]] = {
            "business": self._business, "newsletter": self._newsletter,
            "free_mail": self._free_mail, "spam": self._spam, "grey": self._grey,
            "phishing": self._phishing, "malware": self._malware,
            "impersonation": self._impersonation, "spoofed": self._spoofed,
            "misaddressed": self._misaddressed, "outbound": self._outbound,
            "internal": self._internal}

    # The stream -----------------------------------------------------------------------------

    def plans(self, start: int, end: int, timing: Timing) -> Iterator[Plan]:
        """Messages start … end-1."""
        number = start // BLOCK
        while number * BLOCK < end:
            for plan in self.block(number, timing):
                if plan.k >= end:
                    return
                if plan.k >= start:
                    yield plan
            number += 1

    def block(self, number: int, timing: Timing) -> Iterator[Plan]:
        rng = random.Random(f"mimicast-sim:{self.mode}:{self.seed}:{number}")
        state = _Block(rng, timing)
        kinds, cumulative = self._kinds, self._cumulative
        total = cumulative[-1]
        build = self._build
        for k in range(number * BLOCK, (number + 1) * BLOCK):
            kind = kinds[bisect.bisect_right(cumulative, rng.random() * total)]
            state.bounces, state.steady = (), kind.steady
            draft = build[kind.name](state)
            clicks: tuple[PlannedClick, ...] = ()
            if kind.click and draft.links:
                clicks = self._clicks(rng, draft, kind.click)
            yield Plan(k, kind.name, draft, clicks, state.bounces)

    def _clicks(self, rng: random.Random, draft: Draft,
                chance: float) -> tuple[PlannedClick, ...]:
        found = []
        for r in range(len(draft.recipients)):
            for index, url in enumerate(draft.links):
                if rng.random() < chance:
                    found.append(PlannedClick(r, index, click_delay(rng),
                                              _one(rng, CLICK_IPS),
                                              _one(rng, names.USER_AGENTS),
                                              url in self._malicious))
        return tuple(found)

    # Pieces ---------------------------------------------------------------------------------

    def _user(self, rng: random.Random) -> Person:
        return _one(rng, self._users)

    def _users_to(self, rng: random.Random, extra: float) -> tuple[Recipient, ...]:
        """One user, and with chance `extra` one or two more in copy."""
        first = self._user(rng)
        recipients = [Recipient(first.address, first.name)]
        if rng.random() < extra and len(self._users) > 1:
            for _ in range(_one(rng, (1, 1, 2))):
                other = self._user(rng)
                if all(other.address != r.address for r in recipients):
                    recipients.append(Recipient(other.address, other.name, "cc"))
        return tuple(recipients)

    def _several(self, rng: random.Random, most: int) -> tuple[Recipient, ...]:
        """One to `most` users, each once (bulk mail and spam reach several)."""
        count = _between(rng, 1, most)
        chosen = {p.address: p for p in (self._user(rng) for _ in range(count))}
        return tuple(Recipient(p.address, p.name) for p in chosen.values())

    def _files(self, rng: random.Random, chance: float) -> tuple[Attachment, ...]:
        if rng.random() >= chance:
            return ()
        clean = self.pool.clean
        first = clean[int(rng.random() * len(clean))]
        if rng.random() < 0.75:
            return (first,)
        second = clean[int(rng.random() * len(clean))]
        return (first,) if second is first else (first, second)

    @staticmethod
    def _links(rng: random.Random, chance: float, pool: tuple[str, ...],
               most: int = 2) -> tuple[str, ...]:
        if not pool or rng.random() >= chance:
            return ()
        count = 1 if most == 1 else _between(rng, 1, most + 1)
        if count == 1:
            return (pool[int(rng.random() * len(pool))],)
        return tuple(sorted({pool[int(rng.random() * len(pool))] for _ in range(count)}))

    @staticmethod
    def _thread(b: _Block, from_us: bool) -> _Thread | None:
        """A recent conversation whose last message went the other way, to reply to."""
        rng, threads = b.rng, b.threads
        if not threads or rng.random() >= mix.REPLY_SHARE:
            return None
        recent = threads[-_RECENT_THREADS:]
        thread = recent[int(rng.random() * len(recent))]
        return thread if thread.last_from_us != from_us else None

    @staticmethod
    def _remember(b: _Block, thread: _Thread) -> None:
        b.threads.append(thread)
        if len(b.threads) > 2 * _RECENT_THREADS:
            del b.threads[:_RECENT_THREADS]

    # The kinds of mail (mix.KINDS) ----------------------------------------------------------

    def _business(self, b: _Block) -> Draft:
        rng = b.rng
        thread = self._thread(b, from_us=False)
        when = b.timing.after(rng, thread.last_at) if thread is not None else None
        recipients: tuple[Recipient, ...]
        if thread is not None and when is not None:
            org, sender, subject = thread.org, thread.theirs, f"Re: {thread.subject}"
            recipients = (Recipient(thread.ours.address, thread.ours.name),)
            in_reply_to = thread.last_id
        else:
            org = _one(rng, self.outside.partners)
            sender = _one(rng, org.people)
            subject = _subject(rng, names.BUSINESS_SUBJECTS)
            recipients = self._users_to(rng, 0.2)
            in_reply_to, thread = "", None
            when = b.timing.draw(rng, b.steady)
        message_id = _message_id(rng, org.domain)
        kind = mix.BY_NAME["business"]
        good = rng.random()
        draft = Draft(
            sender=sender.address, recipients=recipients, received_at=when, external=True,
            from_name=sender.name, subject=subject, text=_one(rng, names.BUSINESS_TEXTS),
            links=self._links(rng, kind.links, org.links),
            attachments=self._files(rng, kind.attachments), sender_ip=org.ip, helo=org.helo,
            spf="pass" if good < 0.97 else "none", dkim="pass" if good < 0.93 else "none",
            dmarc="pass" if good < 0.95 else "none", message_id=message_id,
            in_reply_to=in_reply_to, seed=self.seed)
        if thread is not None:
            thread.last_id, thread.last_at, thread.last_from_us = message_id, when, False
        else:
            ours = Person(recipients[0].address, recipients[0].name)
            self._remember(b, _Thread(subject, ours, sender, org, message_id, when, False))
        return draft

    def _outbound(self, b: _Block) -> Draft:
        rng = b.rng
        thread = self._thread(b, from_us=True)
        when = b.timing.after(rng, thread.last_at) if thread is not None else None
        recipients: tuple[Recipient, ...]
        if thread is not None and when is not None:
            sender, org, subject = thread.ours, thread.org, f"Re: {thread.subject}"
            recipients = (Recipient(thread.theirs.address, thread.theirs.name),)
            in_reply_to = thread.last_id
        else:
            sender = self._user(rng)
            org = _one(rng, self.outside.partners)
            first = _one(rng, org.people)
            recipients = (Recipient(first.address, first.name),)
            if rng.random() < mix.MISTYPED_SHARE:  # the partner's server will refuse it
                recipients = (Recipient(_mistyped(rng, first.address), first.name),)
                b.bounces = (0,)
            elif rng.random() < 0.25 and len(org.people) > 1:
                other = _one(rng, org.people)
                if other.address != first.address:
                    recipients += (Recipient(other.address, other.name, "cc"),)
            subject = _subject(rng, names.BUSINESS_SUBJECTS)
            in_reply_to, thread = "", None
            when = b.timing.draw(rng, b.steady)
        message_id = _message_id(rng, _domain(sender.address))
        kind = mix.BY_NAME["outbound"]
        draft = Draft(
            sender=sender.address, recipients=recipients, received_at=when, external=False,
            from_name=sender.name, subject=subject, text=_one(rng, names.BUSINESS_TEXTS),
            links=self._links(rng, kind.links, org.links),
            attachments=self._files(rng, kind.attachments), sender_ip=OFFICE_MTA_IP,
            helo=self._helo, message_id=message_id, in_reply_to=in_reply_to, seed=self.seed)
        if thread is not None:
            thread.last_id, thread.last_at, thread.last_from_us = message_id, when, True
        elif not b.bounces:
            theirs = Person(recipients[0].address, recipients[0].name)
            self._remember(b, _Thread(subject, sender, theirs, org, message_id, when, True))
        return draft

    def _internal(self, b: _Block) -> Draft:
        if len(self._users) < 2:  # nobody to write to: a message to a partner instead
            return self._outbound(b)
        rng = b.rng
        sender = self._user(rng)
        groups = self.office.groups
        members: list[Person]
        if groups and rng.random() < 0.3:
            group = groups[int(rng.random() * len(groups))]
            members = [p for p in group if p.address != sender.address]
            if len(members) > GROUP_RECIPIENTS:
                members = rng.sample(members, GROUP_RECIPIENTS)
        else:
            members = []
            for _ in range(_one(rng, (1, 1, 1, 2, 3))):
                other = self._user(rng)
                if other.address != sender.address and other not in members:
                    members.append(other)
        if not members:
            members = [next(p for p in self._users if p.address != sender.address)]
        kind = mix.BY_NAME["internal"]
        return Draft(
            sender=sender.address,
            recipients=tuple(Recipient(p.address, p.name) for p in members),
            received_at=b.timing.draw(rng, b.steady), external=False, from_name=sender.name,
            subject=_subject(rng, names.INTERNAL_SUBJECTS),
            text=_one(rng, names.INTERNAL_TEXTS),
            links=self._links(rng, kind.links, self._intranet),
            attachments=self._files(rng, kind.attachments), sender_ip=OFFICE_MTA_IP,
            helo=self._helo, message_id=_message_id(rng, _domain(sender.address)),
            seed=self.seed)

    def _newsletter(self, b: _Block) -> Draft:
        rng = b.rng
        org = _one(rng, self.outside.newsletters)
        sender = _one(rng, org.people)
        subject = _subject(rng, names.NEWSLETTER_SUBJECTS)
        return Draft(
            sender=sender.address, recipients=self._several(rng, 4),
            received_at=b.timing.draw(rng, b.steady), external=True, from_name=sender.name,
            subject=subject, text=f"{subject}. Read more on our site. Unsubscribe any time.",
            links=self._links(rng, 1.0, org.links, 4), sender_ip=org.ip, helo=org.helo,
            message_id=_message_id(rng, org.domain), seed=self.seed)

    def _free_mail(self, b: _Block) -> Draft:
        rng = b.rng
        sender = _one(rng, self.outside.free_mail)
        recipients = self._users_to(rng, 0.0)
        if rng.random() < 0.15:  # a colleague writing from a personal address
            colleague = _one(rng, self._named)
            local = ".".join(colleague.name.lower().split())
            sender = Person(f"{local}{_between(rng, 10, 99)}@{_domain(sender.address)}",
                            colleague.name)
        domain = _domain(sender.address)
        ip, helo = self.outside.free_mail_servers[domain]
        kind = mix.BY_NAME["free_mail"]
        return Draft(
            sender=sender.address, recipients=recipients,
            received_at=b.timing.draw(rng, b.steady), external=True, from_name=sender.name,
            subject=_subject(rng, names.FREEMAIL_SUBJECTS),
            text=_one(rng, names.FREEMAIL_TEXTS),
            links=self._links(rng, kind.links, self.outside.partners[0].links, 1),
            attachments=self._files(rng, kind.attachments), sender_ip=ip, helo=helo,
            message_id=_message_id(rng, domain), seed=self.seed)

    def _spam(self, b: _Block) -> Draft:
        rng = b.rng
        org = _one(rng, self.outside.spammers)
        sender = _one(rng, org.people)
        kind = mix.BY_NAME["spam"]
        return Draft(
            sender=sender.address, recipients=self._several(rng, 4),
            received_at=b.timing.draw(rng, b.steady), external=True, from_name=sender.name,
            subject=_one(rng, names.SPAM_SUBJECTS), text=_one(rng, names.SPAM_TEXTS),
            links=self._links(rng, kind.links, org.links, 1), sender_ip=org.ip,
            helo=org.helo, spf="fail" if rng.random() < 0.6 else "none",
            dkim="none" if rng.random() < 0.7 else "fail",
            dmarc="fail" if rng.random() < 0.7 else "none",
            message_id=_message_id(rng, org.domain), seed=self.seed)

    def _grey(self, b: _Block) -> Draft:
        rng = b.rng
        org = _one(rng, self.outside.spammers)
        sender = _one(rng, org.people)
        kind = mix.BY_NAME["grey"]
        return Draft(
            sender=sender.address, recipients=self._users_to(rng, 0.0),
            received_at=b.timing.draw(rng, b.steady), external=True, from_name=org.name,
            subject=_subject(rng, names.GREY_SUBJECTS), text=_one(rng, names.GREY_TEXTS),
            links=self._links(rng, kind.links, org.links, 1), sender_ip=org.ip, helo=org.helo,
            spf="none", dkim="none", dmarc="none",
            message_id=_message_id(rng, org.domain), seed=self.seed)

    def _phishing(self, b: _Block) -> Draft:
        rng = b.rng
        links = self.outside.phishing_links
        recipients = self._users_to(rng, 0.3)
        subject = _one(rng, names.PHISHING_SUBJECTS)
        text = _one(rng, names.PHISHING_TEXTS)
        when = b.timing.draw(rng, b.steady)
        if rng.random() < mix.COMPROMISED_SHARE:
            # A partner's hijacked mailbox: authentication passes, one lure link.
            org = _one(rng, self.outside.partners)
            sender = _one(rng, org.people)
            return Draft(
                sender=sender.address, recipients=recipients, received_at=when, external=True,
                from_name=sender.name, subject="Document shared with you", text=text,
                links=(links[int(rng.random() * len(links))],), sender_ip=org.ip,
                helo=org.helo, message_id=_message_id(rng, org.domain), seed=self.seed)
        org = _one(rng, self.outside.phishers)
        sender = _one(rng, org.people)
        return Draft(
            sender=sender.address, recipients=recipients, received_at=when, external=True,
            from_name=sender.name, subject=subject, text=text,
            links=self._links(rng, 1.0, links, 2), sender_ip=org.ip, helo=org.helo,
            spf="fail" if rng.random() < 0.7 else "none", dkim="none", dmarc="fail",
            message_id=_message_id(rng, org.domain), seed=self.seed)

    def _malware(self, b: _Block) -> Draft:
        rng = b.rng
        bad = self.pool.malicious
        files: tuple[Attachment, ...] = (bad[int(rng.random() * len(bad))],)
        if rng.random() < 0.2:
            files += self._files(rng, 1.0)[:1]
        if rng.random() < 0.5:
            org = _one(rng, self.outside.partners)
            spf = dkim = dmarc = "pass"
        else:
            org = _one(rng, self.outside.spammers)
            spf, dkim, dmarc = "fail", "none", "fail"
        sender = _one(rng, org.people)
        return Draft(
            sender=sender.address, recipients=self._users_to(rng, 0.2),
            received_at=b.timing.draw(rng, b.steady), external=True, from_name=sender.name,
            subject=_subject(rng, names.MALWARE_SUBJECTS), text=_one(rng, names.MALWARE_TEXTS),
            attachments=files, sender_ip=org.ip, helo=org.helo, spf=spf, dkim=dkim,
            dmarc=dmarc, message_id=_message_id(rng, org.domain), seed=self.seed)

    def _impersonation(self, b: _Block) -> Draft:
        fakes = self.outside.lookalikes
        if not fakes:
            return self._phishing(b)
        rng = b.rng
        boss = _one(rng, self._named)
        victim = self._user(rng)
        if victim.address == boss.address and len(self._users) > 1:
            victim = next(p for p in self._users if p.address != boss.address)
        fake = fakes[int(rng.random() * len(fakes))]
        address = f"{boss.address.partition('@')[0]}@{fake}"
        reply_to = _one(rng, self.outside.free_mail).address
        org = _one(rng, self.outside.spammers)
        return Draft(
            sender=address, recipients=(Recipient(victim.address, victim.name),),
            received_at=b.timing.draw(rng, b.steady), external=True, from_name=boss.name,
            reply_to=reply_to, subject=_one(rng, names.IMPERSONATION_SUBJECTS),
            text=_one(rng, names.IMPERSONATION_TEXTS), sender_ip=org.ip, helo=f"mail.{fake}",
            spf="none", dkim="none", dmarc="fail", message_id=_message_id(rng, fake),
            seed=self.seed)

    def _spoofed(self, b: _Block) -> Draft:
        rng = b.rng
        domains = self.office.domains
        domain = domains[int(rng.random() * len(domains))]
        if rng.random() < 0.5:
            boss = _one(rng, self._named)
            address, name = boss.address, boss.name
        else:
            local = _one(rng, SPOOFED_LOCALS)
            address, name = f"{local}@{domain}", local.replace("-", " ").title()
        org = _one(rng, self.outside.spammers)
        kind = mix.BY_NAME["spoofed"]
        return Draft(
            sender=address, recipients=self._users_to(rng, 0.0),
            received_at=b.timing.draw(rng, b.steady), external=True, from_name=name,
            subject=_one(rng, names.SPOOF_SUBJECTS), text=_one(rng, names.PHISHING_TEXTS),
            links=self._links(rng, kind.links, self.outside.phishing_links, 1),
            sender_ip=org.ip, helo=org.helo, spf="fail", dkim="none", dmarc="fail",
            message_id=_message_id(rng, _domain(address)), seed=self.seed)

    def _misaddressed(self, b: _Block) -> Draft:
        rng = b.rng
        org = _one(rng, self.outside.partners)
        sender = _one(rng, org.people)
        domains = self.office.domains
        domain = domains[int(rng.random() * len(domains))]
        first, last = _one(rng, names.FIRST_NAMES), _one(rng, names.LAST_NAMES)
        address = f"{first}.{last}@{domain}".lower()
        if address in self._addresses:  # someone here after all: a typo of them
            address = f"{first}.{last}x@{domain}".lower()
        kind = mix.BY_NAME["misaddressed"]
        return Draft(
            sender=sender.address, recipients=(Recipient(address, f"{first} {last}"),),
            received_at=b.timing.draw(rng, b.steady), external=True, from_name=sender.name,
            subject=_one(rng, names.MISADDRESSED_SUBJECTS),
            text=_one(rng, names.BUSINESS_TEXTS),
            links=self._links(rng, kind.links, org.links, 1),
            attachments=self._files(rng, kind.attachments), sender_ip=org.ip, helo=org.helo,
            message_id=_message_id(rng, org.domain), seed=self.seed)
