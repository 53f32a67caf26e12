"""The unsigned endpoints: discover-authentication and login."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers

from mimicast.catalog.login import DiscoverRequest, LoginRequest
from mimicast.catalog.model import Endpoint
from mimicast.server.dispatch import parse_item
from mimicast.server.runtime import Runtime
from mimicast.services import auth
from mimicast.store.engine import retrying
from mimicast.wire import signing
from mimicast.wire.envelope import fail_entry
from mimicast.wire.errors import ApiError


def discover(runtime: Runtime, endpoint: Endpoint, items: list[Any]
             ) -> tuple[list[Any], list[dict[str, Any]]]:
    """Per item: the region and methods, or a fail entry (and no `region`) for an unknown
    address — the shape clients test for."""
    data: list[Any] = []
    fail: list[dict[str, Any]] = []
    with runtime.deps.store.session() as session:
        for raw in items:
            try:
                item = parse_item(endpoint, raw)
                assert isinstance(item, DiscoverRequest)
                data.append(auth.discover(session, item.emailAddress,
                                          runtime.settings.base_url))
            except ApiError as error:
                fail.append(fail_entry([error], key=raw))
    return data, fail


async def login(runtime: Runtime, endpoint: Endpoint, headers: Headers,
                items: list[Any]) -> dict[str, Any]:
    """Raises ApiError for the request-level failures (HTTP 401 and friends)."""
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

    def work() -> dict[str, Any]:
        with runtime.deps.store.session() as session:
            result = auth.login(runtime.deps, session, app_id=app_id, credentials=credentials,
                                user_name=item.userName or item.username,
                                access_key=item.accessKey)
            session.commit()
            return result

    result = await run_in_threadpool(retrying, work)
    if item.accessKey:
        runtime.credentials.forget(item.accessKey)
    return result
