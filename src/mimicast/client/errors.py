"""The SDK's exceptions: one base class carrying every error of a response, one subclass per
kind of failure, chosen from the HTTP status and the error codes of the `wire` table."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ErrorDetail:
    """One element of a fail entry's `errors`, with the entry's `key` (the request item the
    server echoed; None for request-level failures)."""

    code: str
    message: str
    retryable: bool = False
    field: str | None = None
    key: Any = None


@dataclass(frozen=True)
class Failure:
    """One `fail[]` entry: the offending request item (`key`, when there is one) and its errors."""

    key: Any
    errors: list[ErrorDetail] = field(default_factory=list)


def parse_failures(fail: Any) -> list[Failure]:
    """The envelope's `fail` list as Failures; anything malformed is kept, never dropped."""
    failures: list[Failure] = []
    for entry in fail if isinstance(fail, list) else []:
        if not isinstance(entry, dict):
            failures.append(Failure(None, [ErrorDetail("err_unknown", repr(entry))]))
            continue
        key = entry.get("key")
        details = [
            ErrorDetail(code=str(e.get("code", "err_unknown")), message=str(e.get("message", "")),
                        retryable=bool(e.get("retryable", False)), field=e.get("field"), key=key)
            for e in entry.get("errors") or [] if isinstance(e, dict)
        ]
        failures.append(Failure(key, details))
    return failures


class MimicastError(Exception):
    """A call failed. `errors` holds every error of every fail entry; `code`, `message`,
    `retryable`, `field` and `key` are those of the first. `data` keeps what did succeed in a
    multi-item call."""

    def __init__(self, errors: Iterable[ErrorDetail], *, status: int | None = None,
                 data: list[Any] | None = None, path: str | None = None,
                 message: str | None = None, failures: list[Failure] | None = None) -> None:
        self.errors = list(errors) or [ErrorDetail("err_unknown", message or "unknown failure")]
        self.status = status
        self.data = data or []
        self.path = path
        first = self.errors[0]
        self.code = first.code
        self.message = message or first.message
        self.retryable = first.retryable
        self.field = first.field
        self.key = first.key
        self._failures = failures
        super().__init__(self._describe())

    @property
    def failures(self) -> list[Failure]:
        """The fail entries, in order: one per refused request item."""
        if self._failures is not None:
            return self._failures
        return [Failure(error.key, [error]) for error in self.errors]

    def _describe(self) -> str:
        where = f" ({self.path}, HTTP {self.status})" if self.path else ""
        more = f" (+{len(self.errors) - 1} more)" if len(self.errors) > 1 else ""
        return f"{self.code}: {self.message}{more}{where}"


class AuthenticationError(MimicastError):
    """Wrong keys, signature, app id or password (HTTP 401, or err_developer_key with 200)."""


class BindingExpiredError(AuthenticationError):
    """HTTP 418: the access key expired and could not be refreshed (no stored login, or the
    refresh itself failed)."""


class RateLimitedError(MimicastError):
    """HTTP 429 after the retries; `reset_ms` is the server's X-RateLimit-Reset."""

    def __init__(self, errors: Iterable[ErrorDetail], *, reset_ms: int | None = None,
                 **kwargs: Any) -> None:
        self.reset_ms = reset_ms
        super().__init__(errors, **kwargs)


class PermissionDeniedError(MimicastError):
    """HTTP 403: the user's roles do not allow the call."""


class ValidationError(MimicastError):
    """Request items refused with err_validation_* codes."""


class NotFoundError(MimicastError):
    """HTTP 404 (no such endpoint), or items naming objects that do not exist."""


class ServerError(MimicastError):
    """HTTP 5xx, or a response that is not the envelope."""


class TransportError(MimicastError):
    """No response: connection refused or reset, or a timeout, after the retries. The httpx
    exception is the `__cause__`."""


class ApiFailure(MimicastError):
    """Any other fail entry (e.g. err_domain_already_registered)."""


# Codes whose kind does not follow from the HTTP status: err_developer_key comes with 200, and
# a proxy or an older server may answer auth failures with another status.
_AUTH_CODES = frozenset({
    "err_developer_key", "err_xdk_credentials_missing", "err_xdk_auth_type_not_supported",
    "err_xdk_authentication_failed", "err_xdk_user_locked", "err_xdk_invalid_signature",
    "err_xdk_binding_not_found", "err_xdk_stale_request",
})
_BY_CODE: dict[str, type[MimicastError]] = {
    **{code: AuthenticationError for code in _AUTH_CODES},
    "err_xdk_binding_expired": BindingExpiredError,
    "err_rate_limit_exceeded": RateLimitedError,
    "err_xdk_forbidden": PermissionDeniedError,
    "err_xdk_operation_forbidden_for_address": PermissionDeniedError,
}
_BY_STATUS: dict[int, type[MimicastError]] = {
    401: AuthenticationError, 403: PermissionDeniedError, 404: NotFoundError,
    418: BindingExpiredError, 429: RateLimitedError,
}


def error_class(status: int, errors: list[ErrorDetail]) -> type[MimicastError]:
    """The exception class for a failed response: a known code first, then the status, then
    what all the item errors have in common."""
    for error in errors:
        if error.code in _BY_CODE:
            return _BY_CODE[error.code]
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if status >= 500:
        return ServerError
    codes = [error.code for error in errors]
    if codes and all(code.startswith("err_validation_") for code in codes):
        return ValidationError
    if codes and all(code.endswith("_not_found") for code in codes):
        return NotFoundError
    return ApiFailure


def make_error(status: int, failures: list[Failure], *, data: list[Any] | None = None,
               path: str | None = None, reset_ms: int | None = None) -> MimicastError:
    errors = [error for failure in failures for error in failure.errors]
    cls = error_class(status, errors)
    if cls is RateLimitedError:
        return RateLimitedError(errors, reset_ms=reset_ms, status=status, data=data, path=path,
                                failures=failures)
    return cls(errors, status=status, data=data, path=path, failures=failures)
