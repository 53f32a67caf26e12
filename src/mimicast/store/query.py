"""Statements compiled once and run straight on the driver's cursor.

For every execution SQLAlchemy looks the statement up by cache key, then runs it through an
execution context, events and result metadata; the ORM adds identity-mapped objects. On
SQLite that machinery costs 5–10× the query itself: ~100–150 µs for a page of 25 rows that
SQLite reads in ~20 µs (benchmarks/README.md, "Where the time went"). So the statements of
the hot paths are `Query` objects, built once at import with named `bindparam`s: SQLAlchemy
still writes the SQL (once per dialect) and the columns' own types still convert values both
ways — the same TypeDecorators the ORM uses, so what a query writes the ORM reads back and the
other way round. What is skipped is the per-call machinery.

A query runs in a `Unit`, inside its transaction; rows are named tuples.
"""

from __future__ import annotations

import functools
import operator
from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from sqlalchemy import ClauseElement
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.compiler import SQLCompiler

from mimicast.store.unit import Unit

Convert = Callable[[Any], Any]
Shape = Callable[[Sequence[Any]], Any]
_POSTCOMPILE = "__[POSTCOMPILE_{}]"
LIKE_ESCAPE = "\\"


def contains(text: str) -> str:
    """A case-folded LIKE pattern matching `text` anywhere, its own `%` and `_` taken
    literally; use it with `column.ilike(bindparam(…), escape=LIKE_ESCAPE)`."""
    folded = text.lower()
    for special in (LIKE_ESCAPE, "%", "_"):
        folded = folded.replace(special, LIKE_ESCAPE + special)
    return f"%{folded}%"


@dataclass
class _Plan:
    """A statement compiled for one dialect, with how to bind its parameters and read rows."""

    sql: str
    positional: bool
    order: tuple[str, ...]  # bind names in placeholder order (positional paramstyles)
    defaults: dict[str, Any]  # values the statement carries itself (literals, limits)
    generated: dict[str, Callable[[], Any]]  # columns' Python-side defaults (INSERT, UPDATE)
    required: frozenset[str]
    binders: dict[str, Convert]
    expanding: frozenset[str]
    row: type | None  # the named tuple of a row; None for statements returning no rows
    converters: tuple[tuple[int, Convert], ...]  # (column index, converter), those that have one
    expanded: dict[tuple[int, ...], str] = field(default_factory=dict)
    # execute_rows: per column order, how its rows become parameters
    shapes: dict[tuple[str, ...], Shape | None] = field(default_factory=dict)

    def text(self, values: Mapping[str, Any]) -> str:
        """The SQL with each expanding parameter's list spelled out (cached per length)."""
        if not self.expanding:
            return self.sql
        lengths = tuple(len(values[name]) for name in sorted(self.expanding))
        sql = self.expanded.get(lengths)
        if sql is None:
            sql = self.sql
            for name in sorted(self.expanding):
                count = len(values[name])
                marks = (["?"] * count if self.positional
                         else [f"%({name}_{i})s" for i in range(count)])
                sql = sql.replace(_POSTCOMPILE.format(name), ", ".join(marks))
            self.expanded[lengths] = sql
        return sql

    @functools.cached_property
    def _slots(self) -> tuple[tuple[str, Convert | None, bool], ...] | None:
        """(name, converter, given by the caller) per placeholder, for the common statement:
        positional, with no IN list and no column default to work out. None otherwise."""
        if not self.positional or self.expanding or self.generated:
            return None
        return tuple((name, self.binders.get(name), name not in self.defaults)
                     for name in self.order)

    def shape(self, columns: tuple[str, ...]) -> Shape | None:
        """How a row of `columns` values becomes the driver's parameters: None when it
        already is (positional, in placeholder order)."""
        if columns not in self.shapes:
            self.shapes[columns] = self._shape(columns)
        return self.shapes[columns]

    def _shape(self, columns: tuple[str, ...]) -> Shape | None:
        if self.expanding or set(columns) != set(self.order if self.positional else
                                                 self.required | self.defaults.keys()):
            raise ValueError("the rows must give exactly the statement's parameters")
        if not self.positional:
            return lambda row: dict(zip(columns, row, strict=True))
        if columns == self.order:
            return None
        return operator.itemgetter(*(columns.index(name) for name in self.order))

    def parameters(self, given: Mapping[str, Any]) -> tuple[str, Sequence[Any] | dict[str, Any]]:
        missing = self.required - given.keys()
        if missing:
            raise TypeError(f"missing query parameter(s): {', '.join(sorted(missing))}")
        slots = self._slots
        if slots is not None:  # every request runs this: kept to one pass
            defaults = self.defaults
            bound = []
            for name, convert, from_caller in slots:
                value = given[name] if from_caller or name in given else defaults[name]
                bound.append(convert(value) if convert is not None else value)
            return self.sql, bound
        values = {**self.defaults, **given}
        for name, make in self.generated.items():
            if name not in given:
                values[name] = make()
        for name in self.expanding:
            if not values[name]:
                raise ValueError(f"{name}: an IN list needs at least one value")
        binders = self.binders
        if self.positional:
            positions: list[Any] = []
            for name in self.order:
                value = values[name]
                convert = binders.get(name)
                if name in self.expanding:
                    positions.extend(convert(v) if convert else v for v in value)
                else:
                    positions.append(convert(value) if convert else value)
            return self.text(values), positions
        named: dict[str, Any] = {}
        for name, value in values.items():
            convert = binders.get(name)
            if name in self.expanding:
                for i, item in enumerate(value):
                    named[f"{name}_{i}"] = convert(item) if convert else item
            else:
                named[name] = convert(value) if convert else value
        return self.text(values), named


def _as_is(value: Any) -> Any:
    return value


Upsert: TypeAlias = sqlite.Insert | postgresql.Insert


def upsert(build: Callable[[Callable[[Any], Upsert]], Upsert]) -> Query:
    """An INSERT … ON CONFLICT, which SQLite and PostgreSQL each spell with their own
    `insert`: `build(insert)` makes the statement with the `insert` it is given."""
    return Query({"sqlite": build(sqlite.insert), "postgresql": build(postgresql.insert)})


def _generator(default: Any, column: Any) -> Callable[[], Any]:
    """A column's Python-side default (`default=`, `onupdate=`) as a zero-argument function;
    SQLAlchemy computes these in the execution context this path does without."""
    if default.is_scalar:
        value = default.arg
        return lambda: value
    if default.is_callable:
        # SQLAlchemy wraps a plain callable to take the execution context, unused here.
        return lambda: default.arg(None)
    raise ValueError(f"{column}: only scalar or callable Python-side defaults are supported")


def _row_type(names: list[str]) -> type:
    return namedtuple("Row", names, rename=True)


def _plan(statement: ClauseElement, dialect: Dialect) -> _Plan:
    compiled = statement.compile(dialect=dialect)
    assert isinstance(compiled, SQLCompiler)
    if compiled.escaped_bind_names:
        raise ValueError("use plain bind parameter names (letters, digits, underscores)")
    # Each bind parameter with the name the SQL gives it (anonymous ones get `status_1`…).
    names = compiled.bind_names
    defaults = {name: bind.value for bind, name in names.items()
                if not bind.required and bind.callable is None}
    binders: dict[str, Convert] = {}
    for bind, name in names.items():
        convert = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if convert is not None:
            binders[name] = convert
    row_type: type | None = None
    converters: tuple[tuple[int, Convert], ...] = ()
    # A SELECT's columns, or an INSERT/UPDATE/DELETE's RETURNING ones (empty without).
    columns = getattr(statement, "exported_columns", None)
    if columns:
        row_type = _row_type(list(columns.keys()))
        found = [column.type.dialect_impl(dialect).result_processor(dialect, None)
                 for column in columns]
        converters = tuple((index, convert) for index, convert in enumerate(found)
                           if convert is not None)
    generated = {column.key: _generator(column.default, column)
                 for column in compiled.insert_prefetch}
    generated.update({column.key: _generator(column.onupdate, column)
                      for column in compiled.update_prefetch})
    return _Plan(sql=compiled.string, positional=compiled.positional,
                 order=tuple(compiled.positiontup or ()), defaults=defaults, generated=generated,
                 required=frozenset(name for bind, name in names.items() if bind.required),
                 binders=binders,
                 expanding=frozenset(name for bind, name in names.items() if bind.expanding),
                 row=row_type, converters=converters)


class Query:
    """A statement with named parameters (`bindparam("account")`), run as
    `QUERY.all(unit, account=…)`. Build it once, at import. A statement the backends spell
    differently is given per dialect name (`upsert` builds those)."""

    def __init__(self, statement: ClauseElement | Mapping[str, ClauseElement]) -> None:
        self.statements = (dict(statement) if isinstance(statement, Mapping)
                           else {"*": statement})
        self._plans: dict[str, _Plan] = {}

    def _plan_for(self, unit: Unit) -> _Plan:
        dialect = unit.dialect
        plan = self._plans.get(dialect.name)
        if plan is None:
            statement = self.statements.get(dialect.name, self.statements.get("*"))
            if statement is None:
                raise ValueError(f"no statement for {dialect.name}")
            plan = self._plans[dialect.name] = _plan(statement, dialect)
        return plan

    def _run(self, unit: Unit, params: Mapping[str, Any]) -> tuple[_Plan, Any]:
        dialect = unit.dialect
        plan = self._plan_for(unit)
        sql, bound = plan.parameters(params)
        driver = unit.driver
        try:
            return plan, driver.execute(sql, bound)
        except dialect.loaded_dbapi.Error as error:
            if dialect.is_disconnect(error, driver, None):
                unit.connection.invalidate(error)
            # The errors SQLAlchemy itself raises, so callers catch one kind (IntegrityError…).
            raise DBAPIError.instance(sql, bound, error, dialect.loaded_dbapi.Error,
                                      dialect=dialect) from error

    def all(self, unit: Unit, **params: Any) -> list[Any]:
        plan, cursor = self._run(unit, params)
        rows = cursor.fetchall()
        make = plan.row
        assert make is not None, "a statement that returns no rows"
        converters = plan.converters
        if not converters:
            return [make(*row) for row in rows]
        converted = []
        for row in rows:
            values = list(row)
            for index, convert in converters:
                values[index] = convert(values[index])
            converted.append(make(*values))
        return converted

    def first(self, unit: Unit, **params: Any) -> Any:
        rows = self.all(unit, **params)
        return rows[0] if rows else None

    def scalars(self, unit: Unit, **params: Any) -> list[Any]:
        """The first column of every row."""
        return [row[0] for row in self.all(unit, **params)]

    def scalar(self, unit: Unit, **params: Any) -> Any:
        row = self.first(unit, **params)
        return row[0] if row is not None else None

    def execute(self, unit: Unit, **params: Any) -> int:
        """An INSERT, UPDATE or DELETE: the number of rows it touched."""
        _, cursor = self._run(unit, params)
        return int(cursor.rowcount)

    def converter(self, unit: Unit, name: str) -> Convert:
        """How parameter `name`'s values go to the driver (what `execute_rows` wants)."""
        return self._plan_for(unit).binders.get(name, _as_is)

    def execute_rows(self, unit: Unit, columns: Sequence[str],
                     rows: Sequence[Sequence[Any]]) -> None:
        """`execute_many` for a bulk writer: each row a tuple of the parameters `columns`
        names, in that order, each value already as the driver takes it (`converter`), so a
        batch goes to the driver without a pass over its values."""
        if not rows:
            return
        plan = self._plan_for(unit)
        shape = plan.shape(tuple(columns))
        if shape is not None:
            rows = [shape(row) for row in rows]
        self._execute_many(unit, plan.sql, rows)

    def execute_many(self, unit: Unit, rows: Sequence[Mapping[str, Any]]) -> None:
        """An INSERT, UPDATE or DELETE once per parameter set, in one driver call (a batch
        writer's path: a statement per row costs several times the row)."""
        if not rows:
            return
        plan = self._plan_for(unit)
        assert not plan.expanding, "expanding parameters differ per row"
        sql = plan.sql
        self._execute_many(unit, sql, [plan.parameters(row)[1] for row in rows])

    @staticmethod
    def _execute_many(unit: Unit, sql: str, bound: Sequence[Any]) -> None:
        driver = unit.driver
        dialect = unit.dialect
        try:
            driver.cursor().executemany(sql, bound)
        except dialect.loaded_dbapi.Error as error:
            if dialect.is_disconnect(error, driver, None):
                unit.connection.invalidate(error)
            raise DBAPIError.instance(sql, bound, error, dialect.loaded_dbapi.Error,
                                      dialect=dialect) from error
