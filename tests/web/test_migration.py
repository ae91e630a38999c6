"""The migration that adds the web tables matches their models."""

from __future__ import annotations

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
