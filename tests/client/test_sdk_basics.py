"""Keys and login paths, signing through the wire layer, regions."""

from __future__ import annotations

import uuid

import pytest
from sdk_helpers import ClientFactory, Requests

from mimicast.catalog.account import AccountResponse
from mimicast.client import (
    REGIONS,
    ApiFailure,
    AuthenticationError,
    Client,
    region_url,
)
from mimicast.testing import Harness
from mimicast.wire import signing

pytestmark = pytest.mark.store_agnostic


def test_keys_path_returns_typed_models(harness: Harness, client_for: ClientFactory) -> None:
    tenant = harness.tenant()
    client = client_for(tenant)
    accounts = client.account.get_account()
    assert len(accounts) == 1 and isinstance(accounts[0], AccountResponse)
    assert accounts[0].accountCode == tenant.code
    assert accounts[0].adminEmail == tenant.email
    info = client.account.get_support_info()
    assert len(info) == 1 and info[0].mailtoLink


def test_requests_are_signed_with_the_wire_signature(harness: Harness,
                                                     client_for: ClientFactory,
                                                     requests_seen: Requests) -> None:
    tenant = harness.tenant()
    client = client_for(tenant, event_hooks=requests_seen.hooks())
    client.call("/api/account/get-account")
    headers = requests_seen.last_headers
    access_key, _, sig = headers["authorization"].removeprefix("MC ").rpartition(":")
    assert access_key == tenant.keys.access_key
    assert headers["x-mc-app-id"] == tenant.keys.app_id
    assert str(uuid.UUID(headers["x-mc-req-id"])) == headers["x-mc-req-id"]
    assert headers["x-mc-date"].endswith(" UTC")
    expected = signing.signature(signing.decode_secret(tenant.keys.secret_key),
                                 headers["x-mc-date"], headers["x-mc-req-id"],
                                 "/api/account/get-account", tenant.keys.app_key)
    assert sig == expected


def test_every_request_gets_a_fresh_request_id(harness: Harness, client_for: ClientFactory,
                                               requests_seen: Requests) -> None:
    client = client_for(harness.tenant(), event_hooks=requests_seen.hooks())
    ids = set()
    for _ in range(3):
        client.account.get_account()
        ids.add(requests_seen.last_headers["x-mc-req-id"])
    assert len(ids) == 3


def test_login_discovers_on_base_url_and_can_log_out(harness: Harness) -> None:
    tenant = harness.tenant()
    keys = tenant.keys
    with Client.login(tenant.email, tenant.password, keys.app_id, keys.app_key,
                      base_url=harness.url) as client:
        # A new binding of its own, not the tenant's.
        assert client.access_key and client.access_key != keys.access_key
        assert client.account.get_account()[0].accountCode == tenant.code
        assert client.login.logout() == [{"accessKey": "", "logout": True}]
        with pytest.raises(AuthenticationError) as caught:
            client.account.get_account()
        assert caught.value.status == 401


def test_login_follows_the_discovered_region(harness: Harness) -> None:
    tenant = harness.tenant()
    keys = tenant.keys
    # No base_url: discovery is asked on discovery_url, and its region.api is used for calls.
    with Client.login(tenant.email, tenant.password, keys.app_id, keys.app_key,
                      discovery_url=harness.url + "/") as client:
        assert str(client._http.base_url).rstrip("/") == harness.url
        assert client.domain.get_internal_domain()[0].domain == tenant.domain


def test_login_failures(harness: Harness) -> None:
    tenant = harness.tenant()
    keys = tenant.keys
    with pytest.raises(AuthenticationError) as caught:
        Client.login(tenant.email, "wrong password", keys.app_id, keys.app_key,
                     base_url=harness.url)
    assert caught.value.code == "err_xdk_authentication_failed"
    assert caught.value.status == 401
    with pytest.raises(AuthenticationError) as caught:
        Client.login(tenant.email, tenant.password, keys.app_id, keys.app_key,
                     auth_type="domain", base_url=harness.url)
    assert caught.value.code == "err_xdk_auth_type_not_supported"
    with pytest.raises(AuthenticationError) as caught:
        Client.login(tenant.email, tenant.password, "no-such-app", keys.app_key,
                     base_url=harness.url)
    assert caught.value.code == "err_developer_key"
    # Discovery refuses an unknown address, keyed by the item that was sent.
    with pytest.raises(ApiFailure) as failed:
        Client.login("nobody@unknown.example", "x", keys.app_id, keys.app_key,
                     base_url=harness.url)
    assert failed.value.code == "err_discover_unknown_address"
    assert failed.value.key == {"emailAddress": "nobody@unknown.example"}
    with pytest.raises(ValueError, match="auth_type"):
        Client.login(tenant.email, tenant.password, keys.app_id, keys.app_key,
                     auth_type="kerberos", base_url=harness.url)


def test_regions() -> None:
    assert set(REGIONS) == {"eu", "de", "us", "usb", "ca", "za", "au", "je", "sandbox",
                            "uspcom"}
    assert region_url("EU") == "https://eu-api.mimecast.com"
    assert region_url("uk") == region_url("eu")
    assert region_url("uspcom") == "https://uspcom-api.mimecast-pscom-us.com"
    with pytest.raises(ValueError, match="unknown region"):
        region_url("mars")
    with Client.for_region("de", "app", "key", "access", "c2VjcmV0") as client:
        assert str(client._http.base_url) == "https://de-api.mimecast.com"
    with Client(None, "app", "key", "access", "c2VjcmV0", region="sandbox") as client:
        assert str(client._http.base_url) == "https://sandbox-api.mimecast.com"
    with pytest.raises(ValueError, match="not both"):
        Client("https://x", "app", "key", "access", "c2VjcmV0", region="eu")
    with pytest.raises(ValueError, match="required"):
        Client(None, "app", "key", "access", "c2VjcmV0")
