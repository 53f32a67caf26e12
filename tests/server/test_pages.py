"""The pages beside the API: the landing page, liveness and readiness; and the API still
answering every other request (POST / included) as before."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from importlib.metadata import version
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from mimicast.services.context import Deps
from mimicast.services.crypto import Vault
from mimicast.services.dns import make_resolver
from mimicast.store import revision
from mimicast.store.engine import Store
from mimicast.testing import Harness, LiveServer


def test_the_landing_page(harness: Harness) -> None:
    response = harness.http.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    page = response.text
    assert f"mimicast {version('mimicast')}" in page
    assert 'href="/docs"' in page and 'href="/openapi.json"' in page
    assert f"<code>{harness.url}</code>" in page  # where to point a client
    assert harness.http.head("/").status_code == 200


def test_liveness(harness: Harness) -> None:
    response = harness.http.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})
    assert response.headers["cache-control"] == "no-store"


def test_readiness(harness: Harness) -> None:
    response = harness.http.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "revision": revision.head_revision()}


@pytest.fixture
def unmigrated(harness: Harness, tmp_path: Path) -> Iterator[tuple[LiveServer, Store]]:
    """A server on a new SQLite store nobody has migrated."""
    store = Store(f"sqlite:///{tmp_path / 'db' / 'new.db'}")
    deps = Deps(store=store, vault=Vault(tmp_path / "secret.key"),
                resolver=make_resolver("simulated", store.sessions))
    server = LiveServer(harness.settings.model_copy(update={"db": store.url, "port": 0}),
                        deps).start()
    yield server, store
    server.stop()
    store.dispose()


def test_not_ready_until_the_schema_is_current(unmigrated: tuple[LiveServer, Store]) -> None:
    server, store = unmigrated
    head = revision.head_revision()
    response = httpx.get(f"{server.url}/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable",
                               "reason": f"the schema is at revision none, not {head}"}
    # Liveness does not look at the store.
    assert httpx.get(f"{server.url}/healthz").status_code == 200
    store.migrate()
    assert httpx.get(f"{server.url}/readyz").status_code == 200
    with store.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    assert httpx.get(f"{server.url}/readyz").json()["reason"] == (
        f"the schema is at revision 0001, not {head}")


def test_not_ready_when_the_database_does_not_answer(
        unmigrated: tuple[LiveServer, Store], tmp_path: Path) -> None:
    server, store = unmigrated
    store.dispose()
    shutil.rmtree(tmp_path / "db")  # SQLite cannot open a file in a folder that is gone
    response = httpx.get(f"{server.url}/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "reason": "the database does not "
                                                                  "answer: unable to open "
                                                                  "database file"}


@pytest.mark.parametrize("method", ["POST", "PUT"])
@pytest.mark.parametrize("path", ["/", "/healthz"])
def test_other_methods_still_reach_the_api(harness: Harness, method: str, path: str) -> None:
    response = harness.http.request(method, path, content=b'{"data": []}')
    assert response.headers["content-type"] == "application/json"
    [error] = response.json()["fail"][0]["errors"]
    expected = ("err_not_found", 404) if method == "POST" else ("err_method_not_allowed", 405)
    assert (error["code"], response.status_code) == expected
