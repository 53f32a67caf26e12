"""A seed makes the same mail every time: the same stored facts in two fresh stores, on
SQLite, on PostgreSQL, and across the two; another seed makes other mail."""

from __future__ import annotations

from pathlib import Path

import pytest
from sim_helpers import ANCHOR, dump, office

from mimicast.sim.runs import backfill
from mimicast.testing import fresh_database

MESSAGES = 700


def simulated(url: str, key_dir: Path, seed: int) -> dict[str, list[tuple[str, ...]]]:
    with office(url, key_dir) as made:
        backfill(made.deps, made.account_id, seed=seed, messages=MESSAGES, days=5,
                 anchor=ANCHOR)
        return dump(made.deps.store)


def test_the_same_seed_stores_the_same_facts(store_url: str, tmp_path: Path) -> None:
    first = simulated(store_url, tmp_path, seed=11)
    kind = "sqlite" if store_url.startswith("sqlite") else "postgresql"
    with fresh_database(kind) as other:
        second = simulated(other, tmp_path, seed=11)
    assert first == second
    assert len(first["messages"]) == MESSAGES
    for table in ("message_recipients", "message_attachments", "message_links", "link_clicks",
                  "sender_domains"):
        assert first[table], table  # every kind of fact was made


def test_another_seed_makes_other_mail(store_url: str, tmp_path: Path) -> None:
    with office(store_url, tmp_path) as made:
        backfill(made.deps, made.account_id, seed=1, messages=200, days=5, anchor=ANCHOR)
        backfill(made.deps, made.account_id, seed=2, messages=200, days=5, anchor=ANCHOR)
        facts = dump(made.deps.store)
    by_seed: dict[str, set[tuple[str, ...]]] = {"1": set(), "2": set()}
    for row in facts["messages"]:
        by_seed[row[13]].add(row[1:7])  # route, sender, header, name, reply-to, subject
    assert len(by_seed["1"]) > 150 and len(by_seed["2"]) > 150
    assert len(by_seed["1"] & by_seed["2"]) < 20  # a few replies' shapes may coincide


@pytest.mark.parametrize("store_url", ["postgresql"], indirect=True)
def test_sqlite_and_postgresql_store_the_same_facts(store_url: str, tmp_path: Path) -> None:
    with fresh_database("sqlite") as lite:
        assert simulated(lite, tmp_path, seed=5) == simulated(store_url, tmp_path, seed=5)
