"""The response envelope, byte for byte where the spec quotes real captures (§3.3, §4.1)."""

from __future__ import annotations

from string import Formatter

import pytest

from mimicast.wire.envelope import (
    JSON_CONTENT_TYPE,
    decode,
    envelope,
    error_envelope,
    fail_entry,
)
from mimicast.wire.errors import ERRORS, ApiError


def test_key_order_meta_data_fail() -> None:
    raw = envelope([{"a": 1}])
    assert raw == b'{"meta":{"status":200},"data":[{"a":1}],"fail":[]}'
    assert list(decode(raw)) == ["meta", "data", "fail"]


def test_extra_meta_follows_status() -> None:
    raw = envelope([], meta={"pagination": {"pageSize": 0, "totalCount": 0}})
    assert raw == (b'{"meta":{"status":200,"pagination":{"pageSize":0,"totalCount":0}},'
                   b'"data":[],"fail":[]}')
    assert list(decode(raw)["meta"]) == ["status", "pagination"]


def test_siem_caught_up_shape() -> None:
    assert envelope([], meta={"isLastToken": True}) == \
        b'{"meta":{"status":200,"isLastToken":true},"data":[],"fail":[]}'


def test_invalid_signature_matches_the_real_capture() -> None:
    error = ApiError("err_xdk_invalid_signature")
    assert error.status == 401
    assert error_envelope(error) == (
        b'{"meta":{"status":401},"data":[],"fail":[{"errors":[{"code":"err_xdk_invalid_signature",'
        b'"message":"0004 Invalid Signature","retryable":false}]}]}')


def test_developer_key_matches_the_real_capture() -> None:
    error = ApiError("err_developer_key", app_id="INVALID")
    assert error.status == 200
    assert error_envelope(error) == (
        b'{"meta":{"status":200},"data":[],"fail":[{"errors":[{"code":"err_developer_key",'
        b'"message":"App ID is invalid: INVALID","retryable":false}]}]}')


def test_binding_expired_message() -> None:
    error = ApiError("err_xdk_binding_expired")
    body = decode(error_envelope(error))
    assert body["meta"]["status"] == 418
    assert "AccessKey Has Expired" in body["fail"][0]["errors"][0]["message"]


def test_rate_limit_is_retryable() -> None:
    body = decode(error_envelope(ApiError("err_rate_limit_exceeded")))
    assert body["meta"]["status"] == 429
    assert body["fail"][0]["errors"][0]["retryable"] is True


def test_fail_entry_with_key_and_field() -> None:
    item = {"sender": "not-an-address", "to": "a@example.com"}
    entry = fail_entry([ApiError("err_validation_invalid_email_address", field="sender")],
                       key=item)
    assert entry == {"key": item, "errors": [{"code": "err_validation_invalid_email_address",
                                              "message": "Email address is not valid",
                                              "retryable": False, "field": "sender"}]}
    assert list(entry) == ["key", "errors"]
    assert list(entry["errors"][0]) == ["code", "message", "retryable", "field"]


def test_fail_entry_without_key_has_no_key() -> None:
    entry = fail_entry([ApiError("err_internal")])
    assert "key" not in entry
    assert entry["errors"][0]["retryable"] is True


def test_fail_entry_with_a_falsy_key_keeps_it() -> None:
    # `key` echoes the offending item; an empty object or string is still an item.
    assert fail_entry([ApiError("err_validation_null", field="domain")], key={})["key"] == {}
    assert fail_entry([ApiError("err_validation_blank", field="x")], key="")["key"] == ""


def test_fail_entry_with_several_errors() -> None:
    entry = fail_entry([ApiError("err_validation_null", field="a"),
                        ApiError("err_validation_blank", field="b")], key={"b": ""})
    assert [e["field"] for e in entry["errors"]] == ["a", "b"]


def test_per_item_failures_keep_status_200() -> None:
    fail = [fail_entry([ApiError("err_domain_not_found", domain="x.com")], key={"domain": "x.com"})]
    raw = envelope([{"domain": "ok.com"}], fail)
    assert raw == (b'{"meta":{"status":200},"data":[{"domain":"ok.com"}],"fail":[{"key":'
                   b'{"domain":"x.com"},"errors":[{"code":"err_domain_not_found","message":'
                   b'"Domain not found: x.com","retryable":false}]}]}')


def test_api_error_message_override() -> None:
    error = ApiError("err_validation_item_count", message="Exactly one item is required")
    assert error.as_error()["message"] == "Exactly one item is required"


def test_every_error_code_renders() -> None:
    for code, spec in ERRORS.items():
        # Whatever placeholders the table grows, every message renders with them filled in.
        params = {name: "X" for _, name, _, _ in Formatter().parse(spec.message) if name}
        body = decode(error_envelope(ApiError(code, **params)))
        assert body["meta"]["status"] == spec.status
        error = body["fail"][0]["errors"][0]
        assert error["code"] == code and error["retryable"] is spec.retryable
        assert "{" not in error["message"]


def test_decode_rejects_non_objects() -> None:
    with pytest.raises(ValueError):
        decode(b"[]")


def test_content_type_is_exact() -> None:
    assert JSON_CONTENT_TYPE == "application/json"
