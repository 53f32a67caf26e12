"""messages and their recipients, attachments, links and hold actions; default hold policies

The facts of the mail flow; every mail view (tracking, the hold queue, logs) is read from them.
Accounts made before this revision get the hold policies a new account starts with.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 07:50:00
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

HOLD = "hold-policy"
# As services/mail/holds.DEFAULTS was when this revision was written.
DEFAULT_HOLDS = [
    {"kind": "spam", "description": "Default Spam Scanning Definition", "level": "relaxed",
     "threshold": 2},
    {"kind": "impersonation", "description": "Default Impersonation Protection",
     "level": "relaxed", "threshold": 2},
    {"kind": "attachment", "description": "Default Attachment Protection", "level": "relaxed",
     "threshold": 2},
]


def upgrade() -> None:
    op.create_table('messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.String(length=998), nullable=False),
    sa.Column('route', sa.String(length=16), nullable=False),
    sa.Column('sender', sa.String(length=320), nullable=False),
    sa.Column('header_from', sa.String(length=320), nullable=False),
    sa.Column('from_name', sa.String(length=200), nullable=False),
    sa.Column('reply_to', sa.String(length=320), nullable=False),
    sa.Column('subject', sa.Text(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sender_ip', sa.String(length=45), nullable=False),
    sa.Column('helo', sa.String(length=253), nullable=False),
    sa.Column('spf', sa.String(length=8), nullable=False),
    sa.Column('dkim', sa.String(length=8), nullable=False),
    sa.Column('dmarc', sa.String(length=8), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('spam_score', sa.Integer(), nullable=False),
    sa.Column('detection_level', sa.String(length=16), nullable=False),
    sa.Column('in_reply_to', sa.String(length=998), nullable=False),
    sa.Column('seed', sa.Integer(), nullable=True),
    sa.Column('body', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.create_index('ix_messages_account_message_id', ['account_id', 'message_id'], unique=False)
        batch_op.create_index('ix_messages_account_received', ['account_id', 'received_at', 'id'], unique=False)
        batch_op.create_index('ix_messages_account_sender', ['account_id', 'sender', 'received_at'], unique=False)

    op.create_table('message_attachments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=127), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('verdict', sa.String(length=16), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=True),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('message_attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_message_attachments_message_id'), ['message_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_message_attachments_sha256'), ['sha256'], unique=False)

    op.create_table('message_links',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code')
    )
    with op.batch_alter_table('message_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_message_links_message_id'), ['message_id'], unique=False)

    op.create_table('message_recipients',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('address', sa.String(length=320), nullable=False),
    sa.Column('original', sa.String(length=320), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=3), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('reason_code', sa.String(length=64), nullable=False),
    sa.Column('policy', sa.String(length=200), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['message_id'], ['messages.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('message_recipients', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_message_recipients_message_id'), ['message_id'], unique=False)
        batch_op.create_index('ix_recipients_account_address', ['account_id', 'address', 'received_at'], unique=False)
        batch_op.create_index('ix_recipients_account_status', ['account_id', 'status', 'received_at', 'id'], unique=False)

    op.create_table('sender_domains',
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('domain', sa.String(length=253), nullable=False),
    sa.Column('first_seen', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('account_id', 'domain')
    )
    op.create_table('hold_actions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('recipient_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('reason_type', sa.String(length=64), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('notify', sa.Boolean(), nullable=False),
    sa.Column('operator', sa.String(length=320), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['recipient_id'], ['message_recipients.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('hold_actions', schema=None) as batch_op:
        batch_op.create_index('ix_hold_actions_account_time', ['account_id', 'created_at', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_hold_actions_recipient_id'), ['recipient_id'], unique=False)

    policies = sa.table("policies", sa.column("account_id", sa.Integer),
                        sa.column("family", sa.String), sa.column("body", sa.JSON),
                        sa.column("created_at", sa.DateTime(timezone=True)),
                        sa.column("updated_at", sa.DateTime(timezone=True)))
    now = datetime.now(UTC)
    accounts = op.get_bind().execute(sa.text("SELECT id FROM accounts ORDER BY id")).scalars()
    rows = [{"account_id": account, "family": HOLD, "body": body, "created_at": now,
             "updated_at": now} for account in accounts for body in DEFAULT_HOLDS]
    if rows:
        op.bulk_insert(policies, rows)



def downgrade() -> None:
    op.execute(sa.text("DELETE FROM policies WHERE family = :family").bindparams(family=HOLD))
    with op.batch_alter_table('hold_actions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_hold_actions_recipient_id'))
        batch_op.drop_index('ix_hold_actions_account_time')

    op.drop_table('hold_actions')
    with op.batch_alter_table('message_recipients', schema=None) as batch_op:
        batch_op.drop_index('ix_recipients_account_status')
        batch_op.drop_index('ix_recipients_account_address')
        batch_op.drop_index(batch_op.f('ix_message_recipients_message_id'))

    op.drop_table('sender_domains')
    op.drop_table('message_recipients')
    with op.batch_alter_table('message_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_message_links_message_id'))

    op.drop_table('message_links')
    with op.batch_alter_table('message_attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_message_attachments_sha256'))
        batch_op.drop_index(batch_op.f('ix_message_attachments_message_id'))

    op.drop_table('message_attachments')
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index('ix_messages_account_sender')
        batch_op.drop_index('ix_messages_account_received')
        batch_op.drop_index('ix_messages_account_message_id')

    op.drop_table('messages')
