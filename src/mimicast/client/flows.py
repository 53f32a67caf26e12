"""The client's conversations with the server, written once, free of I/O.

A flow is a generator: it yields `Send` (a request to make) or `Sleep` (a back-off) and is
answered with the `httpx.Response` (or the `httpx.TransportError` raised) and None. `Client`
drives flows with blocking calls, `AsyncClient` with awaits — so the retry rules, the login
sequence and paging exist once for both, the way httpx's own `Auth` flows do.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from mimicast.client import transport
from mimicast.client.auth import (
    DISCOVER_PATH,
    LOGIN_PATH,
    Keys,
    LoginCredentials,
    MimecastAuth,
    discover_request,
    login_request,
)

T = TypeVar("T")
FILE_UPLOAD_PATH = "/api/file/file-upload"


@dataclass(frozen=True)
class Send:
    request: httpx.Request
    signed: bool


@dataclass(frozen=True)
class Sleep:
    seconds: float


Answer = httpx.Response | httpx.TransportError | None
Flow = Generator[Send | Sleep, Answer, T]


def exchange(policy: transport.RetryPolicy, path: str, build: Callable[[], httpx.Request],
             signed: bool) -> Flow[transport.Reply]:
    """One call with its retries: 429 waits X-RateLimit-Reset, retryable failures and
    connection errors back off; a fresh request (new x-mc-date, x-mc-req-id) each attempt."""
    attempt = 0
    while True:
        answer = yield Send(build(), signed)
        if isinstance(answer, httpx.TransportError):
            delay = transport.connection_delay(policy, attempt)
            if delay is None:
                raise transport.connection_error(answer, path) from answer
        else:
            assert answer is not None
            reply = transport.read(answer, path)
            delay = transport.retry_delay(policy, reply, attempt)
            if delay is None:
                return reply
        yield Sleep(delay)
        attempt += 1


def call(policy: transport.RetryPolicy, url: httpx.URL, timeout: dict[str, Any], path: str,
         data: Any, meta: dict[str, Any] | None) -> Flow[transport.Reply]:
    """A signed call to `url` (the endpoint's absolute URL, parsed once per client)."""
    body = transport.request_body(data, meta)
    return exchange(policy, path, lambda: httpx.Request(
        "POST", url, headers=transport.JSON_HEADERS, content=body,
        extensions={"timeout": timeout}), True)


def upload(policy: transport.RetryPolicy, url: httpx.URL, timeout: dict[str, Any],
           content: bytes, filename: str | None, content_type: str | None) -> Flow[str]:
    """`file/file-upload` (at `url`) announces the file, then its bytes are PUT, unsigned, to
    each URL it answered; the file's id. A PUT counts as done on any 2xx: a pre-signed URL's
    answer need not be the envelope."""
    item: dict[str, Any] = {"sha256": hashlib.sha256(content).hexdigest(),
                            "fileSize": len(content)}
    if filename:
        item["filename"] = filename
    if content_type:
        item["contentType"] = content_type
    reply = yield from call(policy, url, timeout, FILE_UPLOAD_PATH, [item], None)
    [target] = transport.outcome(reply, partial=False)
    for target_url in target["urls"]:
        reply = yield from exchange(policy, FILE_UPLOAD_PATH, functools.partial(
            httpx.Request, "PUT", target_url, content=content,
            headers={"Content-Type": content_type or "application/octet-stream"},
            extensions={"timeout": timeout}), False)
        if not 200 <= reply.status < 300:
            transport.outcome(reply, partial=False)
    return str(target["id"])


def login(policy: transport.RetryPolicy, http: httpx.Client | httpx.AsyncClient,
          auth: MimecastAuth, credentials: LoginCredentials, *, follow_region: bool
          ) -> Flow[None]:
    """Discovery, then login at the API host; the client keeps the keys and the credentials
    (to refresh an expired binding). `follow_region`: calls go to the `region.api` discovery
    answers, rather than staying on the host asked."""
    host = str(http.base_url).rstrip("/")
    reply = yield from exchange(
        policy, DISCOVER_PATH,
        lambda: discover_request(host, auth.app_id, credentials.email), False)
    discovered = transport.outcome(reply, partial=False)
    api = transport.discovered_api(discovered, host) if follow_region else host
    http.base_url = httpx.URL(api)
    reply = yield from exchange(
        policy, LOGIN_PATH, lambda: login_request(api + LOGIN_PATH, auth.app_id, credentials),
        False)
    access_key, secret_key = transport.login_keys(transport.outcome(reply, partial=False),
                                                  LOGIN_PATH)
    auth.set_keys(Keys(access_key, secret_key))
    auth.credentials = credentials
