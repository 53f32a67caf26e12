"""The unmodified PyPI client `mimecast-api` 0.5 against the live server: it signs with
`encodebytes().rstrip()`, sends `x-mc-date` as bytes, and raises `MimecastAPIFail` with the
whole envelope whenever `fail` is non-empty."""

from __future__ import annotations

import base64
import os

import pytest
import requests
from mimecast_api import MimecastAPI, MimecastAPIFail  # type: ignore[import-untyped]
from mimecast_api.post_rest import simple_exchange  # type: ignore[import-untyped]

from mimicast.services import identity, url_rewrite
from mimicast.testing import Harness
from mimicast.testing.harness import Tenant


@pytest.fixture(scope="module")
def tenant(harness: Harness) -> Tenant:
    return harness.tenant()


def exchange(harness: Harness, tenant: Tenant, uri: str, payload: object, **changes: str
             ) -> list[dict[str, object]]:
    keys = {"access_key": tenant.keys.access_key, "secret_key": tenant.keys.secret_key,
            "app_id": tenant.keys.app_id, "app_key": tenant.keys.app_key}
    keys.update(changes)
    data: list[dict[str, object]] = simple_exchange(
        harness.url, keys["access_key"], keys["secret_key"], keys["app_id"], keys["app_key"],
        uri, payload)
    return data


def test_simple_exchange_get_account(harness: Harness, tenant: Tenant) -> None:
    data = exchange(harness, tenant, "/api/account/get-account", {"data": []})
    assert len(data) == 1
    assert data[0]["accountCode"] == tenant.code
    assert data[0]["domain"] == tenant.domain


def test_simple_exchange_get_support_info(harness: Harness, tenant: Tenant) -> None:
    data = exchange(harness, tenant, "/api/account/get-support-info", {"data": []})
    assert len(data) == 1 and "supportPackage" in data[0]


def test_a_bad_secret_raises_mimecast_api_fail(harness: Harness, tenant: Tenant) -> None:
    wrong = base64.b64encode(os.urandom(64)).decode()
    with pytest.raises(MimecastAPIFail) as failed:
        exchange(harness, tenant, "/api/account/get-account", {"data": []}, secret_key=wrong)
    envelope = failed.value.args[0]
    assert envelope["meta"]["status"] == 401
    assert envelope["fail"][0]["errors"][0] == {"code": "err_xdk_invalid_signature",
                                                "message": "0004 Invalid Signature",
                                                "retryable": False}


def test_a_bad_app_id_raises_mimecast_api_fail(harness: Harness, tenant: Tenant) -> None:
    with pytest.raises(MimecastAPIFail) as failed:
        exchange(harness, tenant, "/api/account/get-account", {"data": []}, app_id="INVALID")
    error = failed.value.args[0]["fail"][0]["errors"][0]
    assert error["code"] == "err_developer_key"
    assert error["message"] == "App ID is invalid: INVALID"


def test_an_unknown_endpoint_raises(harness: Harness, tenant: Tenant) -> None:
    with pytest.raises(MimecastAPIFail) as failed:
        exchange(harness, tenant, "/api/nowhere/no-such-action", {"data": []})
    assert failed.value.args[0]["meta"]["status"] == 404


def test_mimecast_api_object_lists_internal_domains(harness: Harness, tenant: Tenant) -> None:
    second = f"mail.{tenant.domain}"
    with harness.session_ctx(tenant) as ctx:
        identity.add_internal_domain(ctx, second)
    with requests.Session() as session:
        client = MimecastAPI(base_url=harness.url, access_key=tenant.keys.access_key,
                             secret_key=tenant.keys.secret_key, app_id=tenant.keys.app_id,
                             app_key=tenant.keys.app_key, session=session)
        # `_all_request` sends `{"data": [kwargs]}`: here `[{}]`, then a filter.
        everything = client._all_request("/api/domain/get-internal-domain")
        assert sorted(d["domain"] for d in everything) == sorted([tenant.domain, second])
        one = client._all_request("/api/domain/get-internal-domain", domain=second)
        assert [d["domain"] for d in one] == [second]
        account = client._single_request("/api/account/get-account")
        assert account["accountCode"] == tenant.code


# URL Protect through the client's own methods ------------------------------------------------

def api_for(harness: Harness, tenant: Tenant) -> MimecastAPI:
    keys = tenant.keys
    return MimecastAPI(base_url=harness.url, access_key=keys.access_key,
                       secret_key=keys.secret_key, app_id=keys.app_id, app_key=keys.app_key)


def test_block_url_then_find_it_managed(harness: Harness) -> None:
    tenant = harness.tenant()
    api = api_for(harness, tenant)
    made = api.block_url("https://phish.example.net/login?next=1#top", "explicit", "e2e")
    assert made["action"] == "block" and made["domain"] == "phish.example.net"
    assert made["path"] == "/login" and made["queryString"] == "next=1"
    assert api.is_url_managed("https://phish.example.net/login?next=1") == {
        "matchType": "explicit", "action": "block", "comment": "e2e"}
    assert api.is_url_managed("https://phish.example.net/other") is False
    api.block_url("https://bad.example.org/", "domain", "whole domain")
    assert api.is_url_managed("https://bad.example.org/anything",
                              only_match_domain_blocks=True)["matchType"] == "domain"
    listed = api.get_all_managed_urls("phish.example.net")
    assert [m["path"] for m in listed] == ["/login"]
    # A second block of the same URL: the client raises with the whole envelope.
    with pytest.raises(MimecastAPIFail) as failed:
        api.block_url("https://phish.example.net/login?next=1", "explicit", "again")
    [entry] = failed.value.args[0]["fail"]
    assert entry["errors"][0]["code"] == "err_managed_url_exists_code"


def test_decode_url_of_a_rewritten_link(harness: Harness) -> None:
    tenant = harness.tenant()
    with harness.session_ctx(tenant) as ctx:
        link = url_rewrite.rewrite(ctx, "https://news.example.com/story?id=7")
    api = api_for(harness, tenant)
    assert api.decode_url(link) == "https://news.example.com/story?id=7"
    with pytest.raises(MimecastAPIFail) as failed:
        api.decode_url("https://protect-us.mimecast.com/s/not-a-code?domain=x.example")
    [entry] = failed.value.args[0]["fail"]
    assert entry["errors"][0]["code"] == "err_ttp_url_decode_failed"


def test_list_recent_recipients_from(harness: Harness) -> None:
    """The client's one Message Finder call: a search by header sender over the last days,
    reading `data[0].trackedEmails[].to[].emailAddress`."""
    from datetime import timedelta

    from mimicast.services.context import utcnow
    from mimicast.services.mail import accept
    from mimicast.services.mail.facts import Draft, Recipient

    tenant = harness.tenant()
    sender = f"sales@{tenant.domain}"
    with harness.session_ctx(tenant) as ctx:
        identity.create_user(ctx, sender, name="Sales")
        accept.accept(ctx, [Draft(sender=sender, recipients=(Recipient(to),), external=False,
                                  received_at=utcnow() - timedelta(days=days))
                            for to, days in (("a@customer.example.com", 1),
                                             ("b@customer.example.com", 2),
                                             ("a@customer.example.com", 3),
                                             ("old@customer.example.com", 20))])
    api = api_for(harness, tenant)
    assert sorted(api.list_recent_recipients_from(sender, 7)) == [
        "a@customer.example.com", "b@customer.example.com"]
