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
        raise ApiError("err_xdk_credentials_missing")
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

    result = await run_in_threadpool(work)
    if item.accessKey:
        runtime.credentials.forget(item.accessKey)
    return result
