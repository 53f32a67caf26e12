"""The async client: the same behaviour through `await` (driven with asyncio.run)."""

from __future__ import annotations

import asyncio

import pytest
from sdk_helpers import Requests, new_domain

from mimicast.catalog.account import AccountResponse
from mimicast.catalog.domain import VerificationCode
from mimicast.client import (
    ApiFailure,
    AsyncClient,
    AuthenticationError,
    BindingExpiredError,
    RateLimitedError,
    TransportError,
    ValidationError,
)
from mimicast.services import identity
from mimicast.testing import Harness
from mimicast.testing.harness import Tenant, free_port

pytestmark = pytest.mark.store_agnostic


def _keys_client(harness: Harness, tenant: Tenant, **options: object) -> AsyncClient:
    keys = tenant.keys
    return AsyncClient(harness.url, keys.app_id, keys.app_key, keys.access_key,
                       keys.secret_key, **options)  # type: ignore[arg-type]


def test_async_keys_path_and_typed_methods(harness: Harness) -> None:
    tenant = harness.tenant()

    async def scenario() -> None:
        async with _keys_client(harness, tenant) as client:
            (account,) = await client.account.get_account()
            assert isinstance(account, AccountResponse) and account.accountCode == tenant.code
            name = new_domain()
            await client.domain.create_domain(domain=name, inboundType="any")
            codes = await client.domain.get_verification_code(
                items=[{"domain": name}, {"domain": tenant.domain}])
            assert all(isinstance(c, VerificationCode) for c in codes)
            # Concurrent calls share the one pool.
            many = await asyncio.gather(*(client.account.get_account() for _ in range(5)))
            assert [a[0].accountCode for a in many] == [tenant.code] * 5

    asyncio.run(scenario())


def test_async_login_partial_and_errors(harness: Harness, requests_seen: Requests) -> None:
    tenant = harness.tenant()
    keys = tenant.keys

    async def scenario() -> None:
        client = await AsyncClient.login(tenant.email, tenant.password, keys.app_id,
                                         keys.app_key, base_url=harness.url,
                                         event_hooks=requests_seen.async_hooks())
        async with client:
            assert client.access_key != keys.access_key
            name = new_domain()
            await client.domain.create_domain(domain=name, inboundType="any")
            items = [{"domain": name}, {"domain": ""}]
            results, failures = await client.domain.get_verification_code(items=items,
                                                                           partial=True)
            assert [r.domain for r in results] == [name]
            assert failures[0].key == {"domain": ""}
            with pytest.raises(ValidationError):
                await client.domain.get_verification_code(domain="")
            with pytest.raises(ApiFailure):
                await client.domain.create_domain(domain=name, inboundType="any")
            assert requests_seen.paths["/api/domain/create-domain"] == 2  # not retried
            assert await client.login.logout() == [{"accessKey": "", "logout": True}]
            with pytest.raises(AuthenticationError):
                await client.call("/api/account/get-account")
        with pytest.raises(AuthenticationError):
            await AsyncClient.login(tenant.email, "wrong", keys.app_id, keys.app_key,
                                    base_url=harness.url)

    asyncio.run(scenario())


def test_async_refresh_on_418(harness: Harness) -> None:
    tenant = harness.tenant(ttl_seconds=1)
    keys = tenant.keys

    async def scenario() -> None:
        client = await AsyncClient.login(tenant.email, tenant.password, keys.app_id,
                                         keys.app_key, base_url=harness.url)
        async with client, _keys_client(harness, tenant) as keys_only:
            await asyncio.sleep(1.5)
            assert (await client.account.get_account())[0].accountCode == tenant.code
            assert client.refreshes == 1
            with pytest.raises(BindingExpiredError):
                await keys_only.account.get_account()

    asyncio.run(scenario())


def test_async_rate_limit_and_transport_errors(harness: Harness) -> None:
    tenant = harness.tenant()
    with harness.session_ctx(tenant) as ctx:
        identity.set_account_limits(ctx, rate_limit=2, rate_window_ms=60_000)

    async def scenario() -> None:
        async with _keys_client(harness, tenant, max_retries=0) as client:
            with pytest.raises(RateLimitedError) as caught:
                for _ in range(10):
                    await client.account.get_account()
            assert caught.value.reset_ms
        async with AsyncClient(f"http://127.0.0.1:{free_port()}", "app", "key", "access",
                               "c2VjcmV0", max_retries=1, backoff=0.01) as closed:
            with pytest.raises(TransportError):
                await closed.account.get_account()

    asyncio.run(scenario())
