"""The documents a simulated organisation passes around: a pool of files per seed, with
distinct names, each hashed once (hashing is what attachments cost). Their bytes are never
stored: `content.attachment_bytes(seed, name, size, malicious)` makes them again when asked,
and the hash recorded here is of those bytes. Malicious files carry their bytes on the
`Attachment` so the engine's sandbox finds the marker, as it would in an upload."""

from __future__ import annotations

import functools
import math
import random
from dataclasses import dataclass

from mimicast.services.mail.content import attachment_bytes, sha256
from mimicast.services.mail.facts import Attachment
from mimicast.sim import names

CLEAN_FILES, MALICIOUS_FILES = 40, 8
# Sizes are log-uniform between these (a few KB to a megabyte and a half).
SMALLEST, LARGEST = 6_000, 1_500_000


@dataclass(frozen=True)
class Pool:
    clean: tuple[Attachment, ...]
    malicious: tuple[Attachment, ...]


def _size(rng: random.Random, low: int, high: int) -> int:
    return int(math.exp(rng.uniform(math.log(low), math.log(high))))


def _names(rng: random.Random, templates: tuple[tuple[str, str], ...], count: int,
           taken: set[str]) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    while len(found) < count:
        template, content_type = rng.choice(templates)
        name = template.format(n=rng.randrange(1000, 99999), year=rng.randrange(2023, 2027),
                               q=rng.randrange(1, 5), v=rng.randrange(1, 9),
                               org=rng.choice(names.ORG_FIRST))
        if name not in taken:
            taken.add(name)
            found.append((name, content_type))
    return found


@functools.lru_cache(maxsize=8)
def pool(seed: int) -> Pool:
    """The seed's files (made once per process and seed)."""
    rng = random.Random(f"mimicast-sim:files:{seed}")
    taken: set[str] = set()
    clean = []
    for name, content_type in _names(rng, names.CLEAN_FILES, CLEAN_FILES, taken):
        size = _size(rng, SMALLEST, LARGEST)
        clean.append(Attachment(name, content_type, size,
                                sha256(attachment_bytes(seed, name, size))))
    malicious = []
    for name, content_type in _names(rng, names.MALICIOUS_FILES, MALICIOUS_FILES, taken):
        size = _size(rng, 2_000, 200_000)
        data = attachment_bytes(seed, name, size, malicious=True)
        malicious.append(Attachment(name, content_type, len(data), sha256(data), content=data))
    return Pool(tuple(clean), tuple(malicious))
