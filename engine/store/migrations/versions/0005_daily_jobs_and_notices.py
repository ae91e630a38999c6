"""daily job runs and organisation notices

Revision ID: 0005
Revises: 0003
Create Date: 2026-12-01 18:50:00

The timer worker's once-a-day jobs (starting the reviews that fall due, sending the termly lists of reviews) record
the last day they ran; the termly lists are notices to an organisation, not tied to one case.
"""
from alembic import op
import sqlalchemy as sa
import engine.store.models


revision = '0005'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('daily_job_run',
    sa.Column('job', sa.String(length=60), nullable=False),
    sa.Column('last_run_on', sa.Date(), nullable=True),
    sa.Column('started_at', engine.store.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finished_at', engine.store.models.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('job', name=op.f('pk_daily_job_run'))
    )
    op.create_table('organisation_notice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=60), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('recipient_role', sa.String(length=40), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=False),
    sa.Column('case_ids', sa.JSON(), nullable=False),
    sa.Column('issued_at', engine.store.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'],
                            name=op.f('fk_organisation_notice_organisation_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisation_notice')),
    sa.UniqueConstraint('key', name=op.f('uq_organisation_notice_key'))
    )
    with op.batch_alter_table('organisation_notice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_organisation_notice_organisation_id'), ['organisation_id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('organisation_notice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organisation_notice_organisation_id'))
    op.drop_table('organisation_notice')
    op.drop_table('daily_job_run')
