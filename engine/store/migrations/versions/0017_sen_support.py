"""SEN support: a setting's notional SEN budget by financial year, to set the provision map against (issue 19).

The rest of issue 19's work needs no column: the setting's phase and the progress check are the route's data, a
proposed move of setting is a ``message`` row and the family's consent a task's answers, and the move itself changes
the case's ``setting`` party (engine/casework/sen_support_move.py).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 03:30:00
"""
import sqlalchemy as sa
from alembic import op

import engine.store.models

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'sen_support_budget',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organisation_id', sa.Integer(), nullable=False),
        sa.Column('year_from', sa.Integer(), nullable=False),
        sa.Column('amount', sa.Integer(), nullable=False),
        sa.Column('recorded_at', engine.store.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column('recorded_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'],
                                name=op.f('fk_sen_support_budget_organisation_id_organisation')),
        sa.ForeignKeyConstraint(['recorded_by_id'], ['user_account.id'],
                                name=op.f('fk_sen_support_budget_recorded_by_id_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sen_support_budget')),
        sa.UniqueConstraint('organisation_id', 'year_from', name='uq_sen_support_budget_year'),
    )


def downgrade() -> None:
    op.drop_table('sen_support_budget')
