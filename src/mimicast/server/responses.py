"""JSON responses with the exact content type and the headers real clients expect.

A `Reply` writes its two ASGI messages itself, with headers encoded once: every API response
goes through here, and Starlette's general-purpose Response costs more than the rest of the
signature check.
"""

from __future__ import annotations

from typing import Any

from starlette.types import Receive, Scope, Send

from mimicast.server.ratelimit import Quota
from mimicast.services.downloads import Download
from mimicast.wire.envelope import JSON_CONTENT_TYPE, envelope, error_envelope
from mimicast.wire.errors import ApiError

Headers = list[tuple[bytes, bytes]]

# Exactly this content type: collectors compare the whole string.
CONTENT_TYPE: Headers = [(b"content-type", JSON_CONTENT_TYPE.encode())]
SUCCESS_HEADERS: Headers = [(b"cache-control", b"no-store"), (b"pragma", b"no-cache"),
                            (b"x-robots-tag", b"noindex, nofollow")]


class Reply:
    """An API response: status, JSON body, headers."""

    __slots__ = ("status_code", "body", "raw_headers")

    def __init__(self, body: bytes, status: int, headers: Headers) -> None:
        self.status_code = status
        self.body = body
        self.raw_headers = headers

    @property
    def headers(self) -> dict[str, str]:
        """The headers by lower-case name (for tests and logs; not used to send)."""
        return {k.decode("latin-1"): v.decode("latin-1") for k, v in self.raw_headers}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": self.status_code,
                    "headers": [*self.raw_headers,
                                (b"content-length", str(len(self.body)).encode())]})
        await send({"type": "http.response.body", "body": self.body})


def json_response(body: bytes, status: int, quota: Quota | None,
                  extra: dict[str, str] | None = None) -> Reply:
    headers = list(CONTENT_TYPE)
    if quota is not None:
        headers += quota.raw_headers()
    if status == 200:
        headers += SUCCESS_HEADERS
    if extra:
        headers += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in extra.items()]
    return Reply(body, status, headers)


def error_response(error: ApiError, quota: Quota | None,
                   extra: dict[str, str] | None = None) -> Reply:
    return json_response(error_envelope(error), error.status, quota, extra)


def data_response(data: list[Any], fail: list[dict[str, Any]], quota: Quota | None,
                  meta: dict[str, Any] | None = None) -> Reply:
    return json_response(envelope(data, fail, meta=meta), 200, quota)


def file_response(download: Download, quota: Quota | None) -> Reply:
    """A file as the whole body, named for saving (`Content-Disposition`)."""
    name = download.filename.replace('"', "").replace("\\", "")
    headers: Headers = [(b"content-type", download.content_type.encode("latin-1", "replace")),
                        (b"content-disposition",
                         f'attachment; filename="{name}"'.encode("latin-1", "replace"))]
    headers += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in download.headers]
    if quota is not None:
        headers += quota.raw_headers()
    return Reply(download.content, 200, headers + SUCCESS_HEADERS)
