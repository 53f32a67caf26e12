"""A handler's answer that is a file rather than the envelope (`gateway/message/get-file`,
and the log files of later families): on success the response body is the file itself; a
failure is still the JSON envelope, which is what clients test for."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

OCTET_STREAM = "application/octet-stream"


@dataclass(frozen=True)
class Download:
    content: bytes
    filename: str
    content_type: str = OCTET_STREAM
    # More response headers: a log file's bookmark for the next one (`mc-siem-token`).
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class NoFile:
    """A file endpoint's answer when there is no file to give (a SIEM collector caught up):
    the envelope, with these `meta` entries, and no data."""

    meta: dict[str, Any] = field(default_factory=dict)
