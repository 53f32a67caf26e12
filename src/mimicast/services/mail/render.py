"""A message's content, rendered from its facts: the text a simulated message carries (made
from its seed, so it is the same on every call and every store), with its links as the
recipient received them; the headers; its files (a simulated file's bytes come from
`content.attachment_bytes`, a sent one's are stored); the whole message as RFC 5322 bytes.
`gateway/message/get-message-detail` and `get-file` show them; only a sender's own body and
files are stored."""

from __future__ import annotations

import base64
import html
import random
import re
import secrets
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr
from typing import Any

import orjson
from sqlalchemy import bindparam, select

from mimicast.services import ids
from mimicast.services.context import Context
from mimicast.services.downloads import OCTET_STREAM, Download
from mimicast.services.mail import access, content
from mimicast.services.mail.views import copy, secure_id
from mimicast.services.url_rewrite import protect_link
from mimicast.store.query import Query
from mimicast.store.schema import (
    Account,
    Message,
    MessageAttachment,
    MessageLink,
    MessageRecipient,
)
from mimicast.wire.dates import format_date
from mimicast.wire.errors import ApiError

ATTACHMENT_ID_KIND = "attachment"
PREVIEW_CHARACTERS = 1000
_GREETINGS = ("Hi", "Hello", "Good morning", "Dear colleague", "Hi all")
_SENTENCES = (
    "Please find the details below.", "Let me know if you have any questions.",
    "I have attached the latest version for your review.",
    "Could you take a look before the end of the week?", "Thanks for your help with this.",
    "We discussed this in the meeting on Tuesday.", "The numbers are in the shared folder.",
    "Happy to set up a call if that is easier.", "I will follow up once I hear back.",
    "Here is the link I mentioned:")
_SIGN_OFFS = ("Best regards", "Kind regards", "Thanks", "Cheers", "Many thanks")

_RECIPIENTS = Query(select(MessageRecipient.address, MessageRecipient.original,
                           MessageRecipient.name, MessageRecipient.kind)
                    .where(MessageRecipient.message_id == bindparam("message"))
                    .order_by(MessageRecipient.id))
_LINKS = Query(select(MessageLink.url, MessageLink.action, MessageLink.code)
               .where(MessageLink.message_id == bindparam("message"))
               .order_by(MessageLink.id))
TAGS = re.compile(r"<[^>]+>")
_REGION = Query(select(Account.region).where(Account.id == bindparam("account")))
_BODY = Query(select(Message.body).where(Message.id == bindparam("message")))
_FILES = Query(select(MessageAttachment.id, MessageAttachment.name, MessageAttachment.sha256,
                      MessageAttachment.size, MessageAttachment.content_type)
               .where(MessageAttachment.message_id == bindparam("message"))
               .order_by(MessageAttachment.id))


def delivered_link(region: str, url: str, code: str | None) -> str:
    """A link as the recipient got it: rewritten by URL Protect, or as sent."""
    return protect_link(region, code, url) if code else url


def delivered_links(ctx: Context, message: int) -> list[str]:
    """A message's links as its recipients got them, in body order."""
    region = _REGION.scalar(ctx.unit, account=ctx.caller.account_id)
    return [delivered_link(region, link.url, link.code)
            for link in _LINKS.all(ctx.unit, message=message)]


def message_text(body: str | None) -> str:
    """The readable text of a body `sending.send` stored: the plain part, else the HTML's
    text."""
    if not body:
        return ""
    try:
        parts = orjson.loads(body)
    except orjson.JSONDecodeError:
        return body
    return str(parts.get("text") or html.unescape(TAGS.sub(" ", parts.get("html") or "")))


def body_text(ctx: Context, row: Any, links: list[str]) -> str:
    """The plain text of a message: the sender's own for mail sent through the API, made
    from the seed for simulated mail (the same every time)."""
    if row.seed is None:
        return message_text(_BODY.scalar(ctx.unit, message=row.message))
    pick = random.Random(row.seed * 1_000_003 + row.message)
    name = (row.name or row.address.split("@")[0]).split(" ")[0]
    lines = [f"{pick.choice(_GREETINGS)} {name},", ""]
    lines += [" ".join(pick.sample(_SENTENCES[:-1], k=pick.randint(2, 4)))]
    for link in links:
        lines += ["", _SENTENCES[-1], link]
    lines += ["", f"{pick.choice(_SIGN_OFFS)},", row.from_name or row.header_from]
    return "\n".join(lines)


def detail(ctx: Context, row: Any) -> dict[str, Any]:
    """`gateway/message/get-message-detail` of one recipient's copy (the archive's
    get-message-detail keys). The view goes to the archive's view log."""
    recipients = _RECIPIENTS.all(ctx.unit, message=row.message)
    links = delivered_links(ctx, row.message)
    text = body_text(ctx, row, links)
    files = _FILES.all(ctx.unit, message=row.message)
    date = format_date(row.received_at)
    headers = [{"name": "From", "values": [f"{row.from_name} <{row.header_from}>"
                                           if row.from_name else row.header_from]},
               {"name": "To", "values": [r.original for r in recipients if r.kind == "to"]},
               {"name": "Subject", "values": [row.subject]},
               {"name": "Date", "values": [date]},
               {"name": "Message-ID", "values": [row.message_id_header]},
               {"name": "Received", "values": [
                   f"from {row.helo or 'unknown'} ([{row.sender_ip}]) by mimicast; {date}"]}]
    if row.reply_to:
        headers.append({"name": "Reply-To", "values": [row.reply_to]})
    access.viewed(ctx, row)
    return {"id": secure_id(row.id), "subject": row.subject, "headerDate": date, "size": row.size,
            "processed": date, "hasHtmlBody": False,
            "from": {"emailAddress": row.header_from},
            "envelopeFrom": {"emailAddress": row.sender},
            "replyTo": {"emailAddress": row.reply_to or row.header_from},
            "to": [{"emailAddress": r.original} for r in recipients if r.kind == "to"],
            "cc": [{"emailAddress": r.original} for r in recipients if r.kind == "cc"],
            "headers": headers,
            "attachments": [{"id": attachment_id(f.id), "filename": f.name, "sha256": f.sha256,
                             "size": f.size, "contentType": f.content_type} for f in files],
            "messageBodyPreview": text[:PREVIEW_CHARACTERS]}


def attachment_id(number: int) -> str:
    return ids.secure_id(ATTACHMENT_ID_KIND, number)


# Files: an attachment's bytes, or a whole message as RFC 5322 -------------------------------

_ATTACHMENT = Query(select(MessageAttachment.id, MessageAttachment.message_id,
                           MessageAttachment.name,
                           MessageAttachment.content_type, MessageAttachment.size,
                           MessageAttachment.verdict, MessageAttachment.content, Message.seed)
                    .join(Message, Message.id == MessageAttachment.message_id)
                    .where(MessageAttachment.id == bindparam("id"),
                           Message.account_id == bindparam("account")))
_FILE_CONTENTS = Query(select(MessageAttachment.name, MessageAttachment.content_type,
                              MessageAttachment.size, MessageAttachment.verdict,
                              MessageAttachment.content)
                       .where(MessageAttachment.message_id == bindparam("message"))
                       .order_by(MessageAttachment.id))


def attachment_data(seed: int | None, name: str, size: int, verdict: str,
                    stored: bytes | None) -> bytes:
    """What a file holds: the sender's bytes, or for simulated mail the bytes its recorded
    hash names."""
    if stored is not None:
        return bytes(stored)
    return content.attachment_bytes(seed or 0, name, size, malicious=verdict == "malicious")


def mime(ctx: Context, row: Any) -> bytes:
    """One recipient's copy as the recipient's server received it: headers, the text (with
    links as URL Protect left them), the HTML the sender wrote, the files. The same bytes on
    every call: MIME boundaries are named after the message."""
    recipients = _RECIPIENTS.all(ctx.unit, message=row.message)
    links = delivered_links(ctx, row.message)
    message = EmailMessage(policy=SMTP)
    message["Received"] = (f"from {row.helo or 'unknown'} ([{row.sender_ip}]) by mimicast; "
                           f"{format_datetime(row.received_at)}")
    message["From"] = formataddr((row.from_name, row.header_from))
    for kind, header in (("to", "To"), ("cc", "Cc")):
        shown = [formataddr((r.name, r.original)) for r in recipients if r.kind == kind]
        if shown:
            message[header] = ", ".join(shown)
    message["Subject"] = row.subject
    message["Date"] = format_datetime(row.received_at)
    message["Message-ID"] = row.message_id_header
    if row.reply_to:
        message["Reply-To"] = row.reply_to
    message.set_content(body_text(ctx, row, links))
    markup = _html_of(ctx, row)
    if markup:
        message.add_alternative(markup, subtype="html")
    # The email package writes a body line by line (~60 ms a megabyte), so each file goes in
    # as a one-line placeholder and its base64 is put in its place afterwards.
    files = _FILE_CONTENTS.all(ctx.unit, message=row.message)
    for part in files:
        main, _, sub = (part.content_type or OCTET_STREAM).partition("/")
        message.add_attachment(b"", maintype=main or "application",
                               subtype=sub or "octet-stream", filename=part.name)
    placeholders = {}
    for attached, part in zip(message.iter_attachments(), files, strict=True):
        placeholder = f"=_mimicast_file_{secrets.token_hex(16)}"
        attached.set_payload(placeholder)
        placeholders[placeholder.encode()] = _base64_lines(attachment_data(
            row.seed, part.name, part.size, part.verdict, part.content))
    for index, part in enumerate(message.walk()):
        if part.is_multipart():
            part.set_boundary(f"=_mimicast_{row.message}_{index}")
    rendered = message.as_bytes()
    for marker, encoded in placeholders.items():
        rendered = rendered.replace(marker, encoded, 1)
    return rendered


def _base64_lines(data: bytes) -> bytes:
    """A file's base64 in lines of 76 characters (RFC 2045), CRLF between them."""
    encoded = base64.b64encode(data)
    return b"\r\n".join(encoded[at:at + 76] for at in range(0, len(encoded), 76))


def _html_of(ctx: Context, row: Any) -> str:
    if row.seed is not None:
        return ""
    body = _BODY.scalar(ctx.unit, message=row.message)
    try:
        parts = orjson.loads(body) if body else {}
    except orjson.JSONDecodeError:
        return ""
    return str(parts.get("html") or "")


def file(ctx: Context, value: str) -> Download:
    """`gateway/message/get-file`: an attachment by its id (get-message-detail's
    `attachments[].id`), or a whole message by its copy's id (an .eml file). The download
    goes to the archive's view log."""
    number = ids.row_id(ATTACHMENT_ID_KIND, value)
    if number is not None:
        found = _ATTACHMENT.first(ctx.unit, id=number, account=ctx.caller.account_id)
        if found is None:
            raise ApiError("err_message_not_found", field="id", id=value)
        access.file_viewed(ctx, found.message_id, found.name)
        return Download(attachment_data(found.seed, found.name, found.size, found.verdict,
                                        found.content),
                        found.name, found.content_type or OCTET_STREAM)
    row = copy(ctx, value)
    access.viewed(ctx, row, access.DOWNLOADED)
    return Download(mime(ctx, row), f"message-{row.message}.eml", "message/rfc822")
