"""Transparent refresh of an expired binding (418) and back-off on the rate limit (429)."""

from __future__ import annotations

import time

import pytest
from sdk_helpers import ClientFactory, Requests

from mimicast.client import BindingExpiredError, Client, LoginCredentials, RateLimitedError
from mimicast.services import identity
from mimicast.testing import Harness
from mimicast.testing.harness import Tenant
from mimicast.wire import signing

pytestmark = pytest.mark.store_agnostic

ACCOUNT = "/api/account/get-account"


def _wait_past(seconds: float) -> None:
    time.sleep(seconds + 0.5)


def test_expired_binding_is_refreshed_transparently(harness: Harness,
                                                    client_for: ClientFactory,
                                                    requests_seen: Requests) -> None:
    tenant = harness.tenant(ttl_seconds=2)
    keys = tenant.keys
    logged_in = Client.login(tenant.email, tenant.password, keys.app_id, keys.app_key,
                             base_url=harness.url, event_hooks=requests_seen.hooks())
    keys_only = client_for(tenant)
    wrong_password = client_for(tenant, credentials=LoginCredentials(
        signing.REALM_CLOUD, tenant.email, "not the password"))
    with logged_in:
        access_key = logged_in.access_key
        assert logged_in.account.get_account()[0].accountCode == tenant.code
        _wait_past(2)

        # Keys only: nothing to refresh with.
        with pytest.raises(BindingExpiredError) as expired:
            keys_only.account.get_account()
        assert expired.value.status == 418 and expired.value.code == "err_xdk_binding_expired"

        # A stored login: the binding is renewed (same access key) and the call goes through.
        assert logged_in.account.get_account()[0].accountCode == tenant.code
        assert logged_in.refreshes == 1 and logged_in.access_key == access_key
        assert requests_seen.paths[ACCOUNT] == 3  # the first call, the 418, the retry
        assert requests_seen.paths["/api/login/login"] == 2  # the login, the refresh
        assert 418 in requests_seen.statuses
        # Renewed for another TTL: the next call needs no refresh.
        logged_in.account.get_account()
        assert logged_in.refreshes == 1

        # A refresh that fails reports the login's own errors.
        with pytest.raises(BindingExpiredError) as failed:
            wrong_password.account.get_account()
        assert failed.value.code == "err_xdk_authentication_failed"
        assert "refreshing it failed" in str(failed.value)


def test_refresh_with_stored_credentials_revives_given_keys(harness: Harness,
                                                            client_for: ClientFactory) -> None:
    tenant = harness.tenant(ttl_seconds=1)
    client = client_for(tenant, credentials=LoginCredentials(
        signing.REALM_CLOUD, tenant.email, tenant.password))
    _wait_past(1)
    (status,) = client.domain.get_provision_status(domain=tenant.domain)
    assert status.status == "internal" and client.refreshes == 1


def _small_quota(harness: Harness, calls: int, window_ms: int) -> Tenant:
    tenant = harness.tenant()
    with harness.session_ctx(tenant) as ctx:
        identity.set_account_limits(ctx, rate_limit=calls, rate_window_ms=window_ms)
    return tenant


def test_rate_limit_waits_for_the_reset_and_succeeds(harness: Harness,
                                                     client_for: ClientFactory,
                                                     requests_seen: Requests) -> None:
    # 3 calls, then one more per second: the 4th call meets a 429 and waits for the reset.
    tenant = _small_quota(harness, 3, 3000)
    client = client_for(tenant, max_retries=3, event_hooks=requests_seen.hooks())
    for _ in range(4):
        assert client.account.get_account()
    assert 429 in requests_seen.statuses
    assert requests_seen.paths[ACCOUNT] == 4 + requests_seen.statuses.count(429)


def test_rate_limit_without_retries_raises(harness: Harness, client_for: ClientFactory,
                                           requests_seen: Requests) -> None:
    tenant = _small_quota(harness, 3, 60_000)
    client = client_for(tenant, max_retries=0, event_hooks=requests_seen.hooks())
    with pytest.raises(RateLimitedError) as caught:
        for _ in range(10):
            client.account.get_account()
    error = caught.value
    assert error.status == 429 and error.retryable and error.code == "err_rate_limit_exceeded"
    assert error.reset_ms is not None and 0 < error.reset_ms <= 20_000
    assert requests_seen.statuses.count(429) == 1  # raised at once, not retried


def test_rate_limit_wait_is_capped(harness: Harness, client_for: ClientFactory,
                                   requests_seen: Requests) -> None:
    # A reset of 20 s, capped to 0.05 s: the retries happen at once and still meet the 429.
    tenant = _small_quota(harness, 3, 60_000)
    client = client_for(tenant, max_retries=2, max_rate_wait=0.05,
                        event_hooks=requests_seen.hooks())
    with pytest.raises(RateLimitedError):
        for _ in range(10):
            client.account.get_account()
    assert requests_seen.statuses.count(429) == 3
