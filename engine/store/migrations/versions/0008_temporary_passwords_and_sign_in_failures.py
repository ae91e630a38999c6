"""temporary passwords expire; sign-in failures counted in the database

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-09 10:00:00

A password an administrator sets is temporary: the person must choose their own at first sign-in, and it stops
working after EHCFLOW_TEMP_PASSWORD_DAYS. Failed sign-ins per client address (and per email address that is not an
account) were counted in each web process's memory, so with several processes the limit was several times higher;
they are rows now.
"""
import sqlalchemy as sa
from alembic import op

import engine.store.models

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('user_account') as batch:
        batch.add_column(sa.Column('temporary_password_set_at', engine.store.models.UTCDateTime(timezone=True),
                                   nullable=True))
    op.create_table(
        'sign_in_failure',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('at', engine.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_failure')),
    )
    op.create_index('ix_sign_in_failure_kind_key_at', 'sign_in_failure', ['kind', 'key', 'at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_sign_in_failure_kind_key_at', table_name='sign_in_failure')
    op.drop_table('sign_in_failure')
    with op.batch_alter_table('user_account') as batch:
        batch.drop_column('temporary_password_set_at')
