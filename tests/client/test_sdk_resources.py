"""Typed methods generated from the catalog, exercised on the account and domain namespaces."""

from __future__ import annotations

import asyncio
import base64
import inspect

import pytest
from sdk_helpers import ClientFactory, new_domain

from mimicast.catalog import ENDPOINTS
from mimicast.catalog.domain import (
    InternalDomain,
    PendingDomain,
    ProvisionStatus,
    VerificationCode,
    VerifyResult,
)
from mimicast.client import AsyncClient, Client, NotFoundError, ValidationError
from mimicast.client.resources import RESERVED, attribute_name, typed
from mimicast.services import dns
from mimicast.testing import Harness

pytestmark = pytest.mark.store_agnostic


@pytest.mark.parametrize("client_class", [Client, AsyncClient])
def test_every_signed_endpoint_has_its_method(client_class: type) -> None:
    client = client_class("http://127.0.0.1:9", "app", "key", "access", "c2VjcmV0")
    signed = [e for e in ENDPOINTS.values() if not e.unsigned]
    assert signed
    for endpoint in signed:
        resource = getattr(client, attribute_name(endpoint.namespace))
        method = getattr(resource, attribute_name(endpoint.action))
        assert method.endpoint is endpoint
        # A list endpoint's method returns a pager at once (it sends nothing until iterated).
        assert inspect.iscoroutinefunction(method) == (client_class is AsyncClient
                                                       and not endpoint.paged)
        params = inspect.signature(method).parameters
        fields = set(endpoint.request.model_fields)
        assert not fields & RESERVED, endpoint.path
        expected = fields | ({"page_size", "page_token"} if endpoint.paged else {"partial"}) | (
            {"items"} if endpoint.per_item else set())
        assert set(params) == expected, endpoint.path
        assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in params.values())
        assert endpoint.summary in (method.__doc__ or "")
    # Discovery and login are the client's business, not resource methods.
    for endpoint in ENDPOINTS.values():
        if endpoint.unsigned:
            resource = getattr(client, attribute_name(endpoint.namespace))
            assert not hasattr(resource, attribute_name(endpoint.action))
    if client_class is AsyncClient:
        asyncio.run(client.close())
    else:
        client.close()


def test_resources_are_attached_lazily(harness: Harness, client_for: ClientFactory) -> None:
    client = client_for(harness.tenant())
    assert "domain" not in vars(client)
    resource = client.domain
    assert vars(client)["domain"] is resource and client.domain is resource
    assert {"account", "domain", "login"} <= set(dir(client))
    with pytest.raises(AttributeError):
        _ = client.no_such_namespace
    # Class access is the login constructor; instance access is the namespace.
    assert inspect.ismethod(Client.login)
    assert hasattr(client.login, "logout")


def test_keyword_mistakes_are_type_errors(harness: Harness, client_for: ClientFactory) -> None:
    client = client_for(harness.tenant())
    with pytest.raises(TypeError, match="unexpected keyword"):
        client.domain.get_verification_code(domian="example.com")
    with pytest.raises(TypeError, match="not both"):
        client.domain.get_verification_code(domain="a.example", items=[{"domain": "b.example"}])
    # per_item=False endpoints read one filter item: they take no `items`.
    with pytest.raises(TypeError, match="unexpected keyword"):
        client.domain.get_internal_domain(items=[{"domain": "x"}])


def test_domain_lifecycle(harness: Harness, client_for: ClientFactory) -> None:
    tenant = harness.tenant()
    client = client_for(tenant)
    name = new_domain()
    (created,) = client.domain.create_domain(domain=name, inboundType="any")
    assert isinstance(created, PendingDomain) and created.domain == name and created.token

    (pending,) = client.domain.get_pending_domain(domain=name)
    assert pending.id == created.id
    (code,) = client.domain.get_verification_code(domain=name)
    assert isinstance(code, VerificationCode) and code.token == created.token
    (status,) = client.domain.get_provision_status(domain=name)
    assert isinstance(status, ProvisionStatus) and status.status == "pending"

    with harness.session_ctx(tenant) as ctx:
        dns.add_txt(ctx.session, name, code.token)
    (verified,) = client.domain.verify_domain(id=created.id)
    assert isinstance(verified, VerifyResult) and verified.verified
    (status,) = client.domain.get_provision_status(domain=name)
    assert status.status == "internal" and status.verifiedDate

    internal = client.domain.get_internal_domain()
    assert all(isinstance(d, InternalDomain) for d in internal)
    assert {tenant.domain, name} <= {d.domain for d in internal}
    assert [d.domain for d in client.domain.get_internal_domain(domain=name)] == [name]
    assert client.domain.get_pending_domain(domain=name) == []


def test_several_items_and_deleting_a_pending_domain(harness: Harness,
                                                     client_for: ClientFactory) -> None:
    client = client_for(harness.tenant())
    names = [new_domain() for _ in range(3)]
    created = client.domain.create_domain(
        items=[{"domain": n, "inboundType": "smtp"} for n in names])
    assert [c.domain for c in created] == names
    codes = client.domain.get_verification_code(items=[{"domain": n} for n in names])
    assert [c.token for c in codes] == [c.token for c in created]
    (deleted,) = client.domain.delete_pending_domain(domain=names[0])
    assert deleted.deleted and deleted.domain == names[0]
    remaining = {d.domain for d in client.domain.get_pending_domain()}
    assert names[0] not in remaining and set(names[1:]) <= remaining
    # No item at all: the server's item-count check, as a ValidationError.
    with pytest.raises(ValidationError) as caught:
        client.domain.get_verification_code()
    assert caught.value.code == "err_validation_item_count"


def test_items_may_be_request_models(harness: Harness, client_for: ClientFactory) -> None:
    from mimicast.catalog.domain import DomainItem

    tenant = harness.tenant()
    client = client_for(tenant)
    (status,) = client.domain.get_provision_status(items=[DomainItem(domain=tenant.domain)])
    assert status.status == "internal"


def test_an_unexpected_answer_is_still_returned_as_the_model() -> None:
    endpoint = ENDPOINTS["/api/domain/get-verification-code"]
    (strict, loose, raw) = typed(endpoint, [{"domain": "a", "token": "t"}, {"domain": "b"}, 7])
    assert isinstance(strict, VerificationCode) and strict.token == "t"
    assert isinstance(loose, VerificationCode) and loose.domain == "b"
    assert raw == 7
    logout = ENDPOINTS["/api/login/logout"]
    assert typed(logout, [{"logout": True}]) == [{"logout": True}]


def test_file_endpoints_return_bytes_and_raise_on_failure(harness: Harness,
                                                          client_for: ClientFactory) -> None:
    """send-email then get-file through the typed methods: the file comes back as bytes."""
    client = client_for(harness.tenant())
    data = b"\x00\x01 binary \xff"
    (sent,) = client.email.send_email(
        to=[{"emailAddress": "buyer@customer.example.com"}], subject="File",
        attachments=[{"filename": "a.bin", "content": base64.b64encode(data).decode()}])
    (detail,) = client.gateway_message.get_message_detail(id=sent.id)
    assert client.gateway_message.get_file(id=detail.attachments[0]["id"]) == data
    eml = client.gateway_message.get_file(id=sent.id)
    assert isinstance(eml, bytes) and b"Subject: File" in eml
    with pytest.raises(NotFoundError):
        client.gateway_message.get_file(id="nope")
