"""Lenient request-body decoding: client-compatibility.md items 1–4."""

from __future__ import annotations

import json
import time
from urllib.parse import quote

import pytest

from mimicast.wire import body as body_module
from mimicast.wire.body import (
    MAX_BODY_BYTES,
    MAX_BODY_BYTES_JSON,
    MAX_DEPTH,
    decode_body,
    normalise_request,
    pagination,
)
from mimicast.wire.errors import ApiError

FORM = "application/x-www-form-urlencoded"


def malformed(raw: bytes, content_type: str | None = None) -> ApiError:
    with pytest.raises(ApiError) as info:
        decode_body(raw, content_type)
    assert info.value.code == "err_request_malformed"
    assert info.value.status == 400
    return info.value


# --- empty and JSON bodies -------------------------------------------------------------------

@pytest.mark.parametrize("raw", [b"", b"   ", b"\r\n\t ", b"null", b"None", b" None\n",
                                 b"\xef\xbb\xbf"])
def test_empty_and_null_bodies_are_empty_objects(raw: bytes) -> None:
    assert decode_body(raw) == {}


def test_plain_json() -> None:
    assert decode_body(b"{}") == {}
    assert decode_body(b'{"data": []}') == {"data": []}
    payload = {"meta": {"pagination": {"pageSize": 25}}, "data": [{"domain": "example.com"}]}
    assert decode_body(json.dumps(payload).encode(), "application/json") == payload


def test_content_type_is_ignored_for_json() -> None:
    raw = b'{"data": [{"a": 1}]}'
    for content_type in (None, "", "text/plain", FORM, "application/json; charset=utf-8"):
        assert decode_body(raw, content_type) == {"data": [{"a": 1}]}


def test_utf8_bom_is_ignored() -> None:
    assert decode_body(b'\xef\xbb\xbf{"a": 1}') == {"a": 1}


def test_raw_newline_inside_a_json_string() -> None:
    assert decode_body(b'{"data": [{"token": "abc\ndef"}]}') == {"data": [{"token": "abc\ndef"}]}
    assert decode_body(b'{"a": "tab\there"}') == {"a": "tab\there"}


def test_powershell_bare_false_inside_json() -> None:
    raw = b'{"data": [{"domain": "example.com", "compress": False, "x": True, "y": None}]}'
    assert decode_body(raw) == {"data": [{"domain": "example.com", "compress": False,
                                          "x": True, "y": None}]}


# --- Python reprs ----------------------------------------------------------------------------

@pytest.mark.parametrize("payload", [
    {"data": [{"type": "MTA", "compress": True}]},
    {"data": [{"domain": "newdomain.com"}]},
    {"meta": {"pagination": {"pageSize": 100, "pageToken": None}},
     "data": [{"start": "2015-11-16T14:49:18+0000", "nested": [[1, 2.5, -3], ["a", "b"]],
               "flags": [True, False, None], "empty": {}, "quote": "it's \"quoted\""}]},
    {"data": [{"text": "line\nbreak\ttab\\backslash", "unicode": "caf\u00e9 \u2603 \U0001f600"}]},
    {"data": []},
    {},
])
def test_python_repr_bodies(payload: dict) -> None:
    # Mimecast's own sample posts `data=str(payload)`.
    assert decode_body(str(payload).encode()) == payload


def test_python_repr_with_tuples_and_signs() -> None:
    assert decode_body(b"{'a': (1, 2), 'b': -1.5, 'c': +3, 'd': ()}") == {
        "a": [1, 2], "b": -1.5, "c": 3, "d": []}


def test_python2_unicode_and_bytes_prefixes() -> None:
    assert decode_body(b"{u'data': [{u'type': u'MTA', 'x': b'raw'}]}") == {
        "data": [{"type": "MTA", "x": "raw"}]}


def test_json_and_python_spellings_mixed() -> None:
    assert decode_body(b"{'a': true, 'b': None, 'c': null, 'd': False, 'e': [1,],}") == {
        "a": True, "b": None, "c": None, "d": False, "e": [1]}


def test_latin1_encoded_repr_body() -> None:
    # `requests.post(data=str(payload))` encodes a str body as ISO-8859-1.
    raw = str({"data": [{"name": "Ren\u00e9e"}]}).encode("latin-1")
    assert decode_body(raw) == {"data": [{"name": "Ren\u00e9e"}]}


def test_declared_charset_is_used_when_not_utf8() -> None:
    raw = '{"name": "\u20ac"}'.encode("cp1252")
    assert decode_body(raw, "application/json; charset=windows-1252") == {"name": "\u20ac"}


# --- form bodies -----------------------------------------------------------------------------

def test_form_logout_with_access_key() -> None:
    access_key = "mYtOL3XZCOwG96BOiFTZRmTNo-ab_cd" * 5
    assert decode_body(f"data={access_key}".encode(), FORM) == {"data": access_key}


def test_form_without_content_type() -> None:
    assert decode_body(b"data=abc") == {"data": "abc"}
    assert decode_body(b"data=abc&meta=x") == {"data": "abc", "meta": "x"}


def test_form_values_that_are_objects_are_decoded() -> None:
    value = quote(json.dumps([{"type": "MTA"}]))
    assert decode_body(f"data={value}".encode(), FORM) == {"data": [{"type": "MTA"}]}
    value = quote(str({"pagination": {"pageSize": 5}}))
    assert decode_body(f"meta={value}".encode()) == {"meta": {"pagination": {"pageSize": 5}}}


def test_form_scalars_stay_strings() -> None:
    # An access key must never turn into a number, a boolean or None.
    assert decode_body(b"data=12345&b=true&c=None", FORM) == {
        "data": "12345", "b": "true", "c": "None"}


def test_form_percent_and_plus_decoding_and_blank_values() -> None:
    assert decode_body(b"data=a%2Bb+c&empty=", FORM) == {"data": "a+b c", "empty": ""}


def test_form_repeated_keys_collect() -> None:
    assert decode_body(b"data=a&data=b", FORM) == {"data": ["a", "b"]}


def test_broken_repr_with_form_content_type_is_still_malformed() -> None:
    malformed(b"{'data': [", FORM)
    malformed(b"just some words", FORM)


def test_too_many_form_fields() -> None:
    raw = "&".join(f"k{i}=v" for i in range(body_module.MAX_FORM_FIELDS + 5)).encode()
    malformed(raw, FORM)


# --- failures --------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, word", [
    (b"[1, 2]", "list"),
    (b"[]", "list"),
    (b'[{"data": []}]', "list"),
    (b"42", "number"),
    (b"-1.5", "number"),
    (b'"a string"', "string"),
    (b"'a string'", "string"),
    (b"true", "boolean"),
])
def test_top_level_must_be_an_object(raw: bytes, word: str) -> None:
    assert word in malformed(raw).message


@pytest.mark.parametrize("raw", [
    b'{"a": 1',
    b"{'a': }",
    b"<xml/>",
    b"not json at all",
    b"\xff\xfe\x00\x01",
    b'{"a": NaN}',
    b'{"a": Infinity}',
    b'{"a": 1e999}',
    b"{'a': 1e999}",
    b"{'a': 10**100}",
    b"{'a': 99999999999999999999999999}",
    b'{"a": "\\ud800"}',
    b"{1: 'a'}",
    b"{'a': {1, 2}}",
    b"{'a': 1j}",
    b"{'a': ...}",
    b"{'a': f'x'}",
    b"{**x}",
    b"{'a': 1 + 2}",
    b"{'a': not True}",
    b"{'a': -'x'}",
    b"{'a': --1}",
    b"{'a': b'\\xff'}[0]",
    b"\x00",
])
def test_garbage_is_a_clean_malformed_error(raw: bytes) -> None:
    error = malformed(raw)
    assert error.message.startswith("The request body could not be parsed: ")
    assert len(error.message) < 200


def test_latin1_bytes_in_python_bytes_literal_decode() -> None:
    assert decode_body(b"{'a': b'\\xe9'}") == {"a": "\u00e9"}


@pytest.mark.parametrize("raw", [
    b"__import__('os')",
    b"__import__('os').system('touch /tmp/mimicast-pwned')",
    b"{'a': __import__('os').getcwd()}",
    b"{'a': open('/etc/passwd').read()}",
    b"os.system",
    b"{'a': ().__class__.__bases__[0].__subclasses__()}",
    b"(lambda: 1)()",
    b"[x for x in range(10**9)]",
    b"{'a': print('hi')}",
    b"{'a': globals()}",
    b"{'a': os}",
])
def test_code_is_never_executed(raw: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    called: list[str] = []
    monkeypatch.setattr("builtins.__import__", _tracking_import(called))
    monkeypatch.setattr("builtins.print", lambda *a, **k: called.append("print"))
    monkeypatch.setattr("builtins.open", lambda *a, **k: called.append("open"))
    try:
        malformed(raw)
    finally:
        monkeypatch.undo()
    assert "os" not in called and "print" not in called and "open" not in called


def _tracking_import(called: list[str]):  # type: ignore[no-untyped-def]
    real = __import__

    def tracking(name, *args, **kwargs):  # type: ignore[no-untyped-def]
        called.append(name)
        return real(name, *args, **kwargs)

    return tracking


def test_deep_nesting_is_a_clean_error_and_fast() -> None:
    for raw in (b"[" * 100_000, b"[" * 100_000 + b"]" * 100_000,
                b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
                b"{'a':" * 100_000 + b"1" + b"}" * 100_000,
                b"-" * 100_000 + b"1", b"not " * 100_000 + b"1", b"1+" * 100_000 + b"1",
                b"(" * 100_000 + b"1" + b")" * 100_000):
        start = time.perf_counter()
        malformed(raw)
        assert time.perf_counter() - start < 2.0


def test_depth_limit_applies_to_every_parser() -> None:
    ok_json = b'{"a":' * (MAX_DEPTH - 1) + b"[]" + b"}" * (MAX_DEPTH - 1)
    assert decode_body(ok_json)
    too_deep_json = b'{"a":' * MAX_DEPTH + b"[]" + b"}" * MAX_DEPTH
    assert "deep" in malformed(too_deep_json).message
    ok_repr = b"{'a':" * (MAX_DEPTH - 1) + b"[]" + b"}" * (MAX_DEPTH - 1)
    assert decode_body(ok_repr)
    too_deep_repr = b"{'a':" * MAX_DEPTH + b"[]" + b"}" * MAX_DEPTH
    assert "deep" in malformed(too_deep_repr).message
    # Between orjson's own limit (1024) and the stdlib's recursion limit.
    assert "deep" in malformed(b"[" * 5000 + b"]" * 5000).message


def test_oversize_bodies() -> None:
    with pytest.raises(ApiError) as info:
        decode_body(b" " * (MAX_BODY_BYTES_JSON + 1))
    assert info.value.code == "err_request_too_large"
    assert str(MAX_BODY_BYTES_JSON) in info.value.message
    # Large valid JSON is fine ...
    big = json.dumps({"data": [{"v": "x" * (MAX_BODY_BYTES * 2)}]}).encode()
    assert len(decode_body(big)["data"][0]["v"]) == MAX_BODY_BYTES * 2
    # ... but the literal fallback is bounded more tightly.
    big_repr = str({"data": [{"v": "x" * (MAX_BODY_BYTES + 10)}]}).encode()
    with pytest.raises(ApiError) as info:
        decode_body(big_repr)
    assert info.value.code == "err_request_too_large"
    assert str(MAX_BODY_BYTES) in info.value.message
    # Just under the fallback limit still parses.
    ok_repr = str({"v": "x" * (MAX_BODY_BYTES - 100)}).encode()
    assert len(ok_repr) <= MAX_BODY_BYTES
    assert decode_body(ok_repr)["v"].startswith("xxx")


def test_errors_render_as_envelopes() -> None:
    from mimicast.wire.envelope import decode, error_envelope

    error = malformed(b"{'a': ")
    body = decode(error_envelope(error))
    assert body["meta"] == {"status": 400}
    assert body["fail"][0]["errors"][0]["code"] == "err_request_malformed"


# --- normalise_request -----------------------------------------------------------------------

@pytest.mark.parametrize("body, data, meta", [
    ({}, [], {}),
    ({"data": None}, [], {}),
    ({"data": []}, [], {}),
    ({"data": [{"a": 1}, {"b": 2}]}, [{"a": 1}, {"b": 2}], {}),
    ({"data": {"a": 1}}, [{"a": 1}], {}),
    ({"data": "accessKey123"}, ["accessKey123"], {}),
    ({"meta": None}, [], {}),
    ({"meta": "x"}, [], {}),
    ({"meta": [1]}, [], {}),
    ({"meta": {"pagination": {"pageSize": 1}}, "data": [{}]},
     [{}], {"pagination": {"pageSize": 1}}),
])
def test_normalise_request(body: dict, data: list, meta: dict) -> None:
    assert normalise_request(body) == (data, meta)


def test_normalise_request_from_decoded_bodies() -> None:
    assert normalise_request(decode_body(b"")) == ([], {})
    assert normalise_request(decode_body(b"data=KEY", FORM)) == (["KEY"], {})
    assert normalise_request(decode_body(b"{'data': [{'x': True}]}")) == ([{"x": True}], {})


# --- pagination ------------------------------------------------------------------------------

@pytest.mark.parametrize("meta, expected", [
    ({}, (None, None)),
    ({"pagination": None}, (None, None)),
    ({"pagination": "x"}, (None, None)),
    ({"pagination": {}}, (None, None)),
    ({"pagination": {"pageSize": 25}}, (25, None)),
    ({"pagination": {"pageSize": 0}}, (0, None)),
    ({"pagination": {"pageSize": "100"}}, (100, None)),
    ({"pagination": {"pageSize": " 100 "}}, (100, None)),
    ({"pagination": {"pageSize": 50.0}}, (50, None)),
    ({"pagination": {"pageSize": "50.0"}}, (50, None)),
    ({"pagination": {"pageSize": ""}}, (None, None)),
    ({"pagination": {"pageSize": None}}, (None, None)),
    ({"pagination": {"pageToken": "abc"}}, (None, "abc")),
    ({"pagination": {"pageToken": None}}, (None, None)),
    ({"pagination": {"pageToken": ""}}, (None, None)),
    ({"pagination": {"pageToken": "  "}}, (None, None)),
    ({"pagination": {"pageToken": 12}}, (None, "12")),
    ({"pagination": {"page_size": 10, "page_token": "t"}}, (10, "t")),
    ({"pagination": {"page_size": "10"}}, (10, None)),
    ({"pagination": {"pageSize": 5, "page_size": 10}}, (5, None)),
    ({"pagination": {"pageSize": None, "page_size": 10}}, (10, None)),
    ({"pagination": {"pageToken": "a", "page_token": "b"}}, (None, "a")),
])
def test_pagination(meta: dict, expected: tuple) -> None:
    assert pagination(meta) == expected


@pytest.mark.parametrize("size", ["abc", "-1", -1, -100, 2.5, "2.5", True, False, [10],
                                  {"n": 1}, "nan", "inf", float("nan")])
def test_pagination_rejects_bad_page_sizes(size: object) -> None:
    with pytest.raises(ApiError) as info:
        pagination({"pagination": {"pageSize": size}})
    assert info.value.code == "err_validation_invalid_value"
    assert info.value.field == "pageSize"
    assert info.value.status == 200
    assert info.value.as_error()["field"] == "pageSize"


def test_pagination_rejects_structured_tokens() -> None:
    with pytest.raises(ApiError) as info:
        pagination({"pagination": {"pageToken": {"a": 1}}})
    assert info.value.field == "pageToken"


def test_pagination_from_a_repr_body() -> None:
    body = decode_body(str({"meta": {"pagination": {"pageSize": "100", "pageToken": None}}})
                       .encode())
    _, meta = normalise_request(body)
    assert pagination(meta) == (100, None)
