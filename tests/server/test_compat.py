"""Lenient request bodies over real HTTP (client-compatibility.md items 1–4), and a fuzz run of
random and mutated bodies and headers that must always get an envelope, never a 500.

`get-internal-domain` narrows its answer to the `domain` of the first item, so each body below
shows not only that it is accepted, but that it was read as intended."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from mimicast.catalog.model import Item
from mimicast.services import identity
from mimicast.testing import Harness
from mimicast.testing.harness import LiveServer, Tenant

pytestmark = pytest.mark.store_agnostic

DOMAINS = "/api/domain/get-internal-domain"
ACCOUNT = "/api/account/get-account"


@dataclass(frozen=True)
class Filtered:
    tenant: Tenant
    second: str


@pytest.fixture(scope="module")
def setup(harness: Harness) -> Filtered:
    tenant = harness.tenant()
    second = f"second-{tenant.domain}"
    with harness.session_ctx(tenant) as ctx:
        identity.add_internal_domain(ctx, second)
    return Filtered(tenant=tenant, second=second)


def domains(harness: Harness, tenant: Tenant, content: bytes,
            content_type: str | None = "application/json") -> list[str]:
    headers = {"Content-Type": content_type} if content_type else {}
    all_headers = harness.signed_headers(tenant.keys, DOMAINS)
    if content_type is None:
        del all_headers["Content-Type"]
    all_headers.update(headers)
    response = harness.http.post(DOMAINS, content=content, headers=all_headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["fail"] == [], body
    return sorted(item["domain"] for item in body["data"])


# Item 1: Python reprs, None, bare False, raw newlines ----------------------------------------

def test_python_repr_bodies(harness: Harness, setup: Filtered) -> None:
    tenant, both = setup.tenant, sorted([setup.tenant.domain, setup.second])
    payload = {"data": [{"domain": tenant.domain, "compress": True, "extra": None}]}
    # `requests.post(url, data=str(payload))`: a repr, and no Content-Type.
    assert domains(harness, tenant, str(payload).encode(), None) == [tenant.domain]
    assert domains(harness, tenant, str(payload).encode()) == [tenant.domain]
    # Python 2 era: u'' strings; tuples; a JSON-ish `true` mixed in.
    legacy = f"{{u'data': ({{u'domain': u'{setup.second}', 'flag': true}},)}}"
    assert domains(harness, tenant, legacy.encode()) == [setup.second]
    # `str(None)`.
    assert domains(harness, tenant, b"None") == both
    # A repr with a non-ASCII value, sent as Latin-1 as requests does with a str body.
    latin = str({"data": [{"domain": tenant.domain, "note": "caf\u00e9"}]}).encode("latin-1")
    assert domains(harness, tenant, latin, None) == [tenant.domain]


def test_bare_false_and_raw_newline_inside_json(harness: Harness, setup: Filtered) -> None:
    tenant = setup.tenant
    powershell = f'{{"data": [{{"domain": "{tenant.domain}", "sendOnly": False}}]}}'
    assert domains(harness, tenant, powershell.encode()) == [tenant.domain]
    # A value carrying a raw (unescaped) newline: strict JSON refuses it, clients send it.
    newline = f'{{"data": [{{"domain": "{setup.second}\n", "token": "abc\ndef"}}]}}'
    assert domains(harness, tenant, newline.encode()) == [setup.second]


# Item 2: Content-Type is not to be trusted ---------------------------------------------------

def test_content_type_is_only_a_hint(harness: Harness, setup: Filtered) -> None:
    tenant = setup.tenant
    body = json.dumps({"data": [{"domain": tenant.domain}]}).encode()
    for content_type in (None, "application/x-www-form-urlencoded", "text/plain",
                         "application/xml", "application/json; charset=utf-8", "garbage/;;"):
        assert domains(harness, tenant, body, content_type) == [tenant.domain], content_type
    form = f"data=%7B%22domain%22%3A%22{setup.second}%22%7D".encode()
    assert domains(harness, tenant, form, "application/x-www-form-urlencoded") == [setup.second]


# Item 3: missing pieces mean defaults; unknown keys are ignored ------------------------------

@pytest.mark.parametrize("content", [
    b"", b"{}", b'{"data": []}', b'{"data": null}', b'{"data": [{}]}', b"null", b"  \n ",
    b'{"data": [], "meta": {"pagination": {"pageToken": null}}}',
    b'{"data": [], "meta": {"pagination": {"pageToken": "", "pageSize": "100"}}}',
    b'{"data": [{"page_size": 10, "unknown": {"deep": [1, 2]}}], "meta": "not an object"}',
    b'\xef\xbb\xbf{"data": []}',  # a BOM from a Windows editor
])
def test_defaults(harness: Harness, setup: Filtered, content: bytes) -> None:
    assert domains(harness, setup.tenant, content) == sorted([setup.tenant.domain,
                                                               setup.second])


def test_a_single_object_instead_of_a_list(harness: Harness, setup: Filtered) -> None:
    body = json.dumps({"data": {"domain": setup.second}}).encode()
    assert domains(harness, setup.tenant, body) == [setup.second]


# Item 4: loose scalars -----------------------------------------------------------------------

def test_true_strings_and_numeric_strings_are_accepted(harness: Harness,
                                                       setup: Filtered) -> None:
    body = {"data": [{"domain": setup.tenant.domain, "compress": "true", "admin": "false",
                      "pageSize": "100"}],
            "meta": {"pagination": {"pageSize": "100", "pageToken": None}}}
    assert domains(harness, setup.tenant, json.dumps(body).encode()) == [setup.tenant.domain]


def test_request_items_coerce_loose_scalars() -> None:
    """Every endpoint's item model derives from Item: strings stand in for booleans and
    numbers, as real clients send them."""

    class Sample(Item):
        compress: bool
        admin: bool = False
        pageSize: int = 0
        name: str = ""

    parsed = Sample.model_validate({"compress": "true", "admin": "False", "pageSize": "100",
                                    "name": "  padded  ", "page_size": 5})
    assert (parsed.compress, parsed.admin, parsed.pageSize, parsed.name) == (
        True, False, 100, "padded")


# Fuzz: ~200 random and mutated requests; always an envelope, never a 500 --------------------

_SEEDS: list[bytes] = [
    b'{"data": [{"domain": "example.com"}]}',
    b"{'data': [{'domain': u'example.com', 'compress': True, 'x': None}]}",
    b'{"data": [], "meta": {"pagination": {"pageSize": 25, "pageToken": null}}}',
    b'data=%7B%22domain%22%3A%22example.com%22%7D',
    b'{"data": [{"id": "1"}, {"domain": "a.b"}]}',
    b"None",
]
_TOKENS = [b"{", b"}", b"[", b"]", b"'", b'"', b":", b",", b"\\", b"\\u", b"\x00", b"\xff",
           b"True", b"None", b"NaN", b"1e999", b"-", b"&", b"=", b"%", b"\n", b"(", b"**",
           b"lambda", b"__import__", b"\xc3\xa9", b"9" * 30]
_CONTENT_TYPES = [None, "application/json", "application/x-www-form-urlencoded", "text/plain",
                  "application/json; charset=latin-1", "application/json; charset=nope",
                  "multipart/form-data; boundary=x", ""]


def _mutate(rng: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 6)):
        choice = rng.random()
        at = rng.randint(0, len(out))
        if choice < 0.3 and out:
            del out[at:at + rng.randint(1, 4)]
        elif choice < 0.6:
            out[at:at] = rng.choice(_TOKENS)
        elif choice < 0.8 and out:
            out[min(at, len(out) - 1)] = rng.randrange(256)
        else:
            out = out[:at]
    return bytes(out)


def _random_value(rng: random.Random, depth: int = 0) -> Any:
    kind = rng.randrange(7 if depth < 4 else 4)
    if kind == 0:
        return rng.choice([None, True, False, "", "true", "100", 0, -1, 2**70, 1.5])
    if kind == 1:
        return "".join(chr(rng.randrange(0x20, 0x3000)) for _ in range(rng.randrange(12)))
    if kind == 2:
        return rng.randrange(-10**6, 10**6)
    if kind == 3:
        return rng.choice(["example.com", "a@b.c", "../../etc", "' OR 1=1 --", "\u202e"])
    if kind == 4:
        return [_random_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {rng.choice(["data", "meta", "domain", "id", "pagination", "pageSize", "x"]):
            _random_value(rng, depth + 1) for _ in range(rng.randrange(4))}


def _body(rng: random.Random) -> bytes:
    roll = rng.random()
    if roll < 0.35:
        return _mutate(rng, rng.choice(_SEEDS))
    if roll < 0.6:
        value = {"data": _random_value(rng), "meta": _random_value(rng)}
        return json.dumps(value).encode() if rng.random() < 0.5 else repr(value).encode()
    if roll < 0.75:
        return json.dumps(_random_value(rng)).encode()
    return bytes(rng.randrange(256) for _ in range(rng.randrange(0, 300)))


def _headers(rng: random.Random, harness: Harness, tenant: Tenant,
             path: str) -> dict[str, Any]:
    headers: dict[str, Any] = harness.signed_headers(tenant.keys, path)
    content_type = rng.choice(_CONTENT_TYPES)
    if content_type is None:
        del headers["Content-Type"]
    else:
        headers["Content-Type"] = content_type
    roll = rng.random()
    if roll < 0.15:  # a header name in another case: still valid
        name = rng.choice(list(headers))
        headers[name.upper() if rng.random() < 0.5 else name.lower()] = headers.pop(name)
    elif roll < 0.25:  # a broken signature
        headers["Authorization"] = headers["Authorization"][:-rng.randint(1, 10)]
    elif roll < 0.3:
        headers["x-mc-date"] = bytes(rng.randrange(0x21, 256) for _ in range(20))
    elif roll < 0.35:
        headers["x-mc-app-id"] = rng.choice(["", "x" * 300, "\u00e9t\u00e9"]).encode("latin-1")
    elif roll < 0.45:
        headers[rng.choice(["x-mc-api-version", "Accept", "X-Forwarded-For", "Cookie"])] = (
            rng.choice(["2014.6.1", "*/*", "1.2.3.4, ::1", "a=b; c"]))
    return headers


@pytest.fixture
def fuzz_server(harness: Harness) -> Iterator[LiveServer]:
    """A server of its own, so the fuzz run's quotas and caches touch no other test."""
    live = harness.with_settings()
    yield live
    live.stop()


def test_fuzzed_requests_always_get_an_envelope(harness: Harness, fuzz_server: LiveServer,
                                                setup: Filtered) -> None:
    rng = random.Random(20240611)
    statuses: dict[int, int] = {}
    with httpx.Client(base_url=fuzz_server.url, timeout=30) as client:
        for case in range(200):
            path = DOMAINS if case % 3 else ACCOUNT
            body = _body(rng)
            headers = _headers(rng, harness, setup.tenant, path)
            response = client.post(path, content=body, headers=headers)
            where = f"case {case}: {body[:200]!r} {headers}"
            assert response.status_code in {200, 400, 401}, where + response.text
            assert response.headers["content-type"] == "application/json", where
            envelope = json.loads(response.content)
            assert list(envelope) == ["meta", "data", "fail"], where
            assert envelope["meta"]["status"] == response.status_code, where
            if response.status_code != 200:
                assert envelope["fail"][0]["errors"][0]["code"].startswith("err_"), where
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
    # The corpus reaches every outcome: parsed, unparseable, and unauthenticated.
    assert all(statuses.get(status, 0) >= 10 for status in (200, 400, 401)), statuses
    # And the binding still works afterwards.
    assert harness.call(setup.tenant.keys, ACCOUNT, base=fuzz_server.url).status_code == 200
