"""The TTP logs over real HTTP: URL Protect's clicks (`ttp/url/get-logs`) and Attachment
Protect's scans (`ttp/attachment/get-logs`) — the exact entries, the filters (route, scan
result, window, order), paging, bad input, permissions, tenant isolation, and agreement with
what the simulator stored."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from api import DATE, Namespace, failures
from sqlalchemy import select

from mimicast.services import identity
from mimicast.services.context import utcnow
from mimicast.services.mail import accept, content
from mimicast.services.mail.facts import Attachment, Draft, Recipient
from mimicast.services.mail.world import MALICIOUS_HOSTS, MALWARE_MARKER
from mimicast.sim.files import pool
from mimicast.sim.runs import backfill
from mimicast.store.schema import (
    LinkClick,
    Message,
    MessageAttachment,
    MessageLink,
    MessageRecipient,
)
from mimicast.testing import Harness
from mimicast.testing.harness import Tenant
from mimicast.wire.dates import format_date

URLS = Namespace("/api/ttp/url/")
FILES = Namespace("/api/ttp/attachment/")
GATEWAY = Namespace("/api/gateway/")
PARTNER = "news@partner.example.org"
DOCS = "https://docs.partner.example.org/q3"
BLOCKED = "https://blocked.partner.example.org/offer"
PHISH = f"https://{sorted(MALICIOUS_HOSTS)[0]}/login"
USER_AGENT = "Mozilla/5.0 (Windows NT 10.0; Win64; x64)"
DETAILS = re.compile(r"^(Safe|Malicious)\r\nTime taken: 0 hrs, 0 min, \d+ sec$")
SEED = 29


def file(name: str, content_type: str, data: bytes) -> Attachment:
    return Attachment(name, content_type, len(data), content.sha256(data), data)


PDF = file("q3.pdf", "application/pdf", b"%PDF-1.7 quarterly figures")
SHEET = file("budget.xlsx", "application/vnd.ms-excel", b"PK budget")
MALWARE = file("invoice.exe", "application/x-msdownload", MALWARE_MARKER + b" payload")


def inbound(to: tuple[str, ...], when: datetime, **changes: Any) -> Draft:
    fields: dict[str, Any] = {
        "sender": PARTNER, "recipients": tuple(Recipient(address) for address in to),
        "received_at": when, "external": True, "from_name": "Partner News",
        "subject": "Quarterly report", "text": "Figures attached.",
        "sender_ip": "198.51.100.7", "helo": "mx.partner.example.org", **changes}
    return Draft(**fields)


def click(link: int, recipient: str, when: datetime, action: str, account: int) -> LinkClick:
    return LinkClick(account_id=account, link_id=link, recipient=recipient, clicked_at=when,
                     action=action, source_ip="192.0.2.10", user_agent=USER_AGENT)


def links_of(ctx: Any, message: int) -> list[int]:
    return list(ctx.session.execute(select(MessageLink.id).where(
        MessageLink.message_id == message).order_by(MessageLink.id)).scalars())


def since(moment: datetime) -> str:
    return format_date(moment)


@pytest.fixture(scope="module")
def mail(harness: Harness, tenant: Tenant) -> dict[str, Any]:
    """An afternoon of the tenant's mail: a partner's report to two users (a clean link, a
    link a managed URL blocks, a file), a phishing link, mail between users, mail out, a
    message half to an unknown address, malware; four clicks."""
    ann = f"ann@{tenant.domain}"
    URLS.ok(harness, tenant, "create-managed-url", [
        {"url": "blocked.partner.example.org", "action": "block", "matchType": "domain"}])
    base = utcnow().replace(microsecond=0) - timedelta(hours=2)
    with harness.session_ctx(tenant) as ctx:
        identity.create_user(ctx, ann, name="Ann Archer")
    with harness.session_ctx(tenant) as ctx:
        report, phish, internal, out, half, malware = accept.accept(ctx, [
            inbound((tenant.email, ann), base, links=(DOCS, BLOCKED), attachments=(PDF,)),
            inbound((tenant.email,), base + timedelta(minutes=10), sender="it@mailbox.test",
                    subject="Mailbox quota", text="Your mailbox is full", links=(PHISH,)),
            Draft(sender=ann, recipients=(Recipient(tenant.email),),
                  received_at=base + timedelta(minutes=20), external=False,
                  subject="Budget", text="Here it is.", attachments=(SHEET,)),
            Draft(sender=tenant.email, recipients=(Recipient("buyer@customer.example.com"),),
                  received_at=base + timedelta(minutes=30), external=False,
                  subject="Offer", attachments=(PDF,)),
            inbound((f"nobody@{tenant.domain}", tenant.email),
                    base + timedelta(minutes=40), subject="Second copy", attachments=(PDF,)),
            inbound((tenant.email,), base + timedelta(minutes=50), subject="Invoice due",
                    attachments=(MALWARE,)),
        ])
        docs, blocked = links_of(ctx, report.id)
        (phishing,) = links_of(ctx, phish.id)
        account = tenant.account_id
        clicks = [click(docs, tenant.email, base + timedelta(minutes=5), "allowed", account),
                  click(docs, ann, base + timedelta(minutes=6), "warned", account),
                  click(blocked, ann, base + timedelta(minutes=7), "blocked", account),
                  click(phishing, tenant.email, base + timedelta(minutes=15), "blocked",
                        account)]
        ctx.session.add_all(clicks)
    return {"ann": ann, "base": base, "report": report, "phish": phish, "internal": internal,
            "out": out, "half": half, "malware": malware,
            "window": {"from": since(base - timedelta(minutes=1)),
                       "to": since(base + timedelta(hours=1))}}


def click_logs(harness: Harness, tenant: Tenant, **item: Any) -> list[dict[str, Any]]:
    body = URLS.post(harness, tenant, "get-logs", [item], {"pagination": {"pageSize": 100}})
    assert body["fail"] == [], body
    (page,) = body["data"]
    return list(page["clickLogs"])


def scan_logs(harness: Harness, tenant: Tenant, **item: Any) -> list[dict[str, Any]]:
    body = FILES.post(harness, tenant, "get-logs", [item], {"pagination": {"pageSize": 100}})
    assert body["fail"] == [], body
    (page,) = body["data"]
    return list(page["attachmentLogs"])


def walk(harness: Harness, tenant: Tenant, namespace: Namespace, item: dict[str, Any],
         size: int, wrapper: str) -> Iterator[tuple[list[dict[str, Any]], dict[str, Any]]]:
    """Every page of a log, first to last: (entries, pagination)."""
    token = None
    while True:
        pagination: dict[str, Any] = {"pageSize": size}
        if token:
            pagination["pageToken"] = token
        body = namespace.post(harness, tenant, "get-logs", [item], {"pagination": pagination})
        assert body["fail"] == [], body
        (page,) = body["data"]
        meta = body["meta"]["pagination"]
        assert meta["pageSize"] == len(page[wrapper]) <= size
        yield page[wrapper], meta
        token = meta.get("next")
        if token is None:
            return


# ttp/url/get-logs ---------------------------------------------------------------------------

def test_click_log_entries_answer_the_documented_keys(harness: Harness, tenant: Tenant,
                                                      mail: dict[str, Any]) -> None:
    base, ann = mail["base"], mail["ann"]
    logs = click_logs(harness, tenant, **mail["window"])
    assert [(c["userEmailAddress"], c["url"], c["action"]) for c in logs] == [
        (tenant.email, PHISH, "block"), (ann, BLOCKED, "block"), (ann, DOCS, "warn"),
        (tenant.email, DOCS, "allow")]
    phish, blocked, warned, allowed = logs
    assert allowed == {
        "userEmailAddress": tenant.email, "fromUserEmailAddress": PARTNER, "url": DOCS,
        "ttpDefinition": "Default Inbound URL Protect Definition",
        "subject": "Quarterly report", "action": "allow", "adminOverride": "N/A",
        "userOverride": "None", "scanResult": "clean", "category": "Uncategorized",
        "sendingIp": "198.51.100.7", "userAwarenessAction": "N/A",
        "date": format_date(base + timedelta(minutes=5)), "actions": "None",
        "route": "inbound", "creationMethod": "User Click",
        "emailPartsDescription": ["Body"], "messageId": mail["report"].message_id}
    assert {**warned, "userEmailAddress": tenant.email, "action": "allow",
            "date": allowed["date"]} == allowed
    # A managed URL's block: the administrator's, not a scan's verdict.
    assert {k: blocked[k] for k in ("adminOverride", "scanResult", "category", "actions")} == {
        "adminOverride": "Block", "scanResult": "clean", "category": "Blocked",
        "actions": "Block"}
    assert {k: phish[k] for k in ("adminOverride", "scanResult", "category", "actions",
                                  "subject", "fromUserEmailAddress")} == {
        "adminOverride": "N/A", "scanResult": "malicious", "category": "Phishing & Fraud",
        "actions": "Block", "subject": "Mailbox quota",
        "fromUserEmailAddress": "it@mailbox.test"}
    assert all(DATE.match(c["date"]) for c in logs)


def test_click_logs_filter_by_scan_result_route_window_and_order(
        harness: Harness, tenant: Tenant, mail: dict[str, Any]) -> None:
    window, base = mail["window"], mail["base"]
    everything = click_logs(harness, tenant, **window)
    assert len(everything) == 4
    assert click_logs(harness, tenant, **window, scanResult="malicious") == everything[:1]
    assert click_logs(harness, tenant, **window, scanResult="MALICIOUS") == everything[:1]
    assert click_logs(harness, tenant, **window, scanResult="clean") == everything[1:]
    assert click_logs(harness, tenant, **window, scanResult=None) == everything
    assert click_logs(harness, tenant, **window, route="inbound") == everything
    assert click_logs(harness, tenant, **window, route="Outbound") == []
    assert click_logs(harness, tenant, **window, route="internal") == []
    assert click_logs(harness, tenant, **window, route="all", scanResult="all") == everything
    assert click_logs(harness, tenant, **window, oldestFirst=True) == everything[::-1]
    assert click_logs(harness, tenant, **window, oldestFirst="true") == everything[::-1]
    assert click_logs(harness, tenant, **window, oldestFirst="false") == everything
    # Both ends are inclusive.
    assert click_logs(harness, tenant, **{**window, "to": since(base + timedelta(minutes=6))}
                      ) == everything[2:]
    assert click_logs(harness, tenant, **{**window, "from": since(base + timedelta(minutes=7))}
                      ) == everything[:2]
    # Dates as clients send them: another offset, a colon in it.
    assert click_logs(harness, tenant, **{
        "from": (base - timedelta(minutes=1)).isoformat(),
        "to": (base + timedelta(hours=1)).astimezone().isoformat()}) == everything


def test_click_logs_page_by_key_without_repeats_or_gaps(harness: Harness, tenant: Tenant,
                                                         mail: dict[str, Any]) -> None:
    everything = click_logs(harness, tenant, **mail["window"])
    pages = list(walk(harness, tenant, URLS, mail["window"], 1, "clickLogs"))
    assert [entries for entries, _ in pages] == [[entry] for entry in everything]
    assert {meta["totalCount"] for _, meta in pages} == {4}
    assert "previous" not in pages[0][1] and "next" not in pages[-1][1]
    back = URLS.ok(harness, tenant, "get-logs", [mail["window"]], {"pagination": {
        "pageSize": 2, "pageToken": pages[-1][1]["previous"]}})
    assert back == [{"clickLogs": everything[1:3]}]
    oldest = [entries for entries, _ in walk(
        harness, tenant, URLS, {**mail["window"], "oldestFirst": True}, 3, "clickLogs")]
    assert oldest == [everything[::-1][:3], everything[::-1][3:]]
    # A token belongs to its list: another filter refuses it.
    body = URLS.post(harness, tenant, "get-logs", [{**mail["window"], "scanResult": "clean"}],
                     {"pagination": {"pageSize": 1, "pageToken": pages[0][1]["next"]}})
    assert [field for _key, _code, field in failures(body)] == ["pageToken"]


def test_the_default_window_is_today_until_now(harness: Harness) -> None:
    tenant = harness.tenant()
    now = utcnow().replace(microsecond=0)
    midnight = now.replace(hour=0, minute=0, second=0)
    with harness.session_ctx(tenant) as ctx:
        (sent,) = accept.accept(ctx, [inbound((tenant.email,), midnight - timedelta(hours=1),
                                              links=(DOCS,))])
        (link,) = links_of(ctx, sent.id)
        ctx.session.add_all([click(link, tenant.email, midnight - timedelta(seconds=1),
                                   "allowed", tenant.account_id),
                             click(link, tenant.email, now, "allowed", tenant.account_id)])
    for data in ([], [{}], [{"from": None, "to": None}]):
        (page,) = URLS.ok(harness, tenant, "get-logs", data)
        assert [c["date"] for c in page["clickLogs"]] == [format_date(now)]
    # Without `from`, the day `to` falls in.
    (page,) = URLS.ok(harness, tenant, "get-logs", [{"to": since(midnight - timedelta(
        seconds=1))}])
    assert [c["date"] for c in page["clickLogs"]] == [format_date(midnight - timedelta(
        seconds=1))]
    response = harness.call(tenant.keys, "/api/ttp/url/get-logs", {})
    assert response.json()["data"][0]["clickLogs"][0]["date"] == format_date(now)


def test_an_empty_log_still_answers_its_wrapper(harness: Harness) -> None:
    tenant = harness.tenant()
    for namespace, wrapper in ((URLS, "clickLogs"), (FILES, "attachmentLogs")):
        for body in ({}, {"data": []}, {"data": [{}]}):
            response = harness.call(tenant.keys, namespace.base + "get-logs", body)
            assert response.status_code == 200
            answer = response.json()
            assert answer["data"] == [{wrapper: []}] and answer["fail"] == []
            assert answer["meta"]["pagination"]["pageSize"] == 0
            assert "next" not in answer["meta"]["pagination"]
    body = URLS.post(harness, tenant, "get-logs", [{}])
    assert body["meta"]["pagination"]["totalCount"] == 0


@pytest.mark.store_agnostic
@pytest.mark.parametrize(("item", "field"), [
    ({"from": "yesterday"}, "from"),
    ({"to": "2026-13-45T99:99:99+0000"}, "to"),
    ({"from": "2026-11-02T00:00:00+0000", "to": "2026-11-01T00:00:00+0000"}, "to"),
    ({"route": "sideways"}, "route"),
    ({"route": 7}, "route"),
    ({"scanResult": "dirty"}, "scanResult"),
    ({"oldestFirst": "maybe"}, "oldestFirst"),
    ({"from": {"date": "today"}}, "from"),
])
def test_bad_url_log_requests_fail_on_their_field(harness: Harness, tenant: Tenant,
                                                  item: dict[str, Any], field: str) -> None:
    body = URLS.post(harness, tenant, "get-logs", [item])
    [(key, _code, failed)] = failures(body)
    assert (key, failed, body["data"]) == (item, field, [])


@pytest.mark.store_agnostic
@pytest.mark.parametrize(("item", "field"), [
    ({"result": "clean"}, "result"),
    ({"route": "external"}, "route"),
    ({"from": "2026-11-01", "to": "2026-10-31"}, "to"),
])
def test_bad_attachment_log_requests_fail_on_their_field(harness: Harness, tenant: Tenant,
                                                         item: dict[str, Any],
                                                         field: str) -> None:
    body = FILES.post(harness, tenant, "get-logs", [item])
    [(key, _code, failed)] = failures(body)
    assert (key, failed, body["data"]) == (item, field, [])


@pytest.mark.store_agnostic
def test_a_log_request_takes_one_item(harness: Harness, tenant: Tenant) -> None:
    for namespace in (URLS, FILES):
        error = namespace.request_error(harness, tenant, "get-logs", [{}, {}])
        assert error["code"] == "err_validation_item_count"


def test_the_logs_need_their_monitoring_permissions(harness: Harness, basic: Tenant) -> None:
    nobody = harness.tenant(role=None)
    assert "Monitoring | URL Protection | Read" in URLS.forbidden(
        harness, nobody, "get-logs", [])
    assert "Monitoring | Attachment Protection | Read" in FILES.forbidden(
        harness, nobody, "get-logs", [])
    # Read-only administrators read them.
    assert URLS.ok(harness, basic, "get-logs", []) == [{"clickLogs": []}]
    assert FILES.ok(harness, basic, "get-logs", []) == [{"attachmentLogs": []}]


def test_tenants_see_only_their_own_clicks_and_files(harness: Harness, tenant: Tenant,
                                                     other: Tenant,
                                                     mail: dict[str, Any]) -> None:
    base = mail["base"]
    with harness.session_ctx(other) as ctx:
        (theirs,) = accept.accept(ctx, [inbound((other.email,), base + timedelta(minutes=3),
                                                links=(DOCS,), attachments=(PDF,))])
        (link,) = links_of(ctx, theirs.id)
        ctx.session.add(click(link, other.email, base + timedelta(minutes=4), "allowed",
                              other.account_id))
    ours = click_logs(harness, tenant, **mail["window"])
    assert other.email not in {c["userEmailAddress"] for c in ours} and len(ours) == 4
    assert other.email not in {s["recipientAddress"]
                               for s in scan_logs(harness, tenant, **mail["window"])}
    (only,) = click_logs(harness, other, **mail["window"])
    assert only["userEmailAddress"] == other.email
    assert [s["recipientAddress"] for s in scan_logs(harness, other, **mail["window"])] == [
        other.email]


# ttp/attachment/get-logs --------------------------------------------------------------------

def test_attachment_log_entries_answer_the_documented_keys(harness: Harness, tenant: Tenant,
                                                           mail: dict[str, Any]) -> None:
    base, ann = mail["base"], mail["ann"]
    logs = scan_logs(harness, tenant, **mail["window"])
    # One entry per file and copy it reached: not the mail sent out, not the copy refused for
    # an unknown address.
    assert [(s["subject"], s["recipientAddress"], s["fileName"], s["route"]) for s in logs] == [
        ("Invoice due", tenant.email, "invoice.exe", "inbound"),
        ("Second copy", tenant.email, "q3.pdf", "inbound"),
        ("Budget", tenant.email, "budget.xlsx", "internal"),
        ("Quarterly report", ann, "q3.pdf", "inbound"),
        ("Quarterly report", tenant.email, "q3.pdf", "inbound")]
    malware, _second, budget, _ann_copy, report = logs
    assert report == {
        "senderAddress": PARTNER, "recipientAddress": tenant.email, "fileName": "q3.pdf",
        "fileType": "application/pdf", "result": "safe", "actionTriggered": "none",
        "date": format_date(base), "details": report["details"], "route": "inbound",
        "messageId": mail["report"].message_id, "subject": "Quarterly report",
        "fileHash": PDF.sha256, "definition": "Default Inbound Attachment Protect Definition"}
    assert DETAILS.match(report["details"]) and report["details"].startswith("Safe\r\n")
    assert budget["definition"] == "Default Internal Attachment Protect Definition"
    assert budget["senderAddress"] == ann and budget["fileHash"] == SHEET.sha256
    assert {k: malware[k] for k in ("result", "actionTriggered", "fileType", "fileHash")} == {
        "result": "malicious", "actionTriggered": "hold",
        "fileType": "application/x-msdownload", "fileHash": MALWARE.sha256}
    assert malware["details"].startswith("Malicious\r\nTime taken: ")
    # The same entries on every call: the scan time is drawn from the file, not the clock.
    assert scan_logs(harness, tenant, **mail["window"]) == logs


def test_a_released_malicious_file_still_shows_the_hold(harness: Harness, tenant: Tenant,
                                                        mail: dict[str, Any]) -> None:
    (held,) = [h for h in GATEWAY.ok(harness, tenant, "get-hold-message-list", [{}])
               if h["subject"] == "Invoice due"]
    GATEWAY.ok(harness, tenant, "hold-release", [{"id": held["id"]}])
    (malware,) = scan_logs(harness, tenant, **mail["window"], result="malicious")
    assert (malware["fileName"], malware["actionTriggered"]) == ("invoice.exe", "hold")


def test_attachment_logs_filter_by_result_route_window_and_order(
        harness: Harness, tenant: Tenant, mail: dict[str, Any]) -> None:
    window, base = mail["window"], mail["base"]
    everything = scan_logs(harness, tenant, **window)
    assert scan_logs(harness, tenant, **window, result="malicious") == everything[:1]
    assert scan_logs(harness, tenant, **window, result="Safe") == everything[1:]
    assert scan_logs(harness, tenant, **window, route="internal") == everything[2:3]
    assert scan_logs(harness, tenant, **window, route="inbound") == [
        s for s in everything if s["route"] == "inbound"]
    assert scan_logs(harness, tenant, **window, route="outbound") == []
    assert scan_logs(harness, tenant, **window, oldestFirst="true") == everything[::-1]
    assert scan_logs(harness, tenant, **{**window, "to": since(base + timedelta(minutes=20))}
                     ) == everything[2:]


def test_attachment_logs_page_by_key_without_repeats_or_gaps(
        harness: Harness, tenant: Tenant, mail: dict[str, Any]) -> None:
    everything = scan_logs(harness, tenant, **mail["window"])
    pages = list(walk(harness, tenant, FILES, mail["window"], 2, "attachmentLogs"))
    assert [entry for entries, _ in pages for entry in entries] == everything
    assert [len(entries) for entries, _ in pages] == [2, 2, 1]
    # As the real v1 answers: no totalCount.
    assert all("totalCount" not in meta for _, meta in pages)
    back = FILES.ok(harness, tenant, "get-logs", [mail["window"]], {"pagination": {
        "pageSize": 2, "pageToken": pages[-1][1]["previous"]}})
    assert back == [{"attachmentLogs": everything[2:4]}]


# Agreement with the simulator ---------------------------------------------------------------

@pytest.fixture(scope="module")
def simulated(harness: Harness) -> dict[str, Any]:
    """A fresh account with a few users and two days of simulated mail."""
    tenant = harness.tenant()
    with harness.session_ctx(tenant) as ctx:
        for name in ("ann", "bob", "cy", "dee"):
            identity.create_user(ctx, f"{name}@{tenant.domain}", name=name.title())
    anchor = utcnow().replace(microsecond=0)
    backfill(harness.deps, tenant.account_id, seed=SEED, messages=600, days=2, anchor=anchor)
    return {"tenant": tenant, "window": {"from": since(anchor - timedelta(days=3)),
                                         "to": since(anchor + timedelta(minutes=1))}}


def test_every_simulated_click_appears_exactly_once(harness: Harness,
                                                    simulated: dict[str, Any]) -> None:
    tenant = simulated["tenant"]
    with harness.deps.store.session() as session:
        stored = Counter((format_date(when), who, url, action) for when, who, url, action in
                         session.execute(select(LinkClick.clicked_at, LinkClick.recipient,
                                                MessageLink.url, LinkClick.action)
                                         .join(MessageLink,
                                               MessageLink.id == LinkClick.link_id)
                                         .where(LinkClick.account_id == tenant.account_id)))
    assert sum(stored.values()) > 10, "the simulator made too few clicks to page through"
    pages = list(walk(harness, tenant, URLS, simulated["window"], 7, "clickLogs"))
    entries = [entry for found, _ in pages for entry in found]
    actions = {"allow": "allowed", "warn": "warned", "block": "blocked"}
    assert Counter((c["date"], c["userEmailAddress"], c["url"], actions[c["action"]])
                   for c in entries) == stored
    assert {meta["totalCount"] for _, meta in pages} == {sum(stored.values())}
    assert [c["date"] for c in entries] == sorted((c["date"] for c in entries), reverse=True)
    malicious = [c for c in entries if c["scanResult"] == "malicious"]
    assert all(c["action"] == "block" and c["category"] == "Phishing & Fraud"
               for c in malicious)
    found = click_logs(harness, tenant, **simulated["window"], scanResult="malicious")
    assert Counter(map(repr, found)) == Counter(map(repr, malicious))


def test_every_simulated_file_appears_once_per_copy_it_reached(
        harness: Harness, simulated: dict[str, Any]) -> None:
    tenant = simulated["tenant"]
    refused = ("blocked_sender", "managed_sender_blocked", "anti_spoofing", "invalid_recipient")
    with harness.deps.store.session() as session:
        stored = Counter(
            (format_date(when), address, sha256, verdict) for when, address, sha256, verdict in
            session.execute(select(Message.received_at, MessageRecipient.address,
                                   MessageAttachment.sha256, MessageAttachment.verdict)
                            .join(MessageAttachment, MessageAttachment.message_id == Message.id)
                            .join(MessageRecipient, MessageRecipient.message_id == Message.id)
                            .where(Message.account_id == tenant.account_id,
                                   Message.route != "outbound",
                                   MessageRecipient.reason_code.not_in(refused))))
    entries = [entry for found, _ in walk(harness, tenant, FILES, simulated["window"], 50,
                                          "attachmentLogs") for entry in found]
    assert Counter((s["date"], s["recipientAddress"], s["fileHash"], s["result"])
                   for s in entries) == stored
    # What the simulator's sandbox files are, the log calls malicious, and nothing else.
    bad = {attachment.sha256 for attachment in pool(SEED).malicious}
    assert any(s["result"] == "malicious" for s in entries), "no malware simulated"
    assert all((s["result"] == "malicious") == (s["fileHash"] in bad) for s in entries)
    malicious = [s for s in entries if s["result"] == "malicious"]
    assert scan_logs(harness, tenant, **simulated["window"], result="malicious") == malicious
    assert all(s["actionTriggered"] == "hold" for s in malicious)
