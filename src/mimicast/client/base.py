"""What `Client` and `AsyncClient` share: configuration, keys, resources, the `login` name."""

from __future__ import annotations

from http.cookiejar import CookieJar
from typing import Any

import httpx

from mimicast.client import resources
from mimicast.client.auth import Keys, LoginCredentials, MimecastAuth
from mimicast.client.regions import region_url
from mimicast.client.transport import RetryPolicy


def resolve_base_url(base_url: str | None, region: str | None) -> str:
    if base_url and region:
        raise ValueError("give base_url or region, not both")
    if region:
        return region_url(region)
    if not base_url:
        raise ValueError("a base_url or a region is required")
    return base_url.rstrip("/")


class login_entry:  # noqa: N801 - used as a decorator, like classmethod
    """`Client.login(...)` is the log-in constructor; `client.login` is the login namespace
    (`client.login.logout()`). One name, two meanings, told apart by how it is reached."""

    def __init__(self, constructor: Any) -> None:
        self._constructor: classmethod[Any, Any, Any] = classmethod(constructor)
        self.__doc__ = constructor.__doc__

    def __get__(self, instance: Any, owner: type) -> Any:
        if instance is None:
            return self._constructor.__get__(None, owner)
        return instance._resource("login")


__all__ = ["ClientBase", "login_entry", "resolve_base_url"]


class _NoCookies(CookieJar):
    """The API sets no cookies; parsing every response for them costs ~10% of a call."""

    def extract_cookies(self, response: Any, request: Any) -> None:
        return None


def no_cookies() -> CookieJar:
    # The jar itself, not httpx.Cookies(jar): the client copies a Cookies object into a
    # plain CookieJar, which would parse every response again.
    return _NoCookies()


class ClientBase:
    """Keys, retry policy and the lazily attached namespace resources."""

    _is_async = False

    def _setup(self, base_url: str | None, app_id: str, app_key: str, access_key: str,
               secret_key: str, *, region: str | None, max_retries: int, backoff: float,
               max_backoff: float, max_rate_wait: float,
               credentials: LoginCredentials | None) -> tuple[str, MimecastAuth]:
        self.policy = RetryPolicy(max_retries=max_retries, backoff=backoff,
                                  max_backoff=max_backoff, max_rate_wait=max_rate_wait)
        self.app_id = app_id
        self.app_key = app_key
        auth = MimecastAuth(app_id, app_key, Keys(access_key, secret_key),
                            credentials=credentials)
        self._auth = auth
        self._url_base: httpx.URL | None = None
        self._urls: dict[str, httpx.URL] = {}
        return resolve_base_url(base_url, region), auth

    @property
    def access_key(self) -> str:
        """The current access key (it survives a refresh unchanged on Mimecast and mimicast)."""
        return self._auth.keys.access_key

    @property
    def secret_key(self) -> str:
        return self._auth.keys.secret_key

    @property
    def refreshes(self) -> int:
        """How many times an expired binding was refreshed transparently."""
        return self._auth.refreshes

    def _endpoint_url(self, base: httpx.URL, path: str) -> httpx.URL:
        """`base` + `path`, parsed once: URL parsing is a tenth of a call's cost otherwise.
        The cache is dropped when the base changes (a login moves to the regional host)."""
        if base is not self._url_base:
            self._url_base, self._urls = base, {}
        url = self._urls.get(path)
        if url is None:
            url = base.copy_with(raw_path=base.raw_path + path.lstrip("/").encode("ascii"))
            self._urls[path] = url
        return url

    def _resource(self, name: str) -> resources.Resource:
        resource = self.__dict__.get(name)
        if resource is None:
            resource = resources.resource_class(name, self._is_async)(self)
            # Attached to the instance: the next access is a plain attribute lookup.
            self.__dict__[name] = resource
        return resource

    def __getattr__(self, name: str) -> Any:
        # Only reached when normal lookup fails: namespaces are attached on first use.
        if not name.startswith("_") and name in resources.namespaces():
            return self._resource(name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(resources.namespaces()))
