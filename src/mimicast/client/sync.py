"""The synchronous client: one httpx connection pool, signed calls, retries, typed resources.

The conversations themselves (retries, login, paging) are `flows`; this module only drives
them with blocking I/O.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import httpx

from mimicast.client import flows, transport
from mimicast.client.auth import LoginCredentials, realm_of
from mimicast.client.base import ClientBase, login_entry, no_cookies
from mimicast.client.paging import Page, Pager, page_meta, records
from mimicast.client.regions import DISCOVERY_URL
from mimicast.client.siem import Siem

T = TypeVar("T")


class Client(ClientBase):
    """A Mimecast API 1.0 client (real Mimecast or `mimicast serve`).

    From keys: `Client(base_url, app_id, app_key, access_key, secret_key)` (or `region="eu"`
    instead of a base URL). From a password: `Client.login(email, password, app_id, app_key)`.
    Namespaces are attributes: `client.domain.get_verification_code(domain="example.com")`.
    """

    def __init__(self, base_url: str | None, app_id: str, app_key: str, access_key: str,
                 secret_key: str, *, region: str | None = None, timeout: float = 30.0,
                 max_retries: int = 3, backoff: float = 0.5, max_backoff: float = 8.0,
                 max_rate_wait: float = 60.0, credentials: LoginCredentials | None = None,
                 event_hooks: Mapping[str, list[Callable[..., Any]]] | None = None) -> None:
        url, auth = self._setup(base_url, app_id, app_key, access_key, secret_key,
                                region=region, max_retries=max_retries, backoff=backoff,
                                max_backoff=max_backoff, max_rate_wait=max_rate_wait,
                                credentials=credentials)
        self._pool = httpx.HTTPTransport()
        self._http = httpx.Client(base_url=url, auth=auth, timeout=timeout, cookies=no_cookies(),
                                  headers=transport.JSON_HEADERS, transport=self._pool,
                                  event_hooks=dict(event_hooks or {}))
        self._timeout = httpx.Timeout(timeout).as_dict()
        # Without event hooks, signed calls skip httpx.Client.send (redirects, hooks, cookies,
        # timing: a third of a call's cost) and run the auth flow on the pool directly.
        self._direct = not event_hooks

    @classmethod
    def for_region(cls, region: str, app_id: str, app_key: str, access_key: str,
                   secret_key: str, **options: Any) -> Client:
        return cls(None, app_id, app_key, access_key, secret_key, region=region, **options)

    @login_entry
    def login(cls: type[Client], email: str, password: str, app_id: str, app_key: str, *,
              auth_type: str = "cloud", base_url: str | None = None, region: str | None = None,
              discovery_url: str = DISCOVERY_URL, **options: Any) -> Client:
        """Discover, log in, and keep the credentials to refresh an expired binding.

        Discovery asks `base_url` (or the `region`'s host) when given — `mimicast serve`
        answers discovery and the API on one host — else `discovery_url`. Calls then go to
        `base_url`/`region` when given, else to the `region.api` discovery returned.
        """
        credentials = LoginCredentials(realm_of(auth_type), email, password)
        client = cls(None if region else (base_url or discovery_url), app_id, app_key, "", "",
                     region=region, **options)
        try:
            client._drive(flows.login(client.policy, client._http, client._auth, credentials,
                                      follow_region=not (base_url or region)))
        except BaseException:
            client.close()
            raise
        return client

    def call(self, path: str, data: Any = None, meta: dict[str, Any] | None = None, *,
             partial: bool = False) -> Any:
        """A signed call; the envelope's `data`, or `(data, failures)` when `partial`.

        Fail entries raise the matching `MimicastError` subclass, carrying every error; with
        `partial=True` per-item failures are returned instead (request-level ones still raise).
        """
        return transport.outcome(self._drive(self._call_flow(path, data, meta)), partial)

    def page(self, path: str, data: Any = None, *, page_size: int | None = None,
             page_token: str | None = None, items_key: str | None = None) -> Page[Any]:
        """One page of a list endpoint; `items_key` names the wrapper's list ("users", …)."""
        reply = self._drive(self._call_flow(path, data, page_meta(page_size, page_token)))
        answer = transport.outcome(reply, partial=False)
        pagination = reply.meta.get("pagination")
        return Page(records(answer, items_key), answer,
                    pagination if isinstance(pagination, dict) else {})

    def paginate(self, path: str, data: Any = None, *, page_size: int | None = None,
                 page_token: str | None = None, items_key: str | None = None) -> Pager[Any]:
        """Every page of a list endpoint: iterate it for the records, `.pages()` for pages."""
        return Pager(lambda token: self.page(path, data, page_size=page_size, page_token=token,
                                             items_key=items_key), page_token)

    def upload_file(self, content: bytes, *, filename: str | None = None,
                    content_type: str | None = None) -> str:
        """Upload a file to attach to messages: `file/file-upload` announces it by SHA-256
        and size, then the bytes are PUT to the URL it answered. Returns the file's id, for
        `client.email.send_email(..., attachments=[{"id": id}])`; `filename` and
        `content_type` are what the attachment is called and typed unless a send says
        otherwise."""
        return self._drive(flows.upload(
            self.policy, self._endpoint_url(self._http.base_url, flows.FILE_UPLOAD_PATH),
            self._timeout, content, filename, content_type))

    @functools.cached_property
    def siem(self) -> Siem:
        """The SIEM log collector: `client.siem.download(directory)` saves every file not
        fetched yet, `client.siem.events()` yields their records (see `mimicast.client.siem`)."""
        return Siem(self)

    def _call_flow(self, path: str, data: Any, meta: dict[str, Any] | None
                   ) -> flows.Flow[transport.Reply]:
        return flows.call(self.policy, self._endpoint_url(self._http.base_url, path),
                          self._timeout, path, data, meta)

    def _drive(self, flow: flows.Flow[T]) -> T:
        step = next(flow)
        while True:
            try:
                if isinstance(step, flows.Sleep):
                    time.sleep(step.seconds)
                    step = flow.send(None)
                    continue
                try:
                    if step.signed and self._direct:
                        response = self._send_signed(step.request)
                    else:
                        response = self._http.send(
                            step.request, auth=httpx.USE_CLIENT_DEFAULT if step.signed
                            else None)
                except httpx.TransportError as exc:
                    step = flow.send(exc)
                else:
                    step = flow.send(response)
            except StopIteration as done:
                result: T = done.value
                return result

    def _send_signed(self, request: httpx.Request) -> httpx.Response:
        """The auth flow (sign; on 418 refresh and sign again) run on the pool, as
        httpx.Client.send runs it, minus what this API never needs."""
        flow = self._auth.sync_auth_flow(request)
        request = next(flow)
        while True:
            response = self._pool.handle_request(request)
            response.request = request
            response.read()
            try:
                request = flow.send(response)
            except StopIteration:
                return response

    @property
    def base_url(self) -> str:
        """Where calls go (after a login: the regional URL discovery returned)."""
        return str(self._http.base_url).rstrip("/")

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
