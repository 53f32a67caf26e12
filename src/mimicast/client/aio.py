"""The asynchronous client, a mirror of sync.py: one httpx connection pool, signed calls,
retries, typed resources."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from mimicast.client import transport
from mimicast.client.auth import (
    LOGIN_PATH,
    Keys,
    LoginCredentials,
    discover_request,
    login_request,
    realm_of,
)
from mimicast.client.base import DISCOVER_PATH, ClientBase, login_entry, no_cookies
from mimicast.client.regions import DISCOVERY_URL


class AsyncClient(ClientBase):
    """The asyncio twin of `Client`: the same arguments, `await`ed calls and methods,
    `await AsyncClient.login(...)`, `async with`, `await client.close()`."""

    _is_async = True

    def __init__(self, base_url: str | None, app_id: str, app_key: str, access_key: str,
                 secret_key: str, *, region: str | None = None, timeout: float = 30.0,
                 max_retries: int = 3, backoff: float = 0.5, max_backoff: float = 8.0,
                 max_rate_wait: float = 60.0, credentials: LoginCredentials | None = None,
                 event_hooks: Mapping[str, list[Callable[..., Any]]] | None = None) -> None:
        url, auth = self._setup(base_url, app_id, app_key, access_key, secret_key,
                                region=region, max_retries=max_retries, backoff=backoff,
                                max_backoff=max_backoff, max_rate_wait=max_rate_wait,
                                credentials=credentials)
        self._http = httpx.AsyncClient(base_url=url, auth=auth, timeout=timeout,
                                       cookies=no_cookies(), headers=transport.JSON_HEADERS,
                                       event_hooks=dict(event_hooks or {}))

    @classmethod
    def for_region(cls, region: str, app_id: str, app_key: str, access_key: str,
                   secret_key: str, **options: Any) -> AsyncClient:
        return cls(None, app_id, app_key, access_key, secret_key, region=region, **options)

    @login_entry
    async def login(cls: type[AsyncClient], email: str, password: str, app_id: str,
                    app_key: str, *, auth_type: str = "cloud", base_url: str | None = None,
                    region: str | None = None, discovery_url: str = DISCOVERY_URL,
                    **options: Any) -> AsyncClient:
        """Discover, log in, and keep the credentials to refresh an expired binding.

        Discovery asks `base_url` (or the `region`'s host) when given — `mimicast serve`
        answers discovery and the API on one host — else `discovery_url`. Calls then go to
        `base_url`/`region` when given, else to the `region.api` discovery returned.
        """
        realm = realm_of(auth_type)
        explicit = base_url or None
        client = cls(None if region else (explicit or discovery_url), app_id, app_key, "", "",
                     region=region, **options)
        try:
            host = str(client._http.base_url).rstrip("/")
            reply = await client._send(
                DISCOVER_PATH, lambda: discover_request(host, app_id, email), signed=False)
            discovered = transport.outcome(reply, partial=False)
            api = host if (explicit or region) else transport.discovered_api(discovered, host)
            client._http.base_url = httpx.URL(api)
            credentials = LoginCredentials(realm, email, password)
            reply = await client._send(
                LOGIN_PATH, lambda: login_request(api + LOGIN_PATH, app_id, credentials),
                signed=False)
            answer = transport.outcome(reply, partial=False)
            access_key, secret_key = transport.login_keys(answer, LOGIN_PATH)
            client._auth.set_keys(Keys(access_key, secret_key))
            client._auth.credentials = credentials
        except BaseException:
            await client.close()
            raise
        return client

    async def call(self, path: str, data: Any = None, meta: dict[str, Any] | None = None, *,
             partial: bool = False) -> Any:
        """A signed call; the envelope's `data`, or `(data, failures)` when `partial`.

        Fail entries raise the matching `MimicastError` subclass, carrying every error; with
        `partial=True` per-item failures are returned instead (request-level ones still raise).
        """
        body = transport.request_body(data, meta)
        return transport.outcome(await self._send(path, lambda: self._http.build_request(
            "POST", path, content=body), signed=True), partial)

    async def _send(self, path: str, build: Callable[[], httpx.Request], *,
              signed: bool) -> transport.Reply:
        attempt = 0
        while True:
            try:
                # A fresh request per attempt: a new x-mc-date and x-mc-req-id each time.
                response = await self._http.send(build(), auth=httpx.USE_CLIENT_DEFAULT if signed
                                           else None)
            except httpx.TransportError as exc:
                delay = transport.connection_delay(self.policy, attempt)
                if delay is None:
                    raise transport.connection_error(exc, path) from exc
            else:
                reply = transport.read(response, path)
                delay = transport.retry_delay(self.policy, reply, attempt)
                if delay is None:
                    return reply
            await asyncio.sleep(delay)
            attempt += 1

    @property
    def base_url(self) -> str:
        """Where calls go (after a login: the regional URL discovery returned)."""
        return str(self._http.base_url).rstrip("/")

    async def close(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

