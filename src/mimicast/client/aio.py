"""The asynchronous client: `Client`'s twin on `httpx.AsyncClient`, driving the same `flows`
with awaits."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import httpx

from mimicast.client import flows, transport
from mimicast.client.auth import LoginCredentials, realm_of
from mimicast.client.base import ClientBase, login_entry, no_cookies
from mimicast.client.paging import AsyncPager, Page, page_meta, records
from mimicast.client.regions import DISCOVERY_URL
from mimicast.client.siem import AsyncSiem

T = TypeVar("T")


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
        self._pool = httpx.AsyncHTTPTransport()
        self._http = httpx.AsyncClient(base_url=url, auth=auth, timeout=timeout,
                                       cookies=no_cookies(), headers=transport.JSON_HEADERS,
                                       transport=self._pool, event_hooks=dict(event_hooks or {}))
        self._timeout = httpx.Timeout(timeout).as_dict()
        self._direct = not event_hooks  # see Client.__init__

    @classmethod
    def for_region(cls, region: str, app_id: str, app_key: str, access_key: str,
                   secret_key: str, **options: Any) -> AsyncClient:
        return cls(None, app_id, app_key, access_key, secret_key, region=region, **options)

    @login_entry
    async def login(cls: type[AsyncClient], email: str, password: str, app_id: str,
                    app_key: str, *, auth_type: str = "cloud", base_url: str | None = None,
                    region: str | None = None, discovery_url: str = DISCOVERY_URL,
                    **options: Any) -> AsyncClient:
        """See `Client.login`."""
        credentials = LoginCredentials(realm_of(auth_type), email, password)
        client = cls(None if region else (base_url or discovery_url), app_id, app_key, "", "",
                     region=region, **options)
        try:
            await client._drive(flows.login(client.policy, client._http, client._auth,
                                            credentials, follow_region=not (base_url or region)))
        except BaseException:
            await client.close()
            raise
        return client

    async def call(self, path: str, data: Any = None, meta: dict[str, Any] | None = None, *,
                   partial: bool = False) -> Any:
        """See `Client.call`."""
        return transport.outcome(await self._drive(self._call_flow(path, data, meta)), partial)

    async def page(self, path: str, data: Any = None, *, page_size: int | None = None,
                   page_token: str | None = None, items_key: str | None = None) -> Page[Any]:
        """See `Client.page`."""
        reply = await self._drive(self._call_flow(path, data, page_meta(page_size, page_token)))
        answer = transport.outcome(reply, partial=False)
        pagination = reply.meta.get("pagination")
        return Page(records(answer, items_key), answer,
                    pagination if isinstance(pagination, dict) else {})

    def paginate(self, path: str, data: Any = None, *, page_size: int | None = None,
                 page_token: str | None = None, items_key: str | None = None
                 ) -> AsyncPager[Any]:
        """See `Client.paginate`: `async for record in client.paginate(...)`."""
        return AsyncPager(lambda token: self.page(path, data, page_size=page_size,
                                                  page_token=token, items_key=items_key),
                          page_token)

    async def upload_file(self, content: bytes, *, filename: str | None = None,
                          content_type: str | None = None) -> str:
        """See `Client.upload_file`."""
        return await self._drive(flows.upload(
            self.policy, self._endpoint_url(self._http.base_url, flows.FILE_UPLOAD_PATH),
            self._timeout, content, filename, content_type))

    @functools.cached_property
    def siem(self) -> AsyncSiem:
        """See `Client.siem`: `await client.siem.download(directory)`, `async for event in
        client.siem.events()`."""
        return AsyncSiem(self)

    def _call_flow(self, path: str, data: Any, meta: dict[str, Any] | None
                   ) -> flows.Flow[transport.Reply]:
        return flows.call(self.policy, self._endpoint_url(self._http.base_url, path),
                          self._timeout, path, data, meta)

    async def _drive(self, flow: flows.Flow[T]) -> T:
        step = next(flow)
        while True:
            try:
                if isinstance(step, flows.Sleep):
                    await asyncio.sleep(step.seconds)
                    step = flow.send(None)
                    continue
                try:
                    if step.signed and self._direct:
                        response = await self._send_signed(step.request)
                    else:
                        response = await self._http.send(
                            step.request, auth=httpx.USE_CLIENT_DEFAULT if step.signed
                            else None)
                except httpx.TransportError as exc:
                    step = flow.send(exc)
                else:
                    step = flow.send(response)
            except StopIteration as done:
                result: T = done.value
                return result

    async def _send_signed(self, request: httpx.Request) -> httpx.Response:
        """See `Client._send_signed`."""
        flow = self._auth.async_auth_flow(request)
        request = await flow.__anext__()
        while True:
            response = await self._pool.handle_async_request(request)
            response.request = request
            await response.aread()
            try:
                request = await flow.asend(response)
            except StopAsyncIteration:
                return response

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
