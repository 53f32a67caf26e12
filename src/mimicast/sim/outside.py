"""The outside world a simulated account exchanges mail with, made once per seed: partner,
customer and vendor organisations (their people, mail servers and web links), newsletter
senders, people on free mail, spammers and phishers, and lookalikes of the account's own
domains. Every name is under a reserved domain (`*.example.com/.net/.org`, `.test`) except
the free-mail providers, which must be the real ones for the policy engine to know them;
servers are in the documentation address ranges (RFC 5737)."""

from __future__ import annotations

import functools
import random
import string
from dataclasses import dataclass

from mimicast.services.mail.world import MALICIOUS_HOSTS
from mimicast.sim import names
from mimicast.sim.office import Person

ORGANISATIONS, FREE_MAIL_PEOPLE, SPAMMERS, PHISHERS = 48, 60, 160, 40
LINKS_PER_ORG = 6
LOOKALIKES_PER_DOMAIN = 3
# Characters a lookalike swaps in for the one it imitates.
HOMOGLYPHS = {"o": "0", "l": "1", "i": "l", "e": "3", "a": "4", "s": "5", "m": "n", "n": "m",
              "u": "v", "c": "e", "g": "q", "t": "f", "b": "d", "d": "b", "r": "n"}
_LETTERS = string.ascii_lowercase


@dataclass(frozen=True)
class Org:
    """A sending organisation: its domain, people (senders), server and links."""

    name: str
    domain: str
    ip: str
    helo: str
    people: tuple[Person, ...]
    links: tuple[str, ...]


@dataclass(frozen=True)
class Outside:
    partners: tuple[Org, ...]
    newsletters: tuple[Org, ...]
    free_mail: tuple[Person, ...]
    free_mail_servers: dict[str, tuple[str, str]]  # provider domain → (ip, helo)
    spammers: tuple[Org, ...]
    phishers: tuple[Org, ...]
    phishing_links: tuple[str, ...]  # on services.mail.world.MALICIOUS_HOSTS
    lookalikes: tuple[str, ...]  # one or two character edits of the account's domains


def _person(rng: random.Random, domain: str, style: int = 0) -> Person:
    first, last = rng.choice(names.FIRST_NAMES), rng.choice(names.LAST_NAMES)
    local = (f"{first}.{last}" if style == 0 else f"{first[0]}{last}" if style == 1
             else f"{first}{rng.randrange(10, 99)}").lower()
    return Person(f"{local}@{domain}", f"{first} {last}")


def _token(rng: random.Random, length: int = 8) -> str:
    return "".join(rng.choice(_LETTERS + string.digits) for _ in range(length))


def _partners(rng: random.Random) -> tuple[Org, ...]:
    orgs: list[Org] = []
    taken: set[str] = set()
    while len(orgs) < ORGANISATIONS:
        first, second = rng.choice(names.ORG_FIRST), rng.choice(names.ORG_SECOND)
        domain = f"{first}-{second}.{rng.choice(names.TLDS)}".lower()
        if domain in taken:
            continue
        taken.add(domain)
        style = rng.randrange(2)
        people = tuple(_person(rng, domain, style) for _ in range(rng.randrange(2, 9)))
        hosts = (domain, f"www.{domain}", f"files.{domain}", f"portal.{domain}")
        paths = ("docs/{t}", "share/{t}", "orders/{n}", "invoice/{n}", "news/{t}", "s/{t}")
        links = tuple(f"https://{rng.choice(hosts)}/"
                      + rng.choice(paths).format(t=_token(rng), n=rng.randrange(10_000, 99_999))
                      for _ in range(LINKS_PER_ORG))
        orgs.append(Org(f"{first} {second}", domain, f"198.51.100.{len(orgs) + 2}",
                        f"mail.{domain}", people, links))
    return tuple(orgs)


def _newsletters(rng: random.Random) -> tuple[Org, ...]:
    found = []
    for index, brand in enumerate(names.NEWSLETTER_BRANDS):
        domain = f"{brand}-mail.{rng.choice(names.TLDS[:3])}"
        people = tuple(Person(f"{local}@{domain}", brand.replace("-", " ").title())
                       for local in rng.sample(names.NEWSLETTER_LOCALS, 2))
        links = tuple(f"https://{domain}/c/{_token(rng, 6)}?utm_source=email&utm_medium="
                      "newsletter" for _ in range(LINKS_PER_ORG * 2))
        found.append(Org(brand, domain, f"198.51.100.{200 + index}", f"out.{domain}",
                         people, links))
    return tuple(found)


def _attackers(rng: random.Random, count: int, words: tuple[str, ...],
               second: tuple[str, ...], first_octet: int) -> tuple[Org, ...]:
    found: list[Org] = []
    taken: set[str] = set()
    while len(found) < count:
        domain = f"{rng.choice(words)}-{rng.choice(second)}{rng.randrange(10, 999)}.test"
        if domain in taken:
            continue
        taken.add(domain)
        people = tuple(Person(f"{local}@{domain}", display) for local, display in (
            ("info", "Customer Service"), ("no-reply", "Account Team"),
            ("support", "Support"), ("admin", "Administrator")))
        links = tuple(f"https://{domain}/{rng.choice(words)}/{_token(rng, 6)}"
                      for _ in range(2))
        found.append(Org(domain, domain, f"203.0.113.{first_octet + len(found) % 100}",
                         f"smtp{len(found)}.{domain}", people, links))
    return tuple(found)


def _phishing_links(rng: random.Random) -> tuple[str, ...]:
    paths = ("login", "verify", "account/confirm", "auth/session", "secure/update", "pay")
    return tuple(f"https://{host}/{rng.choice(paths)}?id={_token(rng, 10)}"
                 for host in sorted(MALICIOUS_HOSTS) for _ in range(5))


def lookalikes(domain: str, rng: random.Random, count: int) -> list[str]:
    """Domains one or two character edits from `domain` (its first label changed): a swapped
    homoglyph, a dropped, doubled or inserted letter, or two of those."""
    label, dot, rest = domain.partition(".")
    found: list[str] = []
    for _ in range(count * 20):
        if len(found) == count:
            break
        edited = label
        for _ in range(rng.choice((1, 1, 2))):
            edited = _edit(edited, rng)
        candidate = f"{edited}{dot}{rest}"
        if edited and edited != label and edited[0] != "-" and edited[-1] != "-" \
                and candidate not in found:
            found.append(candidate)
    return found


def _edit(label: str, rng: random.Random) -> str:
    at = rng.randrange(len(label))
    kind = rng.randrange(4)
    char = label[at]
    if kind == 0 and char in HOMOGLYPHS:
        return label[:at] + HOMOGLYPHS[char] + label[at + 1:]
    if kind == 1 and len(label) > 3:
        return label[:at] + label[at + 1:]
    if kind == 2:
        return label[:at] + char + label[at:]
    return label[:at] + rng.choice(_LETTERS) + label[at:]


@functools.lru_cache(maxsize=16)
def outside(seed: int, domains: tuple[str, ...]) -> Outside:
    """The world of `seed` around an account with these internal domains."""
    rng = random.Random(f"mimicast-sim:outside:{seed}")
    partners = _partners(rng)
    free_mail = tuple(_person(rng, rng.choice(names.FREE_MAIL_DOMAINS), rng.randrange(3))
                      for _ in range(FREE_MAIL_PEOPLE))
    servers = {domain: (f"192.0.2.{10 + index}", f"mail-out.{domain}")
               for index, domain in enumerate(names.FREE_MAIL_DOMAINS)}
    spammers = _attackers(rng, SPAMMERS, names.SPAM_DOMAIN_WORDS, names.SPAM_DOMAIN_WORDS, 10)
    phishers = _attackers(rng, PHISHERS, names.PHISHING_SERVICES, names.PHISHING_WORDS, 120)
    newsletters = _newsletters(rng)
    phishing_links = _phishing_links(rng)
    mimics = random.Random(f"mimicast-sim:lookalikes:{seed}")
    own = set(domains)
    fakes = [fake for domain in domains
             for fake in lookalikes(domain, mimics, LOOKALIKES_PER_DOMAIN) if fake not in own]
    return Outside(partners=partners, newsletters=newsletters, free_mail=free_mail,
                   free_mail_servers=servers, spammers=spammers, phishers=phishers,
                   phishing_links=phishing_links, lookalikes=tuple(fakes))
