"""The unsigned endpoints: discover-authentication and login.

A login runs in steps, so the slow part holds nothing it need not: the failed-login throttle
(no password check while throttled), what the credentials name (a read unit), the argon2
check (the bounded password pool, no transaction open), and the binding (a write unit).
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.datastructures import Headers

from mimicast.catalog.login import DiscoverRequest, LoginRequest
from mimicast.catalog.model import Endpoint
from mimicast.server.dispatch import parse_item
from mimicast.server.passwords import RETRY_MS, Busy
from mimicast.server.runtime import Runtime
from mimicast.services import auth
from mimicast.store.engine import retrying
from mimicast.wire import signing
from mimicast.wire.envelope import fail_entry
from mimicast.wire.errors import ApiError

log = logging.getLogger("mimicast.server")


def discover(runtime: Runtime, endpoint: Endpoint, items: list[Any]
             ) -> tuple[list[Any], list[dict[str, Any]]]:
    """Per item: the region and methods, or a fail entry (and no `region`) for an unknown
    address — the shape clients test for."""
    data: list[Any] = []
    fail: list[dict[str, Any]] = []
    with runtime.deps.store.unit(write=False) as unit:
        for raw in items:
            try:
                item = parse_item(endpoint, raw)
                assert isinstance(item, DiscoverRequest)
                data.append(auth.discover(unit.session, item.emailAddress,
                                          runtime.settings.base_url))
            except ApiError as error:
                fail.append(fail_entry([error], key=raw))
    return data, fail


async def login(runtime: Runtime, endpoint: Endpoint, headers: Headers, items: list[Any],
                client: str) -> dict[str, Any]:
    """Raises ApiError for the request-level failures (HTTP 401, 429 and friends)."""
    authorization = headers.get("authorization", "")
    if not authorization.strip():
        raise ApiError("err_xdk_credentials_missing")
    credentials = signing.parse_basic(authorization)
    if credentials is None:
        # Present but unusable is a failed login (401), not "missing" (400): an unknown realm,
        # or credentials that do not decode to `email:password`.
        realm = authorization.strip().partition(" ")[0].lower()
        known = realm in {signing.REALM_CLOUD.lower(), signing.REALM_DOMAIN.lower()}
        raise ApiError("err_xdk_authentication_failed" if known
                       else "err_xdk_auth_type_not_supported")
    item = parse_item(endpoint, items[0] if items else {})
    assert isinstance(item, LoginRequest)
    app_id = headers.get("x-mc-app-id", "")
    keys = [f"addr:{credentials.email.strip().lower()}", f"ip:{client}"]

    wait = await runtime.login_guard.wait_ms(keys)
    if wait:
        raise ApiError("err_xdk_login_throttled", retry_after_ms=wait)

    def read() -> auth.LoginAttempt:
        with runtime.deps.store.unit(write=False) as unit:
            return auth.login_attempt(unit.session, app_id=app_id, credentials=credentials,
                                      user_name=item.userName or item.username)

    attempt = await runtime.store.read(read)
    try:
        matched = await runtime.passwords.verify(attempt.stored_hash, credentials.password)
    except Busy:
        raise ApiError("err_xdk_login_busy", retry_after_ms=RETRY_MS) from None
    if not matched:
        throttled_ms = await runtime.login_guard.failed(keys)
        runtime.background(runtime.store.run(_record_failure, runtime, attempt, client,
                                             throttled_ms))
        raise attempt.failure()
    await runtime.login_guard.succeeded(keys[0])

    def write() -> dict[str, Any]:
        with runtime.deps.store.unit() as unit:
            return auth.complete_login(runtime.deps, unit.session, attempt, credentials.realm,
                                       item.accessKey)

    result: dict[str, Any] = await runtime.store.run(retrying, write)
    if item.accessKey:
        runtime.credentials.forget(item.accessKey)
    return result


def _record_failure(runtime: Runtime, attempt: auth.LoginAttempt, client: str,
                    throttled_ms: int) -> None:
    # After the answer: the audit write must not make a known address slower to fail.
    try:
        with runtime.deps.store.unit() as unit:
            auth.record_login_failure(runtime.deps, unit.session, attempt, client, throttled_ms)
    except Exception:
        log.exception("could not record a failed login")


