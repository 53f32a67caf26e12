"""what impersonation protection and DLP found in a message

The logs show them (`ttp/impersonation/get-logs`, `dlp/get-logs`, the SIEM impersonation
lines): the indicators a message hit and the DLP definitions it matched, kept with the
message since the policies that found them may change later.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 10:50:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("impersonation", sa.String(length=200), nullable=False,
                                   server_default=""))
        batch.add_column(sa.Column("dlp", sa.String(length=1000), nullable=False,
                                   server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("dlp")
        batch.drop_column("impersonation")
