"""Upgrading a store that already holds data: nothing is lost, on either backend.

SQLite rebuilds a table to alter it; with foreign keys on, dropping the old copy would cascade
into its children (role memberships, bindings), which is why `migrate` turns them off.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text

from mimicast.services.mail.holds import DEFAULTS, HoldPolicy
from mimicast.store.engine import MIGRATIONS, Store

ROWS = [
    "INSERT INTO accounts (id, code, name, region, admin_email, rate_limit, rate_window_ms, "
    "max_bindings, created_at) VALUES (1, 'C1', 'One', 'us', '', 800, 60000, 10, "
    "'2026-01-01 00:00:00+00')",
    "INSERT INTO users (id, account_id, email, name, locked, disabled, created_at) "
    "VALUES (1, 1, 'ann@one.example.com', 'Ann', false, false, '2026-01-01 00:00:00+00')",
    "INSERT INTO roles (id, account_id, name, description, permissions, builtin) "
    "VALUES (1, 1, 'Readers', '', '[]', false)",
    "INSERT INTO role_members (role_id, user_id) VALUES (1, 1)",
    "INSERT INTO profile_groups (id, account_id, parent_id, name, created_at) "
    "VALUES (1, 1, NULL, 'Sales', '2026-01-01 00:00:00+00')",
    "INSERT INTO group_members (group_id, address) VALUES (1, 'ann@one.example.com')",
    "INSERT INTO group_members (group_id, address) VALUES (1, 'partner.example.net')",
]


@contextlib.contextmanager
def at_revision(store: Store, revision: str) -> Iterator[Connection]:
    """A connection to the store migrated up to `revision` (not further), in a transaction:
    rows made here are what an older mimicast left behind."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with store.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        yield connection


def test_upgrading_from_the_first_schema_keeps_every_row(store_url: str) -> None:
    store = Store(store_url)
    with at_revision(store, "0001") as connection:
        for row in ROWS:
            connection.execute(text(row))
    store.migrate()
    with store.engine.connect() as connection:
        count = connection.execute(text("SELECT count(*) FROM role_members")).scalar()
        members = connection.execute(text(
            "SELECT address, kind FROM group_members ORDER BY address")).all()
        users = connection.execute(text("SELECT email, domain, source FROM users")).all()
        groups = connection.execute(text("SELECT name, source FROM profile_groups")).all()
    store.dispose()
    assert count == 1
    assert members == [("ann@one.example.com", "email"), ("partner.example.net", "domain")]
    assert users == [("ann@one.example.com", "one.example.com", "cloud")]
    assert groups == [("Sales", "cloud")]


def test_definitions_made_before_0004_get_their_lookup(store_url: str) -> None:
    """0004 moves a definition's original address out of the JSON body into an indexed
    column; rows made before it are filled in, other families left alone."""
    store = Store(store_url)
    with at_revision(store, "0003") as connection:
        connection.execute(text(ROWS[0]))
        for number, family, body in (
                (1, "address-alteration-set", '{"description": "Set"}'),
                (2, "address-alteration-definition",
                 '{"originalAddress": "old@one.example.com", "alteredAddress": '
                 '"new@one.example.com", "routing": "all"}')):
            connection.execute(text(
                "INSERT INTO policies (id, account_id, family, parent_id, body, created_at, "
                "updated_at) VALUES (:id, 1, :family, :parent, :body, "
                "'2026-01-01 00:00:00+00', '2026-01-01 00:00:00+00')"),
                {"id": number, "family": family, "parent": 1 if number == 2 else None,
                 "body": body})
    with at_revision(store, "0004"):
        pass  # this revision's own upgrade, without the later ones'
    with store.engine.connect() as connection:
        lookups = connection.execute(text(
            "SELECT family, lookup FROM policies ORDER BY id")).all()
    store.dispose()
    assert lookups == [("address-alteration-set", None),
                       ("address-alteration-definition", "old@one.example.com")]


def test_accounts_made_before_0005_get_the_default_hold_policies(store_url: str) -> None:
    store = Store(store_url)
    with at_revision(store, "0004") as connection:
        connection.execute(text(ROWS[0]))
    store.migrate()
    with store.engine.connect() as connection:
        holds = connection.execute(text(
            "SELECT account_id, family, body FROM policies ORDER BY id")).all()
    store.dispose()
    bodies = [body if isinstance(body, dict) else json.loads(body) for _, _, body in holds]
    assert {(account, family) for account, family, _ in holds} == {(1, "hold-policy")}
    assert [HoldPolicy.from_body(body) for body in bodies] == list(DEFAULTS)
