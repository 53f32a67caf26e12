"""email/send-email over HTTP: a message sent through the API goes through the gateway and
can then be found, delivered or held; bad input fails on its field."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from api import Namespace, audit_events, failures

from mimicast.services.mail import world
from mimicast.testing import Harness
from mimicast.testing.harness import Tenant

email = Namespace("/api/email/")
finder = Namespace("/api/message-finder/")
gateway = Namespace("/api/gateway/")


@pytest.fixture
def tenant(harness: Harness) -> Tenant:
    return harness.tenant()


def test_sent_mail_is_delivered_and_found(harness: Harness, tenant: Tenant) -> None:
    (sent,) = email.ok(harness, tenant, "send-email", [{
        "to": [{"emailAddress": "buyer@customer.example.com", "displayableName": "Buyer"}],
        "cc": ["Ops@Customer.example.com"], "subject": "Your order",
        "plainBody": {"content": "Shipped today: https://track.example.com/123"},
        "attachments": [{"filename": "invoice.txt", "contentType": "text/plain",
                         "content": base64.b64encode(b"total: 42").decode()}]}])
    assert set(sent) == {"id", "messageId"} and sent["messageId"].startswith("<")
    found = finder.ok(harness, tenant, "search", [{"messageId": sent["messageId"]}])
    tracked = found[0]["trackedEmails"]
    assert [(t["to"][0]["emailAddress"], t["status"], t["route"]) for t in tracked] == [
        ("ops@customer.example.com", "archived", "outbound"),
        ("buyer@customer.example.com", "archived", "outbound")]
    assert tracked[1]["id"] == sent["id"] and tracked[1]["fromEnv"] == {
        "emailAddress": tenant.email}
    (detail,) = gateway.ok(harness, tenant, "message/get-message-detail", [{"id": sent["id"]}])
    # URL Protect rewrites what comes in, not what the account's users send out.
    assert detail["messageBodyPreview"] == "Shipped today: https://track.example.com/123"
    assert [(a["filename"], a["size"]) for a in detail["attachments"]] == [("invoice.txt", 9)]
    assert detail["cc"] == [{"emailAddress": "ops@customer.example.com"}]
    assert [e.event_type for e in audit_events(harness, tenant, category="email_logs")] == [
        "Email sent", "Message tracking search"]


def test_sent_malware_is_held_for_review(harness: Harness, tenant: Tenant) -> None:
    (sent,) = email.ok(harness, tenant, "send-email", [{
        "to": [{"emailAddress": tenant.email}], "subject": "Test file", "htmlBody": "<p>x</p>",
        "attachments": [{"filename": "eicar.com",
                         "content": base64.b64encode(world.MALWARE_MARKER).decode()}]}])
    (held,) = gateway.ok(harness, tenant, "get-hold-message-list", [{}])
    assert held["id"] == sent["id"] and held["reason"] == "Malicious Attachment"
    assert held["route"] == "INTERNAL" and held["hasAttachments"] is True


@pytest.mark.parametrize(("item", "field"), [
    ({"subject": "nobody"}, "to"),
    ({"to": [{"emailAddress": "not an address"}]}, "to[0].emailAddress"),
    ({"to": [{}]}, "to[0].emailAddress"),
    ({"to": ["a@b.example.com"], "from": {"emailAddress": "me@elsewhere.example.net"}},
     "from"),
    ({"to": ["a@b.example.com"], "attachments": [{"filename": "x", "content": "%%%"}]},
     "attachments[0].content"),
    ({"to": ["a@b.example.com"], "attachments": [{"content": "eA=="}]},
     "attachments[0].filename"),
    ({"to": "a@b.example.com"}, "to"),
])
def test_bad_messages_fail_on_their_field(harness: Harness, tenant: Tenant,
                                          item: dict[str, Any], field: str) -> None:
    body = email.post(harness, tenant, "send-email", [item, {"to": ["ok@b.example.com"]}])
    [(key, _code, failed)] = failures(body)
    assert key == item and failed == field and len(body["data"]) == 1


def test_sending_needs_its_permission(harness: Harness) -> None:
    nobody = harness.tenant(role=None)
    assert "Gateway | Email | Send" in email.forbidden(harness, nobody, "send-email",
                                                        [{"to": ["a@b.example.com"]}])
