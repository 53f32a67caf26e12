"""Request signing as an httpx `Auth` flow, with the transparent refresh of an expired binding.

One generator serves both clients: httpx drives it synchronously for `Client` and through
`async_auth_flow` for `AsyncClient`. The signature itself is `mimicast.wire.signing`, the code
the server verifies with.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass

import httpx
import orjson

from mimicast.client import errors
from mimicast.wire import signing

BINDING_EXPIRED = 418
LOGIN_PATH = "/api/login/login"
DISCOVER_PATH = "/api/login/discover-authentication"
REALMS = {"cloud": signing.REALM_CLOUD, "domain": signing.REALM_DOMAIN}


@dataclass(frozen=True)
class Keys:
    access_key: str
    secret_key: str


@dataclass(frozen=True)
class LoginCredentials:
    """What a refresh needs: the realm (`Basic-Cloud` / `Basic-AD`), address and password."""

    realm: str
    email: str
    password: str


def realm_of(auth_type: str) -> str:
    try:
        return REALMS[auth_type.strip().lower()]
    except KeyError:
        raise ValueError(f"auth_type must be 'cloud' or 'domain', not {auth_type!r}") from None


def login_request(url: httpx.URL | str, app_id: str, credentials: LoginCredentials,
                  access_key: str | None = None) -> httpx.Request:
    """The unsigned login call: a new binding, or with `access_key` a refresh of that one."""
    item: dict[str, str] = {"userName": credentials.email}
    if access_key:
        item["accessKey"] = access_key
    headers = {"Authorization": signing.basic(credentials.realm, credentials.email,
                                              credentials.password),
               "x-mc-app-id": app_id, "x-mc-date": signing.request_date(),
               "x-mc-req-id": signing.request_id(), "Content-Type": "application/json",
               "Accept": "application/json"}
    return httpx.Request("POST", url, headers=headers, content=orjson.dumps({"data": [item]}))


def discover_request(host: str, app_id: str, email: str) -> httpx.Request:
    """The unsigned discover-authentication call for one address."""
    return httpx.Request("POST", host + DISCOVER_PATH, headers={
        "Content-Type": "application/json", "Accept": "application/json",
        "x-mc-app-id": app_id, "x-mc-date": signing.request_date(),
        "x-mc-req-id": signing.request_id()},
        content=orjson.dumps({"data": [{"emailAddress": email}]}))


class MimecastAuth(httpx.Auth):
    """Adds `Authorization: MC accessKey:sig`, `x-mc-app-id`, `x-mc-date` and `x-mc-req-id`.

    On 418 with stored login credentials it logs in again with the current accessKey (which
    renews the same binding) and sends the request once more, signed afresh.
    """

    # The refresh reads the login response; the 418 body is small and read anyway.
    requires_response_body = True

    def __init__(self, app_id: str, app_key: str, keys: Keys, *,
                 credentials: LoginCredentials | None = None) -> None:
        self.app_id = app_id
        self.app_key = app_key
        self.credentials = credentials
        self.refreshes = 0
        self.set_keys(keys)

    @property
    def keys(self) -> Keys:
        return self._keys

    def set_keys(self, keys: Keys) -> None:
        # One assignment of an immutable pair: a thread signing concurrently sees old or new
        # keys, never half of each.
        self._signer = (keys, signing.decode_secret(keys.secret_key) if keys.secret_key else b"")
        self._keys = keys

    def sign(self, request: httpx.Request) -> None:
        keys, secret = self._signer
        date, request_id = signing.request_date(), signing.request_id()
        # The path as sent, without the query string: what the seeds' sample code signs.
        uri = request.url.raw_path.split(b"?", 1)[0].decode("ascii")
        sig = signing.signature(secret, date, request_id, uri, self.app_key)
        request.headers["Authorization"] = signing.authorization(keys.access_key, sig)
        request.headers["x-mc-app-id"] = self.app_id
        request.headers["x-mc-date"] = date
        request.headers["x-mc-req-id"] = request_id

    def auth_flow(self, request: httpx.Request
                  ) -> Generator[httpx.Request, httpx.Response, None]:
        used = self._keys
        self.sign(request)
        response = yield request
        if response.status_code != BINDING_EXPIRED or self.credentials is None:
            return
        if self._keys == used:
            # Another call may have refreshed meanwhile; then its keys are simply used.
            login_url = request.url.copy_with(
                raw_path=_login_raw_path(request.url.raw_path), query=None)
            answer = yield login_request(login_url, self.app_id, self.credentials,
                                         used.access_key)
            self.set_keys(_refreshed_keys(answer, used, str(request.url.path)))
            self.refreshes += 1
        self.sign(request)
        yield request


def _login_raw_path(raw_path: bytes) -> bytes:
    """The login path under the same prefix as the call (a base URL may carry a path)."""
    path = raw_path.split(b"?", 1)[0]
    index = path.rfind(b"/api/")
    prefix = path[:index] if index > 0 else b""
    return prefix + LOGIN_PATH.encode()


def _refreshed_keys(response: httpx.Response, used: Keys, path: str) -> Keys:
    """The keys from a refresh login; BindingExpiredError with the login's errors otherwise."""
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        body = None
    data = body.get("data") if isinstance(body, dict) else None
    first = data[0] if isinstance(data, list) and data else None
    if response.status_code == 200 and isinstance(first, dict) and first.get("secretKey"):
        return Keys(str(first.get("accessKey") or used.access_key), str(first["secretKey"]))
    failures = errors.parse_failures(body.get("fail") if isinstance(body, dict) else None)
    details = [e for f in failures for e in f.errors] or [errors.ErrorDetail(
        "err_refresh_failed", f"the refresh login answered HTTP {response.status_code}")]
    raise errors.BindingExpiredError(
        details, status=BINDING_EXPIRED, path=path,
        message="the access key expired and refreshing it failed: "
                + "; ".join(f"{d.code}: {d.message}" for d in details))
