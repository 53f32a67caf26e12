"""Compiled queries read and write exactly what the ORM does, on both backends."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from mimicast.store.engine import Store
from mimicast.store.query import LIKE_ESCAPE, Query, contains
from mimicast.store.schema import Account, AuditEvent, Policy

WHEN = datetime(2026, 3, 4, 5, 6, 7, 890123, tzinfo=UTC)

_EVENTS = Query(select(AuditEvent.id, AuditEvent.actor, AuditEvent.created_at)
                .where(AuditEvent.account_id == bindparam("account"),
                       AuditEvent.actor.in_(bindparam("actors", expanding=True)),
                       AuditEvent.created_at >= bindparam("since",
                                                          type_=AuditEvent.created_at.type))
                .order_by(AuditEvent.created_at.desc()).limit(bindparam("limit")))
_ADD_EVENT = Query(insert(AuditEvent).values(
    account_id=bindparam("account"), actor=bindparam("actor"), category="c", event_type="t",
    info="", created_at=bindparam("at")).returning(AuditEvent.id))
_POLICIES = Query(select(Policy.__table__).where(Policy.account_id == bindparam("account")))
_COUNT = Query(select(func.count()).select_from(AuditEvent)
               .where(AuditEvent.account_id == bindparam("account")))
_RENAME = Query(update(Account).where(Account.id == bindparam("id"))
                .values(name=bindparam("name")))
_ADD_ACCOUNT = Query(insert(Account).values(code=bindparam("code"), name="n", region="us",
                                            created_at=bindparam("at")))
_LIKE = Query(select(AuditEvent.actor).where(
    AuditEvent.actor.ilike(bindparam("needle"), escape=LIKE_ESCAPE)).order_by(AuditEvent.actor))


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    store = Store(store_url)
    store.migrate()
    yield store
    store.dispose()


def _account(store: Store) -> int:
    with store.unit() as unit:
        account = Account(code="CQ1", name="Q", region="us", created_at=WHEN)
        unit.session.add(account)
        unit.session.flush()
        return account.id


def test_values_round_trip_as_the_orm_stores_them(store: Store) -> None:
    account = _account(store)
    with store.unit() as unit:
        unit.session.add(Policy(account_id=account, family="f", body={"a": [1, "x"], "b": None},
                                created_at=WHEN, updated_at=WHEN))
        ids = [_ADD_EVENT.scalar(unit, account=account, actor=f"actor{i}",
                                 at=WHEN.replace(day=i + 1)) for i in range(4)]
    with store.unit(write=False) as unit:
        rows = _EVENTS.all(unit, account=account, actors=["actor1", "actor2", "actor3"],
                           since=WHEN.replace(day=2), limit=2)
        assert [(row.id, row.actor, row.created_at) for row in rows] == [
            (ids[3], "actor3", WHEN.replace(day=4)), (ids[2], "actor2", WHEN.replace(day=3))]
        assert rows[0].created_at.utcoffset() is not None  # aware, as the ORM gives it
        [policy] = _POLICIES.all(unit, account=account)
        assert policy.body == {"a": [1, "x"], "b": None} and policy.created_at == WHEN
        assert _COUNT.scalar(unit, account=account) == 4
        # What a compiled query wrote, the ORM reads back identically.
        orm = unit.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        assert [(e.actor, e.created_at) for e in orm] == [
            (f"actor{i}", WHEN.replace(day=i + 1)) for i in range(4)]


def test_a_query_sees_the_units_pending_orm_changes(store: Store) -> None:
    account = _account(store)
    with store.unit() as unit:
        unit.session.add(AuditEvent(account_id=account, actor="pending", category="c",
                                    event_type="t", info="", created_at=WHEN))
        assert _COUNT.scalar(unit, account=account) == 1


def test_dml_counts_rows_and_raises_sqlalchemys_errors(store: Store) -> None:
    account = _account(store)
    with store.unit() as unit:
        assert _RENAME.execute(unit, id=account, name="renamed") == 1
        assert _RENAME.execute(unit, id=account + 1000, name="nobody") == 0
    with pytest.raises(IntegrityError), store.unit() as unit:
        _ADD_ACCOUNT.execute(unit, code="CQ1", at=WHEN)  # the code is unique
    with store.unit(write=False) as unit:
        names = Query(select(Account.name)).scalars(unit)
    assert names == ["renamed"]  # the failed unit left nothing behind


def test_bad_parameters_are_programming_errors(store: Store) -> None:
    account = _account(store)
    with store.unit(write=False) as unit:
        with pytest.raises(TypeError, match="account"):
            _COUNT.scalar(unit)
        with pytest.raises(ValueError, match="actors"):
            _EVENTS.all(unit, account=account, actors=[], since=WHEN, limit=1)


def test_contains_takes_wildcards_literally(store: Store) -> None:
    account = _account(store)
    with store.unit() as unit:
        for actor in ("100%_sure", "100 percent", "a\\b", "A\\B-upper"):
            _ADD_EVENT.execute(unit, account=account, actor=actor, at=WHEN)
    with store.unit(write=False) as unit:
        assert _LIKE.scalars(unit, needle=contains("%_")) == ["100%_sure"]
        assert _LIKE.scalars(unit, needle=contains("0%")) == ["100%_sure"]
        assert _LIKE.scalars(unit, needle=contains("a\\b")) == ["A\\B-upper", "a\\b"]


def test_an_insert_gets_the_columns_python_side_defaults(store: Store) -> None:
    """`send_only`/`local` have `default=False` in the model, not in the database."""
    from mimicast.store.schema import Domain

    account = _account(store)
    add = Query(insert(Domain).values(account_id=bindparam("account"), name="d.example",
                                      status="pending", created_at=bindparam("at")))
    with store.unit() as unit:
        add.execute(unit, account=account, at=WHEN)
    with store.unit(write=False) as unit:
        domain = unit.session.scalars(select(Domain)).one()
        assert (domain.send_only, domain.local, domain.inbound_type, domain.token) == (
            False, False, "any", "")


_ADD_EVENTS = Query(insert(AuditEvent).values(
    account_id=bindparam("account"), actor=bindparam("actor"), category=bindparam("category"),
    event_type=bindparam("type"), info=bindparam("info"), created_at=bindparam("at")))
_REST = {"category": "c", "type": "t", "info": ""}


def test_batches_write_every_row_and_refuse_bad_ones(store: Store) -> None:
    """execute_many takes named rows, execute_rows tuples in the columns' order (values as
    the driver takes them): both write every row; a missing parameter, columns that are not
    the statement's, or a row the constraints refuse fail and write nothing."""
    account = _account(store)
    with store.unit() as unit:
        _ADD_EVENTS.execute_many(unit, [{"account": account, "actor": f"a{i}", "at": WHEN,
                                         **_REST} for i in range(3)])
        stored = _ADD_EVENTS.converter(unit, "at")
        _ADD_EVENTS.execute_rows(unit, ("actor", "account", "at", "category", "type", "info"),
                                 [(f"b{i}", account, stored(WHEN), "c", "t", "")
                                  for i in range(2)])
        _ADD_EVENTS.execute_many(unit, [])
        assert _COUNT.scalar(unit, account=account) == 5
        assert [row.actor for row in _LIKE.all(unit, needle="b%")] == ["b0", "b1"]
    with store.unit() as unit:
        with pytest.raises(TypeError, match="actor"):
            _ADD_EVENTS.execute_many(unit, [{"account": account, "at": WHEN, **_REST}])
        with pytest.raises(ValueError):
            _ADD_EVENTS.execute_rows(unit, ("actor", "at"), [("c", stored(WHEN))])
    with pytest.raises(IntegrityError), store.unit() as unit:
        _ADD_EVENTS.execute_many(unit, [
            {"account": account, "actor": "d", "at": WHEN, **_REST},
            {"account": 999_999, "actor": "e", "at": WHEN, **_REST}])
    with store.unit(write=False) as unit:
        assert _COUNT.scalar(unit, account=account) == 5
