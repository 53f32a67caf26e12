"""The demo account `mimicast serve` creates on an empty store, set up as seed 000 describes:
an internal domain, an administrator in the Full Administrator role, an `API Users` group
with a never-expiring authentication profile, a registered application, and a binding.

Its credentials are kept encrypted so `mimicast init --json` prints the same ones every time.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import asdict, dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from mimicast.services import applications, identity, profiles
from mimicast.services.auth import load_binding, login
from mimicast.services.context import Caller, Context, Deps, utcnow
from mimicast.services.permissions import FULL_ADMINISTRATOR
from mimicast.store.schema import Account
from mimicast.store.schema import DemoCredentials as DemoRow
from mimicast.wire import signing

DEMO_CODE = "CUSA0DEMO"
DEMO_DOMAIN = "demo.mimicast.test"
DEMO_EMAIL = f"admin@{DEMO_DOMAIN}"


@dataclass(frozen=True)
class DemoCredentials:
    email: str
    password: str
    appId: str
    appKey: str
    accessKey: str
    secretKey: str
    accountCode: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def ensure_demo(deps: Deps) -> tuple[DemoCredentials, bool]:
    """The demo credentials, creating the account first if it is missing; the flag says
    whether it was created now."""
    with deps.store.unit() as unit:
        session = unit.session
        account = session.scalar(select(Account).where(Account.code == DEMO_CODE))
        if account is None:
            credentials = _create(deps, session)
            created = True
        else:
            credentials = _stored(deps, session, account.id)
            created = False
        return credentials, created


def demo_exists(deps: Deps) -> bool:
    with deps.store.session() as session:
        return session.scalar(select(Account.id).where(Account.code == DEMO_CODE)) is not None


def store_is_empty(deps: Deps) -> bool:
    with deps.store.session() as session:
        return session.scalar(select(Account.id).limit(1)) is None


def _create(deps: Deps, session: Session) -> DemoCredentials:
    password = secrets.token_urlsafe(12)
    account = identity.create_account(session, name="Mimicast Demo", region="us",
                                      admin_email=DEMO_EMAIL, code=DEMO_CODE)
    # Examples log in afresh on every run, and the demo's bindings never expire: room for many.
    account.max_bindings = 100
    ctx = Context(deps, session, Caller(account_id=account.id, actor="mimicast init"))
    identity.add_internal_domain(ctx, DEMO_DOMAIN)
    identity.create_user(ctx, DEMO_EMAIL, password=password, name="Demo Administrator")
    identity.add_role_member(ctx, FULL_ADMINISTRATOR, DEMO_EMAIL)
    profiles.create_group(ctx, "API Users")
    profiles.add_group_member(ctx, "API Users", DEMO_EMAIL)
    profile = profiles.create_auth_profile(ctx, "Scripts: never expires", None)
    profiles.create_app_setting(ctx, "API Users", "API Users", str(profile.id))
    app = applications.register_application(ctx, "Demo application")
    session.flush()
    return _mint(deps, session, account.id, DEMO_EMAIL, password, app.app_id, app.app_key)


def _mint(deps: Deps, session: Session, account_id: int, email: str, password: str,
          app_id: str, app_key: str) -> DemoCredentials:
    keys = login(deps, session, app_id=app_id, user_name=email, access_key=None,
                 credentials=signing.BasicCredentials(signing.REALM_CLOUD, email, password))
    credentials = DemoCredentials(email, password, app_id, app_key, str(keys["accessKey"]),
                                  str(keys["secretKey"]), DEMO_CODE)
    row = session.get(DemoRow, account_id) or DemoRow(account_id=account_id)
    row.blob_enc = deps.vault.encrypt(json.dumps(credentials.as_dict()))
    session.add(row)
    return credentials


def _stored(deps: Deps, session: Session, account_id: int) -> DemoCredentials:
    """The kept credentials; a fresh binding if an operator revoked or let the old one lapse."""
    row = session.get(DemoRow, account_id)
    if row is None:
        raise RuntimeError("the demo account exists but its credentials were not kept")
    credentials = DemoCredentials(**json.loads(deps.vault.decrypt(row.blob_enc)))
    binding = load_binding(deps, session, credentials.accessKey)
    if binding is None or not binding.usable or (
            binding.expires_at is not None and binding.expires_at <= utcnow()):
        credentials = _mint(deps, session, account_id, credentials.email, credentials.password,
                            credentials.appId, credentials.appKey)
    return credentials
