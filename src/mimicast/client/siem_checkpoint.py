"""Where a SIEM collector stands, on disk: the checkpoint file, and files written so that a
crash leaves either the old version or the new one, never half of one.

The checkpoint is a small JSON object:

    {"version": 1, "token": "<the last file's mc-siem-token>", "files": 12,
     "events": 3456, "bytes": 789012, "last_file": "delivery_20261120113000000.zip",
     "updated_at": "2026-11-20T12:03:04Z"}

`token` is what the next call sends (null: none yet); the counts are totals over every run.
It is replaced (write, fsync, rename, fsync the directory) only after the file it counts is
safely on disk, so it never names a file that is not there.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

VERSION = 1
DEFAULT_NAME = ".siem-checkpoint.json"
# Temporary files this module writes: left behind only by a crash, removed on the next start.
_PARTIAL_PREFIX = ".siem-"
_PARTIAL_SUFFIX = ".partial"
# A served name is written into the directory as given: nothing that could leave it.
_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,199}$")


class CheckpointError(ValueError):
    """The checkpoint file exists but cannot be read as one."""


@dataclass
class Checkpoint:
    """The token to send next and what was fetched so far (totals over every run)."""

    token: str | None = None
    files: int = 0
    events: int = 0
    bytes: int = 0
    last_file: str | None = None
    updated_at: str | None = None

    def advance(self, token: str, name: str, events: int, size: int) -> None:
        """Count one more file and move the bookmark past it."""
        self.token = token
        self.files += 1
        self.events += events
        self.bytes += size
        self.last_file = name
        self.updated_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def load(path: Path) -> Checkpoint:
    """The checkpoint at `path`; an empty one when there is no file yet."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return Checkpoint()
    except OSError as error:
        raise CheckpointError(f"cannot read the checkpoint {path}: {error.strerror}") from None
    try:
        value: Any = orjson.loads(raw)
    except orjson.JSONDecodeError:
        value = None
    if not isinstance(value, dict) or value.get("version") != VERSION:
        raise CheckpointError(f"{path} is not a SIEM checkpoint (version {VERSION})")
    token = value.get("token")
    files, events, size = (value.get(name, 0) for name in ("files", "events", "bytes"))
    if (token is not None and not isinstance(token, str)) or not all(
            isinstance(count, int) and count >= 0 for count in (files, events, size)):
        raise CheckpointError(f"{path} is not a SIEM checkpoint: bad token or counts")
    last, updated = value.get("last_file"), value.get("updated_at")
    return Checkpoint(token or None, files, events, size,
                      last_file=last if isinstance(last, str) else None,
                      updated_at=updated if isinstance(updated, str) else None)


def save(path: Path, checkpoint: Checkpoint) -> None:
    """Replace the checkpoint atomically (and durably: it survives a power cut)."""
    write_atomic(path, orjson.dumps({"version": VERSION, **asdict(checkpoint)},
                                    option=orjson.OPT_INDENT_2))


def save_file(directory: Path, name: str, content: bytes) -> Path:
    """Write a served file into `directory` under its served name, atomically; the path.
    A name that could leave the directory (or hide in it) is refused."""
    if not _SAFE_NAME.match(name) or name.endswith(_PARTIAL_SUFFIX):
        raise ValueError(f"refusing to save a SIEM file under the served name {name!r}")
    target = directory / name
    write_atomic(target, content)
    return target


def write_atomic(path: Path, content: bytes) -> None:
    """`content` at `path`: a temporary file in the same directory, fsynced, renamed over
    `path`, then the directory fsynced so the rename itself is on disk."""
    descriptor, temporary = tempfile.mkstemp(prefix=_PARTIAL_PREFIX, suffix=_PARTIAL_SUFFIX,
                                             dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    _sync_directory(path.parent)


def _sync_directory(directory: Path) -> None:
    # Windows cannot open a directory; its renames are durable without this.
    with contextlib.suppress(OSError):
        descriptor = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def remove_partials(directory: Path) -> None:
    """Delete the temporary files a killed collector left in `directory`."""
    for leftover in directory.glob(f"{_PARTIAL_PREFIX}*{_PARTIAL_SUFFIX}"):
        with contextlib.suppress(OSError):
            leftover.unlink()
