"""The policy engine: from a message and the account's rules (`rules.Rules`) to what happens
to it, per recipient. Pure (no store, no clock): the simulator runs it over thousands of
messages in one transaction, `email/send-email` over one.

The order is the real gateway's: blocked senders, managed senders, anti-spoofing, address
alteration, URL Protect, attachment protection, impersonation protection, spam scoring, and
then the hold policies. A rejection ends a recipient's path; a permitted (managed) sender
skips the spam and impersonation checks for that recipient.
"""

from __future__ import annotations

import functools

from mimicast.services.mail import dlp
from mimicast.services.mail.facts import (
    BOUNCED,
    HELD,
    REJECTED,
    Decision,
    Draft,
    Outcome,
)
from mimicast.services.mail.rules import FREE_MAIL, Rules, domain_of, parse_link
from mimicast.services.mail.world import (
    MALICIOUS_HOSTS,
    MALWARE_HASHES,
    MALWARE_MARKER,
    SPAM_WORDS,
)

# Spam scoring: the score each detection level holds at (the lower the threshold, the
# stricter the level).
LEVELS = {"relaxed": 60, "moderate": 45, "aggressive": 30}

# Reasons as the real hold queue and tracking name them.
BLOCKED_SENDER = ("Blocked Sender Policy", "blocked_sender")
MANAGED_BLOCK = ("Managed Sender - Blocked", "managed_sender_blocked")
SPOOFED = ("Anti-Spoofing Policy", "anti_spoofing")
INVALID_RECIPIENT = ("Invalid Recipient", "invalid_recipient")
SPAM_HOLD = {"relaxed": ("Relaxed Spam Detection", "spam_relaxed"),
             "moderate": ("Moderate Spam Detection", "spam_moderate"),
             "aggressive": ("Aggressive Spam Detection", "spam_aggressive")}
IMPERSONATION_HOLD = ("Suspected Impersonation", "impersonation")
ATTACHMENT_HOLD = ("Malicious Attachment", "attachment")
DLP_HOLD = ("Content Examination", "dlp")


def route_of(draft: Draft, rules: Rules) -> str:
    if draft.external:
        return "inbound"
    if all(rules.is_internal(r.address) for r in draft.recipients):
        return "internal"
    return "outbound"


def decide(draft: Draft, rules: Rules) -> Decision:
    route = route_of(draft, rules)
    decision = Decision(route, [Outcome(r.address, r.address, r.name, r.kind)
                                for r in draft.recipients])
    header = draft.from_address
    sender_domain = domain_of(header)
    permitted: set[int] = set()
    # Anti-spoofing: mail from outside claiming to be from one of the account's domains.
    spoofing = draft.external and (rules.is_internal(draft.sender) or rules.is_internal(header))

    for index, outcome in enumerate(decision.recipients):
        # Blocked senders: the winning policy says block_sender (a more specific no_action
        # exempts the sender).
        rule = rules.matching(rules.blocked_senders, draft, outcome.address) \
            if rules.blocked_senders else None
        if rule is not None and rule.option == "block_sender":
            outcome.decide(REJECTED, *BLOCKED_SENDER, rule.description or BLOCKED_SENDER[0])
            continue
        # Managed senders, for an internal recipient.
        action = (rules.managed_senders.get((draft.sender, outcome.address))
                  or rules.managed_senders.get((header, outcome.address))
                  ) if rules.managed_senders else None
        if action == "block":
            outcome.decide(REJECTED, *MANAGED_BLOCK, "Managed Sender")
            continue
        if action == "permit":
            permitted.add(index)
        # Spoofed mail is refused unless a bypass policy lets it through.
        if spoofing:
            bypass = rules.matching(rules.bypasses, draft, outcome.address)
            if bypass is None or bypass.option != "enable_bypass":
                outcome.decide(REJECTED, *SPOOFED, bypass.description if bypass
                               else "Default Anti-Spoofing Policy")
                continue
        # Address alteration: the winning policy's set rewrites the recipient once.
        altering = rules.matching([r for r, _ in rules.alterations], draft, outcome.address) \
            if rules.alterations else None
        if altering is not None:
            definitions = next(d for r, d in rules.alterations if r is altering)
            for definition in definitions:
                altered = definition.apply(outcome.address,
                                           "inbound" if route == "inbound" else "outbound")
                if altered is not None:
                    outcome.address = altered
                    break
        # Inbound mail to an internal address nobody holds is refused at RCPT TO.
        if route == "inbound" and rules.is_internal(outcome.address) \
                and outcome.address not in rules.users:
            outcome.decide(REJECTED, *INVALID_RECIPIENT, "")

    # URL Protect guards what comes in: links in mail the account's own users send leave
    # as written.
    decision.link_actions = [_link_action(url, rules) if route == "inbound" else "kept"
                             for url in draft.links]
    decision.attachment_verdicts = ["malicious" if _malicious(a.sha256, a.content) else "safe"
                                    for a in draft.attachments]
    decision.impersonation = _impersonation(draft, rules) if draft.external else []
    decision.dlp = dlp.examine(draft.subject, draft.text) if route == "outbound" else []
    decision.spam_score = _spam_score(draft, decision)
    decision.detection_level = next(
        (level for level, threshold in LEVELS.items() if decision.spam_score >= threshold), "")
    if draft.external and sender_domain not in rules.internal_domains:
        rules.seen_domains.add(sender_domain)

    _hold(decision, rules, permitted)
    return decision


def _hold(decision: Decision, rules: Rules, permitted: set[int]) -> None:
    """The hold policies, for each recipient the message still reaches."""
    attachment = rules.hold_policy("attachment")
    impersonation = rules.hold_policy("impersonation")
    spam = rules.hold_policy("spam")
    leak = next((name for action, name in decision.dlp if action == dlp.HOLD), None)
    for index, outcome in enumerate(decision.recipients):
        if outcome.status in (REJECTED, BOUNCED):
            continue
        if attachment and "malicious" in decision.attachment_verdicts:
            outcome.decide(HELD, *ATTACHMENT_HOLD, attachment.description)
        elif leak is not None:
            outcome.decide(HELD, *DLP_HOLD, leak)
        elif index in permitted:
            continue
        elif impersonation and len(decision.impersonation) >= impersonation.threshold:
            outcome.decide(HELD, *IMPERSONATION_HOLD, impersonation.description)
        elif spam and decision.spam_score >= LEVELS.get(spam.level, LEVELS["relaxed"]):
            outcome.decide(HELD, *SPAM_HOLD.get(spam.level, SPAM_HOLD["relaxed"]), spam.description)


def _link_action(url: str, rules: Rules) -> str:
    parts = parse_link(url)
    if parts is None:
        return "kept"
    managed = next((m for m in rules.managed_links if m.matches(parts)), None)
    if managed is not None:
        if managed.action == "block":
            return "blocked"
        if managed.disable_rewrite:
            return "permitted"
    return "rewritten"


def _malicious(sha256: str, content: bytes | None) -> bool:
    return sha256 in MALWARE_HASHES or (content is not None and MALWARE_MARKER in content)


def _impersonation(draft: Draft, rules: Rules) -> list[str]:
    """The impersonation indicators an inbound message hits (Mimecast's names)."""
    hits = []
    header = draft.from_address
    domain = domain_of(header)
    name = draft.from_name.strip().lower()
    if name and name in rules.user_names and not rules.is_internal(header):
        hits.append("internal_user_name")
    if domain not in rules.internal_domains and _lookalike(domain, rules.internal_domains):
        hits.append("similar_internal_domain")
    if domain not in rules.seen_domains and domain not in FREE_MAIL:
        hits.append("newly_observed_domain")
    if draft.reply_to and domain_of(draft.reply_to) != domain:
        hits.append("reply_to_address_mismatch")
    return hits


# Memoised (pure): every inbound message compares its domain with the internal ones.
@functools.lru_cache(maxsize=16384)
def _lookalike(domain: str, internal: frozenset[str]) -> bool:
    return any(_within_two_edits(domain, other) for other in internal)


def _within_two_edits(a: str, b: str) -> bool:
    """Whether `a` is one or two single-character edits away from `b` (Levenshtein), and not
    equal: a lookalike domain."""
    if a == b or abs(len(a) - len(b)) > 2:
        return False
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1,
                               previous[j - 1] + (ca != cb)))
        if min(current) > 2:
            return False
        previous = current
    return previous[-1] <= 2


def spam_words(text: str) -> frozenset[str]:
    """The spam words in `text`. Subject and body are searched apart (no word spans the line
    between them); short texts, which repeat (subjects, simulated bodies), are memoised."""
    return _short_spam_words(text) if len(text) <= 500 else _find_spam_words(text)


@functools.lru_cache(maxsize=16384)
def _short_spam_words(text: str) -> frozenset[str]:
    return _find_spam_words(text)


def _find_spam_words(text: str) -> frozenset[str]:
    lowered = text.lower()
    return frozenset(word for word in SPAM_WORDS if word in lowered)


def _spam_score(draft: Draft, decision: Decision) -> int:
    if not draft.external:
        return 0
    score = 12 * len(spam_words(draft.subject) | spam_words(draft.text))
    score += {"fail": 20, "none": 8}.get(draft.spf, 0)
    score += {"fail": 10, "none": 4}.get(draft.dkim, 0)
    score += {"fail": 25, "none": 5}.get(draft.dmarc, 0)
    score += 30 * sum(1 for url in draft.links
                      if (parts := parse_link(url)) is not None and parts.host in MALICIOUS_HOSTS)
    score += 5 * len(decision.impersonation)
    return min(score, 100)
