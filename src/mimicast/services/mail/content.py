"""Content derived, not kept: the bytes of a simulated message's attachments, made from the
run's seed and the file's name and size, so the simulator can record their hashes and
`get-file` can hand back the very bytes those hashes name without the store holding them.
(A simulated organisation's files come from a pool with distinct names per seed.)"""

from __future__ import annotations

import hashlib

from mimicast.services.mail.world import MALWARE_MARKER


def attachment_bytes(seed: int, name: str, size: int, malicious: bool = False) -> bytes:
    """`size` bytes (at least the marker's length when malicious), the same for the same
    arguments; a malicious file starts with the sandbox's marker, so its verdict follows from
    its content as a real upload's would."""
    key = seed.to_bytes(8, "big", signed=True)
    stream = bytearray(MALWARE_MARKER if malicious else b"")
    size = max(size, len(stream))
    block = 0
    while len(stream) < size:
        stream += hashlib.blake2b(f"{name}:{block}".encode(), key=key, digest_size=64).digest()
        block += 1
    return bytes(stream[:size])


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
