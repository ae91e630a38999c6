"""The planner statistics SQLite keeps only when asked (``ANALYZE``), for the tables whose lists need them.

Without statistics SQLite takes an equality on the first column of an index to match about ten rows, so for
``human_task.status = 'open'`` (nearly every row of a busy authority) it reads every open task along the status
index even where the other terms name a few cases' tasks: a task list searched for a child's name took 120-230 ms
at 100,000 open tasks, and 10 ms with the statistics of ``human_task`` (docs/benchmarks.md). The other tables' lists
are written to plan well without statistics, and some plan worse with them, so only the tables named here are
analysed: after the migrations, and once a day by the worker (the ``planner_statistics`` daily job) as they grow.
PostgreSQL gathers its own (autovacuum), so there this does nothing.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Connection

#: The tables analysed on SQLite.
ANALYSED = ("human_task",)


def refresh(connection: Connection) -> list[str]:
    """Gathers the statistics of ``ANALYSED`` on SQLite, in the caller's transaction; returns the tables analysed."""
    if connection.dialect.name != "sqlite":
        return []
    for table in ANALYSED:
        connection.exec_driver_sql(f"ANALYZE {table}")
    return list(ANALYSED)


def daily_job(engine: Any, today: date) -> list[str]:
    """The worker's daily job (engine/runtime/worker.py DAILY_JOBS): the statistics as the tables are today."""
    with engine.session_factory() as session:
        analysed = refresh(session.connection())
        session.commit()
    return analysed
