"""The signed-call check over real HTTP: what real clients sign and send is accepted
(client-compatibility.md items 5–7), everything else is refused with the exact envelopes
clients key on (item 15), and bindings expire, extend, and get revoked as configured."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import orjson
import pytest

from mimicast.services import applications, identity
from mimicast.testing import Harness
from mimicast.testing.harness import Keys, LiveServer, Tenant, eventually
from mimicast.wire import signing

ACCOUNT = "/api/account/get-account"
LOGIN = "/api/login/login"
INVALID_SIGNATURE = (b'{"meta":{"status":401},"data":[],"fail":[{"errors":[{"code":'
                     b'"err_xdk_invalid_signature","message":"0004 Invalid Signature",'
                     b'"retryable":false}]}]}')


def sign(keys: Keys, date: str, request_id: str, uri: str, *,
         encoder: Callable[[bytes], bytes] = base64.b64encode, app_key: str | None = None,
         secret_key: str | None = None) -> str:
    """The seed's sample code, independent of mimicast.wire.signing."""
    message = ":".join([date, request_id, uri, app_key or keys.app_key]).encode()
    digest = hmac.new(base64.b64decode(secret_key or keys.secret_key), message,
                      hashlib.sha1).digest()
    return encoder(digest).rstrip().decode("ascii")


def post(base_url: str, keys: Keys, path: str, *, date: str | None = None,
         request_id: str | None = None, signed_uri: str | None = None, query: str = "",
         headers: dict[str, str] | None = None, app_key: str | None = None,
         secret_key: str | None = None, access_key: str | None = None,
         sent_date: str | None = None, body: Any = None) -> httpx.Response:
    """A signed POST with every piece of the signature under the test's control."""
    date = date or signing.request_date()
    request_id = request_id or str(uuid.uuid4())
    sig = sign(keys, date, request_id, signed_uri or path, app_key=app_key,
               secret_key=secret_key)
    all_headers = {"Authorization": f"MC {access_key or keys.access_key}:{sig}",
                   "x-mc-app-id": keys.app_id, "x-mc-date": sent_date or date,
                   "x-mc-req-id": request_id, "Content-Type": "application/json"}
    all_headers.update(headers or {})
    url = base_url + path + (f"?{query}" if query else "")
    return httpx.post(url, headers=all_headers,
                      content=orjson.dumps(body if body is not None else {"data": []}),
                      timeout=30)


def error_of(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert body["meta"]["status"] == response.status_code
    assert body["data"] == []
    return dict(body["fail"][0]["errors"][0])


@pytest.fixture(scope="module")
def tenant(harness: Harness) -> Tenant:
    return harness.tenant()


@pytest.fixture
def server(harness: Harness, request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    """A second server on the same store, with the settings the test parametrizes."""
    live = harness.with_settings(**request.param)
    yield live
    live.stop()


# What is accepted ----------------------------------------------------------------------------

def test_header_names_in_any_case(harness: Harness, tenant: Tenant) -> None:
    date, request_id = signing.request_date(), str(uuid.uuid4())
    sig = sign(tenant.keys, date, request_id, ACCOUNT)
    values = {"authorization": f"MC {tenant.keys.access_key}:{sig}",
              "x-mc-app-id": tenant.keys.app_id, "x-mc-date": date, "x-mc-req-id": request_id}
    for transform in (str.lower, str.upper, str.title):
        headers = {transform(name): value for name, value in values.items()}
        response = httpx.post(harness.url + ACCOUNT, headers=headers, content=b'{"data":[]}')
        assert response.status_code == 200, (transform, response.text)


def test_dates_are_signed_verbatim_in_every_form_clients_send(harness: Harness,
                                                               tenant: Tenant) -> None:
    now = datetime.now(UTC)
    london = now + timedelta(hours=1)
    dates = [
        signing.request_date(),                                     # the documented UTC
        format_datetime(now, usegmt=True),                          # GMT
        london.strftime("%a, %d %b %Y %H:%M:%S BST"),               # a local zone name
        now.strftime("%a, %d %b %Y %H:%M:00 UTC"),                  # seconds truncated
        "Di, 24 Nov. 2015 12:50:11 UTC",                            # German day name
        (now - timedelta(days=1)).strftime("%a, %d %b %Y %H:%M:%S UTC"),  # yesterday's
    ]
    for date in dates:
        response = post(harness.url, tenant.keys, ACCOUNT, date=date)
        assert response.status_code == 200, (date, response.text)


def test_localized_non_ascii_dates_in_either_encoding(harness: Harness, tenant: Tenant) -> None:
    """Clients sign the UTF-8 text, and send it as Latin-1 (Python, .NET) or as UTF-8."""
    for date in ("Mi, 12 Mär 2025 09:15:00 MEZ", "mer., 12 févr. 2025 09:15:00 CET"):
        for encoding in ("latin-1", "utf-8"):
            request_id = str(uuid.uuid4())
            sig = sign(tenant.keys, date, request_id, ACCOUNT)
            response = httpx.post(harness.url + ACCOUNT, content=b'{"data":[]}', headers=[
                (b"Authorization", f"MC {tenant.keys.access_key}:{sig}".encode()),
                (b"x-mc-app-id", tenant.keys.app_id.encode()),
                (b"x-mc-date", date.encode(encoding)), (b"x-mc-req-id", request_id.encode())])
            assert response.status_code == 200, (date, encoding, response.text)
        # The date is still part of what is signed.
        response = httpx.post(harness.url + ACCOUNT, content=b"{}", headers=[
            (b"Authorization", f"MC {tenant.keys.access_key}:{sig}".encode()),
            (b"x-mc-app-id", tenant.keys.app_id.encode()),
            (b"x-mc-date", date.upper().encode("utf-8")), (b"x-mc-req-id", request_id.encode())])
        assert response.content == INVALID_SIGNATURE


def test_a_repeated_request_id_and_date_are_accepted_by_default(harness: Harness,
                                                                tenant: Tenant) -> None:
    date, request_id = signing.request_date(), str(uuid.uuid4())
    for _ in range(3):
        response = post(harness.url, tenant.keys, ACCOUNT, date=date, request_id=request_id)
        assert response.status_code == 200, response.text


def test_signature_over_path_path_and_query_or_full_url(harness: Harness,
                                                        tenant: Tenant) -> None:
    assert post(harness.url, tenant.keys, ACCOUNT).status_code == 200
    # A Go client signs url.RequestURI(): the path plus the query string.
    assert post(harness.url, tenant.keys, ACCOUNT, query="page=1",
                signed_uri=f"{ACCOUNT}?page=1").status_code == 200
    # With a query string present, the path alone still verifies.
    assert post(harness.url, tenant.keys, ACCOUNT, query="page=1").status_code == 200
    assert post(harness.url, tenant.keys, ACCOUNT,
                signed_uri=harness.url + ACCOUNT).status_code == 200
    # A different path does not.
    wrong = post(harness.url, tenant.keys, ACCOUNT, signed_uri="/api/account/get-support-info")
    assert wrong.status_code == 401


def test_b64encode_and_encodebytes_signatures(harness: Harness, tenant: Tenant) -> None:
    for encoder in (base64.b64encode, base64.encodebytes):
        date, request_id = signing.request_date(), str(uuid.uuid4())
        sig = sign(tenant.keys, date, request_id, ACCOUNT, encoder=encoder)
        assert len(sig) == 28 and sig.endswith("=")
        response = httpx.post(harness.url + ACCOUNT, content=b'{"data":[]}', headers={
            "Authorization": f"MC {tenant.keys.access_key}:{sig}",
            "x-mc-app-id": tenant.keys.app_id, "x-mc-date": date, "x-mc-req-id": request_id})
        assert response.status_code == 200, response.text


# What is refused -----------------------------------------------------------------------------

def test_bad_signatures_get_the_exact_401_envelope(harness: Harness, tenant: Tenant) -> None:
    other = harness.tenant()
    attempts: dict[str, dict[str, Any]] = {
        "wrong app key": {"app_key": str(uuid.uuid4())},
        "wrong secret": {"secret_key": other.keys.secret_key},
        "unknown access key": {"access_key": "x" * 150},
        "another tenant's access key": {"access_key": other.keys.access_key},
        "date mismatch": {"sent_date": "Tue, 24 Nov 2015 12:50:11 UTC"},
    }
    for name, changes in attempts.items():
        response = post(harness.url, tenant.keys, ACCOUNT, **changes)
        assert response.status_code == 401, name
        assert response.content == INVALID_SIGNATURE, name
        assert response.headers["content-type"] == "application/json"
        assert "x-mc-expected-string-to-sign" not in response.headers


def test_a_request_id_mismatch_is_refused(harness: Harness, tenant: Tenant) -> None:
    date = signing.request_date()
    sig = sign(tenant.keys, date, "signed-id", ACCOUNT)
    response = httpx.post(harness.url + ACCOUNT, content=b"{}", headers={
        "Authorization": f"MC {tenant.keys.access_key}:{sig}",
        "x-mc-app-id": tenant.keys.app_id, "x-mc-date": date, "x-mc-req-id": "sent-id"})
    assert response.content == INVALID_SIGNATURE


def test_unknown_app_id_is_200_err_developer_key(harness: Harness, tenant: Tenant) -> None:
    keys = Keys("INVALID", tenant.keys.app_key, tenant.keys.access_key, tenant.keys.secret_key)
    response = post(harness.url, keys, ACCOUNT)
    assert response.status_code == 200
    assert response.content == (b'{"meta":{"status":200},"data":[],"fail":[{"errors":[{"code":'
                                 b'"err_developer_key","message":"App ID is invalid: INVALID",'
                                 b'"retryable":false}]}]}')
    missing = httpx.post(harness.url + ACCOUNT, content=b"{}", headers={
        "Authorization": f"MC {tenant.keys.access_key}:abc"})
    assert error_of(missing)["code"] == "err_developer_key"


def test_missing_authorization_is_400(harness: Harness, tenant: Tenant) -> None:
    response = httpx.post(harness.url + ACCOUNT, content=b"{}", headers={
        "x-mc-app-id": tenant.keys.app_id, "x-mc-date": signing.request_date(),
        "x-mc-req-id": str(uuid.uuid4())})
    assert response.status_code == 400
    assert error_of(response) == {"code": "err_xdk_credentials_missing",
                                  "message": "0001 Credentials are missing from the request.",
                                  "retryable": False}


def test_malformed_mc_authorization_is_401(harness: Harness, tenant: Tenant) -> None:
    for header in ("MC", f"MC {tenant.keys.access_key}", f"MC {tenant.keys.access_key}:",
                   "MC :signature", "Basic-Cloud abc", "MCaccess:sig",
                   f"MC {tenant.keys.access_key}:not base64 at all!"):
        response = httpx.post(harness.url + ACCOUNT, content=b"{}", headers={
            "Authorization": header, "x-mc-app-id": tenant.keys.app_id,
            "x-mc-date": signing.request_date(), "x-mc-req-id": str(uuid.uuid4())})
        assert response.status_code == 401, header
        assert error_of(response)["code"] == "err_xdk_invalid_signature", header


@pytest.mark.parametrize("server", [{"explain_auth": True}], indirect=True)
def test_explain_mode_returns_the_expected_string_to_sign(server: LiveServer,
                                                          tenant: Tenant) -> None:
    date, request_id = "Tue, 24 Nov 2015 12:50:11 UTC", "fixed-request-id"
    response = post(server.url, tenant.keys, ACCOUNT, date=date, request_id=request_id,
                    secret_key=base64.b64encode(b"not the secret").decode())
    assert response.status_code == 401
    # Everything the caller signs, but the app key: only which application's key goes there.
    assert response.headers["x-mc-expected-string-to-sign"] == (
        f"{date}:{request_id}:{ACCOUNT}:<app key of application {tenant.keys.app_id}>")
    ok = post(server.url, tenant.keys, ACCOUNT)
    assert ok.status_code == 200
    assert "x-mc-expected-string-to-sign" not in ok.headers


@pytest.mark.parametrize("server", [{"explain_auth": True}], indirect=True)
def test_explain_mode_never_discloses_the_app_key(server: LiveServer, tenant: Tenant,
                                                  other: Tenant) -> None:
    """Knowing an app id is not enough to learn anything: no hint until the access key is
    one of that application's bindings, and never the app key, in any 401."""
    wrong_secret = base64.b64encode(b"not the secret").decode()
    attempts = [
        # a stranger: the app id and a made-up access key
        {"Authorization": "MC bogus:bogus", "x-mc-app-id": tenant.keys.app_id},
        # another application's binding presented with this app id
        {"Authorization": f"MC {other.keys.access_key}:c2ln", "x-mc-app-id":
            tenant.keys.app_id},
    ]
    for headers in attempts:
        response = httpx.post(server.url + ACCOUNT, content=b"{}", headers={
            **headers, "x-mc-date": signing.request_date(), "x-mc-req-id": "r"})
        assert response.status_code == 401
        assert "x-mc-expected-string-to-sign" not in response.headers
        assert tenant.keys.app_key not in response.text + str(response.headers)
    signed_wrong = post(server.url, tenant.keys, ACCOUNT, secret_key=wrong_secret)
    assert signed_wrong.status_code == 401
    assert tenant.keys.app_key not in signed_wrong.text + str(signed_wrong.headers)


def test_no_credentials_at_all_is_400_credentials_missing(harness: Harness) -> None:
    response = httpx.post(harness.url + ACCOUNT, content=b"{}")
    assert response.status_code == 400
    assert error_of(response)["code"] == "err_xdk_credentials_missing"
    # An Authorization header without an app id names no application.
    response = httpx.post(harness.url + ACCOUNT, content=b"{}",
                          headers={"Authorization": "MC key:sig"})
    assert response.status_code == 200
    assert error_of(response)["code"] == "err_developer_key"


def test_without_explain_mode_there_is_no_hint(harness: Harness, tenant: Tenant) -> None:
    response = post(harness.url, tenant.keys, ACCOUNT,
                    secret_key=base64.b64encode(b"not the secret").decode())
    assert response.status_code == 401
    assert "x-mc-expected-string-to-sign" not in response.headers


# Binding lifetime ----------------------------------------------------------------------------

def _refresh(harness: Harness, tenant: Tenant) -> httpx.Response:
    return harness.http.post(LOGIN, json={"data": [{"userName": tenant.email,
                                                    "accessKey": tenant.keys.access_key}]},
                             headers={"Authorization": signing.basic(
                                 signing.REALM_CLOUD, tenant.email, tenant.password),
                                 "x-mc-app-id": tenant.keys.app_id})


def test_expired_binding_is_418_until_refreshed(harness: Harness) -> None:
    tenant = harness.tenant(ttl_seconds=2)
    assert harness.call(tenant.keys, ACCOUNT).status_code == 200
    assert eventually(lambda: harness.call(tenant.keys, ACCOUNT).status_code == 418)
    expired = harness.call(tenant.keys, ACCOUNT)
    error = error_of(expired)
    assert error["code"] == "err_xdk_binding_expired"
    assert "AccessKey Has Expired" in error["message"]
    assert expired.headers["content-type"] == "application/json"
    # A wrong signature on an expired binding is still just a bad signature.
    wrong = post(harness.url, tenant.keys, ACCOUNT,
                 secret_key=base64.b64encode(b"not the secret").decode())
    assert wrong.content == INVALID_SIGNATURE
    refresh = _refresh(harness, tenant)
    assert refresh.status_code == 200, refresh.text
    assert refresh.json()["data"][0]["accessKey"] == tenant.keys.access_key
    # The same keys work again at once: the refresh drops the cached, expired record.
    assert harness.call(tenant.keys, ACCOUNT).status_code == 200


def test_extend_on_validate_keeps_a_used_binding_alive(harness: Harness) -> None:
    tenant = harness.tenant(ttl_seconds=3, extend_on_validate=True)
    started = time.monotonic()
    statuses = []
    while time.monotonic() - started < 5:  # well past the 3 s TTL
        statuses.append(harness.call(tenant.keys, ACCOUNT).status_code)
        time.sleep(0.5)
    assert len(statuses) >= 8 and set(statuses) == {200}
    # Left alone (every call would extend it again), it expires like any other: no call for
    # longer than the TTL.
    time.sleep(3.5)
    assert error_of(harness.call(tenant.keys, ACCOUNT))["code"] == "err_xdk_binding_expired"


def test_a_revoked_binding_stops_working(harness: Harness) -> None:
    tenant = harness.tenant()
    assert harness.call(tenant.keys, ACCOUNT).status_code == 200
    with harness.session_ctx(tenant) as ctx:
        binding = applications.list_bindings(ctx, tenant.email)[0]
        applications.revoke_binding(ctx, binding.id)
    # Cached for at most 1 s; then the exact invalid-signature envelope.
    assert eventually(lambda: harness.call(tenant.keys, ACCOUNT).status_code == 401)
    assert harness.call(tenant.keys, ACCOUNT).content == INVALID_SIGNATURE


def test_a_revoked_application_stops_working(harness: Harness) -> None:
    tenant = harness.tenant()
    with harness.session_ctx(tenant) as ctx:
        applications.revoke_application(ctx, tenant.keys.app_id)
    assert eventually(lambda: harness.call(tenant.keys, ACCOUNT).status_code == 200
                      and "err_developer_key" in harness.call(tenant.keys, ACCOUNT).text)


# Authorization and isolation -----------------------------------------------------------------

def test_a_role_without_the_permission_gets_403(harness: Harness) -> None:
    tenant = harness.tenant(role=None)
    response = harness.call(tenant.keys, ACCOUNT)
    assert response.status_code == 403
    error = error_of(response)
    assert error["code"] == "err_xdk_forbidden"
    assert "Account | Dashboard | Read" in error["message"]
    assert response.headers["content-type"] == "application/json"
    # Granting the role opens it (after the 1 s cache).
    with harness.session_ctx(tenant) as ctx:
        identity.add_role_member(ctx, "Basic Administrator", tenant.email)
    assert eventually(lambda: harness.call(tenant.keys, ACCOUNT).status_code == 200)


def test_tenants_are_isolated(harness: Harness) -> None:
    first, second = harness.tenant(), harness.tenant()
    mixed = Keys(second.keys.app_id, second.keys.app_key, first.keys.access_key,
                 first.keys.secret_key)
    assert post(harness.url, mixed, ACCOUNT).content == INVALID_SIGNATURE
    for tenant in (first, second):
        data = harness.call(tenant.keys, ACCOUNT).json()["data"]
        assert len(data) == 1
        assert data[0]["accountCode"] == tenant.code
        assert data[0]["domain"] == tenant.domain


# Optional freshness and replay checks ----------------------------------------------------------

@pytest.mark.parametrize("server", [{"max_clock_skew": 300}], indirect=True)
def test_freshness_check_when_enabled(server: LiveServer, tenant: Tenant) -> None:
    now = datetime.now(UTC)
    yesterday = (now - timedelta(days=1)).strftime("%a, %d %b %Y %H:%M:%S UTC")
    stale = post(server.url, tenant.keys, ACCOUNT, date=yesterday)
    assert stale.status_code == 401
    assert error_of(stale)["code"] == "err_xdk_stale_request"
    unparseable = post(server.url, tenant.keys, ACCOUNT, date="whenever")
    assert error_of(unparseable)["code"] == "err_xdk_stale_request"
    for date in (signing.request_date(), format_datetime(now, usegmt=True),
                 (now + timedelta(hours=1)).strftime("%a, %d %b %Y %H:%M:%S BST")):
        assert post(server.url, tenant.keys, ACCOUNT, date=date).status_code == 200, date


@pytest.mark.parametrize("server", [{"reject_replayed_request_ids": True}], indirect=True)
def test_replay_check_when_enabled(server: LiveServer, tenant: Tenant) -> None:
    request_id = str(uuid.uuid4())
    assert post(server.url, tenant.keys, ACCOUNT, request_id=request_id).status_code == 200
    replay = post(server.url, tenant.keys, ACCOUNT, request_id=request_id)
    assert replay.status_code == 401
    assert error_of(replay)["code"] == "err_xdk_stale_request"
    assert post(server.url, tenant.keys, ACCOUNT).status_code == 200
