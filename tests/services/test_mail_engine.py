"""The policy engine over a real account: each policy kind, created through the services the
API calls, changes what the next message does; accepted messages leave their facts."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from mimicast.services import (
    address_alteration,
    identity,
    managed_senders,
    managed_urls,
    policies,
)
from mimicast.services.context import Context
from mimicast.services.mail import accept, dlp, engine, world
from mimicast.services.mail.facts import Attachment, Draft, Recipient
from mimicast.services.mail.rules import load_rules
from mimicast.store.schema import Message, MessageLink, MessageRecipient, SenderDomain
from mimicast.testing import Harness
from mimicast.testing.harness import Tenant

WHEN = datetime(2026, 11, 30, 9, 30, tzinfo=UTC)
PARTNER = "news@partner.example.org"


@pytest.fixture
def tenant(harness: Harness) -> Tenant:
    tenant = harness.tenant()
    with harness.session_ctx(tenant) as ctx:
        identity.create_user(ctx, f"ann@{tenant.domain}", name="Ann Archer")
        identity.create_user(ctx, f"bob@{tenant.domain}", name="Bob Baker")
    return tenant


@pytest.fixture
def ctx(harness: Harness, tenant: Tenant) -> Iterator[Context]:
    with harness.session_ctx(tenant) as ctx:
        yield ctx


def inbound(tenant: Tenant, **changes: object) -> Draft:
    """A clean message from a partner the gateway has seen before, to Ann."""
    draft = Draft(sender=PARTNER, recipients=(Recipient(f"ann@{tenant.domain}", "Ann"),),
                  received_at=WHEN, external=True, from_name="Partner News",
                  subject="Minutes of Tuesday", text="See you next week.",
                  sender_ip="198.51.100.7", helo="mx.partner.example.org")
    return replace(draft, **changes)  # type: ignore[arg-type]


def decide(ctx: Context, draft: Draft, *, seen: bool = True) -> engine.Decision:
    """The engine's decision with the account's whole lists loaded (a simulator's batch),
    which must be the decision with only what the message names (a sent message)."""
    decisions = []
    for rules in (load_rules(ctx), load_rules(ctx, [draft])):
        if seen:
            rules.seen_domains.add("partner.example.org")
        decisions.append(engine.decide(draft, rules))
    whole, named = decisions
    assert named == whole
    return whole


def outcome(decision: engine.Decision) -> tuple[str, str, str]:
    (first, *_) = decision.recipients
    return first.status, first.reason, first.policy


def everyone_to(tenant: Tenant, **extra: object) -> dict[str, object]:
    return {"description": "from the partner", "from": {"type": "email_domain",
                                                         "emailDomain": "partner.example.org"},
            "to": {"type": "everyone"}, **extra}


def test_clean_mail_is_delivered_and_routes_follow_the_domains(ctx: Context,
                                                              tenant: Tenant) -> None:
    assert outcome(decide(ctx, inbound(tenant))) == ("delivered", "", "")
    internal = Draft(sender=f"bob@{tenant.domain}", external=False, received_at=WHEN,
                     recipients=(Recipient(f"ann@{tenant.domain}"),))
    assert decide(ctx, internal).route == "internal"
    outbound = replace(internal, recipients=(Recipient(PARTNER),))
    decision = decide(ctx, outbound)
    assert decision.route == "outbound" and outcome(decision)[0] == "delivered"


def test_blocked_sender_policy_rejects_and_a_closer_no_action_exempts(ctx: Context,
                                                                       tenant: Tenant) -> None:
    policies.create_option_policy(ctx, policies.BLOCKED_SENDERS, "block_sender",
                                  everyone_to(tenant, description="Block the partner"))
    assert outcome(decide(ctx, inbound(tenant))) == (
        "rejected", "Blocked Sender Policy", "Block the partner")
    policies.create_option_policy(ctx, policies.BLOCKED_SENDERS, "no_action", {
        "description": "But not for Ann", "from": {"type": "email_domain",
                                                   "emailDomain": "partner.example.org"},
        "to": {"type": "individual_email_address", "emailAddress": f"ann@{tenant.domain}"}})
    assert outcome(decide(ctx, inbound(tenant)))[0] == "delivered"


def test_blocked_sender_policy_outside_its_dates_does_nothing(ctx: Context,
                                                              tenant: Tenant) -> None:
    policies.create_option_policy(ctx, policies.BLOCKED_SENDERS, "block_sender", everyone_to(
        tenant, fromDate="2026-12-05T00:00:00+0000", toDate="2026-12-31T00:00:00+0000"))
    assert outcome(decide(ctx, inbound(tenant)))[0] == "delivered"


def test_managed_senders_block_or_skip_spam_checks(ctx: Context, tenant: Tenant) -> None:
    spammy = inbound(tenant, subject="URGENT: you are a lottery winner, act now",
                     text="Click here for free money", dmarc="fail", spf="fail")
    assert outcome(decide(ctx, spammy)) == ("held", "Relaxed Spam Detection",
                                           "Default Spam Scanning Definition")
    managed_senders.permit_or_block(ctx, PARTNER, f"ann@{tenant.domain}", "permit")
    assert outcome(decide(ctx, spammy))[0] == "delivered"
    managed_senders.permit_or_block(ctx, PARTNER, f"ann@{tenant.domain}", "block")
    assert outcome(decide(ctx, inbound(tenant))) == (
        "rejected", "Managed Sender - Blocked", "Managed Sender")


def test_anti_spoofing_rejects_outside_mail_from_an_internal_domain_unless_bypassed(
        ctx: Context, tenant: Tenant) -> None:
    spoofed = inbound(tenant, sender=f"ceo@{tenant.domain}", sender_ip="203.0.113.9")
    assert outcome(decide(ctx, spoofed)) == ("rejected", "Anti-Spoofing Policy",
                                            "Default Anti-Spoofing Policy")
    policies.create_option_policy(ctx, policies.ANTISPOOFING_BYPASS, "enable_bypass", {
        "description": "Our newsletter service", "from": {"type": "everyone"},
        "to": {"type": "everyone"}, "conditions": {"sourceIPs": ["203.0.113.0/24"]}})
    assert outcome(decide(ctx, spoofed))[0] == "delivered"
    elsewhere = replace(spoofed, sender_ip="192.0.2.1")
    assert outcome(decide(ctx, elsewhere))[0] == "rejected"


def test_address_alteration_rewrites_the_recipient(ctx: Context, tenant: Tenant) -> None:
    made = address_alteration.create_set(ctx, "Renames")
    address_alteration.create_definitions(ctx, made["id"], [{
        "originalAddress": f"ann@{tenant.domain}", "alteredAddress": f"bob@{tenant.domain}"}])
    address_alteration.create_policy(ctx, made["id"], {
        "description": "Ann's mail to Bob", "from": {"type": "everyone"},
        "to": {"type": "everyone"}})
    (altered,) = decide(ctx, inbound(tenant)).recipients
    assert (altered.original, altered.address) == (f"ann@{tenant.domain}",
                                                   f"bob@{tenant.domain}")


def test_url_protect_rewrites_blocks_or_leaves_links(ctx: Context, tenant: Tenant) -> None:
    links = ("https://docs.partner.example.org/a", "https://bad.example.net/x?y=1",
             "http://intranet.partner.example.org/")
    assert decide(ctx, inbound(tenant, links=links)).link_actions == ["rewritten"] * 3
    managed_urls.create_managed_url(ctx, "bad.example.net", "block", "domain")
    managed_urls.create_managed_url(ctx, "http://intranet.partner.example.org/", "permit",
                                    disable_rewrite=True)
    assert decide(ctx, inbound(tenant, links=links)).link_actions == [
        "rewritten", "blocked", "permitted"]


def test_a_malicious_attachment_is_held(ctx: Context, tenant: Tenant) -> None:
    eicar = Attachment("invoice.zip", "application/zip", 68, "0" * 64,
                       content=b"prefix " + world.MALWARE_MARKER)
    clean = Attachment("agenda.pdf", "application/pdf", 2048, "1" * 64)
    decision = decide(ctx, inbound(tenant, attachments=(clean, eicar)))
    assert decision.attachment_verdicts == ["safe", "malicious"]
    assert outcome(decision) == ("held", "Malicious Attachment", "Default Attachment Protection")


def test_impersonation_needs_two_indicators(ctx: Context, tenant: Tenant) -> None:
    lookalike = tenant.domain.replace("example", "examp1e")
    one = inbound(tenant, sender=f"ann@{PARTNER.split('@')[1]}", from_name="Ann Archer")
    decision = decide(ctx, one)
    assert decision.impersonation == ["internal_user_name"] and outcome(decision)[0] == \
        "delivered"
    two = inbound(tenant, sender=f"ann@{lookalike}", from_name="Ann Archer",
                  reply_to="ann.archer@freemail.example.com")
    decision = decide(ctx, two)
    assert decision.impersonation == ["internal_user_name", "similar_internal_domain",
                                      "newly_observed_domain", "reply_to_address_mismatch"]
    assert outcome(decision) == ("held", "Suspected Impersonation",
                                 "Default Impersonation Protection")


def outbound(tenant: Tenant, **changes: object) -> Draft:
    """Ann writing to a customer."""
    draft = Draft(sender=f"ann@{tenant.domain}",
                  recipients=(Recipient("buyer@customer.example.com"),),
                  received_at=WHEN, external=False, subject="Quote", text="Prices below.")
    return replace(draft, **changes)  # type: ignore[arg-type]


def test_dlp_holds_confidential_mail_and_notifies_on_card_numbers(ctx: Context,
                                                                  tenant: Tenant) -> None:
    assert decide(ctx, outbound(tenant)).dlp == []
    held = decide(ctx, outbound(tenant, subject="CONFIDENTIAL: Q3 figures"))
    assert held.dlp == [("hold", "Content Examination - Confidential")]
    assert outcome(held) == ("held", "Content Examination", "Content Examination - Confidential")
    # A Luhn-valid number is a card number; a wrong check digit is not.
    noticed = decide(ctx, outbound(tenant, text="Card on file: 4111 1111 1111 1111."))
    assert noticed.dlp == [("notification", "Content Examination - Payment Card Numbers")]
    assert outcome(noticed)[0] == "delivered"
    assert decide(ctx, outbound(tenant, text="Order 4111 1111 1111 1112.")).dlp == []
    both = decide(ctx, outbound(tenant, subject="Do not forward",
                                text="Use 4111111111111111 for the renewal."))
    assert [action for action, _ in both.dlp] == ["hold", "notification"]
    # Only what leaves the account is examined.
    assert decide(ctx, inbound(tenant, subject="Confidential offer")).dlp == []


def test_unknown_internal_recipients_are_rejected(ctx: Context, tenant: Tenant) -> None:
    draft = inbound(tenant, recipients=(Recipient(f"nobody@{tenant.domain}"),
                                        Recipient(f"bob@{tenant.domain}")))
    statuses = [r.status for r in decide(ctx, draft).recipients]
    assert statuses == ["rejected", "delivered"]


def test_accept_stores_the_facts_once(harness: Harness, tenant: Tenant) -> None:
    links = ("https://docs.partner.example.org/a",)
    drafts = [inbound(tenant, links=links, seed=7),
              inbound(tenant, recipients=(Recipient(f"ann@{tenant.domain}"),
                                          Recipient(f"nobody@{tenant.domain}")), seed=7)]
    with harness.session_ctx(tenant) as ctx:
        accepted = accept.accept(ctx, drafts)
    assert [a.decision.impersonation for a in accepted] == [["newly_observed_domain"], []]
    with harness.session_ctx(tenant) as ctx:
        rows = ctx.session.execute(select(Message.id, Message.route, Message.message_id)
                                   .where(Message.account_id == tenant.account_id)
                                   .order_by(Message.id)).all()
        assert [row.id for row in rows] == [a.id for a in accepted]
        assert all(row.route == "inbound" and row.message_id.endswith("@partner.example.org>")
                   for row in rows)
        statuses = ctx.session.execute(select(MessageRecipient.status).where(
            MessageRecipient.account_id == tenant.account_id).order_by(MessageRecipient.id)
        ).scalars().all()
        assert statuses == ["delivered", "delivered", "rejected"]
        (code,) = ctx.session.execute(select(MessageLink.code).where(
            MessageLink.message_id == accepted[0].id)).scalars().all()
        assert code == accept.link_code(drafts[0], accepted[0].id, 0)
        seen = ctx.session.execute(select(SenderDomain.domain).where(
            SenderDomain.account_id == tenant.account_id)).scalars().all()
        assert seen == ["partner.example.org"]
        # The domain is no longer new for the next batch.
        assert "newly_observed_domain" not in engine.decide(inbound(tenant),
                                                            load_rules(ctx)).impersonation
    # What impersonation protection and DLP found is kept with the message.
    with harness.session_ctx(tenant) as ctx:
        (leaked,) = accept.accept(ctx, [outbound(tenant, subject="Confidential: salaries",
                                                 text="Card 4111 1111 1111 1111")])
        stored = ctx.session.execute(select(Message.impersonation, Message.dlp).where(
            Message.id.in_([accepted[0].id, leaked.id])).order_by(Message.id)).all()
    assert [tuple(row) for row in stored] == [
        ("newly_observed_domain", ""),
        ("", "hold:Content Examination - Confidential\n"
             "notification:Content Examination - Payment Card Numbers")]
    assert dlp.decode(stored[1].dlp) == leaked.decision.dlp


def test_new_accounts_start_with_the_default_hold_policies(ctx: Context) -> None:
    assert [(p.kind, p.description) for p in load_rules(ctx).hold] == [
        ("spam", "Default Spam Scanning Definition"),
        ("impersonation", "Default Impersonation Protection"),
        ("attachment", "Default Attachment Protection")]


def test_a_few_messages_load_only_what_they_name(ctx: Context, tenant: Tenant) -> None:
    managed_senders.permit_or_block(ctx, "other@vendor.example.net", f"bob@{tenant.domain}",
                                    "block")
    managed_urls.create_managed_url(ctx, "elsewhere.example.net", "block", "domain")
    managed_urls.create_managed_url(ctx, "bad.example.net", "block", "domain")
    draft = inbound(tenant, links=("https://www.bad.example.net/x",), from_name="Bob Baker")
    named = load_rules(ctx, [draft])
    assert set(named.users) == {f"ann@{tenant.domain}"}
    assert named.user_names == {"bob baker": f"bob@{tenant.domain}"}
    assert named.managed_senders == {}
    assert [link.key for link in named.managed_links] == ["bad.example.net"]
    whole = load_rules(ctx)
    assert len(whole.users) == 3 and len(whole.managed_links) == 2
