"""Reading SIEM log files (`audit/get-siem-logs`), with no client needed:

    from mimicast.client.siem_files import parse_file

    events = parse_file("receipt_20261120120000000.zip", content)

A file is a zip of one (or more) members, or a member on its own; a member is JSON
(`{"type": "MTA", "data": [...]}`) or key_value text (`datetime=…|Key=value|…`, one record a
line). The format is read from the bytes, not the name, so a file saved under another name
parses too. Each event gets `_type`, the record type its member's name starts with
(`receipt`, `process`, `delivery`, `av_tse`, `ttp_ap`, `ttp_url`, `spameventthread`,
`impersonation`, `jrnl`, …): the file name is where Mimecast puts it, the records do not
carry it.
"""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any

import orjson

TYPE_KEY = "_type"
# `<prefix>_<yyyyMMddHHmmssSSS>.<ext>`; the prefix may itself hold "_" (ttp_url, av_tse).
_MEMBER = re.compile(r"^(?P<prefix>.+?)_\d+$")
_ZIP_MAGIC = b"PK\x03\x04"
_WRAP = "\\"


class SiemFileError(ValueError):
    """The bytes are not a SIEM file (a broken zip, JSON without `data`, …)."""


def record_type(name: str) -> str:
    """The record type a file or member name announces: `ttp_url_20261120120000000.json` →
    `ttp_url`; a name not of that form gives its stem."""
    stem = name.rsplit("/", 1)[-1].split(".", 1)[0]
    found = _MEMBER.match(stem)
    return found.group("prefix") if found else stem


def parse_file(name: str, content: bytes) -> list[dict[str, Any]]:
    """The events of a SIEM file, in file order, each with `_type`.

    `name` is the file's name as served (`Content-Disposition`); a zip's members name
    themselves. JSON events keep their JSON types; key_value events are all strings, keys
    split from values on the first `=`, and free-text values (`Subject=\\text\\`) unwrapped.
    Raises `SiemFileError` for bytes that are not a SIEM file.
    """
    if content.startswith(_ZIP_MAGIC):
        try:
            with zipfile.ZipFile(io.BytesIO(content)) as archive:
                members = [(member, archive.read(member)) for member in archive.namelist()
                           if not member.endswith("/")]
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError) as error:
            raise SiemFileError(f"{name}: not a readable zip: {error}") from None
        return [event for member, body in members for event in parse_member(member, body)]
    return parse_member(name, content)


def parse_member(name: str, content: bytes) -> list[dict[str, Any]]:
    """The events of one (unzipped) member: JSON or key_value, whichever the bytes are."""
    kind = record_type(name)
    if content.lstrip()[:1] in (b"{", b"["):
        events = _json_events(name, content)
    else:
        events = _key_value_events(content)
    for event in events:
        event[TYPE_KEY] = kind
    return events


def _json_events(name: str, content: bytes) -> list[dict[str, Any]]:
    try:
        document = orjson.loads(content)
    except orjson.JSONDecodeError as error:
        raise SiemFileError(f"{name}: not valid JSON: {error}") from None
    records = document.get("data") if isinstance(document, dict) else document
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise SiemFileError(f"{name}: a JSON SIEM file holds its records in a `data` list")
    return list(records)


def _key_value_events(content: bytes) -> list[dict[str, Any]]:
    text = content.decode("utf-8", errors="replace")
    return [parse_line(line) for line in text.splitlines() if line.strip()]


def parse_line(line: str) -> dict[str, Any]:
    """One key_value record: `Key=value` fields split on `|`, free-text values unwrapped.

    A backslash-wrapped value that holds `|` itself (mimicast never writes one; a real
    service might) is read to its closing backslash rather than cut there.
    """
    parts = line.rstrip("\r\n").split("|")
    record: dict[str, Any] = {}
    index = 0
    while index < len(parts):
        key, equals, value = parts[index].partition("=")
        index += 1
        if value.startswith(_WRAP) and not _closed(value):
            for end in range(index, len(parts)):
                if parts[end].endswith(_WRAP):
                    value = "|".join([value, *parts[index:end + 1]])
                    index = end + 1
                    break
        if _closed(value):
            value = value[1:-1]
        if equals:
            record[key] = value
    return record


def _closed(value: str) -> bool:
    return len(value) >= 2 and value.startswith(_WRAP) and value.endswith(_WRAP)
