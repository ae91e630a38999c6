"""requests for assessment, account tokens, the child's identifiers on a case

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 21:10:00

The front door: requests for an EHC needs assessment (online or recorded by the LA) with their exact moment of
receipt, one-off tokens to set a password, and what a caseworker matches a child on (address, postcode, UPN).
"""
from alembic import op
import sqlalchemy as sa
import engine.store.models


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('case_record') as batch:
        batch.add_column(sa.Column('address', sa.Text(), nullable=True))
        batch.add_column(sa.Column('postcode', sa.String(length=10), nullable=True))
        batch.add_column(sa.Column('upn', sa.String(length=13), nullable=True))
        batch.create_index('ix_case_record_upn', ['upn'])
        batch.create_index('ix_case_record_date_of_birth', ['date_of_birth'])
    op.create_table('assessment_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=40), nullable=True),
    sa.Column('la_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('received_at', engine.store.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('requester_type', sa.String(length=20), nullable=True),
    sa.Column('requester_name', sa.String(length=200), nullable=True),
    sa.Column('requester_email', sa.String(length=200), nullable=True),
    sa.Column('requester_phone', sa.String(length=40), nullable=True),
    sa.Column('relationship_to_child', sa.String(length=80), nullable=True),
    sa.Column('requester_user_id', sa.Integer(), nullable=True),
    sa.Column('requester_org_id', sa.Integer(), nullable=True),
    sa.Column('child_first_name', sa.String(length=100), nullable=True),
    sa.Column('child_last_name', sa.String(length=100), nullable=True),
    sa.Column('child_date_of_birth', sa.Date(), nullable=True),
    sa.Column('child_address', sa.Text(), nullable=True),
    sa.Column('child_postcode', sa.String(length=10), nullable=True),
    sa.Column('child_upn', sa.String(length=13), nullable=True),
    sa.Column('setting_name', sa.String(length=200), nullable=True),
    sa.Column('setting_org_id', sa.Integer(), nullable=True),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('attachments', sa.JSON(), nullable=False),
    sa.Column('draft_token_hash', sa.String(length=64), nullable=True),
    sa.Column('created_at', engine.store.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', engine.store.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('instance_id', sa.Integer(), nullable=True),
    sa.Column('registered_at', engine.store.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('registered_by_id', sa.Integer(), nullable=True),
    sa.Column('closed_at', engine.store.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_by_id', sa.Integer(), nullable=True),
    sa.Column('closed_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['la_id'], ['organisation.id'], name=op.f('fk_assessment_request_la_id_organisation')),
    sa.ForeignKeyConstraint(['requester_user_id'], ['user_account.id'],
                            name=op.f('fk_assessment_request_requester_user_id_user_account')),
    sa.ForeignKeyConstraint(['requester_org_id'], ['organisation.id'],
                            name=op.f('fk_assessment_request_requester_org_id_organisation')),
    sa.ForeignKeyConstraint(['setting_org_id'], ['organisation.id'],
                            name=op.f('fk_assessment_request_setting_org_id_organisation')),
    sa.ForeignKeyConstraint(['case_id'], ['case_record.id'], name=op.f('fk_assessment_request_case_id_case_record')),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'],
                            name=op.f('fk_assessment_request_instance_id_process_instance')),
    sa.ForeignKeyConstraint(['registered_by_id'], ['user_account.id'],
                            name=op.f('fk_assessment_request_registered_by_id_user_account')),
    sa.ForeignKeyConstraint(['closed_by_id'], ['user_account.id'],
                            name=op.f('fk_assessment_request_closed_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assessment_request')),
    sa.UniqueConstraint('reference', name=op.f('uq_assessment_request_reference')),
    sa.UniqueConstraint('draft_token_hash', name=op.f('uq_assessment_request_draft_token_hash')),
    )
    op.create_index('ix_assessment_request_la_status', 'assessment_request', ['la_id', 'status'])
    op.create_index(op.f('ix_assessment_request_requester_user_id'), 'assessment_request', ['requester_user_id'])
    op.create_index(op.f('ix_assessment_request_case_id'), 'assessment_request', ['case_id'])
    op.create_table('account_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('purpose', sa.String(length=20), nullable=False),
    sa.Column('created_at', engine.store.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', engine.store.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', engine.store.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_account_token_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account_token')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_account_token_token_hash')),
    )
    op.create_index(op.f('ix_account_token_user_id'), 'account_token', ['user_id'])


def downgrade() -> None:
    op.drop_table('account_token')
    op.drop_table('assessment_request')
    with op.batch_alter_table('case_record') as batch:
        batch.drop_index('ix_case_record_date_of_birth')
        batch.drop_index('ix_case_record_upn')
        batch.drop_column('upn')
        batch.drop_column('postcode')
        batch.drop_column('address')
