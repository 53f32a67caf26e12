"""URL Protect's rewritten links: issuing them (what delivered mail carries instead of the
original link) and decoding them back (`ttp/url/decode-url`).

A link looks like the real service's, `https://protect-<region>.mimecast.com/s/<code>?domain=
<original host>`: the region is the account's, the code random, and the code → URL mapping is
stored per account, so only the account that issued a link can decode it.
"""

from __future__ import annotations

import re
import secrets
from urllib.parse import urlencode, urlsplit

from sqlalchemy import bindparam, select

from mimicast.services.context import Context
from mimicast.services.identity import get_account
from mimicast.services.managed_urls import parse_url
from mimicast.store.query import Query
from mimicast.store.schema import Message, MessageLink, RewrittenUrl
from mimicast.wire.errors import ApiError

CODE_BYTES = 16  # 22 characters of base64url: unguessable, like the real service's codes
_LINK_HOST = re.compile(r"protect-[a-z0-9]+\.mimecast\.com")
_LINK_PATH = re.compile(r"/s/([A-Za-z0-9_-]{1,64})/?")


def link_host(region: str) -> str:
    return f"protect-{region.lower()}.mimecast.com"


def rewrite(ctx: Context, url: str) -> str:
    """A new rewritten link for `url` (any URL `managed_urls.parse_url` accepts)."""
    original = url.strip()
    parse_url(original)  # a validation error for what is not a URL
    account = get_account(ctx.session, ctx.caller.account_id)
    code = secrets.token_urlsafe(CODE_BYTES)
    ctx.session.add(RewrittenUrl(account_id=account.id, code=code, url=original,
                                 created_at=ctx.now()))
    return protect_link(account.region, code, original)


def protect_link(region: str, code: str, url: str) -> str:
    """The rewritten form of `url` whose code is `code`, as delivered mail carries it."""
    host = parse_url(url).host
    return f"https://{link_host(region)}/s/{code}?{urlencode({'domain': host})}"


_ORIGINAL = Query(select(RewrittenUrl.url).where(RewrittenUrl.account_id == bindparam("account"),
                                                 RewrittenUrl.code == bindparam("code")))
# A link the gateway rewrote in a message (services/mail): its code is unique by itself.
_IN_MESSAGE = Query(select(MessageLink.url).join(Message, Message.id == MessageLink.message_id)
                    .where(MessageLink.code == bindparam("code"),
                           Message.account_id == bindparam("account")))


def decode(ctx: Context, link: str) -> str:
    """The original URL behind a link this account was issued; `err_ttp_url_decode_failed`
    for anything else (another account's link included). The query string, http or https,
    a trailing slash and a missing scheme do not matter."""
    code = _code_of(link)
    original = None
    if code is not None:
        account = ctx.caller.account_id
        original = (_ORIGINAL.scalar(ctx.unit, account=account, code=code)
                    or _IN_MESSAGE.scalar(ctx.unit, account=account, code=code))
    if original is None:
        raise ApiError("err_ttp_url_decode_failed", field="url")
    return str(original)


def _code_of(link: str) -> str | None:
    text = link.strip()
    if "://" not in text:
        text = "https://" + text
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or port not in (None, 80, 443) or not (
            _LINK_HOST.fullmatch(parts.hostname or "")):
        return None
    match = _LINK_PATH.fullmatch(parts.path)
    return match.group(1) if match else None
