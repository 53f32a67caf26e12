"""The server's clock, moved by a test: bindings expire and mail ages without waiting."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from api import Namespace, only_error

from mimicast.services.clock import Clock
from mimicast.testing import Harness
from mimicast.wire.dates import format_date


@pytest.fixture
def clock(harness: Harness) -> Iterator[Clock]:
    """The harness's clock, put back on the wall clock afterwards (other tests share it)."""
    try:
        yield harness.clock
    finally:
        harness.clock.reset()


def test_advancing_the_clock_expires_a_binding(harness: Harness, clock: Clock) -> None:
    tenant = harness.tenant(ttl_seconds=3600)
    assert harness.call(tenant.keys, "/api/account/get-account").status_code == 200
    clock.advance(hours=2)
    response = harness.call(tenant.keys, "/api/account/get-account")
    assert response.status_code == 418


def test_mail_ages_with_the_clock(harness: Harness, clock: Clock) -> None:
    # A profile that never expires (no TTL): the binding outlives the 40 days.
    tenant = harness.tenant(extend_on_validate=True)
    email, finder = Namespace("/api/email/"), Namespace("/api/message-finder/")
    (sent,) = email.ok(harness, tenant, "send-email", [{"to": ["a@customer.example.com"]}])
    assert finder.ok(harness, tenant, "search", [{"messageId": sent["messageId"]}])[0][
        "trackedEmails"]
    clock.advance(days=40)
    assert finder.ok(harness, tenant, "search", [{"messageId": sent["messageId"]}]) == [
        {"trackedEmails": []}]
    error = only_error(finder.post(harness, tenant, "search", [
        {"start": format_date(clock() - timedelta(days=41))}]))
    assert error["code"] == "err_track_and_trace_invalid_start_date"


def test_a_clock_is_set_advanced_frozen_and_resumed() -> None:
    start = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
    clock = Clock(start, frozen=True)
    assert clock() == start and clock.virtual
    assert clock.advance(days=1, hours=2) == start + timedelta(days=1, hours=2)
    with pytest.raises(ValueError):
        clock.advance(seconds=-1)
    with pytest.raises(ValueError):
        clock.set(datetime(2027, 1, 1))  # naive
    clock.resume()
    assert clock() >= start + timedelta(days=1, hours=2)
    clock.reset()
    assert not clock.virtual and abs(clock() - datetime.now(UTC)) < timedelta(seconds=5)
    running = Clock(start)
    assert start <= running() < start + timedelta(seconds=5) and running.virtual
