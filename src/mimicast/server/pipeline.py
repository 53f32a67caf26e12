"""The request chain, in order, in one place:

    method → route → [unsigned: discovery, login] → authenticate (app id, binding, HMAC,
    expiry) → rate limit → freshness/replay (opt-in) → permission → decode body → dispatch

Every response is the envelope with the exact content type and the X-RateLimit-* headers.
The body of an unauthenticated call is not parsed: strangers get a 401 for the price of a
header check.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from starlette.requests import ClientDisconnect, Request

from mimicast.server import dispatch, login
from mimicast.server.credentials import Denied, SignedRequest
from mimicast.server.ratelimit import Quota
from mimicast.server.responses import Reply, data_response, error_response, file_response
from mimicast.server.runtime import Runtime
from mimicast.services.context import Caller
from mimicast.services.paging import PageRequest
from mimicast.wire.body import (
    MAX_BODY_BYTES_JSON,
    decode_body,
    normalise_request,
    pagination,
)
from mimicast.wire.errors import ApiError

log = logging.getLogger("mimicast.server")

EXPLAIN_HEADER = "x-mc-expected-string-to-sign"
UNAUTHENTICATED_LIMIT = 600  # calls per minute and client address, before a user is known


async def handle(runtime: Runtime, request: Request) -> Reply:
    try:
        return await _handle(runtime, request)
    except ClientDisconnect:
        # The client left before its body arrived: nothing is run for half a request (the
        # answer goes nowhere).
        return error_response(ApiError("err_request_malformed", reason="the client left"),
                              None)
    except ApiError as error:  # request-level failures raised deeper down
        return _failure(error, await _anonymous_quota(runtime, request))
    except Exception:
        log.exception("unhandled error on %s", request.scope["path"])
        return error_response(ApiError("err_internal"), None)


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def _anonymous_quota(runtime: Runtime, request: Request) -> Quota:
    return await runtime.limiter.take(f"ip:{_client(request)}", UNAUTHENTICATED_LIMIT, 60_000)


def _failure(error: ApiError, quota: Quota) -> Reply:
    """A request-level failure; one that says when to try again says it in the quota headers."""
    if error.retry_after_ms is not None:
        quota = replace(quota, allowed=False, remaining=0, reset_ms=error.retry_after_ms)
    return error_response(error, quota)


async def _read_body(request: Request) -> bytes:
    """The body, read straight from the ASGI channel; reading stops past the size limit."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES_JSON:
            raise ApiError("err_request_too_large", limit=MAX_BODY_BYTES_JSON)
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


async def _read_items(request: Request, content_type: str | None = None
                      ) -> tuple[list[object], dict[str, object]]:
    raw = await _read_body(request)
    if content_type is None:
        content_type = request.headers.get("content-type")
    return normalise_request(decode_body(raw, content_type))


async def _handle(runtime: Runtime, request: Request) -> Reply:
    path: str = request.scope["path"]
    if request.method != "POST":
        return error_response(ApiError("err_method_not_allowed"),
                              await _anonymous_quota(runtime, request), {"allow": "POST"})
    endpoint = runtime.endpoints.get(path)
    if endpoint is None:
        return error_response(ApiError("err_not_found", path=path),
                              await _anonymous_quota(runtime, request))

    if endpoint.unsigned:
        quota = await _anonymous_quota(runtime, request)
        if not quota.allowed:
            return error_response(ApiError("err_rate_limit_exceeded"), quota)
        try:
            items, _meta = await _read_items(request)
            if path.endswith("/discover-authentication"):
                data, fail = await runtime.store.read(login.discover, runtime, endpoint, items)
                return data_response(data, fail, quota)
            return data_response([await login.login(runtime, endpoint, request.headers, items,
                                                    _client(request))], [], quota)
        except ApiError as error:  # answered here so the call is counted once, not twice
            return _failure(error, quota)

    # One pass over the raw headers (ASGI servers lower-case the names) instead of a scan
    # per lookup.
    headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in request.scope["headers"]}
    scope = request.scope
    signed = SignedRequest(
        app_id=headers.get("x-mc-app-id", "").strip(),
        authorization=headers.get("authorization", ""),
        date=headers.get("x-mc-date", ""),
        request_id=headers.get("x-mc-req-id", ""),
        path=path, query=scope["query_string"].decode("latin-1"), scheme=scope["scheme"],
        host=headers.get("host") or "{}:{}".format(*scope.get("server") or ("", "")))
    try:
        verified = await runtime.credentials.verify(signed)
    except Denied as denied:
        extra = None
        if runtime.settings.explain_auth and denied.expected is not None:
            extra = {EXPLAIN_HEADER: denied.expected}
        quota = (await _user_quota(runtime, denied.binding.user_id, denied.binding.rate_limit,
                                   denied.binding.rate_window_ms)
                 if denied.binding else await _anonymous_quota(runtime, request))
        return error_response(denied.error, quota, extra)
    binding = verified.binding

    quota = await _user_quota(runtime, binding.user_id, binding.rate_limit,
                              binding.rate_window_ms)
    if not quota.allowed:
        return error_response(ApiError("err_rate_limit_exceeded"), quota)
    try:
        runtime.replay.check(binding.id, signed.date, signed.request_id)
    except ApiError as error:
        return error_response(error, quota)
    if endpoint.permission is not None and endpoint.permission not in binding.permissions:
        return error_response(ApiError("err_xdk_forbidden", permission=endpoint.permission),
                              quota)
    try:
        items, meta = await _read_items(request, headers.get("content-type", ""))
        dispatch.check_count(endpoint, items)
        page = PageRequest(*pagination(meta)) if endpoint.paged else None
    except ApiError as error:
        return error_response(error, quota)

    caller = Caller(account_id=binding.account_id, actor=binding.email,
                    user_id=binding.user_id, binding_id=binding.id,
                    permissions=binding.permissions)
    if endpoint.snapshot is not None:
        recent = endpoint.snapshot(runtime.deps, caller)
        if recent is not None:
            return data_response(recent, [], quota)
        # Snapshots are per account: the account's concurrent misses share one refresh.
        outcome = await runtime.loads.run((path, caller.account_id), dispatch.run,
                                          runtime.deps, caller, endpoint, items)
    else:
        # Where the work runs (storethreads.py): reads and quick writes where they cannot
        # wait, slow work on a store thread.
        run = (runtime.store.read if endpoint.read_only
               else runtime.store.run if endpoint.slow else runtime.store.write)
        outcome = await run(dispatch.run, runtime.deps, caller, endpoint, items, page)
    if outcome.followups:
        await runtime.store.run(dispatch.follow_up, outcome)
    runtime.credentials.forget_revoked(outcome.revoked)
    if outcome.download is not None and not outcome.fail:
        return file_response(outcome.download, quota)
    return data_response(outcome.data, outcome.fail, quota, outcome.meta)


async def _user_quota(runtime: Runtime, user_id: int, limit: int, window_ms: int) -> Quota:
    # One bucket per user, across all of the user's bindings, as the real service counts.
    return await runtime.limiter.take(f"user:{user_id}", runtime.settings.rate_limit or limit,
                                      window_ms)
