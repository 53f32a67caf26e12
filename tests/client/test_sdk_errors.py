"""Every exception class, partial failures, and what is (not) retried."""

from __future__ import annotations

import contextlib
import http.server
import socket
import threading
from collections.abc import Iterator

import pytest
from sdk_helpers import ClientFactory, Requests, new_domain

from mimicast.client import (
    ApiFailure,
    AuthenticationError,
    Client,
    MimicastError,
    NotFoundError,
    PermissionDeniedError,
    ServerError,
    TransportError,
    ValidationError,
)
from mimicast.client.errors import Failure
from mimicast.services import dns
from mimicast.testing import Harness
from mimicast.testing.harness import free_port

pytestmark = pytest.mark.store_agnostic

VERIFY = "/api/domain/verify-domain"


def test_authentication_errors(harness: Harness, requests_seen: Requests) -> None:
    tenant = harness.tenant()
    keys = tenant.keys
    wrong_secret = Client(harness.url, keys.app_id, keys.app_key, keys.access_key,
                          "d3Jvbmcgc2VjcmV0", event_hooks=requests_seen.hooks())
    with wrong_secret, pytest.raises(AuthenticationError) as caught:
        wrong_secret.account.get_account()
    assert caught.value.code == "err_xdk_invalid_signature" and caught.value.status == 401
    assert caught.value.key is None and not caught.value.retryable
    assert requests_seen.paths["/api/account/get-account"] == 1  # never retried

    # An unknown app id is answered with HTTP 200 and a fail entry without `key`.
    with Client(harness.url, "00000000-0000-0000-0000-000000000000", keys.app_key,
                keys.access_key, keys.secret_key) as unknown_app, \
            pytest.raises(AuthenticationError) as caught:
        unknown_app.account.get_account(partial=True)
    assert caught.value.code == "err_developer_key" and caught.value.status == 200


def test_permission_denied(harness: Harness, client_for: ClientFactory) -> None:
    client = client_for(harness.tenant(role=None))
    with pytest.raises(PermissionDeniedError) as caught:
        client.account.get_account()
    assert caught.value.status == 403 and caught.value.code == "err_xdk_forbidden"


def test_not_found(harness: Harness, client_for: ClientFactory) -> None:
    client = client_for(harness.tenant())
    with pytest.raises(NotFoundError) as caught:
        client.call("/api/nothing/here")
    assert caught.value.status == 404 and caught.value.path == "/api/nothing/here"
    with pytest.raises(NotFoundError) as caught:
        client.domain.get_provision_status(domain=new_domain())
    assert caught.value.code == "err_domain_not_found" and caught.value.status == 200


def test_validation_and_api_failures(harness: Harness, client_for: ClientFactory,
                                     requests_seen: Requests) -> None:
    client = client_for(harness.tenant(), event_hooks=requests_seen.hooks())
    with pytest.raises(ValidationError) as caught:
        client.domain.create_domain(domain="x.example.org", inboundType="carrier pigeon")
    assert caught.value.field == "inboundType"
    assert caught.value.key == {"domain": "x.example.org", "inboundType": "carrier pigeon"}
    name = new_domain()
    client.domain.create_domain(domain=name, inboundType="any")
    with pytest.raises(ApiFailure) as failed:
        client.domain.create_domain(domain=name, inboundType="any")
    assert failed.value.code == "err_domain_already_registered"
    assert not failed.value.retryable
    assert requests_seen.paths["/api/domain/create-domain"] == 3  # no retries


def test_partial_failures(harness: Harness, client_for: ClientFactory) -> None:
    tenant = harness.tenant()
    client = client_for(tenant)
    good, missing = new_domain(), new_domain()
    client.domain.create_domain(domain=good, inboundType="any")
    items = [{"domain": good}, {"domain": missing}, {"domain": ""}]
    with pytest.raises(MimicastError) as caught:
        client.domain.get_verification_code(items=items)
    error = caught.value
    assert [(e.code, e.key) for e in error.errors] == [
        ("err_domain_not_found", {"domain": missing}),
        ("err_validation_blank", {"domain": ""})]
    assert isinstance(error, ApiFailure)  # mixed kinds: the general class
    assert [f.key for f in error.failures] == [{"domain": missing}, {"domain": ""}]
    assert [d["domain"] for d in error.data] == [good]  # what did succeed is not lost
    assert "+1 more" in str(error)

    results, failures = client.domain.get_verification_code(items=items, partial=True)
    assert [r.domain for r in results] == [good]
    assert all(isinstance(f, Failure) for f in failures)
    assert [f.errors[0].code for f in failures] == ["err_domain_not_found",
                                                    "err_validation_blank"]
    assert failures[1].errors[0].field == "domain"
    # The raw call returns the envelope's data the same way.
    data, fails = client.call("/api/domain/get-verification-code", items, partial=True)
    assert [d["domain"] for d in data] == [good] and len(fails) == 2
    assert client.call("/api/domain/get-verification-code", [{"domain": good}]) == [
        {"domain": good, "token": results[0].token}]


def test_retryable_failures_are_retried_until_the_limit(harness: Harness,
                                                        client_for: ClientFactory,
                                                        requests_seen: Requests) -> None:
    tenant = harness.tenant()
    client = client_for(tenant, max_retries=2, backoff=0.01,
                        event_hooks=requests_seen.hooks())
    unverified = new_domain()
    client.domain.create_domain(domain=unverified, inboundType="any")
    with pytest.raises(ApiFailure) as caught:
        client.domain.verify_domain(domain=unverified)
    assert caught.value.code == "err_domain_verification_failed" and caught.value.retryable
    assert requests_seen.paths[VERIFY] == 3

    # One item verified, one retryably failed: resending would redo the good one — no retry.
    verified = new_domain()
    (created,) = client.domain.create_domain(domain=verified, inboundType="any")
    with harness.session_ctx(tenant) as ctx:
        dns.add_txt(ctx.session, verified, created.token)
    results, failures = client.domain.verify_domain(
        items=[{"domain": verified}, {"domain": unverified}], partial=True)
    assert [r.domain for r in results] == [verified] and len(failures) == 1
    assert requests_seen.paths[VERIFY] == 4


def test_connection_errors_are_retried_then_raised(requests_seen: Requests) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    with Client(closed, "app", "key", "access", "c2VjcmV0", max_retries=2, backoff=0.01,
                event_hooks=requests_seen.hooks()) as client, \
            pytest.raises(TransportError) as caught:
        client.account.get_account()
    assert requests_seen.paths["/api/account/get-account"] == 3
    assert caught.value.retryable and "failed" in caught.value.message


def test_timeouts_are_retried_then_raised(requests_seen: Requests) -> None:
    # A listening socket that never answers: the connection opens, the response never comes.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        with Client(url, "app", "key", "access", "c2VjcmV0", timeout=0.2, max_retries=1,
                    backoff=0.01, event_hooks=requests_seen.hooks()) as client, \
                pytest.raises(TransportError) as caught:
            client.call("/api/account/get-account")
    assert "timed out" in caught.value.message
    assert requests_seen.paths["/api/account/get-account"] == 2


class _Gateway(http.server.BaseHTTPRequestHandler):
    """A proxy in front of an unreachable server: 503 with an HTML page, then a non-JSON 200."""

    answers: list[tuple[int, bytes]] = []

    def do_POST(self) -> None:  # noqa: N802 - the http.server API
        self.rfile.read(int(self.headers.get("content-length") or 0))
        status, body = self.answers.pop(0) if self.answers else (503, b"<html>down</html>")
        self.send_response(status)
        self.send_header("content-type", "text/html")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


@contextlib.contextmanager
def gateway(answers: list[tuple[int, bytes]]) -> Iterator[str]:
    handler = type("Gateway", (_Gateway,), {"answers": list(answers)})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_server_errors(requests_seen: Requests) -> None:
    with gateway([]) as url, Client(url, "app", "key", "access", "c2VjcmV0", max_retries=2,
                                    backoff=0.01, event_hooks=requests_seen.hooks()) as client:
        with pytest.raises(ServerError) as caught:
            client.call("/api/account/get-account")
        assert caught.value.status == 503 and caught.value.code == "err_http_503"
        assert "<html>down</html>" in caught.value.message
        assert requests_seen.paths["/api/account/get-account"] == 3  # 503 is retried
    # A 200 that is not the envelope is a server fault too, and not retried.
    with gateway([(200, b"<html>login portal</html>")]) as url, \
            Client(url, "app", "key", "access", "c2VjcmV0", backoff=0.01) as client, \
            pytest.raises(ServerError) as caught:
        client.call("/api/account/get-account", partial=True)
    assert caught.value.status == 200 and not caught.value.retryable
