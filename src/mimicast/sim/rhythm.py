"""When simulated mail arrives. A backfill spreads messages over a window with a daily rhythm
(`Window`): people write in business hours, less in the evening, little at night and at
weekends; spam and attacks arrive around the clock. Live traffic is stamped with the server's
clock (`Now`). Hours are UTC: an account has no time zone of its own."""

from __future__ import annotations

import bisect
import random
from datetime import datetime, timedelta
from typing import Protocol

# Relative volume of human mail per hour of the day (UTC), and on Saturdays and Sundays.
HOURLY = (0.04, 0.03, 0.03, 0.03, 0.04, 0.08, 0.2, 0.5, 0.9, 1.0, 1.0, 0.95,
          0.7, 0.85, 1.0, 1.0, 0.9, 0.65, 0.4, 0.25, 0.18, 0.12, 0.08, 0.05)
WEEKEND = 0.2
# A reply follows its message after a log-normal delay: median ~40 minutes, often hours.
REPLY_MU, REPLY_SIGMA = 7.8, 1.3  # of seconds
# A click follows delivery: median ~10 minutes.
CLICK_MU, CLICK_SIGMA = 6.4, 1.4
# Delays are whole milliseconds; a multiple of this is exact and half the cost of
# timedelta(milliseconds=…), which parses its keyword each time.
_MILLISECOND = timedelta(milliseconds=1)


class Timing(Protocol):
    def draw(self, rng: random.Random, steady: bool) -> datetime:
        """When a new message arrives (`steady`: around the clock, not office hours)."""

    def after(self, rng: random.Random, earlier: datetime) -> datetime | None:
        """When a reply to a message sent at `earlier` arrives; None when not yet."""


class Window:
    """The `days` before `end`, in hour slots weighted by the rhythm."""

    def __init__(self, end: datetime, days: int) -> None:
        self.end = end
        self.start = end - timedelta(days=days)
        self.span = days * 86_400.0
        total = 0.0
        self._cumulative = []
        for hour in range(days * 24):
            slot = self.start + timedelta(hours=hour)
            weight = HOURLY[slot.hour] * (WEEKEND if slot.weekday() >= 5 else 1.0)
            total += weight
            self._cumulative.append(total)
        self._total = total

    def draw(self, rng: random.Random, steady: bool) -> datetime:
        if steady:
            seconds = rng.random() * self.span
        else:
            slot = bisect.bisect_right(self._cumulative, rng.random() * self._total)
            seconds = (min(slot, len(self._cumulative) - 1) + rng.random()) * 3600.0
        return self.start + _MILLISECOND * int(seconds * 1000)

    def after(self, rng: random.Random, earlier: datetime) -> datetime | None:
        delay = rng.lognormvariate(REPLY_MU, REPLY_SIGMA)
        when = earlier + _MILLISECOND * (int(delay * 1000) + 1)
        return when if when <= self.end else None


class Now:
    """Live traffic: every message arrives at `now`, which the caller moves along."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def draw(self, rng: random.Random, steady: bool) -> datetime:
        return self.now

    def after(self, rng: random.Random, earlier: datetime) -> datetime | None:
        return self.now if self.now > earlier else None


def click_delay(rng: random.Random) -> timedelta:
    return _MILLISECOND * (int(rng.lognormvariate(CLICK_MU, CLICK_SIGMA) * 1000) + 1)
