"""Settings: command-line flags over `MIMICAST_*` environment variables over the defaults here.

One typed model validates everything at start-up. The environment is also how
`mimicast serve --workers N` hands its settings to each worker process (`to_env`).
`MIMICAST_HOME` (the data directory) is read directly, and `MIMICAST_SECRET_KEY` where the key
is loaded (services/crypto.py): neither is a setting of its own.
"""

from __future__ import annotations

import os
from importlib.util import find_spec
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from platformdirs import user_data_dir
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

ENV_PREFIX = "MIMICAST_"
# uvicorn's log levels (uvicorn.config.LOG_LEVELS; a test keeps the two equal). Spelled out so
# reading the settings does not import uvicorn.
LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")
SQLITE_PREFIX = "sqlite:///"
POSTGRES_PREFIXES = ("postgresql://", "postgres://", "postgresql+psycopg://")
REDIS_SCHEMES = ("redis", "rediss", "unix")


def data_dir() -> Path:
    return Path(os.environ.get("MIMICAST_HOME") or user_data_dir("mimicast"))


def _default_db() -> str:
    return f"{SQLITE_PREFIX}{data_dir() / 'mimicast.db'}"


def _default_key_file() -> str:
    return str(data_dir() / "secret.key")


def env_name(setting: str) -> str:
    """The environment variable of a setting: `port` → `MIMICAST_PORT`."""
    return f"{ENV_PREFIX}{setting.upper()}"


def hide_password(url: str) -> str:
    """The URL with its password masked, for messages (a database URL may carry one)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host  # an IPv6 address
    port = f":{parts.port}" if parts.port is not None else ""
    netloc = f"{parts.username or ''}:***@{host}{port}"
    return urlunsplit(parts._replace(netloc=netloc))


class Settings(BaseSettings):
    # env_ignore_empty: `MIMICAST_REDIS_URL=` means "not set", as in a shell.
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_ignore_empty=True,
                                      extra="forbid", frozen=True)

    db: str = Field(default_factory=_default_db)
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    # What discover-authentication tells clients as `region.api`; defaults to http://host:port.
    public_url: str | None = None
    workers: int = Field(default=1, ge=1)
    # Overrides every account's call quota when set.
    rate_limit: int | None = Field(default=None, ge=1)
    # A 401 also carries the string-to-sign the server expected (x-mc-expected-string-to-sign).
    explain_auth: bool = False
    # Off by default: real clients reuse dates and request ids (client-compatibility.md 5, 6).
    max_clock_skew: int | None = Field(default=None, ge=1)
    reject_replayed_request_ids: bool = False
    # Where the key that encrypts secrets at rest lives; never in the database.
    key_file: str = Field(default_factory=_default_key_file)
    # "simulated": TXT records come from the zone `mimicast admin dns` edits; "real": DNS.
    dns: Literal["simulated", "real"] = "simulated"
    # Share rate-limit state between workers and hosts.
    redis_url: str | None = None
    # How long an application or binding stays cached; a revoked binding stops within this.
    cache_seconds: float = Field(default=1.0, ge=0)
    log_level: str = "warning"
    # Threads per worker process that run store work; each keeps one database connection.
    store_threads: int = Field(default=4, ge=1)
    # Password checks (argon2) run at once per process, and how many may wait; a login beyond
    # that is answered HTTP 429.
    login_concurrency: int = Field(default=2, ge=1)
    login_queue: int = Field(default=32, ge=0)
    # Failed logins for one address, and from one client address, before it is throttled;
    # the throttle starts at login_backoff_seconds and doubles up to login_backoff_max_seconds.
    login_max_failures: int = Field(default=5, ge=1)
    login_max_failures_per_client: int = Field(default=20, ge=1)
    login_backoff_seconds: float = Field(default=30.0, gt=0)
    login_backoff_max_seconds: float = Field(default=900.0, gt=0)
    # The largest request head (request line + headers) accepted; larger ones get HTTP 431.
    max_header_bytes: int = Field(default=32768, ge=1024)
    # The largest file `file/file-upload` takes (the PUT of its bytes is held to it), by
    # default the gateway's attachment limit; at most a message's (services/mail/sending.py).
    max_upload_bytes: int = Field(default=25 * 1024 * 1024, ge=1, le=100 * 1024 * 1024)
    # The SIEM log's files each cover a slice of this many minutes (the real service: 30),
    # available once it has ended; the logs keep this many days (the real service: 7).
    siem_slice_minutes: int = Field(default=30, ge=1, le=1440)
    log_retention_days: int = Field(default=7, ge=1, le=3650)
    # Live simulated mail while serving: messages a minute to each account (None: off); with
    # several workers each sends its share.
    simulate: float | None = Field(default=None, gt=0, le=1_000_000)

    @field_validator("db")
    @classmethod
    def _supported_database(cls, url: str) -> str:
        if url.startswith(SQLITE_PREFIX):
            if url == SQLITE_PREFIX:
                raise ValueError(f"give a path after {SQLITE_PREFIX}")
            return url
        if url.startswith(POSTGRES_PREFIXES):
            if find_spec("psycopg") is None:
                raise ValueError("PostgreSQL needs the psycopg driver: "
                                 "pip install 'mimicast[postgres]'")
            return url
        scheme = url.split("://", 1)[0] if "://" in url else url
        raise ValueError(f"unsupported database {scheme!r}: use sqlite:///PATH or "
                         "postgresql://USER@HOST/DATABASE")

    @field_validator("public_url")
    @classmethod
    def _http_url(cls, url: str | None) -> str | None:
        if url is not None:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ValueError("use an http:// or https:// URL, e.g. https://mimicast.example")
        return url

    @field_validator("redis_url")
    @classmethod
    def _redis(cls, url: str | None) -> str | None:
        if url is not None:
            if urlsplit(url).scheme not in REDIS_SCHEMES:
                raise ValueError("use a redis://, rediss:// or unix:// URL")
            if find_spec("redis") is None:
                raise ValueError("sharing rate limits needs the redis client: "
                                 "pip install 'mimicast[redis]'")
        return url

    @field_validator("log_level", mode="before")
    @classmethod
    def _log_level(cls, level: Any) -> Any:
        if isinstance(level, str):
            level = level.strip().lower()
            if level not in LOG_LEVELS:
                raise ValueError(f"use one of {', '.join(LOG_LEVELS)}")
        return level

    @property
    def base_url(self) -> str:
        return (self.public_url or f"http://{self.host}:{self.port}").rstrip("/")

    def to_env(self) -> dict[str, str]:
        """Every setting as the variable that reproduces it (an unset one as empty, which
        means unset): how `serve` hands its settings to its worker processes."""
        values = self.model_dump(mode="json")
        return {env_name(name): "" if value is None else
                str(value).lower() if isinstance(value, bool) else str(value)
                for name, value in values.items()}

    @classmethod
    def explicit(cls, **values: Any) -> Settings:
        """`values` over the defaults, ignoring the environment: a test server must not pick
        up the developer's MIMICAST_* variables."""
        return _ExplicitSettings(**values)


class _ExplicitSettings(Settings):
    @classmethod
    def settings_customise_sources(
        cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)
