"""Scenario tests for workflows/plan_transfer.bpmn: an EHC plan moving to another local authority.

Every step goes through the engine (one transaction per command); after every step each instance on the case is
restored from its saved state and serialized again, which must give the same document.

The dates, worked out by hand (England and Wales bank holidays):

- Two months' notice, across Easter 2026. We become aware on Monday 23 March 2026; the family moves on Saturday
  23 May. The 15 working days beginning with 23 March: 23-27 March (5), 30 March-2 April (9), then Good Friday
  3 April and Easter Monday 6 April are bank holidays, 7-10 April (13), 13-14 April (15): the 15th is Tuesday
  14 April, before the move, so the plan transfers on the day of the move, 23 May. The case moves at the start of
  that day: 00:00 BST = 22 May 23:00 UTC. The new authority's notice is due 6 weeks later, Saturday 4 July 2026.
  The plan was last reviewed on 1 September 2025: 12 months later is 1 September 2026, later than 3 months after
  the transfer (23 August 2026), so the review is due by 1 September 2026.
- Five days' notice, across Christmas 2026. We become aware on Monday 21 December 2026; the family moves on
  Saturday 26 December. The 15 working days beginning with 21 December: 21-24 December (4), then Christmas Day
  (Friday 25), the Boxing Day substitute (Monday 28 December) are bank holidays, 29-31 December (7), New Year's Day
  (Friday 1 January 2027) is one too, 4-8 January (12), 11-13 January (15): the 15th is Wednesday 13 January 2027,
  after the move, so the plan must transfer by 13 January 2027. Prepared on 22 December, it moves at the start of
  the day of the move (26 December 00:00 GMT). The new authority's notice is due Saturday 6 February 2027; the plan
  was last reviewed on 1 February 2026, so 12 months gives 1 February 2027, earlier than 3 months after the transfer
  (26 March 2027): the review is due by 26 March 2027.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from engine.casework.transfer_package import package_from_document, write_transfer_package
from engine.errors import FormInvalid
from engine.library.registry import ProcessRegistry
from engine.lists.tasks import TaskFilters, task_list
from engine.people.access import can_act_on_task, can_see_case
from engine.people.roles import Role
from engine.people.users import create_organisation, create_user
from engine.runtime.services import Services
from engine.store.models import (
    AuditEvent,
    Case,
    CaseParty,
    Deadline,
    Document,
    HumanTask,
    Organisation,
    PlanVersion,
    ProcessInstance,
    User,
)
from tests.conftest import PASSWORD, World

ROOT = Path(__file__).resolve().parents[2]
PROCESS = "plan_transfer"

# The real EHC needs assessment and the routes it calls, for the move during an assessment (issue 14: a hand-off is
# tested with the real route it starts).
ASSESSMENT_FILES = ("ehc_needs_assessment", "ehc_advice_request", "ehc_no_plan_notice_watch")


def at(year: int, month: int, day: int, hour: int = 10, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


class Route:
    """Drives plan_transfer on the world's case, restoring every instance of the case after every step."""

    def __init__(self, services: Services, world: World) -> None:
        self.services = services
        self.world = world
        self.engine = services.engine
        self.case_id = world.case_id
        self.instance_id = 0

    # ---- setting up ----------------------------------------------------------------------------------------------
    def give_plan(self, issued_on: str, last_review_on: str | None = None) -> None:
        """A plan in force, with the review deadline plan drafting or the last review opened
        (engine.casework.review_scheduler)."""
        last = last_review_on or issued_on
        with self.services.session_factory() as s:
            issued = datetime.fromisoformat(issued_on).replace(hour=12, tzinfo=UTC)
            s.add(PlanVersion(case_id=self.case_id, number=1, kind="final", label="Final plan",
                              sections={"B": {"needs": [{"id": "B1", "area": "communication_and_interaction",
                                                         "description": "Speech and language"}]},
                                        "K": {"advice": [{"id": "K1", "provider": "Dr Eleanor Park",
                                                          "kind": "psychological", "received_on": "2025-06-01",
                                                          "title": "Educational psychology report"}]}},
                              created_at=issued, issued_at=issued))
            due = date.fromisoformat(last).replace(year=date.fromisoformat(last).year + 1)
            s.add(Deadline(case_id=self.case_id, key="annual_review", name="Review the plan", process_id="annual_review",
                           due_date=due, started_on=date.fromisoformat(last), status="open", missed=False))
            s.commit()

    def deploy(self, *others: str) -> None:
        """Deploys the transfer route and the other real routes named (process ids), as `ehcflow` deploys them."""
        files = [ROOT / "workflows" / f"{name}.bpmn" for name in (PROCESS, *others)]
        self.engine.deploy(ProcessRegistry.from_files(files, ROOT / "forms"))

    def start(self) -> int:
        self.instance_id = self.engine.start(self.case_id, PROCESS, actor=self.world.users["caseworker"])
        self.check_restore()
        return self.instance_id

    # ---- steps ---------------------------------------------------------------------------------------------------
    def task(self, bpmn_id: str) -> HumanTask:
        with self.services.session_factory() as s:
            return s.scalars(select(HumanTask).where(HumanTask.case_id == self.case_id, HumanTask.bpmn_id == bpmn_id,
                                                     HumanTask.status == "open")).one()

    def open_tasks(self) -> set[str]:
        with self.services.session_factory() as s:
            return set(s.scalars(select(HumanTask.bpmn_id).where(HumanTask.case_id == self.case_id,
                                                                 HumanTask.status == "open")))

    def do(self, bpmn_id: str, data: dict[str, Any], user: User) -> None:
        self.engine.complete_task(self.task(bpmn_id).id, data, user)
        self.check_restore()

    def at(self, when: datetime) -> int:
        self.engine.clock.set(when)
        fired = self.engine.fire_due_timers()
        self.check_restore()
        return fired

    def check_restore(self) -> None:
        """Every instance on the case restores from its saved state and serializes to the same document."""
        with self.services.session_factory() as s:
            for instance in s.scalars(select(ProcessInstance).where(ProcessInstance.case_id == self.case_id)):
                if instance.status not in ("completed", "terminated"):
                    wf = self.engine.load_workflow(instance)
                    assert self.engine.serializer.dumps(wf) == instance.state

    # ---- reading -------------------------------------------------------------------------------------------------
    def deadline(self, key: str) -> Deadline:
        with self.services.session_factory() as s:
            return s.scalars(select(Deadline).where(Deadline.case_id == self.case_id, Deadline.key == key)
                             .order_by(Deadline.id.desc())).first()

    def case(self) -> Case:
        with self.services.session_factory() as s:
            case = s.get(Case, self.case_id)
            assert case is not None
            s.expunge(case)
            return case

    def status(self, instance_id: int | None = None) -> str:
        with self.services.session_factory() as s:
            return s.get(ProcessInstance, instance_id or self.instance_id).status

    def data(self) -> dict[str, Any]:
        """The route's data as its ready and waiting steps hold it (or its final data once it has finished)."""
        from SpiffWorkflow.util.task import TaskState

        with self.services.session_factory() as s:
            wf = self.engine.load_workflow(s.get(ProcessInstance, self.instance_id))
        merged: dict[str, Any] = {}
        for task in wf.get_tasks(state=TaskState.READY | TaskState.WAITING):
            merged.update(task.data)
        return merged or dict(wf.data)

    def documents(self, kind: str) -> list[Document]:
        with self.services.session_factory() as s:
            rows = list(s.scalars(select(Document).where(Document.case_id == self.case_id, Document.kind == kind)
                                  .order_by(Document.id)))
            for row in rows:
                s.expunge(row)
            return rows

    def sees(self, user_key: str) -> bool:
        with self.services.session_factory() as s:
            case = s.get(Case, self.case_id)
            return can_see_case(s, s.get(User, self.world.users[user_key].id), case)

    def task_list_cases(self, user_key: str) -> set[int]:
        """The cases in the user's team task list (what the web UI shows them)."""
        with self.services.session_factory() as s:
            page = task_list(s, self.world.users[user_key].id, TaskFilters(view="team", per_page=200),
                             self.engine.clock.today())
            return {row.case_id for row in page.rows}

    def can_act_on_any_task(self, user_key: str) -> bool:
        with self.services.session_factory() as s:
            user = s.get(User, self.world.users[user_key].id)
            return any(can_act_on_task(s, user, t) for t in s.scalars(
                select(HumanTask).where(HumanTask.case_id == self.case_id, HumanTask.status == "open")))


@pytest.fixture
def route(services: Services, world: World) -> Route:
    return Route(services, world)


def text_of(document: Document) -> str:
    from bs4 import BeautifulSoup

    return " ".join(BeautifulSoup(document.body_html, "html.parser").get_text().split())


def move(route: Route, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"move_date": "2026-05-23", "aware_date": "2026-03-23", "new_la_id": route.world.other_la.id,
                            "health_body_changes": "no", "notes_for_new_la": "Speech therapy on Tuesdays"}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


# ---- two months' notice -------------------------------------------------------------------------------------------

def test_two_months_notice_transfers_on_the_day_of_the_move(route: Route) -> None:
    world = route.world
    route.deploy()
    route.give_plan("2024-09-01", last_review_on="2025-09-01")
    route.engine.clock.set(at(2026, 3, 23))
    route.start()
    assert route.open_tasks() == {"UT_record_move"}
    route.do("UT_record_move", move(route), world.users["caseworker"])

    # 15 working days beginning with Monday 23 March end on Tuesday 14 April (Easter in between): before the move.
    data = route.data()
    assert (data["fifteenth_working_day"], data["short_notice"], data["transfer_due"]) == (
        "2026-04-14", False, "2026-05-23")
    assert (data["new_la_name"], data["new_la_uses_ehcflow"], data["has_plan"], data["last_review_on"]) == (
        "Otherham Council", True, True, "2025-09-01")
    prepare = route.task("UT_prepare_transfer")
    assert (prepare.due_date, prepare.organisation_id, prepare.role) == (date(2026, 5, 23), world.la.id,
                                                                         "la_caseworker")
    deadline = route.deadline("plan_transfer")
    assert (deadline.due_date, deadline.status) == (date(2026, 5, 23), "open")

    route.engine.clock.set(at(2026, 3, 30))
    route.do("UT_prepare_transfer", {"plan_and_advice_checked": True,
                                     "interim_arrangements": "Transport to the current school until July"},
             world.users["caseworker"])
    assert route.deadline("plan_transfer").status == "met"
    (notice,) = route.documents("tr_transfer_notice")
    assert notice.title == "Alex Taylor's EHC plan is transferring to Otherham Council"
    assert [r["name"] for r in notice.recipients if not r["copy"]] == ["Parent", "Otherham Council"]
    assert "on the day of the move, 23 May 2026" in text_of(notice)
    assert "Transport to the current school until July" in text_of(notice)

    # Before the move nothing changes hands: the old authority still holds the case.
    assert route.status() == "waiting_timer"
    assert route.case().la_id == world.la.id
    assert route.at(at(2026, 5, 22, 22, 59, 59)) == 0
    assert route.sees("caseworker") and not route.sees("other_caseworker")

    # The start of Saturday 23 May in England is 22 May 23:00 UTC (BST): the case moves.
    assert route.at(at(2026, 5, 22, 23, 0, 1)) == 1
    case = route.case()
    assert case.la_id == world.other_la.id and case.status == "open"
    assert route.open_tasks() == {"UT_new_la_notice"}
    notice_task = route.task("UT_new_la_notice")
    assert (notice_task.organisation_id, notice_task.due_date) == (world.other_la.id, date(2026, 7, 4))
    assert route.deadline("transfer_notice").due_date == date(2026, 7, 4)
    # Review by the later of 12 months after the last review (1 Sep 2026) and 3 months after the transfer (23 Aug).
    review = route.deadline("annual_review")
    assert (review.due_date, review.started_on, review.status) == (date(2026, 9, 1), date(2025, 9, 1), "open")

    # The old authority no longer sees the case or any task of it; the new one sees it and works it.
    assert not route.sees("caseworker") and not route.sees("manager")
    assert route.sees("other_caseworker") and route.sees("other_manager")
    assert world.case_id not in route.task_list_cases("caseworker")
    assert world.case_id in route.task_list_cases("other_caseworker")
    assert not route.can_act_on_any_task("caseworker")
    with route.services.session_factory() as s:
        parties = {(p.role, p.organisation_id, p.active) for p in s.scalars(
            select(CaseParty).where(CaseParty.case_id == world.case_id))}
    assert ("previous_local_authority", world.la.id, False) in parties
    # The health body and the family are still on the case and still see it.
    assert route.sees("health") and route.sees("parent")

    route.engine.clock.set(at(2026, 6, 15))
    route.do("UT_new_la_notice", {"will_assess": "no", "planned_review_date": "2026-08-28",
                                  "setting_practicable": "yes"}, world.users["other_caseworker"])
    assert route.deadline("transfer_notice").status == "met"
    (letter,) = route.documents("tr_new_la_notice")
    assert letter.title == "Alex Taylor's EHC plan has transferred to Otherham Council"
    body = text_of(letter)
    assert "transferred to us from Testshire Council on 23 May 2026" in body
    assert "We do not propose to carry out a new EHC needs assessment" in body
    assert "by 28 August 2026" in body and "no later than 1 September 2026" in body
    assert route.status() == "completed"
    # The old caseworker's own history of the case (what they did) stays in the audit trail.
    with route.services.session_factory() as s:
        assert s.scalars(select(AuditEvent).where(AuditEvent.case_id == world.case_id,
                                                  AuditEvent.action == "case_transferred")).one()


# ---- five days' notice -----------------------------------------------------------------------------------------------

def test_five_days_notice_over_christmas_and_a_late_new_la_notice(route: Route) -> None:
    world = route.world
    route.deploy()
    route.give_plan("2025-02-01", last_review_on="2026-02-01")
    route.engine.clock.set(at(2026, 12, 21))
    route.start()
    route.do("UT_record_move", move(route, move_date="2026-12-26", aware_date="2026-12-21"),
             world.users["caseworker"])
    data = route.data()
    # 15 working days beginning with Monday 21 December 2026 end on Wednesday 13 January 2027: after the move.
    assert (data["fifteenth_working_day"], data["short_notice"], data["transfer_due"]) == (
        "2027-01-13", True, "2027-01-13")
    assert route.task("UT_prepare_transfer").due_date == date(2027, 1, 13)

    route.engine.clock.set(at(2026, 12, 22))
    route.do("UT_prepare_transfer", {"plan_and_advice_checked": True}, world.users["caseworker"])
    (notice,) = route.documents("tr_transfer_notice")
    assert "until 13 January 2027 to transfer the plan" in text_of(notice)
    # Saturday 26 December starts at 00:00 GMT (= UTC).
    assert route.at(at(2026, 12, 25, 23, 59, 59)) == 0
    assert route.at(at(2026, 12, 26, 0, 0, 1)) == 1
    assert route.case().la_id == world.other_la.id
    assert route.deadline("plan_transfer").status == "met"
    assert route.task("UT_new_la_notice").due_date == date(2027, 2, 6)
    # 12 months after the last review (1 Feb 2027) is earlier than 3 months after the transfer (26 March 2027).
    assert route.deadline("annual_review").due_date == date(2027, 3, 26)

    # Nobody tells the family by the end of Saturday 6 February 2027: missed, escalated to the new authority's
    # manager, and the notice still has to go.
    assert route.at(at(2027, 2, 6, 23, 59, 59)) == 0
    assert route.at(at(2027, 2, 7, 0, 0, 1)) == 1
    notice_deadline = route.deadline("transfer_notice")
    assert (notice_deadline.status, notice_deadline.missed) == ("missed", True)
    assert route.open_tasks() == {"UT_new_la_notice", "UT_new_la_notice_overdue"}
    assert route.task("UT_new_la_notice_overdue").organisation_id == world.other_la.id
    route.do("UT_new_la_notice_overdue", {"action_taken": "Letter going today"}, world.users["other_manager"])
    route.do("UT_new_la_notice", {"will_assess": "yes", "assessment_reasons": "Needs have changed since the move",
                                  "planned_review_date": "2027-03-19", "setting_practicable": "no",
                                  "interim_arrangements": "A place at Southside Primary with speech therapy"},
             world.users["other_caseworker"])
    assert route.deadline("transfer_notice").met_at is not None  # done, but late
    body = text_of(route.documents("tr_new_la_notice")[0])
    assert "We propose to carry out a new EHC needs assessment" in body
    assert "A place at Southside Primary with speech therapy" in body
    # The assessment route is not deployed here: nothing starts, and the case's history says so.
    with route.services.session_factory() as s:
        assert s.scalars(select(AuditEvent).where(AuditEvent.case_id == world.case_id,
                                                  AuditEvent.action == "route_not_started")).one()
    assert route.status() == "completed"


def test_move_already_happened_transfers_at_once(route: Route) -> None:
    """Told after the move (short notice): the case moves as soon as the transfer is prepared."""
    world = route.world
    route.deploy()
    route.give_plan("2025-06-10")
    route.engine.clock.set(at(2026, 3, 2))
    route.start()
    route.do("UT_record_move", move(route, move_date="2026-02-27", aware_date="2026-03-02"),
             world.users["caseworker"])
    # 15 working days beginning with Monday 2 March: Friday 20 March.
    assert route.data()["transfer_due"] == "2026-03-20"
    route.engine.clock.set(at(2026, 3, 4))
    route.do("UT_prepare_transfer", {"plan_and_advice_checked": True}, world.users["caseworker"])
    assert route.case().la_id == world.other_la.id
    # Transferred Wednesday 4 March: notice by 15 April; review by the later of 10 June 2026 and 4 June 2026.
    assert route.task("UT_new_la_notice").due_date == date(2026, 4, 15)
    assert route.deadline("annual_review").due_date == date(2026, 6, 10)


# ---- the new authority is not on EHC Flow ------------------------------------------------------------------------------

def test_new_authority_not_on_ehcflow_gets_a_transfer_package_and_the_case_closes(route: Route,
                                                                                  tmp_path: Path) -> None:
    world = route.world
    with route.services.session_factory() as s:
        far = create_organisation(s, "Farshire Council", "local_authority", route.engine.clock, code="FAR",
                                  uses_ehcflow=False)
        s.commit()
        far_id = far.id
    route.deploy()
    route.give_plan("2025-06-10")
    route.engine.clock.set(at(2026, 3, 2))
    route.start()
    route.do("UT_record_move", move(route, new_la_id=far_id, move_date="2026-03-06", aware_date="2026-03-02"),
             world.users["caseworker"])
    assert route.data()["new_la_uses_ehcflow"] is False
    route.do("UT_prepare_transfer", {"plan_and_advice_checked": True}, world.users["caseworker"])
    # The move is on Friday 6 March: the package goes at the start of that day.
    assert route.at(at(2026, 3, 6, 0, 0, 1)) == 1
    case = route.case()
    assert (case.la_id, case.status) == (world.la.id, "closed")
    assert "Farshire Council does not use EHC Flow" in case.closed_reason
    assert route.deadline("plan_transfer").status == "met"
    assert route.status() == "completed"

    (document,) = route.documents("transfer_package")
    assert document.title == "Transfer package for Alex Taylor: moving to Farshire Council"
    package = package_from_document(document)
    assert package["format"] == "ehcflow-transfer-package"
    assert package["to_local_authority"]["name"] == "Farshire Council"
    assert package["child"]["reference"] == case.reference
    assert [v["label"] for v in package["plan"]["versions"]] == ["Final plan"]
    assert package["advice"][0]["title"] == "Educational psychology report"
    assert "tr_transfer_notice" in [d["kind"] for d in package["documents"]]
    assert any(h["action"] == "move_recorded" for h in package["history"])
    assert any(d["key"] == "annual_review" for d in package["deadlines"])
    with route.services.session_factory() as s:
        path = write_transfer_package(s, document.id, tmp_path)
    assert path.name == f"{case.reference}-transfer-package-2026-03-06.json"
    assert json.loads(path.read_text())["child"]["first_name"] == "Alex"
    # Closed here, never moved: the old authority keeps seeing its own closed record; the other never sees it.
    assert route.sees("caseworker") and not route.sees("other_caseworker")


# ---- a move during an assessment ---------------------------------------------------------------------------------------

def test_move_during_an_assessment_ends_it_and_the_new_authority_assesses_on_its_own_clock(route: Route) -> None:
    world = route.world
    route.deploy(*ASSESSMENT_FILES)
    route.engine.clock.set(at(2026, 3, 2))
    assessment = route.engine.start(world.case_id, "ehc_needs_assessment")
    assert route.open_tasks() == {"UT_register"}
    route.start()
    route.do("UT_record_move", move(route, move_date="2026-03-09", aware_date="2026-03-02"),
             world.users["caseworker"])
    data = route.data()
    assert (data["has_plan"], data["assessment_in_progress"], data["last_review_on"]) == (False, True, None)
    route.do("UT_prepare_transfer", {"plan_and_advice_checked": True}, world.users["caseworker"])
    assert route.status(assessment) == "waiting_person"  # still to be registered
    # Monday 9 March begins at 00:00 GMT: the case moves, and the assessment hears of it and ends.
    assert route.at(at(2026, 3, 9, 0, 0, 1)) == 1
    assert route.status(assessment) == "completed"
    with route.services.session_factory() as s:
        wf = route.engine.load_workflow(s.get(ProcessInstance, assessment))
    moved = wf.get_next_task(spec_name="EE_moved").data["move"]
    assert (moved["new_la"], moved["moved_on"], moved["transferred_on"], moved["old_la"]) == (
        "Otherham Council", "2026-03-09", "2026-03-09", "Testshire Council")
    # The new authority's own assessment starts, its clock counted from the moment it became responsible.
    with route.services.session_factory() as s:
        started = s.scalars(select(ProcessInstance).where(ProcessInstance.case_id == world.case_id,
                                                          ProcessInstance.process_id == "ehc_needs_assessment",
                                                          ProcessInstance.id != assessment)).one()
        assert started.parent_instance_id == route.instance_id
        wf = route.engine.load_workflow(started)
    start_data = wf.get_next_task(spec_name="UT_register").data
    assert (start_data["received_at"], start_data["requester_type"], start_data["requester_name"],
            start_data["moved_from_la"], start_data["transferred_on"], start_data["la_id"]) == (
        "2026-03-09T00:00:01+00:00", "other", "Testshire Council", "Testshire Council", "2026-03-09",
        world.other_la.id)
    # Received on Monday 9 March, a working day: 6 weeks to decide whether to assess, by Monday 20 April 2026.
    assert (start_data["start_date"], start_data["decide_by"]) == ("2026-03-09", "2026-04-20")
    register = route.task("UT_register")
    assert (register.instance_id, register.organisation_id) == (started.id, world.other_la.id)
    assert route.status() == "completed"


def test_a_case_with_neither_a_plan_nor_an_assessment_just_moves(route: Route) -> None:
    world = route.world
    route.deploy()
    route.engine.clock.set(at(2026, 3, 2))
    route.start()
    route.do("UT_record_move", move(route, move_date="2026-03-02", aware_date="2026-03-02"),
             world.users["caseworker"])
    route.do("UT_prepare_transfer", {"plan_and_advice_checked": True}, world.users["caseworker"])
    assert route.case().la_id == world.other_la.id
    assert route.open_tasks() == set() and route.status() == "completed"


# ---- the health body ---------------------------------------------------------------------------------------------------

def test_health_body_change_hands_the_case_to_the_new_body(route: Route) -> None:
    world = route.world
    with route.services.session_factory() as s:
        new_icb = create_organisation(s, "Otherham ICB", "health_body", route.engine.clock, code="OICB")
        s.flush()
        create_user(s, "dco@otherham.example", "Otherham DCO", PASSWORD, route.engine.clock, [(new_icb, Role.HEALTH)])
        s.commit()
        new_icb_id = new_icb.id
    route.deploy()
    route.give_plan("2025-06-10")
    route.engine.clock.set(at(2026, 3, 23))
    route.start()
    route.do("UT_record_move", move(route, health_body_changes="yes", new_health_body_id=new_icb_id),
             world.users["caseworker"])
    notify = route.task("UT_notify_new_health_body")
    # The old health body learns of the move today (23 March): 15 working days end on 14 April, before the move on
    # 23 May, so it must tell the new body by the day of the move.
    assert (notify.organisation_id, notify.due_date) == (world.health.id, date(2026, 5, 23))
    route.engine.clock.set(at(2026, 3, 25))
    route.do("UT_notify_new_health_body", {"notified_new_body_on": "2026-03-25", "what_was_sent": "The plan"},
             world.users["health"])
    assert route.deadline("health_body_transfer").status == "met"
    assert not route.sees("health")
    (letter,) = route.documents("tr_health_notification")
    assert [r["name"] for r in letter.recipients] == ["Otherham ICB"]
    # 15 working days beginning with Wednesday 25 March: 25-27 March (3), 30 March-2 April (7), Good Friday and
    # Easter Monday, 7-10 April (11), 13-16 April (15).
    assert "by 16 April 2026" in text_of(letter)
    check = route.task("UT_new_health_check")
    assert (check.organisation_id, check.due_date) == (new_icb_id, date(2026, 4, 16))
    with route.services.session_factory() as s:
        dco = s.scalars(select(User).where(User.email == "dco@otherham.example")).one()
        assert can_see_case(s, dco, s.get(Case, world.case_id))
        route.engine.complete_task(check.id, {"health_can_secure": "no", "health_request": "review",
                                              "health_reasons": "No local audiology service"}, dco)
    route.check_restore()
    request = route.task("UT_health_request")
    assert request.organisation_id == world.la.id  # the plan has not moved yet: the old authority acts
    route.do("UT_health_request", {"health_action_by": "2026-04-20"}, world.users["caseworker"])
    assert "UT_prepare_transfer" in route.open_tasks()


def test_missed_transfer_date_is_escalated_and_a_health_body_outside_ehcflow_is_told_outside_it(route: Route
                                                                                                 ) -> None:
    world = route.world
    route.deploy()
    route.give_plan("2025-06-10")
    route.engine.clock.set(at(2026, 3, 23))
    route.start()
    route.do("UT_record_move", move(route, health_body_changes="yes", new_health_body_name="Farshire ICB"),
             world.users["caseworker"])
    assert route.data()["new_health_body_uses_ehcflow"] is False
    # Nobody prepares the transfer or tells the new health body by the end of Saturday 23 May (23:00 UTC, BST):
    # both deadlines are missed and Testshire's manager gets both escalations; the work still has to be done.
    assert route.at(at(2026, 5, 23, 22, 59, 59)) == 0
    assert route.at(at(2026, 5, 23, 23, 0, 1)) == 1
    assert route.deadline("plan_transfer").status == "missed"
    assert route.deadline("health_body_transfer").status == "missed"
    assert route.open_tasks() == {"UT_prepare_transfer", "UT_transfer_overdue", "UT_notify_new_health_body",
                                  "UT_health_notice_overdue"}
    assert route.task("UT_transfer_overdue").organisation_id == world.la.id
    route.do("UT_transfer_overdue", {"action_taken": "Transfer today"}, world.users["manager"])
    route.do("UT_health_notice_overdue", {"action_taken": "ICB chased"}, world.users["manager"])
    route.do("UT_notify_new_health_body", {"notified_new_body_on": "2026-05-26", "what_was_sent": "The plan"},
             world.users["health"])
    (letter,) = route.documents("tr_health_notification")
    assert [r["name"] for r in letter.recipients] == ["Farshire ICB"]
    # 15 working days beginning with Tuesday 26 May (after the bank holiday on 25 May): Monday 15 June.
    assert "by 15 June 2026" in text_of(letter)
    route.engine.clock.set(at(2026, 5, 27))
    route.do("UT_prepare_transfer", {"plan_and_advice_checked": True}, world.users["caseworker"])
    transferred = route.deadline("plan_transfer")
    assert (transferred.status, transferred.met_at is not None) == ("missed", True)  # done, but late
    assert route.case().la_id == world.other_la.id
    assert route.task("UT_new_la_notice").due_date == date(2026, 7, 8)  # 6 weeks from Wednesday 27 May


@pytest.mark.parametrize(("answers", "then"), [
    ({"health_can_secure": "yes"}, set()),
    ({"health_can_secure": "no", "health_request": "reassess", "health_reasons": "Needs have changed"},
     {"UT_health_request"}),
])
def test_new_health_body_checks_it_can_secure_the_provision(route: Route, answers: dict[str, Any],
                                                            then: set[str]) -> None:
    world = route.world
    with route.services.session_factory() as s:
        new_icb = create_organisation(s, "Otherham ICB", "health_body", route.engine.clock, code="OICB")
        s.flush()
        dco = create_user(s, "dco@otherham.example", "Otherham DCO", PASSWORD, route.engine.clock,
                          [(new_icb, Role.HEALTH)])
        s.commit()
    route.deploy()
    route.give_plan("2025-06-10")
    route.engine.clock.set(at(2026, 3, 23))
    route.start()
    route.do("UT_record_move", move(route, health_body_changes="yes", new_health_body_id=new_icb.id),
             world.users["caseworker"])
    route.do("UT_notify_new_health_body", {"notified_new_body_on": "2026-03-23", "what_was_sent": "The plan"},
             world.users["health"])
    route.do("UT_new_health_check", answers, dco)
    assert route.open_tasks() - {"UT_prepare_transfer"} == then
    if then:
        route.do("UT_health_request", {"health_action_by": "2026-04-30"}, world.users["caseworker"])
        assert route.open_tasks() == {"UT_prepare_transfer"}


# ---- the form is checked against the directory ---------------------------------------------------------------------------

def test_recording_the_move_is_checked_against_the_directory(route: Route) -> None:
    world = route.world
    route.deploy()
    route.engine.clock.set(at(2026, 3, 2))
    route.start()
    task_id = route.task("UT_record_move").id
    with pytest.raises(FormInvalid) as bad:
        route.engine.complete_task(task_id, move(route, new_la_id=world.la.id, aware_date="2026-03-03"),
                                   world.users["caseworker"])
    assert bad.value.errors == {"new_la_id": "Choose another local authority: the case is already with "
                                             "Testshire Council",
                                "aware_date": "The date we became aware of the move cannot be in the future"}
    with pytest.raises(FormInvalid) as bad:
        route.engine.complete_task(task_id, move(route, new_la_id=world.health.id, health_body_changes="yes",
                                                 aware_date="2026-03-02"), world.users["caseworker"])
    assert set(bad.value.errors) == {"new_la_id", "new_health_body_id"}
    # Nothing was saved: the task is still open and the case has not moved.
    assert route.open_tasks() == {"UT_record_move"}
    with route.services.session_factory() as s:
        assert s.get(Organisation, world.la.id) is not None
        assert s.get(Case, world.case_id).la_id == world.la.id
    # A plan in force needs its last review date: from the case (the open review deadline) when it is not given.
    route.give_plan("2025-06-10")
    route.do("UT_record_move", move(route, aware_date="2026-03-02"), world.users["caseworker"])
    assert route.data()["last_review_on"] == "2025-06-10"


# ---- the demo -------------------------------------------------------------------------------------------------------

def test_demo_has_a_case_mid_transfer_and_cases_at_each_disagreement_stage(services: Services,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from demo import seed as demo
    from demo.transfer import seed_disagreements, seed_plan_transfer

    routes = ["plan_transfer", "disagreement_resolution", "mediation", "tribunal_order", "complaint",
              "disagreement_resolution_service"]
    services.engine.deploy(ProcessRegistry.from_files([ROOT / "workflows" / f"{r}.bpmn" for r in routes],
                                                      ROOT / "forms"))
    monkeypatch.setattr(demo, "SEEDERS", [seed_plan_transfer, seed_disagreements])
    ctx = demo.seed(services.engine)
    nsh, sbh = ctx.organisations["NSH"].id, ctx.organisations["SBH"].id

    def open_tasks(name: str) -> set[tuple[str, int | None]]:
        with services.session_factory() as s:
            return {(t.bpmn_id, t.organisation_id) for t in s.scalars(
                select(HumanTask).where(HumanTask.case_id == ctx.cases[name], HumanTask.status == "open"))}

    with services.session_factory() as s:
        # Mid-transfer: still Northshire's, waiting for the day of the move; Grace has moved to Southborough.
        oliver = s.get(Case, ctx.cases["Oliver Bennett"])
        assert oliver.la_id == nsh
        transfer = s.scalars(select(ProcessInstance).where(ProcessInstance.case_id == oliver.id)).one()
        assert transfer.status == "waiting_timer"
        assert s.get(Case, ctx.cases["Grace Lee"]).la_id == sbh
    assert open_tasks("Grace Lee") == {("UT_new_la_notice", sbh)}
    mediation = ctx.organisations["MED"].id
    assert open_tasks("Harry Wilson") == {("UT_adviser_contact", mediation)}
    assert open_tasks("Sophie Turner") == {("UT_arrange_mediation", nsh)}
    assert open_tasks("Jacob Hill") == {("UT_record_appeal", nsh)}
    assert open_tasks("Amelia King") == {("UT_la_response", nsh)}
    assert open_tasks("Lucas Wright") == {("UT_confirm_amended_plan", nsh),
                                          ("UT_health_recommendations", ctx.organisations["ICB"].id)}
    assert open_tasks("Chloe Baker") == {("UT_social_care_response", nsh)}
