"""An account's mail rules as the policy engine reads them: loaded once per batch of messages
(`load_rules`), then matched in memory, so the engine costs the same for one message sent
through the API and for thousands a simulator backfills in one transaction.

Policy precedence, within a family: an enabled policy in its date range whose sides and
conditions match; of several, one marked `override` first, then the more specific (an address
beats a group or attribute, which beat a domain, which beats internal/external/free mail,
which beat everyone; the sender's side counts before the recipient's), then the older.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select

from mimicast.services import directory
from mimicast.services.context import Context
from mimicast.services.mail.facts import Draft
from mimicast.services.mail.holds import FAMILY as HOLD
from mimicast.services.mail.holds import HoldPolicy
from mimicast.services.managed_urls import DOMAIN, UrlParts, parse_url
from mimicast.store.query import Query
from mimicast.store.schema import (
    Domain,
    GroupMember,
    ManagedSender,
    ManagedUrl,
    Policy,
    SenderDomain,
    User,
    UserAlias,
    UserAttribute,
)
from mimicast.wire.dates import parse_date
from mimicast.wire.errors import ApiError

# Free mail providers: the `free_mail_domains` target.
FREE_MAIL = frozenset({
    "gmail.com", "googlemail.com", "yahoo.com", "ymail.com", "outlook.com", "hotmail.com",
    "live.com", "msn.com", "aol.com", "icloud.com", "me.com", "gmx.com", "gmx.net", "mail.com",
    "proton.me", "protonmail.com", "yandex.com", "zoho.com", "web.de", "fastmail.com"})

_SPECIFICITY = {"individual_email_address": 5, "header_display_name": 5,
                "address_attribute_value": 4, "profile_group": 4, "email_domain": 3,
                "internal_addresses": 1, "external_addresses": 1, "free_mail_domains": 2,
                "everyone": 0}


def domain_of(address: str) -> str:
    return address.rpartition("@")[2]


@dataclass(frozen=True)
class Rule:
    """One gateway policy, ready to match."""

    id: int
    description: str
    option: str  # the family's action ("block_sender", "enable_bypass", …); "" for none
    source: Mapping[str, Any]  # the `from` target
    target: Mapping[str, Any]  # the `to` target
    from_part: str  # which sender address the `from` side reads
    starts: datetime | None
    ends: datetime | None
    override: bool
    bidirectional: bool
    conditions: Mapping[str, list[str]]
    parent_id: int | None = None

    @property
    def rank(self) -> tuple[int, int, int, int]:
        """Sorts the winner first."""
        return (-int(self.override), -_SPECIFICITY.get(str(self.source.get("type")), 0),
                -_SPECIFICITY.get(str(self.target.get("type")), 0), self.id)


@dataclass(frozen=True)
class Definition:
    """An address alteration: `original` (address, `*@domain`, domain or `local@*`) becomes
    `altered` on `routing` ("all" | "inbound" | "outbound")."""

    original: str
    altered: str
    routing: str

    def apply(self, address: str, route: str) -> str | None:
        if self.routing not in ("all", route):
            return None
        local, _, domain = address.rpartition("@")
        pattern = self.original
        if pattern == address:
            return self.altered
        if pattern.startswith("*@") and pattern[2:] == domain or "@" not in pattern \
                and pattern == domain:
            new_domain = self.altered.removeprefix("*@")
            return self.altered if "@" in self.altered and not self.altered.startswith("*@") \
                else f"{local}@{new_domain}"
        if pattern.endswith("@*") and pattern[:-2] == local:
            new_local = self.altered.removesuffix("@*")
            return self.altered if not self.altered.endswith("@*") else f"{new_local}@{domain}"
        return None


@dataclass(frozen=True)
class ManagedLink:
    match_type: str  # "explicit" | "domain"
    key: str  # the normalised URL, or the domain
    action: str  # "block" | "permit"
    disable_rewrite: bool

    def matches(self, parts: UrlParts) -> bool:
        if self.match_type == DOMAIN:
            return parts.host == self.key or parts.host.endswith("." + self.key)
        return parts.explicit_key == self.key


@dataclass
class Rules:
    internal_domains: frozenset[str]
    users: dict[str, str]  # every internal address (users and aliases) → display name
    user_names: dict[str, str]  # an internal user's display name, lower-case → address
    groups: dict[str, frozenset[str]] = field(default_factory=dict)  # group id → members
    attributes: dict[tuple[str, str], frozenset[str]] = field(default_factory=dict)
    blocked_senders: list[Rule] = field(default_factory=list)
    bypasses: list[Rule] = field(default_factory=list)
    alterations: list[tuple[Rule, list[Definition]]] = field(default_factory=list)
    managed_senders: dict[tuple[str, str], str] = field(default_factory=dict)
    managed_links: list[ManagedLink] = field(default_factory=list)
    hold: tuple[HoldPolicy, ...] = ()
    # Sender domains the account's gateway has seen (the "newly observed domain" check);
    # the engine adds each new one as it goes.
    seen_domains: set[str] = field(default_factory=set)

    def is_internal(self, address: str) -> bool:
        return domain_of(address) in self.internal_domains

    def hold_policy(self, kind: str) -> HoldPolicy | None:
        for policy in self.hold:
            if policy.kind == kind:
                return policy
        return None

    # Matching ---------------------------------------------------------------------------

    def in_target(self, target: Mapping[str, Any], address: str, display_name: str = "") -> bool:
        kind = target.get("type")
        domain = domain_of(address)
        if kind == "everyone":
            return True
        if kind == "internal_addresses":
            return domain in self.internal_domains
        if kind == "external_addresses":
            return domain not in self.internal_domains
        if kind == "free_mail_domains":
            return domain in FREE_MAIL
        if kind == "email_domain":
            value = str(target["emailDomain"])
            return domain == value or domain.endswith("." + value)
        if kind == "individual_email_address":
            return address == str(target["emailAddress"])
        if kind == "profile_group":
            members = self.groups.get(str(target["groupId"]), frozenset())
            return address in members or domain in members
        if kind == "address_attribute_value":
            attribute = target["attribute"]
            key = (str(attribute.get("name") or attribute.get("id")), str(attribute["value"]))
            return address in self.attributes.get(key, frozenset())
        if kind == "header_display_name":
            return display_name.strip().lower() == str(target["headerDisplayName"]).lower()
        return False

    def matching(self, rules: Iterable[Rule], draft: Draft, recipient: str) -> Rule | None:
        """The winning rule of `rules` for a message and one of its recipients, or None."""
        found = [rule for rule in rules if self._applies(rule, draft, recipient)]
        return min(found, key=lambda rule: rule.rank) if found else None

    def _applies(self, rule: Rule, draft: Draft, recipient: str) -> bool:
        when = draft.received_at
        if rule.starts is not None and when < rule.starts:
            return False
        if rule.ends is not None and when > rule.ends:
            return False
        spf_domain = domain_of(draft.sender) if draft.spf == "pass" else ""
        if not _conditions_hold(rule.conditions, draft.sender_ip, draft.helo, spf_domain):
            return False
        senders = {"envelope_from": (draft.sender,), "header_from": (draft.from_address,)
                   }.get(rule.from_part, (draft.sender, draft.from_address))
        if any(self.in_target(rule.source, s, draft.from_name) for s in senders) \
                and self.in_target(rule.target, recipient):
            return True
        # Bidirectional: the same policy for mail the other way round.
        return rule.bidirectional and self.in_target(rule.source, recipient) \
            and any(self.in_target(rule.target, s) for s in senders)


def _conditions_hold(conditions: Mapping[str, list[str]], sender_ip: str, helo: str,
                     spf_domain: str) -> bool:
    networks = conditions.get("sourceIPs")
    if networks:
        try:
            ip = ipaddress.ip_address(sender_ip)
        except ValueError:
            return False
        if not any(ip in ipaddress.ip_network(n, strict=False) for n in networks):
            return False
    hostnames = conditions.get("hostnames")
    if hostnames and not any(helo == h or helo.endswith("." + h) for h in hostnames):
        return False
    spf_domains = conditions.get("spfDomains")
    return not spf_domains or spf_domain in spf_domains


# Loading ------------------------------------------------------------------------------------

_DOMAINS = Query(select(Domain.name).where(Domain.account_id == bindparam("account"),
                                           Domain.status == "internal"))
_USERS = Query(select(User.email, User.name).where(User.account_id == bindparam("account")))
_ALIASES = Query(select(UserAlias.address, User.name).join(User, User.id == UserAlias.user_id)
                 .where(User.account_id == bindparam("account")))
_POLICIES = Query(select(Policy.id, Policy.family, Policy.parent_id, Policy.body)
                  .where(Policy.account_id == bindparam("account"),
                         Policy.family.in_(bindparam("families", expanding=True)))
                  .order_by(Policy.id))
_MEMBERS = Query(select(GroupMember.address).where(GroupMember.group_id == bindparam("group")))
_ATTRIBUTE_HOLDERS = Query(
    select(User.email).join(UserAttribute, UserAttribute.user_id == User.id)
    .where(User.account_id == bindparam("account"), UserAttribute.name == bindparam("name"),
           UserAttribute.value == bindparam("value")))
_SENDER_ROWS = select(ManagedSender.sender, ManagedSender.recipient, ManagedSender.action
                      ).where(ManagedSender.account_id == bindparam("account"))
_SENDERS = Query(_SENDER_ROWS)
_SEEN_ROWS = select(SenderDomain.domain).where(SenderDomain.account_id == bindparam("account"))
_SEEN = Query(_SEEN_ROWS)
_LINK_ROWS = select(ManagedUrl.match_type, ManagedUrl.url, ManagedUrl.action,
                    ManagedUrl.disable_rewrite).where(ManagedUrl.account_id == bindparam("account"))
_LINKS = Query(_LINK_ROWS)

BLOCKED_SENDERS, BYPASS = "blockedsenders", "antispoofing-bypass"
ALTERATION, DEFINITION = "address-alteration", "address-alteration-definition"


# A batch this small (a message sent through the API) looks up only what its messages name;
# a simulator's batch of thousands loads the account's lists once instead.
SMALL_BATCH = 50


def _among(column: Any) -> Any:
    return column.in_(bindparam("values", expanding=True))


_USERS_AMONG = Query(select(User.email, User.name).where(
    User.account_id == bindparam("account"), _among(User.email)))
_ALIASES_AMONG = Query(select(UserAlias.address, User.name)
                       .join(User, User.id == UserAlias.user_id)
                       .where(User.account_id == bindparam("account"),
                              _among(UserAlias.address)))
_NAMED = Query(select(User.email, User.name).where(
    User.account_id == bindparam("account"), _among(func.lower(func.trim(User.name)))))
_SENDERS_AMONG = Query(_SENDER_ROWS.where(_among(ManagedSender.sender)))
_SEEN_AMONG = Query(_SEEN_ROWS.where(_among(SenderDomain.domain)))
_LINKS_AMONG = Query(_LINK_ROWS.where(_among(ManagedUrl.url)))


def load_rules(ctx: Context, drafts: Sequence[Draft] | None = None) -> Rules:
    """The account's rules. Given `drafts` (a small batch), the account's users, sender
    domains, managed senders and managed URLs are looked up only as far as those messages
    name them: one message sent through the API costs what it names, not what the account
    holds."""
    account = ctx.caller.account_id
    rules = Rules(internal_domains=frozenset(_DOMAINS.scalars(ctx.unit, account=account)),
                  users={}, user_names={})
    definitions: dict[int, list[Definition]] = {}
    policies: list[tuple[Rule, Any]] = []
    hold: list[HoldPolicy] = []
    for row in _POLICIES.all(ctx.unit, account=account,
                             families=[BLOCKED_SENDERS, BYPASS, ALTERATION, DEFINITION, HOLD]):
        body = row.body
        if row.family == DEFINITION:
            definitions.setdefault(row.parent_id, []).append(Definition(
                body["originalAddress"], body["alteredAddress"], body.get("routing", "all")))
        elif row.family == HOLD:
            hold.append(HoldPolicy.from_body(body))
        elif body.get("enabled", True):
            policies.append((_rule(row), row.family))
    rules.hold = tuple(hold)
    for rule, family in policies:
        for side in (rule.source, rule.target):
            _load_target(ctx, rules, side)
        if family == BLOCKED_SENDERS:
            rules.blocked_senders.append(rule)
        elif family == BYPASS:
            rules.bypasses.append(rule)
        else:
            rules.alterations.append((rule, definitions.get(rule.parent_id or 0, [])))
    if drafts is not None and len(drafts) <= SMALL_BATCH:
        _load_named(ctx, rules, drafts, [d.altered for ds in definitions.values() for d in ds])
        return rules
    users = {row.email: row.name for row in _USERS.all(ctx.unit, account=account)}
    rules.user_names = {name.strip().lower(): email for email, name in users.items()
                        if name.strip()}
    for row in _ALIASES.all(ctx.unit, account=account):
        users.setdefault(row.address, row.name)
    rules.users = users
    rules.seen_domains = set(_SEEN.scalars(ctx.unit, account=account))
    rules.managed_senders = {(row.sender, row.recipient): row.action
                             for row in _SENDERS.all(ctx.unit, account=account)}
    rules.managed_links = [ManagedLink(row.match_type, row.url, row.action,
                                       bool(row.disable_rewrite))
                           for row in _LINKS.all(ctx.unit, account=account)]
    return rules


def _load_named(ctx: Context, rules: Rules, drafts: Sequence[Draft],
                altered: Sequence[str]) -> None:
    """What a few messages name: their recipients (and where alteration may send them), their
    senders' domains and managed-sender pairs, the display names they claim, the managed URLs
    that could match their links (each link's URL and every domain it lies under)."""
    account, unit = ctx.caller.account_id, ctx.unit
    addresses = {r.address for d in drafts for r in d.recipients}
    addresses |= {a for a in altered if "@" in a and "*" not in a}
    senders = {a for d in drafts for a in (d.sender, d.from_address)}
    names = {d.from_name.strip().lower() for d in drafts if d.external and d.from_name.strip()}
    links: set[str] = set()
    for draft in drafts:
        for url in draft.links:
            parts = parse_link(url)
            if parts is not None:
                labels = parts.host.split(".")
                links |= {parts.explicit_key, *(".".join(labels[i:])
                                                for i in range(len(labels) - 1))}

    def among(query: Query, values: set[str]) -> list[Any]:
        return query.all(unit, account=account, values=sorted(values)) if values else []

    rules.users = {row.email: row.name for row in among(_USERS_AMONG, addresses)}
    for row in among(_ALIASES_AMONG, addresses):
        rules.users.setdefault(row.address, row.name)
    rules.user_names = {row.name.strip().lower(): row.email for row in among(_NAMED, names)}
    rules.seen_domains = {row.domain for row in among(
        _SEEN_AMONG, {domain_of(sender) for sender in senders})}
    rules.managed_senders = {(row.sender, row.recipient): row.action
                             for row in among(_SENDERS_AMONG, senders)}
    rules.managed_links = [ManagedLink(row.match_type, row.url, row.action,
                                       bool(row.disable_rewrite))
                           for row in among(_LINKS_AMONG, links)]


def _rule(row: Any) -> Rule:
    body = row.body
    return Rule(id=row.id, description=str(body.get("description") or ""),
                option=str(body.get("option") or ""), source=body["from"], target=body["to"],
                from_part=str(body.get("fromPart") or "both"),
                starts=_when(body.get("fromDate")), ends=_when(body.get("toDate")),
                override=bool(body.get("override")),
                bidirectional=bool(body.get("bidirectional")),
                conditions=body.get("conditions") or {}, parent_id=row.parent_id)


def _when(text: str | None) -> datetime | None:
    return parse_date(text, "date") if text else None


def _load_target(ctx: Context, rules: Rules, target: Mapping[str, Any]) -> None:
    """The members a group target names, and the holders of an attribute target's value."""
    kind = target.get("type")
    if kind == "profile_group":
        group_id = str(target["groupId"])
        if group_id not in rules.groups:
            try:
                number = directory.group_row(ctx, group_id).id
            except ApiError:  # the group is gone: the policy matches no one
                rules.groups[group_id] = frozenset()
                return
            rules.groups[group_id] = frozenset(_MEMBERS.scalars(ctx.unit, group=number))
    elif kind == "address_attribute_value":
        attribute = target["attribute"]
        name, value = str(attribute.get("name") or attribute.get("id")), str(attribute["value"])
        if (name, value) not in rules.attributes:
            rules.attributes[(name, value)] = frozenset(_ATTRIBUTE_HOLDERS.scalars(
                ctx.unit, account=ctx.caller.account_id, name=name, value=value))


# Memoised: the engine parses every link of every message, and links repeat.
@functools.lru_cache(maxsize=8192)
def parse_link(url: str) -> UrlParts | None:
    try:
        return parse_url(url)
    except ApiError:
        return None
