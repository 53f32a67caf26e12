"""simulator runs and link clicks

A simulator run is recorded so a rerun with the same seed continues it rather than repeating
it; a click is a recipient following a rewritten link of a delivered message (URL Protect's
logs read them).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 09:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('simulations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('mode', sa.String(length=16), nullable=False),
    sa.Column('seed', sa.Integer(), nullable=False),
    sa.Column('anchor', sa.DateTime(timezone=True), nullable=False),
    sa.Column('days', sa.Integer(), nullable=False),
    sa.Column('generated', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('account_id', 'mode', 'seed', name='uq_simulations_account_mode_seed')
    )
    op.create_table('link_clicks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('link_id', sa.Integer(), nullable=False),
    sa.Column('recipient', sa.String(length=320), nullable=False),
    sa.Column('clicked_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('source_ip', sa.String(length=45), nullable=False),
    sa.Column('user_agent', sa.String(length=500), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['link_id'], ['message_links.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('link_clicks', schema=None) as batch_op:
        batch_op.create_index('ix_link_clicks_account_time', ['account_id', 'clicked_at', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_link_clicks_link_id'), ['link_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('link_clicks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_link_clicks_link_id'))
        batch_op.drop_index('ix_link_clicks_account_time')

    op.drop_table('link_clicks')
    op.drop_table('simulations')
