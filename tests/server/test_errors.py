"""Transport-level answers over real HTTP: unknown paths, wrong methods, unparseable bodies,
and the headers and envelope shape every response carries (client-compatibility.md 12, 13, 16).
"""

from __future__ import annotations

import json
import os
import socket
import time
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from mimicast.services.context import utcnow
from mimicast.services.mail import accept
from mimicast.services.mail.facts import Draft, Recipient
from mimicast.store.schema import LedgerEntry
from mimicast.testing import Harness
from mimicast.testing.harness import Tenant
from mimicast.wire import signing

pytestmark = pytest.mark.store_agnostic

ACCOUNT = "/api/account/get-account"
RATE_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")
SUCCESS_HEADERS = {"cache-control": "no-store", "pragma": "no-cache",
                   "x-robots-tag": "noindex, nofollow"}


@pytest.fixture(scope="module")
def tenant(harness: Harness) -> Tenant:
    return harness.tenant()


def check_envelope(response: httpx.Response, status: int) -> dict[str, Any]:
    """The shape every client relies on, for any response."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.content.startswith(b'{"meta":{"status":')
    body = json.loads(response.content)
    assert list(body) == ["meta", "data", "fail"]
    assert body["meta"]["status"] == status
    assert isinstance(body["data"], list) and isinstance(body["fail"], list)
    for name in RATE_HEADERS:
        assert response.headers[name].isdigit(), name
    return dict(body)


def first_error(body: dict[str, Any]) -> dict[str, Any]:
    assert len(body["fail"]) == 1
    error = body["fail"][0]["errors"][0]
    assert set(error) >= {"code", "message", "retryable"}
    return dict(error)


def test_unknown_path_is_a_404_envelope(harness: Harness, tenant: Tenant) -> None:
    for path in ("/api/nope/nothing", "/", "/api", "/api/account/get-account/extra"):
        body = check_envelope(harness.http.post(path, json={"data": []}), 404)
        error = first_error(body)
        assert error["code"] == "err_not_found"
        assert path in error["message"]
    # Signed or not, the path decides first.
    signed = harness.call(tenant.keys, "/api/nope/nothing")
    assert first_error(check_envelope(signed, 404))["code"] == "err_not_found"


def test_other_methods_are_405(harness: Harness) -> None:
    for method in ("GET", "PUT", "DELETE", "PATCH"):
        response = harness.http.request(method, ACCOUNT)
        body = check_envelope(response, 405)
        assert first_error(body)["code"] == "err_method_not_allowed"
        assert response.headers["allow"] == "POST"
    assert check_envelope(harness.http.get("/api/nope/nothing"), 405)


def test_success_carries_the_no_cache_headers(harness: Harness, tenant: Tenant) -> None:
    response = harness.call(tenant.keys, ACCOUNT)
    check_envelope(response, 200)
    for name, value in SUCCESS_HEADERS.items():
        assert response.headers[name] == value
    assert "charset" not in response.headers["content-type"]


def test_every_error_carries_rate_limit_headers_and_exact_content_type(
        harness: Harness, tenant: Tenant) -> None:
    unsigned = {"x-mc-app-id": tenant.keys.app_id}
    denied = harness.tenant(role=None)
    responses = [
        (harness.http.post("/api/nope/nothing"), 404),
        (harness.http.get(ACCOUNT), 405),
        (harness.http.post(ACCOUNT, headers=unsigned), 400),
        (harness.http.post(ACCOUNT, headers={**unsigned, "Authorization": "MC a:b"}), 401),
        (harness.call(denied.keys, ACCOUNT), 403),
        (harness.call(tenant.keys, ACCOUNT, content=b"{{{"), 400),
        (harness.http.post(ACCOUNT, headers={"x-mc-app-id": "nope"}), 200),
        (harness.http.post("/api/login/login", headers=unsigned), 400),
    ]
    for response, status in responses:
        check_envelope(response, status)
        assert first_error(response.json())["code"].startswith("err_")


def test_key_order_is_meta_data_fail_on_success(harness: Harness, tenant: Tenant) -> None:
    response = harness.call(tenant.keys, ACCOUNT)
    body = check_envelope(response, 200)
    assert body["fail"] == []
    assert list(body["meta"]) == ["status"]


# Bodies no parser accepts: a 400 envelope with a fail entry, never a 500 ---------------------

def _garbage_bodies() -> dict[str, bytes]:
    return {
        "braces": b"{{{",
        "binary": os.urandom(4096).replace(b"{", b"x"),
        "deep JSON": b'{"data": ' + b"[" * 200 + b"]" * 200 + b"}",
        "deep repr": b"{'data': " + b"(" * 200 + b")" * 200 + b"}",
        "a call": b"__import__('os').system('true')",
        "a list": b'[{"data": []}]',
        "a string": b'"data"',
        "a number": b"42",
        "half JSON": b'{"data": [{"emailAddress": "a@b.c"',
        "NaN": b'{"data": [{"x": NaN}]}',
        "huge int": b'{"data": [{"x": ' + b"9" * 400 + b"}]}",
        "lone surrogate": b'{"data": [{"x": "\\ud800"}], "y": ' + b"True}",
    }


@pytest.mark.parametrize("name", sorted(_garbage_bodies()))
def test_garbage_body_is_a_400_envelope(harness: Harness, tenant: Tenant, name: str) -> None:
    response = harness.call(tenant.keys, ACCOUNT, content=_garbage_bodies()[name])
    error = first_error(check_envelope(response, 400))
    assert error["code"] == "err_request_malformed"
    assert error["message"].startswith("The request body could not be parsed")


def test_a_20_mb_body_is_a_400_envelope(harness: Harness, tenant: Tenant) -> None:
    content = b'{"data": [{"x": "' + b"a" * (20 * 1024 * 1024) + b'"}]}'
    response = harness.call(tenant.keys, ACCOUNT, content=content)
    error = first_error(check_envelope(response, 400))
    assert error["code"] == "err_request_too_large"


def test_a_body_between_the_literal_and_json_limits(harness: Harness, tenant: Tenant) -> None:
    # 2 MB: fine as JSON, too large for the Python-literal fallback.
    as_json = b'{"data": [{"x": "' + b"a" * (2 * 1024 * 1024) + b'"}]}'
    check_envelope(harness.call(tenant.keys, ACCOUNT, content=as_json), 200)
    as_repr = b"{'data': [{'x': '" + b"a" * (2 * 1024 * 1024) + b"'}]}"
    error = first_error(check_envelope(harness.call(tenant.keys, ACCOUNT, content=as_repr), 400))
    assert error["code"] == "err_request_too_large"


def test_an_unauthenticated_body_is_not_parsed(harness: Harness, tenant: Tenant) -> None:
    # A stranger's garbage gets the 401 for the header, not a parse error.
    response = harness.http.post(ACCOUNT, content=b"{{{", headers={
        "x-mc-app-id": tenant.keys.app_id, "Authorization": "MC nobody:c2lnbmF0dXJl",
        "x-mc-date": signing.request_date(), "x-mc-req-id": "r"})
    assert first_error(check_envelope(response, 401))["code"] == "err_xdk_invalid_signature"


def test_garbage_to_the_unsigned_endpoints(harness: Harness, tenant: Tenant) -> None:
    for path in ("/api/login/discover-authentication", "/api/login/login"):
        response = harness.http.post(path, content=b"{{{", headers={
            "x-mc-app-id": tenant.keys.app_id,
            "Authorization": signing.basic(signing.REALM_CLOUD, tenant.email, tenant.password)})
        assert first_error(check_envelope(response, 400))["code"] == "err_request_malformed"
    # Items that are not objects are fail entries, one each, not a crash.
    response = harness.http.post("/api/login/discover-authentication",
                                 json={"data": ["x", 3, None, [1]]})
    body = check_envelope(response, 200)
    assert body["data"] == []
    assert [entry["errors"][0]["code"] for entry in body["fail"]] == [
        "err_validation_invalid_value"] * 4
    assert [entry.get("key") for entry in body["fail"]] == ["x", 3, None, [1]]


def test_too_many_items_for_a_one_item_endpoint(harness: Harness, tenant: Tenant) -> None:
    response = harness.call(tenant.keys, "/api/login/logout",
                            {"data": [{"accessKey": "a"}, {"accessKey": "b"}]})
    body = check_envelope(response, 200)
    assert first_error(body)["code"] == "err_validation_item_count"
    # Nothing ran: the caller's binding is intact.
    check_envelope(harness.call(tenant.keys, ACCOUNT), 200)


def test_a_request_whose_client_leaves_before_its_body_is_not_run(harness: Harness) -> None:
    """Half a request (the client gone before the body it announced) is not run as an empty
    one: a SIEM call whose body never came serves no file (the ledger records none)."""
    tenant = harness.tenant()
    path = "/api/audit/get-siem-logs"
    with harness.session_ctx(tenant) as ctx:
        accept.accept(ctx, [Draft(sender="news@partner.example.org",
                                  recipients=(Recipient(tenant.email),),
                                  received_at=utcnow() - timedelta(hours=2), external=True)])
    head = "".join(f"{name}: {value}\r\n" for name, value in
                   harness.signed_headers(tenant.keys, path).items())
    port = int(harness.url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{head}"
                     "Content-Length: 200\r\n\r\n".encode())
    time.sleep(1)  # the server notices the client has gone
    with harness.session_ctx(tenant) as ctx:
        served = ctx.session.execute(select(func.count()).select_from(LedgerEntry).where(
            LedgerEntry.account_id == tenant.account_id)).scalar_one()
    assert served == 0
