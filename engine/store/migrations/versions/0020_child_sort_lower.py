"""PostgreSQL: the children's names in the order the lists sort them, lower case

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07 07:00:00

The case list and the tasks sorted by child order by ``lower(last name), lower(first name)`` on PostgreSQL
(engine/lists/cases.py ``child_name_order``). Migration 0016 indexed the plain columns there (an expression index
cannot be reflected on SQLite, where the names are indexed ``COLLATE NOCASE`` instead), so PostgreSQL sorted every
case or task for each page. This index holds the very expressions, so a page reads the children in order and stops
after its rows (docs/benchmarks.md). SQLite is unchanged.
"""
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('CREATE INDEX ix_case_record_child_sort_lower ON case_record '
                   '(lower(child_last_name), lower(child_first_name), id)')


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP INDEX IF EXISTS ix_case_record_child_sort_lower')
