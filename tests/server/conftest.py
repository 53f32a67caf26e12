"""Tenants of the HTTP tests, each made once per test module (every module has its own)."""

from __future__ import annotations

import pytest

from mimicast.services import identity, permissions
from mimicast.testing import Harness
from mimicast.testing.harness import Tenant


@pytest.fixture(scope="module")
def tenant(harness: Harness) -> Tenant:
    """A Full Administrator, for the tests that only add to the account."""
    return harness.tenant()


@pytest.fixture(scope="module")
def other(harness: Harness) -> Tenant:
    """A second account's administrator, for tenant isolation."""
    return harness.tenant()


@pytest.fixture(scope="module")
def basic(harness: Harness) -> Tenant:
    """Every `| Read` permission, no Edit."""
    return harness.tenant(role=permissions.BASIC_ADMINISTRATOR)


@pytest.fixture(scope="module")
def groups_only(harness: Harness) -> Tenant:
    """A custom role without the users' Read permission."""
    tenant = harness.tenant(role=None)
    with harness.session_ctx(tenant) as ctx:
        identity.create_role(ctx, "Groups only", [permissions.GROUPS_READ])
        identity.add_role_member(ctx, "Groups only", tenant.email)
    return tenant
