"""The archive's logs over real HTTP, served from the audit trail: Message Finder's searches in
`archive/get-search-logs` and `get-archive-search-logs`, views of mail content (a message's
detail, a message or file downloaded) in `archive/get-view-logs`; and the journal connector of
`journaling/get-service`. Shapes, filters, windows, paging, bad input, permissions and tenant
isolation."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

import pytest
from api import DATE, Namespace, audit_events, failures, only_error

from mimicast.services import audit
from mimicast.services.context import utcnow
from mimicast.services.mail import accept
from mimicast.services.mail.facts import Draft, Recipient
from mimicast.testing import Harness
from mimicast.testing.harness import Tenant
from mimicast.wire.dates import format_date

ARCHIVE = Namespace("/api/archive/")
FINDER = Namespace("/api/message-finder/")
GATEWAY = Namespace("/api/gateway/")
EMAIL = Namespace("/api/email/")
JOURNALING = Namespace("/api/journaling/")
PARTNER = "news@partner.example.org"
BUYER = "buyer@customer.example.com"
REASON = 'phishing report "urgent" (case 7)'


def window(minutes: int = 10) -> dict[str, str]:
    now = utcnow()
    return {"start": format_date(now - timedelta(minutes=minutes)),
            "end": format_date(now + timedelta(minutes=1))}


def search_logs(harness: Harness, tenant: Tenant, action: str = "get-search-logs",
                **item: Any) -> list[dict[str, Any]]:
    body = ARCHIVE.post(harness, tenant, action, [item], {"pagination": {"pageSize": 100}})
    assert body["fail"] == [], body
    (page,) = body["data"]
    return list(page["logs"])


def view_logs(harness: Harness, tenant: Tenant, **item: Any) -> list[dict[str, Any]]:
    return ARCHIVE.ok(harness, tenant, "get-view-logs", [item],
                      {"pagination": {"pageSize": 100}})


# Search logs --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def searched(harness: Harness, tenant: Tenant) -> dict[str, Any]:
    """Three Message Finder searches by the tenant's administrator, and a second page of one
    (not a search of its own)."""
    with harness.session_ctx(tenant) as ctx:
        accept.accept(ctx, [Draft(sender=PARTNER, recipients=(Recipient(tenant.email),),
                                  received_at=utcnow() - timedelta(minutes=m), external=True,
                                  subject="Invoice", sender_ip="198.51.100.7")
                            for m in (3, 4)])
    first = FINDER.post(harness, tenant, "search", [
        {"advancedTrackAndTraceOptions": {"from": PARTNER}, "searchReason": REASON}],
        {"pagination": {"pageSize": 1}})
    FINDER.ok(harness, tenant, "search", [{"advancedTrackAndTraceOptions": {"from": PARTNER}}],
              {"pagination": {"pageSize": 1,
                              "pageToken": first["meta"]["pagination"]["next"]}})
    FINDER.ok(harness, tenant, "search", [{"messageId": "abc@partner.example.org"}])
    FINDER.ok(harness, tenant, "search", [{"advancedTrackAndTraceOptions": {
        "to": tenant.email, "subject": "invoice", "route": ["inbound", "outbound"]}}])
    return {"window": window()}


def test_searches_show_as_message_tracking_searches(harness: Harness, tenant: Tenant,
                                                    searched: dict[str, Any]) -> None:
    logs = search_logs(harness, tenant, **searched["window"])
    assert [(s["searchText"], s["searchReason"]) for s in logs] == [
        (f"[To : {tenant.email}] [Subject : invoice] [Route : inbound, outbound]", ""),
        ("[Message ID : <abc@partner.example.org>]", ""),
        (f"[From : {PARTNER}]", REASON)]
    for entry in logs:
        assert entry == {"createTime": entry["createTime"], "emailAddr": tenant.email,
                         "source": "archive", "searchText": entry["searchText"],
                         "searchReason": entry["searchReason"],
                         "description": "Message Tracking Search", "isAdmin": True}
        assert DATE.match(entry["createTime"])
    assert search_logs(harness, tenant, "get-archive-search-logs", **searched["window"]) == logs
    # The audit trail holds the same events, readable as they are.
    infos = [e.info for e in audit_events(harness, tenant, category="email_logs",
                                          event_type="Message tracking search")]
    assert infos[0] == f'Reason "phishing report \\"urgent\\" (case 7)": [From : {PARTNER}]'


def test_search_logs_filter_by_query_and_window(harness: Harness, tenant: Tenant,
                                                searched: dict[str, Any]) -> None:
    logs = search_logs(harness, tenant, **searched["window"])
    assert search_logs(harness, tenant, **searched["window"], query="PARTNER.example") == \
        logs[1:]
    assert search_logs(harness, tenant, **searched["window"], query=tenant.email) == logs
    assert search_logs(harness, tenant, **searched["window"], query="nothing like it") == []
    later = {"start": searched["window"]["end"]}
    assert search_logs(harness, tenant, **later) == []
    # Today by default.
    for data in ([], [{}], [{"start": None, "query": ""}]):
        (page,) = ARCHIVE.ok(harness, tenant, "get-search-logs", data)
        assert page["logs"] == logs


def test_search_logs_page_by_key(harness: Harness, tenant: Tenant,
                                 searched: dict[str, Any]) -> None:
    logs = search_logs(harness, tenant, **searched["window"])
    seen, token = [], None
    while True:
        meta: dict[str, Any] = {"pageSize": 1, **({"pageToken": token} if token else {})}
        body = ARCHIVE.post(harness, tenant, "get-archive-search-logs",
                            [searched["window"]], {"pagination": meta})
        (page,) = body["data"]
        seen += page["logs"]
        assert body["meta"]["pagination"]["totalCount"] == 3
        token = body["meta"]["pagination"].get("next")
        if not token:
            break
    assert seen == logs


@pytest.mark.store_agnostic
@pytest.mark.parametrize("action", ["get-search-logs", "get-archive-search-logs",
                                    "get-view-logs"])
@pytest.mark.parametrize(("item", "field"), [
    ({"start": "last tuesday"}, "start"),
    ({"end": "2026-02-30T00:00:00+0000"}, "end"),
    ({"start": "2026-11-02T00:00:00+0000", "end": "2026-11-01T00:00:00+0000"}, "end"),
    ({"query": "x" * 5000}, "query"),
])
def test_bad_log_requests_fail_on_their_field(harness: Harness, tenant: Tenant, action: str,
                                              item: dict[str, Any], field: str) -> None:
    body = ARCHIVE.post(harness, tenant, action, [item])
    [(key, _code, failed)] = failures(body)
    assert (key, failed, body["data"]) == (item, field, [])


def test_archive_logs_need_their_permissions(harness: Harness, basic: Tenant) -> None:
    nobody = harness.tenant(role=None)
    for action in ("get-search-logs", "get-archive-search-logs"):
        assert "Archive | Search Logs | Read" in ARCHIVE.forbidden(harness, nobody, action, [])
    assert "Archive | View Logs | Read" in ARCHIVE.forbidden(harness, nobody, "get-view-logs",
                                                             [])
    assert ARCHIVE.ok(harness, basic, "get-search-logs", []) == [{"logs": []}]
    assert ARCHIVE.ok(harness, basic, "get-view-logs", []) == []


# View logs ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def viewed(harness: Harness, tenant: Tenant) -> dict[str, Any]:
    """A message sent with a file, then its detail shown, itself and its file downloaded."""
    (sent,) = EMAIL.ok(harness, tenant, "send-email", [{
        "to": [BUYER], "subject": "Report on Q3", "plainBody": "Attached.",
        "attachments": [{"filename": "q3.txt", "contentType": "text/plain",
                         "content": base64.b64encode(b"figures").decode()}]}])
    (detail,) = GATEWAY.ok(harness, tenant, "message/get-message-detail", [{"id": sent["id"]}])
    assert GATEWAY.call(harness, tenant, "message/get-file", [{"id": sent["id"]}]
                        ).status_code == 200
    (attachment,) = detail["attachments"]
    assert GATEWAY.call(harness, tenant, "message/get-file", [{"id": attachment["id"]}]
                        ).content == b"figures"
    # Neither metadata nor a failed look-up is a view of content.
    FINDER.ok(harness, tenant, "get-message-info", [{"id": sent["id"]}])
    only_error(GATEWAY.post(harness, tenant, "message/get-message-detail", [{"id": "nope"}]))
    return {"sent": sent, "received": detail["headerDate"], "window": window()}


def test_views_of_content_show_in_the_view_log(harness: Harness, tenant: Tenant,
                                               viewed: dict[str, Any]) -> None:
    logs = view_logs(harness, tenant, **viewed["window"])
    assert len(logs) == 3
    for entry in logs:
        assert entry == {"viewer": tenant.email, "viewed": entry["viewed"],
                         "from": tenant.email, "to": BUYER, "subject": "Report on Q3",
                         "messageDate": viewed["received"], "source": "archive",
                         "contentViewed": True, "discoveryCase": False}
        assert DATE.match(entry["viewed"])
    assert [e.event_type for e in audit_events(harness, tenant, category=audit.ARCHIVE)] == [
        "Message viewed", "Message downloaded", "Attachment downloaded"]
    (event,) = audit_events(harness, tenant, category=audit.ARCHIVE,
                            event_type="Attachment downloaded")
    assert event.info.startswith(f"Attachment q3.txt of the message from {tenant.email} to "
                                 f"{BUYER}, received ")
    events = Namespace("/api/audit/").ok(harness, tenant, "get-audit-events", [{
        "startDateTime": viewed["window"]["start"], "endDateTime": viewed["window"]["end"],
        "categories": ["archive_logs"]}])
    assert [e["auditType"] for e in events] == [
        "Attachment downloaded", "Message downloaded", "Message viewed"]


def test_view_logs_filter_by_query_and_window(harness: Harness, tenant: Tenant,
                                              viewed: dict[str, Any]) -> None:
    logs = view_logs(harness, tenant, **viewed["window"])
    assert view_logs(harness, tenant, **viewed["window"], query="report ON q3") == logs
    assert view_logs(harness, tenant, **viewed["window"], query="customer.example") == logs
    assert view_logs(harness, tenant, **viewed["window"], query="someone else") == []
    assert view_logs(harness, tenant, start=viewed["window"]["end"]) == []
    assert ARCHIVE.ok(harness, tenant, "get-view-logs", []) == logs
    body = ARCHIVE.post(harness, tenant, "get-view-logs", [viewed["window"]],
                        {"pagination": {"pageSize": 2}})
    assert body["data"] == logs[:2] and body["meta"]["pagination"]["totalCount"] == 3
    rest = ARCHIVE.ok(harness, tenant, "get-view-logs", [viewed["window"]], {"pagination": {
        "pageSize": 2, "pageToken": body["meta"]["pagination"]["next"]}})
    assert rest == logs[2:]


def test_each_item_of_a_request_is_a_view(harness: Harness) -> None:
    tenant_two = harness.tenant()
    (sent,) = EMAIL.ok(harness, tenant_two, "send-email", [{
        "to": [BUYER, "ops@customer.example.com"], "subject": "Twice", "plainBody": "Hi"}])
    (tracked,) = FINDER.ok(harness, tenant_two, "search", [{"messageId": sent["messageId"]}])
    ids = [{"id": t["id"]} for t in tracked["trackedEmails"]]
    GATEWAY.ok(harness, tenant_two, "message/get-message-detail", ids)
    assert sorted(v["to"] for v in view_logs(harness, tenant_two)) == [
        BUYER, "ops@customer.example.com"]


def test_tenants_see_only_their_own_archive_logs(harness: Harness, tenant: Tenant,
                                                 other: Tenant, searched: dict[str, Any],
                                                 viewed: dict[str, Any]) -> None:
    assert search_logs(harness, other, **searched["window"]) == []
    assert view_logs(harness, other, **viewed["window"]) == []
    error = only_error(GATEWAY.post(harness, other, "message/get-message-detail",
                                    [{"id": viewed["sent"]["id"]}]))
    assert error["code"] == "err_message_not_found"
    assert view_logs(harness, other, **viewed["window"]) == []
    assert len(view_logs(harness, tenant, **viewed["window"])) == 3


# journaling/get-service ---------------------------------------------------------------------

def test_the_journal_connector_is_the_accounts(harness: Harness, tenant: Tenant,
                                               other: Tenant) -> None:
    (service,) = JOURNALING.ok(harness, tenant, "get-service", [])
    assert isinstance(service["id"], str) and service["id"]
    assert service == {
        "id": service["id"], "description": "Journal Connector", "enabled": True,
        "transferProtocol": "SMTP", "messageFormat": "Exchange",
        "journalUnknownInternalAddresses": True, "journalNonInternalAddresses": False,
        "removeJournalHeaders": False,
        "smtpJournalingConnection": {
            "inactivityTimeout": 180, "emailAddress": f"journaling@journal.{tenant.domain}",
            "ipRanges": [], "extendedDeduplication": False, "usesTls": True,
            "deliveryWaitAttempts": 3, "processInitialDelay": 0, "usesAuthentication": False,
            "prefersClearText": False},
        "statusInfo": {"id": service["id"], "status": "OK", "queueSize": 0},
        "queueSize": 0}
    assert JOURNALING.ok(harness, tenant, "get-service", [{"id": service["id"]}]) == [service]
    assert JOURNALING.ok(harness, tenant, "get-service", [{}]) == [service]
    response = harness.call(tenant.keys, "/api/journaling/get-service", {})
    assert response.json()["data"] == [service]
    # Another account's connector is not this one's.
    (theirs,) = JOURNALING.ok(harness, other, "get-service", [])
    assert theirs["id"] != service["id"]
    for unknown in (theirs["id"], "nope"):
        error = only_error(JOURNALING.post(harness, tenant, "get-service", [{"id": unknown}]),
                           key={"id": unknown})
        assert (error["code"], error["field"]) == ("err_object_not_found", "id")


def test_the_journal_connector_needs_its_permission(harness: Harness, basic: Tenant) -> None:
    nobody = harness.tenant(role=None)
    assert "Services | Journaling | Read" in JOURNALING.forbidden(
        harness, nobody, "get-service", [])
    assert len(JOURNALING.ok(harness, basic, "get-service", [])) == 1
