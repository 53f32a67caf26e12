"""The directory group endpoints over real HTTP: find-groups, get-group-members,
add/remove-group-member, create/update/delete-group — shapes, paging, bad input, permissions,
tenant isolation and the audit trail."""

from __future__ import annotations

import secrets
from typing import Any

from api import Namespace, audit_events, only_error
from sqlalchemy import select

from mimicast.services import audit, directory, identity, permissions, profiles
from mimicast.store.schema import AppSetting
from mimicast.testing import Harness
from mimicast.testing.harness import Tenant

ID_PREFIX = "eN"
DIRECTORY = Namespace("/api/directory/")
post, ok, forbidden = DIRECTORY.post, DIRECTORY.ok, DIRECTORY.forbidden


def create(harness: Harness, tenant: Tenant, name: str, parent: str | None = None
           ) -> dict[str, Any]:
    item = {"description": name} if parent is None else {"description": name, "parentId": parent}
    [folder] = ok(harness, tenant, "create-group", [item])
    return dict(folder)


def add(harness: Harness, tenant: Tenant, group: str, **member: str) -> dict[str, Any]:
    [added] = ok(harness, tenant, "add-group-member", [{"id": group, **member}])
    return dict(added)


def folders(harness: Harness, tenant: Tenant, item: dict[str, Any] | None = None
            ) -> list[dict[str, Any]]:
    [wrapper] = ok(harness, tenant, "find-groups", [item] if item else [])
    result: list[dict[str, Any]] = wrapper["folders"]
    return result


def members(harness: Harness, tenant: Tenant, group: str) -> list[dict[str, Any]]:
    [wrapper] = ok(harness, tenant, "get-group-members", [{"id": group}])
    result: list[dict[str, Any]] = wrapper["groupMembers"]
    return result


def events(harness: Harness, tenant: Tenant) -> list[tuple[str, str]]:
    """(event type, info) of the directory events the API wrote for the tenant."""
    found = audit_events(harness, tenant, category=audit.DIRECTORY, actor=tenant.email)
    return [(e.event_type, e.info) for e in found]


def name() -> str:
    return f"Group {secrets.token_hex(4)}"


# find-groups --------------------------------------------------------------------------------

def test_find_groups_shape_and_counts(harness: Harness) -> None:
    tenant = harness.tenant()
    # The CLI's path-based groups and the API's are one tree.
    with harness.session_ctx(tenant) as ctx:
        profiles.create_group(ctx, "Blocked Senders/Partners")
        profiles.add_group_member(ctx, "Blocked Senders", "spam@bad.example")
        profiles.add_group_member(ctx, "Blocked Senders", "bad.example")
    body = post(harness, tenant, "find-groups", [])
    assert body["fail"] == []
    assert body["meta"]["pagination"] == {"pageSize": 2, "totalCount": 2}
    [wrapper] = body["data"]
    assert set(wrapper) == {"folders", "source"} and wrapper["source"] == "cloud"
    root, child = wrapper["folders"]
    assert root["id"].startswith(ID_PREFIX) and root["id"] != child["id"]
    assert root == {"id": root["id"], "description": "Blocked Senders", "source": "cloud",
                    "parentId": "", "userCount": 2, "folderCount": 1}
    assert child == {"id": child["id"], "description": "Partners", "source": "cloud",
                     "parentId": root["id"], "userCount": 0, "folderCount": 0}


def test_find_groups_query_and_source(harness: Harness) -> None:
    tenant = harness.tenant()
    for group in ("Blocked Senders", "Permitted senders", "100% Sure", "Relay_1", "Relay21"):
        create(harness, tenant, group)
    [wrapper] = ok(harness, tenant, "find-groups", [{"query": "SENDERS"}])
    assert wrapper["query"] == "SENDERS" and wrapper["source"] == "cloud"
    assert [f["description"] for f in wrapper["folders"]] == ["Blocked Senders",
                                                              "Permitted senders"]
    # LIKE's wildcards are plain characters in a query.
    assert [f["description"] for f in folders(harness, tenant, {"query": "%"})] == ["100% Sure"]
    assert [f["description"] for f in folders(harness, tenant, {"query": "y_"})] == ["Relay_1"]
    assert len(folders(harness, tenant, {"query": ""})) == 5
    # No match, or another source: still the wrapper, pageSize 0.
    for item, echo in (({"query": "nothing"}, {"query": "nothing", "source": "cloud"}),
                       ({"source": " LDAP "}, {"source": "ldap"})):
        body = post(harness, tenant, "find-groups", [item])
        assert body["data"] == [{"folders": [], **echo}]
        assert body["meta"]["pagination"] == {"pageSize": 0, "totalCount": 0}


def test_find_groups_pages(harness: Harness) -> None:
    tenant = harness.tenant()
    made = [create(harness, tenant, f"Page {n}")["id"] for n in range(7)]
    seen: list[str] = []
    pages = []
    token = None
    while True:
        pagination: dict[str, Any] = {"pageSize": 3}
        if token:
            pagination["pageToken"] = token
        body = post(harness, tenant, "find-groups", [], {"pagination": pagination})
        page = [f["id"] for f in body["data"][0]["folders"]]
        pages.append((page, body["meta"]["pagination"]))
        seen += page
        token = body["meta"]["pagination"].get("next")
        if not token:
            break
    assert seen == made  # oldest first, no gaps, no repeats
    assert [len(p) for p, _ in pages] == [3, 3, 1]
    assert [m["pageSize"] for _, m in pages] == [3, 3, 1]
    assert all(m["totalCount"] == 7 for _, m in pages)
    assert "previous" not in pages[0][1] and "next" not in pages[2][1]
    body = post(harness, tenant, "find-groups", [],
                {"pagination": {"pageSize": 3, "pageToken": pages[1][1]["previous"]}})
    assert [f["id"] for f in body["data"][0]["folders"]] == pages[0][0]
    # A bad token, and one of another query, are refused with field pageToken.
    for item, token in (({}, "garbage"), ({"query": "Page"}, pages[0][1]["next"])):
        body = post(harness, tenant, "find-groups", [item], {"pagination": {"pageToken": token}})
        error = only_error(body)
        assert (error["code"], error["field"]) == ("err_validation_invalid_value", "pageToken")
        assert body["fail"][0]["key"] == item


def test_find_groups_bad_source(harness: Harness, tenant: Tenant) -> None:
    body = post(harness, tenant, "find-groups", [{"source": "azure"}])
    error = only_error(body)
    assert (error["code"], error["field"]) == ("err_validation_invalid_value", "source")
    assert body["fail"][0]["key"] == {"source": "azure"}


# get-group-members --------------------------------------------------------------------------

def test_get_group_members_shape(harness: Harness, tenant: Tenant) -> None:
    group = create(harness, tenant, name())["id"]
    with harness.session_ctx(tenant) as ctx:
        identity.create_user(ctx, f"bob@{tenant.domain}", name="Bob Jones")
    add(harness, tenant, group, emailAddress=f"Bob@{tenant.domain.upper()}", notes="on call")
    add(harness, tenant, group, emailAddress="ann@partner.example")
    add(harness, tenant, group, domain="partner.example")
    add(harness, tenant, group, domain=tenant.domain)
    body = post(harness, tenant, "get-group-members", [{"id": group}])
    assert body["fail"] == []
    assert body["meta"]["pagination"] == {"pageSize": 4, "totalCount": 4}
    assert body["data"] == [{"groupMembers": [
        {"emailAddress": "ann@partner.example", "domain": "", "internal": False,
         "type": "created_manually", "name": "", "notes": ""},
        {"emailAddress": f"bob@{tenant.domain}", "domain": "", "internal": True,
         "type": "created_manually", "name": "Bob Jones", "notes": "on call"},
        {"emailAddress": "", "domain": "partner.example", "internal": False,
         "type": "created_manually", "name": "", "notes": ""},
        {"emailAddress": "", "domain": tenant.domain, "internal": True,
         "type": "created_manually", "name": "", "notes": ""}]}]
    empty = create(harness, tenant, name())["id"]
    body = post(harness, tenant, "get-group-members", [{"id": empty}])
    assert body["data"] == [{"groupMembers": []}]
    assert body["meta"]["pagination"]["pageSize"] == 0


def test_get_group_members_pages(harness: Harness, tenant: Tenant) -> None:
    group = create(harness, tenant, name())["id"]
    addresses = sorted(f"m{n}@example.org" for n in range(8))
    ok(harness, tenant, "add-group-member",
       [{"id": group, "emailAddress": a} for a in reversed(addresses)])
    seen, token, sizes = [], None, []
    while True:
        pagination: dict[str, Any] = {"pageSize": 3, **({"pageToken": token} if token else {})}
        body = post(harness, tenant, "get-group-members", [{"id": group}],
                    {"pagination": pagination})
        page = [m["emailAddress"] for m in body["data"][0]["groupMembers"]]
        seen += page
        sizes.append(body["meta"]["pagination"]["pageSize"])
        last = body["meta"]["pagination"]
        token = last.get("next")
        if not token:
            break
    assert seen == addresses and sizes == [3, 3, 2]
    body = post(harness, tenant, "get-group-members", [{"id": group}],
                {"pagination": {"pageSize": 3, "pageToken": last["previous"]}})
    assert [m["emailAddress"] for m in body["data"][0]["groupMembers"]] == addresses[3:6]
    # A token of another group's list is refused.
    other = create(harness, tenant, name())["id"]
    error = only_error(post(harness, tenant, "get-group-members", [{"id": other}],
                            {"pagination": {"pageToken": last["previous"]}}))
    assert (error["code"], error["field"]) == ("err_validation_invalid_value", "pageToken")


def test_get_group_members_bad_input(harness: Harness, tenant: Tenant) -> None:
    body = post(harness, tenant, "get-group-members", [{}])
    error = only_error(body)
    assert (error["code"], error["field"]) == ("err_validation_null", "id")
    assert body["fail"][0]["key"] == {}
    body = post(harness, tenant, "get-group-members", [{"id": "eNoNotAGroup"}])
    assert only_error(body) == {"code": "err_folder_not_found",
                                "message": "Group not found: eNoNotAGroup", "retryable": False}
    assert body["fail"][0]["key"] == {"id": "eNoNotAGroup"}
    [entry] = post(harness, tenant, "get-group-members", [])["fail"]
    assert entry["errors"][0]["code"] == "err_validation_item_count"
    # One list per call: a second item is refused, not ignored.
    for action, data in (("get-group-members", [{"id": "a"}, {"id": "b"}]),
                         ("find-groups", [{}, {"query": "x"}])):
        [entry] = post(harness, tenant, action, data)["fail"]
        assert entry["errors"][0]["code"] == "err_validation_item_count", action
        assert "at most 1" in entry["errors"][0]["message"]


# add-group-member / remove-group-member -----------------------------------------------------

def test_add_and_remove_members(harness: Harness) -> None:
    tenant = harness.tenant()
    group = create(harness, tenant, "Blocked")["id"]
    added = add(harness, tenant, group, emailAddress=" Spam@Bad.Example ", notes="seen twice")
    assert set(added) == {"id", "folderId", "emailAddress", "internal"}
    assert added["id"].startswith(ID_PREFIX) and added["id"] != group
    assert added["folderId"] == group and added["emailAddress"] == "spam@bad.example"
    assert added["internal"] is False
    domain = add(harness, tenant, group, domain=tenant.domain.upper(), emailAddress="")
    assert set(domain) == {"id", "folderId", "domain", "internal"}
    assert (domain["domain"], domain["internal"]) == (tenant.domain, True)
    assert [m["notes"] for m in members(harness, tenant, group)] == ["seen twice", ""]

    removed = ok(harness, tenant, "remove-group-member",
                 [{"id": group, "emailAddress": "SPAM@bad.example"},
                  {"id": group, "domain": tenant.domain}])
    assert removed == [added, domain]  # the same membership ids
    assert members(harness, tenant, group) == []
    assert events(harness, tenant)[-4:] == [
        ("Profile group member added", "spam@bad.example → Blocked"),
        ("Profile group member added", f"{tenant.domain} → Blocked"),
        ("Profile group member removed", "spam@bad.example ← Blocked"),
        ("Profile group member removed", f"{tenant.domain} ← Blocked")]


def test_add_member_failures(harness: Harness, tenant: Tenant) -> None:
    group = create(harness, tenant, name())["id"]
    add(harness, tenant, group, emailAddress="dup@example.org")
    items = [{"id": group, "emailAddress": "dup@example.org"},
             {"id": group, "emailAddress": "not an address"},
             {"id": group, "domain": "no_domain"},
             {"id": group, "emailAddress": "a@example.org", "domain": "example.org"},
             {"id": group},
             {"id": group, "emailAddress": "  "},
             {"emailAddress": "x@example.org"},
             {"id": "eNoUnknown", "emailAddress": "x@example.org"},
             {"id": group, "emailAddress": "fine@example.org"},
             {"id": group, "emailAddress": "x@example.org", "notes": "n" * 1001}]
    body = post(harness, tenant, "add-group-member", items)
    assert [d["emailAddress"] for d in body["data"]] == ["fine@example.org"]
    assert [f["key"] for f in body["fail"]] == items[:8] + items[9:]
    assert [(f["errors"][0]["code"], f["errors"][0].get("field")) for f in body["fail"]] == [
        ("err_folder_group_member_already_exists", None),
        ("err_validation_invalid_email_address", "emailAddress"),
        ("err_validation_invalid_domain", "domain"),
        ("err_validation_invalid_value", "domain"),
        ("err_validation_null", "emailAddress"),
        ("err_validation_null", "emailAddress"),
        ("err_validation_null", "id"),
        ("err_folder_not_found", None),
        ("err_validation_invalid_value", "notes")]
    assert body["fail"][0]["errors"][0]["message"] == "Group member already exists"
    assert {m["emailAddress"] for m in members(harness, tenant, group)} == {
        "dup@example.org", "fine@example.org"}


def test_remove_member_failures(harness: Harness, tenant: Tenant) -> None:
    group = create(harness, tenant, name())["id"]
    items = [{"id": group, "emailAddress": "absent@example.org"},
             {"id": group, "domain": "absent.example"},
             {"id": "eNoUnknown", "emailAddress": "absent@example.org"},
             {"id": group, "emailAddress": "bad"}]
    body = post(harness, tenant, "remove-group-member", items)
    assert body["data"] == [] and [f["key"] for f in body["fail"]] == items
    assert [f["errors"][0]["code"] for f in body["fail"]] == [
        "err_folder_email_address_not_found", "err_folder_email_address_not_found",
        "err_folder_not_found", "err_validation_invalid_email_address"]
    assert body["fail"][0]["errors"][0]["message"] == "Error email address not found"


# create-group / update-group / delete-group -------------------------------------------------

def test_create_group(harness: Harness) -> None:
    tenant = harness.tenant()
    root = create(harness, tenant, "  Integrations ")
    assert root == {"id": root["id"], "description": "Integrations", "source": "cloud",
                    "parentId": "", "userCount": 0, "folderCount": 0}
    child = create(harness, tenant, "Splunk Admin", root["id"])
    assert (child["parentId"], child["folderCount"]) == (root["id"], 0)
    assert folders(harness, tenant)[0]["folderCount"] == 1
    # The same name is fine in another folder, and at the root with parentId "".
    create(harness, tenant, "Splunk Admin")
    create(harness, tenant, "Other", "")
    assert events(harness, tenant) == [
        ("Profile group created", "Integrations"),
        ("Profile group created", "Integrations/Splunk Admin"),
        ("Profile group created", "Splunk Admin"), ("Profile group created", "Other")]
    # The CLI finds it by path.
    with harness.session_ctx(tenant) as ctx:
        assert profiles.find_group(ctx, "Integrations/Splunk Admin").name == "Splunk Admin"


def test_create_group_failures(harness: Harness, tenant: Tenant) -> None:
    parent = create(harness, tenant, name())
    create(harness, tenant, "Taken", parent["id"])
    items = [{"description": "Taken", "parentId": parent["id"]},
             {"description": "a/b"},
             {"description": "  "},
             {},
             {"description": "x" * 201},
             {"description": "Orphan", "parentId": "eNoUnknown"}]
    body = post(harness, tenant, "create-group", items)
    assert body["data"] == [] and [f["key"] for f in body["fail"]] == items
    assert [(f["errors"][0]["code"], f["errors"][0].get("field")) for f in body["fail"]] == [
        ("err_folder_already_exists", "description"),
        ("err_validation_invalid_value", "description"),
        ("err_validation_blank", "description"),
        ("err_validation_null", "description"),
        ("err_validation_invalid_value", "description"),
        ("err_folder_not_found", "parentId")]
    assert body["fail"][0]["errors"][0]["message"] == (
        "A group named Taken already exists in that folder")


def test_update_group(harness: Harness) -> None:
    tenant = harness.tenant()
    a, b = create(harness, tenant, "A"), create(harness, tenant, "B")
    child = create(harness, tenant, "Child", a["id"])
    add(harness, tenant, child["id"], emailAddress="m@example.org")
    [renamed] = ok(harness, tenant, "update-group", [{"id": child["id"],
                                                      "description": "Kid"}])
    assert renamed == {**child, "description": "Kid", "userCount": 1}
    [moved] = ok(harness, tenant, "update-group", [{"id": child["id"], "parentId": b["id"]}])
    assert (moved["description"], moved["parentId"]) == ("Kid", b["id"])
    [at_root] = ok(harness, tenant, "update-group", [{"id": child["id"], "parentId": ""}])
    assert at_root["parentId"] == ""
    # Nothing to change: the folder as it is, and no audit event.
    assert ok(harness, tenant, "update-group", [{"id": child["id"]}]) == [at_root]
    assert events(harness, tenant)[-3:] == [
        ("Profile group updated", "A/Child → A/Kid"),
        ("Profile group updated", "A/Kid → B/Kid"),
        ("Profile group updated", "B/Kid → Kid")]


def test_update_group_failures(harness: Harness, tenant: Tenant) -> None:
    top = create(harness, tenant, name())
    middle = create(harness, tenant, "Middle", top["id"])
    low = create(harness, tenant, "Low", middle["id"])
    create(harness, tenant, "Taken", middle["id"])
    items = [{"id": top["id"], "parentId": top["id"]},
             {"id": top["id"], "parentId": low["id"]},
             {"id": low["id"], "description": "Taken"},
             {"id": middle["id"], "description": "a/b"},
             {"id": middle["id"], "description": ""},
             {"id": middle["id"], "parentId": "eNoUnknown"},
             {"id": "eNoUnknown", "description": "New"},
             {"description": "New"}]
    body = post(harness, tenant, "update-group", items)
    assert body["data"] == [] and [f["key"] for f in body["fail"]] == items
    assert [(f["errors"][0]["code"], f["errors"][0].get("field")) for f in body["fail"]] == [
        ("err_validation_invalid_value", "parentId"),
        ("err_validation_invalid_value", "parentId"),
        ("err_folder_already_exists", "description"),
        ("err_validation_invalid_value", "description"),
        ("err_validation_blank", "description"),
        ("err_folder_not_found", "parentId"),
        ("err_folder_not_found", None),
        ("err_validation_null", "id")]
    # The tree is as it was.
    assert {f["id"]: f["parentId"] for f in folders(harness, tenant, {"query": "Low"})} == {
        low["id"]: middle["id"]}


def test_delete_group_takes_its_folders_members_and_settings(harness: Harness) -> None:
    tenant = harness.tenant()
    top = create(harness, tenant, "Top")
    below = create(harness, tenant, "Below", top["id"])
    keep = create(harness, tenant, "Keep")
    add(harness, tenant, below["id"], emailAddress="m@example.org")
    with harness.session_ctx(tenant) as ctx:
        profile = profiles.create_auth_profile(ctx, "short", 60)
        profiles.create_app_setting(ctx, "below", "Top/Below", str(profile.id))
    assert ok(harness, tenant, "delete-group", [{"id": top["id"]}]) == [
        {"id": top["id"], "description": "Top", "deleted": True}]
    assert [f["id"] for f in folders(harness, tenant)] == [keep["id"]]
    for group in (top["id"], below["id"]):
        error = only_error(post(harness, tenant, "get-group-members", [{"id": group}]))
        assert error["code"] == "err_folder_not_found"
    with harness.session_ctx(tenant) as ctx:
        assert ctx.session.scalar(select(AppSetting.id).where(
            AppSetting.account_id == tenant.account_id)) is None
    assert events(harness, tenant)[-1] == ("Profile group deleted", "Top")
    body = post(harness, tenant, "delete-group", [{"id": top["id"]}, {}])
    assert [(f["key"], f["errors"][0]["code"]) for f in body["fail"]] == [
        ({"id": top["id"]}, "err_folder_not_found"), ({}, "err_validation_null")]


# Permissions and tenants --------------------------------------------------------------------

EDITS = {"add-group-member": {"emailAddress": "x@example.org"},
         "remove-group-member": {"emailAddress": "x@example.org"},
         "update-group": {"description": "New"}, "delete-group": {}}


def test_permissions(harness: Harness) -> None:
    reader = harness.tenant(role="Basic Administrator")
    with harness.session_ctx(reader) as ctx:
        group = profiles.create_group(ctx, "Readable")
        ctx.session.flush()
        group_id = directory.secure_id(group.id)
    assert [f["description"] for f in folders(harness, reader)] == ["Readable"]
    assert members(harness, reader, group_id) == []
    calls = [("create-group", {"description": "New"}),
             *((action, {"id": group_id, **item}) for action, item in EDITS.items())]
    for action, item in calls:
        assert permissions.GROUPS_EDIT in forbidden(harness, reader, action, [item])
    # A role without Groups | Read sees no groups.
    nobody = harness.tenant(role=None)
    with harness.session_ctx(nobody) as ctx:
        identity.create_role(ctx, "Domains only", [permissions.DOMAINS_READ])
        identity.add_role_member(ctx, "Domains only", nobody.email)
    for action, item in (("find-groups", {}), ("get-group-members", {"id": group_id})):
        response = harness.call(nobody.keys, f"/api/directory/{action}", {"data": [item]})
        assert response.status_code == 403, action
        [error] = response.json()["fail"][0]["errors"]
        assert permissions.GROUPS_READ in error["message"]
    assert [f["description"] for f in folders(harness, reader)] == ["Readable"]


def test_tenant_isolation(harness: Harness) -> None:
    a, b = harness.tenant(), harness.tenant()
    theirs = create(harness, a, "Private")
    add(harness, a, theirs["id"], emailAddress="secret@example.org")
    assert folders(harness, b) == [] and folders(harness, b, {"query": "Private"}) == []
    for action, item in (("get-group-members", {}), *EDITS.items(),
                         ("add-group-member", {"domain": "example.org"})):
        error = only_error(post(harness, b, action, [{"id": theirs["id"], **item}]))
        assert error["code"] == "err_folder_not_found", action
    error = only_error(post(harness, b, "create-group", [{"description": "Inside",
                                                          "parentId": theirs["id"]}]))
    assert (error["code"], error["field"]) == ("err_folder_not_found", "parentId")
    mine = create(harness, b, "Mine")
    error = only_error(post(harness, b, "update-group", [{"id": mine["id"],
                                                          "parentId": theirs["id"]}]))
    assert (error["code"], error["field"]) == ("err_folder_not_found", "parentId")
    # A's group is untouched; B's ids mean nothing to A either.
    assert folders(harness, a) == [{**theirs, "userCount": 1}]
    assert [m["emailAddress"] for m in members(harness, a, theirs["id"])] == [
        "secret@example.org"]
    assert only_error(post(harness, a, "delete-group", [{"id": mine["id"]}]))["code"] == (
        "err_folder_not_found")
