"""Optional freshness and replay checks on `x-mc-date` / `x-mc-req-id`.

Both are off by default: real clients send dates in local zones, reuse one date for hours,
and reuse request ids across pages (client-compatibility.md 5, 6)."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime

from mimicast.wire.dates import parse_header_date
from mimicast.wire.errors import ApiError


class ReplayGuard:
    def __init__(self, max_skew_seconds: int | None, reject_replays: bool,
                 clock: Callable[[], datetime]) -> None:
        self._max_skew = max_skew_seconds
        self._reject_replays = reject_replays
        self._clock = clock
        self._seen: dict[tuple[int, str], float] = {}

    def check(self, binding_id: int, date: str, request_id: str) -> None:
        if self._max_skew is not None:
            sent = parse_header_date(date)
            if sent is None or abs((self._clock() - sent).total_seconds()) > self._max_skew:
                raise ApiError("err_xdk_stale_request")
        if self._reject_replays:
            now = time.monotonic()
            window = float(self._max_skew or 900)
            if len(self._seen) > 100_000:
                self._seen = {k: t for k, t in self._seen.items() if now - t < window}
            key = (binding_id, request_id)
            seen_at = self._seen.get(key)
            if not request_id or (seen_at is not None and now - seen_at < window):
                raise ApiError("err_xdk_stale_request")
            self._seen[key] = now
