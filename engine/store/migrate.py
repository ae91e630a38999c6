"""Applies the Alembic migrations (numbered, in engine/store/migrations/versions) without an alembic.ini."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine

from engine.store import planner_statistics

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    # ConfigParser interpolation would choke on '%' in passwords.
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    _run(engine, lambda cfg: command.upgrade(cfg, revision))


def downgrade(engine: Engine, revision: str) -> None:
    _run(engine, lambda cfg: command.downgrade(cfg, revision))


def _run(engine: Engine, migrate: Callable[[Config], None]) -> None:
    """Runs the migrations in one transaction. On SQLite, changing a column rebuilds its table (Alembic's batch
    mode): with foreign keys enforced, dropping the old table fails as soon as another table's rows point at it (a
    case's parties). So they are off while the migrations run (SQLite only takes that outside a transaction) and
    checked at the end instead: a migration that left a dangling reference fails and is rolled back."""
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as connection:
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        try:
            with connection.begin():
                cfg.attributes["connection"] = connection
                migrate(cfg)
                if sqlite:
                    dangling = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if dangling:
                        raise RuntimeError(f"The migration left rows pointing at rows that do not exist: {dangling[:5]}")
                planner_statistics.refresh(connection)  # the lists' plans, from the first request (SQLite only)
        finally:
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()


def pending(engine: Engine) -> list[str]:
    """The migrations not yet applied to this database, oldest first (empty: it is up to date)."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config(engine.url.render_as_string(hide_password=False)))
    with engine.connect() as connection:
        applied = set(MigrationContext.configure(connection).get_current_heads())
    missing: list[str] = []
    for revision in script.walk_revisions():  # newest first
        if revision.revision in applied:
            break
        missing.append(revision.revision)
    return list(reversed(missing))
