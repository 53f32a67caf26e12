"""Anti-spoofing SPF bypass policies over real HTTP: create with defaults, get, update
semantics (partial, round trip of get-policy's answer), delete, bad input, permissions,
tenant isolation and the audit trail."""

from __future__ import annotations

from typing import Any

import pytest
from api import Namespace, audit_events, only_error

from mimicast.services import audit
from mimicast.testing import Harness
from mimicast.testing.harness import Tenant

BASE = "/api/policy/antispoofing-bypass/"
POLICIES = Namespace(BASE)
post, ok, forbidden = POLICIES.post, POLICIES.ok, POLICIES.forbidden


def create(harness: Harness, tenant: Tenant, option: str = "enable_bypass",
           **policy: Any) -> dict[str, Any]:
    [created] = ok(harness, tenant, "create-policy", [{"option": option, "policy": policy}])
    return dict(created)


def policy_events(harness: Harness, tenant: Tenant) -> list[tuple[str, str]]:
    return [(e.event_type, e.info) for e in audit_events(harness, tenant, category=audit.POLICY)]


# Happy paths ----------------------------------------------------------------------------------

def test_create_answers_the_full_shape(harness: Harness, tenant: Tenant) -> None:
    created = create(harness, tenant, description="Partner relay",
                     **{"from": {"type": "email_domain", "emailDomain": "partner.example"}},
                     conditions={"sourceIPs": ["203.0.113.0/24"],
                                 "spfDomains": ["partner.example"]})
    assert list(created) == ["option", "id", "policy"]
    assert created["option"] == "enable_bypass" and created["id"].startswith("eN")
    policy = created["policy"]
    assert policy.pop("createTime") == policy.pop("lastUpdated")
    assert policy == {
        "description": "Partner relay", "fromPart": "envelope_from",
        "from": {"type": "email_domain", "emailDomain": "partner.example"},
        "to": {"type": "everyone"}, "fromType": "email_domain", "fromValue": "partner.example",
        "toType": "everyone", "fromEternal": True, "toEternal": True,
        "fromDate": "1900-01-01T00:00:00+0000", "toDate": "2100-01-01T23:59:59+0000",
        "override": False, "bidirectional": False,
        "conditions": {"sourceIPs": ["203.0.113.0/24"], "spfDomains": ["partner.example"]},
        "enabled": True, "enforced": False}


def test_get_policy_all_or_one(harness: Harness) -> None:
    tenant = harness.tenant()
    assert ok(harness, tenant, "get-policy", []) == []
    first = create(harness, tenant, description="first")
    second = create(harness, tenant, "disable_bypass", description="second")
    assert ok(harness, tenant, "get-policy", []) == [first, second]
    assert ok(harness, tenant, "get-policy", [{"id": first["id"]}]) == [first]
    body = post(harness, tenant, "get-policy", [{"id": "garbage"}])
    error = only_error(body)
    assert (error["code"], error["field"]) == ("err_policy_not_found", "id")
    assert body["fail"][0]["key"] == {"id": "garbage"}


def test_update_changes_only_what_is_given(harness: Harness) -> None:
    tenant = harness.tenant()
    created = create(harness, tenant, description="relay", bidirectional=True,
                     to={"type": "internal_addresses"},
                     conditions={"sourceIPs": ["192.0.2.0/28"], "hostnames": ["relay.example"]})
    # The option alone.
    [flipped] = ok(harness, tenant, "update-policy", [{"id": created["id"],
                                                      "option": "Disable_Bypass"}])
    assert flipped["option"] == "disable_bypass"
    assert {k: v for k, v in flipped["policy"].items() if k != "lastUpdated"} == {
        k: v for k, v in created["policy"].items() if k != "lastUpdated"}
    # Some policy fields: the rest stays.
    [updated] = ok(harness, tenant, "update-policy", [{"id": created["id"], "policy": {
        "from": {"type": "individual_email_address", "emailAddress": "ops@relay.example"},
        "fromDate": "2025-05-01T12:00:00Z", "conditions": {"hostnames": []}}}])
    policy = updated["policy"]
    assert updated["option"] == "disable_bypass"
    assert policy["from"] == {"type": "individual_email_address",
                              "emailAddress": "ops@relay.example"}
    assert policy["fromValue"] == "ops@relay.example"
    assert (policy["fromEternal"], policy["fromDate"]) == (False, "2025-05-01T12:00:00+0000")
    assert policy["conditions"] == {"sourceIPs": ["192.0.2.0/28"]}
    assert (policy["description"], policy["bidirectional"], policy["to"]) == (
        "relay", True, {"type": "internal_addresses"})
    assert policy["createTime"] == created["policy"]["createTime"]
    # get-policy's answer sent back unchanged changes nothing (eternal dates stay eternal).
    [echoed] = ok(harness, tenant, "update-policy", [{"id": created["id"], **updated}])
    assert {k: v for k, v in echoed["policy"].items() if k != "lastUpdated"} == {
        k: v for k, v in policy.items() if k != "lastUpdated"}
    assert echoed["policy"]["toEternal"] is True
    assert ok(harness, tenant, "get-policy", [{"id": created["id"]}]) == [echoed]


def test_delete_policy_and_the_audit_trail(harness: Harness) -> None:
    tenant = harness.tenant()
    created = create(harness, tenant, description="temp")
    ok(harness, tenant, "update-policy", [{"id": created["id"], "option": "disable_bypass"}])
    assert ok(harness, tenant, "delete-policy", [{"id": created["id"]}]) == [
        {"id": created["id"]}]
    assert ok(harness, tenant, "get-policy", []) == []
    body = post(harness, tenant, "delete-policy", [{"id": created["id"]}])
    assert only_error(body)["code"] == "err_policy_not_found"
    assert body["fail"][0]["key"] == {"id": created["id"]}
    assert policy_events(harness, tenant) == [
        ("Anti-spoofing bypass policy created", "enable_bypass: temp: everyone → everyone"),
        ("Anti-spoofing bypass policy updated", "disable_bypass: temp: everyone → everyone"),
        ("Anti-spoofing bypass policy deleted", "temp: everyone → everyone")]


# Bad input ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("item", "field", "code"), [
    ({"policy": {}}, "option", "err_validation_null"),
    ({"option": "bypass", "policy": {}}, "option", "err_validation_invalid_value"),
    ({"option": "enable_bypass"}, "policy", "err_validation_null"),
    ({"option": "enable_bypass", "policy": {"conditions": {"sourceIPs": ["10.0.0.0/33"]}}},
     "policy.conditions.sourceIPs", "err_validation_invalid_value"),
    ({"option": "enable_bypass", "policy": {"from": {"type": "profile_group"}}},
     "policy.from.groupId", "err_validation_null"),
    ({"option": "enable_bypass", "policy": {"override": "sometimes"}}, "policy.override",
     "err_validation_invalid_value"),
])
def test_bad_create_is_a_fail_entry(harness: Harness, tenant: Tenant, item: dict[str, Any],
                                    field: str, code: str) -> None:
    body = post(harness, tenant, "create-policy", [item])
    error = only_error(body)
    assert (error["code"], error["field"]) == (code, field)
    assert body["fail"][0]["key"] == item


@pytest.mark.parametrize(("change", "field", "code"), [
    ({"id": None}, "id", "err_validation_null"),
    ({"id": "eNoNope"}, "id", "err_policy_not_found"),
    ({"option": "none"}, "option", "err_validation_invalid_value"),
    ({"policy": {"fromEternal": False}}, "policy.fromDate", "err_validation_null"),
    ({"policy": {"to": {"type": "email_domain", "emailDomain": "bad domain"}}},
     "policy.to.emailDomain", "err_validation_invalid_domain"),
])
def test_bad_update_leaves_the_policy_as_it_was(harness: Harness, tenant: Tenant,
                                               change: dict[str, Any], field: str,
                                               code: str) -> None:
    created = create(harness, tenant, description="stable")
    item = {"id": created["id"], **change}
    body = post(harness, tenant, "update-policy", [item])
    error = only_error(body)
    assert (error["code"], error["field"]) == (code, field)
    assert body["fail"][0]["key"] == item
    assert ok(harness, tenant, "get-policy", [{"id": created["id"]}]) == [created]


def test_delete_needs_an_id(harness: Harness, tenant: Tenant) -> None:
    body = post(harness, tenant, "delete-policy", [{}])
    error = only_error(body)
    assert (error["code"], error["field"]) == ("err_validation_null", "id")
    assert body["fail"][0]["key"] == {}


# Permissions and tenants ----------------------------------------------------------------------

EDIT = {"create-policy": {"option": "enable_bypass", "policy": {}},
        "update-policy": {"id": "eNoAny", "option": "disable_bypass"},
        "delete-policy": {"id": "eNoAny"}}


@pytest.fixture(scope="module")
def reader(harness: Harness) -> Tenant:
    return harness.tenant(role="Basic Administrator")


@pytest.mark.parametrize("action", sorted(EDIT))
def test_edit_endpoints_need_policies_edit(harness: Harness, reader: Tenant,
                                           action: str) -> None:
    assert "Gateway | Policies | Edit" in forbidden(harness, reader, action, [EDIT[action]])


def test_get_policy_needs_policies_read(harness: Harness, reader: Tenant) -> None:
    assert ok(harness, reader, "get-policy", []) == []
    nobody = harness.tenant(role=None)
    assert "Gateway | Policies | Read" in forbidden(harness, nobody, "get-policy", [])


def test_tenant_isolation(harness: Harness, tenant: Tenant) -> None:
    other = harness.tenant()
    mine = create(harness, tenant, description="mine")
    assert ok(harness, other, "get-policy", []) == []
    for action, item in (("get-policy", {"id": mine["id"]}),
                         ("update-policy", {"id": mine["id"], "option": "disable_bypass"}),
                         ("delete-policy", {"id": mine["id"]})):
        assert only_error(post(harness, other, action, [item]))["code"] == (
            "err_policy_not_found"), action
    assert ok(harness, tenant, "get-policy", [{"id": mine["id"]}]) == [mine]
    # A blocked-sender policy id is not an anti-spoofing one, in the same account.
    blocked = harness.call(tenant.keys, "/api/policy/blockedsenders/create-policy",
                           {"data": [{"option": "block_sender", "policy": {}}]}).json()
    blocked_id = blocked["data"][0]["id"]
    assert only_error(post(harness, tenant, "get-policy", [{"id": blocked_id}]))["code"] == (
        "err_policy_not_found")
