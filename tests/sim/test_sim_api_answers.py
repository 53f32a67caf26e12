"""The same seed gives byte-identical API answers on SQLite and on PostgreSQL: the demo
account, the same simulated mail, the same clock (frozen at one moment), the same requests —
Message Finder, the hold queue, a message's story, its detail and its bytes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from mimicast.services import demo
from mimicast.sim.runs import backfill
from mimicast.store.schema import Account
from mimicast.testing import Harness, fresh_database
from mimicast.testing.harness import Keys
from mimicast.wire.dates import format_date

MOMENT = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)


def answers(url: str, key_dir: Path) -> list[bytes]:
    """Every answer's raw bytes, in order, from a fresh server on `url`."""
    harness = Harness(url, str(key_dir))
    try:
        harness.clock.freeze()
        harness.clock.set(MOMENT)
        credentials, _ = demo.ensure_demo(harness.deps)
        with harness.deps.store.session() as session:
            account_id = session.scalar(select(Account.id).where(
                Account.code == credentials.accountCode))
        backfill(harness.deps, int(account_id), seed=5, messages=400, days=3, anchor=MOMENT)
        keys = Keys(credentials.appId, credentials.appKey, credentials.accessKey,
                    credentials.secretKey)
        bodies: list[bytes] = []

        def call(path: str, *items: Any, meta: dict[str, Any] | None = None) -> Any:
            body: dict[str, Any] = {"data": list(items)}
            if meta:
                body["meta"] = meta
            response = harness.call(keys, path, body)
            assert response.status_code == 200, (path, response.text)
            bodies.append(response.content)
            return response.json() if path != "/api/gateway/message/get-file" else None

        window = {"start": format_date(MOMENT - timedelta(days=3)), "end": format_date(MOMENT)}
        found = call("/api/message-finder/search", window, meta={"pagination": {"pageSize": 50}})
        tracked = found["data"][0]["trackedEmails"]
        call("/api/message-finder/search", window, meta={"pagination": {
            "pageSize": 50, "pageToken": found["meta"]["pagination"]["next"]}})
        held = call("/api/gateway/get-hold-message-list", {"admin": True, **window})["data"]
        call("/api/gateway/get-hold-summary-list")
        call("/api/gateway/get-rejections", {"admin": True, **window})
        ids = [t["id"] for t in tracked[:10]] + [h["id"] for h in held[:5]]
        call("/api/message-finder/get-message-info", *({"id": i} for i in ids))
        with_files = [t["id"] for t in tracked if t["attachments"]][:3]
        assert with_files, "no simulated mail with attachments in the first page"
        for value in ids[:5] + with_files:
            (detail,) = call("/api/gateway/message/get-message-detail", {"id": value})["data"]
            call("/api/gateway/message/get-file", {"id": value})
            for attachment in detail["attachments"]:
                call("/api/gateway/message/get-file", {"id": attachment["id"]})
        return bodies
    finally:
        harness.close()


@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
def test_the_same_seed_answers_the_same_bytes_on_both_stores(store_url: str,
                                                             tmp_path: Path) -> None:
    with fresh_database("sqlite") as lite:
        on_sqlite = answers(lite, tmp_path)
    on_postgres = answers(store_url, tmp_path)
    assert len(on_sqlite) == len(on_postgres) > 20  # the files of the mail with attachments
    for first, second in zip(on_sqlite, on_postgres, strict=True):
        assert first == second
