"""engine.lists (tasks, cases) repeats engine.people.access's rules in SQL (for lists); these tests keep the two in step."""

from __future__ import annotations

from sqlalchemy import select

from engine.lists.cases import staff_can_see_case, visible_cases_clause
from engine.lists.holder import holder
from engine.lists.tasks import TaskFilters, task_list
from engine.people.access import can_act_on_task
from engine.people.roles import Role
from engine.people.users import create_user
from engine.runtime.services import Services
from engine.runtime.workflow_engine import WorkflowEngine
from engine.store.models import Case, HumanTask, User
from tests.conftest import PASSWORD, World
from tests.web.conftest import ROUTE, open_task
from tests.web.test_task_lists import to_decide


def test_listed_tasks_are_exactly_the_ones_the_engine_lets_you_act_on(services: Services, world: World,
                                                                      engine: WorkflowEngine, web_route: str) -> None:
    engine.start(world.case_id, ROUTE)
    engine.start(world.other_case_id, ROUTE)
    to_decide(engine, services, world, world.other_case_id)
    engine.start(world.case_id, ROUTE)
    record = open_task(services, world.case_id, "UT_record")
    with services.session_factory() as s:
        colleague = create_user(s, "colleague@test.example", "Colleague", PASSWORD, engine.clock,
                                [(world.la, Role.CASEWORKER)])
        s.commit()
        caseworker = s.get(User, world.users["caseworker"].id)
    assert caseworker is not None
    engine.claim(record.id, caseworker)
    # A family task too.
    other_record = open_task(services, world.other_case_id, "UT_decide")
    assert other_record
    engine.start(world.case_id, ROUTE)
    second = [t for t in _open(services) if t.case_id == world.case_id and t.bpmn_id == "UT_record"
              and t.id != record.id][0]
    engine.complete_task(second.id, {"concern": "x", "received_on": "2026-03-02", "request_from": "parent",
                                     "urgent": False})
    today = engine.clock.today()
    with services.session_factory() as s:
        users = list(s.scalars(select(User)))
        tasks = _open(services)
        assert {t.role for t in tasks} >= {"la_caseworker", "la_manager", "family"}
        for user in users:
            actable = {t.id for t in tasks if can_act_on_task(s, user, t)}
            mine = task_list(s, user.id, TaskFilters(view="mine", per_page=200), today)
            team = task_list(s, user.id, TaskFilters(view="team", per_page=200), today)
            assert {r.id for r in mine.rows} <= actable, user.email
            for row in mine.rows + team.rows:
                assert row.can_act == (row.id in actable), (user.email, row.name)
            # "My tasks": what is assigned to you, unclaimed for a role you hold, or your family's; the rest of
            # what you may act on (a manager's team) is in "team tasks".
            held = holder(s, user.id).roles
            listed = {r.id for r in mine.rows} | {r.id for r in team.rows}
            for t in tasks:
                if t.id not in actable:
                    continue
                if t.assignee_id == user.id or t.role == "family" or (
                        t.assignee_id is None and (t.organisation_id, t.role) in held):
                    assert t.id in {r.id for r in mine.rows}, (user.email, t.name)
                assert t.id in listed, (user.email, t.name)
        assert colleague.id


def test_case_visibility_in_sql_matches_the_rule(services: Services, world: World) -> None:
    with services.session_factory() as s:
        cases = list(s.scalars(select(Case)))
        for user in s.scalars(select(User)):
            who = holder(s, user.id)
            listed = set(s.scalars(select(Case.id).where(visible_cases_clause(who))))
            assert listed == {c.id for c in cases if staff_can_see_case(s, who, c)}, user.email


def _open(services: Services) -> list[HumanTask]:
    with services.session_factory() as s:
        return list(s.scalars(select(HumanTask).where(HumanTask.status == "open")))
