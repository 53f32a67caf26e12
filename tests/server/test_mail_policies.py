"""Each policy kind, created through the API, changes what the next message does: seen in
Message Finder (and the hold list) over HTTP."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from api import Namespace
from sqlalchemy import select

from mimicast.services.context import utcnow
from mimicast.services.mail import accept, world
from mimicast.services.mail.facts import Attachment, Draft, Recipient
from mimicast.store.schema import Message
from mimicast.testing import Harness
from mimicast.testing.harness import Tenant

PARTNER = "news@partner.example.org"
SPAM = {"subject": "URGENT lottery winner, act now", "text": "click here for free money",
        "spf": "fail", "dmarc": "fail"}


@pytest.fixture
def tenant(harness: Harness) -> Tenant:
    return harness.tenant()


def deliver(harness: Harness, tenant: Tenant, **changes: Any) -> dict[str, Any]:
    """One inbound message to the administrator; what Message Finder then says of it."""
    draft = replace(Draft(sender=PARTNER, recipients=(Recipient(tenant.email),),
                          received_at=utcnow() - timedelta(seconds=30), external=True,
                          subject="Hello", sender_ip="198.51.100.7"), **changes)
    with harness.session_ctx(tenant) as ctx:
        (accepted,) = accept.accept(ctx, [draft])
    found = Namespace("/api/message-finder/").ok(harness, tenant, "search", [{
        "messageId": accepted.draft.message_id or _header(harness, tenant, accepted.id)}])
    (tracked,) = found[0]["trackedEmails"]
    return dict(tracked)


def _header(harness: Harness, tenant: Tenant, message: int) -> str:
    with harness.session_ctx(tenant) as ctx:
        return str(ctx.session.execute(select(Message.message_id).where(
            Message.id == message)).scalar_one())


def test_a_managed_sender_block_rejects_and_a_permit_skips_spam_checks(
        harness: Harness, tenant: Tenant) -> None:
    assert deliver(harness, tenant, **SPAM)["status"] == "held"
    senders = Namespace("/api/managedsender/")
    senders.ok(harness, tenant, "permit-or-block-sender",
               [{"sender": PARTNER, "to": tenant.email, "action": "permit"}])
    assert deliver(harness, tenant, **SPAM)["status"] == "archived"
    senders.ok(harness, tenant, "permit-or-block-sender",
               [{"sender": PARTNER, "to": tenant.email, "action": "block"}])
    blocked = deliver(harness, tenant)
    assert (blocked["status"], blocked["info"]) == ("rejected", "Managed Sender - Blocked")


def test_an_anti_spoofing_bypass_lets_a_known_source_through(harness: Harness,
                                                             tenant: Tenant) -> None:
    spoofed = {"sender": f"billing@{tenant.domain}", "sender_ip": "203.0.113.9"}
    refused = deliver(harness, tenant, **spoofed)
    assert (refused["status"], refused["info"]) == ("rejected", "Anti-Spoofing Policy")
    Namespace("/api/policy/antispoofing-bypass/").ok(harness, tenant, "create-policy", [{
        "option": "enable_bypass", "policy": {
            "description": "Billing platform", "fromType": "everyone", "toType": "everyone",
            "conditions": {"sourceIPs": ["203.0.113.0/24"]}}}])
    assert deliver(harness, tenant, **spoofed)["status"] == "archived"


def test_an_address_alteration_policy_redirects_the_recipient(harness: Harness,
                                                              tenant: Tenant) -> None:
    alteration = Namespace("/api/policy/address-alteration/")
    users = Namespace("/api/user/")
    desk = f"desk@{tenant.domain}"
    users.ok(harness, tenant, "create-user", [{"emailAddress": desk}])
    (made,) = alteration.ok(harness, tenant, "create-address-alteration-set",
                            [{"description": "To the desk"}])
    alteration.ok(harness, tenant, "create-definition", [{
        "addressAlterationSetId": made["id"], "originalAddress": tenant.email,
        "alteredAddress": desk}])
    alteration.ok(harness, tenant, "create-policy", [{
        "addressAlterationSetId": made["id"], "policy": {"description": "All to the desk"}}])
    assert deliver(harness, tenant)["to"][0]["emailAddress"] == desk


def test_a_blocked_sender_policy_rejects(harness: Harness, tenant: Tenant) -> None:
    Namespace("/api/policy/blockedsenders/").ok(harness, tenant, "create-policy", [{
        "option": "block_sender", "policy": {
            "description": "No partner", "fromType": "individual_email_address",
            "fromValue": PARTNER, "toType": "internal_addresses"}}])
    refused = deliver(harness, tenant)
    assert (refused["status"], refused["info"]) == ("rejected", "Blocked Sender Policy")


def test_default_hold_policies_hold_malware_and_impersonation(harness: Harness,
                                                              tenant: Tenant) -> None:
    eicar = Attachment("invoice.zip", "application/zip", 68, "0" * 64,
                       content=world.MALWARE_MARKER)
    assert deliver(harness, tenant, attachments=(eicar,))["info"] == \
        "Message Hold Applied - Default Attachment Protection"
    lookalike = tenant.domain.replace("example", "examp1e")
    held = deliver(harness, tenant, sender=f"ceo@{lookalike}", reply_to="x@other.example.net")
    assert held["info"] == "Message Hold Applied - Default Impersonation Protection"
    listed = Namespace("/api/gateway/").ok(harness, tenant, "get-hold-message-list", [{}])
    assert {h["reasonCode"] for h in listed} == {"attachment", "impersonation"}
