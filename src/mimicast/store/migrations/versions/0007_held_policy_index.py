"""the per-status index of recipient copies carries the deciding policy

`gateway/get-hold-summary-list` counts held copies by policy; with the policy in the index
it counts index entries alone instead of reading every held copy's row.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 10:40:00
"""

from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_recipients_account_status", table_name="message_recipients")
    op.create_index("ix_recipients_account_status", "message_recipients",
                    ["account_id", "status", "received_at", "id", "policy"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_recipients_account_status", table_name="message_recipients")
    op.create_index("ix_recipients_account_status", "message_recipients",
                    ["account_id", "status", "received_at", "id"], unique=False)
