"""The login family over real HTTP: discover-authentication, login (new binding and refresh),
the binding limit, every way a login fails, locked users, and logout
(client-compatibility.md items 8, 9 and 15)."""

from __future__ import annotations

import base64
import secrets
from typing import Any

import httpx
import orjson
from sqlalchemy import select

from mimicast.services import applications, identity, profiles
from mimicast.services.crypto import digest
from mimicast.services.permissions import FULL_ADMINISTRATOR
from mimicast.store.schema import AuditEvent, Binding
from mimicast.testing import Harness
from mimicast.testing.harness import Keys, Tenant, eventually
from mimicast.wire import signing

DISCOVER = "/api/login/discover-authentication"
LOGIN = "/api/login/login"
LOGOUT = "/api/login/logout"
ACCOUNT = "/api/account/get-account"
NEVER_MS = 3_153_600_000_000


def login(harness: Harness, app_id: str, email: str, password: str, *,
          realm: str = signing.REALM_CLOUD, body: Any = None,
          headers: dict[str, str] | None = None) -> httpx.Response:
    """A login as most clients send it: no date, no request id."""
    all_headers = {"Authorization": signing.basic(realm, email, password),
                   "x-mc-app-id": app_id, "Content-Type": "application/json"}
    all_headers.update(headers or {})
    payload = body if body is not None else {"data": [{"userName": email}]}
    return harness.http.post(LOGIN, content=orjson.dumps(payload), headers=all_headers)


def keys_of(tenant: Tenant, response: httpx.Response) -> Keys:
    assert response.status_code == 200, response.text
    data = response.json()["data"][0]
    return Keys(tenant.keys.app_id, tenant.keys.app_key, data["accessKey"], data["secretKey"])


def single_error(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert body["meta"]["status"] == response.status_code
    assert body["data"] == []
    assert len(body["fail"]) == 1 and len(body["fail"][0]["errors"]) == 1
    return dict(body["fail"][0]["errors"][0])


def binding_row(harness: Harness, access_key: str) -> Binding:
    with harness.deps.store.session() as session:
        row = session.scalar(select(Binding).where(Binding.access_key_hash == digest(access_key)))
        assert row is not None
        return row


def add_user(harness: Harness, tenant: Tenant, local: str) -> tuple[str, str]:
    email, password = f"{local}@{tenant.domain}", secrets.token_urlsafe(10)
    with harness.session_ctx(tenant) as ctx:
        identity.create_user(ctx, email, password=password)
        identity.add_role_member(ctx, FULL_ADMINISTRATOR, email)
    return email, password


# discover-authentication ---------------------------------------------------------------------

def test_discover_returns_full_region_url_and_methods(harness: Harness) -> None:
    tenant = harness.tenant()
    response = harness.http.post(DISCOVER, content=orjson.dumps(
        {"data": [{"emailAddress": tenant.email.upper()}]}))
    assert response.status_code == 200
    body = response.json()
    assert body["fail"] == []
    item = body["data"][0]
    assert item["region"]["api"] == harness.url
    assert item["region"]["api"].startswith("http://")
    # What clients do with it: split('//')[1] is the host (and port).
    assert item["region"]["api"].split("//")[1] == harness.url.split("//")[1]
    assert item["emailAddress"] == tenant.email
    assert isinstance(item["emailToken"], str) and item["emailToken"]
    assert item["authenticate"] == [signing.REALM_CLOUD]


def test_discover_lists_basic_ad_once_a_domain_password_exists(harness: Harness) -> None:
    tenant = harness.tenant()
    with harness.session_ctx(tenant) as ctx:
        identity.set_password(ctx, tenant.email, "domain-pw", domain=True)
    response = harness.http.post(DISCOVER, json={"data": [{"emailAddress": tenant.email}]})
    assert response.json()["data"][0]["authenticate"] == [signing.REALM_CLOUD,
                                                           signing.REALM_DOMAIN]


def test_discover_unknown_address_is_a_fail_entry_without_region(harness: Harness) -> None:
    response = harness.http.post(DISCOVER, json={"data": [{"emailAddress": "nobody@nowhere.test"}]})
    assert response.status_code == 200
    body = response.json()
    assert body["data"] == []
    assert "region" not in response.text
    assert body["fail"][0]["key"] == {"emailAddress": "nobody@nowhere.test"}
    assert body["fail"][0]["errors"][0]["code"] == "err_discover_unknown_address"


def test_discover_accepts_a_python_repr_body_and_no_headers(harness: Harness) -> None:
    tenant = harness.tenant()
    payload = {"data": [{"emailAddress": tenant.email}]}
    # `requests.post(url, data=str(payload))`: no Content-Type, no app id, no signature.
    response = harness.http.post(DISCOVER, content=str(payload).encode())
    assert response.status_code == 200, response.text
    assert response.json()["data"][0]["region"]["api"] == harness.url
    assert response.headers["content-type"] == "application/json"


# login ---------------------------------------------------------------------------------------

def test_login_basic_cloud_returns_the_documented_fields(harness: Harness) -> None:
    tenant = harness.tenant()
    response = login(harness, tenant.keys.app_id, tenant.email, tenant.password)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["fail"] == []
    item = body["data"][0]
    assert set(item) == {"accessKey", "secretKey", "duration", "bindingType",
                         "extendOnValidate", "username"}
    assert len(item["secretKey"]) == 88 and item["secretKey"].endswith("==")
    assert len(base64.b64decode(item["secretKey"], validate=True)) == 64
    assert len(item["accessKey"]) >= 100
    assert item["duration"] == 3 * 24 * 3600 * 1000  # the default profile: 3 days, in ms
    assert item["bindingType"] == "one_step"
    assert item["extendOnValidate"] is False
    assert item["username"] == tenant.email
    # The new keys sign calls.
    call = harness.call(keys_of(tenant, response), ACCOUNT)
    assert call.status_code == 200
    assert call.json()["data"][0]["accountCode"] == tenant.code


def test_login_basic_ad_uses_the_domain_password(harness: Harness) -> None:
    tenant = harness.tenant()
    with harness.session_ctx(tenant) as ctx:
        identity.set_password(ctx, tenant.email, "the-directory-pw", domain=True)
    response = login(harness, tenant.keys.app_id, tenant.email, "the-directory-pw",
                     realm=signing.REALM_DOMAIN)
    assert harness.call(keys_of(tenant, response), ACCOUNT).status_code == 200
    # Each realm checks its own password.
    wrong = login(harness, tenant.keys.app_id, tenant.email, tenant.password,
                  realm=signing.REALM_DOMAIN)
    assert wrong.status_code == 401
    assert single_error(wrong)["code"] == "err_xdk_authentication_failed"


def test_login_accepts_lowercase_username_and_api_version_header(harness: Harness) -> None:
    tenant = harness.tenant()
    response = login(harness, tenant.keys.app_id, tenant.email, tenant.password,
                     body={"data": [{"username": tenant.email}]},
                     headers={"x-mc-api-version": "2014.6.1"})
    assert response.status_code == 200, response.text
    assert response.json()["data"][0]["username"] == tenant.email


def test_login_with_date_and_request_id_and_without_body(harness: Harness) -> None:
    tenant = harness.tenant()
    headers = {"Authorization": signing.basic(signing.REALM_CLOUD, tenant.email, tenant.password),
               "x-mc-app-id": tenant.keys.app_id, "x-mc-date": signing.request_date(),
               "x-mc-req-id": signing.request_id()}
    response = harness.http.post(LOGIN, headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["data"][0]["username"] == tenant.email


def test_login_duration_of_a_never_expiring_profile(harness: Harness) -> None:
    tenant = harness.tenant()
    with harness.session_ctx(tenant) as ctx:
        profiles.create_group(ctx, "Forever")
        profiles.add_group_member(ctx, "Forever", tenant.email)
        profile = profiles.create_auth_profile(ctx, "never", None)
        profiles.create_app_setting(ctx, "forever", "Forever", str(profile.id))
    response = login(harness, tenant.keys.app_id, tenant.email, tenant.password)
    assert response.json()["data"][0]["duration"] == NEVER_MS
    assert binding_row(harness, response.json()["data"][0]["accessKey"]).expires_at is None


def test_login_with_access_key_refreshes_that_binding(harness: Harness) -> None:
    tenant = harness.tenant(ttl_seconds=600)
    before = binding_row(harness, tenant.keys.access_key)
    assert before.expires_at is not None
    response = login(harness, tenant.keys.app_id, tenant.email, tenant.password,
                     body={"data": [{"userName": tenant.email,
                                     "accessKey": tenant.keys.access_key}]})
    assert response.status_code == 200, response.text
    item = response.json()["data"][0]
    assert item["accessKey"] == tenant.keys.access_key
    assert item["secretKey"] == tenant.keys.secret_key
    assert item["duration"] == 600_000
    after = binding_row(harness, tenant.keys.access_key)
    assert after.id == before.id
    assert after.expires_at is not None and after.expires_at > before.expires_at
    # No second binding was minted, and the old keys keep working.
    with harness.session_ctx(tenant) as ctx:
        assert len(applications.list_bindings(ctx, tenant.email)) == 1
    assert harness.call(tenant.keys, ACCOUNT).status_code == 200


def test_refresh_with_someone_elses_access_key_fails(harness: Harness) -> None:
    tenant = harness.tenant()
    email, password = add_user(harness, tenant, "second")
    response = login(harness, tenant.keys.app_id, email, password,
                     body={"data": [{"userName": email, "accessKey": tenant.keys.access_key}]})
    assert response.status_code == 401
    assert single_error(response)["code"] == "err_xdk_binding_not_found"
    unknown = login(harness, tenant.keys.app_id, tenant.email, tenant.password,
                    body={"data": [{"userName": tenant.email, "accessKey": "no-such-key"}]})
    assert unknown.status_code == 401


def test_binding_limit_refuses_a_new_binding_but_not_a_refresh(harness: Harness) -> None:
    tenant = harness.tenant(max_bindings=2)  # the harness already holds one binding
    second = login(harness, tenant.keys.app_id, tenant.email, tenant.password)
    assert second.status_code == 200
    third = login(harness, tenant.keys.app_id, tenant.email, tenant.password)
    assert third.status_code == 409
    error = single_error(third)
    assert error["code"] == "err_xdk_binding_limit"
    assert "refresh" in error["message"]
    refresh = login(harness, tenant.keys.app_id, tenant.email, tenant.password,
                    body={"data": [{"userName": tenant.email,
                                    "accessKey": tenant.keys.access_key}]})
    assert refresh.status_code == 200
    assert refresh.json()["data"][0]["accessKey"] == tenant.keys.access_key
    # A revoked binding frees its slot.
    with harness.session_ctx(tenant) as ctx:
        applications.revoke_binding(ctx, binding_row(harness, tenant.keys.access_key).id)
    assert login(harness, tenant.keys.app_id, tenant.email, tenant.password).status_code == 200


def _expect_401(response: httpx.Response, code: str) -> None:
    assert response.status_code == 401, response.text
    assert single_error(response)["code"] == code
    assert response.headers["content-type"] == "application/json"


def test_login_failures(harness: Harness) -> None:
    tenant = harness.tenant()
    app = tenant.keys.app_id
    _expect_401(login(harness, app, tenant.email, "wrong-password"),
                "err_xdk_authentication_failed")
    _expect_401(login(harness, app, f"ghost@{tenant.domain}", tenant.password),
                "err_xdk_authentication_failed")
    # userName in the body must be the address the credentials are for.
    _expect_401(login(harness, app, tenant.email, tenant.password,
                      body={"data": [{"userName": f"ghost@{tenant.domain}"}]}),
                "err_xdk_authentication_failed")
    # Basic-AD for a user without a domain password.
    _expect_401(login(harness, app, tenant.email, tenant.password, realm=signing.REALM_DOMAIN),
                "err_xdk_auth_type_not_supported")


def test_login_malformed_authorization(harness: Harness) -> None:
    tenant = harness.tenant()
    encoded = base64.b64encode(f"{tenant.email}:{tenant.password}".encode()).decode()

    def attempt(authorization: str) -> httpx.Response:
        return harness.http.post(LOGIN, json={"data": [{"userName": tenant.email}]},
                                 headers={"Authorization": authorization,
                                          "x-mc-app-id": tenant.keys.app_id})

    # A realm that is not Basic-Cloud / Basic-AD, with perfectly good credentials.
    for realm in ("Basic", "Bearer", "MC", "Basic-Whatever"):
        _expect_401(attempt(f"{realm} {encoded}"), "err_xdk_auth_type_not_supported")
    # The right realm, but the credentials do not decode to `email:password`.
    for garbage in ("!!!!", base64.b64encode(b"\xff\xfe\xfd").decode(),
                    base64.b64encode(b"no-colon-here").decode(), ""):
        _expect_401(attempt(f"Basic-Cloud {garbage}".rstrip()),
                    "err_xdk_authentication_failed")


def test_login_without_authorization_is_400(harness: Harness) -> None:
    tenant = harness.tenant()
    for headers in ({"x-mc-app-id": tenant.keys.app_id},
                    {"x-mc-app-id": tenant.keys.app_id, "Authorization": ""}):
        response = harness.http.post(LOGIN, json={"data": [{"userName": tenant.email}]},
                                     headers=headers)
        assert response.status_code == 400
        error = single_error(response)
        assert error == {"code": "err_xdk_credentials_missing",
                         "message": "0001 Credentials are missing from the request.",
                         "retryable": False}


def test_login_with_unknown_app_id_is_200_err_developer_key(harness: Harness) -> None:
    tenant = harness.tenant()
    response = login(harness, "not-an-app", tenant.email, tenant.password)
    assert response.status_code == 200
    assert single_error(response) == {"code": "err_developer_key",
                                      "message": "App ID is invalid: not-an-app",
                                      "retryable": False}


def test_login_with_a_revoked_application_is_refused(harness: Harness) -> None:
    tenant = harness.tenant()
    with harness.session_ctx(tenant) as ctx:
        applications.revoke_application(ctx, tenant.keys.app_id)
    response = login(harness, tenant.keys.app_id, tenant.email, tenant.password)
    assert single_error(response)["code"] == "err_developer_key"


def test_user_of_another_account_cannot_use_this_accounts_app(harness: Harness) -> None:
    first, second = harness.tenant(), harness.tenant()
    _expect_401(login(harness, first.keys.app_id, second.email, second.password),
                "err_xdk_authentication_failed")


def test_locked_or_disabled_user_is_refused_and_loses_existing_bindings(
        harness: Harness) -> None:
    states: list[dict[str, bool]] = [{"locked": True}, {"disabled": True}]
    for state in states:
        tenant = harness.tenant()

        def status(keys: Keys = tenant.keys) -> int:
            return harness.call(keys, ACCOUNT).status_code

        assert harness.call(tenant.keys, ACCOUNT).status_code == 200
        with harness.session_ctx(tenant) as ctx:
            identity.set_user_state(ctx, tenant.email, **state)
        _expect_401(login(harness, tenant.keys.app_id, tenant.email, tenant.password),
                    "err_xdk_user_locked")
        # The signature cache holds a binding for at most 1 s.
        assert eventually(lambda: status() == 401)
        assert single_error(harness.call(tenant.keys, ACCOUNT))["code"] == (
            "err_xdk_invalid_signature")
        # Unlocking gives the same keys back.
        with harness.session_ctx(tenant) as ctx:
            identity.set_user_state(ctx, tenant.email, locked=False, disabled=False)
        assert eventually(lambda: status() == 200)


# logout --------------------------------------------------------------------------------------

def test_logout_with_json_access_key(harness: Harness) -> None:
    tenant = harness.tenant()
    other = keys_of(tenant, login(harness, tenant.keys.app_id, tenant.email, tenant.password))
    assert harness.call(other, ACCOUNT).status_code == 200  # now in the signature cache
    response = harness.call(tenant.keys, LOGOUT, {"data": [{"accessKey": other.access_key}]})
    assert response.status_code == 200, response.text
    assert response.json()["fail"] == []
    assert harness.call(other, ACCOUNT).status_code == 401
    # Only the named binding ended.
    assert harness.call(tenant.keys, ACCOUNT).status_code == 200
    assert binding_row(harness, other.access_key).revoked_at is not None
    # Logging it out twice names a binding that no longer exists.
    again = harness.call(tenant.keys, LOGOUT, {"data": [{"accessKey": other.access_key}]})
    assert again.status_code == 200
    assert again.json()["fail"][0]["errors"][0]["code"] == "err_xdk_binding_not_found"


def test_logout_form_encoded(harness: Harness) -> None:
    tenant = harness.tenant()
    response = harness.call(tenant.keys, LOGOUT,
                            content=f"data={tenant.keys.access_key}".encode(),
                            headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.json()["fail"] == []
    assert harness.call(tenant.keys, ACCOUNT).status_code == 401


def test_logout_with_empty_body_ends_the_calling_binding(harness: Harness) -> None:
    tenant = harness.tenant()
    for content in (b"", b"{}", b'{"data": []}', b"None"):
        caller = keys_of(tenant, login(harness, tenant.keys.app_id, tenant.email,
                                       tenant.password))
        assert harness.call(caller, ACCOUNT).status_code == 200  # now in the signature cache
        response = harness.call(caller, LOGOUT, content=content)
        assert response.status_code == 200, response.text
        assert response.json()["fail"] == []
        call = harness.call(caller, ACCOUNT)
        assert call.status_code == 401, content
        assert single_error(call)["code"] == "err_xdk_invalid_signature"
        # The tenant's other binding is untouched.
        assert harness.call(tenant.keys, ACCOUNT).status_code == 200


def test_logout_cannot_end_another_users_binding(harness: Harness) -> None:
    tenant = harness.tenant()
    email, password = add_user(harness, tenant, "peer")
    peer = keys_of(tenant, login(harness, tenant.keys.app_id, email, password))
    response = harness.call(tenant.keys, LOGOUT, {"data": [{"accessKey": peer.access_key}]})
    assert response.json()["fail"][0]["errors"][0]["code"] == "err_xdk_binding_not_found"
    assert harness.call(peer, ACCOUNT).status_code == 200


def test_logout_is_audited(harness: Harness) -> None:
    tenant = harness.tenant()
    assert harness.call(tenant.keys, LOGOUT).status_code == 200
    with harness.deps.store.session() as session:
        events = list(session.scalars(select(AuditEvent.event_type).where(
            AuditEvent.account_id == tenant.account_id)))
    assert "Logout" in events and "Binding created" in events

