"""My tasks and team tasks: who sees what, the columns and statuses, filters, sorting, paging, search, and claiming,
releasing and reassigning."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from engine.people.roles import Role
from engine.people.users import create_user
from engine.runtime.services import Services
from engine.runtime.workflow_engine import WorkflowEngine
from engine.statutory.clock import FrozenClock
from engine.store.models import Deadline, HumanTask, User
from tests.conftest import PASSWORD, World
from tests.web.conftest import ROUTE, Client, make_app, open_task, text_of


def rows(page: BeautifulSoup) -> list[dict[str, str]]:
    table = page.select_one("table.govuk-table")
    if table is None:
        return []
    heads = [th.get_text(" ", strip=True).split(" (")[0].replace(" ▲", "").replace(" ▼", "")
             for th in table.select("thead th")]
    out = []
    for tr in table.select("tbody tr"):
        cells = [" ".join(td.get_text(" ", strip=True).split()) for td in tr.select("td")]
        out.append(dict(zip(heads, cells, strict=True)))
    return out


def new_case(engine: WorkflowEngine, services: Services, la_id: int, first: str, last: str) -> int:
    with services.session_factory() as s:
        case = engine.open_case(s, la_id, first, last, "2016-02-03")
        s.commit()
        case_id = case.id
    engine.start(case_id, ROUTE)
    return case_id


def to_decide(engine: WorkflowEngine, services: Services, world: World, case_id: int) -> HumanTask:
    """Moves the web route on a case to the manager's decision (which has a statutory deadline)."""
    record = open_task(services, case_id, "UT_record")
    engine.complete_task(record.id, {"concern": "x", "received_on": "2026-03-02", "request_from": "parent",
                                     "urgent": False})
    engine.complete_task(open_task(services, case_id, "UT_views").id, {"views": "ok"}, None)
    return open_task(services, case_id, "UT_decide")


@pytest.fixture
def second_caseworker(services: Services, world: World, engine: WorkflowEngine) -> User:
    with services.session_factory() as s:
        user = create_user(s, "caseworker2@test.example", "Second Caseworker", PASSWORD, engine.clock,
                           [(world.la, Role.CASEWORKER)])
        s.commit()
        return user


def test_my_tasks_lists_tasks_for_my_role_in_my_organisation(as_user: Any, world: World, started: int,
                                                             engine: WorkflowEngine, services: Services) -> None:
    engine.start(world.other_case_id, ROUTE)
    page = as_user("caseworker").page("/tasks/")
    assert rows(page) == [{
        "Child": "Alex Taylor", "Case": "EHC-2026-00001", "Task": "Record the request", "Route": "Web test route",
        "Due": "5 Mar 2026 Due soon", "Assigned to": "Not assigned",
        "Actions": "Take Record the request for Alex Taylor",
    }]
    task = open_task(services, world.case_id, "UT_record")
    assert page.select_one(f"a[href='/tasks/{task.id}']").get_text(strip=True) == "Record the request"
    # The other authority's caseworker sees only their own authority's task.
    assert [r["Child"] for r in rows(as_user("other_caseworker").page("/tasks/"))] == ["Bo Other"]
    # Health, school, the EP: nothing of the caseworker's.
    for key in ("health", "school", "ep", "socialcare"):
        assert rows(as_user(key).page("/tasks/")) == [], key
    # A manager's own list has the tasks for managers; the caseworker's task is in the team list.
    manager = as_user("manager")
    assert rows(manager.page("/tasks/")) == []
    team = rows(manager.page("/tasks/team"))
    assert [(r["Child"], r["Task"]) for r in team] == [("Alex Taylor", "Record the request")]
    assert "Reassign" in team[0]["Actions"]


def test_family_members_have_no_staff_task_lists(as_user: Any, started: int) -> None:
    parent = as_user("parent")
    parent.get("/tasks/", status=403)
    parent.get("/tasks/team", status=403)


def test_claim_and_release(as_user: Any, world: World, started: int, services: Services,
                           second_caseworker: User, app: Any) -> None:
    task = open_task(services, world.case_id, "UT_record")
    casey = as_user("caseworker")
    response = casey.post(f"/tasks/{task.id}/claim", {"next": "/tasks/?sort=child"}, status=302)
    assert response.headers["Location"] == "/tasks/?sort=child"
    page = casey.page("/tasks/")
    assert "You have taken the task: Record the request" in text_of(page)
    assert rows(page)[0]["Assigned to"] == "You"
    assert rows(page)[0]["Actions"].startswith("Release")
    assert open_task(services, world.case_id, "UT_record").assignee_id == world.users["caseworker"].id
    # A colleague no longer sees it as theirs to take, and cannot open it; the team list shows who has it.
    colleague = Client(app)
    colleague.sign_in("caseworker2@test.example")
    assert rows(colleague.page("/tasks/")) == []
    team = rows(colleague.page("/tasks/team"))
    assert team[0]["Assigned to"] == "Caseworker" and team[0]["Actions"] == ""
    assert not colleague.page("/tasks/team").select_one(f"a[href='/tasks/{task.id}']")
    colleague.get(f"/tasks/{task.id}", status=403)
    colleague.post(f"/tasks/{task.id}/claim", {}, status=302)
    assert "Someone else has already taken this task" in text_of(colleague.page("/tasks/team"))
    casey.post(f"/tasks/{task.id}/release", {}, status=302)
    assert open_task(services, world.case_id, "UT_record").assignee_id is None
    assert [r["Task"] for r in rows(colleague.page("/tasks/"))] == ["Record the request"]


def test_a_manager_reassigns_a_task(as_user: Any, world: World, started: int, services: Services,
                                    second_caseworker: User) -> None:
    task = open_task(services, world.case_id, "UT_record")
    manager = as_user("manager")
    page = manager.page(f"/tasks/{task.id}/reassign?next=/tasks/team")
    options = {i["value"]: i.find_next("label").get_text(strip=True) for i in page.select("input[name=user_id]")}
    assert sorted(options.values()) == ["Caseworker", "Second Caseworker"]
    response = manager.post(f"/tasks/{task.id}/reassign", {}, status=200)
    assert "Select who should do this task" in text_of(BeautifulSoup(response.get_data(as_text=True), "html.parser"))
    response = manager.post(f"/tasks/{task.id}/reassign", {"user_id": str(second_caseworker.id), "next": "/tasks/team"},
                            status=302)
    assert response.headers["Location"] == "/tasks/team"
    assert open_task(services, world.case_id, "UT_record").assignee_id == second_caseworker.id
    assert "is now assigned to Second Caseworker" in text_of(manager.page("/tasks/team"))
    # Someone without the role cannot be chosen, and a caseworker cannot reassign.
    manager.post(f"/tasks/{task.id}/reassign", {"user_id": str(world.users["ep"].id)}, status=200)
    assert open_task(services, world.case_id, "UT_record").assignee_id == second_caseworker.id
    casey = as_user("caseworker")
    casey.get(f"/tasks/{task.id}/reassign", status=403)
    assert "Reassign" not in text_of(casey.page("/tasks/team"))


def test_statuses_due_soon_overdue_due_and_exception_claimed(as_user: Any, world: World, services: Services,
                                                             engine: WorkflowEngine, clock: FrozenClock,
                                                             web_route: str) -> None:
    late = new_case(engine, services, world.la.id, "Lara", "Late")
    clock.advance(days=10)
    new_case(engine, services, world.la.id, "Sonia", "Soon")
    caseworker = rows(as_user("caseworker").page("/tasks/?sort=child"))
    assert [(r["Child"], r["Due"]) for r in caseworker] == [("Lara Late", "5 Mar 2026 Overdue"),
                                                            ("Sonia Soon", "15 Mar 2026 Due soon")]
    decide = to_decide(engine, services, world, late)
    manager = as_user("manager")
    assert [(r["Child"], r["Due"]) for r in rows(manager.page("/tasks/"))] == [("Lara Late", "13 Apr 2026 Due")]
    with services.session_factory() as s:
        deadline = s.scalars(select(Deadline).where(Deadline.attached_task_guid == decide.task_guid)).one()
        manager_user = s.get(User, world.users["manager"].id)
    engine.claim_exception(deadline.id, "setting_closed", "Closed for building work", "2026-03-12", manager_user)
    assert [r["Due"] for r in rows(manager.page("/tasks/"))] == ["13 Apr 2026 Exception claimed"]
    assert [r["Child"] for r in rows(manager.page("/tasks/?status=exception"))] == ["Lara Late"]
    assert rows(manager.page("/tasks/?status=overdue")) == []


def test_filters_search_sorting_and_paging(services: Services, world: World, engine: WorkflowEngine,
                                           clock: FrozenClock, tmp_path: Path, web_route: str) -> None:
    names = [("Zara", "Adams"), ("Yusuf", "Brown"), ("Xena", "Clark"), ("Will", "Davies"), ("Vera", "Evans")]
    ids = []
    for first, last in names:
        ids.append(new_case(engine, services, world.la.id, first, last))
        clock.advance(days=2)
    app = make_app(services, tmp_path, TASKS_PER_PAGE=2)
    client = Client(app)
    client.sign_in(world.users["caseworker"].email)
    # Default: by due date, earliest first, two a page.
    page = client.page("/tasks/")
    assert [r["Child"] for r in rows(page)] == ["Zara Adams", "Yusuf Brown"]
    assert "Showing 1 to 2 of 5 tasks" in text_of(page)
    assert [a.get_text(strip=True) for a in page.select(".govuk-pagination__item a")] == ["1", "2", "3"]
    assert [r["Child"] for r in rows(client.page("/tasks/?page=3"))] == ["Vera Evans"]
    assert client.get("/tasks/?page=9", status=302).headers["Location"] == "/tasks/?page=3"
    # Sorting by child (surname), both ways.
    assert [r["Child"] for r in rows(client.page("/tasks/?sort=child&order=desc"))] == ["Vera Evans", "Will Davies"]
    page = client.page("/tasks/?sort=child")
    assert page.select_one("th[aria-sort=ascending]").get_text(" ", strip=True).startswith("Child")
    # Search by first name, surname, full name or reference, in any case.
    assert [r["Child"] for r in rows(client.page("/tasks/?q=xena"))] == ["Xena Clark"]
    assert [r["Child"] for r in rows(client.page("/tasks/?q=DAVIES"))] == ["Will Davies"]
    assert [r["Child"] for r in rows(client.page("/tasks/?q=yusuf+brown"))] == ["Yusuf Brown"]
    with services.session_factory() as s:
        from engine.store.models import Case

        reference = s.get(Case, ids[4]).reference  # type: ignore[union-attr]
    assert [r["Child"] for r in rows(client.page(f"/tasks/?q={reference.lower()}"))] == ["Vera Evans"]
    page = client.page("/tasks/?q=nobody")
    assert "No tasks match your search" in text_of(page)
    assert page.select_one("input#q")["value"] == "nobody"
    # Filters: status, due date, route.
    # Today is 12 March: four tasks were due on 5, 7, 9 and 11 March, one is due on 13 March.
    page = client.page("/tasks/?status=overdue")
    assert [r["Child"] for r in rows(page)] == ["Zara Adams", "Yusuf Brown"]
    assert "Showing 1 to 2 of 4 tasks" in text_of(page)
    assert [r["Child"] for r in rows(client.page("/tasks/?due=7"))] == ["Vera Evans"]
    assert [r["Child"] for r in rows(client.page("/tasks/?route=web_route&q=vera"))] == ["Vera Evans"]
    assert rows(client.page("/tasks/?route=no_such_route")) == []
    # The filters keep their values, and a bad value is ignored.
    page = client.page("/tasks/?status=overdue&due=nonsense")
    assert page.select_one("#status option[selected]")["value"] == "overdue"
    assert page.select_one("#due option[selected]") is None


def test_a_long_search_or_odd_characters_are_harmless(as_user: Any, started: int) -> None:
    client = as_user("caseworker")
    assert rows(client.page("/tasks/?q=%25")) == []
    assert rows(client.page("/tasks/?q=_")) == []
    client.page("/tasks/?q=" + "a" * 5000)
    assert rows(client.page("/tasks/?q=%00")) == rows(client.page("/tasks/?q=")) != []  # a control character is a space
    client.page("/cases/?q=tay%00lor")
    client.page("/tasks/?page=-1")
    client.page("/tasks/?page=abc")
