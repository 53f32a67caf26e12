"""Schemathesis against the OpenAPI document a live server serves: every operation, called for
real, must answer what `/openapi.json` says — a documented status, `application/json`, and a
body matching the schema documented for that status — and never a server error.

Bounded parts, all on SQLite (the document and the checks do not depend on the store):
- every operation once with valid data, in an order that creates what the next one reads, so
  each success model meets real records;
- a fuzz of each operation's body (schemathesis' positive and negative generation), every call
  signed for its own path;
- calls refused before their body is read: missing or forged credentials, oversized headers;
- the unsigned discovery and login, fuzzed, and logins refused for their credentials.

Schemathesis' own pytest loader (`schemathesis.pytest.from_fixture`) fails under the installed
pytest 9.2 (it reads `Node._nodeid`, which pytest no longer has), so the operations are
parametrized here and each one's cases come from `APIOperation.as_strategy`, run by Hypothesis
with a fixed budget and `derandomize`.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import APIOperation, Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import select, update

from mimicast.catalog import ENDPOINTS
from mimicast.services import dirsync, dns, url_rewrite
from mimicast.services.context import utcnow
from mimicast.services.mail import accept
from mimicast.services.mail.facts import Attachment, Draft, Recipient
from mimicast.store.schema import LinkClick, MessageLink, MessageRecipient
from mimicast.testing import Harness
from mimicast.testing.harness import Keys, LiveServer, Tenant
from mimicast.wire import signing
from mimicast.wire.dates import format_date

# The document and the checks are the same on both stores; one run is enough.
pytestmark = pytest.mark.parametrize("harness", ["sqlite"], indirect=True)

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, response_headers_conformance]
DISCOVER, LOGIN, LOGOUT = ("/api/login/discover-authentication", "/api/login/login",
                           "/api/login/logout")
SIGNED = sorted(path for path, endpoint in ENDPOINTS.items() if not endpoint.unsigned)
DIRSYNC_DATA = Path(__file__).resolve().parents[1] / "data" / "dirsync"
Operation = APIOperation[Any, Any, Any, Any]
Call = Case[Operation]

# Generating a body costs tens of milliseconds for the larger schemas (hundreds for one with
# a 500-item list), far more than the call: a few cases per operation keep the file's cost
# well under a minute.
FUZZ = settings(max_examples=4, derandomize=True, database=None, deadline=None,
                suppress_health_check=list(HealthCheck))


def fuzzed(operation: Operation, headers: dict[str, str] | None = None
           ) -> st.SearchStrategy[Call]:
    """Cases valid and invalid against the request schema, as schemathesis' fuzzing draws them;
    `headers` are fixed, so no case spends its invalidity on them."""
    return st.one_of([operation.as_strategy(generation_mode=mode, headers=headers)
                      for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)])


@dataclass
class Api:
    """The schema as the live server serves it, and one HTTP session for every call."""

    schema: schemathesis.BaseSchema
    session: requests.Session

    def operation(self, path: str) -> Operation:
        operation: Operation = self.schema[path]["POST"]
        return operation

    def send(self, case: Call) -> schemathesis.Response:
        """The call, with every check; the response."""
        return case.call_and_validate(session=self.session, checks=CHECKS)


def basic_cloud(tenant: Tenant) -> dict[str, str]:
    credentials = base64.b64encode(f"{tenant.email}:{tenant.password}".encode()).decode()
    return {"Authorization": f"{signing.REALM_CLOUD} {credentials}",
            "x-mc-app-id": tenant.keys.app_id}


@pytest.fixture(scope="module")
def live(harness: Harness) -> Iterator[LiveServer]:
    """A server of its own on the session's store: the anonymous and login quotas these calls
    use up are not the other tests'."""
    server = harness.with_settings()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def api(live: LiveServer) -> Iterator[Api]:
    config = schemathesis.Config.from_dict({"base-url": live.url})
    schema = schemathesis.openapi.from_url(f"{live.url}/openapi.json", config=config)
    with requests.Session() as session:
        yield Api(schema, session)


@pytest.fixture(scope="module")
def tenant(harness: Harness) -> Tenant:
    # Each fuzzed logout mints a binding and every call counts: neither limit is under test.
    return harness.tenant(rate_limit=1_000_000, max_bindings=1_000_000)


@pytest.fixture(scope="module")
def fresh_keys(api: Api, tenant: Tenant) -> Callable[[], Keys]:
    """A new binding of the tenant's administrator, through the login endpoint itself."""
    def mint() -> Keys:
        case = api.operation(LOGIN).Case(body={"data": [{"userName": tenant.email}]},
                                         headers=basic_cloud(tenant))
        response = api.send(case)
        assert response.status_code == 200, response.text
        [binding] = response.json()["data"]
        return replace(tenant.keys, access_key=binding["accessKey"],
                       secret_key=binding["secretKey"])
    return mint


# --- every operation, with valid data ----------------------------------------------------------

class Scenario:
    """Calls with explicit bodies, signed unless given headers, each checked and required to
    succeed."""

    def __init__(self, api: Api, harness: Harness, tenant: Tenant) -> None:
        self.api, self.harness, self.tenant = api, harness, tenant
        self.called: set[str] = set()

    def call(self, path: str, *items: dict[str, Any], keys: Keys | None = None,
             headers: dict[str, str] | None = None) -> list[dict[str, Any]]:
        if headers is None:
            headers = self.harness.signed_headers(keys or self.tenant.keys, path)
        case = self.api.operation(path).Case(body={"data": list(items)}, headers=headers)
        response = self.api.send(case)
        assert response.status_code == 200, (path, response.text)
        body = response.json()
        assert body["fail"] == [], (path, body)
        self.called.add(path)
        data: list[dict[str, Any]] = body["data"]
        return data

    def download(self, path: str, *items: dict[str, Any]) -> bytes:
        """A file endpoint: the file (the response checks include its content type)."""
        headers = self.harness.signed_headers(self.tenant.keys, path)
        case = self.api.operation(path).Case(body={"data": list(items)}, headers=headers)
        response = self.api.send(case)
        assert response.status_code == 200, (path, response.text)
        # schemathesis keeps each header's values as a list.
        assert "attachment" in response.headers["content-disposition"][0], path
        self.called.add(path)
        return bytes(response.content)

    def one(self, path: str, *items: dict[str, Any], **options: Any) -> dict[str, Any]:
        [result] = self.call(path, *items, **options)
        return result

    def some(self, path: str, *items: dict[str, Any]) -> list[dict[str, Any]]:
        """A list call: its records must be there, or their model went unchecked."""
        data = self.call(path, *items)
        assert data, path
        return data


def test_every_operation_answers_as_documented(api: Api, harness: Harness, tenant: Tenant,
                                               fresh_keys: Callable[[], Keys],
                                               tmp_path: Path) -> None:
    run = Scenario(api, harness, tenant)
    domain = tenant.domain
    user, other = f"user-{secrets.token_hex(3)}@{domain}", f"other-{secrets.token_hex(3)}@{domain}"

    run.one(DISCOVER, {"emailAddress": tenant.email}, headers={})
    run.one(LOGIN, {"userName": tenant.email}, headers=basic_cloud(tenant))
    run.one(LOGOUT, {}, keys=fresh_keys())

    run.some("/api/account/get-account")
    run.some("/api/account/get-support-info")
    run.some("/api/audit/get-categories")

    # Domains: one pending, verified through the simulated DNS; one withdrawn.
    pending = run.one("/api/domain/create-domain",
                      {"domain": f"p{secrets.token_hex(4)}.example.net", "inboundType": "any"})
    withdrawn = run.one("/api/domain/create-domain",
                        {"domain": f"w{secrets.token_hex(4)}.example.net", "inboundType": "smtp"})
    run.some("/api/domain/get-pending-domain")
    run.some("/api/domain/get-verification-code", {"domain": pending["domain"]})
    with harness.session_ctx(tenant) as ctx:
        dns.add_txt(ctx.session, pending["domain"], pending["token"])
    run.one("/api/domain/verify-domain", {"domain": pending["domain"]})
    run.some("/api/domain/get-provision-status", {"domain": pending["domain"]},
             {"domain": withdrawn["domain"]})
    run.one("/api/domain/delete-pending-domain", {"id": withdrawn["id"]})
    run.some("/api/domain/get-internal-domain")

    # Directory sync first, so the lists below hold synced users and groups too (one of them
    # without a display name).
    export = tmp_path / "users.csv"
    export.write_text((DIRSYNC_DATA / "users.csv").read_text()
                      .replace("@corp.example", f"@{domain}"))
    with harness.session_ctx(tenant) as ctx:
        dirsync.add_connection(ctx, "Fuzz CSV", "csv", str(export))
    run.one("/api/directory/execute-sync")
    run.some("/api/directory/get-connection")
    [synced] = run.some("/api/directory/find-groups", {"source": "ldap"})
    run.some("/api/directory/get-group-members", {"id": synced["folders"][0]["id"]})

    # Users.
    run.one("/api/user/create-user", {"emailAddress": user, "password": "Secret-123",
                                      "name": "Fuzz User"})
    run.one("/api/user/create-user", {"emailAddress": other})
    run.one("/api/user/update-user", {"emailAddress": user, "name": "Renamed",
                                      "allowPop": True, "archiveStartDate": "2024-01-01"})
    run.some("/api/user/get-internal-users")
    run.one("/api/user/update-attributes", {"emailAddress": user, "attributes": [
        {"name": "costCentre", "value": "42"}, {"name": "office", "value": "Leeds"}]})
    run.one("/api/user/get-attributes", {"emailAddress": user})
    alias = f"alias-{secrets.token_hex(3)}@{domain}"
    run.one("/api/user/update-alias", {"emailAddress": user, "aliasAddress": alias})
    run.one("/api/user/get-aliases", {"emailAddress": user})
    run.one("/api/user/add-delegate-user", {"emailAddress": user, "delegateAddress": other})
    run.one("/api/user/find-delegate-users", {"emailAddress": user})
    run.call("/api/user/get-profile", {"emailAddress": user}, {"emailAddress": tenant.email},
             {"emailAddress": f"grace@{domain}"})
    run.one("/api/user/remove-delegate-user", {"emailAddress": user, "delegateAddress": other})
    run.one("/api/user/remove-alias", {"aliasAddress": alias})

    # Groups.
    parent = run.one("/api/directory/create-group", {"description": "Fuzz parent"})
    group = run.one("/api/directory/create-group", {"description": "Fuzz child",
                                                    "parentId": parent["id"]})
    run.one("/api/directory/update-group", {"id": group["id"], "description": "Fuzz renamed"})
    run.one("/api/directory/add-group-member", {"id": group["id"], "emailAddress": user})
    run.one("/api/directory/add-group-member", {"id": group["id"], "domain": "example.org",
                                                "notes": "a whole domain"})
    run.some("/api/directory/find-groups", {"query": "fuzz"})
    run.some("/api/directory/get-group-members", {"id": group["id"]})
    run.one("/api/directory/remove-group-member", {"id": group["id"], "emailAddress": user})

    # Managed senders.
    sender = run.one("/api/managedsender/permit-or-block-sender",
                     {"sender": "spam@example.org", "to": user, "action": "block"})
    run.some("/api/managedsender/get-managed-senders")
    run.one("/api/managedsender/delete-managed-sender", {"id": sender["id"]})

    # URL Protect.
    managed = run.one("/api/ttp/url/create-managed-url",
                      {"url": "https://example.org:8443/path?q=1", "action": "block",
                       "comment": "fuzz"})
    run.one("/api/ttp/url/create-managed-url",
            {"url": "example.com", "action": "permit", "matchType": "domain"})
    run.some("/api/ttp/url/get-all-managed-urls")
    run.call("/api/ttp/url/delete-managed-url", {"id": managed["id"]})
    with harness.session_ctx(tenant) as ctx:
        link = url_rewrite.rewrite(ctx, "https://example.org/landing")
    run.one("/api/ttp/url/decode-url", {"url": link})

    # Policies: both documented shapes, and every kind of target the views can hold.
    policy = {"description": "Fuzz", "comment": "every optional part",
              "from": {"type": "profile_group", "groupId": group["id"]},
              "to": {"type": "address_attribute_value",
                     "attribute": {"name": "costCentre", "value": "42"}},
              "fromDate": "2024-01-01T00:00:00+0000",
              "conditions": {"sourceIPs": ["192.0.2.1"], "hostnames": ["mx.example.org"]}}
    blocked = run.one("/api/policy/blockedsenders/create-policy",
                      {"option": "block_sender", "policy": policy})
    run.one("/api/policy/blockedsenders/create-policy", {
        "option": "no_action", "policy": {"description": "Old shape", "fromType":
                                          "email_domain", "fromValue": "example.org",
                                          "toType": "individual_email_address",
                                          "toValue": user}})
    run.some("/api/policy/blockedsenders/get-policy")
    run.one("/api/policy/blockedsenders/delete-policy", {"id": blocked["id"]})

    bypass = run.one("/api/policy/antispoofing-bypass/create-policy",
                     {"option": "enable_bypass", "policy": {
                         "description": "Fuzz", "from": {"type": "header_display_name",
                                                         "headerDisplayName": "Billing"}}})
    run.one("/api/policy/antispoofing-bypass/update-policy",
            {"id": bypass["id"], "option": "disable_bypass"})
    run.some("/api/policy/antispoofing-bypass/get-policy")
    run.one("/api/policy/antispoofing-bypass/delete-policy", {"id": bypass["id"]})

    alteration = "/api/policy/address-alteration/"
    alteration_set = run.one(alteration + "create-address-alteration-set",
                             {"description": "Fuzz set"})
    run.some(alteration + "get-address-alteration-set")
    definition = run.one(alteration + "create-definition", {
        "addressAlterationSetId": alteration_set["id"], "originalAddress": user,
        "alteredAddress": other})
    run.some(alteration + "get-definition", {"addressAlterationSetId": alteration_set["id"]})
    run.one(alteration + "delete-definition", {"id": definition["id"]})
    applied = run.one(alteration + "create-policy", {
        "addressAlterationSetId": alteration_set["id"], "policy": {"description": "Fuzz"}})
    run.one(alteration + "update-policy", {"id": applied["id"],
                                           "policy": {"description": "Fuzz renamed"}})
    run.some(alteration + "get-policy")
    run.one(alteration + "delete-policy", {"id": applied["id"]})
    run.one(alteration + "delete-address-alteration-set", {"id": alteration_set["id"]})

    web = "/api/policy/webwhiteurl/"
    web_policy = run.one(web + "create-policy-with-targets", {
        "policy": {"description": "Fuzz", "from": {"type": "email_domain",
                                                   "emailDomain": domain}},
        "targets": [{"action": "block", "type": "domain", "value": "example.org"},
                    {"action": "allow", "type": "url", "value": "https://example.com/a"}]})
    run.one(web + "update-policy-with-targets", {"id": web_policy["id"],
                                                 "policy": {"enabled": False}})
    run.some(web + "get-policy-with-targets")
    run.one(web + "delete-policy-with-targets", {"id": web_policy["id"]})

    # The group goes last but one: the policy above named it.
    run.one("/api/directory/delete-group", {"id": parent["id"]})

    mail_flow(run, harness, tenant)

    # Last: the audit trail now holds every change above.
    now = utcnow()
    run.some("/api/audit/get-audit-events", {
        "startDateTime": format_date(now - timedelta(days=1)),
        "endDateTime": format_date(now + timedelta(days=1))})

    # A new endpoint belongs in this walk: otherwise its success model is never checked.
    assert sorted(set(api.schema.raw_schema["paths"]) - run.called) == []


def mail_flow(run: Scenario, harness: Harness, tenant: Tenant) -> None:
    """Mail reaches the gateway (as the simulator sends it), then every mail endpoint."""
    partner = "news@partner.example.org"
    spam = {"subject": "URGENT lottery winner, act now", "text": "click here for free money",
            "spf": "fail", "dmarc": "fail"}

    def inbound(**changes: Any) -> Draft:
        return Draft(sender=partner, recipients=(Recipient(tenant.email, "Admin"),),
                     received_at=utcnow() - timedelta(minutes=5), external=True,
                     from_name="Partner", sender_ip="198.51.100.7", **changes)

    with harness.session_ctx(tenant) as ctx:
        accepted = accept.accept(ctx, [inbound(subject="Hello", links=(
            "https://docs.partner.example.org/a",), attachments=(Attachment(
                "q3.pdf", "application/pdf", 3, hashlib.sha256(b"pdf").hexdigest(), b"pdf"),)),
            inbound(**spam), inbound(**spam),
            inbound(subject="Still waiting")])
        # A copy the next hop has not taken yet: the processing queue's one entry.
        ctx.session.execute(update(MessageRecipient).where(
            MessageRecipient.message_id == accepted[3].id).values(status="queued"))
    upload = run.one("/api/file/file-upload", {"sha256": hashlib.sha256(b"Hi").hexdigest(),
                                               "fileSize": 2, "filename": "hi.txt"})
    assert requests.put(upload["urls"][0], data=b"Hi", timeout=30).status_code == 200
    run.one("/api/email/send-email", {"to": [{"emailAddress": partner}], "subject": "Hi",
                                      "plainBody": {"content": "Hello"},
                                      "attachments": [{"id": upload["id"]}]})
    gateway = "/api/gateway/"
    held = run.some(gateway + "get-hold-message-list", {})
    run.some(gateway + "find-held-messages", {"admin": True})
    run.some(gateway + "get-hold-summary-list")
    [found] = run.some("/api/message-finder/search",
                       {"advancedTrackAndTraceOptions": {"from": partner}})
    run.call("/api/message-finder/get-message-info",
             *({"id": tracked["id"]} for tracked in found["trackedEmails"]))
    run.one(gateway + "message/get-message-detail", {"id": held[0]["id"]})
    run.download(gateway + "message/get-file", {"id": held[0]["id"]})
    logs_flow(run, harness, tenant, accepted[0].id)
    run.one(gateway + "hold-release", {"id": held[0]["id"]})
    run.one(gateway + "hold-reject", {"ids": [held[1]["id"]], "reasonType":
                                      "MESSAGE CONTAINS UNDESIRABLE CONTENT"})
    run.some(gateway + "get-held-release-logs", {})
    run.some(gateway + "get-rejections", {"admin": True})
    [processing] = run.some(gateway + "find-processing-messages", {})
    assert processing["messages"]
    now = utcnow()
    run.some("/api/email/get-email-queues", {"start": format_date(now - timedelta(hours=1)),
                                             "end": format_date(now)})
    # A CSV file, and a STIX bundle zipped (unzipped it is application/json, the media type
    # the document gives the envelope).
    run.download("/api/ttp/threat-intel/get-feed", {"feedType": "malware_grid"})
    run.download("/api/ttp/threat-intel/get-feed", {"fileType": "stix", "compress": True})


def logs_flow(run: Scenario, harness: Harness, tenant: Tenant, message: int) -> None:
    """The logs of what `mail_flow` did so far: a click on the first message's link (as the
    simulator records one), its file's scan, the search, the views; the journal connector."""
    now = utcnow()
    with harness.session_ctx(tenant) as ctx:
        link = ctx.session.scalar(select(MessageLink.id).where(MessageLink.message_id == message))
        ctx.session.add(LinkClick(account_id=tenant.account_id, link_id=link,
                                  recipient=tenant.email, clicked_at=now - timedelta(minutes=1),
                                  action="allowed", source_ip="192.0.2.1",
                                  user_agent="Mozilla/5.0"))
    since = format_date(now - timedelta(hours=1))
    [clicks] = run.some("/api/ttp/url/get-logs", {"from": since})
    [scans] = run.some("/api/ttp/attachment/get-logs", {"from": since})
    assert clicks["clickLogs"] and scans["attachmentLogs"]
    for path in ("/api/archive/get-search-logs", "/api/archive/get-archive-search-logs"):
        [searches] = run.some(path, {"start": since})
        assert searches["logs"]
    run.some("/api/archive/get-view-logs", {"start": since})
    run.some("/api/journaling/get-service")
    with harness.session_ctx(tenant) as ctx:
        accept.accept(ctx, [Draft(sender=tenant.email, recipients=(Recipient(
            "buyer@customer.example.com"),), received_at=now - timedelta(minutes=2),
            external=False, subject="Confidential: prices")])
    [posing] = run.some("/api/ttp/impersonation/get-logs", {"from": since})
    [leaks] = run.some("/api/dlp/get-logs", {"from": since})
    assert posing["impersonationLogs"] and leaks["dlpLogs"]
    # The SIEM log: a file, once the slice of this mail has ended.
    harness.clock.advance(minutes=31)
    try:
        run.download("/api/audit/get-siem-logs", {"fileFormat": "json", "compress": True})
    finally:
        harness.clock.reset()


# --- fuzzed bodies, signed -----------------------------------------------------------------------

@pytest.mark.parametrize("path", SIGNED)
def test_fuzzed_signed_calls_conform(api: Api, harness: Harness, tenant: Tenant,
                                     fresh_keys: Callable[[], Keys], path: str) -> None:
    # A logout ends the binding that signs it (unless it names another accessKey): it gets a
    # binding of its own, renewed whenever a call ended it.
    keys = [fresh_keys() if path == LOGOUT else tenant.keys]

    # The credential headers are fixed, so no case spends its invalidity on them; each call is
    # then signed afresh.
    @FUZZ
    @given(case=fuzzed(api.operation(path), harness.signed_headers(keys[0], path)))
    def check(case: Call) -> None:
        case.headers.update(harness.signed_headers(keys[0], path))
        response = api.send(case)
        # Signed, so authenticated whatever the body: a 401 would mean the signing broke.
        assert response.status_code in (200, 400), response.text
        if path == LOGOUT and response.status_code == 200 and not response.json()["fail"]:
            keys[0] = fresh_keys()

    check()


# --- refused before the body is read ---------------------------------------------------------

REFUSED = ["no credentials", "no signature", "unknown app id", "wrong secret",
           "signed for another path", "not an MC signature", "headers too large"]
# What refusing them answers: 400 (credentials missing), 401 (invalid signature), 431, or for
# a bad app id 200 with `err_developer_key` (client-compatibility.md item 15).
REFUSALS = {"err_developer_key", "err_xdk_credentials_missing", "err_xdk_invalid_signature",
            "err_request_headers_too_large"}


def refused_headers(harness: Harness, keys: Keys, path: str, way: str,
                    header_limit: int) -> dict[str, str]:
    """The headers of a signed call to `path`, spoilt in `way`."""
    if way == "no credentials":
        return {"Content-Type": "application/json"}
    if way == "wrong secret":
        keys = replace(keys, secret_key=base64.b64encode(b"not the secret").decode())
    headers = harness.signed_headers(keys, DISCOVER if way == "signed for another path"
                                     else path)
    if way == "no signature":
        del headers["Authorization"]
    elif way == "unknown app id":
        headers["x-mc-app-id"] = "00000000-0000-0000-0000-000000000000"
    elif way == "not an MC signature":
        headers["Authorization"] = f"Bearer {keys.access_key}"
    elif way == "headers too large":
        headers["x-padding"] = "a" * header_limit
    return headers


@pytest.mark.parametrize("way", REFUSED)
def test_refused_calls_conform(api: Api, harness: Harness, tenant: Tenant, live: LiveServer,
                               way: str) -> None:
    for path in SIGNED:
        headers = refused_headers(harness, tenant.keys, path, way,
                                  live.settings.max_header_bytes)
        body = api.send(api.operation(path).Case(body={"data": [{}]}, headers=headers)).json()
        assert body["data"] == [], (path, body)
        assert body["fail"][0]["errors"][0]["code"] in REFUSALS, (path, body)


# --- the unsigned endpoints ------------------------------------------------------------------

def test_fuzzed_discovery_conforms(api: Api) -> None:
    @FUZZ
    @given(case=fuzzed(api.operation(DISCOVER)))
    def check(case: Call) -> None:
        assert api.send(case).status_code in (200, 400)

    check()


@pytest.fixture(scope="module")
def login_tenant(harness: Harness) -> Tenant:
    """Fuzzed logins fail and get throttled: not the administrator whose keys mint bindings."""
    return harness.tenant(max_bindings=1_000_000)


def test_fuzzed_logins_conform(api: Api, login_tenant: Tenant) -> None:
    # Each login costs an argon2 check (~0.4 s of a core): a handful of cases.
    @settings(FUZZ, max_examples=4)
    @given(case=fuzzed(api.operation(LOGIN), basic_cloud(login_tenant)))
    def check(case: Call) -> None:
        # 401: a userName or accessKey that is not this user's; 429: throttled after that.
        assert api.send(case).status_code in (200, 400, 401, 429)

    check()


@pytest.mark.parametrize(("authorization", "code"), [
    (None, "err_xdk_credentials_missing"),
    ("Bearer 0123456789", "err_xdk_auth_type_not_supported"),
    (f"{signing.REALM_CLOUD} not-base64!", "err_xdk_authentication_failed"),
    (f"{signing.REALM_CLOUD} {base64.b64encode(b'nobody@example.invalid:x').decode()}",
     "err_xdk_authentication_failed"),
])
def test_refused_logins_conform(api: Api, login_tenant: Tenant, authorization: str | None,
                                code: str) -> None:
    headers = {"x-mc-app-id": login_tenant.keys.app_id}
    if authorization is not None:
        headers["Authorization"] = authorization
    case = api.operation(LOGIN).Case(body={"data": [{}]}, headers=headers)
    assert api.send(case).json()["fail"][0]["errors"][0]["code"] == code
