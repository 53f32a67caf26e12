"""Settings: the defaults, the environment over them, explicit values over the environment,
what is refused, the hand-over to worker processes, and `serve`'s flags kept in step with the
settings (every setting a flag and a variable, its default shown as Settings has it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import typer.main
import uvicorn.config
from pydantic import ValidationError

from mimicast.cli.main import app
from mimicast.config import LOG_LEVELS, Settings, env_name, hide_password


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No MIMICAST_* of the developer's; the data directory in tmp_path."""
    import os

    for name in list(os.environ):
        if name.startswith("MIMICAST_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("MIMICAST_HOME", str(tmp_path))


def test_defaults(tmp_path: Path) -> None:
    settings = Settings()
    assert settings.db == f"sqlite:///{tmp_path / 'mimicast.db'}"
    assert settings.key_file == str(tmp_path / "secret.key")
    assert settings.base_url == "http://127.0.0.1:8080"
    assert (settings.store_threads, settings.login_concurrency, settings.login_queue,
            settings.login_max_failures, settings.login_max_failures_per_client,
            settings.login_backoff_seconds, settings.login_backoff_max_seconds,
            settings.max_header_bytes) == (4, 2, 32, 5, 20, 30.0, 900.0, 32768)


def test_the_environment_over_the_defaults_and_values_over_both(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIMICAST_PORT", "9000")
    monkeypatch.setenv("MIMICAST_EXPLAIN_AUTH", "yes")
    monkeypatch.setenv("MIMICAST_LOGIN_BACKOFF_SECONDS", "2.5")
    monkeypatch.setenv("MIMICAST_REDIS_URL", "")  # empty: not set
    settings = Settings()
    assert (settings.port, settings.explain_auth, settings.login_backoff_seconds,
            settings.redis_url) == (9000, True, 2.5, None)
    assert Settings(port=9001).port == 9001
    # Variables that are not settings (the client's, the tests') are no concern of Settings.
    monkeypatch.setenv("MIMICAST_BASE_URL", "http://client.example")
    assert Settings().base_url == "http://127.0.0.1:9000"


def test_explicit_settings_ignore_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MIMICAST_RATE_LIMIT", "5")
    settings = Settings.explicit(port=0)
    assert (settings.rate_limit, settings.port) == (None, 0)
    assert settings.model_copy(update={"rate_limit": 7}).rate_limit == 7


def test_worker_processes_rebuild_the_same_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    given = Settings(port=9100, explain_auth=True, public_url="https://m.example",
                     login_backoff_max_seconds=60.5, dns="real")
    monkeypatch.setenv("MIMICAST_RATE_LIMIT", "3")  # inherited, but unset in the parent's
    for name, value in given.to_env().items():
        monkeypatch.setenv(name, value)
    assert Settings() == given


@pytest.mark.parametrize("url", ["sqlite:///relative.db", "sqlite:////abs/path.db",
                                 "postgresql://u@h/d", "postgres://u@h/d",
                                 "postgresql+psycopg://u:p@h:5432/d"])
def test_supported_databases(url: str) -> None:
    assert Settings(db=url).db == url


@pytest.mark.parametrize(("values", "field", "message"), [
    ({"db": "mysql://u:p@h/d"}, "db", "unsupported database 'mysql'"),
    ({"db": "sqlite:///"}, "db", "give a path after sqlite:///"),
    ({"db": "mimicast.db"}, "db", "unsupported database 'mimicast.db'"),
    ({"dns": "bogus"}, "dns", "Input should be 'simulated' or 'real'"),
    ({"log_level": "loud"}, "log_level", "use one of critical, error"),
    ({"public_url": "ftp://m.example"}, "public_url", "use an http:// or https:// URL"),
    ({"redis_url": "127.0.0.1:6379"}, "redis_url", "use a redis://, rediss:// or unix:// URL"),
    ({"store_threads": 0}, "store_threads", "greater than or equal to 1"),
    ({"login_concurrency": 0}, "login_concurrency", "greater than or equal to 1"),
    ({"login_queue": -1}, "login_queue", "greater than or equal to 0"),
    ({"login_max_failures": 0}, "login_max_failures", "greater than or equal to 1"),
    ({"login_max_failures_per_client": 0}, "login_max_failures_per_client",
     "greater than or equal to 1"),
    ({"login_backoff_seconds": 0}, "login_backoff_seconds", "greater than 0"),
    ({"login_backoff_max_seconds": -1}, "login_backoff_max_seconds", "greater than 0"),
    ({"max_header_bytes": 1023}, "max_header_bytes", "greater than or equal to 1024"),
    ({"port": 65536}, "port", "less than or equal to 65535"),
    ({"unknown": 1}, "unknown", "Extra inputs are not permitted"),
])
def test_refused_values(values: dict[str, Any], field: str, message: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(**values)
    [error] = caught.value.errors()
    assert error["loc"] == (field,)
    assert message in error["msg"]


def test_log_levels_are_uvicorns() -> None:
    assert set(LOG_LEVELS) == set(uvicorn.config.LOG_LEVELS)
    assert Settings(log_level="INFO").log_level == "info"


def test_passwords_are_hidden_in_messages() -> None:
    assert hide_password("postgresql://app:s3cret@db.example:5433/m") == \
        "postgresql://app:***@db.example:5433/m"
    assert hide_password("postgresql://app@db.example/m") == "postgresql://app@db.example/m"
    assert hide_password("postgresql://app:s3cret@[::1]/m") == "postgresql://app:***@[::1]/m"
    assert hide_password("sqlite:////var/lib/m.db") == "sqlite:////var/lib/m.db"


def serve_options() -> dict[str, Any]:
    group = typer.main.get_command(app)
    command = group.commands["serve"]  # type: ignore[attr-defined]  # a click Group
    return {param.name: param for param in command.params}


def test_every_setting_is_a_serve_flag_and_a_variable() -> None:
    options = serve_options()
    assert set(options) == set(Settings.model_fields)
    for name, option in options.items():
        assert option.envvar == env_name(name), name
        assert f"--{name.replace('_', '-')}" in option.opts, name


def test_serve_help_shows_each_settings_default() -> None:
    options = serve_options()
    for name, field in Settings.model_fields.items():
        if field.default_factory is not None or field.default is None:
            continue  # described in words (the data directory, "off", "http://HOST:PORT")
        shown = "off" if field.default is False else str(field.default)
        assert options[name].show_default == shown, name


def test_the_readme_documents_every_setting() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    table = readme[readme.index("## Configuration"):readme.index("Choices where")]
    for name in Settings.model_fields:
        row = next((line for line in table.splitlines()
                    if line.startswith(f"| `--{name.replace('_', '-')}")), None)
        assert row is not None, name
        assert f"`{env_name(name)}`" in row, name
