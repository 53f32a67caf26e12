"""Named client profiles for `mimicast login`, `whoami` and `call`.

One JSON file, `profiles.json` in the user's config directory (`MIMICAST_CONFIG_DIR` moves
it), readable by the user only: it holds API keys. When the `keyring` package is importable
and has a usable backend, the keys go to the system keyring instead and the file keeps the
rest. Passwords are never stored: a profile holds the binding's keys, not the login.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from platformdirs import user_config_dir

DEFAULT_PROFILE = "default"
KEYRING_SERVICE = "mimicast"
# The values the keyring holds when it is used; the file then holds the others.
SECRET_FIELDS = ("app_key", "access_key", "secret_key")
_OWNER_ONLY = 0o600


class ProfileError(Exception):
    """The profile file or keyring cannot be read or written, or holds something unusable."""


@dataclass(frozen=True)
class Profile:
    base_url: str
    app_id: str
    app_key: str
    access_key: str
    secret_key: str
    # Who logged in, when the keys came from a login (`--email`); informational only.
    email: str | None = None
    auth_type: str | None = None


def config_dir() -> Path:
    return Path(os.environ.get("MIMICAST_CONFIG_DIR") or user_config_dir("mimicast"))


def profiles_path() -> Path:
    return config_dir() / "profiles.json"


def _keyring() -> Any:
    """The keyring module when it can really store secrets, else None.

    Without a desktop session keyring falls back to its `fail`/`null` backends (priority ≤ 0),
    which would raise or drop the keys; the file is the better store then.
    `MIMICAST_KEYRING=0` turns the keyring off (tests, headless machines with a stray backend).
    """
    if os.environ.get("MIMICAST_KEYRING", "").strip().lower() in {"0", "false", "no", "off"}:
        return None
    try:
        import keyring  # type: ignore[import-not-found, unused-ignore]
        backend = keyring.get_keyring()
        priority = float(getattr(backend, "priority", 0))
    except Exception:  # noqa: BLE001 - any import or backend failure means: no keyring
        return None
    return keyring if priority > 0 else None


def _read_file(path: Path) -> dict[str, dict[str, Any]]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as error:
        raise ProfileError(f"cannot read {path}: {error.strerror or error}") from None
    try:
        document = json.loads(text)
    except ValueError as error:
        raise ProfileError(f"{path} is not valid JSON: {error}") from None
    stored = document.get("profiles") if isinstance(document, dict) else None
    if not isinstance(stored, dict) or not all(isinstance(v, dict) for v in stored.values()):
        raise ProfileError(f"{path} does not hold a 'profiles' object")
    return stored


def _write_file(path: Path, stored: dict[str, dict[str, Any]]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # Written to a private temporary file and renamed: a reader never sees half a file,
        # and the keys are never readable by others, not even for a moment.
        fd, temporary = tempfile.mkstemp(prefix=".profiles-", dir=path.parent)
        try:
            os.fchmod(fd, _OWNER_ONLY)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump({"profiles": stored}, handle, indent=2, sort_keys=True)
                handle.write("\n")
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        # Checked after the rename too: an odd filesystem or umask must not leave it open.
        if stat.S_IMODE(path.stat().st_mode) != _OWNER_ONLY:
            path.chmod(_OWNER_ONLY)
    except OSError as error:
        raise ProfileError(f"cannot write {path}: {error.strerror or error}") from None


def names() -> list[str]:
    return sorted(_read_file(profiles_path()))


def load(name: str) -> Profile | None:
    """The named profile, or None when there is none."""
    path = profiles_path()
    entry = _read_file(path).get(name)
    if entry is None:
        return None
    values: dict[str, Any] = {f.name: entry.get(f.name) for f in fields(Profile)}
    if entry.get("keyring"):
        values.update(_keyring_secrets(name))
    missing = [key for key in ("base_url", "app_id", *SECRET_FIELDS)
               if not isinstance(values.get(key), str) or not values[key]]
    if missing:
        raise ProfileError(f"profile {name!r} in {path} lacks {', '.join(missing)}; "
                           "run `mimicast login` again")
    return Profile(**values)


def save(name: str, profile: Profile) -> str:
    """Store the profile under `name`, replacing one of that name; says where the keys went."""
    path = profiles_path()
    stored = _read_file(path)
    entry = {key: value for key, value in asdict(profile).items() if value is not None}
    where = str(path)
    keyring = _keyring()
    if keyring is not None:
        secrets = {key: entry.pop(key) for key in SECRET_FIELDS}
        try:
            keyring.set_password(KEYRING_SERVICE, name, json.dumps(secrets))
        except Exception:  # noqa: BLE001 - a locked or broken keyring: keep them in the file
            entry.update(secrets)
        else:
            entry["keyring"] = True
            where = f"{path} (keys in the system keyring)"
    stored[name] = entry
    _write_file(path, stored)
    return where


def _keyring_secrets(name: str) -> dict[str, Any]:
    keyring = _keyring()
    if keyring is None:
        raise ProfileError(f"profile {name!r} keeps its keys in the system keyring, which is "
                           "not available; run `mimicast login` again")
    try:
        raw = keyring.get_password(KEYRING_SERVICE, name)
        secrets = json.loads(raw) if raw else None
    except Exception as error:  # noqa: BLE001 - any backend failure is reported the same way
        raise ProfileError(f"cannot read profile {name!r} from the system keyring: {error}") \
            from None
    if not isinstance(secrets, dict):
        raise ProfileError(f"the system keyring holds no keys for profile {name!r}; "
                           "run `mimicast login` again")
    return {key: secrets.get(key) for key in SECRET_FIELDS}
