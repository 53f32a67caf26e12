"""Blocked-sender policies over real HTTP: both documented request shapes and their defaults,
every target type, bad input, permissions, tenant isolation and the audit trail."""

from __future__ import annotations

from typing import Any

import pytest
from api import DATE, Namespace, audit_events, only_error

from mimicast.services import audit, ids, profiles
from mimicast.testing import Harness
from mimicast.testing.harness import Tenant

BASE = "/api/policy/blockedsenders/"
POLICIES = Namespace(BASE)
post, ok, forbidden = POLICIES.post, POLICIES.ok, POLICIES.forbidden
DEFAULTS = {"fromPart": "envelope_from", "fromEternal": True, "toEternal": True,
            "fromDate": "1900-01-01T00:00:00+0000", "toDate": "2100-01-01T23:59:59+0000",
            "override": False, "bidirectional": False, "conditions": {}, "enabled": True,
            "enforced": False}


def create(harness: Harness, tenant: Tenant, option: str = "block_sender",
           **policy: Any) -> dict[str, Any]:
    [created] = ok(harness, tenant, "create-policy", [{"option": option, "policy": policy}])
    return dict(created)


def stamped(policy: dict[str, Any]) -> dict[str, Any]:
    """The policy without its timestamps, which are checked for form."""
    assert DATE.match(policy["createTime"]) and DATE.match(policy["lastUpdated"])
    return {k: v for k, v in policy.items() if k not in ("createTime", "lastUpdated")}


def policy_events(harness: Harness, tenant: Tenant) -> list[tuple[str, str]]:
    return [(e.event_type, e.info) for e in audit_events(harness, tenant, category=audit.POLICY)]


def group_id(harness: Harness, tenant: Tenant, name: str) -> str:
    with harness.session_ctx(tenant) as ctx:
        return ids.secure_id("group", profiles.create_group(ctx, name).id)


# Both documented shapes -----------------------------------------------------------------------

def test_old_shape_is_answered_in_the_full_shape_with_the_r7_defaults(
        harness: Harness, tenant: Tenant) -> None:
    created = create(harness, tenant, description="komand test", fromType="email_domain",
                     fromValue="Example.COM", toType="everyone", conditions={"sourceIPs": []})
    assert created["option"] == "block_sender"
    assert created["id"].startswith("eN") and list(created) == ["option", "id", "policy"]
    assert stamped(created["policy"]) == {
        "description": "komand test", "from": {"type": "email_domain",
                                               "emailDomain": "example.com"},
        "to": {"type": "everyone"}, "fromType": "email_domain", "fromValue": "example.com",
        "toType": "everyone", **DEFAULTS}
    assert created["policy"]["createTime"] == created["policy"]["lastUpdated"]


def test_new_shape_keeps_every_field(harness: Harness, tenant: Tenant) -> None:
    created = create(harness, tenant, "no_action", description="Quarantine partner",
                     comment="ticket 42", bidirectional="true", fromPart="header_from",
                     **{"from": {"type": "individual_email_address",
                                 "emailAddress": " Bad@Spam.Example ",
                                 "emailDomain": "ignored.example"}},
                     to={"type": "email_domain", "emailDomain": tenant.domain.upper()},
                     fromDate="2024-03-01T10:00:00+02:00", toDate="2030-01-01",
                     fromEternal=True, override=True, enforced=True,
                     conditions={"sourceIPs": ["198.51.100.7/24", "192.0.2.1", "192.0.2.1"],
                                 "hostnames": ["Mail.Spam.Example."],
                                 "spfDomains": "spam.example"})
    assert created["option"] == "no_action"
    assert stamped(created["policy"]) == {
        "description": "Quarantine partner", "comment": "ticket 42", "fromPart": "header_from",
        "from": {"type": "individual_email_address", "emailAddress": "bad@spam.example"},
        "to": {"type": "email_domain", "emailDomain": tenant.domain},
        "fromType": "individual_email_address", "fromValue": "bad@spam.example",
        "toType": "email_domain", "toValue": tenant.domain,
        "fromEternal": False, "toEternal": False,
        "fromDate": "2024-03-01T08:00:00+0000", "toDate": "2030-01-01T00:00:00+0000",
        "override": True, "bidirectional": True,
        "conditions": {"sourceIPs": ["198.51.100.0/24", "192.0.2.1"],
                       "hostnames": ["mail.spam.example"], "spfDomains": ["spam.example"]},
        "enabled": True, "enforced": True}


def test_an_empty_policy_is_everyone_to_everyone(harness: Harness, tenant: Tenant) -> None:
    created = create(harness, tenant, "no_action")
    assert stamped(created["policy"]) == {
        "description": "", "from": {"type": "everyone"}, "to": {"type": "everyone"},
        "fromType": "everyone", "toType": "everyone", **DEFAULTS}


def test_documented_array_policy_and_eternal_sentinels(harness: Harness, tenant: Tenant) -> None:
    """Mimecast's pages print `policy` as a one-element array; the eternal dates read back from
    get-policy stay eternal when sent again."""
    body = post(harness, tenant, "create-policy", [{"option": "BLOCK_SENDER", "policy": [
        {"description": "array", "fromDate": DEFAULTS["fromDate"],
         "toDate": DEFAULTS["toDate"], "enabled": "false"}]}])
    [created] = body["data"]
    policy = created["policy"]
    assert created["option"] == "block_sender"
    assert (policy["fromEternal"], policy["toEternal"], policy["enabled"]) == (True, True, False)


def test_every_target_type(harness: Harness, tenant: Tenant) -> None:
    group = group_id(harness, tenant, "Blocked senders")
    targets = [
        {"type": "everyone"}, {"type": "internal_addresses"}, {"type": "external_addresses"},
        {"type": "free_mail_domains"},
        {"type": "email_domain", "emailDomain": "spam.example"},
        {"type": "individual_email_address", "emailAddress": "x@spam.example"},
        {"type": "profile_group", "groupId": group},
        {"type": "address_attribute_value",
         "attribute": {"id": "attr1", "name": "department", "value": "Sales"}},
        {"type": "header_display_name", "headerDisplayName": "CEO"},
    ]
    items = [{"option": "block_sender", "policy": {"from": target, "to": target}}
             for target in targets]
    body = post(harness, tenant, "create-policy", items)
    assert body["fail"] == []
    values = [None, None, None, None, "spam.example", "x@spam.example", group, "Sales", "CEO"]
    for created, target, value in zip(body["data"], targets, values, strict=True):
        policy = created["policy"]
        assert policy["from"] == target and policy["to"] == target
        assert policy["fromType"] == policy["toType"] == target["type"]
        assert policy.get("fromValue") == value and policy.get("toValue") == value
    # The old shape reaches the same targets.
    old = create(harness, tenant, fromType="profile_group", fromValue=group,
                 toType="header_display_name", toValue="Payroll")
    assert old["policy"]["from"] == {"type": "profile_group", "groupId": group}
    assert old["policy"]["to"] == {"type": "header_display_name", "headerDisplayName": "Payroll"}


# get-policy and delete-policy -----------------------------------------------------------------

def test_get_policy_lists_all_or_one(harness: Harness) -> None:
    tenant = harness.tenant()
    assert post(harness, tenant, "get-policy", [])["data"] == []
    first = create(harness, tenant, description="first")
    second = create(harness, tenant, "no_action", description="second",
                    to={"type": "internal_addresses"})
    body = post(harness, tenant, "get-policy", [])
    assert body == {"meta": {"status": 200}, "data": [first, second], "fail": []}
    assert post(harness, tenant, "get-policy", [{}])["data"] == [first, second]
    assert post(harness, tenant, "get-policy", [{"id": second["id"]}])["data"] == [second]
    body = post(harness, tenant, "get-policy", [{"id": "eNoUnknown"}])
    error = only_error(body)
    assert (error["code"], error["field"]) == ("err_policy_not_found", "id")
    assert body["fail"][0]["key"] == {"id": "eNoUnknown"}


def test_delete_policy(harness: Harness) -> None:
    tenant = harness.tenant()
    keep = create(harness, tenant, description="keep")
    gone = create(harness, tenant, description="gone", fromType="email_domain",
                  fromValue="spam.example")
    body = post(harness, tenant, "delete-policy", [{"id": gone["id"]}, {"id": "nope"}])
    assert body["data"] == [{"id": gone["id"]}]
    assert body["fail"][0]["key"] == {"id": "nope"}
    assert body["fail"][0]["errors"][0]["code"] == "err_policy_not_found"
    assert post(harness, tenant, "get-policy", [])["data"] == [keep]
    error = only_error(post(harness, tenant, "delete-policy", [{"id": gone["id"]}]))
    assert error["code"] == "err_policy_not_found"
    assert policy_events(harness, tenant) == [
        ("Blocked sender policy created", "block_sender: keep: everyone → everyone"),
        ("Blocked sender policy created",
         "block_sender: gone: email_domain spam.example → everyone"),
        ("Blocked sender policy deleted", "gone: email_domain spam.example → everyone")]


# Bad input ------------------------------------------------------------------------------------

BAD_POLICIES = [
    ({"from": {"emailAddress": "a@b.example"}}, "policy.from.type", "err_validation_null"),
    ({"from": {"type": "nobody"}}, "policy.from.type", "err_validation_invalid_value"),
    ({"from": {"type": "individual_email_address"}}, "policy.from.emailAddress",
     "err_validation_null"),
    ({"from": {"type": "individual_email_address", "emailAddress": "not-an-address"}},
     "policy.from.emailAddress", "err_validation_invalid_email_address"),
    ({"to": {"type": "email_domain", "emailDomain": "no_dot"}}, "policy.to.emailDomain",
     "err_validation_invalid_domain"),
    ({"from": {"type": "profile_group", "groupId": "eNoNotAGroup"}}, "policy.from.groupId",
     "err_folder_not_found"),
    ({"from": {"type": "address_attribute_value", "attribute": {"name": "dept"}}},
     "policy.from.attribute.value", "err_validation_null"),
    ({"from": {"type": "address_attribute_value", "attribute": {"value": "Sales"}}},
     "policy.from.attribute.name", "err_validation_null"),
    ({"to": {"type": "header_display_name", "headerDisplayName": "  "}},
     "policy.to.headerDisplayName", "err_validation_null"),
    ({"fromType": "individual_email_address", "fromValue": "bad"}, "policy.fromValue",
     "err_validation_invalid_email_address"),
    ({"toValue": "x.example"}, "policy.toType", "err_validation_null"),
    ({"toType": "somewhere"}, "policy.toType", "err_validation_invalid_value"),
    ({"fromType": "address_attribute_value", "fromValue": "Sales"}, "policy.fromType",
     "err_validation_invalid_value"),
    ({"fromPart": "body"}, "policy.fromPart", "err_validation_invalid_value"),
    ({"fromDate": "yesterday"}, "policy.fromDate", "err_validation_invalid_value"),
    ({"fromDate": "2025-01-02", "toDate": "2025-01-01"}, "policy.toDate",
     "err_validation_invalid_value"),
    ({"fromEternal": False}, "policy.fromDate", "err_validation_null"),
    ({"toEternal": "maybe"}, "policy.toEternal", "err_validation_invalid_value"),
    ({"conditions": {"sourceIPs": ["192.0.2.300"]}}, "policy.conditions.sourceIPs",
     "err_validation_invalid_value"),
    ({"conditions": {"hostnames": ["bad host"]}}, "policy.conditions.hostnames",
     "err_validation_invalid_domain"),
    ({"conditions": {"spfDomains": ["x"]}}, "policy.conditions.spfDomains",
     "err_validation_invalid_domain"),
]


@pytest.mark.parametrize(("policy", "field", "code"), BAD_POLICIES)
def test_bad_policy_is_a_fail_entry_naming_the_field(harness: Harness, tenant: Tenant,
                                                     policy: dict[str, Any], field: str,
                                                     code: str) -> None:
    item = {"option": "block_sender", "policy": policy}
    body = post(harness, tenant, "create-policy", [item])
    error = only_error(body)
    assert (error["code"], error["field"]) == (code, field)
    assert body["fail"][0]["key"] == item


@pytest.mark.parametrize(("item", "field", "code"), [
    ({"policy": {}}, "option", "err_validation_null"),
    ({"option": "permit", "policy": {}}, "option", "err_validation_invalid_value"),
    ({"option": "block_sender"}, "policy", "err_validation_null"),
    ({"option": "block_sender", "policy": "everyone"}, "policy",
     "err_validation_invalid_value"),
])
def test_bad_item_is_a_fail_entry(harness: Harness, tenant: Tenant, item: dict[str, Any],
                                  field: str, code: str) -> None:
    body = post(harness, tenant, "create-policy", [item])
    error = only_error(body)
    assert (error["code"], error["field"]) == (code, field)
    assert body["fail"][0]["key"] == item


def test_good_items_run_beside_bad_ones(harness: Harness) -> None:
    tenant = harness.tenant()
    items = [{"option": "block_sender", "policy": {"description": "one"}},
             {"option": "block_sender", "policy": {"fromType": "email_domain"}},
             {"option": "no_action", "policy": {"description": "two"}}]
    body = post(harness, tenant, "create-policy", items)
    assert [d["policy"]["description"] for d in body["data"]] == ["one", "two"]
    assert [f["key"] for f in body["fail"]] == [items[1]]
    assert body["fail"][0]["errors"][0]["field"] == "policy.fromValue"
    assert len(post(harness, tenant, "get-policy", [])["data"]) == 2
    assert len(policy_events(harness, tenant)) == 2  # the failed item left no trace


def test_delete_and_create_need_their_items(harness: Harness, tenant: Tenant) -> None:
    for action in ("create-policy", "delete-policy"):
        response = harness.call(tenant.keys, BASE + action, {"data": []})
        error = response.json()["fail"][0]["errors"][0]
        assert error["code"] == "err_validation_item_count", action
    body = post(harness, tenant, "delete-policy", [{"ID": "x"}])
    error = only_error(body)
    assert (error["code"], error["field"]) == ("err_validation_null", "id")
    assert body["fail"][0]["key"] == {"ID": "x"}


# Permissions and tenants ----------------------------------------------------------------------

@pytest.mark.parametrize(("action", "item"), [
    ("create-policy", {"option": "block_sender", "policy": {}}),
    ("delete-policy", {"id": "eNoAny"}),
])
def test_edit_endpoints_need_policies_edit(harness: Harness, action: str,
                                           item: dict[str, Any]) -> None:
    reader = harness.tenant(role="Basic Administrator")
    assert "Gateway | Policies | Edit" in forbidden(harness, reader, action, [item])
    # Read access is enough for get-policy.
    assert post(harness, reader, "get-policy", [])["data"] == []


def test_get_policy_needs_policies_read(harness: Harness) -> None:
    nobody = harness.tenant(role=None)
    assert "Gateway | Policies | Read" in forbidden(harness, nobody, "get-policy", [])


def test_tenant_isolation(harness: Harness, tenant: Tenant) -> None:
    other = harness.tenant()
    mine = create(harness, tenant, description="mine")
    assert post(harness, other, "get-policy", [])["data"] == []
    for action in ("get-policy", "delete-policy"):
        error = only_error(post(harness, other, action, [{"id": mine["id"]}]))
        assert error["code"] == "err_policy_not_found", action
    assert post(harness, tenant, "get-policy", [{"id": mine["id"]}])["data"] == [mine]
    # Another account's directory group is no group at all.
    group = group_id(harness, tenant, "Mine only")
    error = only_error(post(harness, other, "create-policy", [
        {"option": "block_sender", "policy": {"from": {"type": "profile_group",
                                                       "groupId": group}}}]))
    assert (error["code"], error["field"]) == ("err_folder_not_found", "policy.from.groupId")
    assert policy_events(harness, other) == []
