"""The policy/webwhiteurl namespace (Web Security block/allow lists) over real HTTP: the four
*-policy-with-targets endpoints, their defaults, target validation, permissions, tenant
isolation and the audit trail."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from api import DATE, audit_events, forbidden, ok, only_error, post

from mimicast.services import audit, directory, identity, permissions, profiles
from mimicast.testing import Harness
from mimicast.testing.harness import Tenant, eventually

BASE = "/api/policy/webwhiteurl/"
CREATE, GET = BASE + "create-policy-with-targets", BASE + "get-policy-with-targets"
UPDATE, DELETE = BASE + "update-policy-with-targets", BASE + "delete-policy-with-targets"


def description() -> str:
    return f"Block list {secrets.token_hex(4)}"


def create(harness: Harness, tenant: Tenant, policy: dict[str, Any] | None = None,
           targets: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    item = {"policy": policy or {"description": description()},
            "targets": targets or [{"action": "block", "type": "domain",
                                    "value": "bad.example.org"}]}
    [created] = ok(harness, tenant, CREATE, [item])
    return dict(created)


def events(harness: Harness, tenant: Tenant, info: str) -> list[tuple[str, str]]:
    return [(e.category, e.event_type) for e in audit_events(harness, tenant, info=info)]


# create ---------------------------------------------------------------------------------------

def test_create_answers_the_policy_with_its_defaults(harness: Harness, tenant: Tenant) -> None:
    name = description()
    created = create(harness, tenant, {"description": f"  {name} "}, [
        {"action": "BLOCK", "type": "url", "value": "HTTPS://Bad.Example.ORG/Path?q=1#frag"},
        {"action": "allow", "type": "domain", "value": "Good.Example.com."},
        {"action": "block", "type": "url", "value": "http://bad.example.org"},
    ])
    assert set(created) == {"id", "policy", "targets"}
    assert created["id"].startswith("eN")
    policy = created["policy"]
    assert DATE.match(policy["createTime"]) and policy["lastUpdated"] == policy["createTime"]
    assert policy == {"description": name, "fromDate": "1900-01-01T00:00:00+0000",
                      "toDate": "2100-01-01T23:59:59+0000", "fromEternal": True,
                      "toEternal": True, "enabled": True, "from": {"type": "everyone"},
                      "createTime": policy["createTime"], "lastUpdated": policy["createTime"]}
    assert created["targets"] == [
        {"action": "block", "type": "url", "value": "https://bad.example.org/Path?q=1"},
        {"action": "allow", "type": "domain", "value": "good.example.com"},
        {"action": "block", "type": "url", "value": "http://bad.example.org/"},
    ]
    assert events(harness, tenant, name) == [(audit.POLICY, "Web security policy created")]


def test_create_with_senders_and_dates(harness: Harness, tenant: Tenant) -> None:
    person = create(harness, tenant, {
        "description": description(), "fromDate": "2024-03-01", "toDate": "2024-06-30T12:00:00Z",
        "enabled": "false", "from": {"type": "Individual_Email_Address",
                                     "emailAddress": "Someone@Example.com"}})["policy"]
    assert (person["fromDate"], person["fromEternal"]) == ("2024-03-01T00:00:00+0000", False)
    assert (person["toDate"], person["toEternal"]) == ("2024-06-30T12:00:00+0000", False)
    assert person["enabled"] is False
    assert person["from"] == {"type": "individual_email_address",
                              "emailAddress": "someone@example.com"}
    domain = create(harness, tenant, {
        "description": description(), "toDate": "2030-01-01", "fromEternal": False,
        "from": {"type": "email_domain", "emailDomain": "Example.COM",
                 "emailAddress": "ignored@example.com"}})["policy"]
    assert domain["from"] == {"type": "email_domain", "emailDomain": "example.com"}
    assert (domain["fromDate"], domain["fromEternal"]) == ("1900-01-01T00:00:00+0000", False)
    assert (domain["toDate"], domain["toEternal"]) == ("2030-01-01T00:00:00+0000", False)
    internal = create(harness, tenant, {"description": description(),
                                        "from": {"type": "internal_addresses"}})["policy"]
    assert internal["from"] == {"type": "internal_addresses"}
    with harness.session_ctx(tenant) as ctx:
        group_id = directory.secure_id(profiles.create_group(ctx, description()).id)
    group = create(harness, tenant, {"description": description(),
                                     "from": {"type": "profile_group", "groupId": group_id}})
    assert group["policy"]["from"] == {"type": "profile_group", "groupId": group_id}


def test_create_collapses_repeats_and_refuses_contradictions(harness: Harness,
                                                             tenant: Tenant) -> None:
    created = create(harness, tenant, None, [
        {"action": "block", "type": "domain", "value": "twice.example.org"},
        {"action": "block", "type": "domain", "value": "TWICE.example.org."},
        {"action": "allow", "type": "url", "value": "https://twice.example.org/"},
    ])
    assert [t["value"] for t in created["targets"]] == ["twice.example.org",
                                                        "https://twice.example.org/"]
    item = {"policy": {"description": description()},
            "targets": [{"action": "block", "type": "url", "value": "http://x.example.org/a"},
                        {"action": "allow", "type": "url", "value": "HTTP://X.example.org/a"}]}
    error = only_error(post(harness, tenant, CREATE, [item]), item)
    assert (error["field"], error["code"]) == ("targets.1.action", "err_validation_invalid_value")


BAD_CREATES: list[tuple[dict[str, Any], str, str]] = [
    ({"policy": None}, "policy", "err_validation_null"),
    ({"policy": {"description": ""}}, "policy.description", "err_validation_blank"),
    ({"targets": []}, "targets", "err_validation_invalid_value"),
    ({"targets": None}, "targets", "err_validation_null"),
    ({"policy": {"description": "d", "from": {"type": "nobody"}}}, "policy.from.type",
     "err_validation_invalid_value"),
    ({"policy": {"description": "d", "from": {"type": "individual_email_address"}}},
     "policy.from.emailAddress", "err_validation_null"),
    ({"policy": {"description": "d", "from": {"type": "individual_email_address",
                                              "emailAddress": "nope"}}},
     "policy.from.emailAddress", "err_validation_invalid_email_address"),
    ({"policy": {"description": "d", "from": {"type": "email_domain", "emailDomain": "x_y"}}},
     "policy.from.emailDomain", "err_validation_invalid_domain"),
    ({"policy": {"description": "d", "from": {"type": "profile_group", "groupId": "nope"}}},
     "policy.from.groupId", "err_folder_not_found"),
    ({"policy": {"description": "d", "fromDate": "yesterday"}}, "policy.fromDate",
     "err_validation_invalid_value"),
    ({"policy": {"description": "d", "fromDate": "2024-02-01", "toDate": "2024-01-01"}},
     "policy.toDate", "err_validation_invalid_value"),
    ({"targets": [{"action": "permit", "type": "url", "value": "http://a.example.org/"}]},
     "targets.0.action", "err_validation_invalid_value"),
    ({"targets": [{"action": "block", "type": "ip", "value": "10.0.0.1"}]},
     "targets.0.type", "err_validation_invalid_value"),
    ({"targets": [{"action": "block", "type": "url", "value": ""}]},
     "targets.0.value", "err_validation_blank"),
]
BAD_VALUES = [("url", "ftp://files.example.org/"), ("url", "example.org/path"),
              ("url", "http:///nohost"), ("url", "http://bad host.example.org/"),
              ("url", "http://user@example.org/"), ("url", "http://example.org:99999/"),
              ("url", "http://[::1/"), ("domain", "http://example.org"),
              ("domain", "-bad.example.org")]


@pytest.mark.parametrize(("change", "field", "code"), BAD_CREATES + [
    ({"targets": [{"action": "allow", "type": "domain", "value": "ok.example.org"},
                  {"action": "block", "type": kind, "value": value}]}, "targets.1.value",
     "err_validation_invalid_domain" if kind == "domain" else "err_validation_invalid_value")
    for kind, value in BAD_VALUES])
def test_create_refuses_bad_input(harness: Harness, tenant: Tenant, change: dict[str, Any],
                                  field: str, code: str) -> None:
    item = {"policy": {"description": "d"},
            "targets": [{"action": "block", "type": "domain", "value": "a.example.org"}]} | change
    error = only_error(post(harness, tenant, CREATE, [item]), item)
    assert (error["field"], error["code"]) == (field, code)


def test_create_accepts_ip_hosts_and_ports(harness: Harness, tenant: Tenant) -> None:
    created = create(harness, tenant, None, [
        {"action": "block", "type": "url", "value": "http://192.0.2.7:8080/x"},
        {"action": "block", "type": "url", "value": "https://[2001:DB8::1]/"}])
    assert [t["value"] for t in created["targets"]] == ["http://192.0.2.7:8080/x",
                                                        "https://[2001:db8::1]/"]


def test_create_batch_keeps_the_good_items(harness: Harness, tenant: Tenant) -> None:
    good: dict[str, Any] = {
        "policy": {"description": description()},
        "targets": [{"action": "allow", "type": "domain", "value": "fine.example.org"}]}
    bad: dict[str, Any] = {"policy": {"description": description()},
           "targets": [{"action": "allow", "type": "domain", "value": "not a domain"}]}
    body = post(harness, tenant, CREATE, [bad, good])
    [created] = body["data"]
    assert created["policy"]["description"] == good["policy"]["description"]
    [entry] = body["fail"]
    assert entry["key"] == bad and entry["errors"][0]["field"] == "targets.0.value"
    assert events(harness, tenant, bad["policy"]["description"]) == []


# get ------------------------------------------------------------------------------------------

def test_get_lists_all_or_one(harness: Harness) -> None:
    tenant = harness.tenant()
    assert post(harness, tenant, GET, [])["data"] == []
    first, second = create(harness, tenant), create(harness, tenant)
    assert post(harness, tenant, GET, [])["data"] == [first, second]
    assert post(harness, tenant, GET, [{}])["data"] == [first, second]
    assert post(harness, tenant, GET, [{"id": second["id"]}])["data"] == [second]
    for bad in ("garbage", first["id"][:-3]):
        error = only_error(post(harness, tenant, GET, [{"id": bad}]), {"id": bad})
        assert (error["field"], error["code"]) == ("id", "err_policy_not_found")


# update ---------------------------------------------------------------------------------------

def test_update_merges_settings_and_replaces_targets(harness: Harness, tenant: Tenant) -> None:
    created = create(harness, tenant, {
        "description": description(), "toDate": "2031-05-05",
        "from": {"type": "email_domain", "emailDomain": "example.com"}})
    name = created["policy"]["description"]
    body = post(harness, tenant, UPDATE, [{"id": created["id"],
                                           "policy": {"enabled": False, "fromDate": "2025-01-01"}}])
    assert body["fail"] == []
    [updated] = body["data"]
    assert updated["id"] == created["id"]
    assert updated["targets"] == created["targets"]
    assert updated["policy"] | {"lastUpdated": ""} == created["policy"] | {
        "enabled": False, "fromDate": "2025-01-01T00:00:00+0000", "fromEternal": False,
        "lastUpdated": ""}
    assert updated["policy"]["lastUpdated"] >= created["policy"]["lastUpdated"]

    targets = [{"action": "allow", "type": "url", "value": "https://new.example.org/x"}]
    [replaced] = post(harness, tenant, UPDATE, [{"id": created["id"], "targets": targets,
                                                 "policy": {"toEternal": True,
                                                            "from": {"type": "everyone"}}}]
                      )["data"]
    assert replaced["targets"] == targets
    assert replaced["policy"]["toEternal"] is True
    assert replaced["policy"]["toDate"] == "2031-05-05T00:00:00+0000"
    assert replaced["policy"]["from"] == {"type": "everyone"}
    assert replaced["policy"]["description"] == name
    assert post(harness, tenant, GET, [{"id": created["id"]}])["data"] == [replaced]
    assert events(harness, tenant, name) == [
        (audit.POLICY, "Web security policy created"),
        (audit.POLICY, "Web security policy updated"),
        (audit.POLICY, "Web security policy updated")]


def test_update_refuses_bad_input(harness: Harness, tenant: Tenant) -> None:
    created = create(harness, tenant)
    for item, field, code in [
        ({"id": created["id"]}, "policy", "err_validation_null"),
        ({"policy": {"enabled": True}}, "id", "err_validation_null"),
        ({"id": "garbage", "policy": {"enabled": True}}, "id", "err_policy_not_found"),
        ({"id": created["id"], "policy": {"description": " "}}, "policy.description",
         "err_validation_blank"),
        ({"id": created["id"], "policy": {"toDate": "1800-01-01", "fromEternal": False}},
         "policy.toDate", "err_validation_invalid_value"),
        ({"id": created["id"], "targets": []}, "targets", "err_validation_invalid_value"),
        ({"id": created["id"], "targets": [{"action": "block", "type": "url",
                                            "value": "mailto:x@example.org"}]},
         "targets.0.value", "err_validation_invalid_value"),
    ]:
        error = only_error(post(harness, tenant, UPDATE, [item]), item)
        assert (error["field"], error["code"]) == (field, code), item
    # Nothing changed.
    assert post(harness, tenant, GET, [{"id": created["id"]}])["data"] == [created]


# delete ---------------------------------------------------------------------------------------

def test_delete_removes_the_policy(harness: Harness, tenant: Tenant) -> None:
    first, second = create(harness, tenant), create(harness, tenant)
    body = post(harness, tenant, DELETE, [{"id": first["id"]}, {"id": "garbage"}])
    assert body["data"] == [{"id": first["id"]}]
    [entry] = body["fail"]
    assert entry["key"] == {"id": "garbage"}
    assert (entry["errors"][0]["field"], entry["errors"][0]["code"]) == (
        "id", "err_policy_not_found")
    ids = [p["id"] for p in post(harness, tenant, GET, [])["data"]]
    assert first["id"] not in ids and second["id"] in ids
    assert events(harness, tenant, first["policy"]["description"]) == [
        (audit.POLICY, "Web security policy created"),
        (audit.POLICY, "Web security policy deleted")]
    error = only_error(post(harness, tenant, DELETE, [{"id": None}]), {"id": None})
    assert (error["field"], error["code"]) == ("id", "err_validation_null")


def test_ids_of_other_kinds_are_unknown(harness: Harness, tenant: Tenant) -> None:
    managed = post(harness, tenant, "/api/managedsender/permit-or-block-sender",
                   [{"sender": "x@outside.example.org", "to": f"y@{tenant.domain}",
                     "action": "block"}])["data"][0]["id"].removeprefix("MTOKEN:")
    error = only_error(post(harness, tenant, DELETE, [{"id": managed}]), {"id": managed})
    assert error["code"] == "err_policy_not_found"


# Permissions and tenants ----------------------------------------------------------------------

def test_basic_administrator_reads_but_does_not_edit(harness: Harness) -> None:
    reader = harness.tenant(role="Basic Administrator")
    for path in (CREATE, UPDATE, DELETE):
        assert permissions.WEB_SECURITY_EDIT in forbidden(harness, reader, path, [{"id": "x"}])
    assert post(harness, reader, GET, [])["data"] == []


def test_a_role_without_web_security_gets_403(harness: Harness) -> None:
    other = harness.tenant(role=None)
    with harness.session_ctx(other) as ctx:
        identity.create_role(ctx, "Senders only", [permissions.MANAGED_SENDERS_READ])
        identity.add_role_member(ctx, "Senders only", other.email)
    assert eventually(lambda: harness.call(
        other.keys, "/api/managedsender/get-managed-senders").status_code == 200)
    for path in (CREATE, GET, UPDATE, DELETE):
        response = harness.call(other.keys, path, {"data": []})
        assert response.status_code == 403, path
        assert response.json()["fail"][0]["errors"][0]["code"] == "err_xdk_forbidden"


def test_tenants_are_isolated(harness: Harness, tenant: Tenant) -> None:
    other = harness.tenant()
    mine = create(harness, tenant)
    # Another account's directory group is not a sender this account can name.
    with harness.session_ctx(tenant) as ctx:
        group_id = directory.secure_id(profiles.create_group(ctx, description()).id)
    item = {"policy": {"description": "d", "from": {"type": "profile_group",
                                                    "groupId": group_id}},
            "targets": [{"action": "block", "type": "domain", "value": "a.example.org"}]}
    error = only_error(post(harness, other, CREATE, [item]), item)
    assert (error["field"], error["code"]) == ("policy.from.groupId", "err_folder_not_found")
    assert post(harness, other, GET, [])["data"] == []
    for path, item in ((GET, {"id": mine["id"]}),
                       (UPDATE, {"id": mine["id"], "policy": {"enabled": False}}),
                       (DELETE, {"id": mine["id"]})):
        error = only_error(post(harness, other, path, [item]), item)
        assert error["code"] == "err_policy_not_found", path
    assert post(harness, tenant, GET, [{"id": mine["id"]}])["data"] == [mine]
