"""index every foreign key column that no index led

Deleting a parent row looks its children up by the foreign key column (the cascades, and
SQLite's foreign-key check); without an index each delete scanned the whole child table.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 03:20:00
"""

from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

INDEXES = [
    ("policies", "parent_id"),
    ("profile_groups", "parent_id"),
    ("profile_groups", "connection_id"),
    ("users", "connection_id"),
    ("app_settings", "group_id"),
    ("app_settings", "auth_profile_id"),
    ("bindings", "application_id"),
]


def upgrade() -> None:
    for table, column in INDEXES:
        op.create_index(op.f(f"ix_{table}_{column}"), table, [column], unique=False)


def downgrade() -> None:
    for table, column in reversed(INDEXES):
        op.drop_index(op.f(f"ix_{table}_{column}"), table_name=table)
