"""the collector ledger; partial indexes for the impersonation and DLP logs

The ledger: which SIEM files and log pages each binding was served. The impersonation and
DLP logs walk only the messages that hit, a few in a hundred, along indexes of those alone.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 11:10:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "collector_ledger",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("binding_id", sa.Integer(), nullable=True),
        sa.Column("log", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("start", sa.String(length=200), nullable=False),
        sa.Column("following", sa.String(length=200), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.Column("token_sent", sa.Boolean(), nullable=False),
        sa.Column("served_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True)
    op.create_index("ix_collector_ledger_binding", "collector_ledger",
                    ["account_id", "binding_id", "id"], unique=False)
    for name, column in (("ix_messages_account_impersonation", "impersonation"),
                         ("ix_messages_account_dlp", "dlp")):
        where = sa.text(f"{column} != ''")
        op.create_index(name, "messages", ["account_id", "received_at", "id"], unique=False,
                        sqlite_where=where, postgresql_where=where)


def downgrade() -> None:
    op.drop_index("ix_messages_account_dlp", table_name="messages")
    op.drop_index("ix_messages_account_impersonation", table_name="messages")
    op.drop_index("ix_collector_ledger_binding", table_name="collector_ledger")
    op.drop_table("collector_ledger")
