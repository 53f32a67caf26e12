"""`mimicast serve` as a user runs it: a real process on an empty store prints the demo
credentials, which work at once; `init --json` prints the same ones; the flags and their
MIMICAST_* variables take effect (a flag over its variable); every operator mistake is one red
line and a non-zero exit, before anything says "serving"."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from mimecast_api.post_rest import simple_exchange

from mimicast.testing.harness import free_port

FIELDS = ("email", "password", "appId", "appKey", "accessKey", "secretKey", "accountCode")


def printed_credentials(output: str) -> dict[str, str]:
    found = dict(re.findall(r"^\s+(\w+)\s+(\S+)\s*$", output, re.MULTILINE))
    return {name: found[name] for name in FIELDS}


def account_code(url: str, credentials: dict[str, str]) -> str:
    data = simple_exchange(url, credentials["accessKey"], credentials["secretKey"],
                           credentials["appId"], credentials["appKey"],
                           "/api/account/get-account", {"data": []})
    return str(data[0]["accountCode"])


def test_serve_on_an_empty_store_prints_working_demo_credentials(serve: Any, cli: Any) -> None:
    served = serve()
    output = served.output()
    assert "Created the demo account" in output
    assert output.index("accountCode") < output.index("mimicast serving")
    credentials = printed_credentials(output)
    assert account_code(served.url, credentials) == credentials["accountCode"]
    # The same store, asked again: the same credentials, not new ones.
    assert json.loads(cli("init", "--json").stdout) == credentials


def test_serve_again_prints_the_existing_demo_credentials(serve: Any, cli: Any) -> None:
    created = json.loads(cli("init", "--json").stdout)
    output = serve().output()
    assert "Created" not in output
    assert printed_credentials(output) == created


@pytest.mark.parametrize("source", ["flag", "environment"])
def test_public_url_is_what_discovery_answers(serve: Any, cli: Any, source: str) -> None:
    email = json.loads(cli("init", "--json").stdout)["email"]
    public = "https://mimicast.example.test:8443/"
    served = (serve("--public-url", public) if source == "flag"
              else serve(env={"MIMICAST_PUBLIC_URL": public}))
    body = httpx.post(served.url + "/api/login/discover-authentication",
                      json={"data": [{"emailAddress": email}]}).json()
    assert body["data"][0]["region"]["api"] == "https://mimicast.example.test:8443"


@pytest.mark.parametrize("source", ["flag", "environment"])
def test_rate_limit_overrides_the_account_quota(serve: Any, cli: Any, source: str) -> None:
    credentials = json.loads(cli("init", "--json").stdout)
    served = (serve("--rate-limit", "2") if source == "flag"
              else serve(env={"MIMICAST_RATE_LIMIT": "2"}))
    statuses = []
    for _ in range(3):
        try:
            account_code(served.url, credentials)
            statuses.append(200)
        except Exception as error:  # the client raises on the 429 envelope's fail entry
            statuses.append(429 if "err_rate_limit_exceeded" in str(error) else -1)
    assert statuses == [200, 200, 429]


def test_the_port_comes_from_the_environment(serve: Any) -> None:
    served = serve(port_from_env=True)
    assert httpx.get(served.url + "/healthz").json() == {"status": "ok"}


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port something else listens on."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield int(holder.getsockname()[1])


def test_a_flag_beats_its_environment_variable(serve: Any, taken_port: int) -> None:
    # The variable names a port that is taken: serving at all shows the flag won.
    served = serve(env={"MIMICAST_PORT": str(taken_port)})
    assert f"127.0.0.1:{taken_port}" not in served.url
    assert httpx.get(served.url + "/healthz").status_code == 200


def test_several_workers_serve_with_the_settings_and_the_header_limit(serve: Any,
                                                                      cli: Any) -> None:
    credentials = json.loads(cli("init", "--json").stdout)
    served = serve("--workers", "2", "--max-header-bytes", "2048",
                   "--public-url", "https://workers.example.test")
    assert account_code(served.url, credentials) == credentials["accountCode"]
    # Settings reach the worker processes (through the environment)…
    body = httpx.post(served.url + "/api/login/discover-authentication",
                      json={"data": [{"emailAddress": credentials["email"]}]}).json()
    assert body["data"][0]["region"]["api"] == "https://workers.example.test"
    # …and so does the protocol with its limit (pickled into each of them).
    too_large = httpx.get(served.url + "/healthz", headers={"x-padding": "a" * 4096})
    assert too_large.status_code == 431
    assert too_large.json()["fail"][0]["errors"][0]["code"] == "err_request_headers_too_large"


# Operator mistakes: one red line, a non-zero exit, no traceback, nothing served ---------------

def one_error_line(result: subprocess.CompletedProcess[str], code: int) -> str:
    assert result.returncode == code, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    assert "serving" not in result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


@pytest.mark.parametrize(("args", "env", "expected"), [
    (["--dns", "bogus"], {}, "--dns (MIMICAST_DNS): Input should be 'simulated' or 'real'"),
    ([], {"MIMICAST_DNS": "bogus"}, "--dns (MIMICAST_DNS)"),
    (["--log-level", "nonsense"], {},
     "--log-level (MIMICAST_LOG_LEVEL): use one of critical, error, warning, info, debug, trace"),
    (["--port", "abc"], {}, "--port (MIMICAST_PORT): Input should be a valid integer"),
    ([], {"MIMICAST_PORT": "70000"}, "--port (MIMICAST_PORT): Input should be less than or "
                                     "equal to 65535"),
    (["--workers", "0"], {}, "--workers (MIMICAST_WORKERS): Input should be greater than or "
                             "equal to 1"),
    (["--rate-limit", "0"], {}, "--rate-limit (MIMICAST_RATE_LIMIT)"),
    (["--max-header-bytes", "100"], {}, "--max-header-bytes (MIMICAST_MAX_HEADER_BYTES): Input "
                                        "should be greater than or equal to 1024"),
    (["--login-backoff-seconds", "0"], {}, "--login-backoff-seconds"),
    (["--public-url", "mimicast.example"], {}, "--public-url (MIMICAST_PUBLIC_URL): use an "
                                               "http:// or https:// URL"),
    (["--db", "mysql://root:hunter2@db.example/mimicast"], {},
     "--db (MIMICAST_DB): unsupported database 'mysql': use sqlite:///PATH or "
     "postgresql://USER@HOST/DATABASE"),
    (["--redis-url", "http://127.0.0.1:6379"], {}, "--redis-url (MIMICAST_REDIS_URL): use a "
                                                   "redis://, rediss:// or unix:// URL"),
])
def test_invalid_settings_are_one_line_usage_errors(cli: Any, args: list[str],
                                                    env: dict[str, str], expected: str) -> None:
    line = one_error_line(cli("serve", *args, check=False, env=env), 2)
    assert expected in line
    assert "hunter2" not in line


def test_an_unreachable_database_is_one_line(cli: Any) -> None:
    port = free_port()
    url = f"postgresql://postgres:hunter2@127.0.0.1:{port}/mimicast"
    line = one_error_line(cli("serve", "--db", url, check=False), 1)
    assert line.startswith("error: cannot open the database "
                           f"postgresql://postgres:***@127.0.0.1:{port}/mimicast: ")
    assert "hunter2" not in line


def test_an_unusable_data_directory_is_one_line(cli: Any, tmp_path: Path) -> None:
    # A data directory below a file can be made by nobody (root included).
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    line = one_error_line(cli("serve", check=False, env={"MIMICAST_HOME": str(blocker / "x")}),
                          1)
    assert line.startswith(f"error: cannot open the database sqlite:///{blocker}/x/mimicast.db: "
                           f"Not a directory: {blocker}/x")


def test_an_unusable_key_file_is_one_line(cli: Any, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    line = one_error_line(cli("serve", "--key-file", str(blocker / "secret.key"), check=False),
                          1)
    assert line == f"error: cannot use the key file {blocker}/secret.key: File exists: {blocker}"


def test_a_taken_port_is_one_line(cli: Any, taken_port: int) -> None:
    line = one_error_line(cli("serve", "--port", str(taken_port), check=False), 1)
    assert line == f"error: cannot listen on 127.0.0.1:{taken_port}: Address already in use"


def test_an_unreachable_redis_is_one_line(cli: Any) -> None:
    port = free_port()
    line = one_error_line(cli("serve", "--redis-url", f"redis://127.0.0.1:{port}",
                              check=False), 1)
    assert line.startswith(f"error: cannot reach Redis at redis://127.0.0.1:{port}: ")


def without_module(module: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`mimicast ARGS…` in a process where `module` cannot be imported (not installed)."""
    script = ("import sys\n"
              f"sys.modules[{module!r}] = None\n"
              "from mimicast.cli.main import app\n"
              f"sys.argv = ['mimicast', *{list(args)!r}]\n"
              "app()\n")
    env = {name: value for name, value in os.environ.items()
           if not name.startswith("MIMICAST_")}
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=dict(env, MIMICAST_HOME=str(tmp_path)), timeout=120)


def test_postgresql_without_its_driver_names_the_extra(tmp_path: Path) -> None:
    result = without_module("psycopg", tmp_path, "serve", "--db", "postgresql://db.example/m")
    assert one_error_line(result, 2) == (
        "error: --db (MIMICAST_DB): PostgreSQL needs the psycopg driver: "
        "pip install 'mimicast[postgres]'")


def test_redis_without_its_client_names_the_extra(tmp_path: Path) -> None:
    result = without_module("redis", tmp_path, "serve", "--redis-url", "redis://127.0.0.1")
    assert one_error_line(result, 2) == (
        "error: --redis-url (MIMICAST_REDIS_URL): sharing rate limits needs the redis client: "
        "pip install 'mimicast[redis]'")


# Help and version --------------------------------------------------------------------------

def test_help_names_every_variable(cli: Any) -> None:
    from mimicast.config import Settings, env_name

    text = " ".join(cli("serve", "--help", env={"COLUMNS": "200"}).stdout.split())
    for name in Settings.model_fields:
        assert env_name(name) in text, name


def test_version(cli: Any) -> None:
    from importlib.metadata import version

    assert cli("--version").stdout == f"mimicast {version('mimicast')}\n"
