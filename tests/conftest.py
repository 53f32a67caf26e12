"""Shared fixtures: a live server on a fresh SQLite store, per test session and worker."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from mimicast.testing import Harness, fresh_database
from mimicast.testing.harness import free_port


def _postgres_up() -> bool:
    try:
        import psycopg

        from mimicast.testing.harness import PG_ADMIN_URL

        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3):
            return True
    except Exception:
        return False


def _backend(kind: str) -> str:
    """`kind`, or a skip (a failure in CI, where MIMICAST_REQUIRE_PG or CI is set) when it is
    PostgreSQL and no server answers on 127.0.0.1:5432."""
    if kind == "postgresql" and not _postgres_up():
        if os.environ.get("CI") or os.environ.get("MIMICAST_REQUIRE_PG"):
            pytest.fail("PostgreSQL is not reachable on 127.0.0.1:5432")
        pytest.skip("PostgreSQL is not reachable")
    return kind


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def harness(request: pytest.FixtureRequest,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    """The live server the HTTP tests call, once on each backend: every endpoint's behaviour
    is checked on SQLite and on PostgreSQL (but see `store_agnostic` below)."""
    with fresh_database(_backend(request.param)) as url:
        h = Harness(url, str(tmp_path_factory.mktemp("keys")))
        yield h
        h.close()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `store_agnostic` check what no store touches (the wire, the SDK, the client
    CLI): on PostgreSQL they would repeat the SQLite run, so they run there only when
    MIMICAST_BOTH_STORES=1. Everything that reaches the store runs on both."""
    if os.environ.get("MIMICAST_BOTH_STORES") == "1":
        return
    kept, dropped = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        on_postgres = callspec is not None and callspec.params.get("harness") == "postgresql"
        repeated = on_postgres and item.get_closest_marker("store_agnostic") is not None
        (dropped if repeated else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh database on each backend."""
    with fresh_database(_backend(request.param)) as url:
        yield url


CliRunner = Callable[..., "subprocess.CompletedProcess[str]"]


def _clean_environment() -> dict[str, str]:
    """This environment without MIMICAST_* variables: every one is a setting the commands
    read, and a developer's own must not change what the tests see."""
    return {name: value for name, value in os.environ.items()
            if not name.startswith("MIMICAST_")}


@pytest.fixture
def cli(tmp_path: Path) -> CliRunner:
    """Run `mimicast ARGS…` as a real subprocess with its own data directory (store and key),
    `env` added to its environment."""
    base = dict(_clean_environment(), MIMICAST_HOME=str(tmp_path))

    def run(*args: str, check: bool = True,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        # stdin is never the terminal: a command that would prompt must fail, not hang.
        result = subprocess.run([sys.executable, "-m", "mimicast", *args],
                                env={**base, **(env or {})},
                                stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                timeout=120)
        if check and result.returncode != 0:
            raise AssertionError(f"mimicast {' '.join(args)} failed:\n{result.stderr}")
        return result

    return run


# A real `mimicast serve` process ------------------------------------------------------------

@dataclass
class Served:
    url: str
    log: Path

    def output(self) -> str:
        return self.log.read_text()


Serve = Callable[..., Served]


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Serve]:
    """Start `python -m mimicast serve ARGS… --port P` with this test's data directory (so the
    same store as the `cli` fixture's) and `env` added to the environment; with
    `port_from_env`, P goes in MIMICAST_PORT instead of the flag. Every process is terminated
    at teardown."""
    processes: list[tuple[subprocess.Popen[bytes], Any]] = []

    def start(*args: str, env: dict[str, str] | None = None,
              port_from_env: bool = False) -> Served:
        port = free_port()
        environment = dict(_clean_environment(), MIMICAST_HOME=str(tmp_path), **(env or {}))
        port_flag = [] if port_from_env else ["--port", str(port)]
        if port_from_env:
            environment["MIMICAST_PORT"] = str(port)
        log_path = tmp_path / f"server-{port}.log"
        log = log_path.open("wb")
        process = subprocess.Popen(
            [sys.executable, "-m", "mimicast", "serve", *port_flag, *args],
            env=environment, stdout=log, stderr=subprocess.STDOUT)
        processes.append((process, log))
        url = f"http://127.0.0.1:{port}"
        _wait_until_healthy(process, url, log_path)
        return Served(url, log_path)

    try:
        yield start
    finally:
        for process, log in processes:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            log.close()


def _wait_until_healthy(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    """Until /healthz answers: the port accepts connections (into its backlog) as soon as it
    is bound, before the server has printed anything or runs."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the server exited with {process.returncode}:\n{log.read_text()}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    pytest.fail(f"the server did not answer at {url}:\n{log.read_text()}")
