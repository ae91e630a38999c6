"""what each task is about (taskDetail)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 01:30:00

A route declares, with the ``taskDetail`` property of a user task, an expression naming what the task is about (the
adviser, the setting, the review): a case with five advice requests has five tasks that say from whom. The text is
worked out when the task opens and kept on the task's row, so that lists never read a workflow. Tasks opened before
this have none (they show their name alone), until an administrator migrates their route to a new version.
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('human_task') as batch:
        batch.add_column(sa.Column('detail', sa.String(length=300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('human_task') as batch:
        batch.drop_column('detail')
