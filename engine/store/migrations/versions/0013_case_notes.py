"""a contact log on each case (calls, emails, meetings: who, when, what); the child's NHS number and ULN

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 01:30:00

Read only by the responsible authority's caseworkers and managers (engine/casework/case_notes.py); entries are never
changed, so there is no updated_at. The NHS number and the unique learner number are optional details of the child,
recorded where they are given.
"""
import sqlalchemy as sa
from alembic import op

import engine.store.models

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'case_note',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('happened_on', sa.Date(), nullable=False),
        sa.Column('with_whom', sa.String(length=200), nullable=False),
        sa.Column('summary', sa.Text(), nullable=False),
        sa.Column('recorded_at', engine.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column('recorded_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['case_id'], ['case_record.id'], name=op.f('fk_case_note_case_id_case_record')),
        sa.ForeignKeyConstraint(['recorded_by_id'], ['user_account.id'],
                                name=op.f('fk_case_note_recorded_by_id_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_case_note')),
    )
    op.create_index('ix_case_note_case_happened', 'case_note', ['case_id', 'happened_on'])
    with op.batch_alter_table('case_record') as batch:
        batch.add_column(sa.Column('nhs_number', sa.String(length=10), nullable=True))
        batch.add_column(sa.Column('uln', sa.String(length=10), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('case_record') as batch:
        batch.drop_column('uln')
        batch.drop_column('nhs_number')
    op.drop_index('ix_case_note_case_happened', table_name='case_note')
    op.drop_table('case_note')
