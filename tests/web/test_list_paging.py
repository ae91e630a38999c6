"""Lists that do not count the world (issue 16): counts stop past 1,000, pages reach no deeper, and the task lists'
due order read as index ranges gives the same rows in the same order as the one ORDER BY it replaces, ties and
exception claims included, whichever way the list is read."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select, text

from engine.admin.instance_admin import InstanceFilters, admin_counts, instance_list
from engine.lists.cases import case_list
from engine.lists.paging import LIST_CAP, Page
from engine.lists.tasks import TASK_STATUSES, TaskFilters, task_list
from engine.people.roles import Role
from engine.runtime.services import Services
from engine.runtime.workflow_engine import WorkflowEngine
from engine.store.models import Case, Deadline, HumanTask, ProcessInstance
from tests.conftest import World, deploy_files
from tests.web.conftest import DATA, ROUTE, text_of

MANY = LIST_CAP + 60


@pytest.fixture(autouse=True)
def _deployed(web_route: str) -> None:
    """The web test route, whose first task the bulk-loaded tasks copy."""


def bulk_tasks(services: Services, engine: WorkflowEngine, world: World, count: int,
               due: Any = lambda i, today: today + timedelta(days=i % 40 - 10)) -> list[int]:
    """``count`` more cases of the LA, each with a running instance and one open caseworker task due ``due(i)``,
    cloned from one real instance's rows (as the benchmark loads them). Returns the task ids."""
    with services.session_factory() as s:
        case = engine.open_case(s, world.la.id, "Template", "Case", "2016-02-03")
        s.commit()
        template_case = case.id
    engine.start(template_case, ROUTE)
    today = engine.clock.today()
    with services.session_factory() as s:
        task = s.scalars(select(HumanTask).where(HumanTask.case_id == template_case)).one()
        inst = s.get(ProcessInstance, task.instance_id)
        assert inst is not None
        first_case = max(s.scalars(select(Case.id))) + 1
        first_inst = max(s.scalars(select(ProcessInstance.id))) + 1
        now = engine.clock.now()
        cases = range(first_case, first_case + count)
        s.execute(insert(Case), [{"id": c, "reference": f"BLK-{c:06d}", "child_first_name": f"Kid{c % 7}",
                                  "child_last_name": ["smith", "Smith", "Adams", "adams", "Zed"][c % 5],
                                  "la_id": world.la.id, "status": "open", "created_at": now} for c in cases])
        s.execute(insert(ProcessInstance), [
            {"id": first_inst + k, "case_id": c, "process_version_id": inst.process_version_id,
             "process_id": inst.process_id, "status": inst.status, "state": inst.state,
             "serializer_version": inst.serializer_version, "revision": 1, "created_at": now, "updated_at": now}
            for k, c in enumerate(cases)])
        s.execute(insert(HumanTask), [
            {"instance_id": first_inst + k, "case_id": c, "task_guid": task.task_guid, "process_id": task.process_id,
             "bpmn_id": task.bpmn_id, "name": task.name, "role": Role.CASEWORKER.value, "organisation_id": world.la.id,
             "status": "open", "created_at": now, "due_date": due(k, today)} for k, c in enumerate(cases)])
        s.commit()
        return list(s.scalars(select(HumanTask.id).where(HumanTask.case_id.in_(cases))))


def claim_exceptions(services: Services, task_ids: list[int], every: int) -> set[int]:
    """An exception claimed on the deadline of every ``every``-th task (it leaves the overdue run)."""
    chosen = set(task_ids[::every])
    with services.session_factory() as s:
        for task in s.scalars(select(HumanTask).where(HumanTask.id.in_(chosen))):
            s.add(Deadline(case_id=task.case_id, instance_id=task.instance_id, key="k", name="A deadline",
                           attached_task_guid=task.task_guid, due_date=task.due_date or date(2026, 1, 1),
                           status="open", exception_reason="family_unavailable"))
        s.commit()
    return chosen


def due_order(services: Services, today: date, claimed: set[int], descending: bool) -> list[int]:
    """Every open task id in the list's due order, worked out here from its definition: overdue work without an
    exception first, then the rest, dated before undated, by date; ties by id (ascending either way)."""
    with services.session_factory() as s:
        tasks = s.execute(select(HumanTask.id, HumanTask.due_date).where(
            HumanTask.status == "open", HumanTask.role == Role.CASEWORKER.value)).all()

    def overdue(due: date | None, task_id: int) -> bool:
        return due is not None and due < today and task_id not in claimed

    def key(row: Any) -> tuple[Any, ...]:
        task_id, due = row
        parts = (0 if overdue(due, task_id) else 1, due is None, due.toordinal() if due else 0)
        return tuple(-p for p in parts) + (task_id,) if descending else (*parts, task_id)
    return [task_id for task_id, _ in sorted(tasks, key=key)]


def read_pages(services: Services, user_id: int, today: date, **chosen: Any) -> tuple[list[int], Page[Any]]:
    """Every page of a task list, one after the other, as someone clicking "Next" would."""
    ids: list[int] = []
    number, page = 1, None
    while True:
        with services.session_factory() as s:
            page = task_list(s, user_id, TaskFilters(page=number, **chosen), today)
        ids.extend(row.id for row in page.rows)
        if number >= page.pages:
            return ids, page
        number += 1


@pytest.mark.parametrize("descending", [False, True])
def test_due_order_pages_match_the_one_query_order_with_ties_and_exceptions(
        services: Services, engine: WorkflowEngine, world: World, descending: bool) -> None:
    ids = bulk_tasks(services, engine, world, MANY,
                     due=lambda i, today: None if i % 9 == 0 else today + timedelta(days=i % 40 - 10))
    claimed = claim_exceptions(services, ids, every=13)
    today = engine.clock.today()
    caseworker = world.users["caseworker"].id
    listed, last = read_pages(services, caseworker, today, view="team", per_page=50, descending=descending)
    assert last.more and last.total == LIST_CAP + 1 and last.total_text == "more than 1,000"
    assert last.pages == LIST_CAP // 50
    assert listed == due_order(services, today, claimed, descending)[:LIST_CAP]
    # Ties: several tasks share each due date, so the id decides within a date, page after page.
    assert len({row for row in listed}) == LIST_CAP


def test_a_page_past_the_last_is_the_last_and_nothing_deeper_is_read(
        services: Services, engine: WorkflowEngine, world: World) -> None:
    bulk_tasks(services, engine, world, MANY)
    today = engine.clock.today()
    with services.session_factory() as s:
        deep = task_list(s, world.users["caseworker"].id, TaskFilters(view="team", page=999), today)
        last = task_list(s, world.users["caseworker"].id, TaskFilters(view="team", page=LIST_CAP // 25), today)
    assert deep.page == last.page == LIST_CAP // 25
    assert [r.id for r in deep.rows] == [r.id for r in last.rows]
    assert (deep.first_index, deep.last_index) == (LIST_CAP - 24, LIST_CAP)


def test_each_status_filter_lists_exactly_the_tasks_of_that_status(
        services: Services, engine: WorkflowEngine, world: World) -> None:
    ids = bulk_tasks(services, engine, world, 120,
                     due=lambda i, today: None if i % 11 == 0 else today + timedelta(days=i % 30 - 10))
    claim_exceptions(services, ids, every=7)
    today = engine.clock.today()
    caseworker = world.users["caseworker"].id
    everything, _ = read_pages(services, caseworker, today, view="team", per_page=200)
    with services.session_factory() as s:
        every_row = task_list(s, caseworker, TaskFilters(view="team", per_page=200), today).rows
    by_status: dict[str, set[int]] = {}
    for row in every_row:
        by_status.setdefault(row.status, set()).add(row.id)
    assert set(by_status) == set(TASK_STATUSES)  # the data has tasks of every status
    for status in TASK_STATUSES:
        listed, _ = read_pages(services, caseworker, today, view="team", status=status, per_page=200)
        assert set(listed) == by_status[status], status
    assert sorted(everything) == sorted(row.id for row in every_row)


def test_below_the_cap_the_total_is_exact_and_the_order_unchanged(
        services: Services, engine: WorkflowEngine, world: World) -> None:
    ids = bulk_tasks(services, engine, world, 80)
    claimed = claim_exceptions(services, ids, every=5)
    today = engine.clock.today()
    listed, last = read_pages(services, world.users["caseworker"].id, today, view="team", per_page=25)
    assert not last.more and last.total == len(due_order(services, today, claimed, False))
    assert listed == due_order(services, today, claimed, False)


def test_the_case_list_counts_to_more_than_1000_and_sorts_names_whatever_their_case(
        services: Services, engine: WorkflowEngine, world: World) -> None:
    bulk_tasks(services, engine, world, MANY)
    with services.session_factory() as s:
        page = case_list(s, world.users["caseworker"].id, None)
        names = [(c.child_last_name.lower(), c.child_first_name.lower(), c.id) for c in s.scalars(
            select(Case).where(Case.la_id == world.la.id))]
        last = case_list(s, world.users["caseworker"].id, None, page=10_000)
        found = case_list(s, world.users["caseworker"].id, "BLK-0000")
    assert page.more and page.total_text == "more than 1,000"
    assert [r.id for r in page.rows] == [n[2] for n in sorted(names)[:25]]
    assert last.page == LIST_CAP // 25
    assert [r.id for r in last.rows] == [n[2] for n in sorted(names)[LIST_CAP - 25:LIST_CAP]]
    assert not found.more and 0 < found.total < LIST_CAP


def test_admin_counts_and_the_overdue_filter_stop_past_1000(
        services: Services, engine: WorkflowEngine, world: World) -> None:
    bulk_tasks(services, engine, world, MANY)
    today, now = engine.clock.today(), engine.clock.now()
    with services.session_factory() as s:
        counts = admin_counts(s, [world.la.id], today)
        listed = instance_list(s, [world.la.id], InstanceFilters(), today, now)
        overdue = instance_list(s, [world.la.id], InstanceFilters(overdue=True, per_page=200), today, now)
    assert counts.live == LIST_CAP + 1 and counts.text(counts.live) == "more than 1,000"
    assert listed.page.more and listed.count_text("waiting_person") == "more than 1,000"
    with services.session_factory() as s:
        # Each instance has one open task and no deadline: its due date is the instance's earliest due date.
        due_of = dict(s.execute(select(HumanTask.instance_id, HumanTask.due_date).where(
            HumanTask.status == "open", HumanTask.due_date < today)).all())
        late = sorted(due_of, key=lambda iid: (due_of[iid], iid))
        second = instance_list(s, [world.la.id], InstanceFilters(overdue=True, per_page=200, page=2), today, now)
        chosen = instance_list(s, [world.la.id], InstanceFilters(overdue=True, status="waiting_person", per_page=200),
                               today, now)
        none_failed = instance_list(s, [world.la.id], InstanceFilters(overdue=True, status="failed"), today, now)
    # The overdue list: exactly the instances with late work, the longest overdue first (then by instance), paged,
    # counted by status.
    assert overdue.page.total == len(late) > 200 and overdue.status_counts == {"waiting_person": len(late)}
    assert [r.id for r in overdue.page.rows + second.page.rows] == late
    assert [r.late_since for r in overdue.page.rows] == [due_of[iid] for iid in late[:200]]
    assert [r.id for r in chosen.page.rows] == late[:200] and none_failed.page.rows == []


def test_the_pages_say_more_than_1000_and_stop_at_the_cap(
        services: Services, engine: WorkflowEngine, world: World, as_user: Any) -> None:
    bulk_tasks(services, engine, world, MANY)
    caseworker, admin = as_user("caseworker"), as_user("admin")
    first = caseworker.page("/tasks/team")
    assert "Showing 1 to 25 of more than 1,000 tasks." in text_of(first)
    assert first.select_one("#list-capped") is None
    assert caseworker.get("/tasks/team?page=41", status=302).headers["Location"] == "/tasks/team?page=40"
    last = caseworker.page("/tasks/team?page=40")
    assert "Showing 976 to 1000 of more than 1,000 tasks." in text_of(last)
    assert "The pages are numbered up to the first 1,000" in text_of(last.select_one("#list-capped"))
    assert "More than 1,000 cases: showing 1 to 25." in text_of(caseworker.page("/cases/"))
    instances = admin.page("/admin/instances")
    assert "of more than 1,000 instances." in text_of(instances.select_one("#instance-count"))
    assert "Waiting for a person (more than 1,000)" in text_of(instances.select_one("#status"))
    assert "More than 1,000 instances are not finished." in text_of(admin.page("/admin/"))


def test_sorted_by_child_past_the_cap_pages_follow_the_names_whatever_their_case(
        services: Services, engine: WorkflowEngine, world: World) -> None:
    bulk_tasks(services, engine, world, MANY)
    today = engine.clock.today()
    with services.session_factory() as s:
        tasks = s.execute(select(HumanTask.id, Case.child_last_name, Case.child_first_name, Case.id)
                          .join(Case, Case.id == HumanTask.case_id)
                          .where(HumanTask.status == "open", HumanTask.role == Role.CASEWORKER.value)).all()
        # By name whatever its case, then by case and task; descending is the exact reverse.
        expected = [t for t, *_ in sorted(tasks, key=lambda r: (r[1].lower(), r[2].lower(), r[3], r[0]))]
        backwards = expected[::-1]
        for number in (1, 2, LIST_CAP // 25):
            page = task_list(s, world.users["caseworker"].id, TaskFilters(view="team", sort="child", page=number),
                             today)
            assert page.more
            assert [r.id for r in page.rows] == expected[(number - 1) * 25:number * 25]
        page = task_list(s, world.users["caseworker"].id,
                         TaskFilters(view="team", sort="child", descending=True, page=2), today)
        assert [r.id for r in page.rows] == backwards[25:50]


@pytest.mark.parametrize("descending", [False, True])
def test_on_postgresql_the_due_order_pages_and_the_child_sort_match_too(pg_services: Services,
                                                                        descending: bool) -> None:
    engine = pg_services.engine
    deploy_files(engine, [DATA / "web_route.bpmn"], DATA / "forms")
    world = World(pg_services)
    ids = bulk_tasks(pg_services, engine, world, MANY,
                     due=lambda i, today: None if i % 9 == 0 else today + timedelta(days=i % 40 - 10))
    claimed = claim_exceptions(pg_services, ids, every=13)
    today = engine.clock.today()
    listed, last = read_pages(pg_services, world.users["caseworker"].id, today, view="team", per_page=100,
                              descending=descending)
    assert last.more and listed == due_order(pg_services, today, claimed, descending)[:LIST_CAP]
    with pg_services.session_factory() as s:
        cases = case_list(s, world.users["caseworker"].id, None, page=2)
        names = sorted((c.child_last_name.lower(), c.child_first_name.lower(), c.id)
                       for c in s.scalars(select(Case).where(Case.la_id == world.la.id)))
    assert cases.more and [r.id for r in cases.rows] == [n[2] for n in names[25:50]]
    with pg_services.session_factory() as s:  # the tasks by child, past the cap, as on SQLite (a plain join here)
        page = task_list(s, world.users["caseworker"].id,
                         TaskFilters(view="team", sort="child", descending=descending, page=2), today)
        tasks = s.execute(select(HumanTask.id, Case.child_last_name, Case.child_first_name, Case.id)
                          .join(Case, Case.id == HumanTask.case_id)
                          .where(HumanTask.status == "open", HumanTask.role == Role.CASEWORKER.value)).all()
    expected = [t for t, *_ in sorted(tasks, key=lambda r: (r[1].lower(), r[2].lower(), r[3], r[0]),
                                      reverse=descending)]
    assert page.more and [r.id for r in page.rows] == expected[25:50]
    with pg_services.session_factory() as s:
        s.execute(text("ANALYZE"))  # as autovacuum would after a load like this one
        # A page of the children in order reads them along the lower-case name index (migration 0020), not a sort.
        plan = " | ".join(row[0] for row in s.execute(text(
            "EXPLAIN SELECT human_task.id FROM case_record JOIN human_task ON case_record.id = human_task.case_id "
            "WHERE human_task.status = 'open' ORDER BY lower(case_record.child_last_name), "
            "lower(case_record.child_first_name), case_record.id, human_task.id LIMIT 25 OFFSET 25")))
    assert "ix_case_record_child_sort_lower" in plan, plan
