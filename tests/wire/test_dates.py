"""Wire dates: strict output, lenient input (client-compatibility.md items 5 and 10)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from mimicast.wire.dates import format_date, parse_date, parse_header_date
from mimicast.wire.errors import ApiError

UTC = UTC
REF = datetime(2015, 11, 16, 14, 49, 18, tzinfo=UTC)


# --- format_date -----------------------------------------------------------------------------

def test_format_date_aware_utc() -> None:
    assert format_date(REF) == "2015-11-16T14:49:18+0000"


def test_format_date_naive_is_utc() -> None:
    assert format_date(datetime(2015, 11, 16, 14, 49, 18)) == "2015-11-16T14:49:18+0000"


def test_format_date_converts_other_zones_and_drops_microseconds() -> None:
    plus_two = timezone(timedelta(hours=2))
    assert format_date(datetime(2015, 11, 16, 16, 49, 18, 999_999, tzinfo=plus_two)) == \
        "2015-11-16T14:49:18+0000"


def test_format_date_pads_small_years() -> None:
    assert format_date(datetime(999, 1, 2, 3, 4, 5)) == "0999-01-02T03:04:05+0000"


def test_format_parse_round_trip() -> None:
    dt = datetime(2024, 2, 29, 23, 59, 59, tzinfo=UTC)
    assert parse_date(format_date(dt), "f") == dt


# --- parse_date ------------------------------------------------------------------------------

@pytest.mark.parametrize("text, expected", [
    ("2015-11-16T14:49:18+0000", REF),
    ("2015-11-16T16:49:18+0200", REF),
    ("2015-11-16T12:49:18-0200", REF),
    ("2015-11-16T14:49:18+00:00", REF),
    ("2015-11-16T16:49:18+02:00", REF),
    ("2015-11-16T14:49:18Z", REF),
    ("2015-11-16T14:49:18z", REF),
    ("2015-11-16T14:49:18 UTC", REF),
    ("2015-11-16T14:49:18GMT", REF),
    ("2015-11-16T14:49:18", REF),
    ("2015-11-16 14:49:18", REF),
    ("2015-11-16 14:49:18 +0000", REF),
    ("2015-11-16t14:49:18+0000", REF),
    ("  2015-11-16T14:49:18+0000  ", REF),
    ("2015-11-16T16:49:18+02", REF),
    ("2015-11-16T14:49:18.5Z", REF.replace(microsecond=500_000)),
    ("2015-11-16T14:49:18.123+0000", REF.replace(microsecond=123_000)),
    ("2015-11-16T14:49:18.123456+0000", REF.replace(microsecond=123_456)),
    ("2015-11-16T14:49:18.1234567891+0000", REF.replace(microsecond=123_456)),
    ("2015-11-16T14:49:18,25Z", REF.replace(microsecond=250_000)),
    ("2015-11-16", datetime(2015, 11, 16, tzinfo=UTC)),
    ("2015-11-16+0000", datetime(2015, 11, 16, tzinfo=UTC)),
    ("2015-1-6", datetime(2015, 1, 6, tzinfo=UTC)),
    ("2015-11-16T14:49", REF.replace(second=0)),
    ("2015-11-16T14:49Z", REF.replace(second=0)),
    # 12-hour clocks
    ("2015-11-16T02:49:18 PM+0000", REF),
    ("2015-11-16 2:49:18pm", REF),
    ("2015-11-16T12:00:00 AM", datetime(2015, 11, 16, 0, 0, tzinfo=UTC)),
    ("2015-11-16T12:00:00 PM", datetime(2015, 11, 16, 12, 0, tzinfo=UTC)),
    ("2015-11-16T14:49:18 PM", REF),  # 24-hour time with a stray PM keeps its hour
    # offsets with seconds / microseconds (Python's %z for such offsets)
    ("2015-11-16T14:49:18+00:00:00", REF),
    ("2015-11-16T14:49:18+000000", REF),
    ("2015-11-16T14:49:18+00:00:00.000000", REF),
    ("2015-11-16T14:49:18.000000+000000.000000", REF),
    ("2015-11-16T14:49:19+00:00:01", REF),
    # edge values
    ("2015-11-16T14:49:60Z", REF.replace(second=59)),
    ("2015-11-16T24:00:00Z", datetime(2015, 11, 17, tzinfo=UTC)),
    ("2016-02-29T00:00:00Z", datetime(2016, 2, 29, tzinfo=UTC)),
    ("2015-01-01T00:30:00+0100", datetime(2014, 12, 31, 23, 30, tzinfo=UTC)),
])
def test_parse_date_variants(text: str, expected: datetime) -> None:
    parsed = parse_date(text, "start")
    assert parsed == expected
    assert parsed.tzinfo == UTC


@pytest.mark.parametrize("text", [
    "", "   ", "garbage", "yesterday", "2015", "2015-11", "16/11/2015", "2015-13-01",
    "2015-02-29", "2015-11-31", "2015-11-16T25:00:00Z", "2015-11-16T14:61:00Z",
    "2015-11-16T14:49:18+2500", "2015-11-16T14:49:18+0000 extra", "2015-11-16T14:49:18 EST",
    "2015-11-16TT14:49:18", "0000-01-01", "Tue, 24 Nov 2015 12:50:11 UTC", "2015-11-16T13:00 PMX",
    "٢٠١٥-١١-١٦",
])
def test_parse_date_garbage(text: str) -> None:
    with pytest.raises(ApiError) as info:
        parse_date(text, "start")
    error = info.value
    assert error.code == "err_validation_invalid_value"
    assert error.field == "start"
    assert error.status == 200
    assert "not a date" in error.message


@pytest.mark.parametrize("value", [None, 1447685358, ["2015-11-16"], {"d": 1}])
def test_parse_date_non_strings(value: object) -> None:
    with pytest.raises(ApiError) as info:
        parse_date(value, "end")  # type: ignore[arg-type]
    assert info.value.field == "end"


def test_parse_date_reason_is_short() -> None:
    with pytest.raises(ApiError) as info:
        parse_date("x" * 10_000, "start")
    assert len(info.value.message) < 100


def test_parse_date_out_of_range_is_garbage_not_a_crash() -> None:
    for text in ("0001-01-01T00:00:00+0100", "9999-12-31T23:59:59-0100"):
        with pytest.raises(ApiError):
            parse_date(text, "start")


# --- parse_header_date -----------------------------------------------------------------------

HDR = datetime(2015, 11, 24, 12, 50, 11, tzinfo=UTC)


@pytest.mark.parametrize("text, expected", [
    ("Tue, 24 Nov 2015 12:50:11 UTC", HDR),
    ("Tue, 24 Nov 2015 12:50:11 GMT", HDR),
    ("Tue, 24 Nov 2015 12:50:11 +0000", HDR),
    ("Tue, 24 Nov 2015 14:50:11 +0200", HDR),
    ("Tue, 24 Nov 2015 07:50:11 -0500", HDR),
    ("Tue, 24 Nov 2015 07:50:11 EST", HDR),
    ("Tue, 24 Nov 2015 13:50:11 BST", HDR),
    ("Tue, 24 Nov 2015 13:50:11 CET", HDR),
    ("Tue, 24 Nov 2015 12:50:11 XYZT", HDR),  # unknown zone: UTC
    ("Tue, 24 Nov 2015 12:50:00 UTC", HDR.replace(second=0)),
    ("Tue, 24 Nov 2015 12:50 UTC", HDR.replace(second=0)),
    ("24 Nov 2015 12:50:11 UTC", HDR),
    ("Tue 24 Nov 2015 12:50:11 UTC", HDR),
    ("Wed, 24 Nov 2015 12:50:11 UTC", HDR),  # the wrong day name is ignored
    ("Di., 24 Nov. 2015 12:50:11 GMT", HDR),
    ("Di, 24 Dez 2015 12:50:11 GMT", HDR.replace(month=12)),
    ("mar., 24 nov. 2015 12:50:11 GMT", HDR),
    ("jeu., 24 déc. 2015 12:50:11 UTC", HDR.replace(month=12)),
    ("Mo, 24 Mai 2015 12:50:11 UTC", HDR.replace(month=5)),
    ("Tue, 24 Okt 2015 13:50:11 MEZ", HDR.replace(month=10)),
    ("  Tue, 24 Nov 2015 12:50:11 UTC  ", HDR),
    ("2015-11-24T12:50:11Z", HDR),
    ("2015-11-24T12:50:11+0000", HDR),
])
def test_parse_header_date(text: str, expected: datetime) -> None:
    assert parse_header_date(text) == expected


@pytest.mark.parametrize("text", ["", "   ", "garbage", "Tue, 31 Feb 2015 12:50:11 UTC",
                                  "Tue, 24 Xyz 2015 12:50:11 UTC", "Tue,", "12:50:11",
                                  "\x00\xff", "9" * 5000])
def test_parse_header_date_hopeless(text: str) -> None:
    assert parse_header_date(text) is None


@pytest.mark.parametrize("value", [None, 123, b"Tue, 24 Nov 2015 12:50:11 UTC", ["x"]])
def test_parse_header_date_never_raises(value: object) -> None:
    assert parse_header_date(value) is None  # type: ignore[arg-type]


def test_parse_header_date_of_our_own_request_date() -> None:
    from mimicast.wire.signing import request_date

    parsed = parse_header_date(request_date())
    assert parsed is not None
    assert abs((datetime.now(UTC) - parsed).total_seconds()) < 5
