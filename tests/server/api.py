"""Helpers of the HTTP tests in tests/server: signed calls with the envelope checked, the one
failure of an answer, the forbidden answer, and the audit trail a call left.

Imported as `from api import …`: pytest puts this folder on `sys.path` (the default `prepend`
import mode, as it does for tests/client's `sdk_helpers`). The functions take the whole path;
`Namespace` binds them to one path prefix for the files that name only the action."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any, NamedTuple

import httpx
from sqlalchemy import ColumnElement, select

from mimicast.store.schema import AuditEvent
from mimicast.testing import Harness
from mimicast.testing.harness import Keys, Tenant

DATE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+0000$")
"""Every date the API answers: UTC to the second, `+0000`."""
FORBIDDEN = "err_xdk_forbidden"

_UNCHECKED: Any = object()


def address(tenant: Tenant, prefix: str = "u") -> str:
    """A new address at the tenant's domain: `prefix` and eight hex digits."""
    return f"{prefix}{secrets.token_hex(4)}@{tenant.domain}"


def call(harness: Harness, who: Tenant | Keys, path: str, data: list[Any],
         meta: dict[str, Any] | None = None) -> httpx.Response:
    """A signed POST of `{"data": data}` (and `"meta": meta` when given) to `path`, with the
    tenant's keys, or with `who` itself when it is keys; the response, unchecked."""
    body: dict[str, Any] = {"data": data}
    if meta is not None:
        body["meta"] = meta
    return harness.call(who.keys if isinstance(who, Tenant) else who, path, body)


def post(harness: Harness, who: Tenant | Keys, path: str, data: list[Any],
         meta: dict[str, Any] | None = None) -> dict[str, Any]:
    """`call`, asserting HTTP 200, a JSON content type and meta.status 200; the body."""
    response = call(harness, who, path, data, meta)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    assert body["meta"]["status"] == 200
    return body


def ok(harness: Harness, who: Tenant | Keys, path: str, data: list[Any],
       meta: dict[str, Any] | None = None) -> list[Any]:
    """`post`, asserting that no item failed; the data."""
    body = post(harness, who, path, data, meta)
    assert body["fail"] == [], body
    return list(body["data"])


def only_fail(body: dict[str, Any]) -> dict[str, Any]:
    """The one fail entry of an answer with no data (asserting both)."""
    assert body["data"] == [], body
    [entry] = body["fail"]
    return dict(entry)


def only_error(body: dict[str, Any], key: Any = _UNCHECKED) -> dict[str, Any]:
    """The one error of `only_fail(body)`; with `key`, asserting first that the entry echoes
    that key."""
    entry = only_fail(body)
    if key is not _UNCHECKED:
        assert entry["key"] == key, entry
    [error] = entry["errors"]
    return dict(error)


def failures(body: dict[str, Any]) -> list[tuple[Any, str, str | None]]:
    """Each fail entry as (echoed key, code, field), asserting that each has one error."""
    found = []
    for entry in body["fail"]:
        [error] = entry["errors"]
        found.append((entry["key"], error["code"], error.get("field")))
    return found


def request_error(harness: Harness, who: Tenant | Keys, path: str, data: list[Any]
                  ) -> dict[str, Any]:
    """A request-level failure (of the request as a whole, not of one item): `post`, then no
    data and one fail entry without `key`; its one error."""
    entry = only_fail(post(harness, who, path, data))
    assert "key" not in entry, entry
    [error] = entry["errors"]
    return dict(error)


def forbidden(harness: Harness, who: Tenant | Keys, path: str, data: list[Any]) -> str:
    """Asserts that the call is refused: HTTP 403, one error, `err_xdk_forbidden`; its message,
    which names the missing permission."""
    response = call(harness, who, path, data)
    assert response.status_code == 403, (path, response.text)
    [error] = response.json()["fail"][0]["errors"]
    assert error["code"] == FORBIDDEN
    return str(error["message"])


@dataclass(frozen=True)
class Namespace:
    """The helpers above under one path prefix, for tests that name the action only:
    `post = Namespace("/api/domain/").post`, then `post(harness, tenant, "create-domain", data)`."""

    base: str

    def call(self, harness: Harness, who: Tenant | Keys, action: str, data: list[Any],
             meta: dict[str, Any] | None = None) -> httpx.Response:
        return call(harness, who, self.base + action, data, meta)

    def post(self, harness: Harness, who: Tenant | Keys, action: str, data: list[Any],
             meta: dict[str, Any] | None = None) -> dict[str, Any]:
        return post(harness, who, self.base + action, data, meta)

    def ok(self, harness: Harness, who: Tenant | Keys, action: str, data: list[Any],
           meta: dict[str, Any] | None = None) -> list[Any]:
        return ok(harness, who, self.base + action, data, meta)

    def request_error(self, harness: Harness, who: Tenant | Keys, action: str,
                      data: list[Any]) -> dict[str, Any]:
        return request_error(harness, who, self.base + action, data)

    def forbidden(self, harness: Harness, who: Tenant | Keys, action: str,
                  data: list[Any]) -> str:
        return forbidden(harness, who, self.base + action, data)


# The audit trail ----------------------------------------------------------------------------

class Event(NamedTuple):
    category: str
    event_type: str
    actor: str
    info: str


def audit_events(harness: Harness, tenant: Tenant, *where: ColumnElement[bool],
                 **equal: Any) -> list[Event]:
    """The tenant's audit events, oldest first, narrowed by SQL conditions on `AuditEvent`
    (`AuditEvent.event_type.like("Directory sync%")`) and by columns' values
    (`category=audit.POLICY`, `info=…`)."""
    with harness.deps.store.session() as session:
        rows = session.execute(
            select(AuditEvent.category, AuditEvent.event_type, AuditEvent.actor, AuditEvent.info)
            .where(AuditEvent.account_id == tenant.account_id, *where,
                   *(getattr(AuditEvent, column) == value for column, value in equal.items()))
            .order_by(AuditEvent.id))
        return [Event(*row) for row in rows]
