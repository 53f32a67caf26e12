"""Discovery, login (new binding or refresh), logout, and the credential records the server's
signature check needs."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mimicast.services import audit
from mimicast.services.context import Caller, Context, Deps
from mimicast.services.crypto import digest, verify_password_in_constant_work
from mimicast.services.identity import user_permissions
from mimicast.services.profiles import NEVER_MS, effective_profile
from mimicast.store.schema import Account, Application, Binding, User
from mimicast.wire import signing
from mimicast.wire.errors import ApiError

AUTH_TYPES = {signing.REALM_CLOUD: "cloud", signing.REALM_DOMAIN: "domain"}


def discover(session: Session, email: str, base_url: str) -> dict[str, object]:
    """What `discover-authentication` answers for a known address."""
    address = email.strip().lower()
    user = session.scalar(select(User).where(User.email == address))
    if user is None:
        raise ApiError("err_discover_unknown_address", field="emailAddress", email=address)
    methods = []
    if user.password_hash:
        methods.append(signing.REALM_CLOUD)
    if user.domain_password_hash:
        methods.append(signing.REALM_DOMAIN)
    return {"emailAddress": address, "emailToken": secrets.token_urlsafe(24),
            "authenticate": methods, "region": {"api": base_url, "name": _region(session, user)}}


def _region(session: Session, user: User) -> str:
    return session.scalar(select(Account.region).where(Account.id == user.account_id)) or ""


@dataclass(frozen=True)
class LoginAttempt:
    """What a login reads before the password is checked (in a read unit, so the slow check
    holds no transaction)."""

    app_id: int
    account_id: int
    email: str
    user_id: int | None  # None: no such user in the application's account
    stored_hash: str | None  # the hash of the realm's password, None when there is none

    def failure(self) -> ApiError:
        """The answer to a wrong password. A user without this realm's password learns that
        (as discovery's `authenticate` already says); anything else reads the same."""
        if self.user_id is not None and self.stored_hash is None:
            return ApiError("err_xdk_auth_type_not_supported")
        return ApiError("err_xdk_authentication_failed")


def login_attempt(session: Session, *, app_id: str, credentials: signing.BasicCredentials,
                  user_name: str | None) -> LoginAttempt:
    """Read what checking these credentials needs; `err_developer_key` for a bad app id."""
    app = active_application(session, app_id)
    email = credentials.email.strip().lower()
    user = session.scalar(select(User).where(User.email == email))
    mismatch = bool(user_name) and str(user_name).strip().lower() != email
    if user is None or user.account_id != app.account_id or mismatch:
        # Same path as a wrong password: an address's existence is not for strangers.
        return LoginAttempt(app.id, app.account_id, email, None, None)
    stored = (user.password_hash if credentials.realm == signing.REALM_CLOUD
              else user.domain_password_hash)
    return LoginAttempt(app.id, app.account_id, email, user.id, stored)


def complete_login(deps: Deps, session: Session, attempt: LoginAttempt, realm: str,
                   access_key: str | None) -> dict[str, object]:
    """After the password matched: mint a binding, or (with `access_key`) refresh that one."""
    user = session.get(User, attempt.user_id) if attempt.user_id is not None else None
    app = session.get(Application, attempt.app_id)
    if app is None or app.revoked_at is not None:
        raise ApiError("err_developer_key", app_id="")
    if user is None:
        raise ApiError("err_xdk_authentication_failed")
    if user.locked or user.disabled:
        raise ApiError("err_xdk_user_locked")

    ctx = Context(deps, session, Caller(account_id=user.account_id, actor=user.email,
                                        user_id=user.id))
    profile = effective_profile(session, user.account_id, user.email)
    now = ctx.now()
    expires = now + timedelta(seconds=profile.ttl_seconds) if profile.ttl_seconds else None
    if access_key:
        binding = session.scalar(select(Binding).where(
            Binding.access_key_hash == digest(access_key), Binding.user_id == user.id,
            Binding.application_id == app.id, Binding.revoked_at.is_(None)))
        if binding is None:
            raise ApiError("err_xdk_binding_not_found")
        secret_key = deps.vault.decrypt(binding.secret_key_enc)
        event = "Binding refreshed"
    else:
        _check_binding_limit(session, user, app, now)
        access_key, secret_key = signing.new_access_key(), signing.new_secret_key()
        binding = Binding(account_id=user.account_id, user_id=user.id, application_id=app.id,
                          access_key_hash=digest(access_key), access_key_hint=access_key[:8],
                          secret_key_enc=deps.vault.encrypt(secret_key), created_at=now)
        session.add(binding)
        event = "Binding created"
    binding.ttl_seconds = profile.ttl_seconds
    binding.extend_on_validate = profile.extend_on_validate
    binding.expires_at = expires
    audit.record(ctx, audit.AUTHENTICATION, event,
                 f"{user.email} via {AUTH_TYPES[realm]} password, app {app.name}")
    return {
        "accessKey": access_key,
        "secretKey": secret_key,
        "duration": profile.ttl_seconds * 1000 if profile.ttl_seconds else NEVER_MS,
        "bindingType": "one_step",
        "extendOnValidate": profile.extend_on_validate,
        "username": user.email,
    }


def login(deps: Deps, session: Session, *, app_id: str, credentials: signing.BasicCredentials,
          user_name: str | None, access_key: str | None) -> dict[str, object]:
    """Every step of a login in one go, on one session (the CLI and tests; the server runs the
    steps apart, with throttling and the password check on a bounded pool)."""
    attempt = login_attempt(session, app_id=app_id, credentials=credentials,
                            user_name=user_name)
    if not verify_password_in_constant_work(attempt.stored_hash, credentials.password):
        raise attempt.failure()
    return complete_login(deps, session, attempt, credentials.realm, access_key)


def record_login_failure(deps: Deps, session: Session, attempt: LoginAttempt, client: str,
                         throttled_ms: int) -> None:
    """A failed login to a known user, in its account's audit trail; and whether the address
    is now throttled."""
    if attempt.user_id is None:
        return
    ctx = Context(deps, session, Caller(account_id=attempt.account_id, actor=attempt.email,
                                        user_id=attempt.user_id))
    audit.record(ctx, audit.AUTHENTICATION, "Login failed", f"{attempt.email} from {client}")
    if throttled_ms:
        audit.record(ctx, audit.AUTHENTICATION, "Login throttled",
                     f"{attempt.email} from {client}: no logins for {throttled_ms / 1000:g} s")


def _check_binding_limit(session: Session, user: User, app: Application, now: datetime) -> None:
    limit = session.scalar(select(Account.max_bindings).where(Account.id == user.account_id)) or 0
    active = session.scalar(select(func.count()).select_from(Binding).where(
        Binding.user_id == user.id, Binding.application_id == app.id,
        Binding.revoked_at.is_(None),
        (Binding.expires_at.is_(None)) | (Binding.expires_at > now)))
    if (active or 0) >= limit:
        raise ApiError("err_xdk_binding_limit")


def logout(ctx: Context, binding_id: int, access_key: str | None) -> None:
    """End the binding named by `access_key` (one of the caller's), or the calling binding."""
    query = select(Binding).where(Binding.user_id == ctx.caller.user_id,
                                  Binding.revoked_at.is_(None))
    query = (query.where(Binding.access_key_hash == digest(access_key)) if access_key
             else query.where(Binding.id == binding_id))
    binding = ctx.session.scalar(query)
    if binding is None:
        raise ApiError("err_xdk_binding_not_found")
    binding.revoked_at = ctx.now()
    ctx.revoked.bindings.add(binding.id)
    audit.record(ctx, audit.AUTHENTICATION, "Logout",
                 f"binding {binding.id} ({binding.access_key_hint}…)")


# What the signed-call check reads --------------------------------------------------------------

@dataclass(frozen=True)
class AppRecord:
    id: int
    account_id: int
    app_key: str


@dataclass(frozen=True)
class BindingRecord:
    id: int
    account_id: int
    application_id: int
    user_id: int
    email: str
    secret: bytes  # the decoded secret key: the HMAC key
    expires_at: datetime | None
    ttl_seconds: int | None
    extend_on_validate: bool
    usable: bool  # not revoked, user neither locked nor disabled
    permissions: frozenset[str]
    rate_limit: int
    rate_window_ms: int


def active_application(session: Session, app_id: str) -> Application:
    app = session.scalar(select(Application).where(Application.app_id == app_id.strip()))
    if app is None or app.revoked_at is not None:
        raise ApiError("err_developer_key", app_id=app_id)
    return app


def load_application(deps: Deps, session: Session, app_id: str) -> AppRecord:
    app = active_application(session, app_id)
    return AppRecord(app.id, app.account_id, deps.vault.decrypt(app.app_key_enc))


def load_binding(deps: Deps, session: Session, access_key: str) -> BindingRecord | None:
    row = session.execute(select(Binding, User, Account)
                          .join(User, User.id == Binding.user_id)
                          .join(Account, Account.id == Binding.account_id)
                          .where(Binding.access_key_hash == digest(access_key))).first()
    if row is None:
        return None
    binding, user, account = row
    return BindingRecord(
        id=binding.id, account_id=binding.account_id, application_id=binding.application_id,
        user_id=user.id, email=user.email,
        secret=signing.decode_secret(deps.vault.decrypt(binding.secret_key_enc)),
        expires_at=binding.expires_at, ttl_seconds=binding.ttl_seconds,
        extend_on_validate=binding.extend_on_validate,
        usable=binding.revoked_at is None and not user.locked and not user.disabled,
        permissions=user_permissions(session, user.id),
        rate_limit=account.rate_limit, rate_window_ms=account.rate_window_ms)


def extend_binding(session: Session, binding_id: int, expires_at: datetime) -> None:
    binding = session.get(Binding, binding_id)
    if binding is not None and binding.revoked_at is None:
        binding.expires_at = expires_at
