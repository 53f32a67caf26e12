"""The pytest plugin integrators get with the package: a live server and a tenant in it."""

from __future__ import annotations

from mimecast_api.post_rest import simple_exchange

from mimicast.testing import Harness, Tenant


def test_plugin_fixtures_serve_a_working_tenant(mimicast_server: Harness,
                                               mimicast_tenant: Tenant) -> None:
    keys = mimicast_tenant.keys
    data = simple_exchange(mimicast_server.url, keys.access_key, keys.secret_key, keys.app_id,
                           keys.app_key, "/api/account/get-account", {"data": []})
    assert data[0]["accountCode"] == mimicast_tenant.code
