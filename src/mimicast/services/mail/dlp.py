"""Data leak prevention (the console's Content Examination): what leaves the account is
checked against the definitions below, the same for every account. A definition either holds
the message for an administrator ("hold") or lets it go and tells one ("notification");
`dlp/get-logs` shows one line per definition a message hit, and a held message waits in the
hold queue like any other."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

HOLD, NOTIFICATION = "hold", "notification"
# A definition's hit, as a message row keeps it: "action:definition", one per line.
_SEPARATOR = "\n"


@dataclass(frozen=True)
class Definition:
    name: str
    action: str  # HOLD | NOTIFICATION
    matches: Callable[[str], bool]


_CONFIDENTIAL = re.compile(r"\b(strictly confidential|confidential|internal use only|"
                           r"do not forward)\b", re.IGNORECASE)
# 13 to 19 digits, in groups of four or unbroken, as card numbers are written.
_CARD = re.compile(r"\b(?:\d{4}[ -]){3}\d{1,7}\b|\b\d{13,19}\b")


def _luhn(number: str) -> bool:
    digits = [int(c) for c in number if c.isdigit()]
    if not 13 <= len(digits) <= 19:
        return False
    total = 0
    for index, digit in enumerate(reversed(digits)):
        if index % 2:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


def _has_card_number(text: str) -> bool:
    return any(_luhn(found) for found in _CARD.findall(text))


DEFINITIONS = (
    Definition("Content Examination - Confidential", HOLD,
               lambda text: _CONFIDENTIAL.search(text) is not None),
    Definition("Content Examination - Payment Card Numbers", NOTIFICATION, _has_card_number),
)


def examine(subject: str, text: str) -> list[tuple[str, str]]:
    """The (action, definition) of every definition an outgoing message hits."""
    content = f"{subject}\n{text}"
    return [(definition.action, definition.name) for definition in DEFINITIONS
            if definition.matches(content)]


def encode(hits: list[tuple[str, str]]) -> str:
    return _SEPARATOR.join(f"{action}:{name}" for action, name in hits)


def decode(stored: str) -> list[tuple[str, str]]:
    """A message row's hits, as `examine` found them."""
    if not stored:
        return []
    return [(action, name) for action, _, name in
            (line.partition(":") for line in stored.split(_SEPARATOR))]
