"""Runs of a seed: a rerun adds nothing, a larger one adds only the missing messages (the
same ones a single run makes), a rerun keeps its window, and a policy created through the
services changes what the next simulated messages do."""

from __future__ import annotations

from pathlib import Path

import pytest
from sim_helpers import ANCHOR, dump, office
from sqlalchemy import func, select

from mimicast.services import policies
from mimicast.sim.outside import outside
from mimicast.sim.runs import SimulationError, backfill
from mimicast.store.engine import Store
from mimicast.store.schema import Message, MessageRecipient, Simulation
from mimicast.testing import fresh_database


def count(store: Store, table: type) -> int:
    with store.session() as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


def test_a_rerun_adds_nothing_and_a_larger_one_only_what_is_missing(
        store_url: str, tmp_path: Path) -> None:
    with office(store_url, tmp_path) as made:
        store = made.deps.store
        first = backfill(made.deps, made.account_id, seed=3, messages=400, days=4,
                         anchor=ANCHOR)
        assert (first.before, first.total, first.tally.messages) == (0, 400, 400)
        before = dump(store)
        again = backfill(made.deps, made.account_id, seed=3, messages=400)
        assert (again.before, again.total, again.tally.messages) == (400, 400, 0)
        fewer = backfill(made.deps, made.account_id, seed=3, messages=100, days=4)
        assert fewer.tally.messages == 0 and dump(store) == before
        more = backfill(made.deps, made.account_id, seed=3, messages=1_150)
        assert (more.before, more.total, more.tally.messages) == (400, 1_150, 750)
        assert (more.anchor, more.days) == (ANCHOR, 4)  # the first run's window
        assert count(store, Message) == 1_150
        with store.session() as session:
            assert session.scalar(select(Simulation.generated)) == 1_150
        grown = {row[:2] + row[6:7] + row[9:10] for row in dump(store)["messages"]}
    # One run of 1,150 makes the same messages (Message-ID, route, subject, time).
    kind = "sqlite" if store_url.startswith("sqlite") else "postgresql"
    with fresh_database(kind) as other, office(other, tmp_path) as single:
        backfill(single.deps, single.account_id, seed=3, messages=1_150, days=4,
                 anchor=ANCHOR)
        assert {row[:2] + row[6:7] + row[9:10]
                for row in dump(single.deps.store)["messages"]} == grown


def test_a_rerun_keeps_its_window(store_url: str, tmp_path: Path) -> None:
    with office(store_url, tmp_path) as made:
        backfill(made.deps, made.account_id, seed=4, messages=50, days=3, anchor=ANCHOR)
        with pytest.raises(SimulationError, match="over 3 days .* give --days 3"):
            backfill(made.deps, made.account_id, seed=4, messages=60, days=5)
        assert count(made.deps.store, Message) == 50
        with pytest.raises(SimulationError, match="messages must be a whole number"):
            backfill(made.deps, made.account_id, seed=4, messages=0)


def test_a_blocked_sender_policy_rejects_the_next_simulated_messages(
        store_url: str, tmp_path: Path) -> None:
    with office(store_url, tmp_path) as made:
        store = made.deps.store
        backfill(made.deps, made.account_id, seed=8, messages=1_000, days=3, anchor=ANCHOR)
        with store.session() as session:
            last = session.scalar(select(func.max(Message.id)))
            domains = session.scalars(select(Message.sender)).all()
        # The partner that wrote most (a domain of the simulated world).
        partners = {org.domain for org in outside(8, ("acme-labs.test",
                                                      "acme.example.com")).partners}
        tally: dict[str, int] = {}
        for sender in domains:
            domain = sender.rpartition("@")[2]
            if domain in partners:
                tally[domain] = tally.get(domain, 0) + 1
        partner = max(sorted(tally), key=lambda d: tally[d])
        with store.unit() as unit:
            policies.create_option_policy(made.ctx(unit), policies.BLOCKED_SENDERS,
                                          "block_sender", {
                "description": "Block the partner", "to": {"type": "everyone"},
                "from": {"type": "email_domain", "emailDomain": partner}})
        backfill(made.deps, made.account_id, seed=8, messages=3_000)

        def outcomes(newer: bool) -> set[tuple[str, str]]:
            with store.session() as session:
                return {(row.status, row.policy) for row in session.execute(
                    select(MessageRecipient.status, MessageRecipient.policy)
                    .join(Message, Message.id == MessageRecipient.message_id)
                    .where(Message.sender.like(f"%@{partner}"), Message.route == "inbound",
                           Message.id > last if newer else Message.id <= last))}
        assert ("rejected", "Block the partner") not in outcomes(newer=False)
        assert outcomes(newer=True) == {("rejected", "Block the partner")}
