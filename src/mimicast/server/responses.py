"""JSON responses with the exact content type and the headers real clients expect."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from mimicast.server.ratelimit import Quota
from mimicast.wire.envelope import JSON_CONTENT_TYPE, envelope, error_envelope
from mimicast.wire.errors import ApiError

SUCCESS_HEADERS = {"cache-control": "no-store", "pragma": "no-cache",
                   "x-robots-tag": "noindex, nofollow"}


def json_response(body: bytes, status: int, quota: Quota | None,
                  extra: dict[str, str] | None = None) -> Response:
    headers: dict[str, str] = {}
    if quota is not None:
        headers.update(quota.headers())
    if status == 200:
        headers.update(SUCCESS_HEADERS)
    if extra:
        headers.update(extra)
    response = Response(body, status_code=status, headers=headers)
    # Set directly: Starlette would otherwise add "; charset=utf-8" for some types.
    response.headers["content-type"] = JSON_CONTENT_TYPE
    return response


def error_response(error: ApiError, quota: Quota | None,
                   extra: dict[str, str] | None = None) -> Response:
    return json_response(error_envelope(error), error.status, quota, extra)


def data_response(data: list[Any], fail: list[dict[str, Any]], quota: Quota | None,
                  meta: dict[str, Any] | None = None) -> Response:
    return json_response(envelope(data, fail, meta=meta), 200, quota)
