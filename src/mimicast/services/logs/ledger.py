"""The collector ledger: every SIEM file and log page the server hands out, by binding, with
where it starts and where the next one does. A call without a SIEM token resumes after the
binding's last file; `mimicast ledger` (services/logs/coverage.py) compares the entries with
what the log holds."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import bindparam, insert, select

from mimicast.services.context import Context, Deps
from mimicast.store.query import Query
from mimicast.store.schema import LedgerEntry

SIEM = "siem"

_COLUMNS = ("account_id", "binding_id", "log", "kind", "name", "window_start", "window_end",
            "start", "following", "events", "token_sent", "served_at")
_INSERT = Query(insert(LedgerEntry).values({c: bindparam(c) for c in _COLUMNS}))
_LAST = Query(select(LedgerEntry.following)
              .where(LedgerEntry.account_id == bindparam("account"),
                     LedgerEntry.binding_id == bindparam("binding"),
                     LedgerEntry.log == SIEM)
              .order_by(LedgerEntry.id.desc()).limit(1))


@dataclass
class _Pending:
    """The entries of one request, written together once its (reading) unit has ended: the
    log endpoints stay read-only, and building a file never holds the store's one writer."""

    deps: Deps
    rows: list[dict[str, Any]] = field(default_factory=list)

    def __call__(self) -> None:
        with self.deps.store.unit() as unit:
            _INSERT.execute_many(unit, self.rows)


def record(ctx: Context, log: str, *, kind: str = "", name: str = "",
           window: tuple[datetime, datetime], start: Any, following: Any, events: int,
           token_sent: bool) -> None:
    """One file or page served to the caller (written after the request's unit)."""
    pending = next((f for f in ctx.followups if isinstance(f, _Pending)), None)
    if pending is None:
        pending = _Pending(ctx.deps)
        ctx.followups.append(pending)
    pending.rows.append({
        "account_id": ctx.caller.account_id, "binding_id": ctx.caller.binding_id, "log": log,
        "kind": kind, "name": name[:200], "window_start": window[0], "window_end": window[1],
        "start": orjson.dumps(start).decode(), "following": orjson.dumps(following).decode(),
        "events": events, "token_sent": token_sent, "served_at": ctx.now()})


# A page of a log read with filters (a route, a result, a search): it covers only the rows
# of its key range that match them.
FILTERED = "filtered"


def record_page(ctx: Context, log: str, keys: list[list[Any]], times: list[datetime],
                events: int | None = None, filtered: bool = False) -> None:
    """A page of a log endpoint served to the caller: its rows' sort keys and times, in page
    order, the entries they made (default: one a row), and whether filters narrowed the
    log; nothing when the page is empty."""
    if not keys:
        return
    record(ctx, log, kind=FILTERED if filtered else "", window=(min(times), max(times)),
           start=keys[0], following=keys[-1],
           events=len(keys) if events is None else events,
           token_sent=ctx.page.token is not None)


def last_siem_position(ctx: Context) -> list[Any] | None:
    """Where the caller's binding's last SIEM file left off (`[slice, kind, after, part]`), or
    None; an operator (no binding) always starts afresh."""
    if ctx.caller.binding_id is None:
        return None
    found = _LAST.scalar(ctx.unit, account=ctx.caller.account_id,
                         binding=ctx.caller.binding_id)
    return orjson.loads(found) if found else None
