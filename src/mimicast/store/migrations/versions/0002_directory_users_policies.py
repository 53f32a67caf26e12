"""directory, users, policies, managed senders and URLs

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 11:03:32.186760
"""

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('directory_connections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('source_path', sa.Text(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('last_sync_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_status', sa.String(length=32), nullable=False),
    sa.Column('last_result', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('account_id', 'name'),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('directory_connections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_directory_connections_account_id'), ['account_id'], unique=False)

    op.create_table('managed_senders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('sender', sa.String(length=320), nullable=False),
    sa.Column('recipient', sa.String(length=320), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('account_id', 'sender', 'recipient'),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('managed_senders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_managed_senders_account_id'), ['account_id'], unique=False)
        batch_op.create_index('ix_managed_senders_account_id_id', ['account_id', 'id'], unique=False)

    op.create_table('managed_urls',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('url', sa.String(length=2048), nullable=False),
    sa.Column('scheme', sa.String(length=16), nullable=False),
    sa.Column('domain', sa.String(length=253), nullable=False),
    sa.Column('port', sa.Integer(), nullable=False),
    sa.Column('path', sa.Text(), nullable=False),
    sa.Column('query_string', sa.Text(), nullable=False),
    sa.Column('match_type', sa.String(length=16), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('disable_rewrite', sa.Boolean(), nullable=False),
    sa.Column('disable_user_awareness', sa.Boolean(), nullable=False),
    sa.Column('disable_log_click', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('account_id', 'match_type', 'url'),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('managed_urls', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_managed_urls_account_id'), ['account_id'], unique=False)
        batch_op.create_index('ix_managed_urls_account_url', ['account_id', 'url', 'id'], unique=False)

    op.create_table('policies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('family', sa.String(length=64), nullable=False),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('body', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['parent_id'], ['policies.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('policies', schema=None) as batch_op:
        batch_op.create_index('ix_policies_account_family', ['account_id', 'family', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_policies_account_id'), ['account_id'], unique=False)

    op.create_table('rewritten_urls',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('code'),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('rewritten_urls', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rewritten_urls_account_id'), ['account_id'], unique=False)

    op.create_table('user_aliases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('address', sa.String(length=320), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('address'),
    sqlite_autoincrement=True
    )
    with op.batch_alter_table('user_aliases', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_aliases_account_id'), ['account_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_user_aliases_user_id'), ['user_id'], unique=False)

    op.create_table('user_attributes',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'name')
    )
    op.create_table('user_delegates',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('delegate_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['delegate_id'], ['users.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'delegate_id')
    )
    with op.batch_alter_table('user_delegates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_delegates_delegate_id'), ['delegate_id'], unique=False)

    with op.batch_alter_table('group_members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=16), nullable=False, server_default=sa.text("'email'")))
        batch_op.add_column(sa.Column('notes', sa.String(length=1000), nullable=False, server_default=sa.text("''")))

    with op.batch_alter_table('profile_groups', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source', sa.String(length=16), nullable=False, server_default=sa.text("'cloud'")))
        batch_op.add_column(sa.Column('connection_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_profile_groups_connection', 'directory_connections', ['connection_id'], ['id'], ondelete='SET NULL')
        batch_op.create_index('ix_profile_groups_account_source_id', ['account_id', 'source', 'id'], unique=False)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('domain', sa.String(length=253), nullable=False, server_default=sa.text("''")))
        batch_op.add_column(sa.Column('force_password_change', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('password_never_expires', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('allow_pop', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('allow_smtp', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('archive_start', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('source', sa.String(length=16), nullable=False, server_default=sa.text("'cloud'")))
        batch_op.add_column(sa.Column('connection_id', sa.Integer(), nullable=True))
        batch_op.create_index('ix_users_account_domain_email', ['account_id', 'domain', 'email'], unique=False)
        batch_op.create_index('ix_users_account_email', ['account_id', 'email'], unique=False)
        batch_op.create_foreign_key('fk_users_connection', 'directory_connections', ['connection_id'], ['id'], ondelete='SET NULL')

    for table in ("domains", "users", "profile_groups", "audit_events"):
        _ids_never_reused(table)

    # Existing users: the domain part of their address.
    users = sa.table('users', sa.column('id', sa.Integer), sa.column('email', sa.String),
                     sa.column('domain', sa.String))
    connection = op.get_bind()
    for user_id, email in connection.execute(sa.select(users.c.id, users.c.email)).all():
        connection.execute(users.update().where(users.c.id == user_id)
                           .values(domain=email.rpartition('@')[2]))
    # Existing group members without an '@' are whole domains.
    members = sa.table('group_members', sa.column('address', sa.String),
                       sa.column('kind', sa.String))
    connection.execute(members.update().where(members.c.address.not_like('%@%'))
                       .values(kind='domain'))


def _ids_never_reused(table: str) -> None:
    """SQLite: AUTOINCREMENT on a table made by 0001, so a deleted row's id (an opaque id a
    client may still hold) is never given to a new row. PostgreSQL sequences never reuse."""
    if op.get_bind().dialect.name == "sqlite":
        with op.batch_alter_table(table, recreate="always",
                                  table_kwargs={"sqlite_autoincrement": True}):
            pass


def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint('fk_users_connection', type_='foreignkey')
        batch_op.drop_index('ix_users_account_email')
        batch_op.drop_index('ix_users_account_domain_email')
        batch_op.drop_column('connection_id')
        batch_op.drop_column('source')
        batch_op.drop_column('archive_start')
        batch_op.drop_column('allow_smtp')
        batch_op.drop_column('allow_pop')
        batch_op.drop_column('password_never_expires')
        batch_op.drop_column('force_password_change')
        batch_op.drop_column('domain')

    with op.batch_alter_table('profile_groups', schema=None) as batch_op:
        batch_op.drop_index('ix_profile_groups_account_source_id')
        batch_op.drop_constraint('fk_profile_groups_connection', type_='foreignkey')
        batch_op.drop_column('connection_id')
        batch_op.drop_column('source')

    with op.batch_alter_table('group_members', schema=None) as batch_op:
        batch_op.drop_column('notes')
        batch_op.drop_column('kind')

    with op.batch_alter_table('user_delegates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_delegates_delegate_id'))

    op.drop_table('user_delegates')
    op.drop_table('user_attributes')
    with op.batch_alter_table('user_aliases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_aliases_user_id'))
        batch_op.drop_index(batch_op.f('ix_user_aliases_account_id'))

    op.drop_table('user_aliases')
    with op.batch_alter_table('rewritten_urls', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rewritten_urls_account_id'))

    op.drop_table('rewritten_urls')
    with op.batch_alter_table('policies', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_policies_account_id'))
        batch_op.drop_index('ix_policies_account_family')

    op.drop_table('policies')
    with op.batch_alter_table('managed_urls', schema=None) as batch_op:
        batch_op.drop_index('ix_managed_urls_account_url')
        batch_op.drop_index(batch_op.f('ix_managed_urls_account_id'))

    op.drop_table('managed_urls')
    with op.batch_alter_table('managed_senders', schema=None) as batch_op:
        batch_op.drop_index('ix_managed_senders_account_id_id')
        batch_op.drop_index(batch_op.f('ix_managed_senders_account_id'))

    op.drop_table('managed_senders')
    with op.batch_alter_table('directory_connections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_directory_connections_account_id'))

    op.drop_table('directory_connections')
