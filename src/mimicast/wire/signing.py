"""HMAC-SHA1 request signing, exactly as the seeds' sample code computes it.

    dataToSign = x-mc-date + ":" + x-mc-req-id + ":" + uri + ":" + appKey
    signature  = base64(HMAC-SHA1(base64decode(secretKey), dataToSign))
    Authorization: MC accessKey:signature
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from email.utils import formatdate

REALM_SIGNED = "MC"
REALM_CLOUD = "Basic-Cloud"
REALM_DOMAIN = "Basic-AD"


def data_to_sign(date: str, request_id: str, uri: str, app_key: str) -> str:
    return f"{date}:{request_id}:{uri}:{app_key}"


def signature(secret: bytes, date: str, request_id: str, uri: str, app_key: str) -> str:
    """The base64 signature for one request; `secret` is the decoded secret key."""
    digest = hmac.digest(secret, data_to_sign(date, request_id, uri, app_key).encode(),
                         hashlib.sha1)
    return base64.b64encode(digest).decode("ascii")


def decode_secret(secret_key: str) -> bytes:
    """The HMAC key: the base64-decoded secret key."""
    return base64.b64decode(secret_key)


def signature_matches(secret: bytes, date: str, request_id: str, uris: Iterable[str],
                      app_key: str, presented: str) -> bool:
    """Whether `presented` is the signature of one of the accepted uri forms.

    Real clients sign the path, the path plus query string, or the full URL; `uris` yields
    them in that order (lazily: nearly every client signs the path, so usually one HMAC is
    computed). Each comparison is constant-time; which form matched is no secret.
    """
    presented_bytes = presented.strip().encode("ascii", "replace")
    for uri in uris:
        text = data_to_sign(date, request_id, uri, app_key)
        for message in _encodings(text):
            # One-shot, in C: every signed call runs this.
            expected = base64.b64encode(hmac.digest(secret, message, hashlib.sha1))
            if hmac.compare_digest(expected, presented_bytes):
                return True
    return False


def _encodings(text: str) -> list[bytes]:
    """The byte strings a client may have signed for `text`, read from Latin-1 headers.

    A localized date (`Mär`, `févr.`) is signed as UTF-8 by every client, but sent either as
    Latin-1 (Python's http.client, .NET) or as the UTF-8 bytes themselves. HTTP servers hand
    header bytes over as Latin-1 text, so UTF-8-encoding that text matches the first kind, and
    Latin-1-encoding it (the bytes as received) matches the second.
    """
    forms = [text.encode("utf-8")]
    try:
        raw = text.encode("latin-1")
    except UnicodeEncodeError:
        return forms
    if raw != forms[0]:
        forms.append(raw)
    return forms


def request_date() -> str:
    """The documented x-mc-date form: `Tue, 24 Nov 2015 12:50:11 UTC`."""
    return formatdate(usegmt=True).replace("GMT", "UTC")


def request_id() -> str:
    import uuid

    return str(uuid.uuid4())


def authorization(access_key: str, sig: str) -> str:
    return f"{REALM_SIGNED} {access_key}:{sig}"


@dataclass(frozen=True)
class SignedAuthorization:
    access_key: str
    signature: str


def parse_signed(header: str) -> SignedAuthorization | None:
    """`MC accessKey:signature` → its parts; None when the header is not of that form."""
    realm, _, rest = header.strip().partition(" ")
    if realm.upper() != REALM_SIGNED:
        return None
    access_key, sep, sig = rest.strip().rpartition(":")
    if not sep or not access_key or not sig:
        return None
    return SignedAuthorization(access_key, sig)


@dataclass(frozen=True)
class BasicCredentials:
    realm: str  # REALM_CLOUD or REALM_DOMAIN
    email: str
    password: str


def parse_basic(header: str) -> BasicCredentials | None:
    """`Basic-Cloud|Basic-AD base64(email:password)` → credentials; None when malformed."""
    realm, _, encoded = header.strip().partition(" ")
    canonical = {REALM_CLOUD.lower(): REALM_CLOUD, REALM_DOMAIN.lower(): REALM_DOMAIN}
    realm_name = canonical.get(realm.lower())
    if realm_name is None:
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=False).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    email, sep, password = decoded.partition(":")
    if not sep or not email:
        return None
    return BasicCredentials(realm_name, email.strip(), password)


def basic(realm: str, email: str, password: str) -> str:
    return f"{realm} " + base64.b64encode(f"{email}:{password}".encode()).decode("ascii")


def new_access_key() -> str:
    """A ~150-character URL-safe token, like the real service's access keys."""
    return secrets.token_urlsafe(112)


def new_secret_key() -> str:
    """Base64 of 64 random bytes (88 characters ending in `==`), like the real service's."""
    return base64.b64encode(secrets.token_bytes(64)).decode("ascii")
