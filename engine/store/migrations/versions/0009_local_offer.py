"""the Local Offer: entries, fixed pages, comments with the LA's response

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 00:30:00

The LA's public directory of SEND provision (Code of Practice 4.30-4.62): its entries (an education entry points at
the setting's organisation row), the fixed pages the LA writes, and families' comments with the LA's response and
action ("You said, we did").
"""
import sqlalchemy as sa
from alembic import op

import engine.store.models

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def _stamp() -> sa.Column:
    return sa.Column('updated_at', engine.store.models.UTCDateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table(
        'local_offer_entry',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('la_id', sa.Integer(), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=True),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('category', sa.String(length=40), nullable=False),
        sa.Column('needs', sa.JSON(), nullable=False),
        sa.Column('age_from', sa.Integer(), nullable=False),
        sa.Column('age_to', sa.Integer(), nullable=False),
        sa.Column('area', sa.String(length=100), nullable=False),
        sa.Column('offers', sa.Text(), nullable=False),
        sa.Column('who_for', sa.Text(), nullable=False),
        sa.Column('eligibility', sa.Text(), nullable=False),
        sa.Column('how_to_access', sa.Text(), nullable=False),
        sa.Column('contact_name', sa.String(length=200), nullable=False),
        sa.Column('contact_email', sa.String(length=200), nullable=False),
        sa.Column('contact_phone', sa.String(length=40), nullable=False),
        sa.Column('website', sa.String(length=300), nullable=False),
        sa.Column('opening_hours', sa.Text(), nullable=False),
        sa.Column('cost', sa.Text(), nullable=False),
        sa.Column('sen_report_url', sa.String(length=300), nullable=False),
        sa.Column('last_checked_on', sa.Date(), nullable=True),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('created_at', engine.store.models.UTCDateTime(timezone=True), nullable=False),
        _stamp(),
        sa.Column('updated_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['la_id'], ['organisation.id'], name=op.f('fk_local_offer_entry_la_id_organisation')),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'],
                                name=op.f('fk_local_offer_entry_organisation_id_organisation')),
        sa.ForeignKeyConstraint(['updated_by_id'], ['user_account.id'],
                                name=op.f('fk_local_offer_entry_updated_by_id_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_local_offer_entry')),
    )
    op.create_index('ix_local_offer_entry_la_status', 'local_offer_entry', ['la_id', 'status'])
    op.create_index(op.f('ix_local_offer_entry_category'), 'local_offer_entry', ['category'])
    op.create_index(op.f('ix_local_offer_entry_organisation_id'), 'local_offer_entry', ['organisation_id'])
    op.create_table(
        'local_offer_page',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('la_id', sa.Integer(), nullable=False),
        sa.Column('slug', sa.String(length=60), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        _stamp(),
        sa.Column('updated_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['la_id'], ['organisation.id'], name=op.f('fk_local_offer_page_la_id_organisation')),
        sa.ForeignKeyConstraint(['updated_by_id'], ['user_account.id'],
                                name=op.f('fk_local_offer_page_updated_by_id_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_local_offer_page')),
        sa.UniqueConstraint('la_id', 'slug', name=op.f('uq_local_offer_page_la_id')),
    )
    op.create_table(
        'local_offer_comment',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('la_id', sa.Integer(), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('year', sa.Integer(), nullable=False),
        sa.Column('received_at', engine.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column('client_key', sa.String(length=64), nullable=False),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('response', sa.Text(), nullable=False),
        sa.Column('action', sa.Text(), nullable=False),
        sa.Column('moderated_at', engine.store.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column('moderated_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['la_id'], ['organisation.id'],
                                name=op.f('fk_local_offer_comment_la_id_organisation')),
        sa.ForeignKeyConstraint(['moderated_by_id'], ['user_account.id'],
                                name=op.f('fk_local_offer_comment_moderated_by_id_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_local_offer_comment')),
    )
    op.create_index('ix_local_offer_comment_la_status', 'local_offer_comment', ['la_id', 'status'])
    op.create_index(op.f('ix_local_offer_comment_client_key'), 'local_offer_comment', ['client_key'])


def downgrade() -> None:
    op.drop_index(op.f('ix_local_offer_comment_client_key'), table_name='local_offer_comment')
    op.drop_index('ix_local_offer_comment_la_status', table_name='local_offer_comment')
    op.drop_table('local_offer_comment')
    op.drop_table('local_offer_page')
    op.drop_index(op.f('ix_local_offer_entry_organisation_id'), table_name='local_offer_entry')
    op.drop_index(op.f('ix_local_offer_entry_category'), table_name='local_offer_entry')
    op.drop_index('ix_local_offer_entry_la_status', table_name='local_offer_entry')
    op.drop_table('local_offer_entry')
