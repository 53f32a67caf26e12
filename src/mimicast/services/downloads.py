"""A handler's answer that is a file rather than the envelope (`gateway/message/get-file`,
and the log files of later families): on success the response body is the file itself; a
failure is still the JSON envelope, which is what clients test for."""

from __future__ import annotations

from dataclasses import dataclass

OCTET_STREAM = "application/octet-stream"


@dataclass(frozen=True)
class Download:
    content: bytes
    filename: str
    content_type: str = OCTET_STREAM
