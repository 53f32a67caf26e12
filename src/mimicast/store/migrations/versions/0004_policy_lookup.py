"""a policy row's lookup value, out of its JSON body and indexed

Creating an address-alteration definition checked its original address against every
definition of the set, read out of each JSON body: a scan that grew with the set.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 06:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

DEFINITION = "address-alteration-definition"


def upgrade() -> None:
    with op.batch_alter_table("policies") as batch:
        batch.add_column(sa.Column("lookup", sa.String(length=320), nullable=True))
    policies = sa.table("policies", sa.column("family", sa.String),
                        sa.column("body", sa.JSON), sa.column("lookup", sa.String))
    op.execute(policies.update().where(policies.c.family == DEFINITION)
               .values(lookup=policies.c.body["originalAddress"].as_string()))
    op.create_index("ix_policies_lookup", "policies",
                    ["account_id", "family", "parent_id", "lookup"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_policies_lookup", table_name="policies")
    with op.batch_alter_table("policies") as batch:
        batch.drop_column("lookup")
