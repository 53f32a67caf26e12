"""get-internal-users (key-based paging), attributes, aliases and delegates over real HTTP:
shapes, bad input, permissions, tenant isolation and the audit trail."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from api import DATE, Namespace, address, audit_events, failures

from mimicast.services import identity
from mimicast.services.audit import USERS
from mimicast.testing import Harness
from mimicast.testing.harness import Tenant

USERS_API = Namespace("/api/user/")
post, ok, forbidden = USERS_API.post, USERS_API.ok, USERS_API.forbidden


def new_users(harness: Harness, tenant: Tenant, count: int = 1) -> list[str]:
    emails = [address(tenant) for _ in range(count)]
    with harness.session_ctx(tenant) as ctx:
        for email in emails:
            identity.create_user(ctx, email, name=f"Name of {email}")
    return emails


def events(harness: Harness, tenant: Tenant, event_type: str) -> list[str]:
    return [e.info for e in audit_events(harness, tenant, category=USERS, event_type=event_type)]


# get-internal-users -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def directory(harness: Harness) -> tuple[Tenant, str, list[str], list[str]]:
    """A tenant with 8 users in its first domain (the administrator among them) and 5 in a
    second one: (tenant, second domain, first-domain addresses, second-domain addresses)."""
    tenant = harness.tenant()
    second = f"second-{secrets.token_hex(4)}.example.org"
    first_users = [tenant.email] + [f"user{n:02d}@{tenant.domain}" for n in range(7)]
    second_users = [f"person{n}@{second}" for n in range(5)]
    with harness.session_ctx(tenant) as ctx:
        identity.add_internal_domain(ctx, second)
        for email in first_users[1:] + second_users:
            identity.create_user(ctx, email, name=email.split("@")[0].title())
    return tenant, second, sorted(first_users), sorted(second_users)


def page(harness: Harness, tenant: Tenant, data: list[Any],
         pagination: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(data[0], meta.pagination) of one successful page."""
    body = post(harness, tenant, "get-internal-users", data, {"pagination": pagination})
    assert body["fail"] == [], body
    [wrapper] = body["data"]
    return wrapper, body["meta"]["pagination"]


def walk(harness: Harness, tenant: Tenant, data: list[Any], size: int
         ) -> list[tuple[list[str], dict[str, Any]]]:
    """Every page by `next`: (addresses, pagination) each."""
    pages = []
    token = None
    while True:
        pagination: dict[str, Any] = {"pageSize": size}
        if token:
            pagination["pageToken"] = token
        wrapper, meta = page(harness, tenant, data, pagination)
        pages.append(([u["emailAddress"] for u in wrapper["users"]], meta))
        assert meta["pageSize"] == len(wrapper["users"])
        assert wrapper["userCount"] == meta["totalCount"]
        token = meta.get("next")
        if not token:
            return pages
        assert len(pages) < 20, "the walk never ended"


def test_get_internal_users_walks_all_users_by_address(harness: Harness, directory: Any) -> None:
    tenant, _, first_users, second_users = directory
    everyone = sorted(first_users + second_users)
    pages = walk(harness, tenant, [], 3)
    assert [len(addresses) for addresses, _ in pages] == [3, 3, 3, 3, 1]
    assert [a for addresses, _ in pages for a in addresses] == everyone  # no gap, no repeat
    assert all(meta["totalCount"] == 13 for _, meta in pages)
    assert "previous" not in pages[0][1] and "next" not in pages[-1][1]
    assert all("previous" in meta for _, meta in pages[1:])
    # `previous` of the third page is the second page again.
    wrapper, meta = page(harness, tenant, [], {"pageSize": 3,
                                               "pageToken": pages[2][1]["previous"]})
    assert [u["emailAddress"] for u in wrapper["users"]] == pages[1][0]
    assert meta["next"] and meta["previous"]


def test_get_internal_users_by_domain(harness: Harness, directory: Any) -> None:
    tenant, second, first_users, second_users = directory
    pages = walk(harness, tenant, [{"domain": second.upper()}], 2)
    assert [addresses for addresses, _ in pages] == [second_users[0:2], second_users[2:4],
                                                      second_users[4:]]
    wrapper, meta = page(harness, tenant, [{"domain": tenant.domain}], {"pageSize": 100})
    assert wrapper["userCount"] == 8 and meta == {"pageSize": 8, "totalCount": 8}
    assert [u["emailAddress"] for u in wrapper["users"]] == first_users
    admin, user00 = wrapper["users"][:2]  # "admin@" sorts first; its name is its address
    assert admin == {"name": tenant.email, "emailAddress": tenant.email,
                     "domain": tenant.domain, "alias": False, "addressType": "internal",
                     "source": "cloud"}
    assert user00 == {**admin, "name": "User00", "emailAddress": f"user00@{tenant.domain}"}
    # Backwards through the filtered list, from the last page.
    back, _ = page(harness, tenant, [{"domain": second}],
                   {"pageSize": 2, "pageToken": pages[2][1]["previous"]})
    assert [u["emailAddress"] for u in back["users"]] == second_users[2:4]


def test_get_internal_users_defaults_and_count_only(harness: Harness, directory: Any) -> None:
    tenant, _, first_users, second_users = directory
    body = post(harness, tenant, "get-internal-users", [])
    [wrapper] = body["data"]
    assert len(wrapper["users"]) == 13 and wrapper["userCount"] == 13
    assert body["meta"]["pagination"] == {"pageSize": 13, "totalCount": 13}
    counted, meta = page(harness, tenant, [{}], {"pageSize": 0})
    assert counted == {"users": [], "userCount": 13}
    assert meta == {"pageSize": 0, "totalCount": 13}


def test_get_internal_users_refuses_foreign_or_forged_tokens(harness: Harness, directory: Any,
                                                             other: Tenant) -> None:
    tenant, second, _, _ = directory
    _, filtered = page(harness, tenant, [{"domain": second}], {"pageSize": 2})
    _, unfiltered = page(harness, tenant, [], {"pageSize": 2})
    _, others = page(harness, other, [], {"pageSize": 0})
    cases: list[tuple[Tenant, list[Any], str]] = [
        (tenant, [], filtered["next"]),  # a domain-filtered walk's token, unfiltered
        (tenant, [{"domain": tenant.domain}], filtered["next"]),  # another domain's
        (other, [], unfiltered["next"]),  # another account's token
        (tenant, [], "not-a-token"),
        (tenant, [], unfiltered["next"][:-2]),
    ]
    assert "next" not in others
    for who, data, token in cases:
        body = post(harness, who, "get-internal-users", data,
                    {"pagination": {"pageSize": 2, "pageToken": token}})
        assert body["data"] == []
        assert failures(body) == [(data[0] if data else {}, "err_validation_invalid_value",
                                   "pageToken")], token


def test_get_internal_users_never_shows_another_tenant(harness: Harness, directory: Any,
                                                       other: Tenant) -> None:
    tenant, second, _, _ = directory
    for data in ([], [{"domain": tenant.domain}], [{"domain": second}]):
        wrapper, meta = page(harness, other, data, {"pageSize": 50})
        assert all(u["emailAddress"].endswith("@" + other.domain) for u in wrapper["users"])
        assert not any(tenant.domain in u["emailAddress"] or second in u["emailAddress"]
                       for u in wrapper["users"])
    empty, meta = page(harness, other, [{"domain": second}], {"pageSize": 50})
    assert empty == {"users": [], "userCount": 0} and meta["pageSize"] == 0


def test_get_internal_users_bad_domain_and_permission(harness: Harness, tenant: Tenant,
                                                      groups_only: Tenant) -> None:
    body = post(harness, tenant, "get-internal-users", [{"domain": "not a domain"}])
    assert body["data"] == []
    assert failures(body) == [({"domain": "not a domain"}, "err_validation_invalid_domain",
                               "domain")]
    forbidden(harness, groups_only, "get-internal-users", [])


# Attributes ---------------------------------------------------------------------------------

def test_attributes_set_change_and_remove(harness: Harness, tenant: Tenant) -> None:
    [email] = new_users(harness, tenant)
    assert ok(harness, tenant, "get-attributes", [{"emailAddress": email}]) == [
        {"emailAddress": email, "attributes": []}]
    [updated] = ok(harness, tenant, "update-attributes", [{"emailAddress": email, "attributes": [
        {"name": "department", "value": "Sales"}, {"name": "costCentre", "value": 42}]}])
    assert updated == {"emailAddress": email, "attributes": [
        {"name": "costCentre", "value": "42"}, {"name": "department", "value": "Sales"}]}
    assert ok(harness, tenant, "get-attributes", [{"emailAddress": email}]) == [updated]
    [changed] = ok(harness, tenant, "update-attributes", [{"emailAddress": email, "attributes": [
        {"name": "department", "value": "Support"}, {"name": "costCentre", "value": ""},
        {"name": "unknown", "value": None}]}])
    assert changed == {"emailAddress": email, "attributes": [
        {"name": "department", "value": "Support"}]}
    assert events(harness, tenant, "User attributes updated")[-2:] == [
        f"{email}: set department, costCentre", f"{email}: set department; removed costCentre"]


def test_attributes_bad_items(harness: Harness, tenant: Tenant, other: Tenant) -> None:
    [email] = new_users(harness, tenant)
    items: list[Any] = [
        {"emailAddress": email, "attributes": []},
        {"emailAddress": email, "attributes": [{"value": "x"}]},
        {"emailAddress": email},
        {"emailAddress": other.email, "attributes": [{"name": "a", "value": "b"}]},
        {"emailAddress": "bad", "attributes": [{"name": "a", "value": "b"}]},
    ]
    body = post(harness, tenant, "update-attributes", items)
    assert body["data"] == []
    assert failures(body) == [
        (items[0], "err_validation_invalid_value", "attributes"),
        (items[1], "err_validation_null", "attributes.0.name"),
        (items[2], "err_validation_null", "attributes"),
        (items[3], "err_user_not_found", "emailAddress"),
        (items[4], "err_validation_invalid_email_address", "emailAddress"),
    ]
    body = post(harness, tenant, "get-attributes", [{"emailAddress": other.email}, {}])
    assert failures(body) == [({"emailAddress": other.email}, "err_user_not_found",
                               "emailAddress"), ({}, "err_validation_null", "emailAddress")]
    # The other tenant's user kept no attribute from the refused update.
    assert ok(harness, other, "get-attributes", [{"emailAddress": other.email}])[0][
        "attributes"] == []


def test_attributes_permissions(harness: Harness, basic: Tenant, groups_only: Tenant) -> None:
    forbidden(harness, basic, "update-attributes", [{"emailAddress": basic.email,
                                                     "attributes": [{"name": "a", "value": "b"}]}])
    assert ok(harness, basic, "get-attributes", [{"emailAddress": basic.email}])
    forbidden(harness, groups_only, "get-attributes", [{"emailAddress": groups_only.email}])


# Aliases ------------------------------------------------------------------------------------

def test_aliases_add_list_and_remove(harness: Harness, tenant: Tenant) -> None:
    [email] = new_users(harness, tenant)
    first, second = address(tenant, "b-alias"), address(tenant, "a-alias")
    added = ok(harness, tenant, "update-alias", [
        {"emailAddress": email, "aliasAddress": first.upper()},
        {"emailAddress": email, "aliasAddress": second}])
    assert added == [{"emailAddress": email, "aliasAddress": first},
                     {"emailAddress": email, "aliasAddress": second}]
    [listed] = ok(harness, tenant, "get-aliases", [{"emailAddress": email}])
    assert listed["emailAddress"] == email
    assert [a["aliasAddress"] for a in listed["aliases"]] == [second, first]
    assert all(set(a) == {"aliasAddress", "created"} and DATE.match(a["created"])
               for a in listed["aliases"])
    assert ok(harness, tenant, "remove-alias", [{"aliasAddress": first}]) == [
        {"emailAddress": email, "aliasAddress": first}]
    assert ok(harness, tenant, "remove-alias", [{"aliasAddress": second,
                                                 "emailAddress": email}]) == [
        {"emailAddress": email, "aliasAddress": second}]
    assert ok(harness, tenant, "get-aliases", [{"emailAddress": email}]) == [
        {"emailAddress": email, "aliases": []}]
    assert events(harness, tenant, "Alias added")[-2:] == [f"{first} → {email}",
                                                           f"{second} → {email}"]
    assert events(harness, tenant, "Alias removed")[-2:] == [f"{first} → {email}",
                                                             f"{second} → {email}"]
    # A removed alias is free again.
    ok(harness, tenant, "update-alias", [{"emailAddress": email, "aliasAddress": first}])


def test_aliases_bad_items(harness: Harness, tenant: Tenant, other: Tenant) -> None:
    email, neighbour = new_users(harness, tenant, 2)
    taken = address(tenant, "taken")
    ok(harness, tenant, "update-alias", [{"emailAddress": neighbour, "aliasAddress": taken}])
    items: list[Any] = [
        {"emailAddress": email, "aliasAddress": "x@elsewhere.example.org"},
        {"emailAddress": email, "aliasAddress": address(other)},
        {"emailAddress": email, "aliasAddress": neighbour},
        {"emailAddress": email, "aliasAddress": email},
        {"emailAddress": email, "aliasAddress": taken},
        {"emailAddress": email, "aliasAddress": "no-at-sign"},
        {"emailAddress": other.email, "aliasAddress": address(tenant)},
        {"emailAddress": email},
    ]
    body = post(harness, tenant, "update-alias", items)
    assert body["data"] == []
    assert failures(body) == [
        (items[0], "err_user_domain_not_internal", "aliasAddress"),
        (items[1], "err_user_domain_not_internal", "aliasAddress"),
        (items[2], "err_user_address_in_use", "aliasAddress"),
        (items[3], "err_user_address_in_use", "aliasAddress"),
        (items[4], "err_user_address_in_use", "aliasAddress"),
        (items[5], "err_validation_invalid_email_address", "aliasAddress"),
        (items[6], "err_user_not_found", "emailAddress"),
        (items[7], "err_validation_null", "aliasAddress"),
    ]
    removals: list[Any] = [{"aliasAddress": address(tenant)},
                           {"aliasAddress": taken, "emailAddress": email}, {}]
    body = post(harness, tenant, "remove-alias", removals)
    assert failures(body) == [(removals[0], "err_user_alias_not_found", "aliasAddress"),
                              (removals[1], "err_user_alias_not_found", "aliasAddress"),
                              (removals[2], "err_validation_null", "aliasAddress")]
    # Another tenant can neither see nor remove the alias, nor create a user at it.
    body = post(harness, other, "remove-alias", [{"aliasAddress": taken}])
    assert failures(body)[0][1] == "err_user_alias_not_found"
    body = post(harness, other, "get-aliases", [{"emailAddress": neighbour}])
    assert failures(body)[0][1] == "err_user_not_found"
    assert [a["aliasAddress"] for a in ok(harness, tenant, "get-aliases", [
        {"emailAddress": neighbour}])[0]["aliases"]] == [taken]


def test_aliases_permissions(harness: Harness, basic: Tenant, groups_only: Tenant) -> None:
    forbidden(harness, basic, "update-alias", [{"emailAddress": basic.email,
                                                "aliasAddress": address(basic)}])
    forbidden(harness, basic, "remove-alias", [{"aliasAddress": address(basic)}])
    assert ok(harness, basic, "get-aliases", [{"emailAddress": basic.email}])
    forbidden(harness, groups_only, "get-aliases", [{"emailAddress": groups_only.email}])


# Delegates ----------------------------------------------------------------------------------

def test_delegates_add_find_and_remove(harness: Harness, tenant: Tenant) -> None:
    owner, first, second = new_users(harness, tenant, 3)
    added = ok(harness, tenant, "add-delegate-user", [
        {"emailAddress": owner, "delegateAddress": first.upper()},
        # gh-tking/mimecast-sdk names the mailbox owner `primaryAddress`.
        {"primaryAddress": owner, "delegateAddress": second}])
    assert added == [{"emailAddress": owner, "delegateAddress": first},
                     {"emailAddress": owner, "delegateAddress": second}]
    [found] = ok(harness, tenant, "find-delegate-users", [{"emailAddress": owner}])
    assert found["emailAddress"] == owner
    assert [(d["emailAddress"], d["name"]) for d in found["delegates"]] == sorted(
        [(first, f"Name of {first}"), (second, f"Name of {second}")])
    assert all(DATE.match(d["created"]) for d in found["delegates"])
    # Delegation is one way.
    assert ok(harness, tenant, "find-delegate-users", [{"emailAddress": first}]) == [
        {"emailAddress": first, "delegates": []}]
    assert ok(harness, tenant, "remove-delegate-user", [
        {"emailAddress": owner, "delegateAddress": first}]) == [
        {"emailAddress": owner, "delegateAddress": first}]
    [left] = ok(harness, tenant, "find-delegate-users", [{"emailAddress": owner}])
    assert [d["emailAddress"] for d in left["delegates"]] == [second]
    assert events(harness, tenant, "Delegate added")[-2:] == [f"{first} → {owner}",
                                                              f"{second} → {owner}"]
    assert events(harness, tenant, "Delegate removed")[-1] == f"{first} → {owner}"


def test_delegates_bad_items(harness: Harness, tenant: Tenant, other: Tenant) -> None:
    owner, delegate = new_users(harness, tenant, 2)
    ok(harness, tenant, "add-delegate-user", [{"emailAddress": owner,
                                               "delegateAddress": delegate}])
    items: list[Any] = [
        {"emailAddress": owner, "delegateAddress": owner},
        {"emailAddress": owner, "delegateAddress": delegate},
        {"emailAddress": owner, "delegateAddress": address(tenant)},
        {"emailAddress": owner, "delegateAddress": other.email},
        {"emailAddress": other.email, "delegateAddress": delegate},
        {"emailAddress": owner},
    ]
    body = post(harness, tenant, "add-delegate-user", items)
    assert body["data"] == []
    assert failures(body) == [
        (items[0], "err_validation_invalid_value", "delegateAddress"),
        (items[1], "err_user_delegate_exists", "delegateAddress"),
        (items[2], "err_user_not_found", "delegateAddress"),
        (items[3], "err_user_not_found", "delegateAddress"),
        (items[4], "err_user_not_found", "emailAddress"),
        (items[5], "err_validation_null", "delegateAddress"),
    ]
    removals: list[Any] = [{"emailAddress": delegate, "delegateAddress": owner},
                           {"emailAddress": owner, "delegateAddress": "bad"}]
    body = post(harness, tenant, "remove-delegate-user", removals)
    assert failures(body) == [
        (removals[0], "err_user_delegate_not_found", "delegateAddress"),
        (removals[1], "err_validation_invalid_email_address", "delegateAddress")]
    # Another tenant sees nothing of them and cannot remove them.
    body = post(harness, other, "find-delegate-users", [{"emailAddress": owner}])
    assert failures(body) == [({"emailAddress": owner}, "err_user_not_found", "emailAddress")]
    body = post(harness, other, "remove-delegate-user", [{"emailAddress": owner,
                                                          "delegateAddress": delegate}])
    assert failures(body)[0][1] == "err_user_not_found"
    [still] = ok(harness, tenant, "find-delegate-users", [{"emailAddress": owner}])
    assert [d["emailAddress"] for d in still["delegates"]] == [delegate]


def test_delegates_permissions(harness: Harness, basic: Tenant, groups_only: Tenant) -> None:
    pair = [{"emailAddress": basic.email, "delegateAddress": basic.email}]
    forbidden(harness, basic, "add-delegate-user", pair)
    forbidden(harness, basic, "remove-delegate-user", pair)
    assert ok(harness, basic, "find-delegate-users", [{"emailAddress": basic.email}])
    forbidden(harness, groups_only, "find-delegate-users", [{"emailAddress": groups_only.email}])
