"""The server's time (`Deps.clock`): the wall clock, or a virtual one a test or a user moves.
Binding expiry, audit times, the mail flow and the simulator all read it, so time can be
advanced days at a time without waiting. (Request freshness — `x-mc-date` against the
allowed skew — is checked against real time: that is the client's wall clock.)"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta


def _wall() -> datetime:
    return datetime.now(UTC)


class Clock:
    """Wall time shifted by an offset, or stopped at a moment. `set(moment)` puts the clock
    at `moment` and lets it run on from there; `advance(...)` moves it on; `freeze()` stops
    it where it is (until `set` or `resume`)."""

    def __init__(self, start: datetime | None = None, *, frozen: bool = False) -> None:
        self._lock = threading.Lock()
        self._offset = timedelta(0)
        self._frozen_at: datetime | None = None
        if frozen:
            self.freeze()
        if start is not None:
            self.set(start)

    def __call__(self) -> datetime:
        frozen = self._frozen_at
        return frozen if frozen is not None else _wall() + self._offset

    @property
    def virtual(self) -> bool:
        return self._frozen_at is not None or self._offset != timedelta(0)

    def set(self, moment: datetime) -> None:
        if moment.tzinfo is None:
            raise ValueError("a clock is set to an aware datetime")
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at = moment.astimezone(UTC)
            else:
                self._offset = moment - _wall()

    def advance(self, delta: timedelta | None = None, *, days: float = 0, hours: float = 0,
                minutes: float = 0, seconds: float = 0) -> datetime:
        """Move on (never back: `set` does that); the new time."""
        step = (delta or timedelta(0)) + timedelta(days=days, hours=hours, minutes=minutes,
                                                   seconds=seconds)
        if step < timedelta(0):
            raise ValueError("a clock advances; set it to go back")
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at += step
            else:
                self._offset += step
        return self()

    def freeze(self) -> None:
        with self._lock:
            self._frozen_at = _wall() + self._offset if self._frozen_at is None \
                else self._frozen_at

    def resume(self) -> None:
        """Run on from the time it shows."""
        with self._lock:
            if self._frozen_at is not None:
                self._offset = self._frozen_at - _wall()
                self._frozen_at = None

    def reset(self) -> None:
        """Back to the wall clock."""
        with self._lock:
            self._offset, self._frozen_at = timedelta(0), None
