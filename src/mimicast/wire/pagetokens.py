"""Page tokens: opaque to clients, tamper-proof, and bound to the list they were issued for.

A token is base64url of `[scope, direction, key, total]` (JSON) followed by a truncated
HMAC-SHA256. `scope` names the endpoint and its filters, so a token replayed against another
list is refused; `key` is the sort key of the row the next page continues from (keyset
paging); `total` is the list's size as counted when the walk began (None: not counted).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Sequence
from typing import Any

import orjson

from mimicast.wire.errors import ApiError

AFTER, BEFORE = "n", "p"
_MAC_BYTES = 12
_MAX_TOKEN_LENGTH = 2048


def _mac(secret: bytes, payload: bytes) -> bytes:
    return hmac.digest(secret, payload, hashlib.sha256)[:_MAC_BYTES]


def encode(secret: bytes, scope: str, direction: str, key: Sequence[Any],
           total: int | None = None) -> str:
    payload = orjson.dumps([scope, direction, list(key), total])
    return base64.urlsafe_b64encode(payload + _mac(secret, payload)).rstrip(b"=").decode()


def invalid() -> ApiError:
    return ApiError("err_validation_invalid_value", field="pageToken",
                    reason="pageToken is not a 'next' or 'previous' value of this list "
                           "(with the same filters)")


def decode(secret: bytes, scope: str, token: str) -> tuple[str, list[Any], int | None]:
    """(direction, key, total) of a token this server issued for `scope`; a validation error
    for anything else (another list's token, a forged or truncated one)."""
    if len(token) > _MAX_TOKEN_LENGTH:
        raise invalid()
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        raise invalid() from None
    payload, mac = raw[:-_MAC_BYTES], raw[-_MAC_BYTES:]
    if len(raw) <= _MAC_BYTES or not hmac.compare_digest(mac, _mac(secret, payload)):
        raise invalid()
    token_scope, direction, key, total = orjson.loads(payload)
    if token_scope != scope or direction not in (AFTER, BEFORE):
        raise invalid()
    return direction, key, total
