"""`email/send-email`: a message an API caller writes goes through the same gateway as every
other (`accept`), as mail from the account's own users, so the caller can then find it held or
delivered. Its body and attachments are the caller's and are kept (a simulated message's are
rendered from its seed instead); a file comes inline, in base64, or as the id of one uploaded
beforehand (`uploads`)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import html
import re
from collections.abc import Mapping
from typing import Any

import orjson
from sqlalchemy import bindparam, select

from mimicast.services import audit
from mimicast.services.context import Context
from mimicast.services.downloads import OCTET_STREAM
from mimicast.services.identity import normalise_email
from mimicast.services.mail import uploads
from mimicast.services.mail.accept import accept
from mimicast.services.mail.facts import Attachment, Draft, Recipient
from mimicast.services.mail.render import TAGS
from mimicast.services.mail.rules import load_rules
from mimicast.services.mail.views import secure_id
from mimicast.store.query import Query
from mimicast.store.schema import MessageRecipient
from mimicast.wire.errors import ApiError

# The message's first recipient copy: the id the answer gives.
_FIRST_COPY = Query(select(MessageRecipient.id)
                    .where(MessageRecipient.message_id == bindparam("message"))
                    .order_by(MessageRecipient.id).limit(1))
MAX_RECIPIENTS = 500
MAX_ATTACHMENT_BYTES = 25 * 1024 * 1024  # the real gateway's default size limit
# A message's files together (inline or uploaded, Settings.max_upload_bytes being at most
# this): what one send holds in memory at once.
MAX_MESSAGE_BYTES = 100 * 1024 * 1024
MAX_FILENAME_LENGTH = 255  # the stored name's column
_LINKS = re.compile(r"https?://[^\s\"'<>]+", re.IGNORECASE)


def _party(given: Any, field: str) -> tuple[str, str]:
    """An address object `{emailAddress, displayableName?}` (or a bare address)."""
    if isinstance(given, str):
        return normalise_email(given, field), ""
    if not isinstance(given, Mapping) or not given.get("emailAddress"):
        raise ApiError("err_validation_null", field=f"{field}.emailAddress")
    name = str(given.get("displayableName") or "").strip()
    return normalise_email(str(given["emailAddress"]), f"{field}.emailAddress"), name


def _parties(given: Any, field: str) -> list[tuple[str, str]]:
    if given is None:
        return []
    values = given if isinstance(given, list) else [given]
    return [_party(value, f"{field}[{index}]") for index, value in enumerate(values)]


def _content(given: Any) -> str:
    """A body given as `{content}` or as a plain string."""
    if isinstance(given, Mapping):
        return str(given.get("content") or "")
    return str(given or "")


def _attachments(ctx: Context, given: Any) -> list[Attachment]:
    files = []
    total = 0
    for index, entry in enumerate(given or []):
        where = f"attachments[{index}]"
        if not isinstance(entry, Mapping):
            raise ApiError("err_validation_invalid_value", field=where,
                           reason="an attachment is {filename, contentType, content} or the "
                                  "{id} of an uploaded file")
        if entry.get("id") is None:
            file = _inline(entry, where)
        elif entry.get("content") is None:
            file = _uploaded(ctx, entry, where)
        else:
            raise ApiError("err_validation_invalid_value", field=where,
                           reason="give an attachment's content or the id of an uploaded "
                                  "file, not both")
        total += file.size
        if total > MAX_MESSAGE_BYTES:
            raise ApiError("err_validation_invalid_value", field="attachments",
                           reason=f"a message's files total at most {MAX_MESSAGE_BYTES} bytes")
        files.append(file)
    return files


def _name(entry: Mapping[str, Any], where: str, default: str = "") -> str:
    name = str(entry.get("filename") or entry.get("fileName") or default).strip()
    if not name:
        raise ApiError("err_validation_null", field=f"{where}.filename")
    if len(name) > MAX_FILENAME_LENGTH:
        raise ApiError("err_validation_invalid_value", field=f"{where}.filename",
                       reason=f"at most {MAX_FILENAME_LENGTH} characters")
    return name


def _inline(entry: Mapping[str, Any], where: str) -> Attachment:
    """`{filename, contentType, content}`, the content in base64."""
    name = _name(entry, where)
    try:
        data = base64.b64decode(str(entry.get("content") or ""), validate=True)
    except (binascii.Error, ValueError):
        raise ApiError("err_validation_invalid_value", field=f"{where}.content",
                       reason="content is the file in base64") from None
    if len(data) > MAX_ATTACHMENT_BYTES:
        raise ApiError("err_validation_invalid_value", field=f"{where}.content",
                       reason=f"at most {MAX_ATTACHMENT_BYTES} bytes")
    content_type = str(entry.get("contentType") or OCTET_STREAM)
    return Attachment(name, content_type[:127], len(data), hashlib.sha256(data).hexdigest(),
                      content=data)


def _uploaded(ctx: Context, entry: Mapping[str, Any], where: str) -> Attachment:
    """`{id, filename?, contentType?}`: a file uploaded through file-upload, under its own
    name and type unless these give others."""
    found = uploads.uploaded_file(ctx, entry["id"], f"{where}.id")
    name = _name(entry, where, found.filename)
    content_type = str(entry.get("contentType") or found.content_type or OCTET_STREAM)
    return Attachment(name, content_type[:127], found.size, found.sha256,
                      content=bytes(found.content))


def send(ctx: Context, item: Mapping[str, Any]) -> dict[str, Any]:
    """One message, sent as the caller (or as `from`, an address of the account's own
    domains): answers `{id, messageId}`, the id of its first recipient's copy."""
    sender, name = _party(item["from"], "from") if item.get("from") else (ctx.caller.actor, "")
    recipients = [Recipient(address, shown, kind)
                  for kind in ("to", "cc", "bcc")
                  for address, shown in _parties(item.get(kind), kind)]
    if not recipients:
        raise ApiError("err_validation_null", field="to")
    if len(recipients) > MAX_RECIPIENTS:
        raise ApiError("err_validation_invalid_value", field="to",
                       reason=f"at most {MAX_RECIPIENTS} recipients")
    reply_to = _party(item["replyTo"], "replyTo")[0] if item.get("replyTo") else ""
    text = _content(item.get("plainBody") or item.get("text"))
    markup = _content(item.get("htmlBody") or item.get("html"))
    readable = text or html.unescape(TAGS.sub(" ", markup))
    links = tuple(dict.fromkeys(_LINKS.findall(f"{text}\n{markup}")))
    in_reply_to = str(item.get("inReplyTo") or "").strip()
    draft = Draft(sender=sender, recipients=tuple(recipients), received_at=ctx.now(),
                  external=False, from_name=name, reply_to=reply_to,
                  subject=str(item.get("subject") or ""), text=readable, links=links,
                  attachments=tuple(_attachments(ctx, item.get("attachments"))),
                  sender_ip="127.0.0.1", helo="api.mimicast", spf="pass", dkim="pass",
                  dmarc="pass", in_reply_to=in_reply_to,
                  body=orjson.dumps({"text": text, "html": markup}).decode())
    rules = load_rules(ctx, [draft])
    if not rules.is_internal(sender):
        raise ApiError("err_validation_invalid_value", field="from",
                       reason="the sender must be an address of the account's internal "
                              "domains")
    (accepted,) = accept(ctx, [draft], rules)
    first = _FIRST_COPY.scalar(ctx.unit, message=accepted.id)
    audit.record(ctx, audit.EMAIL, "Email sent",
                 f"{accepted.message_id} from {sender} to {len(recipients)} recipient(s)")
    return {"id": secure_id(first), "messageId": accepted.message_id}
