"""Shared fixtures: a live server on a fresh SQLite store, per test session and worker."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from mimicast.testing import Harness, fresh_database


def _postgres_up() -> bool:
    try:
        import psycopg

        from mimicast.testing.harness import PG_ADMIN_URL

        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3):
            return True
    except Exception:
        return False


@pytest.fixture(scope="session")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    with fresh_database("sqlite") as url:
        h = Harness(url, str(tmp_path_factory.mktemp("keys")))
        yield h
        h.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh database on each backend; PostgreSQL is required in CI (MIMICAST_REQUIRE_PG)."""
    if request.param == "postgresql" and not _postgres_up():
        if os.environ.get("CI") or os.environ.get("MIMICAST_REQUIRE_PG"):
            pytest.fail("PostgreSQL is not reachable on 127.0.0.1:5432")
        pytest.skip("PostgreSQL is not reachable")
    with fresh_database(request.param) as url:
        yield url


CliRunner = Callable[..., "subprocess.CompletedProcess[str]"]


@pytest.fixture
def cli(tmp_path: Path) -> CliRunner:
    """Run `mimicast ARGS…` as a real subprocess with its own data directory (store and key)."""
    env = dict(os.environ)
    env["MIMICAST_HOME"] = str(tmp_path)
    env.pop("MIMICAST_DB", None)

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        # stdin is never the terminal: a command that would prompt must fail, not hang.
        result = subprocess.run([sys.executable, "-m", "mimicast", *args], env=env,
                                stdin=subprocess.DEVNULL, capture_output=True, text=True,
                                timeout=120)
        if check and result.returncode != 0:
            raise AssertionError(f"mimicast {' '.join(args)} failed:\n{result.stderr}")
        return result

    return run
