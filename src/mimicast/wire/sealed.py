"""Sealed values: a JSON value carried by a client and handed back, readable but tamper-proof.

A seal is base64url of the value's JSON followed by a truncated HMAC-SHA256 of it. Page tokens
and upload URLs are sealed with the same key; each reader checks the shape it expects, so one
kind of seal is never taken for another.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from typing import Any

import orjson

_MAC_BYTES = 12
_MAX_LENGTH = 2048


def _mac(secret: bytes, payload: bytes) -> bytes:
    return hmac.digest(secret, payload, hashlib.sha256)[:_MAC_BYTES]


def seal(secret: bytes, value: Any) -> str:
    """`value` (anything orjson writes) as an opaque string of URL-safe characters."""
    payload = orjson.dumps(value)
    return base64.urlsafe_b64encode(payload + _mac(secret, payload)).rstrip(b"=").decode()


def unseal(secret: bytes, sealed: str) -> Any:
    """The value `seal(secret, …)` made `sealed` from; None for anything else (forged, altered,
    truncated or overlong)."""
    if len(sealed) > _MAX_LENGTH:
        return None
    try:
        raw = base64.urlsafe_b64decode(sealed + "=" * (-len(sealed) % 4))
    except (binascii.Error, ValueError):
        return None
    payload, mac = raw[:-_MAC_BYTES], raw[-_MAC_BYTES:]
    if len(raw) <= _MAC_BYTES or not hmac.compare_digest(mac, _mac(secret, payload)):
        return None
    return orjson.loads(payload)
