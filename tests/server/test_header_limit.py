"""The request-head limit: past `max_header_bytes` (request line + headers) the answer is HTTP
431 with the API's envelope, the request never reaches the app, and the server carries on;
within it, and whatever the body's size, requests are served as before."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import orjson
import pytest
from api import ok

from mimicast.testing import Harness, LiveServer
from mimicast.testing.harness import Tenant
from mimicast.wire.envelope import error_envelope
from mimicast.wire.errors import ApiError

pytestmark = pytest.mark.store_agnostic

LIMIT = 4096
ACCOUNT = "/api/account/get-account"


def envelope(limit: int) -> bytes:
    return error_envelope(ApiError("err_request_headers_too_large", limit=limit))


def assert_too_large(response: httpx.Response, limit: int) -> None:
    assert response.status_code == 431
    assert response.headers["content-type"] == "application/json"
    assert response.headers["connection"] == "close"
    assert response.content == envelope(limit)


def test_eight_megabytes_of_headers(harness: Harness, tenant: Tenant) -> None:
    headers = {f"x-filler-{n}": "f" * 8000 for n in range(1024)}
    with httpx.Client(timeout=30) as client:
        response = client.post(harness.url + ACCOUNT, content=b'{"data": []}', headers=headers)
    assert_too_large(response, harness.settings.max_header_bytes)
    # The server is none the worse: a signed call goes through.
    assert ok(harness, tenant, ACCOUNT, [])[0]["accountCode"] == tenant.code


def test_one_long_header(harness: Harness) -> None:
    with httpx.Client(timeout=30) as client:
        response = client.get(harness.url + "/healthz", headers={"x-long": "l" * 8_000_000})
    assert_too_large(response, harness.settings.max_header_bytes)


def test_a_long_url(harness: Harness) -> None:
    response = harness.http.get("/healthz?q=" + "u" * 40_000)
    assert_too_large(response, harness.settings.max_header_bytes)


@pytest.fixture(scope="module")
def small(harness: Harness) -> Iterator[LiveServer]:
    """A server whose limit is LIMIT bytes."""
    server = harness.with_settings(max_header_bytes=LIMIT)
    yield server
    server.stop()


class Connection:
    """One raw HTTP/1.1 connection to a server: bytes as they are, no client in between."""

    def __init__(self, server: LiveServer) -> None:
        self.sock = socket.create_connection(("127.0.0.1", server.settings.port), timeout=30)
        self.received = b""

    def send(self, *pieces: bytes) -> None:
        for piece in pieces:
            self.sock.sendall(piece)

    def response(self) -> tuple[bytes, bytes]:
        """The next response: its head and its body (by content-length)."""
        while b"\r\n\r\n" not in self.received:
            self._receive()
        head, self.received = self.received.split(b"\r\n\r\n", 1)
        length = int(next(line.split(b":", 1)[1] for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length:")))
        while len(self.received) < length:
            self._receive()
        body, self.received = self.received[:length], self.received[length:]
        return head, body

    def closed(self) -> bool:
        """Whether the server closes the connection (having sent nothing more)."""
        return self.sock.recv(1) == b""

    def _receive(self) -> None:
        chunk = self.sock.recv(65536)
        assert chunk, "the server closed the connection"
        self.received += chunk

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def connection(small: LiveServer) -> Iterator[Connection]:
    opened = Connection(small)
    yield opened
    opened.close()


def head_of(size: int) -> bytes:
    """A GET /healthz head of exactly `size` bytes, the last header padded to fit."""
    start = b"GET /healthz HTTP/1.1\r\nhost: test\r\nx-pad: "
    padding = size - len(start) - len(b"\r\n\r\n")
    return start + b"p" * padding + b"\r\n\r\n"


def assert_rejected(connection: Connection) -> None:
    head, body = connection.response()
    assert head.startswith(b"HTTP/1.1 431 ")
    assert b"\r\ncontent-type: application/json\r\n" in head
    assert body == envelope(LIMIT)
    assert connection.closed()


def test_the_limit_is_exact(connection: Connection) -> None:
    connection.send(head_of(LIMIT))
    assert connection.response()[0].startswith(b"HTTP/1.1 200 ")
    connection.send(head_of(LIMIT + 1))
    assert_rejected(connection)


def test_a_head_arriving_in_pieces(connection: Connection) -> None:
    head = head_of(LIMIT * 3)
    connection.send(*(head[i:i + 100] for i in range(0, len(head), 100)))
    assert_rejected(connection)


def test_a_large_body_is_not_a_large_head(small: LiveServer, harness: Harness,
                                          tenant: Tenant) -> None:
    body = orjson.dumps({"data": [], "meta": {"padding": "b" * (LIMIT * 64)}})
    response = harness.call(tenant.keys, ACCOUNT, content=body, base=small.url)
    assert response.status_code == 200, response.text


def test_each_request_of_a_connection_gets_the_whole_limit(connection: Connection) -> None:
    for _ in range(3):
        connection.send(head_of(LIMIT))
        assert connection.response()[0].startswith(b"HTTP/1.1 200 ")
