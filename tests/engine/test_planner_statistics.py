"""SQLite's planner statistics for the task lists (engine/store/planner_statistics.py): gathered after the migrations
and by the worker's daily job, they make a searched task list read the few cases' tasks by case instead of every
open task along the status index."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, func, insert, select, text

from engine.lists.tasks import TaskFilters, task_list
from engine.runtime.services import Services
from engine.runtime.worker import run_daily_jobs
from engine.store.models import Case, HumanTask, ProcessInstance
from tests.conftest import World
from tests.engine.test_runtime import deploy_demo

CASES = 3000


def _many_open_tasks(services: Services, world: World) -> None:
    """``CASES`` cases of the LA, each with one open caseworker task (as the benchmark loads them); one child in
    30 is called Rare."""
    engine = services.engine
    deploy_demo(engine)
    with services.session_factory() as s:
        case = engine.open_case(s, world.la.id, "Template", "Case")
        s.commit()
        version = s.execute(text("SELECT id FROM process_version LIMIT 1")).scalar()
        now = engine.clock.now()
        first = case.id + 1
        ids = range(first, first + CASES)
        s.execute(insert(Case), [{"id": i, "reference": f"BLK-{i:06d}", "child_first_name": f"Kid{i}",
                                  "child_last_name": "Rare" if i % 30 == 0 else "Many", "la_id": world.la.id,
                                  "status": "open", "created_at": now} for i in ids])
        s.execute(insert(ProcessInstance), [
            {"id": i, "case_id": i, "process_version_id": version, "process_id": "bulk", "status": "waiting_person",
             "state": "{}", "serializer_version": "1", "revision": 1, "created_at": now, "updated_at": now}
            for i in ids])
        s.execute(insert(HumanTask), [
            {"instance_id": i, "case_id": i, "task_guid": f"g{i}", "process_id": "bulk", "bpmn_id": "T", "name": "Task",
             "role": "la_caseworker", "organisation_id": world.la.id, "status": "open", "created_at": now}
            for i in ids])
        s.commit()


def _searched_plan(services: Services, world: World) -> str:
    """The plan of the query that finds a searched list's tasks (the one naming the matching cases)."""
    seen: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, params: Any, context: Any, executemany: bool) -> None:
        if "FROM human_task" in statement and "human_task.case_id IN" in statement:
            seen.append((statement, params))

    event.listen(services.db, "before_cursor_execute", record)
    try:
        with services.session_factory() as s:
            page = task_list(s, world.users["caseworker"].id, TaskFilters(q="rare"), services.engine.clock.today())
    finally:
        event.remove(services.db, "before_cursor_execute", record)
    assert page.total == CASES // 30 and all(row.child_name.endswith(" Rare") for row in page.rows)
    statement, params = seen[0]
    with services.db.connect() as conn:
        return " | ".join(str(row[-1]) for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", params))


def test_the_daily_job_gathers_the_task_statistics_and_a_search_reads_tasks_by_case(services: Services,
                                                                                    world: World) -> None:
    _many_open_tasks(services, world)
    with services.db.connect() as conn:
        conn.exec_driver_sql("DELETE FROM sqlite_stat1")  # as a database that has grown since its last statistics
        conn.commit()
    services.db.dispose()  # connections read the statistics when they open
    before = _searched_plan(services, world)
    assert run_daily_jobs(services.engine)["planner_statistics"] is True
    with services.db.connect() as conn:
        analysed = {row[0] for row in conn.exec_driver_sql("SELECT idx FROM sqlite_stat1 WHERE tbl = 'human_task'")}
    assert {"ix_human_task_case_id", "ix_human_task_status_due"} <= analysed
    after = _searched_plan(services, world)
    assert "ix_human_task_case_id" in after and "ix_human_task_status_due" not in after, after
    assert before != after  # without them SQLite takes the status index (every open task): what the job is for


def test_the_migrations_leave_statistics_for_the_tasks_already_there(services: Services, world: World) -> None:
    from engine.store.migrate import upgrade

    _many_open_tasks(services, world)
    upgrade(services.db)  # nothing to apply: the statistics are gathered all the same
    with services.db.connect() as conn:
        stat = conn.exec_driver_sql("SELECT stat FROM sqlite_stat1 WHERE idx = 'ix_human_task_case_id'").scalar()
    with services.session_factory() as s:
        tasks = s.scalar(select(func.count(HumanTask.id)))
    assert stat is not None and int(stat.split()[0]) == tasks == CASES  # the rows as they are now
