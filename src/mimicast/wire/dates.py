"""Dates on the wire: one strict output form, lenient input (client-compatibility.md 5, 10).

Responses always use `2015-11-16T14:49:18+0000` (UTC, no colon in the offset). Request data
arrives as `+0000`, `+0200`, `+00:00`, `Z`, with fractions, date-only, 12-hour clocks, or
offsets with seconds and microseconds (Python's `%z` for such offsets); all of that parses.
`x-mc-date` is an RFC-1123-ish header that is signed verbatim; parsing it is best effort.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_tz
from typing import Any

from mimicast.wire.errors import ApiError

UTC = UTC

_DATE_RE = re.compile(
    r"""
    (?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})
    (?:
        (?:T|\s+)
        (?P<hour>\d{1,2}):(?P<minute>\d{1,2})
        (?::(?P<second>\d{1,2})(?:[.,](?P<fraction>\d+))?)?
        \s*(?P<ampm>[AP]\.?M\.?)?
    )?
    \s*
    (?P<zone>
        Z|UTC|GMT
        |(?P<sign>[+-])(?P<oh>\d{2})
         (?::?(?P<om>\d{2})(?::?(?P<os>\d{2})(?:\.(?P<of>\d+))?)?)?
    )?
    """,
    re.VERBOSE | re.IGNORECASE | re.ASCII,
)


def format_date(dt: datetime) -> str:
    """`2015-11-16T14:49:18+0000`; a naive datetime is taken to be UTC already."""
    if dt.tzinfo is not None and dt.utcoffset():
        dt = dt.astimezone(UTC)
    # isoformat (in C; and strftime's `%Y` does not zero-pad years before 1000 on glibc): its
    # first 19 characters are the date and time, the offset is written as the API writes it.
    return dt.isoformat(timespec="seconds")[:19] + "+0000"


def parse_date(value: str, field: str) -> datetime:
    """A request-data date as an aware UTC datetime; garbage is a validation error."""
    parsed = _parse_iso(value) if isinstance(value, str) else None
    if parsed is None:
        raise ApiError("err_validation_invalid_value", field=field,
                       reason=f"not a date: {_show(value)}")
    return parsed


def _parse_iso(value: str) -> datetime | None:
    text = value.strip()
    try:
        # What nearly every client sends (`2015-11-16T14:49:18+0000`), parsed in C; the
        # lenient reading below takes the rest (12-hour clocks, :60, 24:00, stray spaces).
        parsed = datetime.fromisoformat(text)
    except ValueError:
        pass
    else:
        if parsed.tzinfo is None:
            return parsed.replace(tzinfo=UTC)
        try:
            return parsed.astimezone(UTC)
        except OverflowError:  # 0001-01-01T00:00+0100 lies before the first UTC date
            return None
    match = _DATE_RE.fullmatch(text)
    if match is None:
        return None
    g = match.groupdict()
    hour = int(g["hour"] or 0)
    minute = int(g["minute"] or 0)
    second = min(int(g["second"] or 0), 59)  # a leap second (or garbage :60) is :59
    micro = int((g["fraction"] or "0")[:6].ljust(6, "0"))  # any digits, truncated
    if g["ampm"]:
        # 12-hour clocks: "03:15 PM". A 24-hour time with a stray AM/PM keeps its hour.
        pm = g["ampm"][0].upper() == "P"
        if 1 <= hour <= 12:
            hour = (hour % 12) + (12 if pm else 0)
    extra = timedelta()
    if hour == 24 and minute == second == micro == 0:  # ISO's "end of day"
        hour, extra = 0, timedelta(days=1)
    offset = timedelta()
    if g["sign"]:
        offset = timedelta(hours=int(g["oh"]), minutes=int(g["om"] or 0),
                           seconds=int(g["os"] or 0),
                           microseconds=int((g["of"] or "0")[:6].ljust(6, "0")))
        if offset >= timedelta(hours=24):
            return None
        if g["sign"] == "-":
            offset = -offset
    try:
        local = datetime(int(g["year"]), int(g["month"]), int(g["day"]),
                         hour, minute, second, micro)
        return (local + extra - offset).replace(tzinfo=UTC)
    except (ValueError, OverflowError):
        return None


# Zones clients' local clocks print that `email.utils` does not know (it knows UT/UTC/GMT/Z
# and the US zones). Hours east of UTC; ambiguous names (IST, CST in Asia) are left out.
_EXTRA_ZONES = {
    "BST": 1, "WET": 0, "WEST": 1, "CET": 1, "CEST": 2, "MEZ": 1, "MESZ": 2,
    "EET": 2, "EEST": 3, "SAST": 2, "MSK": 3, "GST": 4, "SGT": 8, "HKT": 8, "AWST": 8,
    "JST": 9, "KST": 9, "ACST": 9.5, "AEST": 10, "AEDT": 11, "NZST": 12, "NZDT": 13,
}
# Month abbreviations of the cultures whose clients have been seen (de, fr, es, it, nl, pt).
_MONTHS = {
    "jan": ("jan", "janv", "ene", "gen", "jän"),
    "feb": ("feb", "févr", "fevr", "fév", "fev"),
    "mar": ("mar", "mär", "mrz", "mars", "mrt"),
    "apr": ("apr", "avr", "abr"),
    "may": ("may", "mai", "mei", "mag"),
    "jun": ("jun", "juin", "giu"),
    "jul": ("jul", "juil", "lug"),
    "aug": ("aug", "août", "aout", "ago"),
    "sep": ("sep", "sept", "set"),
    "oct": ("oct", "okt", "ott", "out"),
    "nov": ("nov",),
    "dec": ("dec", "déc", "dez", "dic"),
}
_MONTH_ALIASES = {alias: english for english, aliases in _MONTHS.items() for alias in aliases}


def parse_header_date(value: str) -> datetime | None:
    """Best-effort parse of an `x-mc-date` header; None when hopeless. Never raises.

    Used only by the optional freshness check: day names are ignored, localized month
    names are mapped, and an unknown zone name is taken as UTC.
    """
    try:
        return _parse_header_date(value)
    except Exception:  # a freshness check must never turn a bad header into a 500
        return None


def _parse_header_date(value: str) -> datetime | None:
    if not isinstance(value, str) or not value.strip():
        return None
    tokens = value.replace(",", " ").split()
    # Drop a leading day name in any language: everything before the day-of-month number.
    while tokens and not tokens[0][:1].isdigit():
        tokens.pop(0)
    if not tokens:
        return _parse_iso(value)
    tokens = [_MONTH_ALIASES.get(token.lower().rstrip("."), token) for token in tokens]
    zone = tokens[-1].upper()
    if zone in _EXTRA_ZONES:
        hours = _EXTRA_ZONES[zone]
        minutes = round(abs(hours) * 60)
        tokens[-1] = f"{'-' if hours < 0 else '+'}{minutes // 60:02d}{minutes % 60:02d}"
    parts = parsedate_tz(" ".join(tokens))
    if parts is None:
        return _parse_iso(value)
    offset = parts[9] or 0  # None: an unknown zone name, taken as UTC
    local = datetime(*parts[:6])
    return (local - timedelta(seconds=offset)).replace(tzinfo=UTC)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
