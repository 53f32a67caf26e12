"""The default store under concurrent writers: every call gets its answer, none a 500, no write
lost — in one process and across `serve --workers 2` sharing one SQLite file. And the bounds
that keep bad input from reaching the store."""

from __future__ import annotations

import asyncio
import json
import secrets
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from api import call, ok
from mimecast_api.post_rest import simple_exchange

from mimicast.server.ratelimit import MemoryLimiter
from mimicast.testing import Harness
from mimicast.testing.harness import Tenant

CREATE_URL = "/api/ttp/url/create-managed-url"
LIST_URLS = "/api/ttp/url/get-all-managed-urls"
SENDERS = "/api/managedsender/permit-or-block-sender"


def test_concurrent_writers_all_get_answers(harness: Harness) -> None:
    """8 writers and 8 readers at once, 25 calls each: on SQLite this gave "database is
    locked" 500s; now writers take turns and readers read beside them."""
    tenant = harness.tenant()
    run = secrets.token_hex(3)

    def writer(n: int) -> list[int]:
        statuses = []
        for i in range(25):
            response = call(harness, tenant, CREATE_URL, [
                {"url": f"https://w{n}-{i}-{run}.example.net/", "action": "block"}])
            statuses.append(response.status_code if not response.json()["fail"] else -1)
            sender = call(harness, tenant, SENDERS, [{
                "sender": f"s{i}@x{n}.example.org", "to": tenant.email,
                "action": "block" if i % 2 else "permit"}])
            statuses.append(sender.status_code if not sender.json()["fail"] else -1)
        return statuses

    def reader(_: int) -> list[int]:
        return [call(harness, tenant, LIST_URLS, []).status_code for _ in range(25)]

    with ThreadPoolExecutor(16) as pool:
        writes = pool.map(writer, range(8))
        reads = pool.map(reader, range(8))
        outcomes = Counter(s for batch in [*writes, *reads] for s in batch)
    assert outcomes == {200: 8 * 25 * 2 + 8 * 25}
    urls = ok(harness, tenant, LIST_URLS, [], {"pagination": {"pageSize": 500}})
    assert len([u for u in urls if run in u["domain"]]) == 8 * 25  # none lost


def test_two_workers_share_one_sqlite_file(serve: Any, cli: Any) -> None:
    """`serve --workers 2`: two processes, each with its own writer lock, meet in SQLite's
    own (BEGIN IMMEDIATE waits for the other). 8 concurrent clients write through both."""
    credentials = json.loads(cli("init", "--json").stdout)
    served = serve("--workers", "2", "--rate-limit", "100000")
    run = secrets.token_hex(3)

    def writer(n: int) -> list[str]:
        errors = []
        for i in range(15):
            try:
                simple_exchange(served.url, credentials["accessKey"],
                                credentials["secretKey"], credentials["appId"],
                                credentials["appKey"], CREATE_URL,
                                {"data": [{"url": f"https://{run}-{n}-{i}.example.net/",
                                           "action": "permit"}]})
            except Exception as error:  # the client raises on any failure
                errors.append(str(error))
        return errors

    with ThreadPoolExecutor(8) as pool:
        errors = [e for batch in pool.map(writer, range(8)) for e in batch]
    assert errors == []
    found = simple_exchange(served.url, credentials["accessKey"], credentials["secretKey"],
                            credentials["appId"], credentials["appKey"], LIST_URLS,
                            {"data": [{"domainOrUrl": run}],
                             "meta": {"pagination": {"pageSize": 500}}})
    assert len(found) == 8 * 15


@pytest.mark.parametrize(("path", "item", "field"), [
    ("/api/directory/find-groups", {"query": "x" * 60_000}, "query"),
    ("/api/audit/get-audit-events", {"startDateTime": "2026-01-01T00:00:00+0000",
                                     "endDateTime": "2026-01-02T00:00:00+0000",
                                     "query": "%" * 50_000}, "query"),
    ("/api/ttp/url/get-all-managed-urls", {"domainOrUrl": "a" * 49_999}, "domainOrUrl"),
])
def test_an_overlong_search_is_a_fail_entry(harness: Harness, tenant: Tenant, path: str,
                                            item: dict[str, Any], field: str) -> None:
    """Past SQLite's LIKE limit (50,000 characters) these were 500s."""
    response = call(harness, tenant, path, [item])
    assert response.status_code == 200
    [failure] = response.json()["fail"]
    error = failure["errors"][0]
    assert (error["code"], error["field"]) == ("err_validation_invalid_value", field)
    assert "2048" in error["message"]


def test_the_limiter_forgets_the_least_recently_used_bucket() -> None:
    """A flood of new keys evicts idle buckets, never the busy user's (it used to clear
    every bucket, handing a throttled user a full one)."""
    limiter = MemoryLimiter(clock=lambda: 0.0)
    limiter.MAX_KEYS = 100

    async def flood() -> list[bool]:
        seen = [(await limiter.take("user:busy", 5, 60_000)).allowed for _ in range(5)]
        for n in range(250):
            await limiter.take(f"ip:10.0.{n // 250}.{n % 250}", 600, 60_000)
            if n % 50 == 0:  # the busy user keeps calling during the flood
                seen.append((await limiter.take("user:busy", 5, 60_000)).allowed)
        return seen

    assert asyncio.run(flood()) == [True] * 5 + [False] * 5
    assert len(limiter._buckets) == 100


def test_huge_headers_never_reach_the_api(harness: Harness, tenant: Tenant) -> None:
    """8 MB of headers: answered 431 with the envelope; the server is fine afterwards."""
    response = httpx.post(harness.url + "/api/account/get-account", content=b"{}",
                          headers={"x-padding": "a" * 8_000_000})
    assert response.status_code == 431
    assert response.json()["fail"][0]["errors"][0]["code"] == "err_request_headers_too_large"
    assert ok(harness, tenant, "/api/account/get-support-info", [])
