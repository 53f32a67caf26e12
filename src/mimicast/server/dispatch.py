"""Run a catalog endpoint: validate each item, call the service, collect `data` and `fail`.

Runs in a store thread (services are synchronous); one unit of work per request — a read unit
for a read-only endpoint, a write unit otherwise — and one savepoint per item when several
items may write, so a failing item leaves no trace and the good ones still commit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from mimicast.catalog.model import Endpoint, Item
from mimicast.services.context import Caller, Context, Deps, Revocations
from mimicast.services.downloads import Download, NoFile
from mimicast.services.paging import Paged, PageRequest
from mimicast.store.engine import retrying
from mimicast.wire.envelope import fail_entry
from mimicast.wire.errors import ApiError


@dataclass
class Outcome:
    data: list[Any] = field(default_factory=list)
    fail: list[dict[str, Any]] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    revoked: Revocations = field(default_factory=Revocations)
    followups: list[Callable[[], None]] = field(default_factory=list)
    # A file to send instead of the envelope (an endpoint marked `download`).
    download: Download | None = None


def validation_error(error: ValidationError) -> ApiError:
    """The first problem of a pydantic error, as the real service's err_validation_* codes."""
    first = error.errors()[0]
    location = ".".join(str(part) for part in first["loc"]) or None
    kind = first["type"]
    if kind == "missing" or (kind.endswith("_type") and first.get("input") is None):
        return ApiError("err_validation_null", field=location)
    if kind == "string_too_short":
        return ApiError("err_validation_blank", field=location)
    return ApiError("err_validation_invalid_value", field=location, reason=first["msg"])


def parse_item(endpoint: Endpoint, raw: Any) -> Item:
    if endpoint.scalar_field and isinstance(raw, (str, int, float)):
        raw = {endpoint.scalar_field: raw}
    if not isinstance(raw, dict):
        raise ApiError("err_validation_invalid_value", reason="each data item must be an object")
    try:
        return endpoint.request.model_validate(raw)
    except ValidationError as error:
        raise validation_error(error) from None


def check_count(endpoint: Endpoint, items: list[Any]) -> None:
    count = len(items)
    if count < endpoint.min_items:
        raise ApiError("err_validation_item_count",
                       reason=f"data must contain at least {endpoint.min_items} item(s)")
    if endpoint.max_items is not None and count > endpoint.max_items:
        raise ApiError("err_validation_item_count",
                       reason=f"data must contain at most {endpoint.max_items} item(s)")


def run(deps: Deps, caller: Caller, endpoint: Endpoint, items: list[Any],
        page: PageRequest | None = None, *, wait: bool = True) -> Outcome:
    """The whole request in one unit of work, run again (from scratch) if it lost a write
    race. Its follow-ups are left to the caller (`follow_up`): they write, and a read may
    have run where writes must not wait. `wait=False`: raise `WouldWait`, having done
    nothing, rather than wait for the store's writer."""
    return retrying(lambda: _run_once(deps, caller, endpoint, items, page or PageRequest(),
                                      wait))


def follow_up(outcome: Outcome) -> None:
    """The request's follow-ups, each in a unit of its own."""
    followups, outcome.followups = outcome.followups, []
    for followup in followups:
        followup()


def _run_once(deps: Deps, caller: Caller, endpoint: Endpoint, items: list[Any],
              page: PageRequest, wait: bool) -> Outcome:
    assert endpoint.handler is not None
    outcome = Outcome()
    if not endpoint.per_item:
        items = items[:1] or [{}]
    writes = not endpoint.read_only
    # A savepoint per item only when several may write: a lone item that fails rolls back
    # the whole (one-item) unit, and the common case saves two round trips.
    isolate = writes and len(items) > 1
    with deps.store.unit(write=writes, wait=wait) as unit:
        ctx = Context(deps, unit, caller, page, outcome.revoked)
        for raw in items:
            try:
                item = parse_item(endpoint, raw)
                if isolate:
                    with unit.savepoint():
                        result = endpoint.handler(ctx, item)
                else:
                    result = endpoint.handler(ctx, item)
            except ApiError as error:
                if writes and not isolate:
                    unit.rollback()
                key = {**raw, **error.echo} if error.echo and isinstance(raw, dict) else raw
                outcome.fail.append(fail_entry([error], key=key))
                continue
            if isinstance(result, Download):
                outcome.download = result
            elif isinstance(result, NoFile):
                outcome.meta.update(result.meta)
            elif isinstance(result, Paged):
                outcome.data.extend(result.data)
                outcome.meta["pagination"] = result.pagination
            elif isinstance(result, list):
                outcome.data.extend(result)
            elif result is not None:
                outcome.data.append(result)
    outcome.followups = ctx.followups
    return outcome
