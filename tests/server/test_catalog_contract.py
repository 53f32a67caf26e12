"""What every catalog entry promises, checked by walking the catalog over HTTP: the
permission it names is enforced, and no malformed item gets anything but the envelope."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from mimicast.catalog import ENDPOINTS
from mimicast.services import identity, permissions
from mimicast.testing import Harness
from mimicast.testing.harness import Tenant

SIGNED = sorted((e for e in ENDPOINTS.values() if not e.unsigned), key=lambda e: e.path)
GUARDED = [e for e in SIGNED if e.permission is not None]


def tenant_without(harness: Harness, missing: str) -> Tenant:
    """A tenant whose administrator holds every permission but `missing`."""
    tenant = harness.tenant(role=None)
    with harness.session_ctx(tenant) as ctx:
        identity.create_role(ctx, "All but one", sorted(permissions.ALL - {missing}))
        identity.add_role_member(ctx, "All but one", tenant.email)
    return tenant


@pytest.mark.parametrize("permission", sorted({e.permission for e in GUARDED if e.permission}))
def test_each_permission_guards_its_endpoints(harness: Harness, permission: str) -> None:
    tenant = tenant_without(harness, permission)
    for endpoint in GUARDED:
        response = harness.call(tenant.keys, endpoint.path, {"data": []})
        if endpoint.permission == permission:
            assert response.status_code == 403, endpoint.path
            [entry] = response.json()["fail"]
            assert entry["errors"][0]["code"] == "err_xdk_forbidden", endpoint.path
            assert permission in entry["errors"][0]["message"]
        else:
            assert response.status_code != 403, endpoint.path


def garbage_items(endpoint: Any) -> list[list[Any]]:
    """Items of the wrong shape: not objects, every field of the wrong type, overlong text."""
    fields = list(endpoint.request.model_fields)
    wrong: list[list[Any]] = [[42], [None], [[1, 2]], ["text"], [{"": ""}]]
    for value in ({"nested": {"deep": [1]}}, [None, {}], -1, 1e308, "x" * 5000, "",
                  "2026-13-45T99:99:99+9999", True):
        wrong.append([{name: value for name in fields}])
    return wrong


@pytest.fixture(scope="module")
def admin(harness: Harness) -> Tenant:
    # Every endpoint gets a dozen calls here: more than a default quota holds.
    return harness.tenant(rate_limit=1_000_000)


@pytest.mark.parametrize("endpoint", SIGNED, ids=lambda e: e.path)
def test_malformed_items_get_the_envelope(harness: Harness, admin: Tenant,
                                          endpoint: Any) -> None:
    for items in garbage_items(endpoint):
        # A logout may end the calling binding (an empty item means "this one").
        caller = harness.tenant() if endpoint.path == "/api/login/logout" else admin
        response = harness.call(caller.keys, endpoint.path, {"data": items})
        if items == [{"": ""}] and endpoint.download and \
                "attachment" in response.headers.get("content-disposition", ""):
            continue  # every field of the item is optional: none at all asks for the file
        assert response.status_code in (200, 400, 404, 409), (endpoint.path, items,
                                                             response.text)
        body = response.json()
        assert set(body) == {"meta", "data", "fail"}, (endpoint.path, items)
        assert isinstance(body["data"], list) and isinstance(body["fail"], list)
        for entry in body["fail"]:
            for error in entry["errors"]:
                assert error["code"] != "err_internal", (endpoint.path, items, error)


PAGED = [e for e in SIGNED if e.paged]


def valid_items(harness: Harness, tenant: Tenant, path: str) -> list[Any]:
    """An item the list endpoint accepts, so only the pagination can be wrong."""
    if path == "/api/audit/get-audit-events":
        now = datetime.now(UTC)
        return [{"startDateTime": (now - timedelta(days=1)).isoformat(),
                 "endDateTime": now.isoformat()}]
    if path == "/api/directory/get-group-members":
        response = harness.call(tenant.keys, "/api/directory/create-group",
                                {"data": [{"description": f"Paged {uuid.uuid4().hex[:8]}"}]})
        return [{"id": response.json()["data"][0]["id"]}]
    if path == "/api/message-finder/search":
        return [{}]
    return []


@pytest.mark.parametrize("endpoint", PAGED, ids=lambda e: e.path)
def test_bad_pagination_is_a_fail_on_its_field(harness: Harness, admin: Tenant,
                                               endpoint: Any) -> None:
    items = valid_items(harness, admin, endpoint.path)
    assert harness.call(admin.keys, endpoint.path, {"data": items}).json()["fail"] == []
    for pagination, field in (({"pageSize": "many"}, "pageSize"), ({"pageSize": -1}, "pageSize"),
                              ({"pageToken": 12345}, "pageToken"),
                              ({"pageToken": "bm90IGEgdG9rZW4"}, "pageToken"),
                              ({"page_token": "x" * 3000}, "pageToken")):
        response = harness.call(admin.keys, endpoint.path,
                                {"data": items, "meta": {"pagination": pagination}})
        body = response.json()
        assert response.status_code == 200 and body["data"] == [], (endpoint.path, pagination)
        [entry] = body["fail"]
        assert entry["errors"][0]["field"] == field, (endpoint.path, pagination, entry)
