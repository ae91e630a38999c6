"""API tokens: bearer tokens an administrator issues to an organisation for the JSON API (/api/v1)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 02:30:00

Only the SHA-256 of each token is stored (the token is shown once). Each token acts through an account of its own
(``user_id``, no password) holding one role at the organisation, so that the web pages' authorization applies to it
unchanged; ``scope`` is read or write; ``expires_on`` is the last London day it works; ``last_used_at`` is written on
use and ``revoked_at`` ends it for good.
"""
import sqlalchemy as sa
from alembic import op

import engine.store.models

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'api_token',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=100), nullable=False),
        sa.Column('role', sa.String(length=40), nullable=False),
        sa.Column('scope', sa.String(length=10), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('prefix', sa.String(length=16), nullable=False),
        sa.Column('created_at', engine.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('expires_on', sa.Date(), nullable=False),
        sa.Column('last_used_at', engine.store.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column('revoked_at', engine.store.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column('revoked_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'],
                                name=op.f('fk_api_token_organisation_id_organisation')),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_api_token_user_id_user_account')),
        sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'],
                                name=op.f('fk_api_token_created_by_id_user_account')),
        sa.ForeignKeyConstraint(['revoked_by_id'], ['user_account.id'],
                                name=op.f('fk_api_token_revoked_by_id_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_api_token')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_api_token_token_hash')),
        sa.UniqueConstraint('user_id', name=op.f('uq_api_token_user_id')),
    )
    op.create_index(op.f('ix_api_token_organisation_id'), 'api_token', ['organisation_id'])


def downgrade() -> None:
    op.drop_index(op.f('ix_api_token_organisation_id'), table_name='api_token')
    op.drop_table('api_token')
