"""What the sync and async clients share, free of I/O: the request body, reading the envelope,
the retry decision, and turning fail entries into results or exceptions."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

from mimicast.client import errors
from mimicast.client.errors import ErrorDetail, Failure

JSON_HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}
RATE_LIMITED = 429
# Fail kinds a caller can act on per item; everything else concerns the whole request and is
# raised even when partial results were asked for.
ITEM_KINDS = (errors.ValidationError, errors.NotFoundError, errors.ApiFailure)
# Gateways answering for an unreachable or overloaded server: worth another try.
_RETRYABLE_HTTP = frozenset({502, 503, 504})
_FILENAME = re.compile(r'filename="?([^";]*)')


class DownloadedFile(bytes):
    """A file endpoint's answer: the file's bytes, with the name it was served under and the
    response's headers, where a feed's bookmark for the next call travels
    (`headers.get("x-mc-threat-feed-next-token")`)."""

    filename: str
    headers: httpx.Headers

    def __new__(cls, content: bytes, headers: httpx.Headers) -> DownloadedFile:
        file = super().__new__(cls, content)
        found = _FILENAME.search(headers.get("content-disposition", ""))
        file.filename = found.group(1) if found else ""
        file.headers = headers
        return file


@dataclass(frozen=True)
class RetryPolicy:
    """Capped, jittered exponential back-off; a 429 waits what X-RateLimit-Reset says."""

    max_retries: int = 3
    backoff: float = 0.5  # seconds before the first retry, doubled each time
    max_backoff: float = 8.0
    max_rate_wait: float = 60.0  # never sleep longer than this for a 429

    def backoff_delay(self, attempt: int) -> float:
        # "Equal jitter": at least half the nominal delay, so retries neither hammer the
        # server nor march in step with other clients.
        nominal = min(self.max_backoff, self.backoff * float(1 << attempt))
        return nominal / 2 + random.uniform(0, nominal / 2)

    def rate_wait(self, reset_ms: int | None) -> float:
        wait = (reset_ms if reset_ms is not None and reset_ms > 0 else 1000) / 1000
        # A few ms on top: the bucket refills at exactly reset_ms, not before.
        return min(self.max_rate_wait, wait) + random.uniform(0.005, 0.02)


@dataclass
class Reply:
    """One response, decoded: HTTP status, the envelope's parts, the rate-limit reset."""

    path: str
    status: int
    data: list[Any] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    reset_ms: int | None = None
    malformed: bool = False  # not the envelope (a proxy's error page, …)


def request_body(data: Any = None, meta: dict[str, Any] | None = None) -> bytes:
    if data is None:
        items: list[Any] = []
    elif isinstance(data, list):
        items = data
    elif isinstance(data, tuple):
        items = list(data)
    else:
        items = [data]
    body: dict[str, Any] = {"data": items}
    if meta:
        body["meta"] = meta
    return orjson.dumps(body)


def read(response: httpx.Response, path: str) -> Reply:
    reset = _int_header(response, "x-ratelimit-reset")
    if response.status_code == 200 and "attachment" in response.headers.get(
            "content-disposition", ""):
        # A file endpoint's success: the body is the file (a failure is the envelope).
        return Reply(path, 200, data=[DownloadedFile(response.content, response.headers)],
                     reset_ms=reset)
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        body = None
    if not isinstance(body, dict) or not isinstance(body.get("data", []), list):
        text = response.text[:200].strip() or "(empty body)"
        detail = ErrorDetail(f"err_http_{response.status_code}",
                             f"HTTP {response.status_code}, not a Mimecast envelope: {text}",
                             retryable=response.status_code in _RETRYABLE_HTTP)
        return Reply(path, response.status_code, failures=[Failure(None, [detail])],
                     reset_ms=reset, malformed=True)
    meta = body.get("meta")
    return Reply(path, response.status_code, data=list(body.get("data") or []),
                 failures=errors.parse_failures(body.get("fail")),
                 meta=meta if isinstance(meta, dict) else {}, reset_ms=reset)


def _int_header(response: httpx.Response, name: str) -> int | None:
    try:
        return int(response.headers[name])
    except (KeyError, ValueError):
        return None


def retry_delay(policy: RetryPolicy, reply: Reply, attempt: int) -> float | None:
    """Seconds to wait before sending the request again, or None: do not retry.

    A retryable fail is retried only when nothing succeeded: resending a multi-item request
    whose other items went through would run those twice.
    """
    if attempt >= policy.max_retries:
        return None
    if reply.status == RATE_LIMITED:
        return policy.rate_wait(reply.reset_ms)
    details = [e for f in reply.failures for e in f.errors]
    if details and not reply.data and all(e.retryable for e in details):
        return policy.backoff_delay(attempt)
    return None


def connection_delay(policy: RetryPolicy, attempt: int) -> float | None:
    return policy.backoff_delay(attempt) if attempt < policy.max_retries else None


def connection_error(exc: httpx.TransportError, path: str) -> errors.TransportError:
    kind = "timed out" if isinstance(exc, httpx.TimeoutException) else "failed"
    return errors.TransportError(
        [ErrorDetail("err_transport", f"the request {kind}: {type(exc).__name__}: {exc}",
                     retryable=True)], path=path)


def outcome(reply: Reply, partial: bool) -> Any:
    """The data (or `(data, failures)` when `partial`), or the exception for the failure."""
    if reply.status == 200 and not reply.failures and not reply.malformed:
        return (reply.data, []) if partial else reply.data
    error = errors.make_error(reply.status, reply.failures, data=reply.data, path=reply.path,
                              reset_ms=reply.reset_ms)
    if reply.malformed and reply.status < 400:
        error = errors.ServerError(error.errors, status=reply.status, path=reply.path)
    if partial and reply.status == 200 and not reply.malformed and isinstance(error, ITEM_KINDS):
        return reply.data, reply.failures
    raise error


def discovered_api(data: list[Any], fallback: str) -> str:
    """`region.api` from a discover-authentication answer, or `fallback`."""
    first = data[0] if data else None
    region = first.get("region") if isinstance(first, dict) else None
    api = region.get("api") if isinstance(region, dict) else None
    return str(api).rstrip("/") if api else fallback


def login_keys(data: list[Any], path: str) -> tuple[str, str]:
    first = data[0] if data else None
    if not isinstance(first, dict) or not first.get("accessKey") or not first.get("secretKey"):
        raise errors.ServerError([ErrorDetail("err_bad_response",
                                              "the login answer holds no accessKey/secretKey")],
                                 status=200, path=path)
    return str(first["accessKey"]), str(first["secretKey"])
