"""Login under attack: throttled guessing, bounded password checks, no 500 under concurrency,
and the same work for unknown and known addresses."""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from unittest import mock

import httpx
import pytest
from sqlalchemy import select

from mimicast.server.loginguard import MemoryGuard
from mimicast.services import crypto
from mimicast.store.schema import AuditEvent
from mimicast.testing import Harness
from mimicast.testing.harness import LiveServer, Tenant, eventually
from mimicast.wire import signing

LOGIN = "/api/login/login"


class Clock:
    """The throttle's clock, moved by the test: no test waits, none depends on how fast the
    machine is."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def server(harness: Harness, request: pytest.FixtureRequest,
           clock: Clock) -> Iterator[LiveServer]:
    """A second server on the same store, with the login settings the test parametrizes and
    the test's clock."""
    live = harness.with_settings(**request.param)
    guard = live.runtime.login_guard
    assert isinstance(guard, MemoryGuard)
    live.runtime.login_guard = MemoryGuard(guard.policy, clock)
    yield live
    live.stop()


def login(url: str, tenant: Tenant, password: str, email: str | None = None) -> httpx.Response:
    address = email or tenant.email
    return httpx.post(url + LOGIN, json={"data": [{"userName": address}]}, timeout=60,
                      headers={"Authorization": signing.basic(signing.REALM_CLOUD, address,
                                                              password),
                               "x-mc-app-id": tenant.keys.app_id})


def code(response: httpx.Response) -> str:
    return str(response.json()["fail"][0]["errors"][0]["code"])


THROTTLE = {"login_max_failures": 3, "login_max_failures_per_client": 1000,
            "login_backoff_seconds": 1.0, "login_backoff_max_seconds": 2.0}


@pytest.mark.parametrize("server", [THROTTLE], indirect=True)
def test_failed_logins_throttle_the_address_then_it_recovers(harness: Harness,
                                                            server: LiveServer,
                                                            clock: Clock) -> None:
    tenant = harness.tenant()
    statuses = [login(server.url, tenant, "wrong").status_code for _ in range(3)]
    assert statuses == [401, 401, 401]
    throttled = login(server.url, tenant, tenant.password)  # even the right password waits
    assert throttled.status_code == 429
    assert code(throttled) == "err_xdk_login_throttled"
    assert throttled.json()["fail"][0]["errors"][0]["retryable"] is True
    assert int(throttled.headers["x-ratelimit-reset"]) == 1000
    # Another address is not affected.
    other = harness.tenant()
    assert login(server.url, other, other.password).status_code == 200
    # A further failure once the back-off is over doubles it.
    clock.now += 1.0
    assert login(server.url, tenant, "wrong").status_code == 401
    again = login(server.url, tenant, tenant.password)
    assert again.status_code == 429 and int(again.headers["x-ratelimit-reset"]) == 2000
    # After the back-off the right password works, and a success clears the count.
    clock.now += 2.0
    assert login(server.url, tenant, tenant.password).status_code == 200
    assert login(server.url, tenant, "wrong").status_code == 401
    assert login(server.url, tenant, tenant.password).status_code == 200


@pytest.mark.parametrize("server", [THROTTLE], indirect=True)
def test_failed_and_throttled_logins_are_audited(harness: Harness, server: LiveServer) -> None:
    tenant = harness.tenant()
    for _ in range(3):
        login(server.url, tenant, "wrong")

    def events() -> list[str]:
        with harness.deps.store.session() as session:
            return list(session.scalars(select(AuditEvent.event_type).where(
                AuditEvent.account_id == tenant.account_id,
                AuditEvent.event_type.in_(["Login failed", "Login throttled"]))
                .order_by(AuditEvent.id)))

    assert eventually(lambda: events() == ["Login failed"] * 3 + ["Login throttled"])
    with harness.deps.store.session() as session:
        infos = session.scalars(select(AuditEvent.info).where(
            AuditEvent.account_id == tenant.account_id,
            AuditEvent.event_type == "Login failed")).all()
    assert all(info == f"{tenant.email} from 127.0.0.1" for info in infos)
    # The password itself is never written anywhere.
    assert not any("wrong" in info for info in infos)


@pytest.mark.parametrize("server", [{"login_max_failures": 1000,
                                     "login_max_failures_per_client": 4,
                                     "login_backoff_seconds": 30.0}], indirect=True)
def test_one_client_guessing_many_addresses_is_throttled(harness: Harness,
                                                         server: LiveServer) -> None:
    tenant = harness.tenant()
    guesses = [login(server.url, tenant, "guess", f"nobody{i}@{tenant.domain}").status_code
               for i in range(4)]
    assert guesses == [401, 401, 401, 401]  # unknown addresses count like known ones
    fresh = login(server.url, tenant, tenant.password)
    assert fresh.status_code == 429 and code(fresh) == "err_xdk_login_throttled"


@pytest.mark.parametrize("server", [{"login_concurrency": 1, "login_queue": 0}],
                         indirect=True)
def test_logins_past_the_password_pool_are_refused_not_queued(harness: Harness,
                                                              server: LiveServer) -> None:
    tenant = harness.tenant(max_bindings=100)
    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(lambda _: login(server.url, tenant, tenant.password),
                                  range(8)))
    outcomes = Counter((r.status_code, r.json()["fail"][0]["errors"][0]["code"]
                        if r.json()["fail"] else "") for r in responses)
    assert set(outcomes) <= {(200, ""), (429, "err_xdk_login_busy")}
    assert outcomes[(200, "")] >= 1 and outcomes[(429, "err_xdk_login_busy")] >= 1
    busy = next(r for r in responses if r.status_code == 429)
    assert int(busy.headers["x-ratelimit-reset"]) > 0
    # Nothing was left half-done: the pool is free again.
    assert login(server.url, tenant, tenant.password).status_code == 200


def test_concurrent_logins_of_one_user_all_succeed(harness: Harness) -> None:
    """30 at once (on SQLite this once gave 20 × 500, "database is locked")."""
    tenant = harness.tenant(max_bindings=100)
    with ThreadPoolExecutor(30) as pool:
        responses = list(pool.map(lambda _: login(harness.url, tenant, tenant.password),
                                  range(30)))
    assert [r.status_code for r in responses] == [200] * 30
    keys = {r.json()["data"][0]["accessKey"] for r in responses}
    assert len(keys) == 30


def test_unknown_and_known_addresses_cost_one_password_check_each() -> None:
    """The timing of a failed login must not tell whether the address exists."""
    stored = crypto.hash_password("right")
    with mock.patch.object(crypto, "_hasher", mock.Mock(wraps=crypto._hasher)) as hasher:
        assert crypto.verify_password_in_constant_work(None, "guess") is False
        assert crypto.verify_password_in_constant_work(stored, "guess") is False
        assert crypto.verify_password_in_constant_work(stored, "right") is True
    assert hasher.verify.call_count == 3


@pytest.mark.parametrize("server", [{}], indirect=True)
def test_a_login_flood_leaves_signed_calls_working(harness: Harness,
                                                   server: LiveServer) -> None:
    """Wrong passwords from many threads while signed calls go on: every signed call gets its
    answer (the password pool takes the flood, not the store threads)."""
    tenant = harness.tenant()
    email = f"flood-{secrets.token_hex(3)}@{tenant.domain}"

    def attack(_: int) -> int:
        return login(server.url, tenant, "wrong", email).status_code

    with ThreadPoolExecutor(16) as pool:
        flood = pool.map(attack, range(48))
        calls = [harness.call(tenant.keys, "/api/account/get-support-info",
                              base=server.url).status_code for _ in range(20)]
        statuses: Any = set(flood)
    assert calls == [200] * 20
    assert statuses <= {401, 429}
