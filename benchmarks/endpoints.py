"""Every read endpoint of the catalog, and the writes that hash no password, measured with wrk
against `mimicast serve` on realistic data, next to the bare Starlette endpoint of
`bare_app.py` in the same run.

    python benchmarks/endpoints.py [--seconds 5] [--db sqlite|postgresql://…] [--only TEXT]

1. A fresh store (a SQLite file in a temporary directory, or a new PostgreSQL database on the
   server `--db` names, dropped afterwards); `mimicast init --json` makes the demo account, then
   bulk rows go straight into it with SQLAlchemy Core (`seed`): internal domains, 10,000 users
   (aliases, attributes, delegates), 1,000 groups in a folder tree with members, 1,000 managed
   URLs, 1,000 managed senders, a handful of each policy kind, rewritten links, 100,000 audit
   events over 60 days; then ANALYZE.
2. `mimicast serve` (one worker, rate limit off) and `bare_app.py` on CPU 0, wrk on CPU 1.
3. Each endpoint of `mimicast.catalog.ENDPOINTS` has a recipe: the request bodies a real client
   sends, rotated by wrk (the HMAC covers date, request id, path and app key, not the body, so
   every line of the rotation carries its own pre-signed header set). A read endpoint without a
   recipe fails the run. List endpoints are measured as a client walks them: the first page and
   the following ones, their `next` tokens collected beforehand with real calls. Writes use a
   supply of one-off requests (new names, fresh values; rows made just before a deletion
   deletes them), each used once. Every recipe is validated before it is measured.
4. Bare is measured first and again every few endpoints; each endpoint gets a warm-up, then
   `--seconds` of load, and is compared with the median bare figure.
Any non-2xx response or socket error invalidates the endpoint's figure, and so does a write
run whose audit trail grew by fewer events than it made requests (a write answered 200 with a
`fail` entry); the run then exits 1.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import functools
import hashlib
import hmac
import http.client
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime, timedelta
from email.utils import formatdate
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import orjson
from sqlalchemy import (
    Engine,
    Table,
    create_engine,
    delete,
    func,
    insert,
    select,
    tuple_,
    update,
)
from sqlalchemy.engine import Connection

from mimicast.catalog import ENDPOINTS
from mimicast.services import (
    address_alteration,
    audit,
    audit_events,
    directory,
    domains,
    ids,
    managed_senders,
    managed_urls,
    policies,
    url_rewrite,
    web_security,
)
from mimicast.services.demo import DEMO_CODE, DEMO_DOMAIN, DEMO_EMAIL
from mimicast.services.dirsync import COUNTS
from mimicast.services.mail import render, views
from mimicast.store.engine import normalise_url
from mimicast.store.schema import (
    Account,
    AuditEvent,
    Base,
    DirectoryConnection,
    Domain,
    GroupMember,
    HoldAction,
    ManagedSender,
    ManagedUrl,
    Message,
    MessageAttachment,
    MessageRecipient,
    Policy,
    ProfileGroup,
    RewrittenUrl,
    Role,
    RoleMember,
    User,
    UserAlias,
    UserAttribute,
    UserDelegate,
)

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from signed_calls import (  # noqa: E402
    LOAD_CPU,
    SERVER_CPU,
    CpuProbe,
    Credentials,
    Invalid,
    Result,
    Server,
    SignedHeaders,
    clean_env,
    init_credentials,
    noise_warnings,
    pinned,
)
from signed_calls import profile as py_spy_profile  # noqa: E402

READ_WORST_TARGET, READ_MEDIAN_TARGET, WRITE_TARGET = 0.25, 0.35, 0.15
UNSIGNED_READ = "/api/login/discover-authentication"
# Each rotation has at least this many lines, so even a one-body endpoint rotates through
# distinct signatures (request ids) as clients' calls do.
MIN_SIGNED_SETS = 1_000
VALIDATION_SAMPLE = 40
EMPTY = b'{"data":[]}'


# --- the store ------------------------------------------------------------------------------

@contextlib.contextmanager
def fresh_store(db: str, workdir: Path) -> Iterator[str]:
    """A new, empty database URL: "sqlite" gives a file in `workdir`; a PostgreSQL URL names
    the server (and a database to connect to) where a new database is made, then dropped."""
    if db == "sqlite":
        yield f"sqlite:///{workdir / 'bench.db'}"
        return
    if not db.startswith(("postgresql://", "postgres://")):
        raise Invalid(f"--db takes 'sqlite' or a postgresql:// URL, not {db!r}")
    import psycopg

    name = f"mimicast_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(db, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield db.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(db, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def table_of(model: type[Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


def _checked(table: Table, row: dict[str, Any]) -> None:
    """The row names only columns the schema has and every column it must fill: a schema
    change breaks the seed loudly instead of seeding rows the services would not write."""
    unknown = row.keys() - table.c.keys()
    required = {c.name for c in table.c if not c.nullable and c.default is None
                and c.server_default is None and c is not table.autoincrement_column}
    missing = required - row.keys()
    if unknown or missing:
        raise Invalid(f"seed rows for {table.name} do not fit the schema: unknown columns "
                      f"{sorted(unknown)}, missing columns {sorted(missing)}")


def insert_rows(conn: Connection, model: type[Base], rows: Sequence[dict[str, Any]]) -> list[int]:
    """Insert in bulk (executemany); answers the new ids, in row order, for tables with an
    autoincrement id."""
    if not rows:
        return []
    table = table_of(model)
    _checked(table, rows[0])
    ident = table.autoincrement_column
    if ident is None:
        conn.execute(insert(table), list(rows))
        return []
    statement = insert(table).returning(ident, sort_by_parameter_order=True)
    return list(conn.execute(statement, list(rows)).scalars())


class Database:
    """The store as the benchmark sees it: the seed's bulk inserts, the rows a deletion
    consumes, and the audit trail that proves writes did what they said."""

    def __init__(self, url: str) -> None:
        self.url = url
        # The server may hold SQLite's write lock for a moment: wait for it.
        options: dict[str, Any] = ({"connect_args": {"timeout": 30}}
                                   if url.startswith("sqlite") else {})
        self.engine: Engine = create_engine(normalise_url(url), **options)

    def insert(self, model: type[Base], rows: Sequence[dict[str, Any]]) -> list[tuple[Any, ...]]:
        """Rows inserted in one transaction; answers each row's primary key."""
        table = table_of(model)
        with self.engine.begin() as conn:
            new_ids = insert_rows(conn, model, rows)
        if new_ids:
            return [(number,) for number in new_ids]
        return [tuple(row[c.name] for c in table.primary_key.columns) for row in rows]

    def delete(self, model: type[Base], keys: Sequence[tuple[Any, ...]]) -> None:
        """Remove the rows with these primary keys (those still there)."""
        table = table_of(model)
        columns = list(table.primary_key.columns)
        with self.engine.begin() as conn:
            for start in range(0, len(keys), 500):
                chunk = keys[start:start + 500]
                where = (columns[0].in_([k[0] for k in chunk]) if len(columns) == 1
                         else tuple_(*columns).in_(chunk))
                conn.execute(delete(table).where(where))

    def audit_count(self, account_id: int) -> int:
        with self.engine.connect() as conn:
            return int(conn.scalar(select(func.count()).select_from(AuditEvent).where(
                AuditEvent.account_id == account_id)) or 0)

    def analyze(self) -> None:
        # Fresh bulk data: the planners need statistics to pick the indexes the services
        # rely on (SQLite has none until ANALYZE; PostgreSQL's autovacuum would come later).
        with self.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
            conn.commit()

    def dispose(self) -> None:
        self.engine.dispose()


# --- seeding --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Scale:
    users: int = 10_000
    groups: int = 1_000
    managed_urls: int = 1_000
    managed_senders: int = 1_000
    audit_events: int = 100_000
    rewritten_urls: int = 5_000
    messages: int = 50_000  # simulated mail (the simulator's own backfill)

    def times(self, factor: float) -> Scale:
        """Every count times `factor`, but never below 50 (the recipes need some spread)."""
        return Scale(*(max(50, round(getattr(self, f.name) * factor)) for f in fields(self)))

    def describe(self) -> str:
        return (f"{self.users:,} users, {self.groups:,} groups, {self.managed_urls:,} managed "
                f"URLs, {self.managed_senders:,} managed senders, {self.audit_events:,} audit "
                f"events, {self.rewritten_urls:,} rewritten links, {self.messages:,} "
                "simulated messages")


@dataclass(frozen=True)
class Group:
    id: int
    name: str
    members: int


@dataclass
class Seeded:
    """What the recipes need to know about the seeded data."""

    account_id: int
    domains: list[str]  # internal, the demo's own first
    pending_domains: list[str]
    user_ids: list[int]  # the seeded users (not the demo administrator)
    emails: list[str]  # their addresses, in the same order
    groups: list[Group]  # cloud groups (the API may edit them)
    ldap_groups: int
    links: list[str]  # rewritten URL Protect links the account issued
    sender_recipients: list[str]  # recipients that have managed senders
    domain_urls: list[str]  # hosts of the domain-match managed URLs
    policies: dict[str, list[int]]  # policy rows by family
    delegate_reach: int  # seeded delegates of user i are within this distance of i in `emails`
    mail: Mail | None = None  # the simulated mail (`simulate_mail`)


FIRST = ("james", "mary", "robert", "patricia", "john", "jennifer", "michael", "linda", "david",
         "elizabeth", "william", "barbara", "richard", "susan", "joseph", "jessica", "thomas",
         "sarah", "charles", "karen", "chen", "wei", "priya", "arjun", "fatima", "omar", "sofia",
         "lucas", "emma", "noah", "olivia", "liam", "ana", "jose", "yuki", "hiroshi", "ingrid",
         "lars", "amara", "kwame")
LAST = ("smith", "johnson", "williams", "brown", "jones", "garcia", "miller", "davis",
        "rodriguez", "martinez", "hernandez", "lopez", "gonzalez", "wilson", "anderson", "taylor",
        "moore", "jackson", "martin", "lee", "perez", "thompson", "white", "harris", "sanchez",
        "clark", "ramirez", "lewis", "robinson", "walker", "young", "allen", "king", "wright",
        "scott", "nguyen", "hill", "flores", "green", "patel", "kim", "muller", "rossi",
        "dubois", "silva", "kowalski", "novak", "jensen", "okafor")
DEPARTMENTS = ("Sales", "Marketing", "Finance", "Engineering", "Support", "Legal", "HR",
               "Operations", "IT", "Procurement", "Research", "Security")
LOCATIONS = ("London", "New York", "Berlin", "Paris", "Singapore", "Sydney", "Toronto",
             "Madrid", "Tokyo", "Johannesburg")
TITLES = ("Analyst", "Engineer", "Manager", "Director", "Associate", "Consultant", "Specialist")
GROUP_KINDS = ("Team", "Managers", "All Staff", "Project", "Distribution", "Approvers",
               "Contractors", "VIP", "Finance Approvers", "On Call")
ROOT_FOLDERS = ("Departments", "Locations", "Projects", "Distribution Lists", "Security",
                "Partners", "Integrations", "Archive")
URL_WORDS = ("login", "secure", "invoice", "docs", "share", "update", "portal", "files", "pay",
             "verify", "account", "support")
TLDS = ("com", "net", "io", "co", "info", "xyz", "biz", "org")
VENDORS = ("contoso-mail.example", "fabrikam.example", "northwind.example", "tailspin.example",
           "wingtip.example", "adventure-works.example", "litware.example", "proseware.example")
# Internal domains and the share of users in each.
EXTRA_DOMAINS = (("eu." + DEMO_DOMAIN, 0.2), ("acme-labs.test", 0.15),
                 ("acme-retail.test", 0.1), ("acme-partners.test", 0.05))
PENDING_DOMAINS = ("acme-newco.test", "acme-events.test", "acme-ventures.test")
# Audit categories: share of the trail, and the event types the services write in each.
AUDIT_MIX: dict[str, tuple[float, tuple[str, ...]]] = {
    audit.USERS: (0.24, ("User updated", "Alias added", "Alias removed", "Delegate added",
                         "User attributes updated")),
    audit.DIRECTORY: (0.2, ("Profile group member added", "Profile group member removed",
                            "Profile group created", "Directory sync", "User updated")),
    audit.AUTHENTICATION: (0.2, ("Login failed", "Logout", "Login throttled")),
    audit.URL_PROTECT: (0.1, ("Managed URL created", "Managed URL deleted")),
    audit.POLICY: (0.1, ("Managed sender permitted", "Managed sender blocked",
                         "Blocked sender policy created", "Web security policy updated")),
    audit.SERVICES: (0.06, ("Binding revoked", "Application registered",
                            "Authentication profile created")),
    audit.ROLES: (0.04, ("User added to role", "User removed from role")),
    audit.DOMAIN: (0.03, ("Internal domain added", "Pending domain renewed")),
    audit.ACCOUNT: (0.03, ("Account limits changed",)),
}
DELEGATE_REACH = 20


def policy_body(description: str, sender: dict[str, Any], to: dict[str, Any],
                **extra: Any) -> dict[str, Any]:
    """A policy's canonical body, as `policies.validate_policy` stores it: eternal dates are
    None, flags at their defaults unless given."""
    body: dict[str, Any] = {"description": description, "comment": "",
                            "fromPart": "envelope_from", "from": sender, "to": to,
                            "fromDate": None, "toDate": None, **policies.FLAGS,
                            "conditions": {}}
    body.update(extra)
    return body


class Seeder:
    """The demo account's realistic data, written in bulk as the services would write it."""

    def __init__(self, conn: Connection, scale: Scale, rng: random.Random) -> None:
        self.conn, self.scale, self.rng = conn, scale, rng
        self.now = datetime.now(UTC)
        account = conn.execute(select(Account.id, Account.region).where(
            Account.code == DEMO_CODE)).one()
        self.account_id, self.region = int(account.id), str(account.region)
        self.admins: list[str] = []

    def ago(self, days: float) -> datetime:
        """A random moment in the last `days` days."""
        return self.now - timedelta(seconds=self.rng.uniform(60, days * 86400))

    def run(self) -> Seeded:
        internal = self.domains()
        pending = self.pending_domains()
        connection_id = self.directory_connections()
        user_ids, emails, ldap = self.users(internal, connection_id)
        self.aliases(user_ids, emails, internal)
        self.attributes(user_ids)
        self.delegates(user_ids)
        self.roles(user_ids, emails)
        groups = self.groups(emails, internal)
        ldap_groups = self.ldap_groups(connection_id, ldap)
        recipients = self.managed_senders(emails)
        domain_urls = self.managed_urls()
        links = self.rewritten_urls()
        policy_ids = self.policies()
        self.audit_events(emails)
        return Seeded(self.account_id, internal, pending, user_ids, emails, groups, ldap_groups,
                      links, recipients, domain_urls, policy_ids, DELEGATE_REACH)

    # Domains and connections ----------------------------------------------------------------

    def domains(self) -> list[str]:
        rows = [{"account_id": self.account_id, "name": name, "status": domains.INTERNAL,
                 "inbound_type": "any", "token": domains.new_token(), "send_only": False,
                 "local": False, "created_at": self.ago(700), "expires_at": None,
                 "verified_at": self.ago(600)} for name, _ in EXTRA_DOMAINS]
        insert_rows(self.conn, Domain, rows)
        return [DEMO_DOMAIN, *(name for name, _ in EXTRA_DOMAINS)]

    def pending_domains(self) -> list[str]:
        rows = []
        for n, name in enumerate(PENDING_DOMAINS):
            created = self.now - timedelta(days=5 + 20 * n)  # the last one has lapsed
            rows.append({"account_id": self.account_id, "name": name,
                         "status": domains.PENDING, "inbound_type": "smtp",
                         "token": domains.new_token(), "send_only": False, "local": False,
                         "created_at": created, "verified_at": None,
                         "expires_at": created + timedelta(days=domains.VERIFICATION_DAYS)})
        insert_rows(self.conn, Domain, rows)
        return list(PENDING_DOMAINS)

    def directory_connections(self) -> int:
        """An LDIF connection that synced fine (its users and groups are seeded below) and a
        CSV one whose last sync failed."""
        ok = {name: self.rng.randint(0, 40) for name in COUNTS}
        rows = [{"account_id": self.account_id, "name": "Corporate AD", "kind": "ldif",
                 "source_path": "/srv/exports/corporate.ldif", "enabled": True,
                 "last_sync_at": self.ago(1), "last_status": "ok", "last_result": ok,
                 "created_at": self.ago(400)},
                {"account_id": self.account_id, "name": "HR export", "kind": "csv",
                 "source_path": "/srv/exports/hr.csv", "enabled": False,
                 "last_sync_at": self.ago(30), "last_status": "failed",
                 "last_result": {"error": "line 2: no email address column"},
                 "created_at": self.ago(300)}]
        return insert_rows(self.conn, DirectoryConnection, rows)[0]

    # Users ----------------------------------------------------------------------------------

    def users(self, internal: list[str], connection_id: int
              ) -> tuple[list[int], list[str], list[str]]:
        """Users spread over the internal domains; some of the demo domain's came from the
        directory connection. Answers ids, addresses, and the directory-synced addresses."""
        weights = [1.0 - sum(share for _, share in EXTRA_DOMAINS),
                   *(share for _, share in EXTRA_DOMAINS)]
        rows = []
        for n in range(self.scale.users):
            first, last = self.rng.choice(FIRST), self.rng.choice(LAST)
            domain = self.rng.choices(internal, weights)[0]
            synced = domain == DEMO_DOMAIN and self.rng.random() < 0.3
            rows.append({
                "account_id": self.account_id, "email": f"{first}.{last}{n}@{domain}",
                "domain": domain, "name": f"{first.title()} {last.title()}",
                "password_hash": None, "domain_password_hash": None,
                "locked": self.rng.random() < 0.01, "disabled": self.rng.random() < 0.02,
                "force_password_change": False,
                "password_never_expires": self.rng.random() < 0.1,
                "allow_pop": self.rng.random() < 0.05, "allow_smtp": self.rng.random() < 0.1,
                "archive_start": self.ago(900) if self.rng.random() < 0.2 else None,
                "source": "ldap" if synced else "cloud",
                "connection_id": connection_id if synced else None,
                "created_at": self.ago(730)})
        user_ids = insert_rows(self.conn, User, rows)
        emails = [str(row["email"]) for row in rows]
        ldap = [str(row["email"]) for row in rows if row["source"] == "ldap"]
        return user_ids, emails, ldap

    def aliases(self, user_ids: list[int], emails: list[str], internal: list[str]) -> None:
        rows = []
        for n, (user_id, email) in enumerate(zip(user_ids, emails, strict=True)):
            if self.rng.random() >= 0.2:
                continue
            first, _, rest = email.partition(".")
            for k in range(self.rng.choice((1, 1, 2))):
                domain = internal[0] if k == 0 else self.rng.choice(internal)
                rows.append({"account_id": self.account_id, "user_id": user_id,
                             "address": f"{first[0]}.{rest.split('@')[0]}.{n}.{k}@{domain}",
                             "created_at": self.ago(500)})
        insert_rows(self.conn, UserAlias, rows)

    def attributes(self, user_ids: list[int]) -> None:
        rows = []
        for user_id in user_ids:
            if self.rng.random() >= 0.5:
                continue
            values = {"department": self.rng.choice(DEPARTMENTS),
                      "title": self.rng.choice(TITLES),
                      "location": self.rng.choice(LOCATIONS),
                      "costCentre": str(self.rng.randint(1000, 9999)),
                      "employeeId": f"E{user_id:07d}"}
            for name in self.rng.sample(sorted(values), self.rng.randint(2, 5)):
                rows.append({"user_id": user_id, "name": name, "value": values[name]})
        insert_rows(self.conn, UserAttribute, rows)

    def delegates(self, user_ids: list[int]) -> None:
        """5% of users have 1-3 delegates, each within DELEGATE_REACH places of them in the
        list (the write recipes choose their pairs further apart, so they never collide)."""
        rows = []
        count = len(user_ids)
        for i, user_id in enumerate(user_ids):
            if self.rng.random() >= 0.05:
                continue
            for offset in self.rng.sample(range(1, DELEGATE_REACH + 1), self.rng.randint(1, 3)):
                rows.append({"user_id": user_id, "delegate_id": user_ids[(i + offset) % count],
                             "created_at": self.ago(300)})
        insert_rows(self.conn, UserDelegate, rows)

    def roles(self, user_ids: list[int], emails: list[str]) -> None:
        """A few administrators in the built-in roles: they are the audit trail's actors."""
        roles = list(self.conn.scalars(select(Role.id).where(
            Role.account_id == self.account_id).order_by(Role.id)))
        picks = self.rng.sample(range(len(user_ids)), 8)
        insert_rows(self.conn, RoleMember, [{"role_id": roles[n % len(roles)],
                                             "user_id": user_ids[i]}
                                            for n, i in enumerate(picks)])
        self.admins = [DEMO_EMAIL, *(emails[i] for i in picks[:5])]

    # Groups ---------------------------------------------------------------------------------

    def groups(self, emails: list[str], internal: list[str]) -> list[Group]:
        """Cloud groups in a folder tree (roots, then up to three levels below), with members:
        most groups small, a quarter medium, a few very large, some folders empty."""
        cloud = self.scale.groups - self.scale.groups // 10  # a tenth come from the directory
        levels: list[list[str]] = [list(ROOT_FOLDERS), [], [], []]
        for n in range(len(ROOT_FOLDERS), cloud):
            depth = self.rng.choices((1, 2, 3), (3, 5, 2))[0]
            levels[depth].append(f"{self.rng.choice(DEPARTMENTS + LOCATIONS)} "
                                 f"{self.rng.choice(GROUP_KINDS)} {n}")
        groups: list[Group] = []
        parents: list[int] = []
        for depth, names in enumerate(levels):
            rows = [{"account_id": self.account_id,
                     "parent_id": self.rng.choice(parents) if depth else None,
                     "name": name, "source": "cloud", "connection_id": None,
                     "created_at": self.ago(700)} for name in names]
            new_ids = insert_rows(self.conn, ProfileGroup, rows)
            # A folder's parent is one level up, so each level is inserted after its parents.
            parents = new_ids or parents
            for number, row in zip(new_ids, rows, strict=True):
                groups.append(Group(number, str(row["name"]), 0))
        return self.members(groups, emails, internal)

    def member_count(self, users: int) -> int:
        bucket = self.rng.random()
        if bucket < 0.1:
            return 0
        if bucket < 0.75:
            return self.rng.randint(1, 15)
        if bucket < 0.96:
            return self.rng.randint(16, 120)
        return self.rng.randint(min(users, 300), min(users, 3000))

    def members(self, groups: list[Group], emails: list[str], internal: list[str]
                ) -> list[Group]:
        rows: list[dict[str, Any]] = []
        counted = []
        for group in groups:
            addresses = set(self.rng.sample(emails, self.member_count(len(emails))))
            if addresses and self.rng.random() < 0.2:  # partners on the list too
                addresses.update(f"{self.rng.choice(FIRST)}.{n}@{self.rng.choice(VENDORS)}"
                                 for n in range(self.rng.randint(1, 5)))
            rows += [{"group_id": group.id, "address": address, "kind": "email",
                      "notes": ""} for address in sorted(addresses)]
            if self.rng.random() < 0.03:  # a whole domain as a member
                domain = self.rng.choice([*internal, *VENDORS])
                addresses.add(domain)
                rows.append({"group_id": group.id, "address": domain, "kind": "domain",
                             "notes": "whole domain"})
            counted.append(replace(group, members=len(addresses)))
        insert_rows(self.conn, GroupMember, rows)
        return counted

    def ldap_groups(self, connection_id: int, ldap: list[str]) -> int:
        """The directory's groups: a root folder named after the connection, flat below it."""
        root = insert_rows(self.conn, ProfileGroup, [{
            "account_id": self.account_id, "parent_id": None, "name": "Corporate AD",
            "source": "ldap", "connection_id": connection_id, "created_at": self.ago(400)}])[0]
        count = self.scale.groups // 10 - 1
        rows = [{"account_id": self.account_id, "parent_id": root,
                 "name": f"AD {self.rng.choice(DEPARTMENTS)} {n}", "source": "ldap",
                 "connection_id": connection_id, "created_at": self.ago(400)}
                for n in range(count)]
        group_ids = insert_rows(self.conn, ProfileGroup, rows)
        members = [{"group_id": group_id, "address": address, "kind": "email", "notes": ""}
                   for group_id in group_ids
                   for address in self.rng.sample(ldap, min(len(ldap), self.rng.randint(1, 40)))]
        insert_rows(self.conn, GroupMember, members)
        return count + 1

    # URL Protect and managed senders --------------------------------------------------------

    def managed_senders(self, emails: list[str]) -> list[str]:
        rows = []
        for n in range(self.scale.managed_senders):
            rows.append({"account_id": self.account_id,
                         "sender": f"{self.rng.choice(URL_WORDS)}{n}@{self.rng.choice(VENDORS)}",
                         "recipient": self.rng.choice(emails[: max(50, len(emails) // 5)]),
                         "action": self.rng.choice(("block", "block", "permit")),
                         "created_at": self.ago(400)})
        insert_rows(self.conn, ManagedSender, rows)
        return sorted({str(row["recipient"]) for row in rows})

    def managed_urls(self) -> list[str]:
        rows = []
        domain_hosts = []
        for n in range(self.scale.managed_urls):
            host = f"{self.rng.choice(URL_WORDS)}-{n}.{self.rng.choice(TLDS)}"
            match_type = managed_urls.DOMAIN if self.rng.random() < 0.4 else managed_urls.EXPLICIT
            url = f"https://{host}/{self.rng.choice(URL_WORDS)}/{n}?ref=mail"
            parts = managed_urls.parse_url(host if match_type == managed_urls.DOMAIN else url)
            if match_type == managed_urls.DOMAIN:
                domain_hosts.append(parts.host)
            rows.append({"account_id": self.account_id, "url": parts.key(match_type),
                         "scheme": parts.scheme, "domain": parts.host, "port": parts.port,
                         "path": parts.path, "query_string": parts.query,
                         "match_type": match_type,
                         "action": "block" if self.rng.random() < 0.7 else "permit",
                         "comment": self.rng.choice(("", "", "Reported by the SOC",
                                                     "Phishing campaign", "Vendor portal")),
                         "disable_rewrite": self.rng.random() < 0.05,
                         "disable_user_awareness": self.rng.random() < 0.1,
                         "disable_log_click": self.rng.random() < 0.05,
                         "created_at": self.ago(500)})
        insert_rows(self.conn, ManagedUrl, rows)
        return domain_hosts

    def rewritten_urls(self) -> list[str]:
        """Links URL Protect issued in delivered mail (what decode-url is asked about)."""
        rows, links = [], []
        host_of_link = url_rewrite.link_host(self.region)
        for n in range(self.scale.rewritten_urls):
            host = f"www.{self.rng.choice(VENDORS)}"
            code = base64.urlsafe_b64encode(self.rng.randbytes(url_rewrite.CODE_BYTES)
                                            ).rstrip(b"=").decode()
            rows.append({"account_id": self.account_id, "code": code,
                         "url": f"https://{host}/{self.rng.choice(URL_WORDS)}?id={n}"
                                f"&utm_source=newsletter",
                         "created_at": self.ago(60)})
            links.append(f"https://{host_of_link}/s/{code}?{urlencode({'domain': host})}")
        insert_rows(self.conn, RewrittenUrl, rows)
        return links

    # Policies -------------------------------------------------------------------------------

    def add_policies(self, family: str, bodies: list[dict[str, Any]],
                     parents: Sequence[int | None] = ()) -> list[int]:
        rows = []
        for n, body in enumerate(bodies):
            created = self.ago(300)
            rows.append({"account_id": self.account_id, "family": family,
                         "parent_id": parents[n] if parents else None, "body": body,
                         "created_at": created, "updated_at": created})
        return insert_rows(self.conn, Policy, rows)

    def policies(self) -> dict[str, list[int]]:
        everyone = {"type": "everyone"}
        found: dict[str, list[int]] = {}
        found[policies.BLOCKED_SENDERS.name] = self.add_policies(
            policies.BLOCKED_SENDERS.name,
            [{"option": "block_sender",
              **policy_body(f"Block {vendor}", {"type": "email_domain", "emailDomain": vendor},
                            everyone)} for vendor in VENDORS[:5]])
        found[policies.ANTISPOOFING_BYPASS.name] = self.add_policies(
            policies.ANTISPOOFING_BYPASS.name,
            [{"option": "enable_bypass",
              **policy_body(f"Bypass for {vendor}", {"type": "email_domain",
                                                     "emailDomain": vendor},
                            {"type": "internal_addresses"},
                            conditions={"sourceIPs": [f"198.51.100.{16 * n}/28"]})}
             for n, vendor in enumerate(VENDORS[3:8])])
        sets = self.add_policies(address_alteration.SET,
                                 [{"description": f"{name} rewrite"}
                                  for name in ("Legacy domain", "Merger", "Shared mailboxes",
                                               "Outbound masking")])
        found[address_alteration.SET] = sets
        definitions, parents = [], []
        for n, set_id in enumerate(sets):
            for k in range(8):
                definitions.append({"originalAddress": f"old{n}.{k}@legacy-acme.test",
                                    "alteredAddress": f"new{n}.{k}@{DEMO_DOMAIN}",
                                    "routing": ("all", "inbound", "outbound")[k % 3]})
                parents.append(set_id)
        found[address_alteration.DEFINITION] = self.add_policies(address_alteration.DEFINITION,
                                                                 definitions, parents)
        found[address_alteration.POLICY] = self.add_policies(
            address_alteration.POLICY,
            [policy_body(f"Apply set {n}", everyone, {"type": "internal_addresses"})
             for n in range(len(sets))], sets)
        found[web_security.FAMILY] = self.add_policies(
            web_security.FAMILY, [self.web_policy(n) for n in range(5)])
        return found

    def web_policy(self, n: int) -> dict[str, Any]:
        targets = [{"action": "block" if k % 3 else "allow", "type": "domain" if k % 2 else "url",
                    "value": (f"{self.rng.choice(URL_WORDS)}-{n}-{k}.{self.rng.choice(TLDS)}"
                              if k % 2 else f"https://tracker-{n}-{k}.example/")}
                   for k in range(self.rng.randint(10, 50))]
        settings = {"description": f"Web list {n}",
                    "fromDate": web_security.FROM_DATE_DEFAULT,
                    "toDate": web_security.TO_DATE_DEFAULT, "fromEternal": True,
                    "toEternal": True, "enabled": True, "from": {"type": "everyone"}}
        return {"policy": settings, "targets": targets}

    # Audit ----------------------------------------------------------------------------------

    def audit_events(self, emails: list[str]) -> None:
        """Events spread over the last 60 days, in time order (ids grow with time, as they do
        when the services append them)."""
        categories = list(AUDIT_MIX)
        weights = [AUDIT_MIX[c][0] for c in categories]
        moments = sorted(self.ago(audit_events.HISTORY_DAYS)
                         for _ in range(self.scale.audit_events))
        actors = [*self.admins, "cli"]
        rows = []
        for moment in moments:
            category = self.rng.choices(categories, weights)[0]
            rows.append({"account_id": self.account_id,
                         "actor": self.rng.choice(actors), "category": category,
                         "event_type": self.rng.choice(AUDIT_MIX[category][1]),
                         "info": self.rng.choice(emails), "created_at": moment})
        for start in range(0, len(rows), 10_000):
            insert_rows(self.conn, AuditEvent, rows[start:start + 10_000])


@dataclass(frozen=True)
class Mail:
    """What the mail recipes need: recipient copies (Message Finder's and the hold queue's
    ids), those of messages with files, the files, and a message stocked copies hang on."""

    copies: list[int]
    with_files: list[int]
    attachments: list[int]
    senders: list[str]
    recipients: list[str]
    message: int


RELEASED = 400  # held copies released or rejected in the seed: the release log's entries


def seed(db: Database, scale: Scale, rng_seed: int = 1) -> Seeded:
    with db.engine.begin() as conn:
        seeded = Seeder(conn, scale, random.Random(rng_seed)).run()
    seeded.mail = simulate_mail(db, seeded, scale.messages)
    db.analyze()
    return seeded


def simulate_mail(db: Database, seeded: Seeded, messages: int) -> Mail:
    """The simulator's own backfill over 30 days (the path of `mimicast simulate`), then a
    share of the held copies released or rejected as an administrator would."""
    from mimicast.cli.common import open_deps, settings_from
    from mimicast.sim import runs

    deps = open_deps(settings_from(db=db.url))
    try:
        runs.backfill(deps, seeded.account_id, seed=7, messages=messages, days=30)
    finally:
        deps.store.dispose()
    copies_of = select(MessageRecipient.id).where(
        MessageRecipient.account_id == seeded.account_id)
    with db.engine.begin() as conn:
        held = list(conn.execute(copies_of.where(MessageRecipient.status == "held")
                                 .order_by(MessageRecipient.id).limit(RELEASED)).scalars())
        now = datetime.now(UTC)
        insert_rows(conn, HoldAction, [
            {"account_id": seeded.account_id, "recipient_id": number,
             "action": ("released", "rejected")[k % 2], "reason_type": "", "note": "",
             "notify": False, "operator": DEMO_EMAIL, "created_at": now - timedelta(hours=k)}
            for k, number in enumerate(held)])
        conn.execute(update(MessageRecipient).where(MessageRecipient.id.in_(held))
                     .values(status="delivered"))
        copies = list(conn.execute(copies_of).scalars())
        with_files = list(conn.execute(copies_of.where(MessageRecipient.message_id.in_(
            select(MessageAttachment.message_id)))).scalars())
        attachments = list(conn.execute(select(MessageAttachment.id).join(
            Message, Message.id == MessageAttachment.message_id).where(
            Message.account_id == seeded.account_id)).scalars())
        senders = list(conn.execute(select(Message.sender).where(
            Message.account_id == seeded.account_id).group_by(Message.sender)
            .order_by(func.count().desc()).limit(200)).scalars())
        recipients = list(conn.execute(select(MessageRecipient.address).where(
            MessageRecipient.account_id == seeded.account_id)
            .group_by(MessageRecipient.address).order_by(func.count().desc())
            .limit(200)).scalars())
        message = conn.execute(select(func.max(Message.id)).where(
            Message.account_id == seeded.account_id)).scalar_one()
    return Mail(spread(copies, 1_000, salt=17), spread(with_files, 300, salt=19),
                spread(attachments, 300, salt=23), senders, recipients, int(message))


# --- signed calls ---------------------------------------------------------------------------

def sign(creds: Credentials, path: str, date: str, request_id: str) -> SignedHeaders:
    """As a client signs (independent of mimicast's own signing code)."""
    data = f"{date}:{request_id}:{path}:{creds.app_key}".encode()
    digest = hmac.new(base64.b64decode(creds.secret_key), data, hashlib.sha1).digest()
    return SignedHeaders(date, request_id,
                         f"MC {creds.access_key}:{base64.b64encode(digest).decode('ascii')}")


def request_body(items: Sequence[dict[str, Any]], page_size: int | None = None,
                 token: str | None = None) -> bytes:
    pagination: dict[str, Any] = {}
    if page_size is not None:
        pagination["pageSize"] = page_size
    if token is not None:
        pagination["pageToken"] = token
    body: dict[str, Any] = {"meta": {"pagination": pagination}} if pagination else {}
    body["data"] = list(items)
    return orjson.dumps(body)


def reply_problem(status: int, reply: Any, expect_data: bool) -> str | None:
    """What is wrong with an answer a recipe must get, or None."""
    if not isinstance(reply, dict):
        return f"HTTP {status}, not a JSON object"
    meta = reply.get("meta") or {}
    if status != 200 or meta.get("status") != 200:
        return f"HTTP {status}, meta.status {meta.get('status')}"
    if reply.get("fail"):
        return "fail entries"
    if expect_data and not reply.get("data"):
        return "empty data"
    return None


class Api:
    """Signed calls over one keep-alive connection: the walks that collect page tokens and the
    validation of every recipe."""

    def __init__(self, port: int, creds: Credentials) -> None:
        self.port, self.creds = port, creds
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.headers: dict[str, str] = {}  # the last answer's, by lower-case name

    def post(self, path: str, body: bytes) -> tuple[int, Any]:
        date = formatdate(time.time(), usegmt=True).replace("GMT", "UTC")
        headers = sign(self.creds, path, date, str(uuid.uuid4())).as_dict(self.creds.app_id)
        for attempt in range(2):
            try:
                self.conn.request("POST", path, body=body, headers=headers)
                response = self.conn.getresponse()
                raw = response.read()
                self.headers = {k.lower(): v for k, v in response.getheaders()}
                break
            except (http.client.HTTPException, ConnectionError):
                # The server closed an idle keep-alive connection: open another, once.
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
                if attempt:
                    raise
        try:
            return response.status, orjson.loads(raw)
        except orjson.JSONDecodeError:
            return response.status, raw.decode(errors="replace")  # reply_problem says so

    def check(self, path: str, body: bytes, expect_data: bool = True) -> dict[str, Any]:
        status, reply = self.post(path, body)
        problem = reply_problem(status, reply, expect_data)
        if problem is not None:
            raise Invalid(f"{path}: {problem} for the request {body[:300]!r}: "
                          f"{json.dumps(reply)[:500]}")
        result: dict[str, Any] = reply
        return result

    def check_file(self, path: str, body: bytes) -> None:
        """A file endpoint's call must answer a file (a JSON one too): a failure is the
        envelope."""
        status, reply = self.post(path, body)
        if status != 200 or not reply or (isinstance(reply, dict) and "fail" in reply):
            raise Invalid(f"{path}: HTTP {status}, no file for {body[:300]!r}")

    def walk(self, path: str, item: dict[str, Any] | None, pages: int,
             page_size: int | None) -> list[bytes]:
        """The bodies of the first `pages` pages of a list, as a client asks for them: each
        with the `next` token the answer before gave. Every page is checked on the way."""
        bodies: list[bytes] = []
        token: str | None = None
        for _ in range(pages):
            body = request_body([item] if item is not None else [], page_size, token)
            reply = self.check(path, body)
            bodies.append(body)
            pagination = reply["meta"].get("pagination")
            if not isinstance(pagination, dict):
                raise Invalid(f"{path}: a list endpoint answered no meta.pagination")
            token = pagination.get("next")
            if not token:
                break
        return bodies

    def close(self) -> None:
        self.conn.close()


# --- read recipes ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Rotation:
    """The request bodies one endpoint is measured with, rotated in order."""

    bodies: list[bytes]
    note: str
    walked: bool = False  # every body was already called (and checked) during a walk


@dataclass(frozen=True)
class Plan:
    """How the read recipes walk their lists."""

    pages: int  # how many pages of each walk
    page_size: int | None  # None: the server's default


# (api, path, seeded, plan) → the rotation, checked or ready to check.
ReadRecipe = Callable[[Api, str, Seeded, Plan], Rotation]


def spread(values: Sequence[Any], count: int, salt: int = 0) -> list[Any]:
    """`count` of the values (all, when fewer), picked at random but the same every run."""
    if len(values) <= count:
        return list(values)
    return random.Random(salt).sample(list(values), count)


def same_request(note: str) -> ReadRecipe:
    def build(_api: Api, _path: str, _seeded: Seeded, _plan: Plan) -> Rotation:
        return Rotation([EMPTY], note)
    return build


def per_user(_api: Api, _path: str, seeded: Seeded, _plan: Plan) -> Rotation:
    users = spread(seeded.emails, 1_000, salt=7)
    return Rotation([request_body([{"emailAddress": email}]) for email in users],
                    f"{len(users):,} users")


def whole_or_by(key: str, values: Callable[[Seeded], Sequence[str]], what: str) -> ReadRecipe:
    """The whole list (`data: []`) and the list narrowed to each value, in turn."""
    def build(_api: Api, _path: str, seeded: Seeded, _plan: Plan) -> Rotation:
        chosen = list(values(seeded))
        return Rotation([EMPTY, *(request_body([{key: value}]) for value in chosen)],
                        f"all, and each of {len(chosen)} {what}")
    return build


def policy_ids(family: str) -> Callable[[Seeded], list[str]]:
    return lambda seeded: [ids.secure_id(family, number) for number in seeded.policies[family]]


def one_per_domain(_api: Api, _path: str, seeded: Seeded, _plan: Plan) -> Rotation:
    names = [*seeded.domains, *seeded.pending_domains]
    return Rotation([request_body([{"domain": name}]) for name in names],
                    f"{len(names)} domains, one per request")


def definitions(_api: Api, _path: str, seeded: Seeded, _plan: Plan) -> Rotation:
    sets = seeded.policies[address_alteration.SET]
    return Rotation([request_body([{"addressAlterationSetId": ids.secure_id(
        address_alteration.SET, number)}]) for number in sets], f"{len(sets)} sets")


def decode_links(_api: Api, _path: str, seeded: Seeded, _plan: Plan) -> Rotation:
    links = spread(seeded.links, 1_000, salt=3)
    return Rotation([request_body([{"url": link}]) for link in links],
                    f"{len(links):,} issued links, one per request")


def walks(items: Callable[[Seeded], Sequence[dict[str, Any] | None]], what: str,
          max_pages: int | None = None) -> ReadRecipe:
    """Walks of a list endpoint, one per filter `items` gives (None: no filter)."""
    def build(api: Api, path: str, seeded: Seeded, plan: Plan) -> Rotation:
        bodies: list[bytes] = []
        pages = min(plan.pages, max_pages or plan.pages)
        for item in items(seeded):
            bodies += api.walk(path, item, pages, plan.page_size)
        return Rotation(bodies, f"walks of up to {pages} pages: {what} "
                                f"({len(bodies):,} pages)", walked=True)
    return build


def audit_windows(_seeded: Seeded) -> list[dict[str, Any]]:
    """What collectors poll: the last hour or day, sometimes narrowed by categories or a query,
    and now and then a week for a report."""
    from mimicast.wire.dates import format_date

    now = datetime.now(UTC)

    def window(hours: int, **extra: Any) -> dict[str, Any]:
        return {"startDateTime": format_date(now - timedelta(hours=hours)),
                "endDateTime": format_date(now), **extra}

    return [window(1), window(24), window(24, categories=[audit.AUTHENTICATION]),
            window(24, query="updated"), window(1, categories=[audit.USERS, audit.DIRECTORY]),
            window(168, categories=[audit.POLICY, audit.URL_PROTECT])]


def group_filters(seeded: Seeded) -> list[dict[str, Any] | None]:
    return [None, {"query": "sales"}, {"query": "london"}, {"query": "team"},
            *([{"source": "ldap"}] if seeded.ldap_groups else [])]


def member_walks(api: Api, path: str, seeded: Seeded, plan: Plan) -> Rotation:
    """Many groups' members: 300 groups with members (every large one among them), each walked
    as a client resolving the group would, up to 10 pages."""
    with_members = [g for g in seeded.groups if g.members]
    large = [g for g in with_members if g.members > 100]
    others = spread([g for g in with_members if g.members <= 100], 300 - len(large), salt=5)
    bodies: list[bytes] = []
    for group in [*large, *others]:
        bodies += api.walk(path, {"id": directory.secure_id(group.id)}, min(plan.pages, 10),
                           plan.page_size)
    return Rotation(bodies, f"{len(large) + len(others)} groups ({len(large)} large), walks of "
                            f"up to 10 pages ({len(bodies):,} pages)", walked=True)


def user_filters(seeded: Seeded) -> list[dict[str, Any] | None]:
    return [None, *({"domain": name} for name in seeded.domains)]


def sender_filters(seeded: Seeded) -> list[dict[str, Any] | None]:
    return [None, {"action": "block"},
            *({"to": to} for to in spread(seeded.sender_recipients, 20, salt=11))]


def url_filters(seeded: Seeded) -> list[dict[str, Any] | None]:
    return [None, {"domainOrUrl": "login"}, {"domainOrUrl": "invoice"},
            *({"domainOrUrl": host, "exactMatch": True}
              for host in spread(seeded.domain_urls, 20, salt=13))]


def mail_of(seeded: Seeded) -> Mail:
    assert seeded.mail is not None, "the seed simulates mail"
    return seeded.mail


def per_copy(_api: Api, _path: str, seeded: Seeded, _plan: Plan) -> Rotation:
    copies = mail_of(seeded).copies
    return Rotation([request_body([{"id": views.secure_id(n)}]) for n in copies],
                    f"{len(copies):,} messages (recipient copies), one per request")


def files(_api: Api, _path: str, seeded: Seeded, _plan: Plan) -> Rotation:
    """Whole messages (.eml) and attachments, alternately."""
    mail = mail_of(seeded)
    bodies = [request_body([{"id": value}]) for pair in zip(
        (views.secure_id(n) for n in mail.with_files),
        (ids.secure_id(render.ATTACHMENT_ID_KIND, n) for n in mail.attachments),
        strict=False) for value in pair]
    return Rotation(bodies, f"{len(bodies):,} files: messages with attachments, and "
                            "attachments")


def mail_window(hours: int) -> dict[str, str]:
    from mimicast.wire.dates import format_date

    now = datetime.now(UTC)
    return {"start": format_date(now - timedelta(hours=hours)), "end": format_date(now)}


def hold_filters(_seeded: Seeded) -> list[dict[str, Any] | None]:
    return [{"admin": True}, {"admin": True, "searchBy": {"fieldName": "subject",
                                                          "value": "invoice"}},
            {"admin": True, "filterBy": [{"fieldName": "heldGroup", "value": "user"}]},
            {"admin": True, **mail_window(24)}]


def queue_windows(_api: Api, _path: str, _seeded: Seeded, _plan: Plan) -> Rotation:
    return Rotation([request_body([mail_window(hours)]) for hours in (1, 6, 24)],
                    "the last hour, 6 hours and day")


def ttp_windows(result: str) -> Callable[[Seeded], list[dict[str, Any] | None]]:
    """What TTP log collectors poll: today (the default), the last hour and day, a week's
    malicious entries (`result`: the endpoint's name for that filter), and a day of inbound
    mail oldest first."""
    def items(_seeded: Seeded) -> list[dict[str, Any] | None]:
        from mimicast.wire.dates import format_date

        now = datetime.now(UTC)

        def since(hours: int, **extra: Any) -> dict[str, Any]:
            return {"from": format_date(now - timedelta(hours=hours)), **extra}

        return [None, since(1), since(24), since(168, **{result: "malicious"}),
                since(24, route="inbound", oldestFirst=True)]
    return items


def detection_windows(_seeded: Seeded) -> list[dict[str, Any] | None]:
    """What impersonation log collectors poll: today, the last day, a week of held entries,
    and a day's search by subject."""
    from mimicast.wire.dates import format_date

    now = datetime.now(UTC)
    day, week = (format_date(now - timedelta(hours=h)) for h in (24, 168))
    return [None, {"from": day}, {"from": week, "taggedMalicious": True},
            {"from": day, "searchField": "subject", "query": "urgent"}]


SIEM_FILES = 200  # files of the SIEM stream measured, as a collector takes them in turn


def siem_files(api: Api, path: str, _seeded: Seeded, _plan: Plan) -> Rotation:
    """The SIEM stream from its start, each file's request with the token the one before
    gave (json, zipped), as a collector drains it."""
    bodies: list[bytes] = []
    token: str | None = None
    for _ in range(SIEM_FILES):
        item: dict[str, Any] = {"type": "MTA", "fileFormat": "json", "compress": True}
        if token:
            item["token"] = token
        body = request_body([item])
        status, reply = api.post(path, body)
        if isinstance(reply, dict) and reply.get("meta", {}).get("isLastToken"):
            break
        if status != 200 or not isinstance(reply, str) or "mc-siem-token" not in api.headers:
            raise Invalid(f"{path}: HTTP {status}, no file for {body[:300]!r}")
        bodies.append(body)
        token = api.headers["mc-siem-token"]
    return Rotation(bodies, f"the first {len(bodies)} files of the stream, json zipped, each "
                            "with the token before it", walked=True)


ACCESSES = 50  # searches and views of content made before the archive's logs are walked


def audited_access(api: Api, path: str, seeded: Seeded, plan: Plan) -> Rotation:
    """Mail searched and viewed through the API first (each search and each view of content
    is an audit event these logs show), then walks of today's log, the week's, and the
    week's narrowed to the demo domain's administrators."""
    mail = mail_of(seeded)
    for k in range(ACCESSES):
        api.check("/api/message-finder/search", request_body([{
            "advancedTrackAndTraceOptions": {"from": mail.senders[k % len(mail.senders)]},
            "searchReason": f"Case {k}"}]))
        api.check("/api/gateway/message/get-message-detail", request_body([
            {"id": views.secure_id(mail.copies[k % len(mail.copies)])}]))
    week = mail_window(24 * 7)
    bodies: list[bytes] = []
    for item in (None, week, {**week, "query": DEMO_DOMAIN}):
        bodies += api.walk(path, item, plan.pages, plan.page_size)
    return Rotation(bodies, f"{ACCESSES} searches and views made first; walks of today, the "
                            f"week and the week by searcher ({len(bodies):,} pages)",
                    walked=True)


READS: dict[str, ReadRecipe] = {
    "/api/account/get-account": same_request("one body; distinct signatures"),
    "/api/account/get-support-info": same_request("one body; distinct signatures"),
    "/api/audit/get-audit-events": walks(audit_windows, "6 windows (1 h, 24 h, 7 days; "
                                                        "categories, query)"),
    "/api/audit/get-categories": same_request("one body; distinct signatures"),
    "/api/directory/find-groups": walks(group_filters, "all, 3 queries, ldap"),
    "/api/directory/get-group-members": member_walks,
    "/api/directory/get-connection": same_request("one body; distinct signatures"),
    "/api/domain/get-pending-domain": whole_or_by(
        "domain", lambda s: s.pending_domains, "pending domains"),
    "/api/domain/get-verification-code": one_per_domain,
    "/api/domain/get-provision-status": one_per_domain,
    "/api/domain/get-internal-domain": whole_or_by("domain", lambda s: s.domains,
                                                   "internal domains"),
    "/api/managedsender/get-managed-senders": walks(sender_filters,
                                                    "all, blocked, 20 recipients"),
    "/api/policy/blockedsenders/get-policy": whole_or_by(
        "id", policy_ids(policies.BLOCKED_SENDERS.name), "policies"),
    "/api/policy/address-alteration/get-address-alteration-set": whole_or_by(
        "id", policy_ids(address_alteration.SET), "sets"),
    "/api/policy/address-alteration/get-definition": definitions,
    "/api/policy/address-alteration/get-policy": whole_or_by(
        "id", policy_ids(address_alteration.POLICY), "policies"),
    "/api/policy/antispoofing-bypass/get-policy": whole_or_by(
        "id", policy_ids(policies.ANTISPOOFING_BYPASS.name), "policies"),
    "/api/policy/webwhiteurl/get-policy-with-targets": whole_or_by(
        "id", policy_ids(web_security.FAMILY), "policies"),
    "/api/ttp/url/get-all-managed-urls": walks(url_filters,
                                               "all, 2 substrings, 20 exact domains"),
    "/api/ttp/url/decode-url": decode_links,
    "/api/user/get-internal-users": walks(user_filters, "the account, and each domain"),
    "/api/user/get-profile": per_user,
    "/api/user/get-attributes": per_user,
    "/api/user/get-aliases": per_user,
    "/api/user/find-delegate-users": per_user,
    "/api/email/get-email-queues": queue_windows,
    "/api/gateway/get-hold-message-list": walks(hold_filters, "all held, a subject search, "
                                                              "the user group, the last day"),
    "/api/gateway/find-held-messages": walks(lambda _s: [{"admin": True}], "all held"),
    "/api/gateway/get-hold-summary-list": same_request("one body; distinct signatures"),
    "/api/gateway/get-held-release-logs": walks(lambda _s: [None], "the last 30 days"),
    "/api/gateway/get-rejections": walks(lambda _s: [{"admin": True}], "all rejected"),
    "/api/gateway/find-processing-messages": same_request("one body: the queue (empty)"),
    "/api/gateway/message/get-file": files,
    "/api/gateway/message/get-message-detail": per_copy,
    "/api/message-finder/get-message-info": per_copy,
    "/api/ttp/url/get-logs": walks(ttp_windows("scanResult"), "today, the last hour and "
                                   "day, a week's malicious, a day inbound oldest first"),
    "/api/ttp/attachment/get-logs": walks(ttp_windows("result"), "today, the last hour "
                                          "and day, a week's malicious, a day inbound oldest "
                                          "first"),
    "/api/archive/get-search-logs": audited_access,
    "/api/archive/get-archive-search-logs": audited_access,
    "/api/archive/get-view-logs": audited_access,
    "/api/journaling/get-service": same_request("one body; distinct signatures"),
    "/api/ttp/impersonation/get-logs": walks(detection_windows, "today, the last day, a "
                                             "week held, a day by subject"),
    "/api/dlp/get-logs": walks(lambda _s: [None, *detection_windows(_s)[1:2]],
                               "today, the last day"),
    "/api/audit/get-siem-logs": siem_files,
}
UNMEASURED_READS = {
    UNSIGNED_READ: "unsigned: an anonymous caller's quota is 600 calls a minute per address "
                   "(pipeline.UNAUTHENTICATED_LIMIT), so wrk would measure the 429s",
}


# --- write recipes --------------------------------------------------------------------------

@dataclass(frozen=True)
class Stock:
    """Rows a deletion consumes: made in bulk just before they are asked for, and the ones
    left unused removed afterwards, so every measured delete deletes a real row."""

    model: type[Base]
    row: Callable[[int], dict[str, Any]]  # the k-th row
    item: Callable[[tuple[Any, ...], dict[str, Any]], dict[str, Any]]  # (key, row) → request


@dataclass
class Write:
    """A write endpoint's supply of one-off requests: the k-th item never repeats (new names,
    fresh values, its own row to delete), so each request really changes the store and
    records exactly one audit event."""

    path: str
    note: str
    item: Callable[[int], dict[str, Any]] | None = None
    stock: Stock | None = None
    expect_data: bool = True
    used: int = 0
    stocked: list[tuple[Any, ...]] = field(default_factory=list)

    def take(self, db: Database, count: int) -> list[bytes]:
        numbers = range(self.used, self.used + count)
        self.used += count
        if self.stock is None:
            assert self.item is not None
            return [request_body([self.item(k)]) for k in numbers]
        rows = [self.stock.row(k) for k in numbers]
        keys = db.insert(self.stock.model, rows)
        self.stocked += keys
        return [request_body([self.stock.item(key, row)]) for key, row in zip(keys, rows,
                                                                              strict=True)]

    def clean(self, db: Database) -> None:
        if self.stock is not None and self.stocked:
            db.delete(self.stock.model, self.stocked)
            self.stocked = []


def _policy_row(seeded: Seeded, family: str, body: dict[str, Any],
                parent: int | None = None) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {"account_id": seeded.account_id, "family": family, "parent_id": parent,
            "body": body, "created_at": now, "updated_at": now}


def _by_id(kind: str) -> Callable[[tuple[Any, ...], dict[str, Any]], dict[str, Any]]:
    return lambda key, _row: {"id": ids.secure_id(kind, key[0])}


def _delegate_pair(seeded: Seeded, k: int, first_offset: int, last_offset: int
                   ) -> tuple[int, int]:
    """The k-th (user, delegate) index pair whose distance lies in [first_offset,
    last_offset): the add and remove recipes use disjoint ranges, beyond the seeded ones."""
    count = len(seeded.emails)
    offset = first_offset + k // count
    if offset >= last_offset:
        raise Invalid("the delegate supply ran out: seed more users (--scale)")
    return k % count, (k % count + offset) % count


def user_writes(seeded: Seeded) -> list[Write]:
    emails, user_ids = seeded.emails, seeded.user_ids
    count, reach = len(emails), seeded.delegate_reach

    def user(k: int) -> str:
        return emails[k % count]

    def delegate_item(k: int) -> dict[str, Any]:
        i, j = _delegate_pair(seeded, k, count // 2, count - reach)
        return {"emailAddress": emails[i], "delegateAddress": emails[j]}

    def delegate_row(k: int) -> dict[str, Any]:
        i, j = _delegate_pair(seeded, k, reach + 1, count // 2)
        return {"user_id": user_ids[i], "delegate_id": user_ids[j],
                "created_at": datetime.now(UTC)}

    by_user_id = dict(zip(user_ids, emails, strict=True))
    return [
        Write("/api/user/create-user", "new users, no password (a password would be hashed)",
              lambda k: {"emailAddress": f"new.starter{k}@{seeded.domains[k % 3]}",
                         "name": f"New Starter {k}"}),
        Write("/api/user/update-user", "a new display name, across users (no password)",
              lambda k: {"emailAddress": user(k), "name": f"Renamed User {k}"}),
        Write("/api/user/update-attributes", "a new title, across users",
              lambda k: {"emailAddress": user(k),
                         "attributes": [{"name": "title", "value": f"Title {k}"}]}),
        Write("/api/user/update-alias", "a new alias, across users",
              lambda k: {"emailAddress": user(k),
                         "aliasAddress": f"alias.{k}@{user(k).rpartition('@')[2]}"}),
        Write("/api/user/remove-alias", "one stocked alias per request", stock=Stock(
            UserAlias,
            lambda k: {"account_id": seeded.account_id, "user_id": user_ids[k % count],
                       "address": f"old.alias{k}@{emails[k % count].rpartition('@')[2]}",
                       "created_at": datetime.now(UTC)},
            lambda _key, row: {"aliasAddress": row["address"]})),
        Write("/api/user/add-delegate-user", "a new (user, delegate) pair", delegate_item),
        Write("/api/user/remove-delegate-user", "one stocked delegate per request", stock=Stock(
            UserDelegate, delegate_row,
            lambda _key, row: {"emailAddress": by_user_id[row["user_id"]],
                               "delegateAddress": by_user_id[row["delegate_id"]]})),
    ]


def directory_writes(seeded: Seeded) -> list[Write]:
    groups = seeded.groups

    def group(k: int) -> Group:
        return groups[k % len(groups)]

    return [
        Write("/api/directory/add-group-member", "a new partner address, across groups",
              lambda k: {"id": directory.secure_id(group(k).id),
                         "emailAddress": f"guest{k}@{VENDORS[k % len(VENDORS)]}"}),
        Write("/api/directory/remove-group-member", "one stocked member per request",
              stock=Stock(GroupMember,
                          lambda k: {"group_id": group(k).id,
                                     "address": f"leaver{k}@{VENDORS[k % len(VENDORS)]}",
                                     "kind": "email", "notes": ""},
                          lambda _key, row: {"id": directory.secure_id(row["group_id"]),
                                             "emailAddress": row["address"]})),
        Write("/api/directory/create-group", "a new folder, across parent folders",
              lambda k: {"description": f"Initiative {k}",
                         "parentId": directory.secure_id(group(k).id)}),
        Write("/api/directory/update-group", "a new name, across groups",
              lambda k: {"id": directory.secure_id(group(k).id),
                         "description": f"{group(k).name} (r{k})"}),
        Write("/api/directory/delete-group", "one stocked empty folder per request",
              stock=Stock(ProfileGroup,
                          lambda k: {"account_id": seeded.account_id,
                                     "parent_id": group(k).id, "name": f"Retired {k}",
                                     "source": "cloud", "connection_id": None,
                                     "created_at": datetime.now(UTC)},
                          _by_id(directory.ID_KIND))),
    ]


def domain_writes(seeded: Seeded) -> list[Write]:
    def pending(k: int) -> dict[str, Any]:
        now = datetime.now(UTC)
        return {"account_id": seeded.account_id, "name": f"stale-{k}.acme-old.test",
                "status": domains.PENDING, "inbound_type": "any", "token": domains.new_token(),
                "send_only": False, "local": False, "created_at": now, "verified_at": None,
                "expires_at": now + timedelta(days=domains.VERIFICATION_DAYS)}

    return [
        Write("/api/domain/create-domain", "a new domain",
              lambda k: {"domain": f"brand-{k}.acme-new.test", "inboundType": "any"}),
        Write("/api/domain/delete-pending-domain", "one stocked pending domain per request",
              stock=Stock(Domain, pending, lambda _key, row: {"domain": row["name"]})),
    ]


def sender_and_url_writes(seeded: Seeded) -> list[Write]:
    recipients = seeded.emails

    def sender(k: int) -> dict[str, Any]:
        return {"account_id": seeded.account_id, "sender": f"old{k}@{VENDORS[k % 8]}",
                "recipient": recipients[k % len(recipients)], "action": "block",
                "created_at": datetime.now(UTC)}

    def url(k: int) -> dict[str, Any]:
        parts = managed_urls.parse_url(f"https://expired-{k}.example/landing")
        return {"account_id": seeded.account_id, "url": parts.key(managed_urls.EXPLICIT),
                "scheme": parts.scheme, "domain": parts.host, "port": parts.port,
                "path": parts.path, "query_string": parts.query,
                "match_type": managed_urls.EXPLICIT, "action": "block", "comment": "",
                "disable_rewrite": False, "disable_user_awareness": False,
                "disable_log_click": False, "created_at": datetime.now(UTC)}

    return [
        Write("/api/managedsender/permit-or-block-sender", "a new (sender, recipient) pair",
              lambda k: {"sender": f"campaign{k}@{VENDORS[k % 8]}",
                         "to": recipients[k % len(recipients)],
                         "action": ("block", "permit")[k % 2]}),
        Write("/api/managedsender/delete-managed-sender", "one stocked sender per request",
              stock=Stock(ManagedSender, sender,
                          lambda key, _row: {"id": managed_senders.secure_id(key[0])})),
        Write("/api/ttp/url/create-managed-url", "a new URL, block or permit",
              lambda k: {"url": f"https://{URL_WORDS[k % 12]}-new-{k}.example/p?id={k}",
                         "action": ("block", "permit")[k % 2], "matchType": "explicit"}),
        Write("/api/ttp/url/delete-managed-url", "one stocked URL per request",
              stock=Stock(ManagedUrl, url, _by_id(managed_urls.ID_KIND)), expect_data=False),
    ]


def policy_writes(seeded: Seeded) -> list[Write]:
    everyone = {"type": "everyone"}
    sets = seeded.policies[address_alteration.SET]
    bypasses = seeded.policies[policies.ANTISPOOFING_BYPASS.name]
    alterations = seeded.policies[address_alteration.POLICY]
    web = seeded.policies[web_security.FAMILY]
    blocked = policies.BLOCKED_SENDERS.name
    bypass = policies.ANTISPOOFING_BYPASS.name

    def set_id(k: int) -> str:
        return ids.secure_id(address_alteration.SET, sets[k % len(sets)])

    def web_settings(k: int) -> dict[str, Any]:
        return {"description": f"Old list {k}", "fromDate": web_security.FROM_DATE_DEFAULT,
                "toDate": web_security.TO_DATE_DEFAULT, "fromEternal": True,
                "toEternal": True, "enabled": True, "from": everyone}

    def targets(k: int) -> list[dict[str, Any]]:
        return [{"action": "block", "type": "domain", "value": f"tracker-{k}.example"},
                {"action": "allow", "type": "url", "value": f"https://vendor-{k}.example/"}]

    def stocked(family: str, body: Callable[[int], dict[str, Any]],
                parent: Callable[[int], int | None] = lambda _k: None) -> Stock:
        return Stock(Policy, lambda k: _policy_row(seeded, family, body(k), parent(k)),
                     _by_id(family))

    return [
        Write("/api/policy/blockedsenders/create-policy", "a new policy per request",
              lambda k: {"option": "block_sender", "policy": {
                  "description": f"Block campaign {k}",
                  "from": {"type": "email_domain", "emailDomain": f"campaign-{k}.example"},
                  "to": everyone}}),
        Write("/api/policy/blockedsenders/delete-policy", "one stocked policy per request",
              stock=stocked(blocked, lambda k: {"option": "block_sender", **policy_body(
                  f"Old block {k}", {"type": "email_domain",
                                     "emailDomain": f"old-{k}.example"}, everyone)})),
        Write("/api/policy/address-alteration/create-address-alteration-set",
              "a new set per request", lambda k: {"description": f"Rewrite set {k}"}),
        Write("/api/policy/address-alteration/delete-address-alteration-set",
              "one stocked (unused) set per request",
              stock=stocked(address_alteration.SET,
                            lambda k: {"description": f"Unused set {k}"})),
        Write("/api/policy/address-alteration/create-definition",
              "a new definition, across the seeded sets",
              lambda k: {"addressAlterationSetId": set_id(k),
                         "originalAddress": f"former{k}@legacy-acme.test",
                         "alteredAddress": f"current{k}@{DEMO_DOMAIN}"}),
        Write("/api/policy/address-alteration/delete-definition",
              "one stocked definition per request",
              stock=stocked(address_alteration.DEFINITION,
                            lambda k: {"originalAddress": f"gone{k}@legacy-acme.test",
                                       "alteredAddress": f"here{k}@{DEMO_DOMAIN}",
                                       "routing": "all"},
                            lambda k: sets[k % len(sets)])),
        Write("/api/policy/address-alteration/create-policy",
              "a new policy, across the seeded sets",
              lambda k: {"addressAlterationSetId": set_id(k), "policy": {
                  "description": f"Alter {k}", "from": everyone,
                  "to": {"type": "internal_addresses"}}}),
        Write("/api/policy/address-alteration/update-policy",
              "a new description, across the seeded policies",
              lambda k: {"id": ids.secure_id(address_alteration.POLICY,
                                             alterations[k % len(alterations)]),
                         "policy": {"description": f"Apply set (r{k})"}}),
        Write("/api/policy/address-alteration/delete-policy", "one stocked policy per request",
              stock=stocked(address_alteration.POLICY,
                            lambda k: policy_body(f"Old alteration {k}", everyone, everyone),
                            lambda k: sets[k % len(sets)])),
        Write("/api/policy/antispoofing-bypass/create-policy", "a new policy per request",
              lambda k: {"option": "enable_bypass", "policy": {
                  "description": f"Bypass partner {k}",
                  "from": {"type": "email_domain", "emailDomain": f"partner-{k}.example"},
                  "conditions": {"sourceIPs": [f"203.0.113.{k % 256}"]}}}),
        Write("/api/policy/antispoofing-bypass/update-policy",
              "a new comment and option, across the seeded policies",
              lambda k: {"id": ids.secure_id(bypass, bypasses[k % len(bypasses)]),
                         "option": ("disable_bypass", "enable_bypass")[k % 2],
                         "policy": {"comment": f"Reviewed {k}"}}),
        Write("/api/policy/antispoofing-bypass/delete-policy", "one stocked policy per request",
              stock=stocked(bypass, lambda k: {"option": "enable_bypass", **policy_body(
                  f"Old bypass {k}", everyone, everyone)})),
        Write("/api/policy/webwhiteurl/create-policy-with-targets",
              "a new policy with 2 targets per request",
              lambda k: {"policy": {"description": f"Campaign list {k}", "from": everyone},
                         "targets": targets(k)}),
        Write("/api/policy/webwhiteurl/update-policy-with-targets",
              "new targets, across the seeded policies",
              lambda k: {"id": web_security.secure_id(web[k % len(web)]),
                         "targets": targets(k)}),
        Write("/api/policy/webwhiteurl/delete-policy-with-targets",
              "one stocked policy per request",
              stock=stocked(web_security.FAMILY,
                            lambda k: {"policy": web_settings(k), "targets": targets(k)})),
    ]


def mail_writes(seeded: Seeded) -> list[Write]:
    mail = mail_of(seeded)

    def held(k: int) -> dict[str, Any]:
        """A held copy of the newest message, for one release or rejection."""
        now = datetime.now(UTC)
        return {"message_id": mail.message, "account_id": seeded.account_id,
                "address": f"held{k}@{DEMO_DOMAIN}", "original": f"held{k}@{DEMO_DOMAIN}",
                "status": "held", "reason": "Relaxed Spam Detection",
                "reason_code": "spam_relaxed", "policy": "Default Spam Scanning Definition",
                "received_at": now, "updated_at": now}

    def search(k: int) -> dict[str, Any]:
        options = ({"from": mail.senders[k % len(mail.senders)]} if k % 2 else
                   {"to": mail.recipients[k % len(mail.recipients)]})
        return {"advancedTrackAndTraceOptions": options, **mail_window(24 * 7)}

    return [
        Write("/api/email/send-email", "a new message to a customer",
              lambda k: {"to": [{"emailAddress": f"buyer{k}@customer.example.com"}],
                         "subject": f"Order {k}", "plainBody": {"content": f"Order {k} ships "
                                                                           "today."}}),
        Write("/api/file/file-upload", "a new file announced (its URL not used)",
              lambda k: {"sha256": hashlib.sha256(b"%d" % k).hexdigest(), "fileSize": 40_000,
                         "filename": f"invoice-{k}.pdf"}),
        Write("/api/message-finder/search", "by sender or recipient over a week (audited)",
              search),
        Write("/api/gateway/hold-release", "one stocked held copy per request",
              stock=Stock(MessageRecipient, held,
                          lambda key, _row: {"id": views.secure_id(key[0])})),
        Write("/api/gateway/hold-reject", "one stocked held copy per request",
              stock=Stock(MessageRecipient, held,
                          lambda key, _row: {"ids": [views.secure_id(key[0])]})),
        Write("/api/ttp/threat-intel/get-feed",
              "the last week's feed, the account's or the grid, CSV or STIX (each download "
              "audited)",
              lambda k: {"feedType": ("malware_customer", "malware_grid")[k % 2],
                         "fileType": ("csv", "stix")[k // 2 % 2]}),
    ]


def write_recipes(seeded: Seeded) -> dict[str, Write]:
    writes = [*user_writes(seeded), *directory_writes(seeded), *domain_writes(seeded),
              *sender_and_url_writes(seeded), *policy_writes(seeded), *mail_writes(seeded)]
    return {write.path: write for write in writes}


SKIPPED_WRITES = {
    "/api/login/login": "verifies a password hash (argon2), unsigned",
    "/api/login/logout": "ends a binding: a supply of bindings needs a login (a password "
                         "hash) each, and ending the calling one ends the benchmark's keys",
    "/api/directory/execute-sync": "reads and applies a whole directory export: a batch job",
    "/api/domain/verify-domain": "looks up DNS TXT records",
}


def check_coverage(reads: dict[str, Any], writes: dict[str, Any]) -> None:
    """Every catalog endpoint is measured or skipped with a reason: a new endpoint without a
    recipe fails the run rather than going unmeasured."""
    problems = []
    for path, endpoint in ENDPOINTS.items():
        if endpoint.read_only and path not in reads and path not in UNMEASURED_READS:
            problems.append(f"read endpoint {path} has no request recipe in READS")
        if not endpoint.read_only and path not in writes and path not in SKIPPED_WRITES:
            problems.append(f"write endpoint {path} has neither a recipe nor a skip reason")
    for kind, paths in (("read", [*reads, *UNMEASURED_READS]),
                        ("write", [*writes, *SKIPPED_WRITES])):
        for path in paths:
            if path not in ENDPOINTS:
                problems.append(f"{path} has a recipe but is not in the catalog")
            elif ENDPOINTS[path].read_only != (kind == "read"):
                problems.append(f"{path} is listed as a {kind}, but the catalog's read_only "
                                f"says otherwise")
    if problems:
        raise Invalid("; ".join(problems))


# --- wrk ------------------------------------------------------------------------------------

WRK_SCRIPT = r"""
-- Requests, one per line of the file args[1]: path, date, request id, authorization and body,
-- tab-separated (the signature covers date, request id, path and app key, not the body). All
-- are formatted in init(), so request() costs one table lookup.
local requests, count, index = {}, 0, 0
local threads = {}
-- Globals, so done() can read each thread's with thread:get().
wraps, failed, statuses = 0, 0, {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  local app_id, start = args[2], tonumber(args[3])
  for line in io.lines(args[1]) do
    local path, date, request_id, auth, body =
      line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)$")
    local headers = {["x-mc-app-id"] = app_id, ["x-mc-date"] = date,
                     ["x-mc-req-id"] = request_id, ["Authorization"] = auth,
                     ["Content-Type"] = "application/json", ["Accept"] = "application/json"}
    count = count + 1
    requests[count] = wrk.format("POST", path, headers, body)
  end
  -- start < 0: a random place in the rotation (reads); otherwise that line, so a supply of
  -- one-off writes is used in order, each once (wraps counts the times it ran out).
  if start < 0 then index = math.random(count) - 1 else index = start end
end

function request()
  index = index + 1
  if index > count then
    index, wraps = 1, wraps + 1
  end
  return requests[index]
end
%RESPONSE%
function done(summary, latency, _requests)
  local wrapped, bad, tally = 0, 0, {}
  for _, thread in ipairs(threads) do
    wrapped = wrapped + thread:get("wraps")
    bad = bad + thread:get("failed")
    for status, n in pairs(thread:get("statuses")) do
      tally[status] = (tally[status] or 0) + n
    end
  end
  local parts = {}
  for status, n in pairs(tally) do
    parts[#parts + 1] = string.format('"%d":%d', status, n)
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"status":%d,"connect":%d,"read":%d,' ..
    '"write":%d,"timeout":%d,"p50_us":%d,"p99_us":%d,"wraps":%d,"failed":%d,' ..
    '"statuses":{%s}}\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99), wrapped, bad, table.concat(parts, ",")))
end
"""

# Tallies every answer: any status but 200, and 200s whose `fail` is not empty (a per-item
# failure). wrk then hands each body to Lua, which costs throughput: the soak uses it.
RESPONSE_TALLY = r"""
function response(status, _headers, body)
  if status ~= 200 then
    statuses[status] = (statuses[status] or 0) + 1
  elseif body:sub(-10) ~= '"fail":[]}' then
    failed = failed + 1
  end
end
"""


@dataclass(frozen=True)
class WrkRun:
    result: Result
    wraps: int  # times the request file ran out and started over
    failed: int  # 200s with fail entries (tallied only with the response callback)
    statuses: dict[int, int]  # non-200 statuses (likewise)


def signed_line(creds: Credentials, path: str, body: bytes, date: str) -> str:
    """A line of the request file: the request with its own request id, and so its own HMAC."""
    signed = sign(creds, path, date, str(uuid.uuid4()))
    return (f"{path}\t{signed.date}\t{signed.request_id}\t{signed.authorization}\t"
            f"{body.decode()}")


def recent_dates(count: int = 60) -> list[str]:
    """x-mc-date values of the last minute, as clients send them."""
    now = time.time()
    return [formatdate(now - n, usegmt=True).replace("GMT", "UTC") for n in range(count)]


def request_lines(creds: Credentials, path: str, bodies: Sequence[bytes],
                  minimum: int = 0) -> list[str]:
    """One line per request, each with its own signed header set, the bodies in order (and
    repeated up to `minimum` lines)."""
    dates = recent_dates()
    return [signed_line(creds, path, bodies[n % len(bodies)], dates[n % len(dates)])
            for n in range(max(len(bodies), minimum))]


class Wrk:
    def __init__(self, workdir: Path, creds: Credentials, connections: int,
                 tally: bool = False) -> None:
        self.workdir, self.creds, self.connections = workdir, creds, connections
        self.script = workdir / ("tally.lua" if tally else "rotate.lua")
        self.script.write_text(WRK_SCRIPT.replace("%RESPONSE%", RESPONSE_TALLY if tally else ""))
        self.files = 0

    def write(self, lines: Sequence[str]) -> Path:
        self.files += 1
        path = self.workdir / f"requests-{self.files}.tsv"
        path.write_text("\n".join(lines) + "\n")
        return path

    def run(self, port: int, requests: Path, seconds: float, start: int = -1) -> WrkRun:
        argv = pinned(LOAD_CPU) + [
            "wrk", "-t1", f"-c{self.connections}", f"-d{max(1, round(seconds))}s",
            "--timeout", "10s", "-s", str(self.script), f"http://127.0.0.1:{port}/",
            "--", str(requests), self.creds.app_id, str(start)]
        # wrk stops by itself after -d; the timeout only guards against a wedged run.
        done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 120)
        line = next((ln for ln in done.stdout.splitlines() if ln.startswith("BENCH_JSON ")),
                    None)
        if done.returncode != 0 or line is None:
            raise Invalid(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
        raw = json.loads(line.removeprefix("BENCH_JSON "))
        # wrk counts responses with status > 399 as status errors; the server never answers
        # 1xx or 3xx, so that is every non-2xx.
        result = Result(raw["requests"], raw["duration_us"] / 1e6, raw["p50_us"] / 1000,
                        raw["p99_us"] / 1000, raw["status"],
                        raw["connect"] + raw["read"] + raw["write"] + raw["timeout"])
        return WrkRun(result, raw["wraps"], raw["failed"],
                      {int(k): v for k, v in raw["statuses"].items()})


def ensure_wrk() -> None:
    """wrk from Debian's packages when it is missing."""
    if shutil.which("wrk"):
        return
    for argv in (["apt-get", "install", "-y", "wrk"], ["apt-get", "update"],
                 ["apt-get", "install", "-y", "wrk"]):
        if shutil.which("wrk"):
            return
        print(f"wrk not found: running {' '.join(argv)}", flush=True)
        done = subprocess.run(argv, capture_output=True, text=True)
        if done.returncode != 0:
            print(done.stderr.strip()[-1000:])
    if not shutil.which("wrk"):
        raise Invalid("wrk is not installed and apt-get could not install it "
                      "(run as root: apt-get install -y wrk)")


# --- measuring ------------------------------------------------------------------------------

@dataclass
class Figure:
    path: str
    kind: str  # "read" | "write"
    note: str
    result: Result | None = None
    problem: str | None = None

    def ratio(self, bare_rps: float) -> float | None:
        return self.result.rps / bare_rps if self.result and not self.problem else None


@dataclass
class Bench:
    """One run's servers, load generator and options."""

    mimicast: Server
    bare: Server
    wrk: Wrk
    db: Database
    seeded: Seeded
    warmup: float
    seconds: float
    bare_lines: Path
    bare_runs: list[Result] = field(default_factory=list)
    write_rps: float | None = None  # the last write's rate: sizes the next one's supply

    def probe(self, server: Server, requests: Path, seconds: float,
              start: int = -1) -> WrkRun:
        """A wrk run with the server's CPU use."""
        held: list[WrkRun] = []

        def go() -> Result:
            held.append(self.wrk.run(server.port, requests, seconds, start))
            return held[0].result

        result = CpuProbe(server.pid).around(go)
        return replace(held[0], result=result)

    def measure_bare(self) -> Result:
        if self.warmup > 0:
            self.wrk.run(self.bare.port, self.bare_lines, self.warmup)
        run = self.probe(self.bare, self.bare_lines, self.seconds)
        problem = transport_problem(run.result)
        if problem:
            raise Invalid(f"bare: {problem}")
        self.bare_runs.append(run.result)
        return run.result

    @property
    def bare_rps(self) -> float:
        return statistics.median(r.rps for r in self.bare_runs)

    def measure_read(self, figure: Figure, lines: Path) -> None:
        if self.warmup > 0:
            self.wrk.run(self.mimicast.port, lines, self.warmup)
        run = self.probe(self.mimicast, lines, self.seconds)
        figure.result, figure.problem = run.result, transport_problem(run.result)

    def measure_write(self, figure: Figure, write: Write, creds: Credentials) -> None:
        """Warm up on one supply, then measure on a second one sized from the warm-up's rate,
        each request used once; the audit trail must grow by at least one event per answered
        request (a write answered 200 with a `fail` entry records none).

        Supplies are kept small (sized from the last write's rate): a deletion's stock sits in
        its table while it is measured, and a much larger table than the seed's would make
        the figure about the stock rather than the endpoint."""
        warm_seconds = max(1, round(self.warmup))
        hint = self.write_rps or self.bare_rps * 0.3
        try:
            warm = self.wrk.write(request_lines(
                creds, write.path, write.take(self.db, round(hint * warm_seconds * 2) + 200)))
            warm_run = self.wrk.run(self.mimicast.port, warm, warm_seconds, start=0)
            time.sleep(1.0)  # the warm-up's last requests finish before the trail is counted
            write.clean(self.db)  # its unused stock goes: the measured run sees only its own
            # A one-second warm-up can run slower than the measured seconds that follow
            # (caches still filling): size the supply with room to spare.
            count = round(max(warm_run.result.rps, hint) * self.seconds * 2) + 200
            lines = self.wrk.write(request_lines(creds, write.path, write.take(self.db, count)))
            before = self.db.audit_count(self.seeded.account_id)
            run = self.probe(self.mimicast, lines, self.seconds, start=0)
            time.sleep(1.0)
            recorded = self.db.audit_count(self.seeded.account_id) - before
        finally:
            write.clean(self.db)
        self.write_rps = run.result.rps
        figure.result, figure.problem = run.result, transport_problem(run.result)
        if run.wraps:
            figure.problem = (f"the supply of {count:,} one-off requests ran out (the "
                              "warm-up's rate was too low an estimate): run it again")
        elif recorded < run.result.requests:
            figure.problem = (f"{run.result.requests - recorded:,} of {run.result.requests:,} "
                              f"answered writes recorded no audit event (failed silently)")


def transport_problem(result: Result) -> str | None:
    if result.bad_status or result.socket_errors or not result.requests:
        return (f"{result.bad_status:,} non-2xx responses, {result.socket_errors:,} socket "
                f"errors in {result.requests:,} requests")
    return None


def validate_rotation(api: Api, path: str, rotation: Rotation) -> None:
    """A spread sample of the bodies (all of a walk were checked as they were collected)."""
    if rotation.walked:
        return
    bodies = rotation.bodies
    step = max(1, len(bodies) // VALIDATION_SAMPLE)
    for body in {bodies[0], bodies[-1], *bodies[::step]}:
        if ENDPOINTS[path].download:  # the file itself, not the envelope
            api.check_file(path, body)
        else:
            api.check(path, body)


def validate_write(api: Api, db: Database, write: Write) -> None:
    """Three requests of the supply must each succeed: the recipe is one the server takes."""
    try:
        for body in write.take(db, 3):
            if ENDPOINTS[write.path].download:
                api.check_file(write.path, body)
            else:
                api.check(write.path, body, write.expect_data)
    finally:
        write.clean(db)


# --- output ---------------------------------------------------------------------------------

WIDTH = max(len(path) for path in ENDPOINTS)
HEADER = (f"{'endpoint':{WIDTH}} {'kind':5} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} "
          f"{'ratio':>6} {'us/req':>7}")


def row(figure: Figure, bare_rps: float) -> str:
    if figure.result is None:
        return f"{figure.path:{WIDTH}} {figure.kind:5} {'-':>8}  {figure.problem or 'not measured'}"
    result, ratio = figure.result, figure.ratio(bare_rps)
    line = (f"{figure.path:{WIDTH}} {figure.kind:5} {result.rps:8,.0f} {result.p50_ms:7.2f} "
            f"{result.p99_ms:7.2f} {ratio if ratio is not None else 0:6.2f} "
            f"{result.cpu_us_per_request:7.0f}")
    return line + (f"  INVALID: {figure.problem}" if figure.problem else "")


def verdict(value: float, target: float) -> str:
    return f"target >= {target:.2f}: {'met' if value >= target else 'NOT met'}"


def summary(figures: list[Figure], bare_rps: float) -> list[str]:
    lines = []
    for kind in ("read", "write"):
        ratios = [(f.ratio(bare_rps), f.path) for f in figures if f.kind == kind]
        valid = sorted((r, p) for r, p in ratios if r is not None)
        if not valid:
            continue
        worst, path = valid[0]
        target = READ_WORST_TARGET if kind == "read" else WRITE_TARGET
        lines.append(f"  {'worst ' + kind + ' ratio':18} {worst:5.2f}  {path:{WIDTH}} "
                     f"{verdict(worst, target)}")
        if kind == "read":
            median = statistics.median(r for r, _ in valid)
            lines.append(f"  {'median read ratio':18} {median:5.2f}  {'':{WIDTH}} "
                         f"{verdict(median, READ_MEDIAN_TARGET)}")
    return lines


def print_report(figures: list[Figure], bench: Bench, args: argparse.Namespace) -> None:
    bare_rps = bench.bare_rps
    print(f"\n{len(figures)} endpoint(s), {args.connections} connections, {args.warmup:g} s "
          f"warm-up + {args.seconds:g} s each; ratio = req/s / median bare req/s; us/req = "
          f"server CPU per request")
    print(HEADER)
    for figure in figures:
        print(row(figure, bare_rps))
    runs = ", ".join(f"{r.rps:,.0f}" for r in bench.bare_runs)
    median_p50 = statistics.median(r.p50_ms for r in bench.bare_runs)
    median_p99 = statistics.median(r.p99_ms for r in bench.bare_runs)
    median_cpu = statistics.median(r.cpu_us_per_request for r in bench.bare_runs)
    print(f"{'bare (median of ' + str(len(bench.bare_runs)) + ' runs)':{WIDTH}} {'':5} "
          f"{bare_rps:8,.0f} {median_p50:7.2f} {median_p99:7.2f} {1:6.2f} {median_cpu:7.0f}")
    print(f"  bare runs: {runs} req/s")
    print("\nsummary:")
    for line in summary(figures, bare_rps):
        print(line)
    for warning in noise_warnings([f.result for f in figures if f.result] + bench.bare_runs):
        print(f"  warning: {warning}")


def print_plan(figures: list[Figure]) -> None:
    print("\nwhat each endpoint rotates through:")
    for figure in figures:
        print(f"  {figure.path:{WIDTH}} {figure.note}")
    print("not measured:")
    for path, reason in {**UNMEASURED_READS, **SKIPPED_WRITES}.items():
        print(f"  {path:{WIDTH}} {reason}")


# --- the run --------------------------------------------------------------------------------

def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=" ".join(__doc__.split("\n\n")[0].split()))
    parser.add_argument("--seconds", type=float, default=5.0, help="measured time per endpoint")
    parser.add_argument("--warmup", type=float, default=1.0, help="warm-up time per endpoint")
    parser.add_argument("--connections", type=int, default=16, help="keep-alive connections")
    parser.add_argument("--db", default="sqlite", help="'sqlite' (a fresh file) or a "
                        "postgresql:// URL of a server where a fresh database is made")
    parser.add_argument("--only", default="", metavar="SUBSTRING",
                        help="measure only the endpoints whose path contains this")
    parser.add_argument("--bare-every", type=int, default=4, metavar="N",
                        help="measure bare again before every N endpoints")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="multiply the seeded data (1 = 10,000 users, 100,000 events…)")
    parser.add_argument("--pages", type=int, default=30,
                        help="pages of each list walk the rotation goes through")
    parser.add_argument("--page-size", type=int, default=None,
                        help="pageSize of the list requests (default: the server's, 25)")
    parser.add_argument("--profile", metavar="PATH-SUBSTRING",
                        help="afterwards, py-spy the server during one more run of the "
                        "first matching read endpoint")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()
    if args.seconds < 1 or args.connections < 1 or args.bare_every < 1 or args.pages < 1:
        parser.error("--seconds, --connections, --bare-every and --pages must be at least 1")
    return args


def start_servers(workdir: Path, env: dict[str, str], db_url: str) -> tuple[Server, Server]:
    mimicast = Server("mimicast", [sys.executable, "-m", "mimicast", "serve", "--port",
                                   "{port}", "--db", db_url, "--rate-limit", "1000000000"],
                      env, workdir / "mimicast.log")
    bare = Server("bare", [sys.executable, str(HERE / "bare_app.py"), "--port", "{port}"],
                  env, workdir / "bare.log")
    for server in (mimicast, bare):
        server.wait_ready()
    return mimicast, bare


def prepare_reads(api: Api, seeded: Seeded, plan: Plan, only: str
                  ) -> list[tuple[Figure, list[bytes]]]:
    prepared = []
    for path, recipe in READS.items():
        if only not in path:
            continue
        started = time.perf_counter()
        rotation = recipe(api, path, seeded, plan)
        validate_rotation(api, path, rotation)
        print(f"  {path:{WIDTH}} {len(rotation.bodies):6,} bodies, checked "
              f"({time.perf_counter() - started:.1f} s)", flush=True)
        prepared.append((Figure(path, "read", rotation.note), rotation.bodies))
    return prepared


def run(args: argparse.Namespace, workdir: Path, db_url: str) -> int:
    env = clean_env(workdir / "home")
    creds = init_credentials(env, db_url)
    db = Database(db_url)
    servers: list[Server] = []
    try:
        scale = Scale().times(args.scale)
        started = time.perf_counter()
        seeded = seed(db, scale)
        print(f"seeded {scale.describe()} in {time.perf_counter() - started:.1f} s "
              f"({db_url.split('://')[0]})", flush=True)
        servers += start_servers(workdir, env, db_url)
        mimicast, bare = servers
        api = Api(mimicast.port, creds)
        writes = write_recipes(seeded)
        check_coverage(READS, writes)

        print("building and checking the rotations:", flush=True)
        reads = prepare_reads(api, seeded, Plan(args.pages, args.page_size), args.only)
        chosen_writes = [w for path, w in writes.items() if args.only in path]
        for write in chosen_writes:
            validate_write(api, db, write)
        print(f"  {len(chosen_writes)} write recipe(s) checked", flush=True)
        api.close()
        figures = [f for f, _ in reads] + [Figure(w.path, "write", w.note) for w in chosen_writes]
        print_plan(figures)

        wrk = Wrk(workdir, creds, args.connections)
        bench = Bench(mimicast, bare, wrk, db, seeded, args.warmup, args.seconds,
                      wrk.write(request_lines(creds, "/api/account/get-account", [EMPTY],
                                              MIN_SIGNED_SETS)))
        measure_all(bench, reads, chosen_writes, figures, creds, args)
        print_report(figures, bench, args)
        if args.profile:
            profile_read(bench, reads, creds, args)
        invalid = [f for f in figures if f.problem]
        if invalid:
            print(f"\n*** INVALID: {len(invalid)} endpoint figure(s): "
                  f"{', '.join(f.path for f in invalid)} ***", file=sys.stderr)
            return 1
        return 0
    except Invalid:
        for server in servers:
            print(f"--- {server.name} log ---\n{server.tail()}", file=sys.stderr)
        raise
    finally:
        for server in servers:
            server.stop()
        db.dispose()


def measure_all(bench: Bench, reads: list[tuple[Figure, list[bytes]]], writes: list[Write],
                figures: list[Figure], creds: Credentials, args: argparse.Namespace) -> None:
    print(f"\nmeasuring: {args.warmup:g} s warm-up + {args.seconds:g} s per endpoint; server "
          f"on CPU {SERVER_CPU}, wrk on CPU {LOAD_CPU}; ratios against the bare runs so far",
          flush=True)
    print(f"  bare {describe(bench.measure_bare())}", flush=True)
    steps: list[Callable[[], None]] = []
    for figure, bodies in reads:
        lines = bench.wrk.write(request_lines(creds, figure.path, bodies, MIN_SIGNED_SETS))
        steps.append(functools.partial(bench.measure_read, figure, lines))
    by_path = {f.path: f for f in figures}
    for write in writes:
        steps.append(functools.partial(bench.measure_write, by_path[write.path], write, creds))
    for n, (step, figure) in enumerate(zip(steps, figures, strict=True)):
        if n and n % args.bare_every == 0:
            print(f"  bare {describe(bench.measure_bare())}", flush=True)
        step()
        print("  " + row(figure, bench.bare_rps), flush=True)
    print(f"  bare {describe(bench.measure_bare())}", flush=True)


def describe(result: Result) -> str:
    return (f"{result.rps:,.0f} req/s, p50 {result.p50_ms:.2f} ms, p99 {result.p99_ms:.2f} ms, "
            f"{result.cpu_us_per_request:.0f} us/req")


def profile_read(bench: Bench, reads: list[tuple[Figure, list[bytes]]], creds: Credentials,
                 args: argparse.Namespace) -> None:
    match = next(((f, b) for f, b in reads if args.profile in f.path), None)
    if match is None:
        print(f"profile: no measured read endpoint contains {args.profile!r}")
        return
    figure, bodies = match
    lines = bench.wrk.write(request_lines(creds, figure.path, bodies, MIN_SIGNED_SETS))

    class Load:
        """signed_calls.profile's load generator interface, on this endpoint's rotation."""

        def run(self, port: int, seconds: float) -> Result:
            return bench.wrk.run(port, lines, seconds).result

    out = Path(tempfile.gettempdir()) / f"mimicast-profile-{figure.path.rsplit('/', 1)[1]}.txt"
    py_spy_profile(bench.mimicast, Load(), args.seconds, out)  # type: ignore[arg-type]


def main() -> int:
    args = parse_args()
    if shutil.which("taskset") and len(os.sched_getaffinity(0)) > 1:
        os.sched_setaffinity(0, {int(LOAD_CPU)})  # this process shares the load's CPU
    else:
        print("warning: no taskset or one CPU: server and load share the CPUs")
    workdir = Path(tempfile.mkdtemp(prefix="mimicast-endpoints-"))
    try:
        ensure_wrk()
        with fresh_store(args.db, workdir) as db_url:
            return run(args, workdir, db_url)
    except Invalid as error:
        print(f"\n*** INVALID RUN: {error} ***", file=sys.stderr)
        return 1
    finally:
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
