"""The URL Protect endpoints (`ttp/url`) over real HTTP: managed URLs (create, list with paging
and filters, delete), decoding rewritten links, bad input, permissions, tenant isolation, and
`mimicast admin url-protect` as a subprocess against the same store."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from typing import Any

from api import Namespace, audit_events, only_error

from mimicast.services import identity, permissions, url_rewrite
from mimicast.testing import Harness
from mimicast.testing.harness import Tenant

Cli = Callable[..., "subprocess.CompletedProcess[str]"]
LINK = re.compile(r"^https://protect-us\.mimecast\.com/s/[A-Za-z0-9_-]{22}\?domain=(.+)$")
FLAGS = {"disableUserAwareness": False, "disableRewrite": False, "disableLogClick": False}
URLS = Namespace("/api/ttp/url/")
post, ok, request_error, forbidden = URLS.post, URLS.ok, URLS.request_error, URLS.forbidden


def create(harness: Harness, tenant: Tenant, url: str, action: str = "block",
           **extra: Any) -> dict[str, Any]:
    [created] = ok(harness, tenant, "create-managed-url", [{"url": url, "action": action, **extra}])
    return dict(created)


def url_events(harness: Harness, tenant: Tenant) -> list[tuple[str, str, str]]:
    return [(e.actor, e.event_type, e.info)
            for e in audit_events(harness, tenant, category="ttp_url_logs")]


def issue(harness: Harness, tenant: Tenant, url: str) -> str:
    """A rewritten link, issued as the mail flow would issue it."""
    with harness.session_ctx(tenant) as ctx:
        return url_rewrite.rewrite(ctx, url)


def listed(harness: Harness, tenant: Tenant, item: dict[str, Any] | None = None
           ) -> list[dict[str, Any]]:
    body = post(harness, tenant, "get-all-managed-urls", [item] if item else [],
                {"pagination": {"pageSize": 500}})
    assert body["fail"] == [] and "next" not in body["meta"]["pagination"]
    return list(body["data"])


# create-managed-url -------------------------------------------------------------------------

def test_create_managed_url_answers_the_r7_shape(harness: Harness, tenant: Tenant) -> None:
    created = create(harness, tenant, "https://www.Test-Shape.net/", "permit")
    assert isinstance(created.pop("id"), str)
    assert created == {"scheme": "https", "domain": "www.test-shape.net", "port": -1,
                       "path": "/", "queryString": "", "matchType": "explicit",
                       "action": "permit", "comment": "", **FLAGS}
    assert url_events(harness, tenant)[-1] == (
        tenant.email, "Managed URL created", "permit explicit https://www.test-shape.net/")


def test_create_managed_url_splits_urls_and_bare_domains(harness: Harness,
                                                         tenant: Tenant) -> None:
    bare = create(harness, tenant, "bare-split.example/Some/Path?q=1&r=Two")
    assert (bare["scheme"], bare["domain"], bare["port"], bare["path"], bare["queryString"]) == (
        "", "bare-split.example", -1, "/Some/Path", "q=1&r=Two")
    only_host = create(harness, tenant, "host-only.example")
    assert (only_host["scheme"], only_host["path"], only_host["port"]) == ("", "", -1)
    default_port = create(harness, tenant, "HTTP://Default-Port.example:80/a#fragment")
    assert (default_port["scheme"], default_port["port"], default_port["path"]) == (
        "http", -1, "/a")
    other_port = create(harness, tenant, "https://other-port.example:8443/x")
    assert other_port["port"] == 8443
    domain = create(harness, tenant, "https://Whole-Domain.example/ignored", "permit",
                    matchType="DOMAIN", comment="partner", disableRewrite=True,
                    disableUserAwareness="true", disableLogClick=1)
    assert domain["matchType"] == "domain" and domain["domain"] == "whole-domain.example"
    assert domain["comment"] == "partner"
    assert (domain["disableRewrite"], domain["disableUserAwareness"],
            domain["disableLogClick"]) == (True, True, True)


def test_duplicate_managed_url_echoes_the_key_with_override_flag(harness: Harness,
                                                                 tenant: Tenant) -> None:
    create(harness, tenant, "https://dup.example/page")
    # The same URL once normalised: host case and the default port do not make it new.
    item = {"url": "HTTPS://DUP.example:443/page", "action": "permit"}
    error = only_error(post(harness, tenant, "create-managed-url", [item]),
                       {**item, "overrideUrl": False})
    assert error == {"code": "err_managed_url_exists_code", "retryable": False,
                     "message": "The managed URL already exists; to update it, delete and "
                                "recreate"}
    # Another path, or the whole domain, is another entry; a second domain entry is not.
    create(harness, tenant, "https://dup.example/page/")
    create(harness, tenant, "dup.example", matchType="domain")
    item = {"url": "http://dup.example/else", "action": "block", "matchType": "domain"}
    error = only_error(post(harness, tenant, "create-managed-url", [item]),
                       {**item, "overrideUrl": False})
    assert error["code"] == "err_managed_url_exists_code"
    # Several items: the good one is created, the duplicate fails on its own.
    items = [{"url": "https://dup.example/new", "action": "block"},
             {"url": "https://dup.example/page", "action": "block", "overrideUrl": False}]
    body = post(harness, tenant, "create-managed-url", items)
    assert [d["path"] for d in body["data"]] == ["/new"]
    assert [f["key"] for f in body["fail"]] == [items[1]]


def test_create_managed_url_bad_input(harness: Harness, tenant: Tenant) -> None:
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({"action": "block"}, "err_validation_null", "url"),
        ({"url": "  ", "action": "block"}, "err_validation_blank", "url"),
        ({"url": "https://ok.example"}, "err_validation_null", "action"),
        ({"url": "https://ok.example", "action": None}, "err_validation_null", "action"),
        ({"url": "https://ok.example", "action": "allow"}, "err_validation_invalid_value",
         "action"),
        ({"url": "https://ok.example", "action": "block", "matchType": "regex"},
         "err_validation_invalid_value", "matchType"),
    ]
    for bad in ("http://", "exa mple.example", "https://x.example:99999/", "http://[::1/",
                "javascript:alert(1)", "https://" + "a" * 2050 + ".example"):
        cases.append(({"url": bad, "action": "block"}, "err_validation_invalid_value", "url"))
    for item, code, field in cases:
        # The key echoes the item: only a duplicate carries overrideUrl.
        error = only_error(post(harness, tenant, "create-managed-url", [item]), item)
        assert (error["code"], error.get("field")) == (code, field), item
    assert request_error(harness, tenant, "create-managed-url", [])["code"] == (
        "err_validation_item_count")


# get-all-managed-urls -----------------------------------------------------------------------

def test_get_all_managed_urls_walks_pages_by_key(harness: Harness) -> None:
    owner = harness.tenant()
    urls = [f"https://walk{i}.example/p" for i in (5, 2, 7, 0, 6, 3, 1, 4)]
    made = {create(harness, owner, url)["id"]: url for url in urls}
    seen: list[dict[str, Any]] = []
    pages: list[dict[str, Any]] = []
    token = None
    while True:
        pagination: dict[str, Any] = {"pageSize": 3}
        if token:
            pagination["pageToken"] = token
        body = post(harness, owner, "get-all-managed-urls", [], {"pagination": pagination})
        meta = body["meta"]["pagination"]
        assert meta["pageSize"] == len(body["data"]) and meta["totalCount"] == 8
        assert ("previous" in meta) == bool(pages)
        pages.append(body)
        seen.extend(body["data"])
        token = meta.get("next")
        if token is None:
            break
    assert [len(p["data"]) for p in pages] == [3, 3, 2]
    assert [f"{d['scheme']}://{d['domain']}{d['path']}" for d in seen] == sorted(urls)
    assert {d["id"] for d in seen} == set(made)
    # `previous` of the second page is the first page again.
    back = post(harness, owner, "get-all-managed-urls", [],
                {"pagination": {"pageSize": 3,
                                "pageToken": pages[1]["meta"]["pagination"]["previous"]}})
    assert back["data"] == pages[0]["data"]
    # A forged token, or one of the same list with other filters, is refused.
    for item, bad in (({}, "not-a-token"),
                      ({"domainOrUrl": "walk"}, pages[0]["meta"]["pagination"]["next"])):
        body = post(harness, owner, "get-all-managed-urls", [item] if item else [],
                    {"pagination": {"pageToken": bad}})
        error = only_error(body)
        assert (error["code"], error["field"]) == ("err_validation_invalid_value", "pageToken")


def test_get_all_managed_urls_filters(harness: Harness) -> None:
    owner = harness.tenant()
    page = create(harness, owner, "https://shop.example/Cart?id=1")
    root = create(harness, owner, "shop.example")
    whole = create(harness, owner, "shop.example", matchType="domain")
    other = create(harness, owner, "https://other.example/shop")

    def ids(rows: list[dict[str, Any]]) -> set[str]:
        return {row["id"] for row in rows}

    assert ids(listed(harness, owner)) == {page["id"], root["id"], whole["id"], other["id"]}
    # Substring, any case, over the whole URL.
    assert ids(listed(harness, owner, {"domainOrUrl": "SHOP"})) == ids(
        [page, root, whole, other])
    assert ids(listed(harness, owner, {"domainOrUrl": "cart?ID"})) == {page["id"]}
    # Exact: the domain, or the whole (normalised) URL.
    assert ids(listed(harness, owner, {"domainOrUrl": "Shop.Example",
                                       "exactMatch": True})) == {page["id"], root["id"],
                                                                 whole["id"]}
    assert ids(listed(harness, owner, {"domainOrUrl": "HTTPS://shop.example:443/Cart?id=1",
                                       "exactMatch": "true"})) == {page["id"]}
    assert listed(harness, owner, {"domainOrUrl": "shop", "exactMatch": True}) == []
    assert listed(harness, owner, {"domainOrUrl": "100%_"}) == []


# delete-managed-url -------------------------------------------------------------------------

def test_delete_managed_url(harness: Harness) -> None:
    owner = harness.tenant()
    gone, kept = create(harness, owner, "https://gone.example/"), create(harness, owner,
                                                                        "kept.example")
    body = post(harness, owner, "delete-managed-url", [{"id": gone["id"]}])
    assert body == {"meta": {"status": 200}, "data": [], "fail": []}
    assert listed(harness, owner) == [kept]
    assert url_events(harness, owner)[-1] == (owner.email, "Managed URL deleted",
                                              "block explicit https://gone.example/")
    # Gone for good; and what never was an id fails the same way.
    for item in ({"id": gone["id"]}, {"id": "garbage"}, {"id": "eNoLy0_PTHEEAAeMAlA"}):
        error = only_error(post(harness, owner, "delete-managed-url", [item]), item)
        assert error == {"code": "err_managed_url_not_found", "message": "Managed URL not found",
                         "retryable": False}
    item = {"ID": kept["id"]}
    error = only_error(post(harness, owner, "delete-managed-url", [item]), item)
    assert (error["code"], error["field"]) == ("err_validation_null", "id")
    assert request_error(harness, owner, "delete-managed-url", [])["code"] == (
        "err_validation_item_count")
    assert listed(harness, owner) == [kept]


# decode-url ---------------------------------------------------------------------------------

def test_decode_url_answers_the_original(harness: Harness, tenant: Tenant) -> None:
    original = "https://Files.example/Report.pdf?version=2&x=%20y"
    link = issue(harness, tenant, original)
    match = LINK.match(link)
    assert match and match.group(1) == "files.example"
    bare = link.split("?")[0]
    variants = [link, bare, bare + "/", bare.replace("https://", "http://"),
                bare.replace("https://", "HTTPS://"), f"  {link}  "]
    body = post(harness, tenant, "decode-url", [{"url": v} for v in variants])
    assert body["fail"] == []
    assert body["data"] == [{"url": original, "success": True}] * len(variants)
    second = "http://second.example/"
    body = post(harness, tenant, "decode-url", [{"url": issue(harness, tenant, second)},
                                                {"url": link}])
    assert [d["url"] for d in body["data"]] == [second, original]
    # A bare string item is read as the url.
    assert post(harness, tenant, "decode-url", [link])["data"] == [
        {"url": original, "success": True}]


def test_decode_url_refuses_what_it_did_not_issue(harness: Harness, tenant: Tenant) -> None:
    link = issue(harness, tenant, "https://real.example/")
    code = link.split("/s/")[1].split("?")[0]
    items: list[Any] = [{"url": link},
                        {"url": "https://real.example/"},
                        {"url": f"https://protect-us.mimecast.com/s/{code}x"},
                        {"url": f"https://evil.example/s/{code}"},
                        {"url": f"https://protect-us.mimecast.com/s/{code}/more"},
                        {"url": "not a link at all"}]
    body = post(harness, tenant, "decode-url", items)
    assert body["data"] == [{"url": "https://real.example/", "success": True}]
    assert [f["key"] for f in body["fail"]] == items[1:]
    for entry in body["fail"]:
        [error] = entry["errors"]
        assert error == {"code": "err_ttp_url_decode_failed", "field": "url", "retryable": False,
                         "message": "The URL is not a rewritten URL Protect link of this "
                                    "account"}
    error = only_error(post(harness, tenant, "decode-url", [{"link": link}]), {"link": link})
    assert (error["code"], error["field"]) == ("err_validation_null", "url")
    for count in (0, 26):
        error = request_error(harness, tenant, "decode-url", [{"url": link}] * count)
        assert error["code"] == "err_validation_item_count"
    assert len(post(harness, tenant, "decode-url", [{"url": link}] * 25)["data"]) == 25


# Permissions and tenants --------------------------------------------------------------------

def test_permissions(harness: Harness) -> None:
    basic = harness.tenant(role="Basic Administrator")
    for action, item in (("create-managed-url", {"url": "x.example", "action": "block"}),
                         ("delete-managed-url", {"id": "x"})):
        assert permissions.URL_PROTECT_EDIT in forbidden(harness, basic, action, [item])
    assert post(harness, basic, "get-all-managed-urls", [])["data"] == []
    # Decoding needs its own permission: a role with every other URL Protect right lacks it.
    reader = harness.tenant(role=None)
    with harness.session_ctx(reader) as ctx:
        identity.create_role(ctx, "URL editors", [permissions.URL_PROTECT_READ,
                                                  permissions.URL_PROTECT_EDIT])
        identity.add_role_member(ctx, "URL editors", reader.email)
    link = issue(harness, reader, "https://perm.example/")
    assert permissions.URL_DECODE in forbidden(harness, reader, "decode-url", [{"url": link}])
    create(harness, reader, "perm.example")
    nobody = harness.tenant(role=None)
    for action in ("create-managed-url", "get-all-managed-urls", "delete-managed-url",
                   "decode-url"):
        forbidden(harness, nobody, action, [{"url": link}])


def test_tenant_isolation(harness: Harness) -> None:
    a, b = harness.tenant(), harness.tenant()
    mine = create(harness, a, "https://isolated.example/", "permit")
    link = issue(harness, a, "https://isolated.example/secret")
    assert listed(harness, b) == []
    assert listed(harness, b, {"domainOrUrl": "isolated.example", "exactMatch": True}) == []
    error = only_error(post(harness, b, "delete-managed-url", [{"id": mine["id"]}]))
    assert error["code"] == "err_managed_url_not_found"
    error = only_error(post(harness, b, "decode-url", [{"url": link}]))
    assert error["code"] == "err_ttp_url_decode_failed"
    # Uniqueness is per account: B may manage the same URL.
    theirs = create(harness, b, "https://isolated.example/", "block")
    assert theirs["id"] != mine["id"]
    assert listed(harness, a) == [mine]
    assert post(harness, a, "decode-url", [{"url": link}])["data"] == [
        {"url": "https://isolated.example/secret", "success": True}]
    assert [e[1] for e in url_events(harness, b)] == ["Managed URL created"]


# The CLI ------------------------------------------------------------------------------------

def test_cli_rewrite_then_decode_over_http(harness: Harness, cli: Cli) -> None:
    owner = harness.tenant()
    db = harness.settings.db
    original = "https://cli.example/path?q=1"
    result = cli("admin", "url-protect", "rewrite", "--db", db, "--account", owner.code,
                 original)
    link = result.stdout.strip()
    assert LINK.match(link) and link.endswith("?domain=cli.example")
    body = post(harness, owner, "decode-url", [{"url": link}])
    assert body["data"] == [{"url": original, "success": True}]
    decoded = cli("admin", "url-protect", "decode", "--db", db, "--account", owner.code,
                  link.split("?")[0], "--json")
    assert decoded.stdout.strip() == (
        f'{{"url": "{original}", "rewrittenUrl": "{link.split("?")[0]}"}}')
    failed = cli("admin", "url-protect", "decode", "--db", db, "--account", owner.code,
                 "https://protect-us.mimecast.com/s/unknown", check=False)
    assert failed.returncode == 1 and failed.stdout == ""
    assert failed.stderr.strip() == (
        "error: The URL is not a rewritten URL Protect link of this account (url)")
