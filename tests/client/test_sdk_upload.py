"""The SDK's file upload: `upload_file` announces, PUTs and returns the id send-email takes;
`file.file_upload` is the generated method of the endpoint itself."""

from __future__ import annotations

import asyncio
import hashlib

import pytest
from sdk_helpers import ClientFactory

from mimicast.catalog.file import UploadTarget
from mimicast.client import AsyncClient, ValidationError
from mimicast.testing import Harness

pytestmark = pytest.mark.store_agnostic

CUSTOMER = "buyer@customer.example.com"


def test_upload_file_then_attach_it(harness: Harness, client_for: ClientFactory) -> None:
    client = client_for(harness.tenant())
    data = b"minutes of the meeting\n" * 1000
    file_id = client.upload_file(data, filename="minutes.txt", content_type="text/plain")
    (sent,) = client.email.send_email(to=[CUSTOMER], subject="Minutes",
                                      attachments=[{"id": file_id}])
    (detail,) = client.gateway_message.get_message_detail(id=sent.id)
    (attachment,) = detail.attachments
    assert (attachment["filename"], attachment["contentType"]) == ("minutes.txt", "text/plain")
    assert client.gateway_message.get_file(id=attachment["id"]) == data


def test_the_generated_method_answers_typed_targets(harness: Harness,
                                                     client_for: ClientFactory) -> None:
    client = client_for(harness.tenant())
    (target,) = client.file.file_upload(sha256=hashlib.sha256(b"x").hexdigest(), fileSize=1)
    assert isinstance(target, UploadTarget) and len(target.urls) == 1
    with pytest.raises(ValidationError):
        client.file.file_upload(sha256="not a hash", fileSize=1)


def test_async_upload_file(harness: Harness) -> None:
    keys = harness.tenant().keys

    async def scenario() -> None:
        async with AsyncClient(harness.url, keys.app_id, keys.app_key, keys.access_key,
                               keys.secret_key) as client:
            file_id = await client.upload_file(b"\x00\x01binary", filename="a.bin")
            (sent,) = await client.email.send_email(to=[CUSTOMER],
                                                    attachments=[{"id": file_id}])
            assert sent.messageId.startswith("<")

    asyncio.run(scenario())
