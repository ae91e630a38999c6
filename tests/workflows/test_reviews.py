"""Scenario tests for workflows/annual_review.bpmn and the review scheduler (engine/casework/review_scheduler.py).

Every step goes through the engine (one transaction per command); after every step each live instance on the case
is restored from its saved state and serialized again, which must give the same document.

The dates are worked out by hand in the comments. Reminders used throughout:

- a deadline "on" a day is over at midnight London time: 00:00 UTC in winter (GMT), 23:00 UTC the day before in
  summer (BST, from the last Sunday in March to the last Sunday in October);
- months use the month-end rule: 29 February 2028 + 12 months = 28 February 2029;
- the clock fixture starts at Monday 2 March 2026, 10:00 UTC.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from engine.casework import family_rights, review_documents, review_scheduler, review_terms, reviews, termly_review_lists
from engine.library.registry import ProcessRegistry
from engine.runtime.services import Services
from engine.runtime.workflow_engine import WorkflowEngine
from engine.store.models import CaseParty, Deadline, Document, HumanTask, ProcessInstance
from tests.conftest import World
from tests.workflows import flow_coverage
from tests.workflows.drivers import CaseDriver

ROOT = Path(__file__).resolve().parents[2]
# The review routes and the one route they call from elsewhere (the needs assessment's advice request).
# Plan drafting issues the plans whose first review the scheduler starts (issue_plan_on).
ROUTE_FILES = ("annual_review", "plan_amendment", "reassessment", "cease_plan", "ehc_advice_request",
               "ehc_plan_drafting")

# Flow coverage of the four review routes, over every scenario test that drives them (printed after the run).
COVERAGE = flow_coverage.register("review routes", [ROOT / "workflows" / f"{name}.bpmn" for name in ROUTE_FILES[:4]])

# Which user of the World acts in each lane.
LANE_USER = {
    "LA caseworker": "caseworker", "LA decision panel": "manager", "School": "school", "Family": "parent",
    "Health": "health", "Social care": "socialcare", "Educational psychologist": "ep",
}


def deploy_review_routes(engine: WorkflowEngine) -> ProcessRegistry:
    registry = ProcessRegistry.from_files([ROOT / "workflows" / f"{name}.bpmn" for name in ROUTE_FILES],
                                          ROOT / "forms")
    engine.deploy(registry)
    return registry


def at(day: str, hour: int = 10, minute: int = 0) -> datetime:
    """A moment on a London day (hour in UTC)."""
    return datetime.fromisoformat(day).replace(hour=hour, minute=minute, tzinfo=UTC)


@dataclass
class Driver:
    """Drives the routes of one case through the engine, restoring every live instance after every step."""

    services: Services
    world: World
    case_id: int
    started: list[int] = field(default_factory=list)
    finished: set[int] = field(default_factory=set)

    @property
    def engine(self) -> WorkflowEngine:
        return self.services.engine

    # ---- commands ----
    def start(self, process_id: str, data: dict[str, Any] | None = None, who: str = "caseworker") -> int:
        instance_id = self.engine.start(self.case_id, process_id, data or {}, self.world.users[who])
        self.started.append(instance_id)
        self.roundtrip()
        return instance_id

    def complete(self, bpmn_id: str, data: dict[str, Any], who: str | None = None) -> HumanTask:
        task = self.task(bpmn_id)
        user = self.world.users[who or LANE_USER[task.lane or ""]]
        done = self.engine.complete_task(task.id, data, user)
        self.roundtrip()
        return done

    def complete_each(self, bpmn_id: str, data: dict[str, Any], who: str | None = None) -> int:
        """Completes every open task with this id (parallel requests of one kind); returns how many."""
        with self.services.session_factory() as s:
            ids = list(s.scalars(select(HumanTask.id).where(HumanTask.case_id == self.case_id,
                                                            HumanTask.bpmn_id == bpmn_id, HumanTask.status == "open")
                                 .order_by(HumanTask.id)))
        for task_id in ids:
            with self.services.session_factory() as s:
                task = s.get(HumanTask, task_id)
                assert task is not None
                user = self.world.users[who or LANE_USER[task.lane or ""]]
            self.engine.complete_task(task_id, data, user)
            self.roundtrip()
        return len(ids)

    def move_to(self, moment: datetime) -> int:
        """Moves the clock and fires whatever fell due (as the timer worker would); returns instances advanced."""
        self.engine.clock.set(moment)  # type: ignore[attr-defined]
        fired = 0
        while True:
            advanced = self.engine.fire_due_timers()
            fired += advanced
            if not advanced:
                break
        self.roundtrip()
        return fired

    def message(self, name: str, payload: dict[str, Any]) -> int:
        instance_id = self.engine.send_message(self.case_id, name, payload)
        self.roundtrip()
        return instance_id

    def roundtrip(self) -> None:
        """Restores every live instance of the case from its saved state, which must serialize to the same document
        (compared as JSON: the order of a call activity's entries may differ), and records the flow coverage."""
        test = os.environ.get("PYTEST_CURRENT_TEST", "").split(" ")[0]
        with self.services.session_factory() as s:
            for instance in s.scalars(select(ProcessInstance).where(ProcessInstance.case_id == self.case_id)):
                assert instance.status != "failed", instance.last_error
                if instance.id in self.finished or instance.status == "terminated":
                    continue
                wf = self.engine.load_workflow(instance)
                if instance.status == "completed":
                    self.finished.add(instance.id)  # its whole history is kept: record it once
                else:
                    assert json.loads(self.engine.serializer.dumps(wf)) == json.loads(instance.state), (
                        f"instance {instance.id} changed on restore")
                if instance.process_id in ROUTE_FILES:
                    COVERAGE.record(wf, test)

    # ---- queries ----
    def task(self, bpmn_id: str) -> HumanTask:
        with self.services.session_factory() as s:
            rows = s.scalars(select(HumanTask).where(HumanTask.case_id == self.case_id, HumanTask.bpmn_id == bpmn_id,
                                                     HumanTask.status == "open")).all()
            assert len(rows) == 1, f"{bpmn_id}: {len(rows)} open; open tasks: {self.open_tasks()}"
            return rows[0]

    def open_tasks(self) -> list[str]:
        with self.services.session_factory() as s:
            return sorted(s.scalars(select(HumanTask.bpmn_id).where(HumanTask.case_id == self.case_id,
                                                                    HumanTask.status == "open")))

    def deadlines(self, key: str) -> list[Deadline]:
        with self.services.session_factory() as s:
            return list(s.scalars(select(Deadline).where(Deadline.case_id == self.case_id, Deadline.key == key)
                                  .order_by(Deadline.id)))

    def deadline(self, key: str) -> Deadline:
        rows = self.deadlines(key)
        assert len(rows) == 1, f"{key}: {[(r.due_date, r.status) for r in rows]}"
        return rows[0]

    def documents(self) -> list[Document]:
        with self.services.session_factory() as s:
            return list(s.scalars(select(Document).where(Document.case_id == self.case_id).order_by(Document.id)))

    def document(self, kind: str) -> Document:
        found = [d for d in self.documents() if d.kind == kind]
        assert len(found) == 1, f"{kind}: issued {[d.kind for d in self.documents()]}"
        return found[0]

    def instance(self, instance_id: int) -> ProcessInstance:
        with self.services.session_factory() as s:
            row = s.get(ProcessInstance, instance_id)
            assert row is not None
            return row

    def data(self, bpmn_id: str) -> dict[str, Any]:
        """The process data the open task sees."""
        task = self.task(bpmn_id)
        with self.services.session_factory() as s:
            instance = s.get(ProcessInstance, task.instance_id)
            assert instance is not None
            wf = self.engine.load_workflow(instance)
        from uuid import UUID

        spiff = wf.get_task_from_id(UUID(task.task_guid))
        assert spiff is not None
        return dict(spiff.data)


def new_case(services: Services, world: World, first: str, born: str, *, setting: bool = True) -> int:
    """Another child in the World's LA, with the same health body, school (optional), mediation service and parent."""
    with services.session_factory() as s:
        case = services.engine.open_case(s, world.la.id, first, "Review", born)
        parties = [("health_body", world.health.id), ("mediation_service", world.mediation.id)]
        if setting:
            parties.append(("setting", world.school.id))
        for role, org in parties:
            s.add(CaseParty(case_id=case.id, role=role, organisation_id=org))
        s.add(CaseParty(case_id=case.id, role="family", user_id=world.users["parent"].id,
                        relationship_to_child="mother"))
        s.commit()
        return case.id


@pytest.fixture
def routes(services: Services) -> ProcessRegistry:
    return deploy_review_routes(services.engine)


# ---- the forms each step submits ----------------------------------------------------------------------------------

def setup_form(**overrides: Any) -> dict[str, Any]:
    form = {"review_kind": "annual", "last_review_on": "2025-05-11", "arranged_by": "setting"}
    form.update(overrides)
    return form


ARRANGE = {"meeting_place": "Test Primary School, room 4", "meeting_time": "10:00"}
FAMILY_VIEWS = {"family_views": "Alex is happier and reading more."}
SETTING_ADVICE = {"setting_outcomes_progress": "E1 nearly met; E2 started.",
                  "setting_provision_made": "Speech and language therapy three times a week."}
HEALTH_ADVICE = {"health_advice": "Hearing stable.", "health_needs_changed": False}
SOCIAL_CARE_ADVICE = {"social_care_advice": "No social care involvement.", "social_care_needs_changed": False}


def meeting_form(held_on: str, **overrides: Any) -> dict[str, Any]:
    form = {"meeting_held_on": held_on, "attended_family": True, "attended_setting": True, "attended_la": True,
            "child_views": "Likes the new reading club.", "outcomes_progress": "Good progress towards E1 and E2.",
            "outcomes_still_appropriate": "yes", "personal_budget": "none"}
    form.update(overrides)
    return form


REPORT = {"report_recommendation": "keep", "report_summary": "A good year; no change needed."}
KEEP = {"review_decision": "keep", "decision_reasons": "The plan still meets Alex's needs."}


def advise_all(route: Driver, *, school: bool = True) -> None:
    route.complete("UT_family_views", FAMILY_VIEWS)
    if school:
        route.complete("UT_setting_advice", SETTING_ADVICE)
    route.complete("UT_health_advice", HEALTH_ADVICE)
    route.complete("UT_social_care_advice", SOCIAL_CARE_ADVICE)


@pytest.fixture
def route(services: Services, world: World, routes: ProcessRegistry) -> Driver:
    return Driver(services, world, world.case_id)


# ---- annual review: the whole route -----------------------------------------------------------------------------

def test_annual_review_keep_with_every_statutory_date(route: Driver) -> None:
    """Alex (born 14 May 2015, Year 5 in 2025/26) was last reviewed on Monday 11 May 2025.

    - Review due: 11 May 2025 + 12 months = Monday 11 May 2026.
    - Latest day to invite: 11 May 2026 - (2 + 4) weeks = Monday 30 March 2026.
    - Invitations go out on Monday 2 March 2026; the meeting is set for Monday 23 March (3 weeks on, more than the
      2 weeks' notice: earliest allowed 2 March + 14 days = 16 March).
    - Papers due: 23 March - 2 weeks = Monday 9 March; advice is taken until the end of Sunday 8 March.
    - Meeting held on Monday 23 March: report due 23 March + 2 weeks = Monday 6 April; decision due
      23 March + 4 weeks = Monday 20 April.
    - The decision on Thursday 2 April 2026 sets the next review: 2 April 2027.
    """
    iid = route.start("annual_review")
    route.complete("UT_setup", setup_form())
    arrange = route.task("UT_arrange_setting")
    assert (arrange.role, arrange.organisation_id) == ("school", route.world.school.id)
    assert arrange.due_date == date(2026, 3, 30)
    route.complete("UT_arrange_setting", {**ARRANGE, "meeting_date": "2026-03-23"})
    invitation = route.document("ar_invitation")
    assert {r["role"] for r in invitation.recipients} == {"parent", "setting", "health_body", "social_care"}
    assert "23 March 2026" in invitation.title
    papers = route.deadline("review_papers")
    assert (papers.due_date, papers.status) == (date(2026, 3, 9), "open")
    assert route.task("UT_health_advice").due_date == date(2026, 3, 8)
    advise_all(route)
    assert route.deadline("review_papers").status == "met"
    pack = route.document("ar_advice_pack")
    assert "Hearing stable." in pack.body_html and "reading more" in pack.body_html
    route.move_to(at("2026-03-23", 16))
    route.complete("UT_meeting_setting", meeting_form("2026-03-23"))
    report_task = route.task("UT_report_setting")
    assert report_task.due_date == date(2026, 4, 6)
    route.complete("UT_report_setting", REPORT)
    assert route.deadline("review_report").status == "met"
    decide = route.task("UT_decide")
    assert decide.role == "la_manager"
    assert decide.due_date == date(2026, 4, 20)  # the earlier of the two deadline timers on the task
    assert route.deadline("review_decision").due_date == date(2026, 4, 20)
    annual = route.deadline("annual_review")
    assert (annual.due_date, annual.status) == (date(2026, 5, 11), "open")
    route.move_to(at("2026-04-02", 9))
    route.complete("UT_decide", KEEP)
    assert route.deadline("review_decision").status == "met"
    this_review, next_review = route.deadlines("annual_review")
    assert (this_review.due_date, this_review.status) == (date(2026, 5, 11), "met")
    assert (next_review.due_date, next_review.status, next_review.started_on) == (
        date(2027, 4, 2), "open", date(2026, 4, 2))
    keep = route.document("ar_decision_keep")
    assert keep.appealable and "appeal-rights" in keep.body_html
    assert "2 April 2027" in keep.body_html
    assert route.instance(iid).status == "completed"
    assert route.open_tasks() == []


def hold_review(route: Driver, *, meeting: str, decide_on: str, decision: dict[str, Any] | None = None,
                arranger: str = "setting", meeting_extra: dict[str, Any] | None = None) -> None:
    """From the open arrange task to the decision: invitations today, advice in, meeting, report, decision."""
    suffix = "la" if arranger == "la" else "setting"
    route.complete(f"UT_arrange_{suffix}", {**ARRANGE, "meeting_date": meeting})
    advise_all(route, school=arranger != "la")
    route.move_to(at(meeting, 16))
    route.complete(f"UT_meeting_{suffix}", meeting_form(meeting, **(meeting_extra or {})))
    route.complete(f"UT_report_{suffix}", REPORT)
    route.move_to(at(decide_on, 9))
    route.complete("UT_decide", decision or KEEP)


def test_less_than_two_weeks_notice_is_refused(route: Driver) -> None:
    """Invitations on Monday 2 March 2026: the meeting can be on Monday 16 March (2 March + 14 days) at the earliest.

    Sunday 15 March is refused and the task comes back; 16 March is accepted and the papers are due that same day
    (16 March - 2 weeks = 2 March), so the advice is taken until the end of Sunday 1 March: already over, and the
    papers go out at once with whatever there is.
    """
    route.start("annual_review")
    route.complete("UT_setup", setup_form())
    route.complete("UT_arrange_setting", {**ARRANGE, "meeting_date": "2026-03-15"})
    assert route.documents() == []
    again = route.data("UT_arrange_setting")
    assert again["arrange_problem"] == ("The meeting on 2026-03-15 would give less than 2 weeks' notice "
                                        "(regulation 20(3)): choose 2026-03-16 or later.")
    route.complete("UT_arrange_setting", {**ARRANGE, "meeting_date": "2026-03-16"})
    assert route.document("ar_invitation")
    assert route.deadline("review_papers").due_date == date(2026, 3, 2)
    route.move_to(at("2026-03-02", 11))  # the worker's next pass fires the advice cut-off timers (due 2 March 00:00)
    pack = route.document("ar_advice_pack")
    assert pack.body_html.count("Not received by the date the papers went out") == 4
    assert route.deadline("review_papers").status == "met"
    assert route.open_tasks() == ["UT_meeting_setting"]


def test_advice_late_for_the_papers_is_left_out_and_the_meeting_goes_ahead(route: Driver) -> None:
    """Meeting Monday 30 March 2026: papers due Monday 16 March; advice taken until the end of Sunday 15 March
    (the cut-off timer fires at 16 March 00:00 UTC, GMT). Health never answers; the others do."""
    route.start("annual_review")
    route.complete("UT_setup", setup_form())
    route.complete("UT_arrange_setting", {**ARRANGE, "meeting_date": "2026-03-30"})
    route.complete("UT_family_views", FAMILY_VIEWS)
    route.complete("UT_setting_advice", SETTING_ADVICE)
    route.complete("UT_social_care_advice", SOCIAL_CARE_ADVICE)
    route.move_to(at("2026-03-15", 23, 59))
    assert route.open_tasks() == ["UT_health_advice"]
    route.move_to(at("2026-03-16", 0, 1))
    assert route.open_tasks() == ["UT_meeting_setting"]
    pack = route.document("ar_advice_pack")
    assert pack.body_html.count("Not received by the date the papers went out") == 1
    papers = route.deadline("review_papers")
    assert (papers.due_date, papers.status) == (date(2026, 3, 16), "met")


def test_report_two_weeks_and_decision_four_weeks_missed_escalate(route: Driver) -> None:
    """Meeting held Monday 23 March 2026 (GMT until Sunday 29 March, then BST).

    - Report due Monday 6 April (23 March + 14 days): the timer fires at the end of 6 April London time,
      i.e. 6 April 23:00 UTC (BST). Sent on Wednesday 8 April: missed, then done late.
    - Decision due Monday 20 April (23 March + 28 days): over at 20 April 23:00 UTC. Made on Friday 24 April.
    """
    route.start("annual_review")
    route.complete("UT_setup", setup_form())
    route.complete("UT_arrange_setting", {**ARRANGE, "meeting_date": "2026-03-23"})
    advise_all(route)
    route.move_to(at("2026-03-23", 15))
    route.complete("UT_meeting_setting", meeting_form("2026-03-23"))
    assert route.deadline("review_report").due_date == date(2026, 4, 6)
    assert route.move_to(at("2026-04-06", 22, 59)) == 0
    assert route.move_to(at("2026-04-06", 23, 0)) == 0  # a timer fires only once its moment has passed
    assert route.move_to(at("2026-04-06", 23, 1)) == 1
    assert route.open_tasks() == ["UT_report_late", "UT_report_setting"]
    assert route.task("UT_report_late").role == "la_caseworker"
    assert route.deadline("review_report").status == "missed"
    route.move_to(at("2026-04-08", 10))
    route.complete("UT_report_setting", REPORT)
    report = route.deadline("review_report")
    assert report.status == "missed" and report.met_at is not None  # done, late
    assert route.deadline("review_decision").due_date == date(2026, 4, 20)
    route.move_to(at("2026-04-20", 23, 1))
    assert "UT_decision_late" in route.open_tasks()
    assert route.deadline("review_decision").status == "missed"
    route.complete("UT_report_late", {"overdue_reason": "Staff illness", "action_taken": "Sent on 8 April"})
    route.move_to(at("2026-04-24", 10))
    route.complete("UT_decide", KEEP)
    decision = route.deadline("review_decision")
    assert decision.status == "missed" and decision.met_at is not None
    # Still within the 12 months (due 11 May 2026): the annual review itself was on time.
    assert route.deadlines("annual_review")[0].status == "met"
    # The review is over: a chase task still open is no longer needed (the statutory clock keeps what was missed).
    assert route.open_tasks() == []
    with route.services.session_factory() as s:
        chases = s.scalars(select(HumanTask).where(HumanTask.bpmn_id.in_(["UT_report_late", "UT_decision_late"])))
        assert sorted((t.bpmn_id, t.status) for t in chases) == [("UT_decision_late", "cancelled"),
                                                                  ("UT_report_late", "completed")]


def test_from_year_9_the_meeting_must_cover_preparing_for_adulthood(services: Services, world: World,
                                                                    routes: ProcessRegistry) -> None:
    """Born 1 March 2012: on 23 March 2026 the census date of the year is 31 August 2025, age 13, so Year 9."""
    route = Driver(services, world, new_case(services, world, "Nia", "2012-03-01"))
    route.start("annual_review")
    route.complete("UT_setup", setup_form())
    route.complete("UT_arrange_setting", {**ARRANGE, "meeting_date": "2026-03-23"})
    advise_all(route)
    route.move_to(at("2026-03-23", 15))
    route.complete("UT_meeting_setting", meeting_form("2026-03-23"))
    refused = route.data("UT_meeting_setting")
    assert refused["pfa_required"] is True
    assert refused["meeting_problem"].startswith("From Year 9 the review must consider preparing for adulthood")
    route.complete("UT_meeting_setting", meeting_form("2026-03-23", pfa_discussion="Work experience at the farm."))
    route.complete("UT_report_setting", REPORT)
    assert "Work experience at the farm." in route.document("ar_review_report").body_html


def test_a_meeting_recorded_before_it_happens_is_refused(route: Driver) -> None:
    route.start("annual_review")
    route.complete("UT_setup", setup_form())
    route.complete("UT_arrange_setting", {**ARRANGE, "meeting_date": "2026-03-23"})
    advise_all(route)
    route.complete("UT_meeting_setting", meeting_form("2026-03-23"))  # today is still 2 March
    assert route.data("UT_meeting_setting")["meeting_problem"].startswith("The meeting date 2026-03-23 is in the future")


def test_child_not_in_a_school_the_la_arranges_and_reports(services: Services, world: World,
                                                           routes: ProcessRegistry) -> None:
    """Regulation 21: no setting on the case, so the LA caseworker arranges, records and reports; no school advice."""
    route = Driver(services, world, new_case(services, world, "Eli", "2014-01-10", setting=False))
    route.start("annual_review")
    route.complete("UT_setup", setup_form(arranged_by="la"))
    assert route.task("UT_arrange_la").role == "la_caseworker"
    route.complete("UT_arrange_la", {**ARRANGE, "meeting_date": "2026-03-30"})
    assert sorted(route.open_tasks()) == ["UT_family_views", "UT_health_advice", "UT_social_care_advice"]
    hold_review_from_advice = ("UT_meeting_la", "UT_report_la")
    advise_all(route, school=False)
    assert "does not attend a school or college" in route.document("ar_advice_pack").body_html
    route.move_to(at("2026-03-30", 15))
    route.complete(hold_review_from_advice[0], meeting_form("2026-03-30", attended_setting=False))
    route.complete(hold_review_from_advice[1], REPORT)
    route.complete("UT_decide", KEEP)
    assert {r["role"] for r in route.document("ar_invitation").recipients} == {"parent", "health_body",
                                                                               "social_care"}


def test_under_five_review_falls_due_after_six_months(services: Services, world: World,
                                                      routes: ProcessRegistry) -> None:
    """Born 3 June 2022 (3 years old); last reviewed 15 January 2026. Under-five setting 6 months: due 15 July 2026
    (the statutory 12 months, 15 January 2027, stays the deadline on the case's clock)."""
    route = Driver(services, world, new_case(services, world, "Ivy", "2022-06-03"))
    route.start("annual_review")
    route.complete("UT_setup", setup_form(review_kind="under_five", last_review_on="2026-01-15"))
    data = route.data("UT_arrange_setting")
    assert (data["review_due"], data["statutory_review_due"]) == ("2026-07-15", "2027-01-15")
    # invite by 15 July 2026 - 6 weeks = 3 June 2026
    assert route.task("UT_arrange_setting").due_date == date(2026, 6, 3)


def test_under_five_review_escalates_on_its_own_period_not_at_twelve_months(services: Services, world: World,
                                                                           routes: ProcessRegistry) -> None:
    """Code of Practice 9.178: Poppy, born 3 June 2023, is 2 when her plan is issued (by the real plan drafting
    route) on Thursday 15 January 2026. Her next phase transfer, Reception, starts 1 September 2027: more than 12
    months after any review due in 2026, so it plays no part.

    - Her review is due 6 months later (the authority's under-five setting), Wednesday 15 July 2026; the statutory
      12 months (15 January 2027) stay the row on the case's statutory clock.
    - The scheduler starts it 10 weeks before: 15 July - 70 days = Wednesday 6 May 2026 (15 July - 15 = 30 June,
      - 30 = 31 May, - 25 = 6 May). Invitations by 15 July - 6 weeks = Wednesday 3 June.
    - Meeting Monday 15 June; report due 29 June, decision due Monday 13 July (4 weeks).
    - The decision is not made: the decision escalates at the end of 13 July, and the review itself at the end of
      its own date, 15 July (23:00 UTC in BST), not six months later.
    - Kept on Thursday 16 July 2026: Poppy is still under five, so the next review is due 6 months later, on
      16 January 2027. That review falls within the 12 months before she starts Reception (from 1 September 2026),
      so it is her phase-transfer review too, due by the earlier of 16 January and 15 February 2027.
    """
    poppy = new_case(services, world, "Poppy", "2023-06-03")
    route = Driver(services, world, poppy)
    issue_plan_on(route, "2026-01-15")
    row = route.deadline("annual_review")
    assert (row.due_date, row.started_on, row.status) == (date(2027, 1, 15), date(2026, 1, 15), "open")
    assert review_scheduler.start_due_reviews(route.engine, date(2026, 5, 5)) == []
    route.move_to(at("2026-05-06", 7))
    [iid] = review_scheduler.start_due_reviews(route.engine, date(2026, 5, 6))
    route.roundtrip()
    data = route.data("UT_arrange_setting")
    assert (data["review_kind"], data["review_due"], data["statutory_review_due"], data["latest_invitations_on"]) == (
        "under_five", "2026-07-15", "2027-01-15", "2026-06-03")
    route.move_to(at("2026-05-11"))
    route.complete("UT_arrange_setting", {**ARRANGE, "meeting_date": "2026-06-15"})
    route.move_to(at("2026-05-20"))
    advise_all(route)
    route.move_to(at("2026-06-15", 15))
    route.complete("UT_meeting_setting", meeting_form("2026-06-15"))
    route.move_to(at("2026-06-22"))
    route.complete("UT_report_setting", REPORT)
    assert route.open_tasks() == ["UT_decide"]
    assert route.move_to(at("2026-07-13", 23, 1)) == 1
    assert route.open_tasks() == ["UT_decide", "UT_decision_late"]
    # 15 July ends at 23:00 UTC (BST): nothing before, the under-five escalation after.
    assert route.move_to(at("2026-07-15", 22, 59)) == 0
    assert route.move_to(at("2026-07-15", 23, 1)) == 1
    assert route.open_tasks() == ["UT_decide", "UT_decision_late", "UT_under_five_late"]
    late = route.task("UT_under_five_late")
    assert (late.role, late.due_date) == ("la_manager", date(2027, 1, 15))
    # Not a statutory deadline: the 12-month row is still open, due 15 January 2027.
    assert [(r.due_date, r.status) for r in route.deadlines("annual_review")] == [(date(2027, 1, 15), "open")]
    route.move_to(at("2026-07-16"))
    overdue = {"overdue_reason": "Waiting for the health report", "action_taken": "Deciding today"}
    route.complete("UT_under_five_late", overdue)
    route.complete("UT_decision_late", overdue)
    route.complete("UT_decide", KEEP)
    assert route.instance(iid).status == "completed"
    met, following = route.deadlines("annual_review")
    assert (met.status, following.due_date, following.status) == ("met", date(2027, 7, 16), "open")
    with services.session_factory() as s:
        (due,) = [r for r in review_scheduler.due_reviews(s) if r.case_id == poppy]
    assert due.schedule.transfer is not None
    assert (due.schedule.kind, due.schedule.due, due.schedule.transfer.deadline) == (
        "phase_transfer", date(2027, 1, 16), date(2027, 2, 15))


def test_plan_issued_on_29_february_is_reviewed_by_28_february(services: Services, world: World,
                                                               routes: ProcessRegistry) -> None:
    """A plan issued on Tuesday 29 February 2028: 12 months later is 28 February 2029 (no 29 February in 2029).

    The review is set up by hand in January 2029; the 12-month deadline timer is on the decision task.
    """
    route = Driver(services, world, world.case_id)
    route.move_to(at("2029-01-08", 10))
    route.start("annual_review")
    route.complete("UT_setup", setup_form(last_review_on="2028-02-29"))
    assert route.data("UT_arrange_setting")["review_due"] == "2029-02-28"
    # Alex (born 14 May 2015) is in Year 9 in 2028/29: the meeting covers preparing for adulthood.
    hold_review(route, meeting="2029-01-29", decide_on="2029-02-05",
                meeting_extra={"pfa_discussion": "Options for Key Stage 4."})
    this_review, next_review = route.deadlines("annual_review")
    assert (this_review.due_date, this_review.status) == (date(2029, 2, 28), "met")
    assert next_review.due_date == date(2030, 2, 5)


def test_an_early_review_can_start_at_any_time_and_restarts_the_twelve_months(route: Driver) -> None:
    """Last reviewed 1 October 2025 (next due 1 October 2026); an early review because of a risk of exclusion is
    decided on Monday 30 March 2026, so the next review is due 30 March 2027."""
    route.start("annual_review")
    route.complete("UT_setup", setup_form(review_kind="early", last_review_on="2025-10-01",
                                          early_reason="At risk of permanent exclusion."))
    assert route.data("UT_arrange_setting")["review_due"] == "2026-10-01"
    hold_review(route, meeting="2026-03-20", decide_on="2026-03-30")
    assert "At risk of permanent exclusion." in route.document("ar_invitation").body_html
    assert [(d.due_date, d.status) for d in route.deadlines("annual_review")] == [
        (date(2026, 10, 1), "met"), (date(2027, 3, 30), "open")]


# ---- a plan in force, and the scheduler ---------------------------------------------------------------------------

PLAN_SECTIONS = {
    "section_a": {"views": "Enjoys drawing and football.", "aspirations": "To be a vet."},
    "section_b": {"needs": [{"area": "communication_and_interaction", "description": "Speech sound difficulties"}]},
    "section_e": {"outcomes": [{"description": "Speaks in sentences understood by adults", "by_when": "July 2027",
                                "needs": ["B1"]}]},
    "section_f": {"provision": [{"description": "Speech and language therapy", "amount": "Weekly, 30 minutes",
                                 "provided_by": "Speech and language therapist", "needs": ["B1"],
                                 "preparing_for_adulthood": True}]},  # required from Year 9, allowed before
}
PLAN_ADVICE = [{"provider": "Test Primary School", "kind": "educational", "received_on": "2025-12-15",
                "title": "Educational advice"}]


def plan_in_force(services: Services, world: World, case_id: int) -> None:
    """The case's final plan, made with the plans module (what plan drafting records when it issues a plan)."""
    from engine.casework import plans, setting_directory

    now = services.engine.clock.now()
    with services.session_factory() as s:
        plans.create_draft(s, case_id, PLAN_SECTIONS, now=now, advice=PLAN_ADVICE)
        plans.issue_plan(s, case_id, "final", {"I": setting_directory.describe_setting(s, world.school.id)}, now=now)
        s.commit()


def issue_plan_on(route: Driver, day: str) -> None:
    """Issues the case's final plan on that day with the real plan drafting route (workflows/ehc_plan_drafting.bpmn,
    driven by tests/workflows/drivers.py), whose issue opens the first review on the case's statutory clock
    (opensDeadline annual_review: add_months(issued_on, 12)). The drafting runs on the day itself, from 11:00; it names
    the case's school, or only a type of provision for a child not in one."""
    from sqlalchemy import func

    with route.services.session_factory() as s:
        in_a_school = s.scalar(select(func.count()).select_from(CaseParty).where(
            CaseParty.case_id == route.case_id, CaseParty.role == "setting", CaseParty.active.is_(True))) > 0
    driver = CaseDriver(route.services, route.world.users, route.case_id)
    driver.issue_final_plan(at(day, 11), route.world.school.id if in_a_school else None)
    route.roundtrip()


def test_scheduler_starts_the_review_of_a_plan_issued_on_29_february(services: Services, world: World,
                                                                     routes: ProcessRegistry) -> None:
    """Plan issued Tuesday 29 February 2028 -> review due Wednesday 28 February 2029 (month-end rule).

    Alex (born 14 May 2015) has no phase transfer in that year (Year 12 starts in September 2031), so it is an
    annual review. The route starts 10 weeks before: 28 February 2029 - 70 days = Thursday 20 December 2028.
    """
    route = Driver(services, world, world.case_id)
    issue_plan_on(route, "2028-02-29")
    row = route.deadline("annual_review")
    assert (row.due_date, row.started_on) == (date(2029, 2, 28), date(2028, 2, 29))
    engine = route.engine
    assert review_scheduler.start_due_reviews(engine, date(2028, 12, 19)) == []
    [iid] = review_scheduler.start_due_reviews(engine, date(2028, 12, 20))
    route.roundtrip()
    assert review_scheduler.start_due_reviews(engine, date(2028, 12, 21)) == []  # one review at a time
    data = route.data("UT_arrange_setting")
    assert (data["review_kind"], data["review_due"], data["statutory_review_due"], data["scheduled"]) == (
        "annual", "2029-02-28", "2029-02-28", True)
    assert data["review_decision_weeks"] == reviews.REVIEW_DECISION_WEEKS
    assert route.open_tasks() == ["UT_arrange_setting"]  # no set-up task: the scheduler gave the dates
    assert route.instance(iid).process_id == "annual_review"


def test_phase_transfer_review_due_15_february_before_the_twelve_months(services: Services, world: World,
                                                                        routes: ProcessRegistry) -> None:
    """Zara, born 10 March 2017, moves from primary to secondary school in September 2028 (Year 7: on
    31 August 2028 she is 11, 11 - 4 = 7). Her plan was issued on Tuesday 20 April 2027.

    - 12 months: 20 April 2028. The transfer (1 September 2028) is within 12 months of that review, so it is the
      phase-transfer review: reviewed and amended by 15 February 2028 (reg 18(1)(b)), before the 12 months are up.
    - The scheduler starts it 20 weeks before 15 February 2028: Tuesday 28 September 2027.
    - The review decides to amend on Tuesday 30 November 2027; the notice goes out that day; 15 days beginning with
      30 November end on 14 December; the amended plan is issued on Wednesday 15 December 2027, in time.
    """
    case_id = new_case(services, world, "Zara", "2017-03-10")
    route = Driver(services, world, case_id)
    plan_in_force(services, world, case_id)
    issue_plan_on(route, "2027-04-20")
    assert review_scheduler.start_due_reviews(route.engine, date(2027, 9, 27)) == []
    review_scheduler.start_due_reviews(route.engine, date(2027, 9, 28))
    route.roundtrip()
    data = route.data("UT_arrange_setting")
    assert (data["review_kind"], data["review_due"], data["phase_transfer_due"], data["transfer_kind"]) == (
        "phase_transfer", "2028-02-15", "2028-02-15", "school")
    phase = route.deadline("phase_transfer")
    assert (phase.due_date, phase.status) == (date(2028, 2, 15), "open")
    # invitations by 15 Feb 2028 - 6 weeks = Tuesday 4 January 2028
    assert route.task("UT_arrange_setting").due_date == date(2028, 1, 4)
    route.move_to(at("2027-10-04", 10))
    hold_review(route, meeting="2027-11-01", decide_on="2027-11-30",
                decision={"review_decision": "amend", "decision_reasons": "Secondary school to be named.",
                          "amendments_summary": "Name the secondary school; update section F.",
                          "proposed_changes": {"section_f": {"provision": [
                              {"description": "Speech and language therapy", "amount": "Weekly, 45 minutes",
                               "provided_by": "Speech and language therapist", "needs": ["B1"]}]}},
                          "evidence_list": "Review report of 1 November 2027."})
    notice = route.document("am_amendment_notice")
    assert "14 December 2027" in notice.body_html and "Secondary school to be named." in notice.body_html
    assert route.deadline("amended_plan").due_date == date(2028, 1, 25)  # 30 Nov 2027 + 8 weeks
    route.move_to(at("2027-12-15", 10))  # the family did not reply; their 15 days ended on 14 December
    route.complete("UT_finalise", {"amendment_decision": "amend", "final_summary": "Secondary school named.",
                                   "representations_considered": "None received.",
                                   "named_setting_id": route.world.school.id})
    assert route.deadline("phase_transfer").status == "met"
    assert route.deadline("amended_plan").status == "met"
    assert route.document("am_amended_plan").appealable
    from engine.casework import plans

    with services.session_factory() as s:
        current = plans.current_plan(s, case_id)
        assert current is not None and current.kind == "amended"
        assert current.sections["F"]["provision"][0]["amount"] == "Weekly, 45 minutes"
    assert route.open_tasks() == []


def test_phase_transfer_date_missed_escalates(services: Services, world: World, routes: ProcessRegistry) -> None:
    """As above, but nothing happens: 15 February 2028 is over at 16 February 00:00 UTC (GMT)."""
    case_id = new_case(services, world, "Omar", "2017-03-10")
    route = Driver(services, world, case_id)
    issue_plan_on(route, "2027-04-20")
    review_scheduler.start_due_reviews(route.engine, date(2027, 9, 28))
    route.move_to(at("2028-02-15", 23, 59))
    assert "UT_phase_late" not in route.open_tasks()
    route.move_to(at("2028-02-16", 0, 1))
    assert "UT_phase_late" in route.open_tasks()
    assert route.deadline("phase_transfer").status == "missed"
    assert route.task("UT_phase_late").role == "la_manager"
    # the meeting was never arranged: that was chased at 4 January 2028 (15 February - 6 weeks)
    assert "UT_arrange_late" in route.open_tasks()
    route.complete("UT_arrange_late", {"overdue_reason": "New SENCO", "action_taken": "Meeting being arranged"})
    route.complete("UT_phase_late", {"overdue_reason": "Review not held", "action_taken": "Emergency review"})
    assert route.open_tasks() == ["UT_arrange_setting"]


def test_termly_list_of_reviews_due(services: Services, world: World, routes: ProcessRegistry) -> None:
    """Three plans: Alex's issued 29 Feb 2028 (review due 28 Feb 2029: Spring 2029), Zara's issued 20 April 2027
    with a Year 7 transfer in September 2028 (phase-transfer review due 15 Feb 2028: Spring 2028), and Eli's, not
    at a school, issued 5 April 2028 (due 5 April 2029: in the Easter holiday, so on the Summer 2029 list, whose
    window starts the day after Spring 2029 ends on 29 March)."""
    zara = new_case(services, world, "Zara", "2017-03-10")
    eli = new_case(services, world, "Eli", "2014-01-10", setting=False)
    issue_plan_on(Driver(services, world, zara), "2027-04-20")
    issue_plan_on(Driver(services, world, world.case_id), "2028-02-29")
    issue_plan_on(Driver(services, world, eli), "2028-04-05")
    spring_2028, spring_2029, summer_2029 = (review_terms.term_named(n) for n in ("Spring 2028", "Spring 2029",
                                                                            "Summer 2029"))
    # Spring 2029 starts Wednesday 3 January 2029: the list goes out by Wednesday 20 December 2028.
    assert spring_2029.list_due == date(2028, 12, 20)
    with services.session_factory() as s:
        listing = termly_review_lists.termly_review_list(s, spring_2029, world.la.id)
        assert [(r.case_id, r.schedule.due) for r in listing.reviews] == [(world.case_id, date(2029, 2, 28))]
        assert list(listing.by_setting) == [world.school.id]
        assert list(listing.by_health_body) == [world.health.id]
        earlier = termly_review_lists.termly_review_list(s, spring_2028, world.la.id)
        assert [(r.case_id, r.schedule.kind, r.schedule.due) for r in earlier.reviews] == [
            (zara, "phase_transfer", date(2028, 2, 15))]
        later = termly_review_lists.termly_review_list(s, summer_2029, world.la.id)
        assert [(r.case_id, r.schedule.due) for r in later.reviews] == [(eli, date(2029, 4, 5))]
        assert later.not_in_a_setting == later.reviews and later.by_setting == {}
        assert termly_review_lists.termly_review_list(s, spring_2029, world.other_la.id).reviews == []


def test_notices_go_to_the_young_person_after_compulsory_school_age(services: Services, world: World,
                                                                    routes: ProcessRegistry) -> None:
    """Born 20 January 2009: compulsory school age ends on the last Friday of June 2025 (27 June 2025); in 2026 the
    rights, and the notices, are the young person's."""
    case_id = new_case(services, world, "Jordan", "2009-01-20")
    route = Driver(services, world, case_id)
    route.start("annual_review")
    route.complete("UT_setup", setup_form(last_review_on="2025-05-11"))
    hold_review(route, meeting="2026-03-23", decide_on="2026-03-30",
                meeting_extra={"pfa_discussion": "Supported internship from September."})
    to = [r for r in route.document("ar_decision_keep").recipients if not r["copy"]]
    assert [(r["name"], r["role"]) for r in to] == [("Jordan Review", "young_person")]
    assert route.document("ar_invitation").recipients[0]["role"] == "young_person"


def test_review_decides_to_cease_and_starts_the_cease_procedure(route: Driver) -> None:
    route.start("annual_review")
    route.complete("UT_setup", setup_form())
    hold_review(route, meeting="2026-03-23", decide_on="2026-03-30",
                decision={"review_decision": "cease", "decision_reasons": "Needs met without a plan.",
                          "cease_summary": "Alex no longer needs the provision."})
    assert route.open_tasks() == ["UT_consider"]
    task = route.task("UT_consider")
    assert task.process_id == "cease_plan" and task.role == "la_caseworker"
    assert route.data("UT_consider")["cease_context"] == "review"
    # the review itself is done: the next one is due in 12 months unless the plan ceases
    assert [d.status for d in route.deadlines("annual_review")] == ["met", "open"]
    route.complete("UT_consider", {"cease_ground": "no_longer_necessary", "consult_setting": False,
                                   "grounds_detail": "Needs met through SEN support."})
    route.complete("UT_family_views", {"family_agrees_to_cease": "no", "family_cease_views": "Please keep it."})
    route.complete("UT_decide", {"cease_decision": "continue", "cease_decision_reasons": "The family's evidence.",
                                 "views_considered": "The family's views were decisive."})
    assert route.document("cp_decision_continue")
    assert route.instance(route.started[0]).status == "completed"
    assert [d.status for d in route.deadlines("annual_review")] == ["met", "open"]


def test_la_arranged_review_that_runs_late_at_every_step(services: Services, world: World,
                                                         routes: ProcessRegistry) -> None:
    """Eli is not at a school; his plan was last reviewed on Friday 10 April 2025, so this review is due by
    Friday 10 April 2026 and the invitations should have gone by 10 April - 6 weeks = Friday 27 February: already
    past on Monday 2 March, so the chase comes at once.

    - Meeting on Monday 16 March (two weeks' notice exactly); report due Monday 30 March, over at 30 March 23:00 UTC
      (BST from 29 March); sent on Wednesday 1 April.
    - Decision due Monday 13 April (16 March + 4 weeks), over at 13 April 23:00 UTC; the 12 months end on Friday
      10 April, over at 10 April 23:00 UTC. Decided on Wednesday 15 April: both missed.
    """
    route = Driver(services, world, new_case(services, world, "Eli", "2014-01-10", setting=False))
    route.start("annual_review")
    route.complete("UT_setup", setup_form(arranged_by="la", last_review_on="2025-04-10"))
    route.move_to(at("2026-03-02", 11))
    assert route.open_tasks() == ["UT_arrange_la", "UT_arrange_late"]
    route.complete("UT_arrange_late", {"overdue_reason": "Not noticed", "action_taken": "Arranging it today"})
    route.complete("UT_arrange_la", {**ARRANGE, "meeting_date": "2026-03-16"})
    route.move_to(at("2026-03-02", 12))  # the advice had to be in by 1 March: the papers go out now
    route.move_to(at("2026-03-16", 15))
    route.complete("UT_meeting_la", meeting_form("2026-03-16", attended_setting=False))
    route.move_to(at("2026-03-30", 23, 1))
    assert route.open_tasks() == ["UT_report_la", "UT_report_late"]
    route.complete("UT_report_late", {"overdue_reason": "Officer on leave", "action_taken": "Writing it now"})
    route.move_to(at("2026-04-01", 10))
    route.complete("UT_report_la", REPORT)
    route.move_to(at("2026-04-13", 23, 1))
    assert route.open_tasks() == ["UT_decide", "UT_decision_late", "UT_review_late"]
    route.complete("UT_decision_late", {"overdue_reason": "Panel cancelled", "action_taken": "Next panel"})
    route.complete("UT_review_late", {"overdue_reason": "Panel cancelled", "action_taken": "Next panel"})
    route.move_to(at("2026-04-15", 10))
    route.complete("UT_decide", KEEP)
    assert {(d.key, d.status) for d in route.deadlines("review_report") + route.deadlines("review_decision")} == {
        ("review_report", "missed"), ("review_decision", "missed")}
    assert [(d.due_date, d.status) for d in route.deadlines("annual_review")] == [
        (date(2026, 4, 10), "missed"), (date(2027, 4, 15), "open")]


# ---- twenty years of reviews --------------------------------------------------------------------------------------

def test_twenty_years_of_reviews_cost_the_same_each_year(services: Services, world: World,
                                                         routes: ProcessRegistry) -> None:
    """Sam, born 1 June 2021, has a plan issued on Monday 1 June 2026 (age 5), then a review every year to 25.

    Each review is its own short annual_review instance, started by the scheduler from the annual_review deadline
    the previous one opened, so the twentieth review's state and task tree are the size of the first's. The
    meeting is 4 weeks before the review is due and the decision the day before it is due, so the cycle stays
    yearly; the phase transfers (Year 7 in September 2032, Year 12 in September 2037) bring those reviews forward
    to 15 February and 31 March of the year of transfer.
    """
    case_id = new_case(services, world, "Sam", "2021-06-01")
    route = Driver(services, world, case_id)
    issue_plan_on(route, "2026-06-01")
    engine = route.engine
    measured: list[tuple[int, int, str]] = []  # (state length, tasks in the instance, kind) with the decision open
    for year in range(20):
        with services.session_factory() as s:
            [due] = [r for r in review_scheduler.due_reviews(s, world.la.id) if r.case_id == case_id]
        schedule = due.schedule
        route.move_to(at(schedule.start_on.isoformat(), 7))
        [iid] = review_scheduler.start_due_reviews(engine, schedule.start_on)
        route.roundtrip()
        meeting = reviews.calendar.add_weeks(schedule.due, -4).isoformat()
        decide_on = reviews.calendar.add_days(schedule.due, -1).isoformat()
        route.complete("UT_arrange_setting", {**ARRANGE, "meeting_date": meeting})
        advise_all(route)
        route.move_to(at(meeting, 15))
        route.complete("UT_meeting_setting", meeting_form(meeting, pfa_discussion="Plans for adult life."))
        route.complete("UT_report_setting", REPORT)
        route.move_to(at(decide_on, 9))
        with services.session_factory() as s:
            instance = s.get(ProcessInstance, iid)
            assert instance is not None
            measured.append((len(instance.state), len(engine.load_workflow(instance).tasks), schedule.kind))
        route.complete("UT_decide", KEEP)
        assert route.instance(iid).status == "completed", f"review {year + 1}"
    kinds = [kind for _, _, kind in measured]
    assert kinds.count("phase_transfer") == 2 and kinds[0] == kinds[-1] == "annual"
    first, last = measured[0], measured[-1]
    assert abs(last[0] - first[0]) <= first[0] * 0.10, measured
    assert last[1] == first[1], measured  # the same number of tasks in the instance
    annual = [m for m in measured if m[2] == "annual"]
    assert all(abs(size - first[0]) <= first[0] * 0.10 and tasks == first[1] for size, tasks, _ in annual), measured
    # A phase-transfer review also watches the transfer date from its start, so it keeps its own history (about
    # twice the size): but the second is no bigger than the first, eleven years earlier.
    phase_a, phase_b = (m for m in measured if m[2] == "phase_transfer")
    assert abs(phase_b[0] - phase_a[0]) <= phase_a[0] * 0.10 and phase_b[1] == phase_a[1], measured
    with services.session_factory() as s:
        instances = s.scalars(select(ProcessInstance).where(ProcessInstance.case_id == case_id,
                                                            ProcessInstance.process_id == "annual_review")).all()
        assert len(instances) == 20 and all(i.status == "completed" for i in instances)
    statuses = [d.status for d in route.deadlines("annual_review")]
    assert statuses == ["met"] * 20 + ["open"]
    assert [d.status for d in route.deadlines("phase_transfer")] == ["met", "met"]
    # From July 2037 (compulsory school age ends Friday 25 June 2037) the notices went to Sam.
    keeps = [d for d in route.documents() if d.kind == "ar_decision_keep"]
    assert keeps[0].recipients[0]["role"] == "parent" and keeps[-1].recipients[0]["role"] == "young_person"


@pytest.mark.parametrize(("process_id", "first_task"), [
    ("annual_review", "UT_setup"), ("plan_amendment", "UT_propose"), ("reassessment", "UT_register"),
    ("cease_plan", "UT_consider"),
])
def test_route_defaults_are_the_settings_in_engine_reviews(route: Driver, process_id: str, first_task: str) -> None:
    """A route started by hand (no settings passed) uses the same figures as engine/casework/reviews.py ROUTE_SETTINGS."""
    route.start(process_id)
    data = route.data(first_task)
    settings = reviews.ROUTE_SETTINGS[process_id]
    assert {key: data[key] for key in settings} == dict(settings)


def test_a_review_already_past_its_twelve_months_is_recorded_as_missed(route: Driver) -> None:
    """Last reviewed 1 February 2025: the review was due by 1 February 2026, a month before it started."""
    route.start("annual_review")
    route.complete("UT_setup", setup_form(last_review_on="2025-02-01"))
    assert route.deadline("annual_review").due_date == date(2026, 2, 1)
    route.complete("UT_arrange_setting", {**ARRANGE, "meeting_date": "2026-03-23"})
    advise_all(route)
    route.move_to(at("2026-03-23", 15))
    route.complete("UT_meeting_setting", meeting_form("2026-03-23"))
    route.complete("UT_report_setting", REPORT)
    route.move_to(at("2026-03-23", 16))
    assert "UT_review_late" in route.open_tasks()
    assert route.deadline("annual_review").status == "missed"
    route.complete("UT_review_late", {"overdue_reason": "The school did not arrange it", "action_taken": "Held now"})
    route.complete("UT_decide", KEEP)
    done = route.deadlines("annual_review")[0]
    assert done.status == "missed" and done.met_at is not None  # done, late


def test_demo_has_cases_at_each_review_stage(services: Services, routes: ProcessRegistry) -> None:
    """The demo seeder drives the routes through the engine; here on the fixture clock, 2 March 2026."""
    from demo import seed as demo
    from engine.runtime.deadlines import deadline_state

    ctx = demo.seed(services.engine)
    today = services.engine.clock.today()

    def open_tasks(name: str) -> list[str]:
        with services.session_factory() as s:
            return sorted(s.scalars(select(HumanTask.bpmn_id).where(HumanTask.case_id == ctx.cases[name],
                                                                    HumanTask.status == "open")))

    def states(name: str) -> dict[str, str]:
        with services.session_factory() as s:
            rows = s.scalars(select(Deadline).where(Deadline.case_id == ctx.cases[name]).order_by(Deadline.id))
            return {row.key: deadline_state(row, today) for row in rows}

    assert open_tasks("Amara Osei") == ["UT_health_advice", "UT_setting_advice", "UT_social_care_advice"]
    assert open_tasks("Theo Martin") == ["UT_report_setting"]
    assert open_tasks("Maya Hussain") == ["UT_decide", "UT_report_late"]
    assert states("Maya Hussain")["review_report"] == "missed"
    assert open_tasks("Finn Walsh") == ["UT_arrange_late", "UT_arrange_setting"]
    assert states("Finn Walsh")["annual_review"] == "overdue"
    assert open_tasks("Grace Bennett") == ["UT_family_response"]
    assert states("Grace Bennett")["phase_transfer"] in ("due", "due soon")
    assert open_tasks("Oliver Grant") == ["UT_decide"]
    assert open_tasks("Chloe Adams") == []
    with services.session_factory() as s:
        chloe = s.scalars(select(ProcessInstance).where(ProcessInstance.case_id == ctx.cases["Chloe Adams"])).one()
        assert chloe.status == "waiting_timer"
    # Noah's and Isla's plans are in force, their reviews not started: the timer worker's first pass starts Noah's
    # (its start day, 10 weeks before it is due, has come) and leaves Isla's, due in about five months.
    assert open_tasks("Noah Patel") == open_tasks("Isla Brown") == []
    assert states("Noah Patel")["annual_review"] == states("Isla Brown")["annual_review"] == "due"
    from engine.runtime.worker import run_once

    run_once(services.engine)
    assert open_tasks("Noah Patel") == ["UT_arrange_setting"]
    assert open_tasks("Isla Brown") == []
    with services.session_factory() as s:
        due = {r.child_name: r.schedule for r in review_scheduler.due_reviews(s)}
    assert due["Isla Brown"].start_on > today and due["Noah Patel"].start_on <= today


def test_a_review_asked_for_by_a_date_is_due_by_then(route: Driver) -> None:
    """A new health body asks for a review by Friday 1 May 2026 (plan_transfer starts the route so); the plan was
    last reviewed on 1 October 2025, so without the request it would be due by 1 October 2026."""
    route.start("annual_review", {"review_reason": "health_body_request", "review_due": "2026-05-01"})
    route.complete("UT_setup", setup_form(review_kind="early", last_review_on="2025-10-01",
                                          early_reason="The new health body cannot secure section G."))
    data = route.data("UT_arrange_setting")
    assert (data["review_due"], data["statutory_review_due"]) == ("2026-05-01", "2026-10-01")
    assert route.task("UT_arrange_setting").due_date == date(2026, 3, 20)  # 1 May - 6 weeks


def test_every_appealable_notice_starts_the_disagreement_route() -> None:
    """Each step that issues a notice of an appealable decision also sends appealable_decision_notified (the
    sendsMessage completion hook, docs/routes/transfer-and-disagreement.md), with the decision it notifies."""
    from lxml import etree

    ns = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
          "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core"}
    found: dict[str, str] = {}
    for name in ROUTE_FILES[:4]:
        tree = etree.parse(str(ROOT / "workflows" / f"{name}.bpmn"))
        for element in tree.iterfind(".//bpmn:extensionElements/spiffworkflow:properties/..", ns):
            props = {p.get("name"): p.get("value") for p in element.iterfind(".//spiffworkflow:property", ns)}
            notices = [n.strip() for n in props.get("document", "").split(",") if n.strip()]
            appealable = [n for n in notices if review_documents.DOCUMENT_TEMPLATES[n].appealable]
            if appealable:
                assert props.get("sendsMessage") == "appealable_decision_notified", appealable
                found[appealable[0]] = props["messagePayload"].split('"decision": "')[1].split('"')[0]
    assert found == {"ar_decision_keep": "refuse_amend", "am_amended_plan": "amended_plan",
                     "am_decision_not_to_amend": "refuse_amend", "ra_decision_declined": "refuse_reassess",
                     "ra_decision_no_change": "refuse_amend", "ra_final_plan": "amended_plan",
                     "cp_decision_cease": "cease"}


# ---- the timer worker's daily pass: reviews fall due, the termly lists go out ---------------------------------------

def review_instances(services: Services, case_id: int) -> list[int]:
    with services.session_factory() as s:
        return list(s.scalars(select(ProcessInstance.id).where(ProcessInstance.case_id == case_id,
                                                               ProcessInstance.process_id == "annual_review")))


def test_the_worker_starts_each_review_on_its_day_once_even_after_downtime(services: Services, world: World,
                                                                          routes: ProcessRegistry) -> None:
    """Alex's plan was issued on Tuesday 29 February 2028: review due Wednesday 28 February 2029, started 10 weeks
    before, Thursday 20 December 2028. Ivy (born 14 May 2015 too: no phase transfer before 2031) had hers issued on
    Wednesday 15 March 2028: due Thursday 15 March 2029; 70 days before is Thursday 4 January 2029 (15 March - 28
    days = 15 February, - 31 days = 15 January, - 11 days = 4 January).

    The worker passes on 19 and 20 December (twice that day), then is down until Saturday 20 January 2029: its first
    pass starts Ivy's review, late but once. Winter: London days are UTC days."""
    from engine.runtime.worker import run_once

    ivy = new_case(services, world, "Ivy", "2015-05-14")
    issue_plan_on(Driver(services, world, world.case_id), "2028-02-29")
    issue_plan_on(Driver(services, world, ivy), "2028-03-15")
    engine = services.engine
    passes = [("2028-12-19", 7), ("2028-12-19", 23), ("2028-12-20", 0), ("2028-12-20", 15), ("2028-12-21", 7)]
    seen = []
    for day, hour in passes:
        engine.clock.set(at(day, hour))  # type: ignore[attr-defined]
        run_once(engine)
        seen.append((len(review_instances(services, world.case_id)), len(review_instances(services, ivy))))
    assert seen == [(0, 0), (0, 0), (1, 0), (1, 0), (1, 0)]
    engine.clock.set(at("2029-01-20", 9))  # type: ignore[attr-defined]
    run_once(engine)
    run_once(engine)
    assert (len(review_instances(services, world.case_id)), len(review_instances(services, ivy))) == (1, 1)
    route = Driver(services, world, ivy)
    route.roundtrip()
    data = route.data("UT_arrange_setting")
    assert (data["scheduled"], data["review_kind"], data["review_due"]) == (True, "annual", "2029-03-15")


def test_the_termly_list_goes_two_weeks_before_the_term_once_to_each_organisation(
        services: Services, world: World, routes: ProcessRegistry) -> None:
    """Summer 2027 starts on Monday 12 April 2027. Two weeks before is Monday 29 March 2027, Easter Monday (Easter
    Sunday is 28 March 2027), and Friday 26 March is Good Friday: both bank holidays, so the list goes on Thursday
    25 March 2027. Its window runs from the day after Spring 2027 ends (Thursday 25 March) to 21 July 2027.

    Alex's plan was issued on Monday 26 April 2026: review due 26 April 2027 (Summer 2027). Eli, not at a school,
    had his issued on Thursday 1 April 2026: due 1 April 2027, in the Easter holiday, so on the Summer list too.
    Zoe's (issued 10 January 2026: due 10 January 2027) belongs to the Spring 2027 list, not this one.
    """
    from engine.runtime.worker import run_once
    from engine.store.outbox import OrganisationNotice, OutboxEmail

    eli = new_case(services, world, "Eli", "2014-01-10", setting=False)
    zoe = new_case(services, world, "Zoe", "2014-02-10")
    issue_plan_on(Driver(services, world, zoe), "2026-01-10")
    issue_plan_on(Driver(services, world, eli), "2026-04-01")
    issue_plan_on(Driver(services, world, world.case_id), "2026-04-26")
    summer = review_terms.term_named("Summer 2027")
    assert (summer.list_due, summer.send_on) == (date(2027, 3, 29), date(2027, 3, 25))
    engine = services.engine

    def notices() -> list[tuple[str, int, list[int]]]:
        with services.session_factory() as s:
            rows = s.scalars(select(OrganisationNotice).where(OrganisationNotice.title.contains("Summer 2027"))
                             .order_by(OrganisationNotice.id))
            return [(n.recipient_role, n.organisation_id, sorted(n.case_ids)) for n in rows]

    engine.clock.set(at("2027-03-24", 9))  # type: ignore[attr-defined]
    run_once(engine)
    assert notices() == []
    engine.clock.set(at("2027-03-25", 0, 30))  # type: ignore[attr-defined]
    run_once(engine)
    assert notices() == [("setting", world.school.id, [world.case_id]),
                         ("health_body", world.health.id, sorted([world.case_id, eli])),
                         ("social_care", world.la.id, sorted([world.case_id, eli]))]
    for moment in (at("2027-03-25", 16), at("2027-03-26", 9), at("2027-04-11", 9)):
        engine.clock.set(moment)  # type: ignore[attr-defined]
        run_once(engine)
    assert len(notices()) == 3  # once per term and organisation
    with services.session_factory() as s:
        school_list = s.scalars(select(OrganisationNotice).where(OrganisationNotice.recipient_role == "setting",
                                                                 OrganisationNotice.title.contains("Summer"))).one()
        assert "Alex Taylor" in school_list.body_html and "26 April 2027" in school_list.body_html
        assert "Eli Review" not in school_list.body_html and "Zoe Review" not in school_list.body_html
        emails = s.scalars(select(OutboxEmail).where(OutboxEmail.kind == "organisation_notice")
                           .order_by(OutboxEmail.id)).all()
        to = [e.to_address for e in emails if e.link_path.endswith(f"/{school_list.id}")]
        assert to == ["school@test.example"]
        summer_ids = set(s.scalars(select(OrganisationNotice.id).where(OrganisationNotice.title.contains("Summer"))))
        summer_emails = sorted(e.to_address for e in emails if int(e.link_path.rsplit("/", 1)[1]) in summer_ids)
        assert summer_emails == ["health@test.example", "school@test.example", "socialcare@test.example"]
        assert all("Alex" not in e.subject + e.body for e in emails)  # the email only says where to look


def test_a_young_person_can_name_their_parent_to_get_the_notices_too(services: Services, world: World) -> None:
    """Kai, born 1 September 2010, is in Year 11 in 2026/27. Compulsory school age ends on the last Friday in June
    2027: 1 June 2027 is a Tuesday, so the Fridays are 4, 11, 18 and 25 June, and it ends on Friday 25 June 2027.
    Until then notices go to both parents; from Saturday 26 June to Kai, and to his mother as well once he has named
    her to act for him."""
    from engine.casework import documents, notifications
    from engine.errors import NotFound
    from engine.people.roles import Role
    from engine.people.users import create_user
    from engine.store.models import Case
    from tests.conftest import PASSWORD

    case_id = new_case(services, world, "Kai", "2010-09-01")
    mother = world.users["parent"]
    with services.session_factory() as s:
        father = create_user(s, "father@test.example", "Kai's Father", PASSWORD, services.engine.clock,
                             [(None, Role.FAMILY)])
        s.add(CaseParty(case_id=case_id, role="family", user_id=father.id, relationship_to_child="father"))
        s.commit()
    assert reviews.calendar.end_of_compulsory_school_age("2010-09-01") == date(2027, 6, 25)
    data = {"meeting_held_on": "2027-06-14", "decision_reasons": "The plan still meets Kai's needs.",
            "next_review_due": "2028-06-21"}

    def addressed(on: date) -> tuple[list[tuple[str, str]], str]:
        with services.session_factory() as s:
            case = s.get(Case, case_id)
            assert case is not None
            parties = list(s.scalars(select(CaseParty).where(CaseParty.case_id == case_id,
                                                             CaseParty.active.is_(True)).order_by(CaseParty.id)))
            _, body, recipients, _ = documents.render("ar_decision_keep", case, parties, data, on)
            return [(r["name"], r["role"]) for r in recipients if not r["copy"]], body

    with services.session_factory() as s:
        with pytest.raises(NotFound):
            family_rights.name_parent_to_act(s, case_id, world.users["school"].id)  # not family on this case
        family_rights.name_parent_to_act(s, case_id, mother.id)
        family_rights.name_parent_to_act(s, case_id, mother.id)  # once is enough
        s.commit()
    both_parents = [("Parent", "parent"), ("Kai's Father", "parent")]
    assert addressed(date(2027, 6, 25))[0] == both_parents  # the last day of compulsory school age
    to, body = addressed(date(2027, 6, 26))
    assert to == [("Kai Review", "young_person"), ("Parent", "parent")]
    assert "To: Kai Review; Parent" in body
    with services.session_factory() as s:
        document = Document(case_id=case_id, kind="ar_decision_keep", title="t", body_html=body,
                            recipients=[{"name": n, "role": r, "copy": False,
                                         "user_id": mother.id if r == "parent" else None} for n, r in to],
                            issued_at=services.engine.clock.now())
        s.add(document)
        s.flush()
        # The young person has no account here; the named mother gets the email, the father does not.
        assert [u.id for u, _ in notifications.document_recipients(s, document)] == [mother.id]
        s.rollback()
    with services.session_factory() as s:
        assert family_rights.withdraw_named_parent(s, case_id, mother.id)
        s.commit()
    assert addressed(date(2027, 6, 26))[0] == [("Kai Review", "young_person")]
    assert addressed(date(2027, 6, 25))[0] == both_parents
