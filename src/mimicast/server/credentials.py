"""The signed-call check, with a short-lived cache of applications and bindings so the hot
path makes no database round trip. Entries live `cache_seconds` (1 s by default): a revoked
binding or application stops working within that time, on every worker."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from mimicast.server.singleflight import SingleFlight
from mimicast.server.storethreads import StoreThreads
from mimicast.services import auth
from mimicast.services.auth import AppRecord, BindingRecord
from mimicast.services.context import Deps, Revocations
from mimicast.services.ttlcache import TtlCache
from mimicast.wire import signing
from mimicast.wire.errors import ApiError


@dataclass(frozen=True)
class SignedRequest:
    app_id: str
    authorization: str
    date: str
    request_id: str
    path: str
    query: str
    # Where the client addressed the request, for clients that sign the full URL.
    scheme: str
    host: str

    def uris(self) -> Iterator[str]:
        """The uri forms a client may have signed, most common first, built as needed."""
        yield self.path
        with_query = f"{self.path}?{self.query}" if self.query else self.path
        if self.query:
            yield with_query
        yield f"{self.scheme}://{self.host}{with_query}"


@dataclass(frozen=True)
class Verified:
    binding: BindingRecord
    app: AppRecord


class Denied(Exception):
    """A failed check; `expected` is the string-to-sign, for the opt-in explain mode: set only
    once the access key is known to belong to the application, and with the app key itself
    replaced by a placeholder naming the application (see `explained`)."""

    def __init__(self, error: ApiError, expected: str | None = None,
                 binding: BindingRecord | None = None) -> None:
        super().__init__(error.message)
        self.error = error
        self.expected = expected
        self.binding = binding


def explained(request: SignedRequest, app_id: str) -> str:
    """The string the server signs, as `--explain-auth` shows it: the caller holds the app key
    (or should), so the answer names which one goes there rather than disclosing it."""
    return signing.data_to_sign(request.date, request.request_id, request.path,
                                f"<app key of application {app_id}>")


class Credentials:
    def __init__(self, deps: Deps, store: StoreThreads, ttl: float,
                 clock: Callable[[], datetime]) -> None:
        self._deps = deps
        self._store = store
        self._apps: TtlCache[AppRecord | ApiError] = TtlCache(ttl)
        self._bindings: TtlCache[BindingRecord | None] = TtlCache(ttl)
        self._loads = SingleFlight(store.read)
        self._clock = clock

    async def application(self, app_id: str) -> AppRecord:
        record = self._apps.get(app_id)
        if record is None:
            record = await self._loads.run(("app", app_id), self._load_app, app_id)
            self._apps.put(app_id, record)
        if isinstance(record, ApiError):
            raise record
        return record

    def _load_app(self, app_id: str) -> AppRecord | ApiError:
        with self._deps.store.unit(write=False) as unit:
            try:
                return auth.load_application(self._deps, unit.session, app_id)
            except ApiError as error:
                return error

    async def binding(self, access_key: str, fresh: bool = False) -> BindingRecord | None:
        if not fresh:
            cached = self._bindings.get(access_key)
            if cached is not None:
                return cached
        record = await self._loads.run(("binding", access_key), self._load_binding, access_key)
        if record is not None:  # unknown keys are not cached: they would only fill memory
            self._bindings.put(access_key, record)
        return record

    def _load_binding(self, access_key: str) -> BindingRecord | None:
        with self._deps.store.unit(write=False) as unit:
            return auth.load_binding(self._deps, unit.session, access_key)

    async def verify(self, request: SignedRequest) -> Verified:
        """app id → binding → HMAC (constant time) → usable → expiry (418)."""
        if not request.app_id:
            # Neither header: the spec's "credentials are missing"; an Authorization without
            # an app id names no application.
            raise Denied(ApiError("err_developer_key", app_id="") if request.authorization
                         else ApiError("err_xdk_credentials_missing"))
        try:
            app = await self.application(request.app_id)
        except ApiError as error:
            raise Denied(error) from None
        if not request.authorization:
            raise Denied(ApiError("err_xdk_credentials_missing"))
        parsed = signing.parse_signed(request.authorization)
        if parsed is None:
            raise Denied(ApiError("err_xdk_invalid_signature"))
        binding = await self.binding(parsed.access_key)
        if binding is None or binding.application_id != app.id:
            raise Denied(ApiError("err_xdk_invalid_signature"))
        expected = explained(request, request.app_id)
        if not signing.signature_matches(binding.secret, request.date, request.request_id,
                                         request.uris(), app.app_key, parsed.signature):
            raise Denied(ApiError("err_xdk_invalid_signature"), expected)
        if not binding.usable:
            # A revoked binding or a locked user: checked after the signature, so only the
            # key's holder learns it.
            raise Denied(ApiError("err_xdk_invalid_signature"), expected)
        now = self._clock()
        if binding.expires_at is not None and binding.expires_at <= now:
            # The cache may predate a refresh made through another worker: ask the store.
            binding = await self.binding(parsed.access_key, fresh=True)
            if binding is None or (binding.expires_at is not None and binding.expires_at <= now):
                raise Denied(ApiError("err_xdk_binding_expired"), binding=binding)
        if binding.extend_on_validate and binding.ttl_seconds:
            binding = await self._extend(parsed.access_key, binding, now)
        return Verified(binding, app)

    async def _extend(self, access_key: str, binding: BindingRecord,
                      now: datetime) -> BindingRecord:
        """Push the expiry forward; written at most once per 1/20 of the TTL, not every call."""
        assert binding.ttl_seconds is not None
        expires = now + timedelta(seconds=binding.ttl_seconds)
        step = timedelta(seconds=max(binding.ttl_seconds / 20, 0.0))
        if binding.expires_at is not None and expires - binding.expires_at < step:
            return binding
        await self._store.run(self._write_expiry, binding.id, expires)
        extended = replace(binding, expires_at=expires)
        self._bindings.put(access_key, extended)
        return extended

    def _write_expiry(self, binding_id: int, expires: datetime) -> None:
        with self._deps.store.unit() as unit:
            auth.extend_binding(unit.session, binding_id, expires)

    def forget(self, access_key: str) -> None:
        self._bindings.forget(access_key)

    def forget_revoked(self, revoked: Revocations) -> None:
        if revoked.users or revoked.bindings:
            self._bindings.forget_where(lambda record: record is not None and (
                record.id in revoked.bindings or record.user_id in revoked.users))
