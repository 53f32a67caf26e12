"""The response envelope `{"meta", "data", "fail"}`, serialised in that key order."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

from mimicast.wire.errors import ApiError

JSON_CONTENT_TYPE = "application/json"  # exactly this: collectors compare the whole string


def fail_entry(errors: Iterable[ApiError], key: Any = None) -> dict[str, Any]:
    """One `fail[]` element; `key` echoes the offending request item, when there is one."""
    entry: dict[str, Any] = {}
    if key is not None:
        entry["key"] = key
    entry["errors"] = [e.as_error() for e in errors]
    return entry


def envelope(data: list[Any], fail: list[dict[str, Any]] | None = None, *, status: int = 200,
             meta: dict[str, Any] | None = None) -> bytes:
    """Serialise a response body; extra `meta` keys (pagination, …) follow `status`."""
    head: dict[str, Any] = {"status": status}
    if meta:
        head.update(meta)
    return orjson.dumps({"meta": head, "data": data, "fail": fail or []})


def error_envelope(error: ApiError) -> bytes:
    """A request-level failure: no `key`, `meta.status` mirrors the HTTP status."""
    return envelope([], [fail_entry([error])], status=error.status)


def decode(body: bytes) -> dict[str, Any]:
    """Parse a response body (the SDK and the tests use this)."""
    value = orjson.loads(body)
    if not isinstance(value, dict):
        raise ValueError("the response is not a JSON object")
    return value
