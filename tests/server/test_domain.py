"""The seven domain endpoints over real HTTP: shapes, the verification flow, bad input,
permissions and tenant isolation."""

from __future__ import annotations

import re
import secrets
from typing import Any

from api import DATE, Namespace, only_error

from mimicast.services import dns
from mimicast.testing import Harness
from mimicast.testing.harness import Tenant

TOKEN = re.compile(r"^mimecast-verification=[0-9a-f]{32}$")
DOMAINS = Namespace("/api/domain/")
post, ok, request_error = DOMAINS.post, DOMAINS.ok, DOMAINS.request_error
forbidden = DOMAINS.forbidden


def new_domain() -> str:
    return f"d{secrets.token_hex(5)}.example.net"


def create(harness: Harness, tenant: Tenant, domain: str, inbound: str = "any") -> dict[str, Any]:
    [created] = ok(harness, tenant, "create-domain", [{"domain": domain, "inboundType": inbound}])
    return dict(created)


# Each endpoint's happy path -------------------------------------------------------------------

def test_create_domain_answers_a_pending_registration(harness: Harness) -> None:
    tenant = harness.tenant()
    domain = new_domain()
    created = create(harness, tenant, domain.upper() + ".", "SMTP")
    assert set(created) == {"id", "domain", "token", "created", "expiry"}
    assert created["domain"] == domain
    assert TOKEN.match(created["token"])
    assert DATE.match(created["created"]) and DATE.match(created["expiry"])
    assert created["expiry"] > created["created"]
    assert isinstance(created["id"], str) and created["id"].startswith("eN")


def test_create_domain_under_an_internal_parent_is_internal_at_once(harness: Harness) -> None:
    tenant = harness.tenant()
    child = f"mail.{tenant.domain}"
    created = create(harness, tenant, child, "ldap")
    assert created["token"] == "" and created["expiry"] == ""
    internal = post(harness, tenant, "get-internal-domain", [{"domain": child}])["data"]
    assert internal == [{"id": created["id"], "domain": child, "sendOnly": False, "local": False,
                         "inboundType": "ldap"}]
    assert post(harness, tenant, "get-pending-domain", [{"domain": child}])["data"] == []


def test_get_pending_domain_lists_and_filters(harness: Harness) -> None:
    tenant = harness.tenant()
    first, second = create(harness, tenant, new_domain()), create(harness, tenant, new_domain())
    listed = post(harness, tenant, "get-pending-domain", [])["data"]
    assert sorted(listed, key=lambda d: d["domain"]) == sorted([first, second],
                                                              key=lambda d: d["domain"])
    assert post(harness, tenant, "get-pending-domain",
                [{"domain": second["domain"]}])["data"] == [second]
    assert post(harness, tenant, "get-pending-domain", [{"id": first["id"]}])["data"] == [first]
    assert post(harness, tenant, "get-pending-domain", [{"id": "not-an-id"}])["data"] == []
    # The tenant's own (internal) domain is not pending.
    assert post(harness, tenant, "get-pending-domain", [{"domain": tenant.domain}])["data"] == []


def test_get_verification_code_answers_the_token(harness: Harness) -> None:
    tenant = harness.tenant()
    a, b = create(harness, tenant, new_domain()), create(harness, tenant, new_domain())
    body = post(harness, tenant, "get-verification-code",
                [{"domain": a["domain"]}, {"domain": b["domain"]}])
    assert body["fail"] == []
    assert body["data"] == [{"domain": a["domain"], "token": a["token"]},
                            {"domain": b["domain"], "token": b["token"]}]


def test_get_verification_code_seed_sample_body(harness: Harness) -> None:
    """Seed 004's Python sample posts `str(payload)`: a Python-repr body, single quotes."""
    tenant = harness.tenant()
    created = create(harness, tenant, new_domain())
    payload = {"data": [{"domain": created["domain"]}]}
    response = harness.call(tenant.keys, "/api/domain/get-verification-code",
                            content=str(payload).encode())
    assert response.status_code == 200, response.text
    assert response.json()["data"] == [{"domain": created["domain"], "token": created["token"]}]


def test_get_provision_status_pending_and_internal(harness: Harness) -> None:
    tenant = harness.tenant()
    created = create(harness, tenant, new_domain())
    body = post(harness, tenant, "get-provision-status",
                [{"domain": created["domain"]}, {"domain": tenant.domain}])
    assert body["fail"] == []
    pending, internal = body["data"]
    assert pending == {"id": created["id"], "domain": created["domain"], "status": "pending",
                       "verified": False, "created": created["created"],
                       "expiry": created["expiry"], "verifiedDate": ""}
    assert internal["domain"] == tenant.domain and internal["status"] == "internal"
    assert internal["verified"] is True and internal["expiry"] == ""
    assert DATE.match(internal["verifiedDate"])


def test_delete_pending_domain_by_name_and_by_id(harness: Harness) -> None:
    tenant = harness.tenant()
    by_name, by_id = create(harness, tenant, new_domain()), create(harness, tenant, new_domain())
    body = post(harness, tenant, "delete-pending-domain",
                [{"domain": by_name["domain"]}, {"id": by_id["id"]}])
    assert body["fail"] == []
    assert body["data"] == [{"id": by_name["id"], "domain": by_name["domain"], "deleted": True},
                            {"id": by_id["id"], "domain": by_id["domain"], "deleted": True}]
    assert post(harness, tenant, "get-pending-domain", [])["data"] == []
    # Gone for good: a second delete finds nothing.
    error = only_error(post(harness, tenant, "delete-pending-domain",
                            [{"domain": by_name["domain"]}]))
    assert error["code"] == "err_domain_not_found"


def test_delete_pending_domain_refuses_an_internal_domain(harness: Harness) -> None:
    tenant = harness.tenant()
    body = post(harness, tenant, "delete-pending-domain", [{"domain": tenant.domain}])
    assert only_error(body)["code"] == "err_domain_not_pending"
    assert body["fail"][0]["key"] == {"domain": tenant.domain}
    assert [d["domain"] for d in post(harness, tenant, "get-internal-domain", [])["data"]] == [
        tenant.domain]


def test_get_internal_domain_j1_shape(harness: Harness) -> None:
    tenant = harness.tenant()
    create(harness, tenant, new_domain())  # pending: not listed
    [internal] = post(harness, tenant, "get-internal-domain", [])["data"]
    assert set(internal) == {"id", "domain", "sendOnly", "local", "inboundType"}
    assert internal["domain"] == tenant.domain
    assert internal["sendOnly"] is False and internal["local"] is False
    assert internal["inboundType"] == "any"
    # Filters: by name, by id, and one that matches nothing.
    assert post(harness, tenant, "get-internal-domain",
                [{"domain": tenant.domain.upper()}])["data"] == [internal]
    assert post(harness, tenant, "get-internal-domain", [{"id": internal["id"]}])["data"] == [
        internal]
    assert post(harness, tenant, "get-internal-domain",
                [{"domain": "nothing.example.net"}])["data"] == []


# The whole flow -------------------------------------------------------------------------------

def test_register_publish_verify_flow(harness: Harness) -> None:
    tenant = harness.tenant()
    domain = new_domain()
    created = create(harness, tenant, domain)
    [pending] = post(harness, tenant, "get-pending-domain", [])["data"]
    assert pending == created
    [code] = post(harness, tenant, "get-verification-code", [{"domain": domain}])["data"]
    assert code == {"domain": domain, "token": created["token"]}

    body = post(harness, tenant, "verify-domain", [{"domain": domain}])
    error = only_error(body)
    assert error["code"] == "err_domain_verification_failed" and error["retryable"] is True
    assert body["fail"][0]["key"] == {"domain": domain}

    # A TXT record with some other value does not count.
    with harness.session_ctx(tenant) as ctx:
        dns.add_txt(ctx.session, domain, "v=spf1 -all")
    assert only_error(post(harness, tenant, "verify-domain", [{"domain": domain}]))["code"] == (
        "err_domain_verification_failed")

    with harness.session_ctx(tenant) as ctx:
        dns.add_txt(ctx.session, domain, code["token"])
    body = post(harness, tenant, "verify-domain", [{"domain": domain}])
    assert body["fail"] == []
    assert body["data"] == [{"id": created["id"], "domain": domain, "verified": True,
                             "status": "internal"}]

    internal = post(harness, tenant, "get-internal-domain", [])["data"]
    assert {"id": created["id"], "domain": domain, "sendOnly": False, "local": False,
            "inboundType": "any"} in internal
    assert post(harness, tenant, "get-pending-domain", [])["data"] == []
    [status] = post(harness, tenant, "get-provision-status", [{"domain": domain}])["data"]
    assert status["status"] == "internal" and status["verified"] is True
    # Verified once is verified: a second verify is refused, as is a new registration.
    assert only_error(post(harness, tenant, "verify-domain", [{"id": created["id"]}]))[
        "code"] == "err_domain_not_pending"
    assert only_error(post(harness, tenant, "create-domain",
                           [{"domain": domain, "inboundType": "any"}]))[
        "code"] == "err_domain_already_registered"


def test_verify_domain_by_id(harness: Harness) -> None:
    tenant = harness.tenant()
    created = create(harness, tenant, new_domain())
    with harness.session_ctx(tenant) as ctx:
        dns.add_txt(ctx.session, created["domain"], created["token"])
    body = post(harness, tenant, "verify-domain", [{"id": created["id"]}])
    assert body["fail"] == [] and body["data"][0]["status"] == "internal"


# Bad input ------------------------------------------------------------------------------------

def test_create_domain_missing_fields(harness: Harness) -> None:
    tenant = harness.tenant()
    body = post(harness, tenant, "create-domain", [{"inboundType": "any"}])
    error = only_error(body)
    assert error["code"] == "err_validation_null" and error["field"] == "domain"
    assert body["fail"][0]["key"] == {"inboundType": "any"}
    error = only_error(post(harness, tenant, "create-domain", [{"domain": new_domain()}]))
    assert error["code"] == "err_validation_null" and error["field"] == "inboundType"
    error = only_error(post(harness, tenant, "create-domain",
                            [{"domain": new_domain(), "inboundType": None}]))
    assert error["code"] == "err_validation_null" and error["field"] == "inboundType"
    error = only_error(post(harness, tenant, "create-domain",
                            [{"domain": "  ", "inboundType": "any"}]))
    assert error["code"] == "err_validation_blank" and error["field"] == "domain"


def test_create_domain_rejects_bad_names_and_types(harness: Harness) -> None:
    tenant = harness.tenant()
    for bad in ("user@example.net", "@example.net", "no-dot", "exa mple.net", "-x.example.net"):
        error = only_error(post(harness, tenant, "create-domain",
                                [{"domain": bad, "inboundType": "any"}]))
        assert (error["code"], error["field"]) == ("err_validation_invalid_domain", "domain"), bad
    error = only_error(post(harness, tenant, "create-domain",
                            [{"domain": new_domain(), "inboundType": "pop3"}]))
    assert (error["code"], error["field"]) == ("err_validation_invalid_value", "inboundType")
    error = only_error(post(harness, tenant, "create-domain",
                            [{"domain": 42, "inboundType": "any"}]))
    assert (error["code"], error["field"]) == ("err_validation_invalid_value", "domain")
    error = only_error(post(harness, tenant, "create-domain", ["example.net"]))
    assert error["code"] == "err_validation_invalid_value"
    assert post(harness, tenant, "get-pending-domain", [])["data"] == []


def test_item_counts(harness: Harness) -> None:
    tenant = harness.tenant()
    items = [{"domain": f"n{i}.example.net"} for i in range(51)]
    for action in ("get-verification-code", "get-provision-status"):
        error = request_error(harness, tenant, action, items)
        assert error["code"] == "err_validation_item_count"
        assert "at most 50" in error["message"]
    for action in ("create-domain", "get-verification-code", "verify-domain",
                   "get-provision-status", "delete-pending-domain"):
        error = request_error(harness, tenant, action, [])
        assert error["code"] == "err_validation_item_count", action
        assert "at least 1" in error["message"]
    # 50 is allowed: every unknown domain gets its own fail entry, echoing its key.
    body = post(harness, tenant, "get-provision-status", items[:50])
    assert body["data"] == [] and [f["key"] for f in body["fail"]] == items[:50]
    assert {f["errors"][0]["code"] for f in body["fail"]} == {"err_domain_not_found"}


def test_reference_items_need_a_domain_or_id(harness: Harness) -> None:
    tenant = harness.tenant()
    for action in ("verify-domain", "delete-pending-domain"):
        error = only_error(post(harness, tenant, action, [{}]))
        assert (error["code"], error["field"]) == ("err_validation_null", "domain"), action
        error = only_error(post(harness, tenant, action, [{"id": "garbage"}]))
        assert error["code"] == "err_domain_not_found", action
    error = only_error(post(harness, tenant, "get-internal-domain", [{"domain": "a@b.net"}]))
    assert (error["code"], error["field"]) == ("err_validation_invalid_domain", "domain")


def test_mixed_good_and_bad_items(harness: Harness) -> None:
    tenant = harness.tenant()
    good1, good2, taken = new_domain(), new_domain(), new_domain()
    create(harness, tenant, taken)
    items = [{"domain": good1, "inboundType": "any"},
             {"domain": "bad@example.net", "inboundType": "any"},
             {"domain": good2, "inboundType": "known"},
             {"domain": taken, "inboundType": "any"},
             {"domain": new_domain(), "inboundType": "nope"},
             {"domain": good1, "inboundType": "any"}]  # the first item's twin: already there
    body = post(harness, tenant, "create-domain", items)
    assert [d["domain"] for d in body["data"]] == [good1, good2]
    assert [f["key"] for f in body["fail"]] == [items[1], items[3], items[4], items[5]]
    assert [f["errors"][0]["code"] for f in body["fail"]] == [
        "err_validation_invalid_domain", "err_domain_already_registered",
        "err_validation_invalid_value", "err_domain_already_registered"]
    pending = {d["domain"] for d in post(harness, tenant, "get-pending-domain", [])["data"]}
    assert pending == {good1, good2, taken}

    body = post(harness, tenant, "get-verification-code",
                [{"domain": good1}, {"domain": "unknown.example.net"}, {"nodomain": 1}])
    assert body["data"] == [{"domain": good1, "token": body["data"][0]["token"]}]
    assert [f["errors"][0]["code"] for f in body["fail"]] == ["err_domain_not_found",
                                                              "err_validation_null"]
    assert body["fail"][1]["errors"][0]["field"] == "domain"


# Permissions and tenants ---------------------------------------------------------------------

REGISTER_ACTIONS = ("create-domain", "get-pending-domain", "get-verification-code",
                    "verify-domain", "get-provision-status", "delete-pending-domain")


def test_permission_register_new_domain_is_required(harness: Harness) -> None:
    reader = harness.tenant(role="Basic Administrator")
    for action in REGISTER_ACTIONS:
        message = forbidden(harness, reader, action,
                            [{"domain": new_domain(), "inboundType": "any"}])
        assert "Directories | Internal | Register New Domain" in message
    # Read permission is enough to list internal domains.
    body = post(harness, reader, "get-internal-domain", [])
    assert [d["domain"] for d in body["data"]] == [reader.domain]
    assert post(harness, harness.tenant(), "get-pending-domain", [])["data"] == []


def test_no_role_no_domains(harness: Harness) -> None:
    nobody = harness.tenant(role=None)
    for action in (*REGISTER_ACTIONS, "get-internal-domain"):
        response = harness.call(nobody.keys, f"/api/domain/{action}", {"data": []})
        assert response.status_code == 403, action
        assert response.json()["fail"][0]["errors"][0]["code"] == "err_xdk_forbidden"


def test_tenant_isolation(harness: Harness) -> None:
    a, b = harness.tenant(), harness.tenant()
    created = create(harness, a, new_domain())
    domain = created["domain"]

    assert post(harness, b, "get-pending-domain", [])["data"] == []
    assert post(harness, b, "get-pending-domain", [{"id": created["id"]}])["data"] == []
    assert post(harness, b, "get-internal-domain", [{"domain": a.domain}])["data"] == []
    for action, item in (("get-verification-code", {"domain": domain}),
                         ("get-provision-status", {"domain": domain}),
                         ("verify-domain", {"domain": domain}),
                         ("verify-domain", {"id": created["id"]}),
                         ("delete-pending-domain", {"domain": domain}),
                         ("delete-pending-domain", {"id": created["id"]}),
                         ("delete-pending-domain", {"domain": a.domain})):
        assert only_error(post(harness, b, action, [item]))["code"] == "err_domain_not_found", (
            action, item)
    # A's registration came through untouched.
    assert post(harness, a, "get-pending-domain", [])["data"] == [created]

    # B cannot register A's internal domain, nor anything under it.
    for name in (a.domain, f"mail.{a.domain}", f"x.y.{a.domain}"):
        error = only_error(post(harness, b, "create-domain", [{"domain": name,
                                                               "inboundType": "any"}]))
        assert error["code"] == "err_domain_managed_by_another_account", name


def test_a_pending_claim_does_not_block_another_account(harness: Harness) -> None:
    """Pending is not ownership: both may register; the first to verify owns the domain."""
    a, b = harness.tenant(), harness.tenant()
    domain = new_domain()
    mine, theirs = create(harness, a, domain), create(harness, b, domain)
    assert mine["token"] != theirs["token"] and mine["id"] != theirs["id"]
    with harness.session_ctx(a) as ctx:
        dns.add_txt(ctx.session, domain, mine["token"])
        dns.add_txt(ctx.session, domain, theirs["token"])
    assert post(harness, a, "verify-domain", [{"domain": domain}])["fail"] == []
    error = only_error(post(harness, b, "verify-domain", [{"domain": domain}]))
    assert error["code"] == "err_domain_managed_by_another_account"
    assert [d["domain"] for d in post(harness, b, "get-internal-domain", [])["data"]] == [
        b.domain]
