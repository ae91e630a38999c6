"""a trigram index for finding a case by the child's name or its reference

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07 06:00:00

The case search (engine/lists/case_search.py) finds the words typed anywhere in the child's names ("first last" or
"last first") or the case reference. Without an index that reads every case a member of staff may see (about 225 ms
at 100,000 cases on SQLite). A trigram index answers "contains" from the index:

- SQLite: an FTS5 table with the trigram tokenizer (SQLite 3.34 or later), ``case_search``, one row per case (its
  rowid the case's id) holding the three texts on lines of their own, kept in step with ``case_record`` by triggers,
  so every way a case is written (the app, the importers, a restore) keeps it true. A search is a phrase MATCH, which
  on trigrams is "contains", without regard to case. Its shadow tables are FTS5's own.
- PostgreSQL: three GIN indexes with ``gin_trgm_ops`` (the ``pg_trgm`` extension, a trusted extension the database's
  owner may create) on exactly the expressions the search compares. Where the extension cannot be created, the
  migration goes on without the indexes, and the search still works, by reading every case, as before.

On SQLite fewer than three characters have no trigram: such a search reads the cases as before (and stops at the
first 1,001); PostgreSQL's index answers them too, reading the whole index, when its planner finds that cheaper.
"""
import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None

# The words of a case as the search sees them: on lines of their own, so that no typed text (which never holds a
# line break) matches across two of them.
_WORDS = ("{t}.child_first_name || ' ' || {t}.child_last_name || char(10) || {t}.child_last_name || ' ' || "
          "{t}.child_first_name || char(10) || {t}.reference")
# PostgreSQL: the expressions of engine/lists/case_search.py, character for character.
_PG_INDEXES = {
    'ix_case_record_search_name': "lower(child_first_name || ' ' || child_last_name)",
    'ix_case_record_search_reversed': "lower(child_last_name || ' ' || child_first_name)",
    'ix_case_record_search_reference': "lower(reference)",
}


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == 'sqlite':
        _sqlite_upgrade()
    elif bind.dialect.name == 'postgresql':
        _postgresql_upgrade(bind)


def _sqlite_upgrade() -> None:
    op.execute("CREATE VIRTUAL TABLE case_search USING fts5(words, tokenize='trigram')")
    op.execute(f"INSERT INTO case_search (rowid, words) SELECT id, {_WORDS.format(t='case_record')} FROM case_record")
    op.execute(f"CREATE TRIGGER case_search_insert AFTER INSERT ON case_record BEGIN "
               f"INSERT INTO case_search (rowid, words) VALUES (new.id, {_WORDS.format(t='new')}); END")
    op.execute(f"CREATE TRIGGER case_search_update AFTER UPDATE OF child_first_name, child_last_name, reference, id "
               f"ON case_record BEGIN DELETE FROM case_search WHERE rowid = old.id; "
               f"INSERT INTO case_search (rowid, words) VALUES (new.id, {_WORDS.format(t='new')}); END")
    op.execute("CREATE TRIGGER case_search_delete AFTER DELETE ON case_record BEGIN "
               "DELETE FROM case_search WHERE rowid = old.id; END")


def _postgresql_upgrade(bind: sa.engine.Connection) -> None:
    savepoint = bind.begin_nested()
    try:
        bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except sa.exc.DBAPIError:
        savepoint.rollback()  # not allowed here: the search reads every case instead (see above)
        return
    savepoint.commit()
    for name, expression in _PG_INDEXES.items():
        op.execute(f"CREATE INDEX {name} ON case_record USING gin (({expression}) gin_trgm_ops)")


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        for trigger in ('case_search_insert', 'case_search_update', 'case_search_delete'):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute("DROP TABLE IF EXISTS case_search")
    elif op.get_bind().dialect.name == 'postgresql':
        for name in _PG_INDEXES:
            op.execute(f"DROP INDEX IF EXISTS {name}")
