"""SDK fixtures: clients bound to a harness tenant, and a request counter."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sdk_helpers import ClientFactory, Requests

from mimicast.client import Client
from mimicast.testing import Harness
from mimicast.testing.harness import Tenant


@pytest.fixture
def requests_seen() -> Requests:
    return Requests()


@pytest.fixture
def client_for(harness: Harness) -> Iterator[ClientFactory]:
    """Client(harness.url, <tenant's keys>, **options); closed after the test."""
    made: list[Client] = []

    def make(tenant: Tenant, **options: Any) -> Client:
        keys = tenant.keys
        client = Client(harness.url, keys.app_id, keys.app_key, keys.access_key,
                        keys.secret_key, **options)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()
