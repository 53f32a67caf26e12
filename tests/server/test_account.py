"""Account namespace over HTTP: get-account (served from a one-second snapshot on the hot
path) and get-support-info."""

from __future__ import annotations

import time

from mimicast.services import identity
from mimicast.testing import Harness, Keys
from mimicast.wire import signing

GET_ACCOUNT = "/api/account/get-account"


def _account(harness: Harness, keys: object) -> dict[str, object]:
    response = harness.call(keys, GET_ACCOUNT)  # type: ignore[arg-type]
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["fail"] == []
    assert len(body["data"]) == 1
    return body["data"][0]  # type: ignore[no-any-return]


def test_get_account_describes_the_callers_account(harness: Harness) -> None:
    tenant = harness.tenant()
    account = _account(harness, tenant.keys)
    assert account["accountCode"] == tenant.code
    assert account["adminEmail"] == tenant.email
    assert account["domain"] == tenant.domain
    assert account["userCount"] == 1
    assert account["region"] == "US"
    # The snapshot answers the next call with the same content.
    assert _account(harness, tenant.keys) == account


def test_get_account_accepts_the_item_shapes_clients_send(harness: Harness) -> None:
    tenant = harness.tenant()
    for body in ({"data": []}, {"data": [{}]}, {}, {"data": None}):
        response = harness.call(tenant.keys, GET_ACCOUNT, body)
        assert response.status_code == 200, (body, response.text)
        assert response.json()["data"][0]["accountCode"] == tenant.code


def test_get_account_snapshot_follows_changes_within_seconds(harness: Harness) -> None:
    tenant = harness.tenant()
    assert _account(harness, tenant.keys)["userCount"] == 1
    with harness.session_ctx(tenant) as ctx:
        identity.create_user(ctx, f"second@{tenant.domain}", password="pw-second-1")
    deadline = time.monotonic() + 10
    while _account(harness, tenant.keys)["userCount"] != 2:
        assert time.monotonic() < deadline, "the snapshot never caught up with the store"
        time.sleep(0.2)


def test_snapshots_never_cross_accounts(harness: Harness) -> None:
    first, second = harness.tenant(), harness.tenant()
    for _ in range(3):
        assert _account(harness, first.keys)["accountCode"] == first.code
        assert _account(harness, second.keys)["accountCode"] == second.code


def test_get_account_needs_the_dashboard_permission_even_when_cached(harness: Harness) -> None:
    admin = harness.tenant()
    _account(harness, admin.keys)  # a snapshot of this account now exists
    email = f"norole@{admin.domain}"
    with harness.session_ctx(admin) as ctx:
        identity.create_user(ctx, email, password="pw-norole-1")
    login = harness.http.post("/api/login/login", json={"data": [{"userName": email}]}, headers={
        "Authorization": signing.basic(signing.REALM_CLOUD, email, "pw-norole-1"),
        "x-mc-app-id": admin.keys.app_id})
    assert login.status_code == 200, login.text
    issued = login.json()["data"][0]
    keys = Keys(admin.keys.app_id, admin.keys.app_key, issued["accessKey"], issued["secretKey"])
    response = harness.call(keys, GET_ACCOUNT)
    assert response.status_code == 403
    assert response.json()["fail"][0]["errors"][0]["code"] == "err_xdk_forbidden"
    assert response.json()["data"] == []


def test_get_support_info(harness: Harness) -> None:
    tenant = harness.tenant()
    response = harness.call(tenant.keys, "/api/account/get-support-info")
    assert response.status_code == 200
    info = response.json()["data"][0]
    assert tenant.code in info["mailtoLink"]
    assert info["supportJurisdiction"] == "US"
    assert harness.call(harness.tenant(role=None).keys,
                        "/api/account/get-support-info").status_code == 403
