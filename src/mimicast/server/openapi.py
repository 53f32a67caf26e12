"""The OpenAPI 3.1 document and the `/docs` page, both generated from the catalog.

Nothing here is written by hand per endpoint: a new catalog entry appears in the document, the
page and the README table by itself. The catalog is static, so each process builds the
document once per server URL and serves the cached bytes.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from typing import Any

import orjson
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape
from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

import mimicast
from mimicast.catalog.model import Endpoint
from mimicast.wire import signing
from mimicast.wire.envelope import JSON_CONTENT_TYPE
from mimicast.wire.errors import ERRORS

OPENAPI_VERSION = "3.1.0"
SECURITY_SCHEME = "MimecastSignature"
SIGNED_HEADERS = {"AppId": "x-mc-app-id", "Date": "x-mc-date", "RequestId": "x-mc-req-id"}
RATE_LIMIT_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")
REF = "#/components/schemas/{model}"

SIGNING_FORMULA = (
    "dataToSign = x-mc-date + \":\" + x-mc-req-id + \":\" + uri + \":\" + appKey\n"
    "signature  = base64(HMAC-SHA1(base64decode(secretKey), dataToSign))\n"
    "Authorization: MC accessKey:signature")
SIGNING_NOTES = (
    "`uri` is the request path (`/api/account/get-account`); the path with its query string "
    "and the full URL are accepted too. `x-mc-date` is sent and signed verbatim "
    "(documented form `Tue, 24 Nov 2015 12:50:11 UTC`), `x-mc-req-id` is a fresh GUID. The "
    "access and secret keys come from `/api/login/login`; the app id and app key from the "
    "registered application.")
SIGNING_TEXT = ("Every call except discovery and login is signed with the binding's keys:\n\n"
                + "".join(f"    {line}\n" for line in SIGNING_FORMULA.splitlines())
                + "\n" + SIGNING_NOTES)


# --- shared labels (the docs page and the README table use them too) -------------------------

def operation_id(endpoint: Endpoint) -> str:
    """`/api/ttp/url/get-logs` → `ttp_url_getLogs`: unique, and a valid identifier."""
    def camel(kebab: str) -> str:
        head, *rest = kebab.split("-")
        return head + "".join(part[:1].upper() + part[1:] for part in rest)
    return "_".join(camel(part) for part in [*endpoint.namespace.split("/"), endpoint.action])


def items_label(endpoint: Endpoint) -> str:
    """How many `data` items a request may hold, as the pipeline checks it."""
    low, high = endpoint.min_items, endpoint.max_items
    if high is None:
        return "any" if low == 0 else f"at least {low}"
    return str(low) if low == high else f"{low}–{high}"


def permission_label(endpoint: Endpoint) -> str:
    if endpoint.unsigned:
        return "none (unsigned)"
    return endpoint.permission or "any signed-in user"


# --- the document ----------------------------------------------------------------------------

def _envelope_schemas() -> dict[str, Any]:
    integer_or_numeric_string = {"anyOf": [{"type": "integer", "minimum": 1},
                                           {"type": "string", "pattern": "^[0-9]+$"}]}
    error = {"type": "object", "required": ["code", "message", "retryable"], "properties": {
        "code": {"type": "string", "description": "A code of the error table (info.description)."},
        "message": {"type": "string"},
        "retryable": {"type": "boolean"},
        "field": {"type": "string",
                  "description": "The request item field, on validation errors."},
    }}
    fail = {"type": "object", "required": ["errors"], "properties": {
        "key": {"description": "The offending request item, echoed; absent on request-level "
                               "failures."},
        "errors": {"type": "array", "minItems": 1,
                   "items": {"$ref": REF.format(model="EnvelopeError")}},
    }}
    pagination = {"type": "object", "properties": {
        "pageSize": {"type": "integer", "description": "Number of results in this page."},
        "totalCount": {"type": "integer"},
        "next": {"type": "string", "description": "Only present when there are more results."},
        "previous": {"type": "string",
                     "description": "Only present when there is a previous page."},
    }}
    meta = {"type": "object", "required": ["status"], "properties": {
        "status": {"type": "integer", "description": "Mirrors the HTTP status."},
        "pagination": {"$ref": REF.format(model="EnvelopePagination")},
    }}
    request_pagination = {"type": "object", "properties": {
        "pageSize": {**integer_or_numeric_string, "description": "Page size (a numeric string "
                                                                  "is accepted)."},
        "pageToken": {"type": ["string", "null"],
                      "description": "`next` or `previous` of an earlier page; null or '' for "
                                     "the first."},
    }}
    request_meta = {"type": "object", "properties": {
        "pagination": {"$ref": REF.format(model="RequestPagination")}}}
    error_envelope = {"type": "object", "required": ["meta", "data", "fail"], "properties": {
        "meta": {"$ref": REF.format(model="EnvelopeMeta")},
        "data": {"type": "array", "maxItems": 0},
        "fail": {"type": "array", "minItems": 1,
                 "items": {"$ref": REF.format(model="EnvelopeFail")}},
    }}
    return {"EnvelopeError": error, "EnvelopeFail": fail, "EnvelopePagination": pagination,
            "EnvelopeMeta": meta, "RequestPagination": request_pagination,
            "RequestMeta": request_meta, "ErrorEnvelope": error_envelope}


# (model, "validation" | "serialization") → its `$ref` schema.
Keymap = dict[tuple[Any, str], dict[str, Any]]


def _model_schemas(endpoints: dict[str, Endpoint]) -> tuple[Keymap, dict[str, Any]]:
    """All item models in one pass, so pydantic gives clashing class names distinct keys."""
    pairs: list[tuple[type[BaseModel], JsonSchemaMode]] = []
    for endpoint in endpoints.values():
        pairs.append((endpoint.request, "validation"))
        if endpoint.response is not None:
            pairs.append((endpoint.response, "serialization"))
    keymap, top = models_json_schema(list(dict.fromkeys(pairs)), ref_template=REF)
    return {(model, mode): schema for (model, mode), schema in keymap.items()}, dict(
        top.get("$defs", {}))


def _error_responses() -> dict[str, Any]:
    def described(text: str, codes: list[str], *, quota_headers: bool = True) -> dict[str, Any]:
        listed = ", ".join(f"`{code}`" for code in codes)
        response: dict[str, Any] = {"description": f"{text} ({listed})."}
        if quota_headers:
            response["headers"] = _rate_limit_refs()
        response["content"] = {JSON_CONTENT_TYPE: {"schema": {"$ref": REF.format(
            model="ErrorEnvelope")}}}
        return response
    return {
        "BadRequest": described("Malformed or oversized body, or missing credentials",
                                ["err_request_malformed", "err_request_too_large",
                                 "err_xdk_credentials_missing"]),
        "Unauthorized": described("Invalid signature, unknown or revoked keys, or a stale or "
                                  "replayed request", ["err_xdk_invalid_signature",
                                                       "err_xdk_stale_request"]),
        "LoginFailed": described("Wrong email address or password, an unsupported realm, a "
                                 "locked user, or an `accessKey` that is not the user's",
                                 ["err_xdk_authentication_failed",
                                  "err_xdk_auth_type_not_supported", "err_xdk_user_locked",
                                  "err_xdk_binding_not_found"]),
        "Forbidden": described("The caller's roles lack the permission, or the address is "
                               "outside its scope", ["err_xdk_forbidden",
                                                     "err_xdk_operation_forbidden_for_address"]),
        "BindingExpired": described("The binding has expired; log in again",
                                    ["err_xdk_binding_expired"]),
        "BindingLimit": described("Too many bindings for this user and application",
                                  ["err_xdk_binding_limit"]),
        "RateLimited": described("The call quota is exhausted; the call was not executed. "
                                 "Retry after X-RateLimit-Reset milliseconds",
                                 ["err_rate_limit_exceeded"]),
        "LoginThrottled": described("The login was not tried: the call quota is exhausted, "
                                    "the address or client failed too often, or too many "
                                    "logins are in progress. Retry after X-RateLimit-Reset "
                                    "milliseconds", ["err_rate_limit_exceeded",
                                                     "err_xdk_login_throttled",
                                                     "err_xdk_login_busy"]),
        # Both are answered before a quota is looked up, so without the X-RateLimit-* headers.
        "HeadersTooLarge": described("The request line and headers exceed the server's limit; "
                                     "the request was not read and the connection is closed",
                                     ["err_request_headers_too_large"], quota_headers=False),
        "InternalError": described("An unexpected error on the server; the call may be "
                                   "retried", ["err_internal"], quota_headers=False),
    }


def _rate_limit_refs() -> dict[str, Any]:
    return {name: {"$ref": f"#/components/headers/{name}"} for name in RATE_LIMIT_HEADERS}


def _error_table() -> str:
    rows = ["| code | HTTP | retryable | message |", "|---|---|---|---|"]
    for code, spec in ERRORS.items():
        message = spec.message.replace("|", "\\|")
        rows.append(f"| `{code}` | {spec.status} | {'yes' if spec.retryable else 'no'} "
                    f"| {message} |")
    return "\n".join(rows)


def _components(model_defs: dict[str, Any]) -> dict[str, Any]:
    schemas = _envelope_schemas()
    clashes = sorted(set(schemas) & set(model_defs))
    if clashes:
        raise ValueError(f"catalog models clash with envelope schema names: {clashes}")
    schemas.update(model_defs)
    header_docs = {
        "AppId": "The registered application's Application ID.",
        "Date": "The request date, signed verbatim, e.g. `Tue, 24 Nov 2015 12:50:11 UTC`.",
        "RequestId": "A fresh GUID per request, e.g. `8578FCFC-A305-4D9A-99CB-F4D5ECEFE297`.",
    }
    parameters = {key: {"name": name, "in": "header", "required": True,
                        "description": header_docs[key], "schema": {"type": "string"}}
                  for key, name in SIGNED_HEADERS.items()}
    headers = {
        "X-RateLimit-Limit": "Calls allowed per window for the calling user.",
        "X-RateLimit-Remaining": "Calls left in the current window.",
        "X-RateLimit-Reset": "Milliseconds until one more call is allowed.",
    }
    return {
        "schemas": schemas,
        "parameters": parameters,
        "headers": {name: {"description": text, "schema": {"type": "integer"}}
                    for name, text in headers.items()},
        "responses": _error_responses(),
        "securitySchemes": {SECURITY_SCHEME: {
            "type": "apiKey", "in": "header", "name": "Authorization",
            "description": "`MC accessKey:signature`, an HMAC-SHA1 signature.\n\n" + SIGNING_TEXT,
        }},
    }


def _operation(endpoint: Endpoint, keymap: Keymap) -> dict[str, Any]:
    item_schema = keymap[(endpoint.request, "validation")]
    data: dict[str, Any] = {"type": "array", "items": item_schema, "minItems": endpoint.min_items}
    if endpoint.max_items is not None:
        data["maxItems"] = endpoint.max_items
    body: dict[str, Any] = {"type": "object", "properties": {
        "meta": {"$ref": REF.format(model="RequestMeta")}, "data": data}}
    if endpoint.min_items > 0:
        body["required"] = ["data"]
    response_item = (keymap[(endpoint.response, "serialization")] if endpoint.response
                     else {"type": "object"})
    envelope = {"type": "object", "required": ["meta", "data", "fail"], "properties": {
        "meta": {"$ref": REF.format(model="EnvelopeMeta")},
        "data": {"type": "array", "items": response_item},
        "fail": {"type": "array", "items": {"$ref": REF.format(model="EnvelopeFail")}},
    }}
    lines = [endpoint.summary, "", f"**Permission:** {permission_label(endpoint)}.",
             f"**Request items:** {items_label(endpoint)}."]
    if endpoint.scalar_field:
        lines.append(f"A bare value as the item (form body `data=<value>`) is read as "
                     f"`{endpoint.scalar_field}`.")
    lines.append("HTTP 200 does not mean every item succeeded: failed items are in `fail`, "
                 "each with its `key`.")
    responses: dict[str, Any] = {
        "200": {"description": "The envelope: results in `data`, per-item failures in `fail`. "
                               "A request-level failure that clients expect with HTTP 200 (a "
                               "bad app id, `err_developer_key`; a wrong number of items, "
                               "`err_validation_item_count`) is this envelope with no `data` "
                               "and one `fail` entry without `key`.",
                "headers": _rate_limit_refs(),
                "content": {JSON_CONTENT_TYPE: {"schema": envelope}}},
        "400": {"$ref": "#/components/responses/BadRequest"},
        "429": {"$ref": "#/components/responses/RateLimited"},
        "431": {"$ref": "#/components/responses/HeadersTooLarge"},
        "500": {"$ref": "#/components/responses/InternalError"},
    }
    operation: dict[str, Any] = {
        "operationId": operation_id(endpoint), "tags": [endpoint.namespace],
        "summary": endpoint.summary, "x-mimicast-permission": endpoint.permission,
        "requestBody": {"required": endpoint.min_items > 0,
                        "content": {JSON_CONTENT_TYPE: {"schema": body}}},
    }
    if endpoint.unsigned:
        _unsigned(endpoint, operation, responses, lines)
    else:
        operation["security"] = [{SECURITY_SCHEME: []}]
        operation["parameters"] = [{"$ref": f"#/components/parameters/{key}"}
                                   for key in SIGNED_HEADERS]
        responses["401"] = {"$ref": "#/components/responses/Unauthorized"}
        responses["403"] = {"$ref": "#/components/responses/Forbidden"}
        responses["418"] = {"$ref": "#/components/responses/BindingExpired"}
    operation["description"] = "\n\n".join(line for line in lines if line)
    if endpoint.download:
        # The file on success, whatever it is (application/pdf, message/rfc822, …); the
        # envelope, with its `fail` entry, when the request failed.
        responses["200"]["description"] = ("The file (`Content-Disposition: attachment`); "
                                           "on failure the envelope with `fail`. A file "
                                           "that is itself JSON (an unzipped STIX bundle) "
                                           "comes as application/json: the attachment "
                                           "header tells it from the envelope.")
        responses["200"]["content"]["*/*"] = {"schema": {"type": "string", "format": "binary"}}
    operation["responses"] = dict(sorted(responses.items()))
    return operation


def _unsigned(endpoint: Endpoint, operation: dict[str, Any], responses: dict[str, Any],
              lines: list[str]) -> None:
    lines.append("Unsigned: no `MC` signature is needed.")
    if endpoint.action != "login":
        return
    # Tools ignore an `Authorization` header parameter, so the realm is also in the text.
    realms = f"`{signing.REALM_CLOUD}` or `{signing.REALM_DOMAIN}`"
    lines.append(f"Send `Authorization: {signing.REALM_CLOUD} base64(email:password)` "
                 f"(cloud password) or `{signing.REALM_DOMAIN}` (domain password).")
    operation["parameters"] = [
        {"name": "Authorization", "in": "header", "required": True, "schema": {"type": "string"},
         "description": f"{realms} followed by base64(emailAddress:password)."},
        {"$ref": "#/components/parameters/AppId"}]
    responses["401"] = {"$ref": "#/components/responses/LoginFailed"}
    responses["409"] = {"$ref": "#/components/responses/BindingLimit"}
    # Besides the per-address quota, logins are throttled after failures and queue for the
    # password check.
    responses["429"] = {"$ref": "#/components/responses/LoginThrottled"}


def build_openapi(endpoints: dict[str, Endpoint], server_url: str) -> dict[str, Any]:
    """The OpenAPI 3.1 document of `endpoints`, served from `server_url`."""
    keymap, model_defs = _model_schemas(endpoints)
    paths = {path: {"post": _operation(endpoint, keymap)}
             for path, endpoint in sorted(endpoints.items())}
    description = (
        "A self-hostable, wire-compatible implementation of the Mimecast API 1.0. Every "
        "endpoint is `POST` with a JSON body `{\"meta\": {...}, \"data\": [items]}` and answers "
        "the envelope `{\"meta\", \"data\", \"fail\"}` with `Content-Type: application/json`. "
        "Item fields are coerced leniently (`\"true\"`, `\"100\"`) and unknown keys ignored.\n\n"
        "## Signing\n\n" + SIGNING_TEXT + "\n\n## Error codes\n\n" + _error_table())
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": "mimicast — Mimecast API 1.0", "version": mimicast.__version__,
                 "description": description},
        "servers": [{"url": server_url.rstrip("/")}],
        "tags": [{"name": name} for name in sorted({e.namespace for e in endpoints.values()})],
        "paths": paths,
        "components": _components(model_defs),
    }


# --- per-process caches ----------------------------------------------------------------------

_lock = threading.Lock()
# Keyed by the identity of the endpoints dict (kept alive in the value, so the id stays
# unique) and the server URL; the rendered bytes are what the routes serve.
_documents: dict[tuple[int, str], tuple[dict[str, Endpoint], dict[str, Any], bytes]] = {}
_pages: dict[tuple[int, str], str] = {}


def cached_openapi(endpoints: dict[str, Endpoint], server_url: str) -> tuple[dict[str, Any], bytes]:
    key = (id(endpoints), server_url)
    with _lock:
        hit = _documents.get(key)
        if hit is None:
            document = build_openapi(endpoints, server_url)
            hit = (endpoints, document, orjson.dumps(document))
            _documents[key] = hit
    return hit[1], hit[2]


# --- the docs page ---------------------------------------------------------------------------

@dataclass(frozen=True)
class FieldRow:
    name: str
    type: str
    required: bool
    description: str


def _resolve(schema: dict[str, Any], schemas: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    ref = schema.get("$ref")
    if isinstance(ref, str):
        name = ref.rsplit("/", 1)[1]
        return name, schemas[name]
    return None, schema


def type_label(schema: dict[str, Any], schemas: dict[str, Any]) -> str:
    """A short human type: `string`, `array of Region`, `integer | null`."""
    name, target = _resolve(schema, schemas)
    if name is not None:
        return name
    if "anyOf" in target or "oneOf" in target:
        options = target.get("anyOf") or target.get("oneOf") or []
        return " | ".join(type_label(option, schemas) for option in options)
    if "enum" in target:
        return "one of " + ", ".join(repr(value) for value in target["enum"])
    kind = target.get("type", "any")
    if isinstance(kind, list):
        return " | ".join(str(k) for k in kind)
    if kind == "array":
        return "array of " + type_label(target.get("items", {}), schemas)
    if "format" in target:
        return f"{kind} ({target['format']})"
    return str(kind)


def field_rows(schema: dict[str, Any], schemas: dict[str, Any], prefix: str = "",
               seen: frozenset[str] = frozenset()) -> list[FieldRow]:
    """The fields of an object schema; nested models are flattened as `parent.child`."""
    name, target = _resolve(schema, schemas)
    if name in seen:  # a recursive model: list it once
        return []
    seen = seen | {name} if name else seen
    required = set(target.get("required", []))
    rows: list[FieldRow] = []
    for field, sub in target.get("properties", {}).items():
        rows.append(FieldRow(prefix + field, type_label(sub, schemas), field in required,
                             str(sub.get("description", ""))))
        nested, nested_target = _resolve(sub, schemas)
        if nested is not None and "properties" in nested_target:
            rows.extend(field_rows(sub, schemas, f"{prefix}{field}.", seen))
    return rows


def _code_spans(text: str) -> Markup:
    """Summaries use Markdown `code`; escape first, then turn the spans into <code>."""
    return Markup(re.sub(r"`([^`]+)`", r"<code>\1</code>", str(escape(text))))


_environment = Environment(loader=PackageLoader("mimicast.server", "templates"),
                           autoescape=select_autoescape(["html"]), trim_blocks=True,
                           lstrip_blocks=True)
_environment.filters["code_spans"] = _code_spans


def render_docs(endpoints: dict[str, Endpoint], server_url: str) -> str:
    document, _ = cached_openapi(endpoints, server_url)
    schemas = document["components"]["schemas"]
    groups: dict[str, list[dict[str, Any]]] = {}
    for path, endpoint in sorted(endpoints.items()):
        operation = document["paths"][path]["post"]
        body = operation["requestBody"]["content"][JSON_CONTENT_TYPE]["schema"]
        envelope = operation["responses"]["200"]["content"][JSON_CONTENT_TYPE]["schema"]
        groups.setdefault(endpoint.namespace, []).append({
            "path": path, "endpoint": endpoint, "operation_id": operation["operationId"],
            "permission": permission_label(endpoint), "limits": items_label(endpoint),
            "request": field_rows(body["properties"]["data"]["items"], schemas),
            "response": field_rows(envelope["properties"]["data"]["items"], schemas),
        })
    template = _environment.get_template("docs.html")
    return template.render(groups=sorted(groups.items()), server_url=server_url.rstrip("/"),
                           version=mimicast.__version__, signing=SIGNING_FORMULA,
                           signing_notes=SIGNING_NOTES,
                           errors=sorted(ERRORS.items()))


def cached_docs(endpoints: dict[str, Endpoint], server_url: str) -> str:
    key = (id(endpoints), server_url)
    page = _pages.get(key)
    if page is None:
        page = render_docs(endpoints, server_url)
        with _lock:
            _pages[key] = page
    return page


# --- routes ----------------------------------------------------------------------------------

async def openapi_route(request: Request) -> Response:
    runtime = request.app.state.runtime
    _, body = cached_openapi(runtime.endpoints, runtime.settings.base_url)
    response = Response(body, headers={"cache-control": "no-cache"})
    # Set directly: the exact type, with no charset suffix (see server/responses.py).
    response.headers["content-type"] = JSON_CONTENT_TYPE
    return response


async def docs_route(request: Request) -> Response:
    runtime = request.app.state.runtime
    return HTMLResponse(cached_docs(runtime.endpoints, runtime.settings.base_url),
                        headers={"cache-control": "no-cache"})
