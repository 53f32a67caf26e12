"""create-user, update-user and get-profile over real HTTP: shapes, bad input, permissions,
tenant isolation, the audit trail, and locking or disabling a user stopping its keys at once."""

from __future__ import annotations

import secrets
from typing import Any

import httpx
import orjson
import pytest
from api import DATE, Namespace, address, audit_events, failures
from sqlalchemy import select

from mimicast.services import identity, ids, permissions
from mimicast.services.audit import USERS
from mimicast.store.schema import User
from mimicast.testing import Harness
from mimicast.testing.harness import Keys, Tenant
from mimicast.wire import signing

USERS_API = Namespace("/api/user/")
call, post, ok, forbidden = USERS_API.call, USERS_API.post, USERS_API.ok, USERS_API.forbidden


def add_users(harness: Harness, tenant: Tenant, *emails: str) -> None:
    with harness.session_ctx(tenant) as ctx:
        for email in emails:
            identity.create_user(ctx, email)


def user_row(harness: Harness, email: str) -> User | None:
    with harness.deps.store.session() as session:
        return session.scalar(select(User).where(User.email == email))


def events(harness: Harness, tenant: Tenant, event_type: str) -> list[str]:
    return [e.info for e in audit_events(harness, tenant, category=USERS, event_type=event_type)]


def login(harness: Harness, tenant: Tenant, email: str, password: str) -> httpx.Response:
    headers = {"Authorization": signing.basic(signing.REALM_CLOUD, email, password),
               "x-mc-app-id": tenant.keys.app_id, "Content-Type": "application/json"}
    return harness.http.post("/api/login/login", headers=headers,
                             content=orjson.dumps({"data": [{"userName": email}]}))


def error_code(response: httpx.Response) -> str:
    return str(response.json()["fail"][0]["errors"][0]["code"])


# create-user --------------------------------------------------------------------------------

def test_create_user_answers_address_and_secure_id(harness: Harness, tenant: Tenant) -> None:
    email = address(tenant)
    [created] = ok(harness, tenant, "create-user", [{
        "emailAddress": f"  {email.upper()} ", "password": " pass word ", "name": "Ann Example",
        "forcePasswordChange": "true", "accountCode": tenant.code}])
    assert set(created) == {"emailAddress", "id"}
    assert created["emailAddress"] == email
    assert created["id"].startswith("eN")
    row = user_row(harness, email)
    assert row is not None and ids.row_id("user", created["id"]) == row.id
    assert ids.row_id("group", created["id"]) is None  # ids are per kind
    assert row.account_id == tenant.account_id and row.domain == tenant.domain
    assert row.name == "Ann Example" and row.force_password_change is True
    assert row.password_hash is not None and row.password_hash.startswith("$argon2")
    assert row.source == "cloud"
    assert events(harness, tenant, "User created")[-1] == email
    # The password is kept verbatim, spaces included: it logs in as given.
    assert login(harness, tenant, email, " pass word ").status_code == 200
    assert login(harness, tenant, email, "pass word").status_code == 401


def test_create_user_without_password_or_name(harness: Harness, tenant: Tenant) -> None:
    email = address(tenant)
    assert ok(harness, tenant, "create-user", [{"emailAddress": email}])[0]["emailAddress"] == email
    row = user_row(harness, email)
    assert row is not None and row.password_hash is None and row.name == email
    assert row.force_password_change is False


def test_create_user_bad_items_fail_one_by_one(harness: Harness, tenant: Tenant,
                                               other: Tenant) -> None:
    good, owner, taken_alias = address(tenant), address(tenant), address(tenant, "alias")
    add_users(harness, tenant, owner)
    ok(harness, tenant, "update-alias", [{"emailAddress": owner, "aliasAddress": taken_alias}])
    items: list[dict[str, Any]] = [
        {"name": "no address"},
        {"emailAddress": "not-an-address"},
        {"emailAddress": "x@elsewhere.example.org"},
        {"emailAddress": address(other)},
        {"emailAddress": tenant.email},
        {"emailAddress": taken_alias},
        {"emailAddress": address(tenant), "accountCode": other.code},
        {"emailAddress": address(tenant), "password": ""},
        {"emailAddress": good},
    ]
    body = post(harness, tenant, "create-user", items)
    assert [entry["emailAddress"] for entry in body["data"]] == [good]
    assert failures(body) == [
        (items[0], "err_validation_null", "emailAddress"),
        (items[1], "err_validation_invalid_email_address", "emailAddress"),
        (items[2], "err_user_domain_not_internal", "emailAddress"),
        (items[3], "err_user_domain_not_internal", "emailAddress"),
        (items[4], "err_user_address_in_use", "emailAddress"),
        (items[5], "err_user_address_in_use", "emailAddress"),
        (items[6], "err_validation_invalid_value", "accountCode"),
        (items[7], "err_validation_blank", "password"),
    ]
    assert user_row(harness, items[3]["emailAddress"]) is None
    assert user_row(harness, items[6]["emailAddress"]) is None


def test_create_user_needs_the_edit_permission(harness: Harness, basic: Tenant) -> None:
    email = address(basic)
    forbidden(harness, basic, "create-user", [{"emailAddress": email}])
    assert user_row(harness, email) is None


# update-user --------------------------------------------------------------------------------

def test_update_user_changes_and_echoes_the_settings(harness: Harness, tenant: Tenant) -> None:
    email = address(tenant)
    add_users(harness, tenant, email)
    [updated] = ok(harness, tenant, "update-user", [{
        "emailAddress": email, "name": "Bo Example", "passwordNeverExpires": "true",
        "forcePasswordChange": True, "allowPop": "1", "allowSmtp": "yes",
        "archiveStartDate": "2020-01-02T03:04:05+02:00", "ignored": "field"}])
    assert updated == {"emailAddress": email, "name": "Bo Example", "forcePasswordChange": True,
                       "passwordNeverExpires": True, "accountLocked": False,
                       "accountDisabled": False, "allowSmtp": True, "allowPop": True,
                       "archiveStartDate": "2020-01-02T01:04:05+0000"}
    assert events(harness, tenant, "User updated")[-1] == (
        f"{email}: name, archiveStartDate, forcePasswordChange=true, "
        "passwordNeverExpires=true, allowPop=true, allowSmtp=true")
    # Only what is given changes; a request that changes nothing writes no event.
    count = len(events(harness, tenant, "User updated"))
    [again] = ok(harness, tenant, "update-user", [{"emailAddress": email, "allowPop": True}])
    assert again == updated
    assert len(events(harness, tenant, "User updated")) == count
    [off] = ok(harness, tenant, "update-user", [{"emailAddress": email, "allowPop": "false"}])
    assert off == {**updated, "allowPop": False}


def test_update_user_sets_the_password(harness: Harness, tenant: Tenant) -> None:
    email = address(tenant)
    add_users(harness, tenant, email)
    assert login(harness, tenant, email, "new-pass-1").status_code == 401
    ok(harness, tenant, "update-user", [{"emailAddress": email, "password": "new-pass-1"}])
    assert login(harness, tenant, email, "new-pass-1").status_code == 200
    assert events(harness, tenant, "User updated")[-1] == f"{email}: password"


def test_update_user_bad_items(harness: Harness, tenant: Tenant, other: Tenant) -> None:
    email = address(tenant)
    add_users(harness, tenant, email)
    items: list[dict[str, Any]] = [
        {"emailAddress": address(tenant)},
        {"emailAddress": other.email, "accountLocked": True},
        {"emailAddress": email, "archiveStartDate": "yesterday"},
        {"emailAddress": email, "accountLocked": "maybe"},
        {"emailAddress": email, "name": " "},
        {"emailAddress": email, "password": ""},
        {"accountLocked": True},
    ]
    body = post(harness, tenant, "update-user", items)
    assert body["data"] == []
    assert failures(body) == [
        (items[0], "err_user_not_found", "emailAddress"),
        (items[1], "err_user_not_found", "emailAddress"),
        (items[2], "err_validation_invalid_value", "archiveStartDate"),
        (items[3], "err_validation_invalid_value", "accountLocked"),
        (items[4], "err_validation_blank", "name"),
        (items[5], "err_validation_blank", "password"),
        (items[6], "err_validation_null", "emailAddress"),
    ]
    # Another tenant's user is untouched: its keys still work.
    assert harness.call(other.keys, "/api/user/get-profile",
                        {"data": [{"emailAddress": other.email}]}).status_code == 200
    row = user_row(harness, email)
    assert row is not None and not row.locked and row.archive_start is None


def test_update_user_needs_the_edit_permission(harness: Harness, basic: Tenant) -> None:
    forbidden(harness, basic, "update-user", [{"emailAddress": basic.email,
                                               "accountLocked": False}])


@pytest.mark.parametrize("flag", ["accountLocked", "accountDisabled"])
def test_locking_or_disabling_stops_login_and_keys_at_once(harness: Harness, tenant: Tenant,
                                                           flag: str) -> None:
    email, password = address(tenant, "second"), secrets.token_urlsafe(10)
    ok(harness, tenant, "create-user", [{"emailAddress": email, "password": password}])
    with harness.session_ctx(tenant) as ctx:
        identity.add_role_member(ctx, permissions.BASIC_ADMINISTRATOR, email)
    response = login(harness, tenant, email, password)
    assert response.status_code == 200, response.text
    data = response.json()["data"][0]
    keys = Keys(tenant.keys.app_id, tenant.keys.app_key, data["accessKey"], data["secretKey"])

    def own_profile() -> httpx.Response:
        return call(harness, keys, "get-profile", [{"emailAddress": email}])

    assert own_profile().status_code == 200  # the binding is now in the server's cache

    [locked] = ok(harness, tenant, "update-user", [{"emailAddress": email, flag: "true"}])
    assert locked[flag] is True
    # No waiting: the very next call with the user's keys is refused.
    refused = own_profile()
    assert refused.status_code == 401
    assert error_code(refused) == "err_xdk_invalid_signature"
    refused_login = login(harness, tenant, email, password)
    assert refused_login.status_code == 401
    assert error_code(refused_login) == "err_xdk_user_locked"
    assert events(harness, tenant, "User updated")[-1] == f"{email}: {flag}=true"

    [unlocked] = ok(harness, tenant, "update-user", [{"emailAddress": email, flag: False}])
    assert unlocked[flag] is False
    # And restoring is as immediate: the same keys work again, and so does login.
    assert own_profile().status_code == 200
    assert login(harness, tenant, email, password).status_code == 200
    # The administrator's own keys were never affected.
    assert call(harness, tenant, "get-profile", [{"emailAddress": email}]).status_code == 200


# get-profile --------------------------------------------------------------------------------

def test_get_profile_answers_settings_roles_and_aliases(harness: Harness,
                                                        tenant: Tenant) -> None:
    email = address(tenant)
    alias_b, alias_a = address(tenant, "zz"), address(tenant, "aa")
    [created] = ok(harness, tenant, "create-user", [{"emailAddress": email, "name": "Cy"}])
    ok(harness, tenant, "update-alias", [{"emailAddress": email, "aliasAddress": alias_b},
                                         {"emailAddress": email, "aliasAddress": alias_a}])
    with harness.session_ctx(tenant) as ctx:
        identity.add_role_member(ctx, permissions.BASIC_ADMINISTRATOR, email)
    [profile] = ok(harness, tenant, "get-profile", [{"emailAddress": email.upper()}])
    assert DATE.match(profile.pop("created"))
    assert profile == {"id": created["id"], "emailAddress": email, "name": "Cy",
                       "forcePasswordChange": False, "passwordNeverExpires": False,
                       "accountLocked": False, "accountDisabled": False, "allowSmtp": False,
                       "allowPop": False, "archiveStartDate": "", "domain": tenant.domain,
                       "source": "cloud", "roles": [permissions.BASIC_ADMINISTRATOR],
                       "aliases": [alias_a, alias_b]}
    [admin] = ok(harness, tenant, "get-profile", [{"emailAddress": tenant.email,
                                                   "showAvatar": False}])
    assert admin["roles"] == [permissions.FULL_ADMINISTRATOR] and admin["aliases"] == []


def test_get_profile_bad_items_and_other_tenants(harness: Harness, tenant: Tenant,
                                                 other: Tenant) -> None:
    items: list[Any] = [{"emailAddress": "nope"}, {"emailAddress": address(tenant)},
                        {"emailAddress": other.email}, {}]
    body = post(harness, tenant, "get-profile", items)
    assert body["data"] == []
    assert failures(body) == [
        (items[0], "err_validation_invalid_email_address", "emailAddress"),
        (items[1], "err_user_not_found", "emailAddress"),
        (items[2], "err_user_not_found", "emailAddress"),
        (items[3], "err_validation_null", "emailAddress"),
    ]


def test_get_profile_needs_the_read_permission(harness: Harness, groups_only: Tenant,
                                               basic: Tenant) -> None:
    forbidden(harness, groups_only, "get-profile", [{"emailAddress": groups_only.email}])
    # Basic Administrator reads.
    assert ok(harness, basic, "get-profile", [{"emailAddress": basic.email}])


def test_update_user_accepts_the_psmimecast_lock_body(harness: Harness, tenant: Tenant) -> None:
    """PSMimecast's Lock-MimecastAccount posts Python-style `True` inside a JSON body."""
    email = address(tenant)
    add_users(harness, tenant, email)
    body = '{\n "data": [\n  {\n   "accountLocked": True,\n   "emailAddress": "%s"\n  }\n ]\n}'
    response = harness.call(tenant.keys, "/api/user/update-user",
                            content=(body % email).encode())
    assert response.status_code == 200, response.text
    assert response.json()["data"][0]["accountLocked"] is True
    row = user_row(harness, email)
    assert row is not None and row.locked
