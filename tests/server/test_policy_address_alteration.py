"""Address alteration over real HTTP: sets, definitions (both request shapes), policies with
update semantics, the set-in-use rule, bad input, permissions, tenant isolation, audit."""

from __future__ import annotations

from typing import Any

import pytest
from api import DATE, Namespace, audit_events, only_error
from sqlalchemy import func, select

from mimicast.services import audit
from mimicast.store.schema import Policy
from mimicast.testing import Harness
from mimicast.testing.harness import Tenant

BASE = "/api/policy/address-alteration/"
POLICIES = Namespace(BASE)
post, ok, forbidden = POLICIES.post, POLICIES.ok, POLICIES.forbidden


def new_set(harness: Harness, tenant: Tenant, description: str = "Merger") -> str:
    [created] = ok(harness, tenant, "create-address-alteration-set",
                   [{"description": description}])
    return str(created["id"])


def new_policy(harness: Harness, tenant: Tenant, set_id: str, **policy: Any) -> dict[str, Any]:
    [created] = ok(harness, tenant, "create-policy",
                   [{"addressAlterationSetId": set_id, "policy": policy}])
    return dict(created)


def policy_events(harness: Harness, tenant: Tenant) -> list[str]:
    return [e.event_type for e in audit_events(harness, tenant, category=audit.POLICY)]


# Sets -----------------------------------------------------------------------------------------

def test_sets_create_and_get(harness: Harness) -> None:
    tenant = harness.tenant()
    assert ok(harness, tenant, "get-address-alteration-set", []) == []
    created = ok(harness, tenant, "create-address-alteration-set",
                 [{"description": " Merger "}, {"description": "Support desk"}])
    assert [set(c) for c in created] == [{"id", "description"}] * 2
    assert [c["description"] for c in created] == ["Merger", "Support desk"]
    assert all(c["id"].startswith("eN") for c in created)
    assert ok(harness, tenant, "get-address-alteration-set", []) == created
    assert ok(harness, tenant, "get-address-alteration-set",
              [{"id": created[1]["id"]}]) == [created[1]]
    body = post(harness, tenant, "get-address-alteration-set", [{"id": "eNoNope"}])
    assert only_error(body)["code"] == "err_address_alteration_set_not_found"
    assert body["fail"][0]["key"] == {"id": "eNoNope"}


@pytest.mark.parametrize(("item", "code"), [
    ({}, "err_validation_null"), ({"description": "   "}, "err_validation_blank")])
def test_set_needs_a_description(harness: Harness, tenant: Tenant, item: dict[str, Any],
                                 code: str) -> None:
    body = post(harness, tenant, "create-address-alteration-set", [item])
    error = only_error(body)
    assert (error["code"], error["field"]) == (code, "description")
    assert body["fail"][0]["key"] == item


def test_delete_set_removes_its_definitions_and_is_refused_while_in_use(
        harness: Harness) -> None:
    tenant = harness.tenant()
    set_id = new_set(harness, tenant)
    ok(harness, tenant, "create-definition", [{"addressAlterationSetId": set_id,
                                               "originalAddress": "old.example",
                                               "alteredAddress": "new.example"}])
    policy = new_policy(harness, tenant, set_id)
    body = post(harness, tenant, "delete-address-alteration-set", [{"id": set_id}])
    error = only_error(body)
    assert (error["code"], error["field"]) == ("err_address_alteration_set_in_use", "id")
    assert "1 policy" in error["message"]
    assert len(ok(harness, tenant, "get-definition", [{"folderId": set_id}])) == 1

    assert ok(harness, tenant, "delete-policy", [{"id": policy["id"]}]) == [{"id": policy["id"]}]
    assert ok(harness, tenant, "delete-address-alteration-set", [{"id": set_id}]) == [
        {"id": set_id}]
    assert ok(harness, tenant, "get-address-alteration-set", []) == []
    error = only_error(post(harness, tenant, "get-definition", [{"folderId": set_id}]))
    assert error["code"] == "err_address_alteration_set_not_found"
    with harness.session_ctx(tenant) as ctx:
        assert ctx.session.scalar(select(func.count()).select_from(Policy).where(
            Policy.account_id == tenant.account_id,
            Policy.family.like("address-alteration%"))) == 0
    error = only_error(post(harness, tenant, "delete-address-alteration-set", [{"id": set_id}]))
    assert error["code"] == "err_address_alteration_set_not_found"
    assert policy_events(harness, tenant) == [
        "Address alteration set created", "Address alteration definition created",
        "Address alteration policy created", "Address alteration policy deleted",
        "Address alteration set deleted"]


# Definitions ----------------------------------------------------------------------------------

def test_definitions_in_both_shapes(harness: Harness) -> None:
    tenant = harness.tenant()
    set_id = new_set(harness, tenant)
    [single] = ok(harness, tenant, "create-definition", [
        {"addressAlterationSetId": set_id, "originalAddress": "Info@Old.Example",
         "alteredAddress": "contact@new.example"}])
    assert single["id"].startswith("eN")
    assert single == {"id": single["id"], "addressAlterationSetId": set_id,
                      "originalAddress": "info@old.example",
                      "alteredAddress": "contact@new.example", "routing": "all"}
    # The documented request: folderId, addressAlterations[{originalAddress, newAddress,
    # addressType, routing}].
    documented = ok(harness, tenant, "create-definition", [{"folderId": set_id,
                                                            "addressAlterations": [
        {"originalAddress": "*@acquired.example", "newAddress": "*@parent.example",
         "addressType": "all", "routing": "Inbound"},
        {"originalAddress": "sales@*", "newAddress": "team@*", "routing": "outbound"},
        {"originalAddress": "old.example", "newAddress": "parent.example"}]}])
    assert [(d["originalAddress"], d["alteredAddress"], d["routing"]) for d in documented] == [
        ("*@acquired.example", "*@parent.example", "inbound"),
        ("sales@*", "team@*", "outbound"), ("old.example", "parent.example", "all")]
    listed = ok(harness, tenant, "get-definition", [{"addressAlterationSetId": set_id}])
    assert listed == [single, *documented]
    assert ok(harness, tenant, "get-definition", [{"folderId": set_id}]) == listed
    # Another set's definitions are its own.
    assert ok(harness, tenant, "get-definition", [{"folderId": new_set(harness, tenant)}]) == []


def test_delete_definition(harness: Harness, tenant: Tenant) -> None:
    set_id = new_set(harness, tenant)
    first, second = ok(harness, tenant, "create-definition", [{"folderId": set_id,
                                                               "addressAlterations": [
        {"originalAddress": "a@old.example", "newAddress": "a@new.example"},
        {"originalAddress": "b@old.example", "newAddress": "b@new.example"}]}])
    assert ok(harness, tenant, "delete-definition", [{"id": first["id"]}]) == [
        {"id": first["id"]}]
    assert ok(harness, tenant, "get-definition", [{"folderId": set_id}]) == [second]
    body = post(harness, tenant, "delete-definition", [{"id": first["id"]}])
    error = only_error(body)
    assert (error["code"], error["field"]) == ("err_address_alteration_definition_not_found",
                                               "id")
    assert body["fail"][0]["key"] == {"id": first["id"]}
    # A set id is not a definition id.
    error = only_error(post(harness, tenant, "delete-definition", [{"id": set_id}]))
    assert error["code"] == "err_address_alteration_definition_not_found"


DEFINITION_ERRORS = [
    ({"originalAddress": "a@x.example", "alteredAddress": "b@x.example"},
     "addressAlterationSetId", "err_validation_null"),
    ({"folderId": "eNoNope", "originalAddress": "a@x.example", "alteredAddress": "b@x.example"},
     "addressAlterationSetId", "err_address_alteration_set_not_found"),
    ({"alteredAddress": "b@x.example"}, "originalAddress", "err_validation_null"),
    ({"originalAddress": " ", "alteredAddress": "b@x.example"}, "originalAddress",
     "err_validation_blank"),
    ({"originalAddress": "a@@x", "alteredAddress": "b@x.example"}, "originalAddress",
     "err_validation_invalid_email_address"),
    ({"originalAddress": "*@nodot", "alteredAddress": "*@x.example"}, "originalAddress",
     "err_validation_invalid_domain"),
    ({"originalAddress": "a b@*", "alteredAddress": "c@*"}, "originalAddress",
     "err_validation_invalid_email_address"),
    ({"originalAddress": "a@x.example", "alteredAddress": "y.example"}, "alteredAddress",
     "err_validation_invalid_value"),
    ({"originalAddress": "a@x.example", "newAddress": "A@X.example"}, "alteredAddress",
     "err_validation_invalid_value"),
    ({"originalAddress": "a@x.example", "alteredAddress": "b@x.example", "routing": "sideways"},
     "routing", "err_validation_invalid_value"),
    ({"originalAddress": "taken@x.example", "alteredAddress": "b@x.example"},
     "originalAddress", "err_address_alteration_definition_exists"),
    ({"addressAlterations": [{"originalAddress": "c@x.example", "newAddress": "d@x.example"},
                             {"originalAddress": "c@x.example", "newAddress": "e@x.example"}]},
     "addressAlterations.1.originalAddress", "err_address_alteration_definition_exists"),
    ({"addressAlterations": [{"newAddress": "d@x.example"}]},
     "addressAlterations.0.originalAddress", "err_validation_null"),
    ({"addressAlterations": []}, "addressAlterations", "err_validation_invalid_value"),
]


@pytest.mark.parametrize(("item", "field", "code"), DEFINITION_ERRORS)
def test_bad_definition_is_a_fail_entry_naming_the_field(harness: Harness, tenant: Tenant,
                                                         item: dict[str, Any], field: str,
                                                         code: str) -> None:
    set_id = new_set(harness, tenant)
    ok(harness, tenant, "create-definition", [{"folderId": set_id,
                                               "originalAddress": "taken@x.example",
                                               "alteredAddress": "other@x.example"}])
    if "addressAlterationSetId" != field:
        item = {"addressAlterationSetId": set_id, **item}
    body = post(harness, tenant, "create-definition", [item])
    error = only_error(body)
    assert (error["code"], error["field"]) == (code, field)
    assert body["fail"][0]["key"] == item
    assert len(ok(harness, tenant, "get-definition", [{"folderId": set_id}])) == 1


def test_get_definition_needs_a_known_set(harness: Harness, tenant: Tenant) -> None:
    for data, code in (([], "err_validation_null"),
                       ([{"folderId": "eNoNope"}], "err_address_alteration_set_not_found")):
        body = post(harness, tenant, "get-definition", data)
        error = only_error(body)
        assert (error["code"], error["field"]) == (code, "addressAlterationSetId")


# Policies -------------------------------------------------------------------------------------

def test_create_policy_full_shape_and_both_set_places(harness: Harness) -> None:
    tenant = harness.tenant()
    set_id = new_set(harness, tenant)
    created = new_policy(harness, tenant, set_id, description="Rewrite support",
                         **{"from": {"type": "email_domain", "emailDomain": tenant.domain}},
                         to={"type": "external_addresses"}, conditions={"sourceIPs": ["192.0.2.9"]})
    assert list(created) == ["id", "addressAlterationSetId", "policy"]
    assert created["addressAlterationSetId"] == set_id and created["id"].startswith("eN")
    policy = created["policy"]
    assert DATE.match(policy.pop("createTime")) and DATE.match(policy.pop("lastUpdated"))
    assert policy == {
        "description": "Rewrite support", "fromPart": "envelope_from",
        "from": {"type": "email_domain", "emailDomain": tenant.domain},
        "to": {"type": "external_addresses"}, "fromType": "email_domain",
        "fromValue": tenant.domain, "toType": "external_addresses", "fromEternal": True,
        "toEternal": True, "fromDate": "1900-01-01T00:00:00+0000",
        "toDate": "2100-01-01T23:59:59+0000", "override": False, "bidirectional": False,
        "conditions": {"sourceIPs": ["192.0.2.9"]}, "enabled": True, "enforced": False}
    # The set id may sit inside `policy` too (and `policy` may be the documented array).
    [inside] = ok(harness, tenant, "create-policy", [
        {"policy": [{"addressAlterationSetId": set_id, "fromType": "everyone"}]}])
    assert inside["addressAlterationSetId"] == set_id
    # get-policy: all, or one.
    listed = ok(harness, tenant, "get-policy", [])
    assert [p["id"] for p in listed] == [created["id"], inside["id"]]
    assert ok(harness, tenant, "get-policy", [{"id": inside["id"]}]) == [inside]
    body = post(harness, tenant, "get-policy", [{"id": set_id}])
    assert only_error(body)["code"] == "err_policy_not_found"
    assert body["fail"][0]["key"] == {"id": set_id}


@pytest.mark.parametrize(("item", "field", "code"), [
    ({"policy": {}}, "addressAlterationSetId", "err_validation_null"),
    ({"addressAlterationSetId": "eNoNope", "policy": {}}, "addressAlterationSetId",
     "err_address_alteration_set_not_found"),
    ({"addressAlterationSetId": "SET"}, "policy", "err_validation_null"),
    ({"addressAlterationSetId": "SET", "policy": {"to": {"type": "email_domain"}}},
     "policy.to.emailDomain", "err_validation_null"),
    ({"addressAlterationSetId": "SET", "policy": {"toDate": "31/12/2030"}},
     "policy.toDate", "err_validation_invalid_value"),
])
def test_bad_policy_is_a_fail_entry(harness: Harness, tenant: Tenant, item: dict[str, Any],
                                    field: str, code: str) -> None:
    if item.get("addressAlterationSetId") == "SET":
        item = {**item, "addressAlterationSetId": new_set(harness, tenant)}
    body = post(harness, tenant, "create-policy", [item])
    error = only_error(body)
    assert (error["code"], error["field"]) == (code, field)
    assert body["fail"][0]["key"] == item


def test_update_policy_changes_only_what_is_given(harness: Harness) -> None:
    tenant = harness.tenant()
    first_set, second_set = new_set(harness, tenant, "first"), new_set(harness, tenant, "second")
    created = new_policy(harness, tenant, first_set, description="before", comment="keep me",
                         fromPart="both", to={"type": "individual_email_address",
                                              "emailAddress": "ceo@x.example"},
                         fromDate="2025-01-01T00:00:00+0000", override=True,
                         conditions={"sourceIPs": ["192.0.2.1"], "hostnames": ["mx.example"]})
    [updated] = ok(harness, tenant, "update-policy", [
        {"id": created["id"], "policy": {"description": "after", "toDate": "2026-01-01",
                                         "conditions": {"sourceIPs": []}}}])
    before, after = created["policy"], updated["policy"]
    assert updated["id"] == created["id"] and updated["addressAlterationSetId"] == first_set
    changed = {k for k in before if before[k] != after.get(k)} - {"lastUpdated"}
    assert changed == {"description", "toDate", "toEternal", "conditions"}
    assert after["toDate"] == "2026-01-01T00:00:00+0000" and after["toEternal"] is False
    assert after["conditions"] == {"hostnames": ["mx.example"]}
    assert after["lastUpdated"] >= before["lastUpdated"]
    # A new target replaces the old one; fromEternal true drops the start date; the set moves.
    [moved] = ok(harness, tenant, "update-policy", [
        {"id": created["id"], "addressAlterationSetId": second_set,
         "policy": {"to": {"type": "everyone"}, "fromEternal": True}}])
    assert moved["addressAlterationSetId"] == second_set
    assert moved["policy"]["to"] == {"type": "everyone"} and "toValue" not in moved["policy"]
    assert moved["policy"]["fromEternal"] is True
    assert moved["policy"]["fromDate"] == "1900-01-01T00:00:00+0000"
    assert moved["policy"]["comment"] == "keep me" and moved["policy"]["fromPart"] == "both"
    assert ok(harness, tenant, "get-policy", [{"id": created["id"]}]) == [moved]
    # The old set is free now; the new one is in use.
    assert ok(harness, tenant, "delete-address-alteration-set", [{"id": first_set}])
    error = only_error(post(harness, tenant, "delete-address-alteration-set",
                            [{"id": second_set}]))
    assert error["code"] == "err_address_alteration_set_in_use"


@pytest.mark.parametrize(("change", "field", "code"), [
    ({"id": "eNoNope", "policy": {}}, "id", "err_policy_not_found"),
    ({"addressAlterationSetId": "eNoNope"}, "addressAlterationSetId",
     "err_address_alteration_set_not_found"),
    ({"policy": {"fromPart": "somewhere"}}, "policy.fromPart", "err_validation_invalid_value"),
    ({"policy": {"toDate": "2000-01-01"}}, "policy.toDate", "err_validation_invalid_value"),
])
def test_bad_update_leaves_the_policy_as_it_was(harness: Harness, tenant: Tenant,
                                               change: dict[str, Any], field: str,
                                               code: str) -> None:
    created = new_policy(harness, tenant, new_set(harness, tenant),
                         fromDate="2024-06-01T00:00:00+0000")
    item = {"id": created["id"], **change}
    body = post(harness, tenant, "update-policy", [item])
    error = only_error(body)
    assert (error["code"], error["field"]) == (code, field)
    assert body["fail"][0]["key"] == item
    assert ok(harness, tenant, "get-policy", [{"id": created["id"]}]) == [created]


def test_delete_policy(harness: Harness, tenant: Tenant) -> None:
    created = new_policy(harness, tenant, new_set(harness, tenant))
    assert ok(harness, tenant, "delete-policy", [{"id": created["id"]}]) == [
        {"id": created["id"]}]
    body = post(harness, tenant, "delete-policy", [{"id": created["id"]}])
    error = only_error(body)
    assert (error["code"], error["field"]) == ("err_policy_not_found", "id")
    assert body["fail"][0]["key"] == {"id": created["id"]}


# Permissions and tenants ----------------------------------------------------------------------

EDIT = {
    "create-address-alteration-set": {"description": "x"},
    "delete-address-alteration-set": {"id": "eNoAny"},
    "create-definition": {"folderId": "eNoAny", "originalAddress": "a@x.example",
                          "alteredAddress": "b@x.example"},
    "delete-definition": {"id": "eNoAny"},
    "create-policy": {"addressAlterationSetId": "eNoAny", "policy": {}},
    "update-policy": {"id": "eNoAny", "policy": {}},
    "delete-policy": {"id": "eNoAny"},
}
READ = {"get-address-alteration-set": {}, "get-definition": {"folderId": "eNoAny"},
        "get-policy": {}}


@pytest.fixture(scope="module")
def reader(harness: Harness) -> Tenant:
    return harness.tenant(role="Basic Administrator")


@pytest.fixture(scope="module")
def nobody(harness: Harness) -> Tenant:
    return harness.tenant(role=None)


@pytest.mark.parametrize("action", sorted(EDIT))
def test_edit_endpoints_need_policies_edit(harness: Harness, reader: Tenant,
                                           action: str) -> None:
    assert "Gateway | Policies | Edit" in forbidden(harness, reader, action, [EDIT[action]])


@pytest.mark.parametrize("action", sorted(READ))
def test_read_endpoints_need_policies_read(harness: Harness, reader: Tenant, nobody: Tenant,
                                           action: str) -> None:
    assert "Gateway | Policies | Read" in forbidden(harness, nobody, action, [READ[action]])
    response = harness.call(reader.keys, BASE + action, {"data": [READ[action]]})
    assert response.status_code == 200


def test_tenant_isolation(harness: Harness, tenant: Tenant) -> None:
    other = harness.tenant()
    set_id = new_set(harness, tenant, "Private")
    [definition] = ok(harness, tenant, "create-definition", [
        {"folderId": set_id, "originalAddress": "a@x.example", "alteredAddress": "b@x.example"}])
    policy = new_policy(harness, tenant, set_id, description="private")

    assert ok(harness, other, "get-address-alteration-set", []) == []
    assert ok(harness, other, "get-policy", []) == []
    unknown_set = "err_address_alteration_set_not_found"
    for action, item, code in (
            ("get-address-alteration-set", {"id": set_id}, unknown_set),
            ("delete-address-alteration-set", {"id": set_id}, unknown_set),
            ("get-definition", {"folderId": set_id}, unknown_set),
            ("create-definition", {"folderId": set_id, "originalAddress": "c@x.example",
                                   "alteredAddress": "d@x.example"}, unknown_set),
            ("delete-definition", {"id": definition["id"]},
             "err_address_alteration_definition_not_found"),
            ("create-policy", {"addressAlterationSetId": set_id, "policy": {}}, unknown_set),
            ("get-policy", {"id": policy["id"]}, "err_policy_not_found"),
            ("update-policy", {"id": policy["id"], "policy": {"description": "mine"}},
             "err_policy_not_found"),
            ("delete-policy", {"id": policy["id"]}, "err_policy_not_found")):
        assert only_error(post(harness, other, action, [item]))["code"] == code, action
    # The other tenant cannot point its own policy at this tenant's set either.
    own = new_policy(harness, other, new_set(harness, other))
    error = only_error(post(harness, other, "update-policy", [
        {"id": own["id"], "addressAlterationSetId": set_id}]))
    assert (error["code"], error["field"]) == (unknown_set, "addressAlterationSetId")
    # Everything of this tenant is as it was.
    assert ok(harness, tenant, "get-definition", [{"folderId": set_id}]) == [definition]
    assert ok(harness, tenant, "get-policy", [{"id": policy["id"]}]) == [policy]
