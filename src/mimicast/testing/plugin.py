"""pytest fixtures for integrators' own tests (registered as a pytest plugin on install):

    def test_my_collector(mimicast_server, mimicast_tenant):
        collector = MyCollector(base_url=mimicast_server.url, **mimicast_tenant.keys.__dict__)
        ...

`mimicast_server` is a real mimicast on a free loopback port with a fresh SQLite store (one
per test session); `mimicast_tenant` is a fresh account in it, with an administrator in the
Full Administrator role, a registered application and a binding (`.keys`).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mimicast.testing.harness import Harness, Tenant, fresh_database


@pytest.fixture(scope="session")
def mimicast_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    with fresh_database("sqlite") as url:
        harness = Harness(url, str(tmp_path_factory.mktemp("mimicast-keys")))
        try:
            yield harness
        finally:
            harness.close()


@pytest.fixture
def mimicast_tenant(mimicast_server: Harness) -> Tenant:
    return mimicast_server.tenant()
