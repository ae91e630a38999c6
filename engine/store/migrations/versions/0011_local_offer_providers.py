"""Local Offer providers: who keeps an entry up to date, and the changes they propose for the LA to review

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 01:30:00

An entry may name the organisation that provides it (a health service, a charity; a school's or college's own entry
is provided by the setting it is about). Its staff propose changes, kept in ``local_offer_proposal`` beside the
published entry, which the LA's Local Offer editor publishes or returns with a reason.
"""
import sqlalchemy as sa
from alembic import op

from engine.store.types import UTCDateTime

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def _when(name: str, nullable: bool) -> sa.Column:
    return sa.Column(name, UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    with op.batch_alter_table('local_offer_entry') as batch:
        batch.add_column(sa.Column('provider_id', sa.Integer(), nullable=True))
        batch.create_foreign_key(batch.f('fk_local_offer_entry_provider_id_organisation'), 'organisation',
                                 ['provider_id'], ['id'])
        batch.create_index(batch.f('ix_local_offer_entry_provider_id'), ['provider_id'])
    op.create_table(
        'local_offer_proposal',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('entry_id', sa.Integer(), nullable=False),
        sa.Column('provider_id', sa.Integer(), nullable=False),
        sa.Column('changes', sa.JSON(), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        _when('proposed_at', False),
        sa.Column('proposed_by_id', sa.Integer(), nullable=True),
        _when('decided_at', True),
        sa.Column('decided_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['entry_id'], ['local_offer_entry.id'],
                                name=op.f('fk_local_offer_proposal_entry_id_local_offer_entry')),
        sa.ForeignKeyConstraint(['provider_id'], ['organisation.id'],
                                name=op.f('fk_local_offer_proposal_provider_id_organisation')),
        sa.ForeignKeyConstraint(['proposed_by_id'], ['user_account.id'],
                                name=op.f('fk_local_offer_proposal_proposed_by_id_user_account')),
        sa.ForeignKeyConstraint(['decided_by_id'], ['user_account.id'],
                                name=op.f('fk_local_offer_proposal_decided_by_id_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_local_offer_proposal')),
    )
    op.create_index('ix_local_offer_proposal_entry_status', 'local_offer_proposal', ['entry_id', 'status'])


def downgrade() -> None:
    op.drop_index('ix_local_offer_proposal_entry_status', table_name='local_offer_proposal')
    op.drop_table('local_offer_proposal')
    with op.batch_alter_table('local_offer_entry') as batch:
        batch.drop_index(batch.f('ix_local_offer_entry_provider_id'))
        batch.drop_constraint(batch.f('fk_local_offer_entry_provider_id_organisation'), type_='foreignkey')
        batch.drop_column('provider_id')
