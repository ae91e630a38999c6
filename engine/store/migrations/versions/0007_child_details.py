"""the child's sex and ethnicity on a case

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-08 10:00:00

The DfE's SEN2 person module asks for the child's sex and ethnicity, as the DfE's codes; a caseworker records them
on the case's "Child's details" page. Both may be empty (not recorded yet): the SEN2 export refuses such a record and
says what to fix.
"""
import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('case_record') as batch:
        batch.add_column(sa.Column('sex', sa.String(length=1), nullable=True))
        batch.add_column(sa.Column('ethnicity', sa.String(length=4), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('case_record') as batch:
        batch.drop_column('ethnicity')
        batch.drop_column('sex')
