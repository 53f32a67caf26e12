"""`ttp/impersonation/get-logs` and `dlp/get-logs` over HTTP: what impersonation protection and
DLP found in each message, exact shapes, filters, paging, the ledger's record of each page,
bad input, permissions and tenant isolation."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from api import Namespace, failures, forbidden, only_error, post
from sqlalchemy import select

from mimicast.services import identity
from mimicast.services.context import utcnow
from mimicast.services.mail import accept
from mimicast.services.mail.facts import Draft, Recipient
from mimicast.store.schema import LedgerEntry
from mimicast.testing import Harness
from mimicast.testing.harness import Tenant
from mimicast.wire.dates import format_date

impersonation = Namespace("/api/ttp/impersonation/")
dlp = Namespace("/api/dlp/")


@pytest.fixture
def tenant(harness: Harness) -> Tenant:
    tenant = harness.tenant()
    with harness.session_ctx(tenant) as ctx:
        identity.create_user(ctx, f"ann@{tenant.domain}", name="Ann Archer")
        identity.create_user(ctx, f"bob@{tenant.domain}", name="Bob Baker")
    return tenant


def window(minutes: int = 60) -> dict[str, str]:
    now = utcnow()
    return {"from": format_date(now - timedelta(minutes=minutes)),
            "to": format_date(now + timedelta(minutes=1))}


def deliver(harness: Harness, tenant: Tenant, *drafts: Draft) -> list[accept.Accepted]:
    with harness.session_ctx(tenant) as ctx:
        return accept.accept(ctx, list(drafts))


def posing(tenant: Tenant, minutes_ago: int, **changes: Any) -> Draft:
    """Mail from outside that claims to be Ann, from a domain one letter off the tenant's."""
    lookalike = tenant.domain.replace("example", "examp1e")
    draft = Draft(sender=f"ann@{lookalike}", recipients=(Recipient(f"bob@{tenant.domain}"),),
                  received_at=utcnow() - timedelta(minutes=minutes_ago), external=True,
                  from_name="Ann Archer", reply_to="ann.archer@freemail.example.com",
                  subject="Urgent wire transfer", text="Please pay today.",
                  sender_ip="198.51.100.9")
    return replace(draft, **changes)


def leaving(tenant: Tenant, minutes_ago: int, **changes: Any) -> Draft:
    """Ann writing to two customers."""
    draft = Draft(sender=f"ann@{tenant.domain}",
                  recipients=(Recipient("buyer@customer.example.com"),
                              Recipient("finance@customer.example.com")),
                  received_at=utcnow() - timedelta(minutes=minutes_ago), external=False,
                  subject="Quote", text="Prices below.", sender_ip="10.0.0.5")
    return replace(draft, **changes)


def logs(harness: Harness, tenant: Tenant, **item: Any) -> dict[str, Any]:
    (page,) = impersonation.ok(harness, tenant, "get-logs", [{**window(), **item}])
    return dict(page)


def test_impersonation_entries_and_their_filters(harness: Harness, tenant: Tenant) -> None:
    held, lone = deliver(harness, tenant, posing(tenant, 20),
                         posing(tenant, 10, sender="news@partner.example.org", from_name="",
                                reply_to="", subject="Newsletter"))
    assert held.decision.recipients[0].status == "held"
    assert lone.decision.impersonation == ["newly_observed_domain"]
    page = logs(harness, tenant)
    assert page["resultCount"] == 2
    newest, oldest = page["impersonationLogs"]
    assert newest["subject"] == "Newsletter" and newest["action"] == "none"
    assert (newest["hits"], newest["identifiers"]) == (1, ["newly_observed_domain"])
    assert oldest == {
        "id": oldest["id"], "senderAddress": posing(tenant, 0).sender,
        "recipientAddress": f"bob@{tenant.domain}", "senderIpAddress": "198.51.100.9",
        "subject": "Urgent wire transfer", "definition": "Default Impersonation Protection",
        "hits": 4, "identifiers": ["internal_user_name", "similar_internal_domain",
                                   "newly_observed_domain", "reply_address_mismatch"],
        "impersonationResults": oldest["impersonationResults"], "action": "hold",
        "taggedExternal": True, "taggedMalicious": True,
        "eventTime": format_date(held.draft.received_at), "messageId": held.message_id}
    assert {r["impersonationDomainSource"] for r in oldest["impersonationResults"]} == {
        "internal_user_name", "internal_domain", "newly_observed_domain", "reply_address"}
    assert all(r["checkerResult"] == "hit" and r["similarDomain"].startswith("Ann Archer <")
               for r in oldest["impersonationResults"])
    # Filters.
    def subjects(**item: Any) -> list[str]:
        return [e["subject"] for e in logs(harness, tenant, **item)["impersonationLogs"]]
    assert subjects(taggedMalicious=True) == ["Urgent wire transfer"]
    assert subjects(taggedMalicious="false") == ["Newsletter"]
    assert subjects(actions=["hold"]) == ["Urgent wire transfer"]
    assert subjects(actions="none", taggedMalicious=True) == []
    assert subjects(identifiers=["reply_address_mismatch"]) == ["Urgent wire transfer"]
    assert subjects(identifiers=["newly_observed_domain"]) == ["Newsletter",
                                                               "Urgent wire transfer"]
    assert subjects(searchField="subject", query="WIRE") == ["Urgent wire transfer"]
    assert subjects(searchField="senderAddress", query="partner") == ["Newsletter"]
    assert subjects(oldestFirst=True) == ["Urgent wire transfer", "Newsletter"]
    # Paged by key: two pages of one, then no more.
    asked = window()
    body = impersonation.post(harness, tenant, "get-logs", [asked],
                              meta={"pagination": {"pageSize": 1}})
    assert body["meta"]["pagination"]["totalCount"] == 2
    second = impersonation.post(harness, tenant, "get-logs", [asked], meta={
        "pagination": {"pageSize": 1, "pageToken": body["meta"]["pagination"]["next"]}})
    assert [e["subject"] for e in second["data"][0]["impersonationLogs"]] == [
        "Urgent wire transfer"]
    assert "next" not in second["meta"]["pagination"]


def test_impersonation_bad_input_permission_and_isolation(harness: Harness,
                                                          tenant: Tenant) -> None:
    deliver(harness, tenant, posing(tenant, 5))
    cases = [({"searchField": "body", "query": "x"}, "searchField"),
             ({"identifiers": ["psychic"]}, "identifiers"), ({"actions": ["bounce!"]}, "actions"),
             ({"from": "yesterday-ish"}, "from")]
    for item, field in cases:
        body = impersonation.post(harness, tenant, "get-logs", [item])
        assert [f for _, _, f in failures(body)] == [field], body
    # `{}` and no item at all are the defaults (today); another account sees nothing.
    assert post(harness, tenant, "/api/ttp/impersonation/get-logs", [])["fail"] == []
    other = harness.tenant()
    assert logs(harness, other) == {"impersonationLogs": [], "resultCount": 0}
    assert "Impersonation Protection" in impersonation.forbidden(
        harness, harness.tenant(role=None), "get-logs", [{}])


def test_dlp_lines_per_copy_and_definition(harness: Harness, tenant: Tenant) -> None:
    both, card = deliver(harness, tenant,
                         leaving(tenant, 30, subject="Confidential: salaries",
                                 text="Card 4111 1111 1111 1111 on file."),
                         leaving(tenant, 10, text="Charge 4111-1111-1111-1111 please."))
    deliver(harness, tenant, leaving(tenant, 5))  # nothing to find
    assert [o.status for o in both.decision.recipients] == ["held", "held"]
    (page,) = dlp.ok(harness, tenant, "get-logs", [{**window(), "oldestFirst": True}])
    lines = page["dlpLogs"]
    assert [(line["recipientAddress"], line["action"]) for line in lines] == [
        ("buyer@customer.example.com", "hold"), ("buyer@customer.example.com", "notification"),
        ("finance@customer.example.com", "hold"),
        ("finance@customer.example.com", "notification"),
        ("buyer@customer.example.com", "notification"),
        ("finance@customer.example.com", "notification")]
    assert lines[0] == {"senderAddress": f"ann@{tenant.domain}",
                        "recipientAddress": "buyer@customer.example.com",
                        "subject": "Confidential: salaries",
                        "eventTime": format_date(both.draft.received_at), "route": "outbound",
                        "policy": "Content Examination - Confidential", "action": "hold",
                        "messageId": both.message_id}
    assert lines[-1]["messageId"] == card.message_id
    # The held copies wait in the hold queue, named for the definition.
    held = Namespace("/api/gateway/").ok(harness, tenant, "get-hold-message-list",
                                         [{"admin": True}])
    assert {(h["reason"], h["policyInfo"]) for h in held} == {
        ("Content Examination", "Content Examination - Confidential")}
    # Newest first by default; an empty log is still wrapped; `{}` is accepted.
    (newest,) = dlp.ok(harness, tenant, "get-logs", [window()])
    assert newest["dlpLogs"][0]["messageId"] == card.message_id
    assert dlp.ok(harness, harness.tenant(), "get-logs", [{}]) == [{"dlpLogs": []}]
    error = only_error(dlp.post(harness, tenant, "get-logs", [{"to": "soon"}]))
    assert error["field"] == "to"
    assert "Data Leak Prevention" in forbidden(harness, harness.tenant(role=None),
                                               "/api/dlp/get-logs", [{}])


def test_each_page_served_is_in_the_ledger(harness: Harness, tenant: Tenant) -> None:
    deliver(harness, tenant, posing(tenant, 20), posing(tenant, 10, subject="Again"),
            leaving(tenant, 5, subject="Confidential"))
    asked = window()  # the same window on every page: a token is bound to it
    body = impersonation.post(harness, tenant, "get-logs", [asked],
                              meta={"pagination": {"pageSize": 1}})
    assert body["meta"]["pagination"]["pageSize"] == 1, body
    impersonation.ok(harness, tenant, "get-logs", [asked], meta={
        "pagination": {"pageSize": 1, "pageToken": body["meta"]["pagination"]["next"]}})
    dlp.ok(harness, tenant, "get-logs", [asked])
    with harness.session_ctx(tenant) as ctx:
        entries = ctx.session.execute(select(LedgerEntry.log, LedgerEntry.events,
                                             LedgerEntry.token_sent).where(
            LedgerEntry.account_id == tenant.account_id).order_by(LedgerEntry.id)).all()
    assert [tuple(e) for e in entries] == [
        ("/api/ttp/impersonation/get-logs", 1, False),
        ("/api/ttp/impersonation/get-logs", 1, True), ("/api/dlp/get-logs", 2, False)]
