"""Files uploaded for sending: `file/file-upload` announces a file by its SHA-256 and size and
answers an id and a URL to PUT the bytes to; `email/send-email` then attaches the file by that
id (`attachments[] {id}`).

The URL carries a sealed ticket (`wire.sealed`): the upload, its account, the declared hash and
size, and when the URL expires. The PUT is checked against the ticket alone before the store
is touched, so a URL delivers only the bytes it was issued for, to its own account.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, insert, select, update

from mimicast.services import audit, ids
from mimicast.services.context import Context, Deps
from mimicast.store.engine import retrying
from mimicast.store.query import Query
from mimicast.store.schema import Upload
from mimicast.wire.errors import ApiError
from mimicast.wire.sealed import seal, unseal

ID_KIND = "upload"
# Where the bytes go, outside `/api/` (the server's upload route).
UPLOAD_PATH = "/uploads/"
URL_SECONDS = 3600  # how long an upload URL takes the bytes, as pre-signed URLs usually do
_TAG = "upload"  # first in a ticket's sealed list: a page token is never read as a ticket
_SHA256 = re.compile(r"[0-9a-f]{64}")

_ADD = Query(insert(Upload).values(
    account_id=bindparam("account"), sha256=bindparam("sha256"), size=bindparam("size"),
    filename=bindparam("filename"), content_type=bindparam("content_type"),
    created_at=bindparam("at")).returning(Upload.id))
# Only while the bytes are missing: a second PUT of a URL (the same bytes, as its ticket
# holds them to the declared hash) leaves the row alone.
_FILL = Query(update(Upload).where(Upload.id == bindparam("id"),
                                   Upload.account_id == bindparam("account"),
                                   Upload.content.is_(None))
              .values(content=bindparam("content")))
_EXISTS = Query(select(Upload.id).where(Upload.id == bindparam("id"),
                                        Upload.account_id == bindparam("account")))
_FILE = Query(select(Upload.filename, Upload.content_type, Upload.size, Upload.sha256,
                     Upload.content)
              .where(Upload.id == bindparam("id"), Upload.account_id == bindparam("account")))


def secure_id(number: int) -> str:
    """An upload's id, as file-upload answers it and send-email takes it."""
    return ids.secure_id(ID_KIND, number)


@dataclass(frozen=True)
class Ticket:
    """What an upload URL allows: these bytes (by hash and size) into this upload."""

    upload: int
    account: int
    sha256: str
    size: int

    @property
    def id(self) -> str:
        return secure_id(self.upload)


def request_upload(ctx: Context, sha256: str, size: int, filename: str | None,
                   content_type: str | None) -> dict[str, Any]:
    """`file/file-upload`, one file: a new upload awaiting the bytes whose SHA-256 and size
    are given; answers `{id, urls}`, the one URL to PUT them to within `URL_SECONDS`."""
    digest = sha256.strip().lower()
    if not _SHA256.fullmatch(digest):
        raise ApiError("err_validation_invalid_value", field="sha256",
                       reason="the file's SHA-256, 64 hexadecimal digits")
    limit = ctx.deps.max_upload_bytes
    if size > limit:
        raise ApiError("err_validation_invalid_value", field="fileSize",
                       reason=f"at most {limit} bytes")
    account, now = ctx.caller.account_id, ctx.now()
    number = _ADD.scalar(ctx.unit, account=account, sha256=digest, size=size,
                         filename=filename or "", content_type=content_type or "", at=now)
    ticket = seal(ctx.deps.vault.mac_key,
                  [_TAG, number, account, digest, size, int(now.timestamp()) + URL_SECONDS])
    audit.record(ctx, audit.EMAIL, "File upload requested",
                 f"{filename or digest} ({size} bytes)")
    return {"id": secure_id(number), "urls": [f"{ctx.deps.public_url}{UPLOAD_PATH}{ticket}"]}


def read_ticket(deps: Deps, sealed: str) -> Ticket:
    """The ticket of an upload URL's last segment: `err_upload_url_invalid` for one this
    server did not issue (or that was altered), `err_upload_url_expired` once it has run out."""
    value = unseal(deps.vault.mac_key, sealed)
    if not isinstance(value, list) or len(value) != 6 or value[0] != _TAG:
        raise ApiError("err_upload_url_invalid")
    _, upload, account, digest, size, expires = value
    if deps.clock().timestamp() >= expires:
        raise ApiError("err_upload_url_expired")
    if size > deps.max_upload_bytes:  # issued by a server configured with a higher limit
        raise ApiError("err_request_too_large", limit=deps.max_upload_bytes)
    return Ticket(upload, account, digest, size)


def wrong_size(ticket: Ticket, actual: int | str) -> ApiError:
    """The refusal of a body that is not the declared size (`actual`: what it is instead)."""
    return ApiError("err_upload_size_mismatch", actual=actual, declared=ticket.size)


def store(deps: Deps, ticket: Ticket, data: bytes) -> dict[str, Any]:
    """The bytes PUT to an upload's URL, checked against its ticket and stored (the same bytes
    again change nothing); answers `{id, sha256, fileSize}`."""
    if len(data) != ticket.size:
        raise wrong_size(ticket, len(data))
    digest = hashlib.sha256(data).hexdigest()
    if digest != ticket.sha256:
        raise ApiError("err_upload_sha256_mismatch", actual=digest, declared=ticket.sha256)

    def fill() -> None:
        with deps.store.unit() as unit:
            keys = {"id": ticket.upload, "account": ticket.account}
            filled = _FILL.execute(unit, content=data, **keys)
            if not filled and _EXISTS.first(unit, **keys) is None:
                # Its account has gone since the URL was issued.
                raise ApiError("err_object_not_found", what="Upload", name=ticket.id)

    retrying(fill)
    return {"id": ticket.id, "sha256": ticket.sha256, "fileSize": ticket.size}


def uploaded_file(ctx: Context, value: Any, field: str) -> Any:
    """The caller's upload that `value` (an id file-upload answered) names, with its bytes:
    `(filename, content_type, size, sha256, content)`; `err_upload_not_found` on `field` for
    an unknown id or another account's, `err_upload_incomplete` before its bytes arrived."""
    number = ids.row_id(ID_KIND, value if isinstance(value, str) else None)
    found = (_FILE.first(ctx.unit, id=number, account=ctx.caller.account_id)
             if number is not None else None)
    if found is None:
        raise ApiError("err_upload_not_found", field=field, id=value)
    if found.content is None:
        raise ApiError("err_upload_incomplete", field=field, id=value)
    return found
