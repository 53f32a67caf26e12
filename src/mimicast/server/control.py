"""The emulator's control plane, under `/__mimicast/`: operations on the emulator itself,
outside the Mimecast wire format (plain JSON, no signature). It answers only when the server
listens on a loopback address, where whoever reaches it already runs on this machine; on any
other address it is not there (404).

So far: `GET /__mimicast/ledger` — what collectors were served of the logs
(services/logs/coverage.py), with `account`, `binding`, `from` and `to` as query parameters.
"""

from __future__ import annotations

import ipaddress
from datetime import datetime
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from mimicast.server.runtime import Runtime
from mimicast.wire.dates import parse_date
from mimicast.wire.errors import ApiError

PREFIX = "/__mimicast/"
NO_CACHE = {"cache-control": "no-store"}


def open_here(host: str) -> bool:
    """Whether the control plane answers on a server bound to `host`."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _problem(message: str, status: int = 400) -> Response:
    return JSONResponse({"error": message}, status_code=status, headers=NO_CACHE)


async def ledger_route(request: Request) -> Response:
    runtime: Runtime = request.app.state.runtime
    if not open_here(runtime.settings.host):
        return _problem("Not Found", 404)
    query = request.query_params
    try:
        binding = int(query["binding"]) if query.get("binding") else None
    except ValueError:
        return _problem("binding: give a binding id (a whole number)")
    try:
        start = parse_date(query["from"], "from") if query.get("from") else None
        end = parse_date(query["to"], "to") if query.get("to") else None
    except ApiError as error:
        return _problem(f"{error.field}: not a date (2026-11-30 or 2026-11-30T09:00:00Z)")
    try:
        report = await run_in_threadpool(_report, runtime, query.get("account"), binding,
                                         start, end)
    except ApiError as error:
        return _problem(error.message, 404 if error.code == "err_object_not_found" else 400)
    return Response(report, media_type="application/json", headers=NO_CACHE)


def _report(runtime: Runtime, account: str | None, binding: int | None,
            start: datetime | None, end: datetime | None) -> bytes:
    from mimicast.services import identity
    from mimicast.services.context import Caller, Context
    from mimicast.services.logs import coverage

    deps = runtime.deps
    with deps.store.unit(write=False) as unit:
        found = identity.find_account(unit.session, account)
        ctx = Context(deps, unit, Caller(account_id=found.id, actor="control"))
        until = end or ctx.now()
        since = start or until - deps.log_retention
        if since >= until:
            raise ApiError("err_validation_invalid_value", field="from",
                           reason="from must be before to")
        report: dict[str, Any] = coverage.report(ctx, binding, since, until)
        report["account"] = found.code
        report["collectors"] = coverage.collectors(ctx)
        return coverage.as_json(report)
