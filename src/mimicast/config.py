"""Settings, from the command line or `MIMICAST_*` environment variables.

The environment is how `mimicast serve --workers N` hands its flags to each worker process.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from pathlib import Path

from platformdirs import user_data_dir


def data_dir() -> Path:
    return Path(os.environ.get("MIMICAST_HOME") or user_data_dir("mimicast"))


def _default_db() -> str:
    return f"sqlite:///{data_dir() / 'mimicast.db'}"


@dataclass
class Settings:
    db: str = field(default_factory=_default_db)
    host: str = "127.0.0.1"
    port: int = 8080
    # What discover-authentication tells clients as `region.api`; defaults to http://host:port.
    public_url: str | None = None
    workers: int = 1
    # Overrides every account's call quota when set.
    rate_limit: int | None = None
    # A 401 also carries the string-to-sign the server expected (x-mc-expected-string-to-sign).
    explain_auth: bool = False
    # Off by default: real clients reuse dates and request ids (client-compatibility.md 5, 6).
    max_clock_skew: int | None = None
    reject_replayed_request_ids: bool = False
    # Where the key that encrypts secrets at rest lives; never in the database.
    key_file: str = field(default_factory=lambda: str(data_dir() / "secret.key"))
    # "simulated": TXT records come from the zone `mimicast admin dns` edits; "real": DNS.
    dns: str = "simulated"
    # Share rate-limit state between workers and hosts.
    redis_url: str | None = None
    # How long an application or binding stays cached; a revoked binding stops within this.
    cache_seconds: float = 1.0

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Environment values, then explicit overrides (None means: not given)."""
        settings = cls()
        for f in fields(cls):
            raw = os.environ.get(f"MIMICAST_{f.name.upper()}")
            if raw is not None:
                setattr(settings, f.name, _parse(f.type, raw))
        for name, value in overrides.items():
            if value is not None:
                setattr(settings, name, value)
        return settings

    def to_env(self) -> dict[str, str]:
        return {f"MIMICAST_{f.name.upper()}": str(getattr(self, f.name))
                for f in fields(self) if getattr(self, f.name) is not None}


def _parse(annotation: object, raw: str) -> object:
    text = str(annotation)
    if "bool" in text:
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if "int" in text:
        return int(raw)
    if "float" in text:
        return float(raw)
    return raw
