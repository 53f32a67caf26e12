"""The managedsender namespace over real HTTP: permit-or-block-sender (spec 6.6) and this
server's get-managed-senders and delete-managed-sender: shapes, bad input, the item limit,
paging, permissions, tenant isolation and the audit trail."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from api import audit_events, forbidden, ok, only_fail, post

from mimicast.services import audit, identity, permissions
from mimicast.testing import Harness
from mimicast.testing.harness import Tenant, eventually

PERMIT = "/api/managedsender/permit-or-block-sender"
LIST = "/api/managedsender/get-managed-senders"
DELETE = "/api/managedsender/delete-managed-sender"


def sender() -> str:
    return f"s{secrets.token_hex(4)}@outside.example.org"


def recipient(tenant: Tenant) -> str:
    return f"r{secrets.token_hex(4)}@{tenant.domain}"


def permit(harness: Harness, tenant: Tenant, sender_address: str, to: str,
           action: str = "permit") -> dict[str, Any]:
    [result] = ok(harness, tenant, PERMIT, [{"sender": sender_address, "to": to, "action": action}])
    return dict(result)


def events(harness: Harness, tenant: Tenant, info: str) -> list[tuple[str, str]]:
    return [(e.category, e.event_type) for e in audit_events(harness, tenant, info=info)]


# permit-or-block-sender -----------------------------------------------------------------------

def test_permit_then_block_the_same_pair_keeps_its_id(harness: Harness, tenant: Tenant) -> None:
    frm, to = sender(), recipient(tenant)
    permitted = permit(harness, tenant, frm.upper(), to.upper(), "Permit")
    assert set(permitted) == {"id", "sender", "to", "type"}
    assert permitted["id"].startswith("MTOKEN:eN")
    assert permitted | {"id": ""} == {"id": "", "sender": frm, "to": to, "type": "Permit"}
    blocked = permit(harness, tenant, frm, to, "block")
    assert blocked == permitted | {"type": "Block"}
    # Asking for what is already so changes nothing, and writes no event.
    assert permit(harness, tenant, frm, to, "block") == blocked
    assert events(harness, tenant, f"{frm} → {to}") == [
        (audit.POLICY, "Managed sender permitted"), (audit.POLICY, "Managed sender blocked")]


def test_invalid_addresses_fail_with_the_item_as_key(harness: Harness, tenant: Tenant) -> None:
    item = {"sender": "not-an-address", "to": recipient(tenant), "action": "block"}
    assert only_fail(post(harness, tenant, PERMIT, [item])) == {
        "key": item,
        "errors": [{"field": "sender", "code": "err_validation_invalid_email_address",
                    "message": "Email address is not valid", "retryable": False}]}
    item = {"sender": sender(), "to": "nobody@", "action": "permit"}
    entry = only_fail(post(harness, tenant, PERMIT, [item]))
    assert entry["key"] == item
    assert [(e["field"], e["code"]) for e in entry["errors"]] == [
        ("to", "err_validation_invalid_email_address")]


@pytest.mark.parametrize(("change", "field", "code"), [
    ({"action": None}, "action", "err_validation_null"),
    ({"action": "allow"}, "action", "err_validation_invalid_value"),
    ({"sender": ""}, "sender", "err_validation_blank"),
    ({"to": None}, "to", "err_validation_null"),
])
def test_missing_or_bad_fields(harness: Harness, tenant: Tenant, change: dict[str, Any],
                               field: str, code: str) -> None:
    item = {"sender": sender(), "to": recipient(tenant), "action": "block"} | change
    entry = only_fail(post(harness, tenant, PERMIT, [item]))
    assert entry["key"] == item
    [error] = entry["errors"]
    assert (error["field"], error["code"]) == (field, code)


def test_the_recipient_must_be_internal(harness: Harness, tenant: Tenant) -> None:
    item = {"sender": sender(), "to": "someone@elsewhere.example.org", "action": "block"}
    entry = only_fail(post(harness, tenant, PERMIT, [item]))
    assert entry["key"] == item
    [error] = entry["errors"]
    assert error["code"] == "err_managed_sender_recipient_not_internal"
    assert error["field"] == "to"
    assert "someone@elsewhere.example.org" in error["message"]


def test_a_mixed_batch_keeps_the_good_items(harness: Harness, tenant: Tenant) -> None:
    to = recipient(tenant)
    good = [{"sender": sender(), "to": to, "action": "permit"},
            {"sender": sender(), "to": to, "action": "block"}]
    bad = {"sender": "bad", "to": to, "action": "block"}
    body = post(harness, tenant, PERMIT, [good[0], bad, good[1]])
    assert [(r["sender"], r["type"]) for r in body["data"]] == [
        (good[0]["sender"], "Permit"), (good[1]["sender"], "Block")]
    [entry] = body["fail"]
    assert entry["key"] == bad
    assert entry["errors"][0]["field"] == "sender"
    listed = post(harness, tenant, LIST, [{"to": to}])["data"]
    assert listed == body["data"]


def test_one_to_a_hundred_items(harness: Harness) -> None:
    tenant = harness.tenant()
    to = recipient(tenant)
    items = [{"sender": f"s{n}@outside.example.org", "to": to, "action": "block"}
             for n in range(101)]
    for data in (items, []):
        response = harness.call(tenant.keys, PERMIT, {"data": data})
        assert response.status_code == 200
        body = response.json()
        assert body["data"] == []
        [entry] = body["fail"]
        assert "key" not in entry
        assert entry["errors"][0]["code"] == "err_validation_item_count"
    assert post(harness, tenant, LIST, [])["meta"]["pagination"]["totalCount"] == 0
    body = post(harness, tenant, PERMIT, items[:100])
    assert body["fail"] == [] and len(body["data"]) == 100


# get-managed-senders --------------------------------------------------------------------------

def test_listing_walks_pages_both_ways_and_filters(harness: Harness, tenant: Tenant) -> None:
    to = recipient(tenant)
    made = [permit(harness, tenant, sender(), to, "block" if n % 3 == 0 else "permit")
            for n in range(8)]
    seen: list[dict[str, Any]] = []
    pages: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        pagination: dict[str, Any] = {"pageSize": 3}
        if token:
            pagination["pageToken"] = token
        body = post(harness, tenant, LIST, [{"to": to}], {"pagination": pagination})
        assert body["fail"] == []
        pages.append(body)
        seen += body["data"]
        token = body["meta"]["pagination"].get("next")
        if token is None:
            break
    assert seen == made  # oldest first, no gaps, no repeats
    assert [len(p["data"]) for p in pages] == [3, 3, 2]
    assert [p["meta"]["pagination"]["pageSize"] for p in pages] == [3, 3, 2]
    assert all(p["meta"]["pagination"]["totalCount"] == 8 for p in pages)
    assert "previous" not in pages[0]["meta"]["pagination"]
    back = post(harness, tenant, LIST, [{"to": to}], {"pagination": {
        "pageSize": 3, "pageToken": pages[2]["meta"]["pagination"]["previous"]}})
    assert back["data"] == pages[1]["data"]

    blocked = post(harness, tenant, LIST, [{"to": to, "action": "BLOCK"}])["data"]
    assert blocked == [m for m in made if m["type"] == "Block"]
    one = post(harness, tenant, LIST, [{"to": to, "sender": made[4]["sender"].upper()}])
    assert one["data"] == [made[4]]
    assert one["meta"]["pagination"] == {"pageSize": 1, "totalCount": 1}


def test_listing_refuses_bad_filters_and_tokens(harness: Harness, tenant: Tenant) -> None:
    to = recipient(tenant)
    for _ in range(2):
        permit(harness, tenant, sender(), to)
    first = post(harness, tenant, LIST, [{"to": to}], {"pagination": {"pageSize": 1}})
    token = first["meta"]["pagination"]["next"]
    for data, pagination, field in [
        ([{"to": to}], {"pageToken": token[:-2] + "xx"}, "pageToken"),
        ([{"to": recipient(tenant)}], {"pageToken": token}, "pageToken"),  # other filters
        ([{"to": "not-an-address"}], None, "to"),
        ([{"sender": "@nope"}], None, "sender"),
        ([{"action": "maybe"}], None, "action"),
    ]:
        meta = None if pagination is None else {"pagination": pagination}
        entry = only_fail(post(harness, tenant, LIST, data, meta))
        assert entry["key"] == data[0]
        assert entry["errors"][0]["field"] == field


# delete-managed-sender ------------------------------------------------------------------------

def test_delete_removes_the_pair(harness: Harness, tenant: Tenant) -> None:
    frm, to = sender(), recipient(tenant)
    made = permit(harness, tenant, frm, to, "block")
    other = permit(harness, tenant, sender(), to)
    bare = other["id"].removeprefix("MTOKEN:")  # the prefix may be left off
    body = post(harness, tenant, DELETE, [{"id": made["id"]}, {"id": bare}])
    assert body == {"meta": {"status": 200},
                    "data": [{"id": made["id"]}, {"id": other["id"]}], "fail": []}
    assert post(harness, tenant, LIST, [{"to": to}])["data"] == []
    assert events(harness, tenant, f"{frm} → {to}") == [
        (audit.POLICY, "Managed sender blocked"), (audit.POLICY, "Managed sender removed")]
    # Gone: the same pair starts afresh.
    assert permit(harness, tenant, frm, to)["type"] == "Permit"


@pytest.mark.parametrize("bad_id", ["deleted", "garbage", None])
def test_delete_unknown_ids_fail_with_their_key(harness: Harness, tenant: Tenant,
                                                bad_id: str | None) -> None:
    made = permit(harness, tenant, sender(), recipient(tenant))
    post(harness, tenant, DELETE, [{"id": made["id"]}])
    item = {"id": made["id"] if bad_id == "deleted" else bad_id}
    entry = only_fail(post(harness, tenant, DELETE, [item]))
    assert entry["key"] == item
    [error] = entry["errors"]
    assert error["field"] == "id"
    assert error["code"] == ("err_validation_null" if bad_id is None
                             else "err_managed_sender_not_found")


# Permissions and tenants ----------------------------------------------------------------------

def test_basic_administrator_reads_but_does_not_edit(harness: Harness) -> None:
    reader = harness.tenant(role="Basic Administrator")
    to = recipient(reader)
    for path, item in ((PERMIT, {"sender": sender(), "to": to, "action": "block"}),
                       (DELETE, {"id": "MTOKEN:x"})):
        assert permissions.MANAGED_SENDERS_EDIT in forbidden(harness, reader, path, [item])
    assert post(harness, reader, LIST, [])["data"] == []


def test_a_role_without_managed_senders_gets_403(harness: Harness) -> None:
    other = harness.tenant(role=None)
    with harness.session_ctx(other) as ctx:
        identity.create_role(ctx, "Web only", [permissions.WEB_SECURITY_READ])
        identity.add_role_member(ctx, "Web only", other.email)
    assert eventually(lambda: harness.call(
        other.keys, "/api/policy/webwhiteurl/get-policy-with-targets").status_code == 200)
    for path in (PERMIT, LIST, DELETE):
        response = harness.call(other.keys, path, {"data": [{"id": "x"}]})
        assert response.status_code == 403, path
        assert response.json()["fail"][0]["errors"][0]["code"] == "err_xdk_forbidden"


def test_tenants_are_isolated(harness: Harness, tenant: Tenant) -> None:
    other = harness.tenant()
    to = recipient(tenant)
    mine = permit(harness, tenant, sender(), to)
    # The other account sees none of it, cannot remove it, cannot manage its recipients.
    assert post(harness, other, LIST, [])["data"] == []
    assert post(harness, other, LIST, [{"to": to}])["data"] == []
    entry = only_fail(post(harness, other, DELETE, [{"id": mine["id"]}]))
    assert entry["errors"][0]["code"] == "err_managed_sender_not_found"
    item = {"sender": mine["sender"], "to": to, "action": "block"}
    entry = only_fail(post(harness, other, PERMIT, [item]))
    assert entry["errors"][0]["code"] == "err_managed_sender_recipient_not_internal"
    assert post(harness, tenant, LIST, [{"to": to}])["data"] == [mine]
    # The same pair in the other account's own domain is its own row.
    theirs = permit(harness, other, mine["sender"], recipient(other))
    assert theirs["id"] != mine["id"]
