"""Call quotas over real HTTP: one bucket per user across all of the user's bindings, the
X-RateLimit-* headers, 429 without running the function, the settings override, and the
Redis limiter that lets workers share one bucket (client-compatibility.md 15, 16)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
import redis

from mimicast.server.ratelimit import MemoryLimiter, RedisLimiter
from mimicast.services import identity
from mimicast.services.crypto import digest
from mimicast.services.permissions import FULL_ADMINISTRATOR
from mimicast.store.schema import Binding
from mimicast.testing import Harness
from mimicast.testing.harness import Keys, LiveServer, Tenant
from mimicast.wire import signing

ACCOUNT = "/api/account/get-account"
LOGOUT = "/api/login/logout"
REDIS_URL = "redis://127.0.0.1:6379/0"


def login(harness: Harness, tenant: Tenant, email: str, password: str) -> Keys:
    response = harness.http.post("/api/login/login", json={"data": [{"userName": email}]},
                                 headers={"Authorization": signing.basic(
                                     signing.REALM_CLOUD, email, password),
                                     "x-mc-app-id": tenant.keys.app_id})
    assert response.status_code == 200, response.text
    item = response.json()["data"][0]
    return Keys(tenant.keys.app_id, tenant.keys.app_key, item["accessKey"], item["secretKey"])


def quota(response: httpx.Response) -> tuple[int, int, int]:
    return (int(response.headers["X-RateLimit-Limit"]),
            int(response.headers["X-RateLimit-Remaining"]),
            int(response.headers["X-RateLimit-Reset"]))


def assert_limited(response: httpx.Response) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert list(body) == ["meta", "data", "fail"]
    assert body["meta"]["status"] == 429 and body["data"] == []
    error = body["fail"][0]["errors"][0]
    assert error["code"] == "err_rate_limit_exceeded"
    assert error["retryable"] is True
    _limit, remaining, reset = quota(response)
    assert remaining == 0
    assert reset > 0  # clients sleep this many milliseconds


def revoked(harness: Harness, access_key: str) -> bool:
    with harness.deps.store.session() as session:
        binding = session.query(Binding).filter_by(access_key_hash=digest(access_key)).one()
        return binding.revoked_at is not None


def test_one_bucket_per_user_across_bindings(harness: Harness) -> None:
    tenant = harness.tenant(rate_limit=5)
    second = login(harness, tenant, tenant.email, tenant.password)
    seen = []
    for index in range(5):
        keys = tenant.keys if index % 2 == 0 else second
        response = harness.call(keys, ACCOUNT)
        assert response.status_code == 200
        seen.append(quota(response)[:2])
    # The two bindings count down one shared quota.
    assert seen == [(5, 4), (5, 3), (5, 2), (5, 1), (5, 0)]
    for keys in (tenant.keys, second):
        assert_limited(harness.call(keys, ACCOUNT))


def test_a_limited_call_is_not_executed(harness: Harness) -> None:
    tenant = harness.tenant(rate_limit=2)
    second = login(harness, tenant, tenant.email, tenant.password)
    for _ in range(2):
        assert harness.call(tenant.keys, ACCOUNT).status_code == 200
    response = harness.call(tenant.keys, LOGOUT, {"data": [{"accessKey": second.access_key}]})
    assert_limited(response)
    assert not revoked(harness, second.access_key)


def test_another_user_has_a_bucket_of_its_own(harness: Harness) -> None:
    tenant = harness.tenant(rate_limit=3)
    email, password = f"peer@{tenant.domain}", "peer-password"
    with harness.session_ctx(tenant) as ctx:
        identity.create_user(ctx, email, password=password)
        identity.add_role_member(ctx, FULL_ADMINISTRATOR, email)
    peer = login(harness, tenant, email, password)
    for _ in range(3):
        assert harness.call(tenant.keys, ACCOUNT).status_code == 200
    assert_limited(harness.call(tenant.keys, ACCOUNT))
    response = harness.call(peer, ACCOUNT)
    assert response.status_code == 200
    assert quota(response)[:2] == (3, 2)


def test_error_responses_count_and_carry_the_headers(harness: Harness) -> None:
    tenant = harness.tenant(rate_limit=3, role=None)
    first = harness.call(tenant.keys, ACCOUNT)
    assert first.status_code == 403
    assert quota(first)[:2] == (3, 2)
    # Logout needs no permission, so its body is read: and found unparseable.
    garbage = harness.call(tenant.keys, LOGOUT, content=b"{{{")
    assert garbage.status_code == 400
    assert quota(garbage)[:2] == (3, 1)


@pytest.fixture
def fresh_server(harness: Harness) -> Iterator[LiveServer]:
    """A server of its own, whose limiter's clock stands still: its buckets never refill
    (the per-address one refills 10 calls a second), so every count is exact."""
    live = harness.with_settings()
    live.runtime.limiter = MemoryLimiter(clock=lambda: 1_000.0)
    yield live
    live.stop()


def test_unauthenticated_calls_count_once_per_address(harness: Harness,
                                                      fresh_server: LiveServer) -> None:
    tenant = harness.tenant()
    bad_login = {"Authorization": signing.basic(signing.REALM_CLOUD, tenant.email, "wrong"),
                 "x-mc-app-id": tenant.keys.app_id}
    with httpx.Client(base_url=fresh_server.url) as client:
        responses = [
            client.post("/api/login/login", json={"data": []}, headers=bad_login),  # 401
            client.post("/api/login/login", content=b"{{{", headers=bad_login),  # 400
            client.post("/api/login/discover-authentication", json={"data": []}),  # 200
            client.post("/api/nope"),  # 404
            client.post(ACCOUNT, headers={"x-mc-app-id": "nope"}),  # 200, developer key
        ]
    assert [r.status_code for r in responses] == [401, 400, 200, 404, 200]
    assert [quota(r)[:2] for r in responses] == [(600, 600 - n) for n in range(1, 6)]


@pytest.fixture
def overridden(harness: Harness) -> Iterator[LiveServer]:
    live = harness.with_settings(rate_limit=2)
    yield live
    live.stop()


def test_the_settings_override_every_accounts_quota(harness: Harness,
                                                    overridden: LiveServer) -> None:
    tenant = harness.tenant(rate_limit=100)
    statuses = [harness.call(tenant.keys, ACCOUNT, base=overridden.url) for _ in range(2)]
    assert [quota(r)[:2] for r in statuses] == [(2, 1), (2, 0)]
    assert_limited(harness.call(tenant.keys, ACCOUNT, base=overridden.url))
    # The account's own quota still applies on a server without the override.
    assert quota(harness.call(tenant.keys, ACCOUNT))[0] == 100


# Redis: workers sharing one bucket -------------------------------------------------------------

@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A key prefix no other test (or test worker) uses; its keys are deleted afterwards."""
    prefix = f"mimicast-test:{uuid.uuid4().hex}:"
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.RedisError as error:
        pytest.fail(f"Redis is not reachable on {REDIS_URL}: {error}")
    yield prefix
    for key in client.scan_iter(match=f"{prefix}*"):
        client.delete(key)
    client.close()


def test_redis_limiter_instances_share_one_bucket(redis_prefix: str) -> None:
    async def scenario() -> None:
        first, second = RedisLimiter(REDIS_URL, redis_prefix), RedisLimiter(REDIS_URL,
                                                                             redis_prefix)
        try:
            taken = [await (first if n % 2 == 0 else second).take("user:1", 4, 60_000)
                     for n in range(4)]
            assert [q.allowed for q in taken] == [True] * 4
            assert [q.remaining for q in taken] == [3, 2, 1, 0]
            assert all(q.limit == 4 and q.reset_ms > 0 for q in taken)
            for limiter in (first, second):
                denied = await limiter.take("user:1", 4, 60_000)
                assert not denied.allowed and denied.remaining == 0
                # About one token's refill time: 60 s / 4.
                assert 0 < denied.reset_ms <= 15_000
            # Another key is another bucket.
            assert (await second.take("user:2", 4, 60_000)).remaining == 3
        finally:
            await first.close()
            await second.close()

    asyncio.run(scenario())
    # The bucket expires on its own once it would be full again.
    client = redis.Redis.from_url(REDIS_URL)
    ttl = client.pttl(f"{redis_prefix}user:1")
    client.close()
    assert 0 < ttl <= 61_000


def test_redis_limiter_refills(redis_prefix: str) -> None:
    async def scenario() -> bool:
        limiter = RedisLimiter(REDIS_URL, redis_prefix)
        try:
            for _ in range(2):
                assert (await limiter.take("user:1", 2, 400)).allowed
            denied = await limiter.take("user:1", 2, 400)
            assert not denied.allowed and 0 < denied.reset_ms <= 200
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                if (await limiter.take("user:1", 2, 400)).allowed:
                    return True
                await asyncio.sleep(0.05)
            return False
        finally:
            await limiter.close()

    assert asyncio.run(scenario())


@pytest.fixture
def two_workers(harness: Harness, redis_prefix: str) -> Iterator[tuple[LiveServer, LiveServer]]:
    """Two servers on one store whose limiters share a Redis bucket space, as two workers
    of `mimicast serve --workers 2 --redis-url ...` do."""
    servers = []
    for _ in range(2):
        live = harness.with_settings()
        live.runtime.limiter = RedisLimiter(REDIS_URL, redis_prefix)
        servers.append(live)
    yield servers[0], servers[1]
    for live in servers:
        live.stop()


def test_two_servers_share_a_users_quota_through_redis(
        harness: Harness, two_workers: tuple[LiveServer, LiveServer]) -> None:
    tenant = harness.tenant(rate_limit=4)
    first, second = two_workers
    remaining = [quota(harness.call(tenant.keys, ACCOUNT, base=server.url))[1]
                 for server in (first, second, first, second)]
    assert remaining == [3, 2, 1, 0]
    for server in (first, second):
        assert_limited(harness.call(tenant.keys, ACCOUNT, base=server.url))
