"""file/file-upload over HTTP: a file announced by hash and size, its bytes PUT to the URL that
answered, then attached to a message by id; URLs that are altered, expired or given other
bytes are refused with the envelope, and an upload is its own account's only."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator
from email import message_from_bytes, policy
from typing import Any

import httpx
import pytest
from api import Namespace, audit_events, failures, only_error
from sqlalchemy import delete

from mimicast.services import ids
from mimicast.services.clock import Clock
from mimicast.services.mail import uploads, world
from mimicast.store.schema import Upload
from mimicast.testing import Harness
from mimicast.testing.harness import Tenant
from mimicast.wire.sealed import seal

files = Namespace("/api/file/")
email = Namespace("/api/email/")
gateway = Namespace("/api/gateway/")
CUSTOMER = "buyer@customer.example.com"


def announce(harness: Harness, tenant: Tenant, data: bytes, **extra: Any) -> dict[str, Any]:
    """The file-upload answer for `data` (by its hash and size, plus `extra` keys)."""
    (target,) = files.ok(harness, tenant, "file-upload", [
        {"sha256": hashlib.sha256(data).hexdigest(), "fileSize": len(data), **extra}])
    return dict(target)


def put(url: str, content: Any, **options: Any) -> httpx.Response:
    return httpx.put(url, content=content, timeout=30, **options)


def upload(harness: Harness, tenant: Tenant, data: bytes, **extra: Any) -> str:
    """A file uploaded both steps through; its id."""
    target = announce(harness, tenant, data, **extra)
    (url,) = target["urls"]
    assert put(url, data).status_code == 200
    return str(target["id"])


def put_error(response: httpx.Response, status: int) -> dict[str, Any]:
    """The one error of a refused PUT, whose answer is the error envelope."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["meta"]["status"] == status and body["data"] == []
    [entry] = body["fail"]
    [error] = entry["errors"]
    return dict(error)


@pytest.fixture
def clock(harness: Harness) -> Iterator[Clock]:
    """The harness's clock, back on the wall clock afterwards (other tests share it)."""
    try:
        yield harness.clock
    finally:
        harness.clock.reset()


# The way through ------------------------------------------------------------------------------

def test_an_uploaded_file_is_sent_and_comes_back_byte_for_byte(harness: Harness,
                                                               tenant: Tenant) -> None:
    data = secrets.token_bytes(300_000)
    target = announce(harness, tenant, data, filename="report.pdf",
                      contentType="application/pdf")
    (url,) = target["urls"]
    assert url.startswith(f"{harness.url}/uploads/")
    response = put(url, data)
    assert response.status_code == 200 and response.headers["content-type"] == \
        "application/json"
    assert response.json()["data"] == [{"id": target["id"], "fileSize": len(data),
                                        "sha256": hashlib.sha256(data).hexdigest()}]
    # The same bytes again: the same answer, nothing changes.
    assert put(url, data).json() == response.json()

    (sent,) = email.ok(harness, tenant, "send-email", [{
        "to": [CUSTOMER], "subject": "Report", "plainBody": "Attached.",
        "attachments": [{"id": target["id"]},
                        {"id": target["id"], "filename": "copy.bin",
                         "contentType": "application/octet-stream"}]}])
    (detail,) = gateway.ok(harness, tenant, "message/get-message-detail", [{"id": sent["id"]}])
    digest = hashlib.sha256(data).hexdigest()
    assert [(a["filename"], a["contentType"], a["size"], a["sha256"])
            for a in detail["attachments"]] == [
        ("report.pdf", "application/pdf", len(data), digest),
        ("copy.bin", "application/octet-stream", len(data), digest)]
    downloaded = gateway.call(harness, tenant, "message/get-file",
                              [{"id": detail["attachments"][0]["id"]}])
    assert downloaded.content == data
    assert downloaded.headers["content-disposition"] == 'attachment; filename="report.pdf"'
    eml = gateway.call(harness, tenant, "message/get-file", [{"id": sent["id"]}]).content
    parts = list(message_from_bytes(eml, policy=policy.default).iter_attachments())
    assert [(p.get_filename(), p.get_content()) for p in parts] == [("report.pdf", data),
                                                                    ("copy.bin", data)]
    assert ("File upload requested", f"report.pdf ({len(data)} bytes)") in [
        (e.event_type, e.info) for e in audit_events(harness, tenant, category="email_logs")]


def test_the_sandbox_judges_an_uploaded_file_as_an_inline_one(harness: Harness) -> None:
    tenant = harness.tenant()
    file_id = upload(harness, tenant, world.MALWARE_MARKER + b" rest of the file",
                     filename="eicar.com")
    (sent,) = email.ok(harness, tenant, "send-email", [{
        "to": [tenant.email], "subject": "Test file", "attachments": [{"id": file_id}]}])
    (held,) = gateway.ok(harness, tenant, "get-hold-message-list", [{}])
    assert held["id"] == sent["id"] and held["reason"] == "Malicious Attachment"


def test_an_empty_file_uploads(harness: Harness, tenant: Tenant) -> None:
    file_id = upload(harness, tenant, b"", filename="empty.txt")
    email.ok(harness, tenant, "send-email", [{"to": [CUSTOMER],
                                              "attachments": [{"id": file_id}]}])


# Refused PUTs ---------------------------------------------------------------------------------

@pytest.mark.store_agnostic
def test_other_bytes_are_refused_and_not_kept(harness: Harness, tenant: Tenant) -> None:
    data = b"the declared file"
    target = announce(harness, tenant, data, filename="a.txt")
    (url,) = target["urls"]
    error = put_error(put(url, b"the declared fill"), 400)
    assert error["code"] == "err_upload_sha256_mismatch"
    assert hashlib.sha256(data).hexdigest() in error["message"]
    error = put_error(put(url, data[:-1]), 400)
    assert error["code"] == "err_upload_size_mismatch" and "16 bytes" in error["message"]
    # Without a Content-Length (chunked), the body itself is measured.
    error = put_error(put(url, iter([data[:5], data[5:-1]])), 400)
    assert error["code"] == "err_upload_size_mismatch"
    body = email.post(harness, tenant, "send-email", [{"to": [CUSTOMER],
                                                       "attachments": [{"id": target["id"]}]}])
    assert only_error(body)["code"] == "err_upload_incomplete"
    assert put(url, data).status_code == 200


@pytest.mark.store_agnostic
def test_a_longer_body_is_refused_without_being_read(harness: Harness,
                                                     tenant: Tenant) -> None:
    (url,) = announce(harness, tenant, b"0123456789")["urls"]
    huge = b"x" * (4 * 1024 * 1024)
    error = put_error(put(url, huge), 400)
    assert error["code"] == "err_upload_size_mismatch" and str(len(huge)) in error["message"]
    # Chunked: refused at the first chunk past the declared size.
    error = put_error(put(url, iter([b"01234", b"56789", b"x" * 65536] + [huge] * 4)), 400)
    assert error["code"] == "err_upload_size_mismatch" and "more than 10" in error["message"]


@pytest.mark.store_agnostic
def test_altered_and_foreign_urls_are_refused(harness: Harness, tenant: Tenant) -> None:
    data = b"payload"
    (url,) = announce(harness, tenant, data)["urls"]
    base, _, ticket = url.rpartition("/")
    flipped = ticket[:10] + ("A" if ticket[10] != "A" else "B") + ticket[11:]
    not_a_ticket = seal(harness.deps.vault.mac_key, ["/api/some/list", "n", [1], None])
    for forged in (flipped, ticket[:-4], "nope", "%00" * 10, not_a_ticket, "x" * 5000):
        error = put_error(put(f"{base}/{forged}", data), 400)
        assert error["code"] == "err_upload_url_invalid", forged
    assert httpx.get(url).status_code == 405


@pytest.mark.store_agnostic
def test_an_expired_url_is_refused(harness: Harness, tenant: Tenant, clock: Clock) -> None:
    data = b"late"
    (url,) = announce(harness, tenant, data)["urls"]
    clock.advance(minutes=61)
    error = put_error(put(url, data), 403)
    assert error["code"] == "err_upload_url_expired"


def test_a_url_whose_upload_is_gone_is_not_found(harness: Harness, tenant: Tenant) -> None:
    data = b"orphan"
    target = announce(harness, tenant, data)
    with harness.deps.store.unit() as unit:
        unit.session.execute(delete(Upload).where(
            Upload.id == ids.row_id(uploads.ID_KIND, target["id"])))
    error = put_error(put(target["urls"][0], data), 404)
    assert error["code"] == "err_object_not_found"


def test_the_size_limit_is_the_servers_setting(harness: Harness, tenant: Tenant) -> None:
    small = harness.with_settings(max_upload_bytes=1024)
    try:
        response = harness.call(tenant.keys, "/api/file/file-upload",
                                {"data": [{"sha256": "0" * 64, "fileSize": 1025}]},
                                base=small.url)
        assert [(code, field) for _key, code, field in failures(response.json())] == [
            ("err_validation_invalid_value", "fileSize")]
        # A URL another server issued under a higher limit is held to this one's.
        data = b"y" * 2048
        (url,) = announce(harness, tenant, data)["urls"]
        error = put_error(put(url.replace(harness.url, small.url), data), 400)
        assert error["code"] == "err_request_too_large"
    finally:
        small.stop()


# Ids in send-email ----------------------------------------------------------------------------

def test_another_accounts_upload_is_not_found(harness: Harness, tenant: Tenant,
                                              other: Tenant) -> None:
    file_id = upload(harness, tenant, b"private", filename="private.txt")
    body = email.post(harness, other, "send-email", [{"to": [CUSTOMER],
                                                      "attachments": [{"id": file_id}]}])
    [(_key, code, field)] = failures(body)
    assert (code, field) == ("err_upload_not_found", "attachments[0].id")


def test_bad_attachment_ids_fail_their_item_and_send_nothing(harness: Harness) -> None:
    tenant = harness.tenant()
    nameless = upload(harness, tenant, b"no name")
    pending = announce(harness, tenant, b"never sent", filename="p.txt")["id"]
    cases = [
        ({"id": "nope"}, "err_upload_not_found", "attachments[0].id"),
        ({"id": 42}, "err_upload_not_found", "attachments[0].id"),
        ({"id": pending}, "err_upload_incomplete", "attachments[0].id"),
        ({"id": nameless}, "err_validation_null", "attachments[0].filename"),
        ({"id": nameless, "filename": "n" * 256}, "err_validation_invalid_value",
         "attachments[0].filename"),
        ({"id": nameless, "content": "eA=="}, "err_validation_invalid_value",
         "attachments[0]"),
    ]
    for attachment, code, field in cases:
        item = {"to": [CUSTOMER], "attachments": [attachment]}
        body = email.post(harness, tenant, "send-email", [item, {"to": [CUSTOMER]}])
        assert failures(body) == [(item, code, field)], attachment
        assert len(body["data"]) == 1
    sent = [e for e in audit_events(harness, tenant, category="email_logs")
            if e.event_type == "Email sent"]
    assert len(sent) == len(cases)  # only the good item of each request went out


# The endpoint's own rules ---------------------------------------------------------------------

@pytest.mark.parametrize(("item", "code", "field"), [
    ({"fileSize": 1}, "err_validation_null", "sha256"),
    ({"sha256": "abc", "fileSize": 1}, "err_validation_invalid_value", "sha256"),
    ({"sha256": "g" * 64, "fileSize": 1}, "err_validation_invalid_value", "sha256"),
    ({"sha256": "a" * 64}, "err_validation_null", "fileSize"),
    ({"sha256": "a" * 64, "fileSize": -1}, "err_validation_invalid_value", "fileSize"),
    ({"sha256": "a" * 64, "fileSize": "big"}, "err_validation_invalid_value", "fileSize"),
    ({"sha256": "a" * 64, "fileSize": 25 * 1024 * 1024 + 1}, "err_validation_invalid_value",
     "fileSize"),
    ({"sha256": "a" * 64, "fileSize": 1, "filename": "f" * 256},
     "err_validation_invalid_value", "filename"),
])
def test_bad_items_fail_on_their_field(harness: Harness, tenant: Tenant, item: dict[str, Any],
                                       code: str, field: str) -> None:
    good = {"sha256": "A" * 64, "fileSize": "12", "filename": "ok.txt"}
    body = files.post(harness, tenant, "file-upload", [item, good])
    assert failures(body) == [(item, code, field)]
    [target] = body["data"]
    assert set(target) == {"id", "urls"} and len(target["urls"]) == 1


@pytest.mark.store_agnostic
@pytest.mark.parametrize("count", [0, 51])
def test_it_takes_one_to_fifty_files(harness: Harness, tenant: Tenant, count: int) -> None:
    item = {"sha256": "a" * 64, "fileSize": 1}
    error = files.request_error(harness, tenant, "file-upload", [item] * count)
    assert error["code"] == "err_validation_item_count"


@pytest.mark.store_agnostic
def test_uploading_needs_the_send_permission(harness: Harness) -> None:
    nobody = harness.tenant(role=None)
    message = files.forbidden(harness, nobody, "file-upload",
                              [{"sha256": "a" * 64, "fileSize": 1}])
    assert "Gateway | Email | Send" in message
