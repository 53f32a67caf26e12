"""The time window of a log request, as the log endpoints document it: both ends optional,
the start by default the start of the (UTC) day the window ends in, the end by default now."""

from __future__ import annotations

from datetime import datetime

from mimicast.services.context import Context
from mimicast.wire.dates import parse_date
from mimicast.wire.errors import ApiError


def day_window(ctx: Context, start_text: str | None, end_text: str | None, *,
               start_field: str, end_field: str) -> tuple[datetime, datetime]:
    """(start, end) of a request's window, each end a wire date or None for its default;
    a bad date or an end before the start fails on its field."""
    start = parse_date(start_text, start_field) if start_text else None
    end = parse_date(end_text, end_field) if end_text else None
    if end is None:
        # A start later than now asks for nothing yet, rather than for an inverted window.
        end = max(ctx.now(), start) if start is not None else ctx.now()
    if start is None:
        start = end.replace(hour=0, minute=0, second=0, microsecond=0)
    if start > end:
        raise ApiError("err_validation_invalid_value", field=end_field,
                       reason=f"{end_field} is before {start_field}")
    return start, end


def scope(start_text: str | None, end_text: str | None) -> str:
    """The window as the request gave it, for a page token's scope: a defaulted end moves
    with the clock, and the next page must still be accepted."""
    return f"{start_text or ''}|{end_text or ''}"
