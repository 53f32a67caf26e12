"""Content derived, not kept: the bytes of a simulated message's attachments, made from the
run's seed and the file's name and size, so the simulator can record their hashes and
`get-file` can hand back the very bytes those hashes name without the store holding them.
(A simulated organisation's files come from a pool with distinct names per seed.)"""

from __future__ import annotations

import functools
import hashlib

from mimicast.services.mail.world import MALWARE_MARKER

# A file is a window onto the seed's block of noise, repeated: where the window starts
# follows from the file's name. Making a file is then a copy at memory speed, not a hash
# per 64 bytes (a megabyte took ~50 ms).
_NOISE = 1 << 16


@functools.lru_cache(maxsize=8)
def _noise(seed: int) -> bytes:
    key = seed.to_bytes(8, "big", signed=True)
    return hashlib.shake_256(b"mimicast-files:" + key).digest(_NOISE)


def attachment_bytes(seed: int, name: str, size: int, malicious: bool = False) -> bytes:
    """`size` bytes (at least the marker's length when malicious), the same for the same
    arguments; a malicious file starts with the sandbox's marker, so its verdict follows from
    its content as a real upload's would."""
    noise = _noise(seed)
    start = int.from_bytes(hashlib.blake2b(name.encode(), digest_size=4).digest()) % _NOISE
    head = MALWARE_MARKER if malicious else b""
    body = max(size - len(head), 0)
    repeated = noise[start:] + noise * (body // _NOISE + 1)
    return head + repeated[:body]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
