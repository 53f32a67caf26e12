"""The OpenAPI document and the docs page, fetched over HTTP from a live server.

openapi-spec-validator is not a dependency, so the 3.1 shape is checked here by hand: the
required objects and fields, every `$ref` resolving, and real responses conforming to the
schemas the document gives for them.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel

from mimicast.catalog import ENDPOINTS, Endpoint
from mimicast.catalog.model import Item, NoItem
from mimicast.server.openapi import (
    SECURITY_SCHEME,
    build_openapi,
    cached_openapi,
    items_label,
    permission_label,
)
from mimicast.testing import Harness
from mimicast.wire.errors import ERRORS

pytestmark = pytest.mark.store_agnostic

COMPONENT_NAME = re.compile(r"^[a-zA-Z0-9._-]+$")
JSON_TYPES = {"string", "number", "integer", "boolean", "array", "object", "null"}
PARAMETER_LOCATIONS = {"query", "header", "path", "cookie"}
SIGNED_HEADER_NAMES = {"x-mc-app-id", "x-mc-date", "x-mc-req-id"}


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    duplicates = {key for key in keys if keys.count(key) > 1}
    assert not duplicates, f"duplicate keys in the document: {duplicates}"
    return dict(pairs)


@pytest.fixture(scope="module")
def document(harness: Harness) -> dict[str, Any]:
    response = harness.http.get("/openapi.json")
    assert response.status_code == 200, response.text
    parsed: dict[str, Any] = json.loads(response.text, object_pairs_hook=_no_duplicate_keys)
    return parsed


def resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if ref is None:
        return node
    assert ref.startswith("#/"), ref
    target: Any = document
    for part in ref[2:].split("/"):
        assert part in target, f"unresolved $ref {ref}"
        target = target[part]
    assert isinstance(target, dict)
    return resolve(document, target)


def walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def conforms(document: dict[str, Any], schema: dict[str, Any], value: Any, where: str = "$"
             ) -> list[str]:
    """The subset of JSON Schema the document uses: enough to hold real answers against it."""
    schema = resolve(document, schema)
    problems: list[str] = []
    if "anyOf" in schema:
        if all(conforms(document, option, value, where) for option in schema["anyOf"]):
            problems.append(f"{where}: matches no anyOf option")
        return problems
    kinds = schema.get("type")
    kinds = [kinds] if isinstance(kinds, str) else kinds
    if kinds is not None:
        actual = {bool: "boolean", int: "integer", float: "number", str: "string",
                  list: "array", dict: "object", type(None): "null"}[type(value)]
        if actual not in kinds and not (actual == "integer" and "number" in kinds):
            return [f"{where}: {actual} is not {kinds}"]
    if isinstance(value, dict):
        for name in schema.get("required", []):
            if name not in value:
                problems.append(f"{where}: missing {name}")
        for name, sub in schema.get("properties", {}).items():
            if name in value:
                problems += conforms(document, sub, value[name], f"{where}.{name}")
    if isinstance(value, list):
        if len(value) < schema.get("minItems", 0):
            problems.append(f"{where}: fewer than minItems")
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            problems.append(f"{where}: more than maxItems")
        for index, item in enumerate(value):
            problems += conforms(document, schema.get("items", {}), item, f"{where}[{index}]")
    return problems


def envelope_schema(document: dict[str, Any], path: str, status: str) -> dict[str, Any]:
    response = resolve(document, document["paths"][path]["post"]["responses"][status])
    schema: dict[str, Any] = response["content"]["application/json"]["schema"]
    return schema


# --- transport ---------------------------------------------------------------------------------

def test_served_with_the_exact_json_content_type(harness: Harness) -> None:
    first = harness.http.get("/openapi.json")
    second = harness.http.get("/openapi.json")
    assert first.status_code == 200
    assert first.headers["content-type"] == "application/json"
    assert first.content == second.content  # cached, byte for byte


def test_the_process_builds_the_document_once(harness: Harness) -> None:
    url = harness.server.runtime.settings.base_url
    assert cached_openapi(ENDPOINTS, url)[0] is cached_openapi(ENDPOINTS, url)[0]
    assert cached_openapi(ENDPOINTS, "http://other.example")[0]["servers"] == [
        {"url": "http://other.example"}]


@pytest.mark.parametrize("path", ["/openapi.json", "/docs"])
def test_post_to_the_pages_is_an_envelope_not_a_500(harness: Harness, path: str) -> None:
    response = harness.http.post(path, json={"data": []})
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["data"] == [] and body["meta"]["status"] == 404
    assert body["fail"][0]["errors"][0]["code"] == "err_not_found"
    tenant = harness.tenant()
    signed = harness.call(tenant.keys, path)
    assert signed.status_code in (401, 404)
    assert signed.json()["fail"][0]["errors"][0]["code"] in ("err_not_found",
                                                             "err_xdk_invalid_signature")


def test_the_catch_all_still_answers_the_api(harness: Harness) -> None:
    wrong_method = harness.http.get("/api/account/get-account")
    assert wrong_method.status_code == 405
    assert wrong_method.json()["fail"][0]["errors"][0]["code"] == "err_method_not_allowed"
    tenant = harness.tenant()
    assert harness.call(tenant.keys, "/api/account/get-account").status_code == 200
    assert harness.http.get("/openapi.json/extra").status_code == 405


# --- OpenAPI 3.1 shape -------------------------------------------------------------------------

def test_top_level_shape(document: dict[str, Any], harness: Harness) -> None:
    assert document["openapi"] == "3.1.0"
    assert document["info"]["title"] and document["info"]["version"]
    assert document["servers"] == [{"url": harness.url}]
    declared_tags = [tag["name"] for tag in document["tags"]]
    assert sorted(declared_tags) == sorted({e.namespace for e in ENDPOINTS.values()})
    assert set(document["components"]) == {"schemas", "parameters", "headers", "responses",
                                           "securitySchemes"}
    for section in document["components"].values():
        assert all(COMPONENT_NAME.match(name) for name in section), list(section)


def test_every_ref_resolves_and_every_schema_is_well_formed(document: dict[str, Any]) -> None:
    refs = 0
    for node in walk(document):
        if "$ref" in node:
            refs += 1
            resolve(document, node)
        kind = node.get("type")  # a dict here is a property that happens to be named "type"
        if isinstance(kind, str):
            assert kind in JSON_TYPES | {"apiKey"}, kind
        elif isinstance(kind, list):
            assert set(kind) <= JSON_TYPES, kind
    assert refs > len(ENDPOINTS) * 3
    for name, schema in document["components"]["schemas"].items():
        required = set(schema.get("required", []))
        assert required <= set(schema.get("properties", {})), name


def test_every_catalog_path_appears_exactly_once(document: dict[str, Any]) -> None:
    # The fixture parsed with a duplicate-key check, so "once" is a set comparison here.
    assert sorted(document["paths"]) == sorted(ENDPOINTS)
    operation_ids = [item["post"]["operationId"] for item in document["paths"].values()]
    assert len(set(operation_ids)) == len(operation_ids)
    for path_item in document["paths"].values():
        assert list(path_item) == ["post"]


def test_each_operation_mirrors_its_catalog_entry(document: dict[str, Any]) -> None:
    for path, endpoint in ENDPOINTS.items():
        operation = document["paths"][path]["post"]
        assert operation["tags"] == [endpoint.namespace]
        assert operation["summary"] == endpoint.summary
        assert operation["x-mimicast-permission"] == endpoint.permission
        assert permission_label(endpoint) in operation["description"]
        assert items_label(endpoint) in operation["description"]
        # camelCased: message-finder → messageFinder_search
        namespace = endpoint.namespace.split("/")[0].replace("-", "")
        assert namespace in operation["operationId"].lower()


def test_request_bodies_follow_the_item_models(document: dict[str, Any]) -> None:
    for path, endpoint in ENDPOINTS.items():
        body = document["paths"][path]["post"]["requestBody"]
        schema = body["content"]["application/json"]["schema"]
        assert body["required"] is (endpoint.min_items > 0)
        assert resolve(document, schema["properties"]["meta"])["properties"]["pagination"]
        data = schema["properties"]["data"]
        assert data["type"] == "array"
        assert data["minItems"] == endpoint.min_items
        assert data.get("maxItems") == endpoint.max_items
        item = resolve(document, data["items"])
        wanted = {info.alias or name for name, info in endpoint.request.model_fields.items()}
        assert set(item.get("properties", {})) == wanted, path
        required = {info.alias or name for name, info in endpoint.request.model_fields.items()
                    if info.is_required()}
        assert set(item.get("required", [])) == required, path


def test_responses_are_the_envelope_of_the_response_model(document: dict[str, Any]) -> None:
    for path, endpoint in ENDPOINTS.items():
        responses = document["paths"][path]["post"]["responses"]
        assert all(re.fullmatch(r"[1-5][0-9][0-9]", code) for code in responses)
        assert {"200", "400", "429", "431", "500"} <= set(responses), path
        for code, response in responses.items():
            resolved = resolve(document, response)
            assert resolved["description"], (path, code)
            assert resolved["content"]["application/json"]["schema"], (path, code)
            # 431 and 500 are answered before any quota is looked up.
            quota = set() if code in ("431", "500") else {
                "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"}
            assert set(resolved.get("headers", {})) == quota, (path, code)
        envelope = envelope_schema(document, path, "200")
        assert envelope["required"] == ["meta", "data", "fail"]
        meta = resolve(document, envelope["properties"]["meta"])
        assert meta["required"] == ["status"]
        assert set(resolve(document, meta["properties"]["pagination"])["properties"]) == {
            "pageSize", "totalCount", "next", "previous"}
        fail = resolve(document, envelope["properties"]["fail"]["items"])
        error = resolve(document, fail["properties"]["errors"]["items"])
        assert set(error["properties"]) == {"code", "message", "retryable", "field"}
        assert set(error["required"]) == {"code", "message", "retryable"}
        item = resolve(document, envelope["properties"]["data"]["items"])
        if endpoint.response is not None:
            fields = {info.alias or name for name, info in endpoint.response.model_fields.items()}
            assert set(item["properties"]) == fields, path


def test_signed_operations_carry_the_signature(document: dict[str, Any]) -> None:
    scheme = document["components"]["securitySchemes"][SECURITY_SCHEME]
    assert (scheme["type"], scheme["in"], scheme["name"]) == ("apiKey", "header", "Authorization")
    assert "MC accessKey:signature" in scheme["description"]
    assert "HMAC-SHA1" in scheme["description"]
    signed = [path for path, e in ENDPOINTS.items() if not e.unsigned]
    assert signed
    for path in signed:
        operation = document["paths"][path]["post"]
        assert operation["security"] == [{SECURITY_SCHEME: []}]
        parameters = [resolve(document, p) for p in operation["parameters"]]
        assert {p["name"] for p in parameters} == SIGNED_HEADER_NAMES
        for parameter in parameters:
            assert parameter["in"] in PARAMETER_LOCATIONS and parameter["in"] == "header"
            assert parameter["required"] is True and parameter["schema"] == {"type": "string"}
        assert {"200", "400", "401", "403", "418", "429"} <= set(operation["responses"])
        unauthorized = resolve(document, operation["responses"]["401"])
        assert "err_xdk_invalid_signature" in unauthorized["description"]
        assert "err_xdk_authentication_failed" not in unauthorized["description"]


def test_unsigned_operations_have_no_security(document: dict[str, Any]) -> None:
    unsigned = {path: e for path, e in ENDPOINTS.items() if e.unsigned}
    assert set(unsigned) == {"/api/login/discover-authentication", "/api/login/login"}
    for path in unsigned:
        operation = document["paths"][path]["post"]
        assert not operation.get("security")
        names = {resolve(document, p)["name"] for p in operation.get("parameters", [])}
        assert not names & {"x-mc-date", "x-mc-req-id"}
        assert "418" not in operation["responses"]
    login = document["paths"]["/api/login/login"]["post"]
    authorization = [p for p in login["parameters"] if p.get("name") == "Authorization"]
    assert len(authorization) == 1
    assert "Basic-Cloud" in authorization[0]["description"]
    assert "Basic-AD" in authorization[0]["description"]
    assert "Basic-AD" in login["description"]
    failed = resolve(document, login["responses"]["401"])
    assert "err_xdk_authentication_failed" in failed["description"]
    throttled = resolve(document, login["responses"]["429"])
    assert "err_xdk_login_throttled" in throttled["description"]
    assert "409" in login["responses"]
    discover = document["paths"]["/api/login/discover-authentication"]["post"]
    assert "parameters" not in discover


def test_rate_limit_and_error_table_are_documented(document: dict[str, Any]) -> None:
    limited = document["components"]["responses"]["RateLimited"]
    assert "err_rate_limit_exceeded" in limited["description"]
    assert set(limited["headers"]) == {"X-RateLimit-Limit", "X-RateLimit-Remaining",
                                       "X-RateLimit-Reset"}
    for name in ("BadRequest", "Unauthorized", "LoginFailed", "Forbidden", "BindingExpired",
                 "BindingLimit", "RateLimited", "LoginThrottled", "HeadersTooLarge",
                 "InternalError"):
        assert name in document["components"]["responses"]
    # Every error an operation can answer with its own HTTP status is named by a documented
    # response. Not these: other paths and methods (404, 405, the upload URLs' PUT), the
    # CLI's, and an error only ever reported per item, inside a 200's `fail`.
    elsewhere = {"err_not_found", "err_method_not_allowed", "err_already_exists",
                 "err_object_not_found", "err_policy_not_found", "err_upload_url_invalid",
                 "err_upload_url_expired", "err_upload_size_mismatch",
                 "err_upload_sha256_mismatch"}
    named = " ".join(response["description"]
                     for response in document["components"]["responses"].values())
    for code, spec in ERRORS.items():
        if spec.status != 200 and code not in elsewhere:
            assert f"`{code}`" in named, code
    error_envelope = document["components"]["schemas"]["ErrorEnvelope"]
    assert error_envelope["properties"]["data"]["maxItems"] == 0
    assert error_envelope["properties"]["fail"]["minItems"] == 1
    description = document["info"]["description"]
    for code, spec in ERRORS.items():
        assert f"| `{code}` | {spec.status} |" in description


# --- the document against real answers -----------------------------------------------------

def test_real_answers_conform_to_the_documented_schemas(document: dict[str, Any],
                                                         harness: Harness) -> None:
    tenant = harness.tenant()
    ok = harness.call(tenant.keys, "/api/account/get-account")
    assert ok.status_code == 200
    schema = envelope_schema(document, "/api/account/get-account", "200")
    assert conforms(document, schema, ok.json()) == []

    discover = harness.http.post("/api/login/discover-authentication",
                                 json={"data": [{"emailAddress": tenant.email}]})
    schema = envelope_schema(document, "/api/login/discover-authentication", "200")
    assert conforms(document, schema, discover.json()) == []

    bad_keys = dataclasses.replace(tenant.keys, secret_key="c2VjcmV0")
    denied = harness.call(bad_keys, "/api/account/get-account")
    assert denied.status_code == 401
    schema = envelope_schema(document, "/api/account/get-account", "401")
    assert conforms(document, schema, denied.json()) == []
    # The checker is not vacuous: a success body is not an error envelope.
    assert conforms(document, schema, ok.json()) != []


# --- the catalog itself ------------------------------------------------------------------------

def catalog_problems(endpoints: dict[str, Endpoint]) -> list[str]:
    """What a new entry must provide for the document, the page and the SDK to be useful."""
    problems = []
    for path, e in endpoints.items():
        if e.path != path or not re.fullmatch(r"/api(/[a-z0-9]+(-[a-z0-9]+)*){2,}", path):
            problems.append(f"{path}: path is not /api/<namespace>/<action> in kebab case")
        if not isinstance(e.summary, str) or len(e.summary.strip()) < 10:
            problems.append(f"{path}: no summary")
        if not (isinstance(e.request, type) and issubclass(e.request, Item)) or e.request is Item:
            problems.append(f"{path}: no request item model")
        elif e.per_item and e.request is NoItem:
            # Run once per item with nothing to read: `data: []` would silently do nothing.
            problems.append(f"{path}: per-item endpoint without a request item model")
        if e.response is not None and not (isinstance(e.response, type)
                                           and issubclass(e.response, BaseModel)):
            problems.append(f"{path}: response is not a pydantic model")
        if e.max_items is not None and e.max_items < e.min_items:
            problems.append(f"{path}: max_items < min_items")
        if e.unsigned == (e.handler is not None):
            problems.append(f"{path}: unsigned entries have no handler, signed ones have one")
        if e.scalar_field and e.scalar_field not in getattr(e.request, "model_fields", {}):
            problems.append(f"{path}: scalar_field is not a request field")
    return problems


def test_every_catalog_entry_is_documentable() -> None:
    assert catalog_problems(ENDPOINTS) == []


def test_the_catalog_walk_catches_incomplete_entries() -> None:
    def handler(ctx: Any, item: Any) -> None:
        return None

    broken = {
        "/api/demo/no-summary": Endpoint("/api/demo/no-summary", "", handler, None,
                                         per_item=False),
        "/api/demo/no-model": Endpoint("/api/demo/no-model", "Runs once per item, reads none.",
                                       handler, None),
        "/api/demo/base": Endpoint("/api/demo/base", "Uses the bare base model.", handler, None,
                                   Item, per_item=False),
        "/api/Demo/odd_path": Endpoint("/api/Demo/odd_path", "A path in the wrong case.",
                                       handler, None, per_item=False),
    }
    problems = catalog_problems(broken)
    assert any("no-summary: no summary" in p for p in problems)
    assert any("no-model: per-item endpoint without" in p for p in problems)
    assert any("base: no request item model" in p for p in problems)
    assert any("odd_path: path is not" in p for p in problems)


def test_models_with_the_same_class_name_get_distinct_components() -> None:
    first = type("Thing", (Item,), {"__annotations__": {"a": str}, "__module__": "demo.one"})
    second = type("Thing", (Item,), {"__annotations__": {"b": int}, "__module__": "demo.two"})
    endpoints = {
        "/api/one/get": Endpoint("/api/one/get", "First.", lambda c, i: None, None, first),
        "/api/two/get": Endpoint("/api/two/get", "Second.", lambda c, i: None, None, second),
    }
    document = build_openapi(endpoints, "http://example.test")
    refs = [document["paths"][path]["post"]["requestBody"]["content"]["application/json"]
            ["schema"]["properties"]["data"]["items"]["$ref"] for path in endpoints]
    assert len(set(refs)) == 2
    fields = [set(resolve(document, {"$ref": ref})["properties"]) for ref in refs]
    assert fields == [{"a"}, {"b"}]


def test_a_model_named_like_an_envelope_schema_is_refused() -> None:
    clash = type("EnvelopeMeta", (Item,), {"__annotations__": {"a": str}})
    endpoints = {"/api/x/y": Endpoint("/api/x/y", "Clash.", lambda c, i: None, None, clash)}
    with pytest.raises(ValueError, match="clash"):
        build_openapi(endpoints, "http://example.test")


# --- the docs page -----------------------------------------------------------------------------

def test_docs_page_lists_every_endpoint(harness: Harness) -> None:
    response = harness.http.get("/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert page.lstrip().startswith("<!DOCTYPE html>")
    for path, endpoint in ENDPOINTS.items():
        assert f"<code>{path}</code>" in page
        assert f'id="ns-{endpoint.namespace}"' in page
        assert f"<strong>Items:</strong> {items_label(endpoint)}</span>" in page
        for name, info in endpoint.request.model_fields.items():
            assert f"<code>{info.alias or name}</code>" in page
        if endpoint.response is not None:
            for name, info in endpoint.response.model_fields.items():
                assert f"<code>{info.alias or name}</code>" in page
    for permission in {e.permission for e in ENDPOINTS.values() if e.permission}:
        assert permission in page
    assert "How to sign" in page and "HMAC-SHA1" in page and "Basic-AD" in page
    # Nested response models are flattened: discovery's region.api.
    assert "<code>region.api</code>" in page
    assert "err_xdk_invalid_signature" in page
    assert "built-in method" not in page and "Undefined" not in page
    # Markdown code spans in summaries and field descriptions become <code>; nothing raw.
    assert "`" not in page.split("<main>", 1)[1].split('id="errors"', 1)[0]


def test_docs_page_escapes_catalog_text() -> None:
    from mimicast.server.openapi import render_docs

    hostile = Endpoint("/api/x/y", "Uses `<b>code</b>` and <script>alert(1)</script>.",
                       lambda c, i: None, None, per_item=False)
    page = render_docs({"/api/x/y": hostile}, "http://example.test")
    assert "<script>" not in page and "<b>" not in page
    assert "<code>&lt;b&gt;code&lt;/b&gt;</code>" in page


def test_docs_page_is_self_contained(harness: Harness) -> None:
    page = harness.http.get("/docs").text
    assert "<script" not in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    assert "@import" not in page
