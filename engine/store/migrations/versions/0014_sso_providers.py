"""identity providers for staff single sign-on (OpenID Connect), one per organisation

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 02:30:00

An organisation's administrator connects its identity provider (engine/people/sso.py): the issuer, the client id and
the client secret, which is stored only encrypted under a key derived from the app's secret key
(engine/people/sso_secrets.py). Users are matched by email to existing staff of that organisation, so no column is
added to ``user_account``.
"""
import sqlalchemy as sa
from alembic import op

import engine.store.models

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'identity_provider',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=False),
        sa.Column('issuer', sa.String(length=500), nullable=False),
        sa.Column('client_id', sa.String(length=300), nullable=False),
        sa.Column('client_secret_encrypted', sa.Text(), nullable=False),
        sa.Column('display_name', sa.String(length=200), nullable=True),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('created_at', engine.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_at', engine.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'],
                                name=op.f('fk_identity_provider_organisation_id_organisation')),
        sa.ForeignKeyConstraint(['updated_by_id'], ['user_account.id'],
                                name=op.f('fk_identity_provider_updated_by_id_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_identity_provider')),
        sa.UniqueConstraint('organisation_id', name=op.f('uq_identity_provider_organisation_id')),
    )


def downgrade() -> None:
    op.drop_table('identity_provider')
