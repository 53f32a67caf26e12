"""Opaque ids in the real service's style: base64url of zlib bytes, so they read `eNo…`.

Each kind of object has its own prefix inside the compressed bytes, so a group's id never
names a user: `row_id(kind, value)` answers None for another kind's id, a forged string or
anything truncated.
"""

from __future__ import annotations

import base64
import binascii
import functools
import zlib

_MAX_ID_LENGTH = 200


@functools.lru_cache(maxsize=4096)
def secure_id(kind: str, row_id: int) -> str:
    # Kept: each compress sets up a fresh deflate state (hundreds of KiB), which costs more
    # than the rest of a list row's answer. An id never changes, so a cache is exact.
    packed = zlib.compress(f"{kind}:{row_id}".encode(), 9)
    return base64.urlsafe_b64encode(packed).rstrip(b"=").decode()


def row_id(kind: str, value: str | None) -> int | None:
    """The row id inside a `secure_id` of this kind, or None for anything that is not one."""
    if not value or len(value) > _MAX_ID_LENGTH:
        return None
    try:
        packed = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        inflater = zlib.decompressobj()
        # Bounded output: an id is a few bytes, and a crafted one must not inflate.
        plain = inflater.decompress(packed, 64)
    except (binascii.Error, zlib.error, ValueError):
        return None
    if not inflater.eof or inflater.unused_data or inflater.unconsumed_tail:
        return None  # truncated or padded: checked in full, as the checksum is in the tail
    prefix = f"{kind}:".encode()
    digits = plain.removeprefix(prefix)
    if digits == plain or not digits.isdigit():
        return None
    return int(digits)
