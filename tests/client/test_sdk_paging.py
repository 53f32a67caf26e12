"""SDK pagination against a live server: records across pages, page by page, and a walk that
stops exactly when the answer has no `next`."""

from __future__ import annotations

import asyncio

import pytest
from sdk_helpers import ClientFactory, Requests

from mimicast.client import AsyncClient, AsyncPager, Page, Pager, ValidationError
from mimicast.client.paging import RepeatedTokenError
from mimicast.services import identity
from mimicast.testing import Harness
from mimicast.testing.harness import Tenant

pytestmark = pytest.mark.store_agnostic

USERS_PATH = "/api/user/get-internal-users"
SEEDED = 10  # plus the tenant's administrator: 11 addresses


@pytest.fixture(scope="module")
def tenant(harness: Harness) -> Tenant:
    tenant = harness.tenant()
    with harness.session_ctx(tenant) as ctx:
        for n in range(SEEDED):
            identity.create_user(ctx, f"user{n:02d}@{tenant.domain}")
    return tenant


def expected(tenant: Tenant) -> list[str]:
    return sorted([tenant.email, *(f"user{n:02d}@{tenant.domain}" for n in range(SEEDED))])


def test_iterating_a_pager_gives_every_record_once_in_order(
        harness: Harness, client_for: ClientFactory, tenant: Tenant,
        requests_seen: Requests) -> None:
    client = client_for(tenant, event_hooks=requests_seen.hooks())
    pager = client.user.get_internal_users(domain=tenant.domain, page_size=3)
    assert isinstance(pager, Pager)
    assert requests_seen.paths[USERS_PATH] == 0  # lazy: nothing sent before iterating
    users = list(pager)
    assert [u.emailAddress for u in users] == expected(tenant)
    assert all(u.domain == tenant.domain for u in users)
    # 11 records, 3 a page: exactly 4 requests, the last answer without `next`.
    assert requests_seen.paths[USERS_PATH] == 4


def test_page_by_page_with_counts_and_tokens(client_for: ClientFactory, tenant: Tenant) -> None:
    client = client_for(tenant)
    pages = list(client.user.get_internal_users(page_size=4).pages())
    assert [len(p.items) for p in pages] == [4, 4, 3]
    assert all(isinstance(p, Page) and p.total_count == SEEDED + 1 for p in pages)
    assert [p.next is not None for p in pages] == [True, True, False]
    assert [p.previous is not None for p in pages] == [False, True, True]
    # The wrapper object is kept as answered, beside the records taken out of it.
    assert pages[0].data[0]["userCount"] == SEEDED + 1

    # Starting from a token continues where that page ended; `previous` walks back.
    resumed = client.user.get_internal_users(page_size=4, page_token=pages[0].next).first()
    assert [u.emailAddress for u in resumed.items] == [u.emailAddress for u in pages[1].items]
    back = client.user.get_internal_users(page_size=4, page_token=pages[2].previous).first()
    assert [u.emailAddress for u in back.items] == [u.emailAddress for u in pages[1].items]


def test_an_exact_multiple_stops_without_an_empty_page(
        client_for: ClientFactory, harness: Harness, requests_seen: Requests) -> None:
    tenant = harness.tenant()
    with harness.session_ctx(tenant) as ctx:
        for n in range(5):
            identity.create_user(ctx, f"x{n}@{tenant.domain}")
    client = client_for(tenant, event_hooks=requests_seen.hooks())
    pages = list(client.user.get_internal_users(page_size=3).pages())
    assert [len(p.items) for p in pages] == [3, 3]  # 6 addresses
    assert requests_seen.paths[USERS_PATH] == 2


def test_the_generic_paginate_follows_next_for_any_path(client_for: ClientFactory,
                                                        tenant: Tenant) -> None:
    client = client_for(tenant)
    records = list(client.paginate(USERS_PATH, [{"domain": tenant.domain}], page_size=5,
                                   items_key="users"))
    assert [r["emailAddress"] for r in records] == expected(tenant)


def test_a_bad_token_is_a_validation_error(client_for: ClientFactory, tenant: Tenant) -> None:
    client = client_for(tenant)
    with pytest.raises(ValidationError) as raised:
        client.user.get_internal_users(page_token="not-a-token").first()
    assert raised.value.errors[0].field == "pageToken"


def test_a_server_repeating_a_token_does_not_loop_forever() -> None:
    def fetch(token: str | None) -> Page[int]:
        return Page([1], [1], {"next": "same"})

    with pytest.raises(RepeatedTokenError):
        list(Pager(fetch))


def test_the_async_pager(harness: Harness, tenant: Tenant) -> None:
    keys = tenant.keys

    async def walk() -> tuple[list[str], list[int]]:
        async with AsyncClient(harness.url, keys.app_id, keys.app_key, keys.access_key,
                               keys.secret_key) as client:
            pager = client.user.get_internal_users(domain=tenant.domain, page_size=4)
            assert isinstance(pager, AsyncPager)
            addresses = [user.emailAddress async for user in pager]
            sizes = [len(page.items) async for page in
                     client.paginate(USERS_PATH, page_size=5, items_key="users").pages()]
            return addresses, sizes

    addresses, sizes = asyncio.run(walk())
    assert addresses == expected(tenant)
    assert sizes == [5, 5, 1]
