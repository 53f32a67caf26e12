"""Page tokens: opaque to clients, tamper-proof, and bound to the list they were issued for.

A token is `[scope, direction, key, total]`, sealed (`wire.sealed`). `scope` names the
endpoint and its filters, so a token replayed against another list is refused; `key` is the
sort key of the row the next page continues from (keyset paging); `total` is the list's size as
counted when the walk began (None: not counted).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mimicast.wire.errors import ApiError
from mimicast.wire.sealed import seal, unseal

AFTER, BEFORE = "n", "p"


def encode(secret: bytes, scope: str, direction: str, key: Sequence[Any],
           total: int | None = None) -> str:
    return seal(secret, [scope, direction, list(key), total])


def invalid() -> ApiError:
    return ApiError("err_validation_invalid_value", field="pageToken",
                    reason="pageToken is not a 'next' or 'previous' value of this list "
                           "(with the same filters)")


def decode(secret: bytes, scope: str, token: str) -> tuple[str, list[Any], int | None]:
    """(direction, key, total) of a token this server issued for `scope`; a validation error
    for anything else (another list's token, a forged or truncated one)."""
    value = unseal(secret, token)
    # Another kind of sealed value (an upload URL's) has another shape.
    if not isinstance(value, list) or len(value) != 4:
        raise invalid()
    token_scope, direction, key, total = value
    if token_scope != scope or direction not in (AFTER, BEFORE):
        raise invalid()
    return direction, key, total
