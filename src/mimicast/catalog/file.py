"""File namespace: uploading a file to attach to messages (spec 5.7; data families §8.2).

Where the spec is unsure ([1]: one client's shapes), chosen here: `file-upload` takes 1–50
items `{sha256, fileSize, filename?, contentType?}` and answers each with `{id, urls}`: one URL
on this server (`/uploads/…`, outside `/api/`) that takes an HTTP PUT of exactly those bytes
for an hour. `email/send-email` then attaches the file as `attachments[] {id, filename?,
contentType?}`. The permission is send-email's: an upload is only good for sending.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

from mimicast.catalog.model import Endpoint, Item
from mimicast.services import permissions
from mimicast.services.mail import uploads

# As many files as a client would attach to a few messages at once.
MAX_FILES = 50


class UploadItem(Item):
    sha256: str = Field(min_length=1, description="The file's SHA-256, in hexadecimal.")
    fileSize: int = Field(ge=0, description=(
        "The file's size in bytes (at most the server's `--max-upload-bytes`)."))
    filename: str | None = Field(default=None, max_length=255, description=(
        "The name send-email gives the file unless it names it itself."))
    contentType: str | None = Field(default=None, max_length=127, description=(
        "Its MIME type (default: application/octet-stream)."))


class UploadTarget(BaseModel):
    id: str = Field(description="The file, for send-email's `attachments[] {id}` once its "
                                "bytes are uploaded.")
    urls: list[str] = Field(description=(
        "Where to PUT the bytes (one URL), within an hour; the body must be the declared "
        "size and SHA-256."))


ENDPOINTS = [
    Endpoint("/api/file/file-upload",
             "Announce files to attach to messages (1–50 items, each by SHA-256 and size): "
             "each gets an id and a URL to PUT its bytes to, then send-email attaches it by "
             "that id.",
             lambda ctx, item: uploads.request_upload(ctx, item.sha256, item.fileSize,
                                                      item.filename, item.contentType),
             permissions.SEND_EMAIL, UploadItem, UploadTarget, min_items=1,
             max_items=MAX_FILES),
]
