"""What a collector got, against what there was: the ledger's entries for one binding set
against the SIEM files the log holds in a time window (`mimicast ledger`, and
`GET /__mimicast/ledger`).

A SIEM file is known by where it starts (its slice, record type and the last record before
it), so the files the log holds now and the entries of the files once served meet on that
key: a file served once, several times, or never. A log page (TTP, impersonation, DLP) is
known by the keys of its first and last rows: the log's rows in the window are read whole
and each is counted in the pages whose key range holds it. Pages read with filters (a route,
a result, a search) hold only the matching rows of their range, so they are counted apart
and cover nothing; a collector of a whole log reads it unfiltered.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import func, select

from mimicast.services import paging
from mimicast.services.context import Context
from mimicast.services.logs import detections, ledger, siem, ttp
from mimicast.services.mail import dlp
from mimicast.store.schema import Binding, LedgerEntry, User
from mimicast.wire.errors import ApiError


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
    pages: int = 0  # pages served whose rows fall in the window
    events: int = 0  # the entries they held
    pages_repeated: int = 0  # pages that began where one served before did
    events_repeated: int = 0
    pages_filtered: int = 0  # pages read with filters (not counted below)
    available: int = 0  # the log's entries in the window
    served_once: int = 0  # of them, in exactly one unfiltered page served
    served_more: int = 0
    never_served: int = 0


@dataclass(frozen=True)
class PageLog:
    """A paged log as the report reads it: the log whole, and the entries a row makes."""

    whole: Callable[[], paging.Keyset]
    entries: Callable[[Any], int]


PAGE_LOGS = {
    ttp.URL_PATH: PageLog(ttp.whole_url_log, lambda row: 1),
    ttp.ATTACHMENT_PATH: PageLog(ttp.whole_attachment_log, lambda row: 1),
    detections.IMPERSONATION_PATH: PageLog(detections.whole_impersonation_log, lambda row: 1),
    detections.DLP_PATH: PageLog(detections.whole_dlp_log, lambda row: len(dlp.decode(row.dlp))),
}


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
    """Each entry, and whether a file or page with the same start (filtered or not) was
    served before it."""
    seen: set[tuple[str, str, str]] = set()
    marked = []
    for entry in entries:
        key = (entry.log, entry.kind, entry.start)  # a filtered page repeats filtered ones
        marked.append((entry, key in seen))
        seen.add(key)
    return marked


def page_coverage(ctx: Context, binding: int | None, start: datetime, end: datetime
                  ) -> list[PageCoverage]:
    """Each paged log with rows in the window or pages served of it: the pages served, and
    its entries served once, more than once, or never."""
    by_log = {log: PageCoverage(log) for log in PAGE_LOGS}
    ranges: dict[str, list[tuple[Any, Any]]] = {log: [] for log in PAGE_LOGS}
    for entry, repeated in _repeats([e for e in _entries(ctx, binding, start, end)
                                     if e.log != ledger.SIEM]):
        found = by_log.setdefault(entry.log, PageCoverage(entry.log))
        found.pages += 1
        found.events += entry.events
        if repeated:
            found.pages_repeated += 1
            found.events_repeated += entry.events
        if entry.kind == ledger.FILTERED:
            found.pages_filtered += 1
        elif entry.log in PAGE_LOGS:
            ranges[entry.log].append((orjson.loads(entry.start), orjson.loads(entry.following)))
    for log, kind in PAGE_LOGS.items():
        _count_served(ctx, kind, start, end, ranges[log], by_log[log])
    return sorted((page for page in by_log.values() if page.pages or page.available),
                  key=lambda page: page.log)


def _count_served(ctx: Context, log: PageLog, start: datetime, end: datetime,
                  ranges: list[tuple[Any, Any]], report: PageCoverage) -> None:
    """Count the log's entries in [start, end) by how many of `ranges` (the first and last
    keys of the pages served, as stored) hold their row."""
    keyset = log.whole()
    rows = keyset.everything(ctx, account=ctx.caller.account_id, start=start,
                             end=end - timedelta(microseconds=1))
    keys = [tuple(keyset.key_of(row)) for row in rows]  # in the walk's (ascending) order
    # How many ranges hold each row: +1 where a range begins, -1 after it ends.
    steps = [0] * (len(keys) + 1)
    for first, last in ranges:
        try:
            low, high = sorted((keyset.typed_key(first), keyset.typed_key(last)))
        except (ApiError, TypeError):  # a page of another shape (an older server's)
            continue
        steps[bisect_left(keys, low)] += 1
        steps[bisect_right(keys, high)] -= 1
    covering = 0
    for row, step in zip(rows, steps, strict=False):
        covering += step
        entries = log.entries(row)
        report.available += entries
        if covering == 0:
            report.never_served += entries
        elif covering == 1:
            report.served_once += entries
        else:
            report.served_more += entries


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
