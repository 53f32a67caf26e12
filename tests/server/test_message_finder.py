"""Message Finder over HTTP: searches by each index, the tracked emails' exact shape, a
copy's whole story, bad input, permissions, tenant isolation and the audit trail."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from api import DATE, Namespace, audit_events, failures, only_error

from mimicast.services import identity
from mimicast.services.context import utcnow
from mimicast.services.mail import accept
from mimicast.services.mail.facts import Attachment, Draft, Recipient
from mimicast.testing import Harness
from mimicast.testing.harness import Tenant
from mimicast.wire.dates import format_date

finder = Namespace("/api/message-finder/")
PARTNER = "news@partner.example.org"


@pytest.fixture
def mail(harness: Harness) -> dict[str, Any]:
    """An account with three messages: clean to Ann (with a file), spam to Bob (held), and
    Ann's reply going out."""
    tenant = harness.tenant()
    ann, bob = f"ann@{tenant.domain}", f"bob@{tenant.domain}"
    with harness.session_ctx(tenant) as ctx:
        identity.create_user(ctx, ann, name="Ann Archer")
        identity.create_user(ctx, bob, name="Bob Baker")
        now = utcnow()
        base = Draft(sender=PARTNER, recipients=(Recipient(ann, "Ann Archer"),),
                     received_at=now - timedelta(hours=3), external=True, from_name="Partner",
                     subject="Quarterly figures", text="Figures attached.",
                     sender_ip="198.51.100.7", message_id="<q3@partner.example.org>",
                     attachments=(Attachment("q3.pdf", "application/pdf", 4096, "a" * 64),))
        accepted = accept.accept(ctx, [
            base,
            replace(base, recipients=(Recipient(bob, "Bob Baker"),), attachments=(),
                    received_at=now - timedelta(hours=2), message_id="",
                    subject="URGENT: lottery winner, act now", text="click here",
                    spf="fail", dmarc="fail"),
            Draft(sender=ann, recipients=(Recipient(PARTNER, "Partner"),), external=False,
                  received_at=now - timedelta(hours=1), subject="Re: Quarterly figures",
                  in_reply_to="<q3@partner.example.org>", sender_ip="10.0.0.5")])
    return {"tenant": tenant, "ann": ann, "bob": bob, "accepted": accepted}


def search(harness: Harness, tenant: Tenant, **item: Any) -> list[dict[str, Any]]:
    (found,) = finder.ok(harness, tenant, "search", [item])
    return list(found["trackedEmails"])


def test_search_by_sender_finds_each_copy_with_the_real_shape(harness: Harness,
                                                              mail: dict[str, Any]) -> None:
    tenant = mail["tenant"]
    found = search(harness, tenant, advancedTrackAndTraceOptions={"from": PARTNER})
    assert [(t["to"][0]["emailAddress"], t["status"]) for t in found] == [
        (mail["bob"], "held"), (mail["ann"], "archived")]
    held, clean = found
    assert set(clean) == {"id", "status", "info", "fromEnv", "fromHdr", "to", "subject",
                          "received", "sent", "senderIP", "route", "attachments",
                          "detectionLevel", "spamScore"}
    assert clean["info"] == "Indexed and archived" and clean["route"] == "inbound"
    assert clean["fromEnv"] == {"emailAddress": PARTNER}
    assert clean["fromHdr"] == {"emailAddress": PARTNER, "displayableName": "Partner"}
    assert clean["to"] == [{"emailAddress": mail["ann"], "displayableName": "Ann Archer"}]
    assert clean["attachments"] is True and clean["senderIP"] == "198.51.100.7"
    assert DATE.match(clean["received"]) and DATE.match(clean["sent"])
    assert clean["sent"] < clean["received"]
    assert held["info"] == "Message Hold Applied - Default Spam Scanning Definition"
    assert held["detectionLevel"] == "relaxed" and held["spamScore"] >= 60


def test_search_by_each_index_and_narrowing(harness: Harness, mail: dict[str, Any]) -> None:
    tenant = mail["tenant"]

    def recipients(**item: Any) -> list[str]:
        return [t["to"][0]["emailAddress"] for t in search(harness, tenant, **item)]

    assert recipients(advancedTrackAndTraceOptions={"to": mail["ann"].upper()}) == [mail["ann"]]
    assert recipients(messageId="q3@partner.example.org") == [mail["ann"]]
    assert recipients(messageId="<q3@partner.example.org>") == [mail["ann"]]
    assert recipients(advancedTrackAndTraceOptions={"from": PARTNER, "subject": "quarterly"}
                      ) == [mail["ann"]]
    assert recipients(advancedTrackAndTraceOptions={"from": PARTNER, "to": mail["bob"]}
                      ) == [mail["bob"]]
    assert recipients(advancedTrackAndTraceOptions={"senderIP": "10.0.0.5"}) == [PARTNER]
    assert recipients(route=["outbound"]) == [PARTNER]
    assert recipients(route="inbound", advancedTrackAndTraceOptions={"route": "outbound"}
                      ) == [PARTNER]
    assert recipients() == [PARTNER, mail["bob"], mail["ann"]]
    assert recipients(start=format_date(utcnow() - timedelta(minutes=150))) == [
        PARTNER, mail["bob"]]
    body = finder.post(harness, tenant, "search", [{}], meta={"pagination": {"pageSize": 2}})
    assert len(body["data"][0]["trackedEmails"]) == 2
    following = finder.post(harness, tenant, "search", [{}], meta={"pagination": {
        "pageSize": 2, "pageToken": body["meta"]["pagination"]["next"]}})
    assert [t["to"][0]["emailAddress"] for t in following["data"][0]["trackedEmails"]] == [
        mail["ann"]]


def test_searches_are_audited(harness: Harness, mail: dict[str, Any]) -> None:
    tenant = mail["tenant"]
    search(harness, tenant, searchReason="phishing report",
           advancedTrackAndTraceOptions={"from": PARTNER})
    (event,) = audit_events(harness, tenant, category="email_logs")
    assert event.event_type == "Message tracking search"
    assert PARTNER in event.info and "phishing report" in event.info


@pytest.mark.parametrize(("item", "code", "field"), [
    ({"start": format_date(utcnow() - timedelta(days=45))},
     "err_track_and_trace_invalid_start_date", "start"),
    ({"start": "not a date"}, "err_validation_invalid_value", "start"),
    ({"route": ["sideways"]}, "err_validation_invalid_value", "route[0]"),
    ({"advancedTrackAndTraceOptions": {"from": "not-an-address"}},
     "err_validation_invalid_email_address", "advancedTrackAndTraceOptions.from"),
    ({"advancedTrackAndTraceOptions": {"subject": "x" * 5000}}, None,
     "advancedTrackAndTraceOptions.subject"),
])
def test_bad_searches_fail_on_their_field(harness: Harness, mail: dict[str, Any],
                                          item: dict[str, Any], code: str | None,
                                          field: str) -> None:
    body = finder.post(harness, mail["tenant"], "search", [item])
    [(key, failed_code, failed_field)] = failures(body)
    assert key == item and failed_field == field and body["data"] == []
    assert code is None or failed_code == code


def test_search_takes_exactly_one_item(harness: Harness, mail: dict[str, Any]) -> None:
    error = finder.request_error(harness, mail["tenant"], "search", [{}, {}])
    assert error["code"] == "err_validation_item_count"


def test_message_info_tells_a_copys_story(harness: Harness, mail: dict[str, Any]) -> None:
    tenant = mail["tenant"]
    held, clean = search(harness, tenant, advancedTrackAndTraceOptions={"from": PARTNER})
    delivered, queued = finder.ok(harness, tenant, "get-message-info",
                                  [{"id": clean["id"]}, {"id": held["id"]}])
    assert delivered["id"] == clean["id"] and delivered["status"] == "archived"
    assert set(delivered["retentionInfo"]) == {"originalPurgeDate", "currentPurgeDate",
                                               "purgeBasedOn", "retentionAdjustmentDays"}
    message_info = delivered["recipientInfo"]["messageInfo"]
    assert message_info["fromEnvelope"] == PARTNER and message_info["to"] == mail["ann"]
    components = delivered["recipientInfo"]["recipientMetaInfo"]["components"]
    assert [c["name"] for c in components] == ["transmission.eml", "q3.pdf"]
    assert components[1]["hash"] == "a" * 64
    assert delivered["deliveredMessage"][mail["ann"]]["deliveryMetaInfo"]["emailAddress"] == \
        mail["ann"]
    assert "queueInfo" not in delivered or delivered["queueInfo"] is None
    assert queued["queueInfo"]["heldGroup"] == "User"
    assert queued["queueInfo"]["reason"] == "Relaxed Spam Detection"
    spam = queued["spamInfo"]
    assert spam["spamProcessingDetail"]["spf"] == {"allow": False, "info": "unknown"}
    assert spam["spamProcessingDetail"]["verdict"]["decision"] == "spam"
    error = only_error(finder.post(harness, tenant, "get-message-info", [{"id": "nope"}]),
                       key={"id": "nope"})
    assert (error["code"], error["field"]) == ("err_message_not_found", "id")


def test_message_finder_needs_tracking_read_and_keeps_tenants_apart(
        harness: Harness, mail: dict[str, Any], other: Tenant) -> None:
    nobody = harness.tenant(role=None)
    for action, data in (("search", [{}]), ("get-message-info", [{"id": "x"}])):
        assert "Gateway | Tracking | Read" in finder.forbidden(harness, nobody, action, data)
    assert search(harness, other, advancedTrackAndTraceOptions={"from": PARTNER}) == []
    (clean,) = search(harness, mail["tenant"], advancedTrackAndTraceOptions={"to": mail["ann"]})
    error = only_error(finder.post(harness, other, "get-message-info", [{"id": clean["id"]}]))
    assert error["code"] == "err_message_not_found"
