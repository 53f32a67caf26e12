"""What the schema promises beyond its columns."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, inspect

from mimicast.store.engine import Store
from mimicast.store.schema import Base


def test_every_foreign_key_column_leads_an_index() -> None:
    """A delete looks children up by their foreign key: without an index, it scans."""
    unindexed = []
    for table in Base.metadata.sorted_tables:
        leading = {list(index.columns)[0].name for index in table.indexes}
        leading |= {list(constraint.columns)[0].name for constraint in table.constraints
                    if getattr(constraint, "columns", None) and len(constraint.columns)}
        unindexed += [f"{table.name}.{fk.parent.name}" for fk in table.foreign_keys
                      if fk.parent.name not in leading]
    assert unindexed == []


def test_the_migrations_build_the_schema_the_models_declare(tmp_path: Path) -> None:
    """Same indexes whether a store was migrated or created from the models."""
    migrated = Store(f"sqlite:///{tmp_path / 'migrated.db'}")
    migrated.migrate()
    declared = create_engine(f"sqlite:///{tmp_path / 'declared.db'}")
    Base.metadata.create_all(declared)

    def indexes(engine: object) -> dict[str, set[tuple[str, ...]]]:
        inspector = inspect(engine)
        return {table: {tuple(index["column_names"]) for index in
                        inspector.get_indexes(table)}
                for table in Base.metadata.tables}

    try:
        assert indexes(migrated.engine) == indexes(declared)
    finally:
        migrated.dispose()
        declared.dispose()
