"""Property-based fuzz of the lenient body decoder (client-compatibility.md items 1–4).

The contract under test: `decode_body` answers a dict or raises `ApiError` (HTTP 400), for any
bytes and any Content-Type; what it answers can always be echoed back in an envelope (the
pipeline puts request items into `fail[].key`, so an unserialisable value would be a 500); and
JSON, Python-repr and form bodies decode to the values their clients meant.

Bounded and deterministic: `derandomize` replays the same examples on every run, with no
example database; the deadline only catches a hang, it is no performance assertion.
"""

from __future__ import annotations

import json
import warnings
from datetime import timedelta
from random import Random
from typing import Any
from urllib.parse import quote_plus

import orjson
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from mimicast.wire.body import (
    MAX_DEPTH,
    decode_body,
    normalise_request,
    pagination,
)
from mimicast.wire.envelope import envelope, fail_entry
from mimicast.wire.errors import ApiError

FORM = "application/x-www-form-urlencoded"
BODY_ERRORS = {"err_request_malformed", "err_request_too_large"}

fuzz = settings(max_examples=80, derandomize=True, database=None,
                deadline=timedelta(seconds=5), suppress_health_check=[HealthCheck.too_slow])
# Flat inputs are cheap to draw: more of them.
fuzz_flat = settings(fuzz, max_examples=300)

# --- strategies ------------------------------------------------------------------------------

# What orjson can write back: 64-bit integers (signed or not), finite floats, valid Unicode.
integers = st.integers(min_value=-(2**63), max_value=2**64 - 1)
floats = st.floats(allow_nan=False, allow_infinity=False)
scalars = st.none() | st.booleans() | integers | floats | st.text(max_size=20)
json_values = st.recursive(
    scalars,
    lambda children: (st.lists(children, max_size=4)
                      | st.dictionaries(st.text(max_size=8), children, max_size=4)),
    max_leaves=12)
json_objects = st.dictionaries(st.text(max_size=8), json_values, max_size=4)

CHARSETS = ["utf-8", "UTF-8", '"utf-8"', "latin-1", "iso-8859-1", "cp1252", "utf-16", "utf-32",
            "utf-7", "idna", "punycode", "unicode_escape", "raw_unicode_escape", "undefined",
            "rot13", "base64", "no-such-charset", ""]
MEDIA_TYPES = ["application/json", "text/plain", FORM, "multipart/form-data", "application/xml",
               "*/*", ""]
content_types = st.one_of(
    st.none(),
    st.sampled_from(MEDIA_TYPES),
    st.builds(lambda media, charset: f"{media}; charset={charset}", st.sampled_from(MEDIA_TYPES),
              st.sampled_from(CHARSETS) | st.text(max_size=12)),
    st.text(max_size=40),
)

# Text made of the characters the parsers care about, so random input reaches deep branches.
SYNTAX = "{}[]()'\":,=&%+-._ \n\t\\0123456789eExXuUbBjJ#@*" + "TrueFalsNnlda"
syntax_text = st.text(alphabet=SYNTAX, max_size=200)


def mixed_literal(value: Any, rng: Random) -> str:
    """`value` written the way hand-made bodies mix spellings: JSON or Python constants and
    quotes, chosen independently at every node (client-compatibility.md item 1)."""
    if value is None:
        return rng.choice(["null", "None"])
    if isinstance(value, bool):
        return rng.choice([str(value).lower(), str(value)])
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        # ensure_ascii writes a character outside the BMP as a `\ud83d\ude00` pair.
        return rng.choice([json.dumps(value), json.dumps(value, ensure_ascii=False),
                           repr(value)])
    if isinstance(value, list):
        return "[" + ", ".join(mixed_literal(item, rng) for item in value) + "]"
    return "{" + ", ".join(f"{mixed_literal(key, rng)}: {mixed_literal(item, rng)}"
                           for key, item in value.items()) + "}"


def decoded_or_error(raw: bytes, content_type: str | None) -> dict[str, Any] | None:
    """The body, checked against the contract; None when it is a clean 400."""
    with warnings.catch_warnings(record=True) as printed:
        warnings.simplefilter("always")
        try:
            body = decode_body(raw, content_type)
        except ApiError as error:
            assert error.code in BODY_ERRORS, error
            assert error.status == 400
            body = None
    # A warning lands on the server's stderr: clients must not be able to fill its log.
    assert [str(warning.message) for warning in printed] == []
    if body is None:
        return None
    assert isinstance(body, dict)
    assert depth(body) <= MAX_DEPTH + 1  # a form field holding a nested value adds one level
    # Every request item may come back as a fail entry's `key`: serialising must not fail.
    items, _meta = normalise_request(body)
    envelope([], [fail_entry([ApiError("err_validation_null")], key=item) for item in items])
    orjson.dumps(body)  # meta and unknown keys too, for whatever echoes them
    return body


def depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max(map(depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(depth, value), default=0)
    return 0


# --- anything at all -------------------------------------------------------------------------

@fuzz_flat
@given(raw=st.binary(max_size=400), content_type=content_types)
@example(raw=b"data=\\ud800\xff", content_type="text/plain; charset=unicode_escape")
@example(raw=b'{"a": 1}\xff', content_type="application/json; charset=undefined")
@example(raw=b"\\q\xff", content_type="text/plain; charset=unicode_escape")
@example(raw=b"{'path': 'C:\\path', 'compress': True}", content_type=None)
def test_arbitrary_bytes(raw: bytes, content_type: str | None) -> None:
    decoded_or_error(raw, content_type)


@fuzz_flat
@given(text=syntax_text, content_type=content_types)
def test_syntax_soup(text: str, content_type: str | None) -> None:
    decoded_or_error(text.encode(), content_type)


@fuzz
@given(value=json_objects, data=st.data(), content_type=content_types)
def test_mutated_bodies(value: dict[str, Any], data: st.DataObject,
                        content_type: str | None) -> None:
    """A real body with a few bytes inserted, dropped or replaced: near-valid input."""
    raw = bytearray(data.draw(st.sampled_from([orjson.dumps(value), str(value).encode()])))
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(raw)))
        action = data.draw(st.sampled_from(["insert", "delete", "replace"]))
        byte = data.draw(st.integers(0, 255))
        if action == "insert":
            raw.insert(at, byte)
        elif at < len(raw):
            if action == "delete":
                del raw[at]
            else:
                raw[at] = byte
    decoded_or_error(bytes(raw), content_type)


@fuzz
@given(levels=st.integers(1, 3000), opener=st.sampled_from(["[", '{"a": ', "{'a': ", "("]),
       leaf=st.sampled_from(["1", "'x'", '"x"', "None", "true", "False", ""]),
       content_type=content_types)
def test_deep_nesting(levels: int, opener: str, leaf: str, content_type: str | None) -> None:
    closer = {"[": "]", '{"a": ': "}", "{'a': ": "}", "(": ")"}[opener]
    text = '{"data": ' + opener * levels + leaf + closer * levels + "}"
    decoded_or_error(text.encode(), content_type)


@fuzz
@given(sign=st.sampled_from(["", "-", "+"]), digits=st.text("0123456789", min_size=1,
                                                             max_size=6000),
       fraction=st.sampled_from(["", ".5", ".0"]),
       exponent=st.sampled_from(["", "e400", "e-400", "E+308", "e5"]),
       quote=st.sampled_from(['"', "'"]), content_type=content_types)
def test_huge_numbers(sign: str, digits: str, fraction: str, exponent: str, quote: str,
                      content_type: str | None) -> None:
    number = sign + digits + fraction + exponent
    for text in (f'{{"data": [{{"n": {number}}}]}}',  # JSON
                 f"{{{quote}data{quote}: [{number}], 'flag': True}}",  # a Python literal
                 f'{{"meta": {{"pagination": {{"pageSize": "{number}"}}}}}}'):
        body = decoded_or_error(text.encode(), content_type)
        if body is not None and "meta" in body:
            check_pagination(body["meta"])


# --- round trips -----------------------------------------------------------------------------

@fuzz
@given(items=st.lists(json_values, max_size=4), meta=json_objects, content_type=content_types)
def test_json_round_trip(items: list[Any], meta: dict[str, Any],
                         content_type: str | None) -> None:
    body = {"meta": meta, "data": items}
    assert decode_body(orjson.dumps(body), content_type) == body
    assert normalise_request(body) == (items, meta)


@fuzz
@given(value=json_objects, content_type=content_types)
def test_python_repr_round_trip(value: dict[str, Any], content_type: str | None) -> None:
    """`data=str(payload)`: what widely deployed collectors post."""
    assert decode_body(str(value).encode(), content_type) == value
    assert decode_body(repr({"data": [value]}).encode(), content_type) == {"data": [value]}


@fuzz
@given(value=json_objects, rng=st.randoms(use_true_random=False), content_type=content_types)
def test_mixed_spellings_round_trip(value: dict[str, Any], rng: Random,
                                    content_type: str | None) -> None:
    assert decode_body(mixed_literal(value, rng).encode(), content_type) == value


@fuzz
@given(value=st.text(max_size=60).filter(lambda v: v.strip()[:1] not in ("{", "[")),
       content_type=st.sampled_from([None, "", FORM, f"{FORM}; charset=UTF-8", "text/plain",
                                     "application/json"]))
def test_form_scalar_round_trip(value: str, content_type: str | None) -> None:
    """`data=<accessKey>`: a form scalar stays the string that was sent."""
    assert decode_body(f"data={quote_plus(value)}".encode(), content_type) == {"data": value}


@fuzz
@given(items=st.lists(json_values, max_size=4), content_type=st.sampled_from([None, FORM]))
def test_form_json_value_round_trip(items: list[Any], content_type: str | None) -> None:
    raw = f"data={quote_plus(orjson.dumps(items).decode())}".encode()
    assert decode_body(raw, content_type) == {"data": items}


# --- normalise_request and pagination --------------------------------------------------------

@fuzz
@given(body=json_objects | json_values)
def test_normalise_request_shapes(body: Any) -> None:
    items, meta = normalise_request(body)
    assert isinstance(items, list) and isinstance(meta, dict)
    if not isinstance(body, dict):
        assert (items, meta) == ([], {})
        return
    data = body.get("data")
    assert items == (data if isinstance(data, list) else [] if data is None else [data])
    assert meta == (body["meta"] if isinstance(body.get("meta"), dict) else {})


def check_pagination(meta: Any) -> None:
    """`pagination` answers a page size (a whole number, at least 0) and a non-blank token,
    either possibly None, or a validation error on one of the two."""
    try:
        size, token = pagination(meta)
    except ApiError as error:
        assert error.code == "err_validation_invalid_value", error
        assert error.field in ("pageSize", "pageToken")
        return
    assert size is None or (isinstance(size, int) and not isinstance(size, bool) and size >= 0)
    assert token is None or (isinstance(token, str) and token.strip())


@fuzz
@given(meta=json_objects | st.fixed_dictionaries(
    {"pagination": st.dictionaries(st.sampled_from(["pageSize", "page_size", "pageToken",
                                                    "page_token", "other"]), json_values)}))
def test_pagination_answers_or_rejects(meta: dict[str, Any]) -> None:
    check_pagination(meta)


@fuzz
@given(size=st.integers(0, 10**6), spelling=st.sampled_from([int, str, float]),
       token=st.text(max_size=30).filter(str.strip),
       keys=st.sampled_from([("pageSize", "pageToken"), ("page_size", "page_token")]))
def test_pagination_round_trip(size: int, spelling: type, token: str,
                               keys: tuple[str, str]) -> None:
    meta = {"pagination": {keys[0]: spelling(size), keys[1]: token}}
    assert pagination(meta) == (size, token)
    assert pagination({"pagination": {keys[0]: None, keys[1]: ""}}) == (None, None)
