"""indexes for the lists at 100,000 open tasks: the task lists' due order and the case list's name order

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 02:30:00

The task lists read their due order (overdue first, then by date, undated last) as ranges of
``ix_human_task_status_due`` (engine/lists/tasks.py), and the case list reads the children by last and first name
along ``ix_case_record_child_sort`` (engine/lists/cases.py), so a page stops after its rows instead of sorting every
open task or case. Counts stop at 1,001 rows (engine/lists/paging.py): no table for counts is needed.

On SQLite the names are indexed ``COLLATE NOCASE``, which orders as the list's ``lower()`` does there (both fold
ASCII letters only) and reflects as plain columns, as modelled. An index on ``lower(...)`` would serve PostgreSQL's
order too, but SQLAlchemy cannot reflect expression indexes on SQLite (a warning the tests treat as an error), so
PostgreSQL gets the plain columns and sorts the list (see docs/benchmarks.md).
"""
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_human_task_status_due', 'human_task', ['status', 'due_date', 'id'])
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('CREATE INDEX ix_case_record_child_sort ON case_record '
                   '(child_last_name COLLATE NOCASE, child_first_name COLLATE NOCASE, id)')
    else:
        op.create_index('ix_case_record_child_sort', 'case_record', ['child_last_name', 'child_first_name', 'id'])


def downgrade() -> None:
    op.drop_index('ix_case_record_child_sort', table_name='case_record')
    op.drop_index('ix_human_task_status_due', table_name='human_task')
