"""Reading a list past its numbered pages (issue 16, engine/lists/keyset.py): "Next" from the last numbered page goes
on exactly where it stopped, page after page to the end, in every sort and either way; "Previous" comes back through
the same pages; a broken link says so; and a link gives nobody a row they could not see anyway."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update

import engine.admin.instance_admin as instance_admin
import engine.lists.cases as case_lists
import engine.lists.tasks as task_lists
from engine.admin.instance_admin import InstanceFilters, instance_list
from engine.lists.cases import case_list
from engine.lists.keyset import BadCursor, Cursor, encode
from engine.lists.paging import LIST_CAP, Page
from engine.lists.tasks import TASK_SORTS, TaskFilters, task_list
from engine.runtime.services import Services
from engine.runtime.workflow_engine import WorkflowEngine
from engine.store.models import HumanTask, ProcessInstance
from tests.conftest import World, deploy_files
from tests.web.conftest import DATA, text_of
from tests.web.test_api_resources import api_as
from tests.web.test_list_paging import MANY, bulk_tasks, claim_exceptions, due_order

SMALL_CAP = 30


@pytest.fixture(autouse=True)
def _deployed(web_route: str) -> None:
    """The web test route, whose first task the bulk-loaded tasks copy."""


def small_cap(monkeypatch: pytest.MonkeyPatch, cap: int = SMALL_CAP) -> None:
    """Numbered pages that stop at ``cap`` rows, so that a few dozen tasks reach past them."""
    for module in (task_lists, case_lists, instance_admin):
        monkeypatch.setattr(module, "LIST_CAP", cap)


def varied(services: Services, task_ids: list[int]) -> None:
    """Task names and opening times with ties and differences in case, so that every sort has ties to break."""
    with services.session_factory() as s:
        for n, task_id in enumerate(task_ids):
            task = s.get(HumanTask, task_id)
            assert task is not None
            task.name = ["Check the request", "check the request", "Agree the plan", "Zero in"][n % 4]
            task.created_at = task.created_at - timedelta(minutes=n % 6)
        s.commit()


def every_page(read: Any) -> tuple[list[list[int]], list[Page[Any]]]:
    """Every page of a list as someone clicking "Next" reads it: the numbered pages, then the links past them.
    ``read(page, after, before)`` gives one page."""
    pages: list[Page[Any]] = [read(1, None, None)]
    while True:
        page = pages[-1]
        if page.after:
            pages.append(read(page.page + 1, page.after, None))
        elif not page.beyond and page.page < page.pages:
            pages.append(read(page.page + 1, None, None))
        else:
            return [[row.id for row in p.rows] for p in pages], pages


def back_from(last: Page[Any], read: Any) -> dict[int, list[int]]:
    """The pages read with "Previous" from ``last`` back to page 1, by number."""
    seen: dict[int, list[int]] = {last.page: [row.id for row in last.rows]}
    page = last
    while page.page > 1:
        page = read(page.page - 1, None, page.before) if page.beyond and page.before else read(page.page - 1, None,
                                                                                                 None)
        seen[page.page] = [row.id for row in page.rows]
    return seen


def tasks_reader(services: Services, user_id: int, today: Any, **chosen: Any) -> Any:
    def read(number: int, after: str | None, before: str | None) -> Page[Any]:
        with services.session_factory() as s:
            return task_list(s, user_id, TaskFilters(page=number, after=after, before=before, **chosen), today)
    return read


def check_both_ways(read: Any, expected: list[int], per_page: int) -> None:
    pages, found = every_page(read)
    assert [i for page in pages for i in page] == expected
    assert found[-1].beyond and not found[-1].after and len(pages) == -(-len(expected) // per_page)
    assert [p.first_index for p in found] == [n * per_page + 1 for n in range(len(found))]
    assert back_from(found[-1], read) == {n + 1: ids for n, ids in enumerate(pages)}


@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize("sort", list(TASK_SORTS))
def test_every_sort_reads_past_the_numbered_pages_to_the_end_and_back(
        services: Services, engine: WorkflowEngine, world: World, monkeypatch: pytest.MonkeyPatch, sort: str,
        descending: bool) -> None:
    ids = bulk_tasks(services, engine, world, 75,
                     due=lambda i, today: None if i % 7 == 0 else today + timedelta(days=i % 9 - 4))
    varied(services, ids)
    claim_exceptions(services, ids, every=11)
    today = engine.clock.today()
    caseworker = world.users["caseworker"].id
    chosen = {"view": "team", "sort": sort, "descending": descending, "per_page": 7}
    # The order of the whole list as one ORDER BY gives it, every task counted (no keyset paging below the cap).
    with services.session_factory() as s:
        whole = [row.id for row in task_list(s, caseworker, TaskFilters(**{**chosen, "per_page": 200}), today).rows]
    assert len(whole) == 76
    small_cap(monkeypatch)
    check_both_ways(tasks_reader(services, caseworker, today, **chosen), whole, 7)


def test_the_due_order_past_the_numbered_pages_is_the_one_worked_out_by_hand(
        services: Services, engine: WorkflowEngine, world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = bulk_tasks(services, engine, world, 90,
                     due=lambda i, today: None if i % 8 == 0 else today + timedelta(days=i % 12 - 6))
    claimed = claim_exceptions(services, ids, every=9)
    today = engine.clock.today()
    small_cap(monkeypatch)
    for descending in (False, True):
        read = tasks_reader(services, world.users["caseworker"].id, today, view="team", per_page=8,
                            descending=descending)
        check_both_ways(read, due_order(services, today, claimed, descending), 8)


def test_the_case_list_and_the_admin_lists_read_past_their_numbered_pages(
        services: Services, engine: WorkflowEngine, world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    bulk_tasks(services, engine, world, 70, due=lambda i, today: today - timedelta(days=i % 5 + 1))
    caseworker = world.users["caseworker"].id
    today, now = engine.clock.today(), engine.clock.now()
    with services.session_factory() as s:
        cases = [row.id for row in case_list(s, caseworker, None, per_page=200).rows]
        newest = sorted(s.scalars(select(ProcessInstance.id).where(ProcessInstance.status != "completed")),
                        reverse=True)
        due = dict(s.execute(select(ProcessInstance.id, ProcessInstance.earliest_due)
                             .where(ProcessInstance.earliest_due < today)).all())
    small_cap(monkeypatch, 20)

    def read_cases(number: int, after: str | None, before: str | None) -> Page[Any]:
        with services.session_factory() as s:
            return case_list(s, caseworker, None, number, 6, after=after, before=before)

    def admin_reader(**chosen: Any) -> Any:
        def read(number: int, after: str | None, before: str | None) -> Page[Any]:
            with services.session_factory() as s:
                return instance_list(s, [world.la.id], InstanceFilters(page=number, per_page=6, after=after,
                                                                       before=before, **chosen), today, now).page
        return read

    check_both_ways(read_cases, cases, 6)
    check_both_ways(admin_reader(), newest, 6)
    check_both_ways(admin_reader(overdue=True), sorted(due, key=lambda iid: (due[iid], iid)), 6)


def test_a_link_that_cannot_be_read_is_refused_with_a_clear_message(
        services: Services, engine: WorkflowEngine, world: World, as_user: Any, app: Flask) -> None:
    bulk_tasks(services, engine, world, MANY)
    today = engine.clock.today()
    caseworker = world.users["caseworker"].id
    broken = ["x", "!!!", encode(Cursor(7, (1,))), encode(Cursor(0, ("not a date", 3))), encode(Cursor(2, ("1",))),
              encode(Cursor(1, (today, 5, 6))), "WzAsMSwyXQ" * 200, encode(Cursor(0, (today, 10**30)))]
    with services.session_factory() as s:
        for text in broken:
            with pytest.raises(BadCursor):
                task_list(s, caseworker, TaskFilters(view="team", page=41, after=text), today)
        with pytest.raises(BadCursor):
            case_list(s, caseworker, None, 41, before="%%")
        with pytest.raises(BadCursor):  # a NUL would reach PostgreSQL as an error
            task_list(s, caseworker, TaskFilters(view="team", sort="reference", page=41,
                                                 after=encode(Cursor(0, ("BLK\x00", 1)))), today)
    page = as_user("caseworker").page("/tasks/team?sort=task&page=41&after=x", status=400)
    assert "This page link is not valid" in text_of(page.select_one("h1"))
    assert page.find("a", string="Go to the first page of the list")["href"] == "/tasks/team?sort=task"
    problem = api_as(app, services, world, "caseworker", "read").get("/api/v1/tasks?view=team&page=41&after=x", 400)
    assert problem["detail"].startswith("This link to a page of the list is not valid")


def test_on_the_web_next_goes_on_from_page_40_and_previous_comes_back(
        services: Services, engine: WorkflowEngine, world: World, as_user: Any) -> None:
    ids = bulk_tasks(services, engine, world, MANY)
    today = engine.clock.today()
    caseworker = as_user("caseworker")
    last = caseworker.page("/tasks/team?page=40")
    assert "The pages are numbered up to the first 1,000" in text_of(last.select_one("#list-capped"))
    next_link = last.select_one(".govuk-pagination__next a")["href"]
    assert "after=" in next_link and "page=41" in next_link
    page41 = caseworker.page(next_link)
    assert "Showing 1001 to 1025 of more than 1,000 tasks." in text_of(page41.select_one("[role=status]"))
    assert page41.select_one("#list-capped") is None
    assert page41.select_one(".govuk-pagination__prev a")["href"] == "/tasks/team?page=40"
    expected = due_order(services, today, set(), False)
    listed = [a["href"] for a in page41.select("td[data-label=Task] a")]
    assert listed == [f"/tasks/{t}" for t in expected[1000:1025]]
    page42 = caseworker.page(page41.select_one(".govuk-pagination__next a")["href"])
    back = caseworker.page(page42.select_one(".govuk-pagination__prev a")["href"])
    assert [a["href"] for a in back.select("td[data-label=Task] a")] == listed
    # The end of the list: no "Next".
    page = page42
    while page.select_one(".govuk-pagination__next a"):
        page = caseworker.page(page.select_one(".govuk-pagination__next a")["href"])
    assert "of more than 1,000 tasks" in text_of(page.select_one("[role=status]"))
    assert len(expected) == len(ids) + 1
    # A link past the numbered pages shows nobody more than they may see: the other authority's caseworker, with
    # the same link, has no such tasks.
    other = as_user("other_caseworker").page(next_link)
    assert other.select("td[data-label=Task] a") == []


def test_the_api_next_link_goes_on_past_the_numbered_pages(
        services: Services, engine: WorkflowEngine, world: World, app: Flask) -> None:
    bulk_tasks(services, engine, world, MANY)
    api = api_as(app, services, world, "caseworker", "read")
    last = api.get("/api/v1/tasks?view=team&limit=100&page=10")
    assert last["total_is_at_least"] and "after=" in last["next"]
    beyond = api.get(last["next"])
    assert beyond["page"] == 11 and len(beyond["items"]) == MANY + 1 - LIST_CAP and beyond["next"] is None
    everything = {item["id"] for item in beyond["items"]}
    for number in range(1, 11):
        everything |= {item["id"] for item in api.get(f"/api/v1/tasks?view=team&limit=100&page={number}")["items"]}
    assert len(everything) == MANY + 1
    cases = api.get("/api/v1/cases?limit=100&page=10")
    assert "after=" in cases["next"] and len(api.get(cases["next"])["items"]) == MANY + 2 - LIST_CAP


@pytest.mark.parametrize("descending", [False, True])
def test_on_postgresql_every_sort_reads_past_the_numbered_pages(pg_services: Services,
                                                                monkeypatch: pytest.MonkeyPatch,
                                                                descending: bool) -> None:
    engine = pg_services.engine
    deploy_files(engine, [DATA / "web_route.bpmn"], DATA / "forms")
    world = World(pg_services)
    ids = bulk_tasks(pg_services, engine, world, 60,
                     due=lambda i, today: None if i % 7 == 0 else today + timedelta(days=i % 9 - 4))
    varied(pg_services, ids)
    claimed = claim_exceptions(pg_services, ids, every=11)
    today = engine.clock.today()
    caseworker = world.users["caseworker"].id
    wholes = {}
    with pg_services.session_factory() as s:
        s.execute(update(HumanTask).where(HumanTask.id == ids[3]).values(name="Ärger"))  # beyond ASCII
        s.commit()
        for sort in TASK_SORTS:
            wholes[sort] = [row.id for row in task_list(s, caseworker, TaskFilters(
                view="team", sort=sort, descending=descending, per_page=200), today).rows]
    assert wholes["due"] == due_order(pg_services, today, claimed, descending)
    small_cap(monkeypatch, 20)
    for sort, whole in wholes.items():
        check_both_ways(tasks_reader(pg_services, caseworker, today, view="team", sort=sort, descending=descending,
                                     per_page=9), whole, 9)
