"""The migrations match their models: the web tables, and the child's details (0007) down and up again."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from engine.runtime.services import Services
from engine.store.models import Base

WEB_TABLES = {"outbox_email", "web_session"}


def test_the_web_tables_are_migrated_as_modelled(services: Services) -> None:
    with services.db.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)

    def table_of(diff: object) -> str | None:
        item = diff[-1] if isinstance(diff, list) else diff
        for part in item if isinstance(item, tuple) else ():
            name = getattr(part, "name", None) if not isinstance(part, str) else None
            table = getattr(part, "table", None)
            if table is not None and getattr(table, "name", None) in WEB_TABLES:
                return str(table.name)
            if name in WEB_TABLES:
                return str(name)
            if isinstance(part, str) and part in WEB_TABLES:
                return part
        return None

    assert [d for d in differences if table_of(d)] == []


def test_the_childs_sex_and_ethnicity_migrate_down_and_up_again(services: Services) -> None:
    """0007 adds case_record.sex and .ethnicity as modelled; going back to 0006 drops them and keeps the cases (and
    what 0006 added); going forward again brings them back, empty."""
    from sqlalchemy import inspect, text

    from engine.store.migrate import downgrade, upgrade

    def columns() -> dict[str, object]:
        return {c["name"]: c["type"] for c in inspect(services.db).get_columns("case_record")}

    with services.db.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = [d for d in compare_metadata(context, Base.metadata) if "case_record" in repr(d)]
    assert differences == []
    assert {"sex", "ethnicity"} <= set(columns())
    with services.db.begin() as connection:
        connection.execute(text("INSERT INTO organisation (id, name, kind, uses_ehcflow, active) "
                                "VALUES (1, 'LA', 'local_authority', 1, 1)"))
        connection.execute(text("INSERT INTO case_record (reference, child_first_name, child_last_name, la_id, "
                                "status, created_at, upn, sex, ethnicity) VALUES ('EHC-1', 'Ann', 'Lee', 1, 'open', "
                                "'2026-03-02 10:00:00', 'B801200005001', 'F', 'WBRI')"))
    downgrade(services.db, "0006")
    assert not {"sex", "ethnicity"} & set(columns()) and "upn" in columns()
    with services.db.connect() as connection:
        assert connection.execute(text("SELECT reference, upn FROM case_record")).all() == [("EHC-1", "B801200005001")]
    upgrade(services.db)
    assert {"sex", "ethnicity"} <= set(columns())
    with services.db.connect() as connection:
        assert connection.execute(text("SELECT sex, ethnicity FROM case_record")).all() == [(None, None)]


def test_a_database_with_cases_parties_and_notes_migrates_down_and_up(services: Services, world: Any) -> None:
    """Dropping a column of case_record on SQLite rebuilds the table; rows of other tables that point at it (the
    case's parties, its contact log) must not stop that (foreign keys are checked again afterwards, not during)."""
    from sqlalchemy import text

    from engine.store.migrate import downgrade, pending, upgrade

    with services.db.begin() as connection:
        connection.execute(text("INSERT INTO case_note (case_id, kind, happened_on, with_whom, summary, recorded_at) "
                                f"VALUES ({world.case_id}, 'call', '2026-03-02', 'Mother', 'Rang', "
                                "'2026-03-02 10:00:00')"))
    downgrade(services.db, "0006")
    assert pending(services.db)
    upgrade(services.db)
    assert pending(services.db) == []
    with services.db.connect() as connection:
        parties = connection.execute(text(f"SELECT count(*) FROM case_party WHERE case_id = {world.case_id}")).scalar()
        assert parties == 4
        assert connection.execute(text("PRAGMA foreign_key_check")).all() == []
