"""The hold queue and the gateway's other queues over HTTP: held mail listed, summed up,
released and rejected (both audited), the release log, rejections, processing and queue
figures; shapes, bad input, permissions and tenant isolation."""

from __future__ import annotations

import base64
from dataclasses import replace
from datetime import timedelta
from email import message_from_bytes, policy
from typing import Any

import pytest
from api import DATE, Namespace, audit_events, failures, only_error
from sqlalchemy import select

from mimicast.services import identity
from mimicast.services.context import utcnow
from mimicast.services.mail import accept, content, delivery, views, world
from mimicast.services.mail.facts import Attachment, Draft, Recipient
from mimicast.store.schema import MessageRecipient
from mimicast.testing import Harness
from mimicast.testing.harness import Tenant
from mimicast.wire.dates import format_date

gateway = Namespace("/api/gateway/")
PARTNER = "news@partner.example.org"
SPAM = {"subject": "URGENT: you are a lottery winner, act now",
        "text": "Click here for free money", "dmarc": "fail", "spf": "fail"}


def send(harness: Harness, tenant: Tenant, *drafts: Draft) -> list[accept.Accepted]:
    """Mail reaching the tenant's gateway (as the simulator sends it)."""
    with harness.session_ctx(tenant) as ctx:
        return accept.accept(ctx, list(drafts))


def sent_copy(harness: Harness, tenant: Tenant, message: int) -> int:
    """The recipient row of a one-recipient message."""
    with harness.session_ctx(tenant) as ctx:
        return int(ctx.session.execute(select(MessageRecipient.id).where(
            MessageRecipient.message_id == message)).scalar_one())


def inbound(to: str, minutes_ago: int = 5, **changes: Any) -> Draft:
    draft = Draft(sender=PARTNER, recipients=(Recipient(to, "Someone"),),
                  received_at=utcnow() - timedelta(minutes=minutes_ago), external=True,
                  from_name="Partner News", subject="Minutes of Tuesday",
                  text="See you next week.", sender_ip="198.51.100.7",
                  helo="mx.partner.example.org")
    return replace(draft, **changes)


@pytest.fixture
def tenant(harness: Harness) -> Tenant:
    """A fresh account per test: each fills its own mail flow."""
    return harness.tenant()


@pytest.fixture
def held(harness: Harness, tenant: Tenant) -> dict[str, Any]:
    """Two held spam messages (one to the administrator, one to Ann) and a clean one."""
    ann = f"ann@{tenant.domain}"
    with harness.session_ctx(tenant) as ctx:
        identity.create_user(ctx, ann, name="Ann Archer")
    send(harness, tenant, inbound(tenant.email, 30, **SPAM),
         inbound(ann, 20, **{**SPAM, "subject": "Lottery winner: claim your prize"}),
         inbound(ann, 10))
    return {"ann": ann}


def hold_list(harness: Harness, tenant: Tenant, **item: Any) -> list[dict[str, Any]]:
    return gateway.ok(harness, tenant, "get-hold-message-list", [item])


def test_the_hold_list_shows_the_callers_own_or_with_admin_everyones(
        harness: Harness, tenant: Tenant, held: dict[str, Any]) -> None:
    (own,) = hold_list(harness, tenant)
    assert set(own) == {"id", "dateReceived", "reason", "reasonId", "reasonCode", "heldGroup",
                        "from", "fromHeader", "to", "toHeader", "subject", "route",
                        "hasAttachments", "size", "policyInfo"}
    assert own["reason"] == "Relaxed Spam Detection" and own["reasonId"] == \
        "RelaxedSpamDetection" and own["reasonCode"] == "spam_relaxed"
    assert own["policyInfo"] == "Default Spam Scanning Definition"
    assert own["from"] == {"emailAddress": PARTNER}
    assert own["fromHeader"] == {"displayableName": "Partner News", "emailAddress": PARTNER}
    assert own["to"] == {"displayableName": "Someone", "emailAddress": tenant.email}
    assert own["route"] == "INBOUND" and own["heldGroup"] == "User"
    assert own["hasAttachments"] is False and own["size"] > 0 and DATE.match(own["dateReceived"])
    everyone = hold_list(harness, tenant, admin="true")
    assert [h["to"]["emailAddress"] for h in everyone] == [held["ann"], tenant.email]
    assert hold_list(harness, tenant, admin=True) == everyone
    found = hold_list(harness, tenant, admin=True,
                      searchBy={"fieldName": "subject", "value": "CLAIM YOUR"})
    assert [h["to"]["emailAddress"] for h in found] == [held["ann"]]
    assert len(hold_list(harness, tenant, admin=True,
                         searchBy={"fieldName": "reasonCode", "value": "SPAM_"})) == 2
    assert hold_list(harness, tenant, admin=True,
                     searchBy={"fieldName": "all", "value": "no such text"}) == []
    assert hold_list(harness, tenant, admin=True,
                     filterBy=[{"fieldName": "route", "value": "outbound"}]) == []
    assert len(hold_list(harness, tenant, admin=True,
                         filterBy=[{"fieldName": "heldGroup", "value": "user"}])) == 2
    assert hold_list(harness, tenant, admin=True,
                     start=format_date(utcnow() - timedelta(minutes=25))) == everyone[:1]
    assert gateway.ok(harness, tenant, "find-held-messages", [{"admin": True}]) == everyone
    body = gateway.post(harness, tenant, "get-hold-message-list", [{"admin": True}],
                        meta={"pagination": {"pageSize": 1}})
    assert body["meta"]["pagination"]["totalCount"] == 2 and len(body["data"]) == 1
    assert gateway.ok(harness, tenant, "get-hold-summary-list", []) == [
        {"policyInfo": "Default Spam Scanning Definition", "numberOfItems": 2}]


@pytest.mark.parametrize(("item", "field"), [
    ({"searchBy": {"fieldName": "colour", "value": "x"}}, "searchBy.fieldName"),
    ({"filterBy": [{"fieldName": "route", "value": "sideways"}]}, "filterBy[0].value"),
    ({"filterBy": [{"fieldName": "heldGroup", "value": "nobody"}]}, "filterBy[0].value"),
    ({"filterBy": [{"fieldName": "size", "value": "1"}]}, "filterBy[0].fieldName"),
    ({"start": "yesterday"}, "start"),
    ({"start": "2026-11-02T00:00:00+0000", "end": "2026-11-01T00:00:00+0000"}, "end"),
    ({"searchBy": {"value": "x" * 5000}}, "searchBy.value"),
])
def test_bad_hold_list_requests_fail_on_their_field(harness: Harness, tenant: Tenant,
                                                    item: dict[str, Any], field: str) -> None:
    body = gateway.post(harness, tenant, "get-hold-message-list", [item])
    [(key, _code, failed)] = failures(body)
    assert failed == field and body["data"] == []


def test_release_delivers_and_is_audited(harness: Harness, tenant: Tenant,
                                         held: dict[str, Any]) -> None:
    (own,) = hold_list(harness, tenant)
    assert gateway.ok(harness, tenant, "hold-release", [{"id": own["id"]}]) == [
        {"id": own["id"], "release": True}]
    assert hold_list(harness, tenant) == []
    error = only_error(gateway.post(harness, tenant, "hold-release", [{"id": own["id"]}]),
                       key={"id": own["id"]})
    assert (error["code"], error["field"]) == ("err_message_not_held", "id")
    error = only_error(gateway.post(harness, tenant, "hold-release", [{"id": "bogus"}]))
    assert error["code"] == "err_message_not_found"
    (entry,) = gateway.ok(harness, tenant, "get-held-release-logs", [])[0]["heldReleaseLogs"]
    assert entry["status"] == "released" and "rejectReason" not in entry
    assert entry["operator"] == {"emailAddress": tenant.email}
    assert entry["heldReason"] == "Default Spam Scanning Definition"
    assert entry["messageInfo"] == "Spam Policy" and entry["to"] == [
        {"displayableName": "Someone", "emailAddress": tenant.email}]
    assert [e.event_type for e in audit_events(harness, tenant, category="email_logs")] == [
        "Held message released"]
    info = Namespace("/api/message-finder/").ok(
        harness, tenant, "get-message-info", [{"id": own["id"]}])[0]
    assert info["status"] == "archived" and tenant.email in info["deliveredMessage"]


def test_reject_refuses_all_of_an_items_ids_or_none(harness: Harness, tenant: Tenant,
                                                    held: dict[str, Any]) -> None:
    ids = [h["id"] for h in hold_list(harness, tenant, admin=True)]
    body = gateway.post(harness, tenant, "hold-reject", [{"ids": [ids[0], "bogus"]}])
    assert [(code, field) for _key, code, field in failures(body)] == [
        ("err_message_not_found", "ids[1]")]
    assert len(hold_list(harness, tenant, admin=True)) == 2
    error = only_error(gateway.post(harness, tenant, "hold-reject", [
        {"ids": ids, "reasonType": "I just don't like it"}]))
    assert error["field"] == "reasonType"
    assert gateway.ok(harness, tenant, "hold-reject", [{
        "ids": ids, "reasonType": "message goes against email policies",
        "message": "Not here", "notify": "true"}]) == [{"id": i, "reject": True} for i in ids]
    assert hold_list(harness, tenant, admin=True) == []
    logs = gateway.ok(harness, tenant, "get-held-release-logs", [])[0]["heldReleaseLogs"]
    assert [(log["status"], log["rejectReason"]) for log in logs] == [
        ("rejected", "Not here"), ("rejected", "Not here")]
    assert [e.event_type for e in audit_events(harness, tenant, category="email_logs")] == [
        "Held message rejected"] * 2
    rejected = gateway.ok(harness, tenant, "get-rejections", [{"admin": True}])
    assert [r["type"] for r in rejected] == ["Rejected by an administrator"] * 2


def test_rejections_show_what_a_blocked_sender_policy_refused(harness: Harness,
                                                              tenant: Tenant) -> None:
    Namespace("/api/policy/blockedsenders/").ok(harness, tenant, "create-policy", [{
        "option": "block_sender", "policy": {
            "description": "No partner news", "fromType": "email_domain",
            "fromValue": "partner.example.org", "toType": "everyone"}}])
    send(harness, tenant, inbound(tenant.email))
    (rejection,) = gateway.ok(harness, tenant, "get-rejections", [{}])
    assert rejection == {"id": rejection["id"], "fromAddress": PARTNER,
                         "toAddress": tenant.email, "subject": "Minutes of Tuesday",
                         "type": "Blocked Sender Policy", "info": "No partner news",
                         "remoteIp": "198.51.100.7", "created": rejection["created"]}
    assert gateway.ok(harness, tenant, "get-rejections", [
        {"admin": True, "searchBy": {"fieldName": "remoteIp", "value": "203.0.113"}}]) == []
    assert gateway.ok(harness, tenant, "get-rejections", [{"mailbox": "x@y.example"}]) == []


def greylisting_domain() -> str:
    """An outside domain whose server greylists (the outside world's choice)."""
    return next(domain for domain in (f"mx{n}.example.net" for n in range(10_000))
                if world.greylists(domain))


def test_mail_to_a_greylisting_server_waits_in_the_queue_for_its_retry(
        harness: Harness, tenant: Tenant) -> None:
    now = utcnow()
    end = now.replace(minute=now.minute - now.minute % 10, second=0, microsecond=0)
    slow = f"buyer@{greylisting_domain()}"

    def outbound(minutes_ago: int, subject: str) -> Draft:
        return Draft(sender=tenant.email, recipients=(Recipient(slow),),
                     received_at=end - timedelta(minutes=minutes_ago), external=False,
                     subject=subject, sender_ip="10.0.0.5")

    waiting, retried = send(harness, tenant, outbound(2, "Quote"), outbound(40, "Order"))
    assert [m.decision.recipients[0].status for m in (waiting, retried)] == ["queued",
                                                                              "delivered"]
    ((queued,),) = [page["messages"] for page in gateway.ok(
        harness, tenant, "find-processing-messages", [{}])]
    assert queued["to"] == [{"emailAddress": slow}] and queued["routing"] == "outbound"
    assert gateway.ok(harness, tenant, "find-processing-messages", [
        {"filterBy": {"fieldName": "route", "value": "inbound"}}]) == [{"messages": []}]
    (figures,) = Namespace("/api/email/").ok(harness, tenant, "get-email-queues", [
        {"start": format_date(end - timedelta(hours=1)), "end": format_date(end)}])
    # Waiting from 2 minutes before `end`: the last sample counts it.
    assert [s["count"] for s in figures["outboundEmailQueue"]] == [0, 0, 0, 0, 0, 0, 1]
    assert {s["count"] for s in figures["inboundEmailQueue"]} == {0}
    finder = Namespace("/api/message-finder/")

    def tracked(subject: str) -> dict[str, Any]:
        (found,) = finder.ok(harness, tenant, "search", [
            {"advancedTrackAndTraceOptions": {"to": slow, "subject": subject}}])
        (copy,) = found["trackedEmails"]
        return dict(copy)

    assert (tracked("Quote")["status"], tracked("Order")["info"]) == (
        "queued", "Delivered on the second attempt")
    # The retry comes 15 minutes after it came in (the server tries every minute).
    harness.clock.advance(minutes=14)
    try:
        delivery.deliver_all(harness.deps)
        assert gateway.ok(harness, tenant, "find-processing-messages", [{}]) == [
            {"messages": []}]
        assert (tracked("Quote")["status"], tracked("Quote")["info"]) == (
            "archived", "Delivered on the second attempt")
    finally:
        harness.clock.reset()


def test_processing_and_queue_figures(harness: Harness, tenant: Tenant) -> None:
    send(harness, tenant, inbound(tenant.email))
    assert gateway.ok(harness, tenant, "find-processing-messages", [{}]) == [{"messages": []}]
    error = only_error(gateway.post(harness, tenant, "find-processing-messages",
                                    [{"sortOrder": "sideways"}]))
    assert error["field"] == "sortOrder"
    assert gateway.ok(harness, tenant, "find-processing-messages", [
        {"sortOrder": "asc", "filterBy": {"fieldName": "route", "value": "inbound"}}]) == [
        {"messages": []}]
    error = only_error(gateway.post(harness, tenant, "find-processing-messages",
                                    [{"filterBy": [{"fieldName": "route", "value": "up"}]}]))
    assert error["field"] == "filterBy[0].value"
    end = utcnow().replace(minute=0, second=0, microsecond=0)
    queues = Namespace("/api/email/").ok(harness, tenant, "get-email-queues", [
        {"start": format_date(end - timedelta(hours=1)), "end": format_date(end)}])
    (figures,) = queues
    assert [s["date"] for s in figures["inboundEmailQueue"]] == [
        format_date(end - timedelta(minutes=m)) for m in range(60, -1, -10)]
    assert {s["count"] for s in figures["outboundEmailQueue"]} == {0}
    body = Namespace("/api/email/").post(harness, tenant, "get-email-queues", [{"start": "x"}])
    assert {field for _key, _code, field in failures(body)} == {"end"}


def test_every_gateway_endpoint_needs_its_permission(harness: Harness) -> None:
    no_role_tenant = harness.tenant(role=None)
    for action, data in (("get-hold-message-list", []), ("find-held-messages", []),
                         ("get-hold-summary-list", []), ("hold-release", [{"id": "x"}]),
                         ("hold-reject", [{"ids": ["x"]}]), ("get-held-release-logs", []),
                         ("get-rejections", []), ("find-processing-messages", [])):
        assert "Account | Monitoring" in gateway.forbidden(harness, no_role_tenant, action,
                                                            data)
    assert "Queues" in Namespace("/api/email/").forbidden(
        harness, no_role_tenant, "get-email-queues", [{"start": "x", "end": "y"}])


def test_read_only_administrators_cannot_release(harness: Harness, basic: Tenant) -> None:
    assert gateway.ok(harness, basic, "get-hold-message-list", []) == []
    assert "Held | Edit" in gateway.forbidden(harness, basic, "hold-release", [{"id": "x"}])


def test_tenants_see_and_release_only_their_own_mail(harness: Harness, tenant: Tenant,
                                                     held: dict[str, Any],
                                                     other: Tenant) -> None:
    assert hold_list(harness, other, admin=True) == []
    (own,) = hold_list(harness, tenant)
    error = only_error(gateway.post(harness, other, "hold-release", [{"id": own["id"]}]))
    assert error["code"] == "err_message_not_found"
    assert gateway.ok(harness, other, "get-hold-summary-list", []) == []


def test_message_detail_shows_links_as_url_protect_left_them(harness: Harness,
                                                            tenant: Tenant) -> None:
    url_protect = Namespace("/api/ttp/url/")
    url_protect.ok(harness, tenant, "create-managed-url", [
        {"url": "https://intranet.partner.example.org/", "action": "permit",
         "disableRewrite": True}])
    links = ("https://docs.partner.example.org/a", "https://intranet.partner.example.org/")
    (sent,) = send(harness, tenant, inbound(tenant.email, links=links, seed=11))
    (tracked,) = Namespace("/api/message-finder/").ok(harness, tenant, "search", [
        {"advancedTrackAndTraceOptions": {"to": tenant.email}}])[0]["trackedEmails"]
    assert tracked["id"] == views.secure_id(sent_copy(harness, tenant, sent.id))
    (detail,) = gateway.ok(harness, tenant, "message/get-message-detail",
                           [{"id": tracked["id"]}])
    assert detail["from"] == {"emailAddress": PARTNER} and detail["to"] == [
        {"emailAddress": tenant.email}]
    assert {h["name"] for h in detail["headers"]} >= {"From", "To", "Subject", "Date",
                                                      "Message-ID", "Received"}
    preview = detail["messageBodyPreview"]
    rewritten = next(word for word in preview.split() if "protect-us.mimecast.com" in word)
    assert links[0] not in preview and links[1] in preview.split()
    assert url_protect.ok(harness, tenant, "decode-url", [{"url": rewritten}]) == [
        {"url": links[0], "success": True}]
    # The same seed renders the same text on every call.
    assert gateway.ok(harness, tenant, "message/get-message-detail",
                      [{"id": tracked["id"]}]) == [detail]


def test_get_file_returns_attachments_and_whole_messages(harness: Harness,
                                                         tenant: Tenant) -> None:
    pdf = content.attachment_bytes(11, "q3.pdf", 3000)
    files = (Attachment("q3.pdf", "application/pdf", 3000, content.sha256(pdf)),)
    (sent,) = send(harness, tenant, inbound(tenant.email, seed=11, attachments=files,
                                            links=("https://docs.partner.example.org/a",)))
    copy_id = views.secure_id(sent_copy(harness, tenant, sent.id))
    (detail,) = gateway.ok(harness, tenant, "message/get-message-detail", [{"id": copy_id}])
    (listed,) = detail["attachments"]
    response = gateway.call(harness, tenant, "message/get-file", [{"id": listed["id"]}])
    assert response.status_code == 200 and response.content == pdf
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == 'attachment; filename="q3.pdf"'
    assert content.sha256(response.content) == listed["sha256"]
    eml = gateway.call(harness, tenant, "message/get-file", [{"id": copy_id}])
    assert eml.headers["content-type"] == "message/rfc822"
    parsed = message_from_bytes(eml.content, policy=policy.default)
    assert parsed["Subject"] == "Minutes of Tuesday" and tenant.email in parsed["To"]
    assert parsed["Message-ID"] == detail["headers"][4]["values"][0]
    (part,) = list(parsed.iter_attachments())
    assert part.get_filename() == "q3.pdf" and part.get_content() == pdf
    assert max(len(line) for line in eml.content.split(b"\r\n")) <= 78  # RFC 5322
    body = parsed.get_body(("plain",))
    assert body is not None and "protect-us.mimecast.com" in body.get_content()
    # The same bytes on every call: nothing random in the rendering.
    assert gateway.call(harness, tenant, "message/get-file", [{"id": copy_id}]).content == \
        eml.content
    error = only_error(gateway.post(harness, tenant, "message/get-file", [{"id": "nope"}]))
    assert error["code"] == "err_message_not_found"


def test_sent_attachments_come_back_byte_for_byte(harness: Harness, tenant: Tenant) -> None:
    data = bytes(range(256)) * 3
    (sent,) = Namespace("/api/email/").ok(harness, tenant, "send-email", [{
        "to": ["buyer@customer.example.com"], "subject": "Data",
        "htmlBody": {"content": "<p>See <b>attached</b></p>"},
        "attachments": [{"filename": "data.bin",
                         "content": base64.b64encode(data).decode()}]}])
    (detail,) = gateway.ok(harness, tenant, "message/get-message-detail", [{"id": sent["id"]}])
    response = gateway.call(harness, tenant, "message/get-file",
                            [{"id": detail["attachments"][0]["id"]}])
    assert response.content == data
    eml = gateway.call(harness, tenant, "message/get-file", [{"id": sent["id"]}]).content
    assert b"<p>See <b>attached</b></p>" in eml
    (part,) = message_from_bytes(eml, policy=policy.default).iter_attachments()
    assert part.get_filename() == "data.bin" and part.get_content() == data
