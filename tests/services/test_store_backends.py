"""The services on both stores (SQLite and PostgreSQL): migration, the objects an operator
creates, the binding lifecycle (login, refresh, limit, logout, revoke), the effective-profile
rule, secrets at rest, and the audit trail."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.fernet import InvalidToken
from sqlalchemy import inspect, select, text
from sqlalchemy.orm import Session

from mimicast.services import applications, audit, identity, profiles
from mimicast.services.auth import load_application, load_binding, login, logout
from mimicast.services.context import Caller, Context, Deps
from mimicast.services.crypto import Vault, digest
from mimicast.services.dns import make_resolver
from mimicast.services.permissions import ACCOUNT_READ, BASIC_ADMINISTRATOR
from mimicast.store.engine import Store
from mimicast.store.schema import AuditEvent, Binding
from mimicast.testing.harness import ManualClock
from mimicast.wire import signing
from mimicast.wire.errors import ApiError

START = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)


@dataclass
class World:
    deps: Deps
    clock: ManualClock
    account_id: int
    app_id: str
    app_key: str

    def ctx(self, session: Session, *, user_id: int | None = None,
            binding_id: int | None = None) -> Context:
        return Context(self.deps, session, Caller(account_id=self.account_id, actor="test",
                                                  user_id=user_id, binding_id=binding_id))


DOMAIN = "example.com"
ADMIN = f"admin@{DOMAIN}"
PASSWORD = "correct horse battery staple"


@pytest.fixture
def world(store_url: str, tmp_path: Path) -> Iterator[World]:
    store = Store(store_url)
    store.migrate()
    clock = ManualClock(START)
    deps = Deps(store=store, vault=Vault(tmp_path / "secret.key"),
                resolver=make_resolver("simulated", store.sessions), clock=clock)
    with store.session() as session:
        account = identity.create_account(session, name="Example", region="eu",
                                          admin_email=ADMIN)
        session.flush()
        ctx = Context(deps, session, Caller(account_id=account.id, actor="operator"))
        identity.add_internal_domain(ctx, DOMAIN)
        identity.create_user(ctx, ADMIN, password=PASSWORD, name="Admin")
        identity.add_role_member(ctx, BASIC_ADMINISTRATOR, ADMIN)
        app = applications.register_application(ctx, "Collector")
        session.commit()
        world = World(deps, clock, account.id, app.app_id, app.app_key)
    yield world
    store.dispose()


def do_login(world: World, access_key: str | None = None, *, email: str = ADMIN,
             password: str = PASSWORD) -> dict[str, object]:
    with world.deps.store.session() as session:
        result = login(world.deps, session, app_id=world.app_id, user_name=email,
                       access_key=access_key,
                       credentials=signing.BasicCredentials(signing.REALM_CLOUD, email,
                                                            password))
        session.commit()
        return result


def binding(world: World, access_key: str) -> Binding:
    with world.deps.store.session() as session:
        row = session.scalar(select(Binding).where(Binding.access_key_hash == digest(access_key)))
        assert row is not None
        return row


def test_migration_creates_the_schema_and_is_idempotent(world: World) -> None:
    world.deps.store.migrate()  # a second run is a no-op
    tables = set(inspect(world.deps.store.engine).get_table_names())
    assert {"accounts", "users", "roles", "role_members", "profile_groups", "group_members",
            "auth_profiles", "app_settings", "applications", "bindings", "audit_events",
            "domains", "alembic_version"} <= tables


def test_login_refresh_limit_logout_revoke(world: World) -> None:
    with world.deps.store.session() as session:
        ctx = world.ctx(session)
        group = profiles.create_group(ctx, "Integrations/SIEM")
        profiles.add_group_member(ctx, "Integrations/SIEM", ADMIN)
        profile = profiles.create_auth_profile(ctx, "SIEM", 3600, extend_on_validate=True)
        profiles.create_app_setting(ctx, "SIEM collectors", "Integrations/SIEM", str(profile.id))
        identity.get_account(session, world.account_id).max_bindings = 2
        session.commit()
        assert group.parent_id is not None

    keys = do_login(world)
    assert keys["duration"] == 3_600_000 and keys["extendOnValidate"] is True
    access_key, secret_key = str(keys["accessKey"]), str(keys["secretKey"])
    assert binding(world, access_key).expires_at == START + timedelta(hours=1)

    # What the signature check reads: the app key and the decoded secret.
    with world.deps.store.session() as session:
        assert load_application(world.deps, session, world.app_id).app_key == world.app_key
        record = load_binding(world.deps, session, access_key)
        assert record is not None and record.usable
        assert record.secret == signing.decode_secret(secret_key)
        assert ACCOUNT_READ in record.permissions
        assert load_binding(world.deps, session, "unknown") is None

    # A refresh later on: same binding, same keys, expiry pushed out.
    world.clock.now = START + timedelta(minutes=30)
    refreshed = do_login(world, access_key)
    assert (refreshed["accessKey"], refreshed["secretKey"]) == (access_key, secret_key)
    assert binding(world, access_key).expires_at == START + timedelta(minutes=90)

    # The limit: two live bindings per user and application.
    second = str(do_login(world)["accessKey"])
    with pytest.raises(ApiError) as refused:
        do_login(world)
    assert (refused.value.code, refused.value.status) == ("err_xdk_binding_limit", 409)
    assert do_login(world, access_key)["accessKey"] == access_key  # refresh at the limit

    # Logout of the second binding by the first; the slot frees up.
    with world.deps.store.session() as session:
        caller = world.ctx(session, user_id=binding(world, access_key).user_id,
                           binding_id=binding(world, access_key).id)
        logout(caller, binding(world, access_key).id, second)
        session.commit()
    assert binding(world, second).revoked_at == world.clock.now
    third = str(do_login(world)["accessKey"])

    # Revocation by an operator.
    with world.deps.store.session() as session:
        applications.revoke_binding(world.ctx(session), binding(world, third).id)
        session.commit()
        record = load_binding(world.deps, session, third)
        assert record is not None and not record.usable
    with pytest.raises(ApiError) as gone:
        do_login(world, third)
    assert gone.value.code == "err_xdk_binding_not_found"

    # Expired bindings no longer count against the limit.
    world.clock.now = START + timedelta(days=1)
    assert do_login(world)["accessKey"]


def test_login_failures_on_the_store(world: World) -> None:
    attempts: list[tuple[dict[str, str], str]] = [
        ({"password": "wrong"}, "err_xdk_authentication_failed"),
        ({"email": f"ghost@{DOMAIN}"}, "err_xdk_authentication_failed")]
    for kwargs, code in attempts:
        with pytest.raises(ApiError) as failed:
            do_login(world, **kwargs)
        assert failed.value.code == code
    with world.deps.store.session() as session:
        identity.set_user_state(world.ctx(session), ADMIN, locked=True)
        session.commit()
    with pytest.raises(ApiError) as locked:
        do_login(world)
    assert locked.value.code == "err_xdk_user_locked"


def _profile_of(world: World, email: str) -> str:
    with world.deps.store.session() as session:
        return profiles.effective_profile(session, world.account_id, email).description


def test_effective_profile_rule(world: World) -> None:
    user = f"user@{DOMAIN}"
    with world.deps.store.session() as session:
        ctx = world.ctx(session)
        identity.create_user(ctx, user, password="pw")
        for name in ("first", "second", "domain-wide", "parent"):
            profiles.create_auth_profile(ctx, name, 600)
        profiles.create_group(ctx, "A")
        profiles.create_group(ctx, "B")
        profiles.create_group(ctx, "Parent/Child")
        profiles.create_group(ctx, "Everyone")
        session.commit()
    assert _profile_of(world, user) == "Default Authentication Profile"

    with world.deps.store.session() as session:
        ctx = world.ctx(session)
        # A folder above the member's group counts.
        profiles.add_group_member(ctx, "Parent/Child", user)
        profiles.create_app_setting(ctx, "parent", "Parent", "parent")
        session.commit()
    assert _profile_of(world, user) == "parent"
    assert _profile_of(world, ADMIN) == "Default Authentication Profile"

    with world.deps.store.session() as session:
        ctx = world.ctx(session)
        # Two settings that both match the admin: the older setting wins, although its
        # group (B) is the younger one.
        profiles.add_group_member(ctx, "A", ADMIN)
        profiles.add_group_member(ctx, "B", ADMIN)
        profiles.create_app_setting(ctx, "b first", "B", "second")
        profiles.create_app_setting(ctx, "a later", "A", "first")
        session.commit()
    assert _profile_of(world, ADMIN) == "second"

    with world.deps.store.session() as session:
        ctx = world.ctx(session)
        # Domain membership covers every address of the domain, in the setting's turn.
        profiles.add_group_member(ctx, "Everyone", DOMAIN)
        profiles.create_app_setting(ctx, "everyone", "Everyone", "domain-wide")
        identity.create_user(ctx, f"new@{DOMAIN}", password="pw")
        session.commit()
    assert _profile_of(world, f"new@{DOMAIN}") == "domain-wide"
    assert _profile_of(world, user) == "parent"  # its own setting is older
    assert _profile_of(world, ADMIN) == "second"
    assert _profile_of(world, "someone@elsewhere.org") == "Default Authentication Profile"


def test_secrets_are_encrypted_at_rest(world: World, tmp_path: Path) -> None:
    keys = do_login(world)
    access_key, secret_key = str(keys["accessKey"]), str(keys["secretKey"])
    with world.deps.store.engine.connect() as connection:
        app_key_enc = connection.execute(text(
            "SELECT app_key_enc FROM applications WHERE app_id = :id"),
            {"id": world.app_id}).scalar_one()
        stored = connection.execute(text(
            "SELECT access_key_hash, access_key_hint, secret_key_enc FROM bindings")).one()
        password_hash = connection.execute(text(
            "SELECT password_hash FROM users WHERE email = :e"), {"e": ADMIN}).scalar_one()
    app_key_raw = bytes(app_key_enc)
    assert world.app_key.encode() not in app_key_raw
    assert world.deps.vault.decrypt(app_key_raw) == world.app_key
    assert stored.access_key_hash != access_key and access_key not in stored.access_key_hash
    assert stored.access_key_hash == digest(access_key) and len(stored.access_key_hash) == 64
    assert len(stored.access_key_hint) <= 16
    secret_raw = bytes(stored.secret_key_enc)
    assert secret_key.encode() not in secret_raw
    assert world.deps.vault.decrypt(secret_raw) == secret_key
    assert password_hash.startswith("$argon2") and PASSWORD not in password_hash
    # Another server key cannot read them.
    other = Vault(tmp_path / "another.key")
    with pytest.raises(InvalidToken):
        other.decrypt(secret_raw)


def test_audit_events_are_written(world: World) -> None:
    keys = do_login(world)
    with world.deps.store.session() as session:
        ctx = world.ctx(session)
        profiles.create_group(ctx, "Audited")
        applications.revoke_binding(ctx, binding(world, str(keys["accessKey"])).id)
        session.commit()
        events = [(e.category, e.event_type, e.actor) for e in session.scalars(
            select(AuditEvent).where(AuditEvent.account_id == world.account_id)
            .order_by(AuditEvent.id))]
    kinds = [(category, event) for category, event, _actor in events]
    for expected in ((audit.ACCOUNT, "Account created"),
                     (audit.DOMAIN, "Internal domain added"),
                     (audit.DIRECTORY, "User created"),
                     (audit.ROLES, "User added to role"),
                     (audit.SERVICES, "Application registered"),
                     (audit.AUTHENTICATION, "Binding created"),
                     (audit.DIRECTORY, "Profile group created"),
                     (audit.SERVICES, "Binding revoked")):
        assert expected in kinds, expected
    assert (audit.AUTHENTICATION, "Binding created", ADMIN) in events
