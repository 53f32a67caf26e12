"""A live server in a background thread (real uvicorn, real HTTP on 127.0.0.1), tenants
created through the services, and a signed-call helper computed with the wire layer."""

from __future__ import annotations

import contextlib
import itertools
import os
import secrets
import socket
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import uvicorn

from mimicast.config import Settings
from mimicast.server.app import create_app
from mimicast.server.protocol import header_limited
from mimicast.server.runtime import Runtime
from mimicast.services import applications, identity, profiles
from mimicast.services.auth import login
from mimicast.services.clock import Clock
from mimicast.services.context import Caller, Context, Deps
from mimicast.services.crypto import Vault
from mimicast.services.dns import make_resolver
from mimicast.services.permissions import FULL_ADMINISTRATOR
from mimicast.store.engine import Store
from mimicast.wire import signing

PG_ADMIN_URL = os.environ.get("MIMICAST_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


@contextlib.contextmanager
def fresh_database(kind: str) -> Iterator[str]:
    """A new, empty database URL: a SQLite file, or a PostgreSQL database dropped afterwards."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{Path(folder) / 'test.db'}"
        return
    import psycopg

    name = f"mimicast_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    """uvicorn serving a mimicast app on a free loopback port, in a thread."""

    def __init__(self, settings: Settings, deps: Deps | None = None) -> None:
        self.settings = settings.model_copy(
            update={"host": "127.0.0.1", "port": settings.port or free_port()})
        self.runtime = Runtime.build(self.settings, deps)
        app = create_app(self.settings, self.runtime)
        config = uvicorn.Config(app, host="127.0.0.1", port=self.settings.port,
                                log_level="warning", lifespan="on",
                                http=header_limited(self.settings.max_header_bytes))
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.settings.port}"

    def start(self) -> LiveServer:
        self._thread.start()
        deadline = time.monotonic() + 15
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)


@dataclass(frozen=True)
class Keys:
    app_id: str
    app_key: str
    access_key: str
    secret_key: str


@dataclass(frozen=True)
class Tenant:
    account_id: int
    code: str
    domain: str
    email: str
    password: str
    keys: Keys

    def ctx(self, deps: Deps, session: Any) -> Context:
        return Context(deps, session, Caller(account_id=self.account_id, actor="test"))


def eventually(check: Callable[[], bool], timeout: float = 15.0) -> bool:
    """Poll `check` until it holds or `timeout` passes (for effects behind a 1 s cache)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return check()


class ManualClock:
    """A services clock moved by hand (`clock.now = …`): expiry is tested without waiting."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


_counter = itertools.count(1)


class Harness:
    """A server plus helpers to create tenants and make signed calls against it."""

    def __init__(self, db_url: str, key_dir: str, **settings: Any) -> None:
        # Every test calls from 127.0.0.1: the per-client login throttle would count a whole
        # test session's wrong passwords as one guesser's. The per-address one stays as served.
        settings.setdefault("login_max_failures_per_client", 1_000_000)
        self.settings = Settings.explicit(db=db_url, key_file=str(Path(key_dir) / "secret.key"),
                                          port=0, **settings)
        store = Store(db_url)
        store.migrate()
        # The server's time: `harness.clock.advance(days=1)` expires bindings, ages mail.
        self.clock = Clock()
        self.deps = Deps(store=store, vault=Vault(self.settings.key_file),
                         resolver=make_resolver(self.settings.dns, store.sessions),
                         clock=self.clock)
        self.server = LiveServer(self.settings, self.deps).start()
        self.http = httpx.Client(base_url=self.server.url, timeout=30)

    @property
    def url(self) -> str:
        return self.server.url

    def with_settings(self, **changes: Any) -> LiveServer:
        """Another server on the same store with different settings (caller stops it)."""
        return LiveServer(self.settings.model_copy(update={"port": 0, **changes}),
                          self.deps).start()

    def close(self) -> None:
        self.http.close()
        self.server.stop()
        self.deps.store.dispose()

    @contextlib.contextmanager
    def session_ctx(self, tenant: Tenant) -> Iterator[Context]:
        """A service context acting as an operator of the tenant; commits on success."""
        with self.deps.store.unit() as unit:
            yield tenant.ctx(self.deps, unit)

    def tenant(self, *, role: str | None = FULL_ADMINISTRATOR, ttl_seconds: int | None = None,
               extend_on_validate: bool = False, rate_limit: int | None = None,
               max_bindings: int | None = None) -> Tenant:
        """A fresh account with an internal domain, an administrator in `role`, an application,
        and a binding; `ttl_seconds` gives the administrator a profile with that TTL."""
        n = next(_counter)
        suffix = secrets.token_hex(4)
        domain = f"t{n}-{suffix}.example.com"
        email = f"admin@{domain}"
        password = secrets.token_urlsafe(10)
        # A write unit: it waits its turn behind the server's writers (a plain session that
        # read first would fail at once if one of them committed in between).
        with self.deps.store.unit() as unit:
            session = unit.session
            account = identity.create_account(session, name=f"Tenant {n}", region="us",
                                              admin_email=email, code=f"CT{n}{suffix.upper()}")
            if rate_limit is not None:
                account.rate_limit = rate_limit
            if max_bindings is not None:
                account.max_bindings = max_bindings
            ctx = Context(self.deps, session, Caller(account_id=account.id, actor="test"))
            identity.add_internal_domain(ctx, domain)
            identity.create_user(ctx, email, password=password)
            if role:
                identity.add_role_member(ctx, role, email)
            if ttl_seconds is not None or extend_on_validate:
                profiles.create_group(ctx, "Short TTL")
                profiles.add_group_member(ctx, "Short TTL", email)
                profile = profiles.create_auth_profile(ctx, "short", ttl_seconds,
                                                       extend_on_validate)
                profiles.create_app_setting(ctx, "short", "Short TTL", str(profile.id))
            app = applications.register_application(ctx, f"app {n}")
            session.flush()
            keys = login(self.deps, session, app_id=app.app_id, user_name=email,
                         access_key=None,
                         credentials=signing.BasicCredentials(signing.REALM_CLOUD, email,
                                                              password))
            return Tenant(account.id, account.code, domain, email, password,
                          Keys(app.app_id, app.app_key, str(keys["accessKey"]),
                               str(keys["secretKey"])))

    def signed_headers(self, keys: Keys, path: str, *, date: str | None = None,
                       request_id: str | None = None) -> dict[str, str]:
        date = date or signing.request_date()
        request_id = request_id or signing.request_id()
        sig = signing.signature(signing.decode_secret(keys.secret_key), date, request_id, path,
                                keys.app_key)
        return {"Authorization": signing.authorization(keys.access_key, sig),
                "x-mc-app-id": keys.app_id, "x-mc-date": date, "x-mc-req-id": request_id,
                "Content-Type": "application/json"}

    def call(self, keys: Keys, path: str, body: Any = None, *, content: bytes | None = None,
             headers: dict[str, str] | None = None, base: str | None = None) -> httpx.Response:
        """A signed POST; `body` is sent as JSON (default `{"data": []}`), `content` raw."""
        all_headers = self.signed_headers(keys, path)
        all_headers.update(headers or {})
        payload = content if content is not None else orjson.dumps(
            body if body is not None else {"data": []})
        return self.http.post((base or self.url) + path, content=payload, headers=all_headers)
