"""What a collector got, against what there was: the ledger's entries for one binding set
against the SIEM files the log holds in a time window (`mimicast ledger`, and
`GET /__mimicast/ledger`).

A SIEM file is known by where it starts (its slice, record type and the last record before
it), so the files the log holds now and the entries of the files once served meet on that
key: a file served once, several times, or never. Log pages (TTP, DLP) are reported as
served: pages and records, and how many of them repeated a page served before.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import func, select

from mimicast.services.context import Context
from mimicast.services.logs import ledger, siem
from mimicast.store.schema import Binding, LedgerEntry, User


@dataclass
class SiemCoverage:
    files: int = 0  # files the log holds in the window
    events: int = 0
    served_once: int = 0  # events in files served exactly once
    served_more: int = 0  # events in files served more than once
    never_served: int = 0
    files_never_served: int = 0
    files_served_more: int = 0
    # Calls that sent back a token for a file already served: the collector went back.
    tokens_resent: int = 0
    # Each file's record type → events never served, for a collector's developer to look at.
    missing_by_type: dict[str, int] = field(default_factory=dict)


@dataclass
class PageCoverage:
    log: str
    pages: int
    events: int
    pages_repeated: int
    events_repeated: int


def _entries(ctx: Context, binding: int | None, start: datetime, end: datetime,
             log: str | None = None) -> list[Any]:
    query = (select(LedgerEntry).where(LedgerEntry.account_id == ctx.caller.account_id,
                                       LedgerEntry.window_start < end,
                                       LedgerEntry.window_end > start)
             .order_by(LedgerEntry.id))
    if binding is not None:
        query = query.where(LedgerEntry.binding_id == binding)
    if log is not None:
        query = query.where(LedgerEntry.log == log)
    return list(ctx.session.execute(query).scalars())


def siem_coverage(ctx: Context, binding: int | None, start: datetime, end: datetime
                  ) -> SiemCoverage:
    """The SIEM files whose slices fall in [start, end), and how often `binding` (None:
    any) was served each."""
    length = int(ctx.deps.siem_slice.total_seconds())
    served = Counter(entry.start for entry in _entries(ctx, binding, start, end, ledger.SIEM))
    report = SiemCoverage(tokens_resent=sum(
        1 for entry, seen in _repeats(_entries(ctx, binding, start, end, ledger.SIEM))
        if seen and entry.token_sent))
    first = int(start.timestamp())
    position: siem.Position | None = siem.Position(first - first % length, 0, None, 0)
    last = end.timestamp()
    missing: Counter[str] = Counter()
    while position is not None and position.slice < last:
        found = siem.next_file(ctx, position, length)
        if found is None or found.position.slice >= last:
            break
        count = len(found.records)
        times = served.get(siem.position_key(found.position), 0)
        report.files += 1
        report.events += count
        if times == 0:
            report.never_served += count
            report.files_never_served += 1
            missing[found.kind.prefix] += count
        elif times == 1:
            report.served_once += count
        else:
            report.served_more += count
            report.files_served_more += 1
        position = found.following
    report.missing_by_type = dict(missing)
    return report


def _repeats(entries: list[Any]) -> list[tuple[Any, bool]]:
    """Each entry, and whether a file or page with the same start was served before it."""
    seen: set[tuple[str, str]] = set()
    marked = []
    for entry in entries:
        key = (entry.log, entry.start)
        marked.append((entry, key in seen))
        seen.add(key)
    return marked


def page_coverage(ctx: Context, binding: int | None, start: datetime, end: datetime
                  ) -> list[PageCoverage]:
    """The log pages (other than SIEM files) served in the window, per log."""
    by_log: dict[str, PageCoverage] = {}
    for entry, repeated in _repeats([e for e in _entries(ctx, binding, start, end)
                                     if e.log != ledger.SIEM]):
        found = by_log.setdefault(entry.log, PageCoverage(entry.log, 0, 0, 0, 0))
        found.pages += 1
        found.events += entry.events
        if repeated:
            found.pages_repeated += 1
            found.events_repeated += entry.events
    return sorted(by_log.values(), key=lambda page: page.log)


def collectors(ctx: Context) -> list[dict[str, Any]]:
    """The bindings that fetched logs: id, user, files and pages, events, last fetch."""
    rows = ctx.session.execute(
        select(LedgerEntry.binding_id, func.count(), func.sum(LedgerEntry.events),
               func.max(LedgerEntry.served_at), User.email)
        .outerjoin(Binding, Binding.id == LedgerEntry.binding_id)
        .outerjoin(User, User.id == Binding.user_id)
        .where(LedgerEntry.account_id == ctx.caller.account_id)
        .group_by(LedgerEntry.binding_id, User.email).order_by(LedgerEntry.binding_id)).all()
    return [{"binding": binding, "user": email or "", "served": int(count),
             "events": int(events or 0), "lastServed": last}
            for binding, count, events, last, email in rows]


def report(ctx: Context, binding: int | None, start: datetime, end: datetime
           ) -> dict[str, Any]:
    """The whole report, as the CLI and the control endpoint show it."""
    return {"binding": binding, "from": start, "to": end,
            "siem": asdict(siem_coverage(ctx, binding, start, end)),
            "pages": [asdict(page) for page in page_coverage(ctx, binding, start, end)]}


def as_json(value: dict[str, Any]) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_INDENT_2)
