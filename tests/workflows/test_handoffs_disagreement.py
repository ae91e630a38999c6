"""Hand-offs of the disagreement routes, with the real routes (issue 14): every place a disagreement route starts,
calls or tells another, and every appealable notice that starts one.

The routes are the project's own ``workflows/`` folder, checked and deployed as ``ehcflow setup`` does (no
stand-ins: tests/workflows/test_disagreement.py keeps those for the mechanism only). Every step goes through the
engine's commands with a moved clock, and after each one every instance on the case is restored from its saved
state and serialized again (tests/workflows/drivers.py).

Dates worked out by hand (British Summer Time 2026: 29 March to 25 October; bank holidays: 3 and 6 April, 4 and 25
May, 31 August):

- An order dated Monday 2 March 2026 (regulation 44): 2 weeks is Monday 16 March, 5 weeks Monday 6 April, 10 weeks
  Monday 11 May, 11 weeks Monday 18 May, 14 weeks Monday 8 June. A deadline on a day is over at midnight in England
  at the end of it: 00:00 UTC the next day in winter (16 March), 23:00 UTC that day in summer (6 April, 11 May,
  8 June).
- A notice sent on Monday 2 March: the family contacts the mediation adviser by Saturday 2 May (2 months).
- Ceasing decided on Monday 23 March: the appeal period is 2 months, to Saturday 23 May. A certificate issued on
  Wednesday 25 March gives 1 month, to 25 April: the later date, 23 May, stands. An appeal sent to the authority on
  Monday 20 April is answered within 30 tribunal working days: 21-24 April (4), 27-30 (8), 1 May (9), 4 May is a
  bank holiday, 5-8 (13), 11-15 (18), 18-22 (23), 25 May is a bank holiday, 26-29 (27), 1-3 June (30): Wednesday
  3 June.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from engine.casework.documents import documents_for_case
from engine.runtime.services import Services
from engine.store.models import HumanTask, Timer, User
from tests.conftest import World, real_routes
from tests.workflows.drivers import CaseDriver
from tests.workflows.test_reviews import plan_in_force

ROOT = Path(__file__).resolve().parents[2]
ORDER = {"order_source": "tribunal", "order_date": "2026-03-02", "health_recommendations": "no",
         "social_care_recommendations": "no"}


class Driver(CaseDriver):
    """The case driver, with the disagreement routes' people too: the mediation service and the LA manager."""

    def actor(self, task: HumanTask) -> User:
        extra = {"mediation": "mediation", "la_manager": "manager"}
        if task.role in extra:
            return self.users[extra[task.role]]
        return super().actor(task)


def utc(year: int, month: int, day: int, hour: int = 10, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


@pytest.fixture
def route(services: Services, world: World) -> CaseDriver:
    services.engine.deploy(real_routes())
    services.engine.clock.set(utc(2026, 3, 2))
    return Driver(services, world.users, world.case_id)


def decide_to_cease(route: CaseDriver, on: datetime) -> int:
    """The real ceasing route, from its start to the decision to cease on ``on`` (the family disagrees, the setting
    agrees): its notice starts the disagreement route. Returns the ceasing route's instance id."""
    cease = route.engine.start(route.case_id, "cease_plan", {}, route.users["caseworker"])
    route.check()
    route.complete("UT_consider", {"cease_ground": "no_longer_necessary", "consult_setting": True,
                                   "grounds_detail": "All outcomes met."})
    route.complete("UT_family_views", {"family_agrees_to_cease": "no", "family_cease_views": "Please keep it."})
    route.complete("UT_setting_views", {"setting_agrees_to_cease": "yes", "setting_cease_views": "Needs are met."})
    route.complete("UT_decide", {"cease_decision": "cease", "cease_decision_reasons": "No longer needed.",
                                 "views_considered": "Considered."}, on)
    return cease


def start_order(route: CaseDriver, kind: str) -> int:
    iid = route.engine.start(route.case_id, "tribunal_order", {"order_kind": kind, **ORDER},
                             route.users["caseworker"])
    route.check()
    return iid


def timer_due(route: CaseDriver, process_id: str, bpmn_id: str) -> datetime:
    """The moment (UTC) the one waiting timer of that element in the case's route fires."""
    instance_id = route.instance(process_id).id
    with route.services.session_factory() as s:
        (row,) = s.scalars(select(Timer).where(Timer.instance_id == instance_id, Timer.bpmn_id == bpmn_id,
                                               Timer.status == "waiting"))
        due = row.due_at
    return due.replace(tzinfo=UTC) if due.tzinfo is None else due.astimezone(UTC)


# ---- tribunal_order -> the route each order starts ---------------------------------------------------------------------

def test_an_order_to_make_a_plan_starts_plan_drafting_with_the_orders_dates(route: CaseDriver) -> None:
    """Regulation 44(2)(c): draft in 5 weeks (6 April), final plan in 11 weeks (18 May), not 20 weeks from a request
    there never was. (It used to fail to start: the drafting route's start script needed the assessment's
    start_date.)"""
    order = start_order(route, "make_plan")
    drafting = route.instance("ehc_plan_drafting")
    assert (drafting.parent_instance_id, drafting.status) == (order, "waiting_person")
    data = route.data("ehc_plan_drafting")
    assert data["tribunal_order"] == {"kind": "make_plan", "source": "tribunal", "date": "2026-03-02"}
    assert (str(data["final_plan_due"]), str(data["final_plan_by"]), str(data["draft_due"])) == (
        "2026-05-18", "2026-05-18", "2026-04-06")
    assert "start_date" not in data  # no assessment started it: nothing pretends one did
    assert route.open() == ["UT_confirm_draft_plan", "UT_health_provision", "UT_social_care_provision"]
    # The drafting route's own clock falls on the order's final date, beside the order's draft limit.
    assert route.deadlines() == {"order_draft_plan": ("2026-04-06", "open"), "final_plan_20w": ("2026-05-18", "open")}
    assert route.task("UT_confirm_draft_plan").due_date == date(2026, 4, 6)
    # Not issued by Monday 18 May (23:00 UTC, BST): the drafting route escalates on that day, not in week 20.
    route.at(utc(2026, 5, 18, 22, 59, 59))
    assert route.deadlines()["final_plan_20w"] == ("2026-05-18", "open")
    route.at(utc(2026, 5, 18, 23, 0, 1))
    assert route.deadlines()["final_plan_20w"] == ("2026-05-18", "missed")
    assert "UT_final_plan_overdue" in route.open()


def test_plan_drafting_started_by_an_assessment_keeps_its_20_weeks(route: CaseDriver) -> None:
    """The start script's other branch, unchanged: start_date 2 March, final plan 20 weeks later, 20 July."""
    route.engine.start(route.case_id, "ehc_plan_drafting", {"start_date": "2026-03-02"}, route.users["caseworker"])
    route.check()
    data = route.data("ehc_plan_drafting")
    assert (str(data["start_date"]), str(data["final_plan_by"])) == ("2026-03-02", "2026-07-20")
    assert "final_plan_due" not in data
    assert route.deadlines() == {"final_plan_20w": ("2026-07-20", "open")}


@pytest.mark.parametrize(
    ("kind", "process_id", "expected", "first_tasks", "order_task", "order_deadline"),
    [
        # The assessment route reads who asked and when (the order's day); the order's own limits are kept here.
        # It does not decide whether to assess: the order is registered, and its clocks count from the order: a
        # decision not to issue in 10 weeks (11 May), the final plan in 14 (8 June).
        ("assess", "ehc_needs_assessment",
         {"requester_type": "other", "requester_name": "First-tier Tribunal (SEND) order", "start_date": "2026-03-02",
          "no_plan_notice_by": "2026-05-11", "final_plan_by": "2026-06-08"},
         ["UT_register_order"], "UT_tell_family_will_assess", ("order_assess_notice", "2026-03-16")),
        # The re-assessment takes the order as its decision: no registration, straight to advice and views; its
        # 14 weeks run from the order's date: 8 June.
        ("reassess", "reassessment",
         {"decided_to_reassess": True, "requested_by": "tribunal_order", "final_plan_due": "2026-06-08"},
         ["UT_family_views", "UT_request_advice", "UT_request_advice", "UT_request_advice", "UT_request_advice"],
         "UT_tell_family_will_assess", ("order_assess_notice", "2026-03-16")),
        ("amend", "plan_amendment", {"amendment_context": "tribunal_order", "amended_plan_weeks": 5},
         ["UT_propose"], "UT_confirm_amended_plan", ("order_amended_plan", "2026-04-06")),
        ("name_setting", "plan_amendment", {"amendment_context": "tribunal_order", "amended_plan_weeks": 2},
         ["UT_propose"], "UT_confirm_amended_plan", ("order_amended_plan", "2026-03-16")),
    ],
)
def test_each_order_starts_its_real_route_with_data_it_reads(route: CaseDriver, kind: str, process_id: str,
                                                             expected: dict[str, object], first_tasks: list[str],
                                                             order_task: str, order_deadline: tuple[str, str]
                                                             ) -> None:
    order = start_order(route, kind)
    started = route.instance(process_id)
    assert (started.parent_instance_id, started.status) == (order, "waiting_person")
    data = route.data(process_id)
    assert data["tribunal_order"] == {"kind": kind, "source": "tribunal", "date": "2026-03-02"}
    assert {key: (str(data[key]) if isinstance(value, str) else data[key]) for key, value in expected.items()} \
        == expected
    # Keys the started route does not read are not passed (issue 14: "assess passes keys needs assessment ignores").
    assert data.get("decided_to_assess") is None and data.get("request_source") is None
    with route.services.session_factory() as s:
        started_tasks = sorted(s.scalars(select(HumanTask.bpmn_id).where(HumanTask.instance_id == started.id,
                                                                         HumanTask.status == "open")))
    assert started_tasks == sorted(first_tasks)
    key, due = order_deadline
    assert route.deadlines()[key] == (due, "open")
    assert str(route.task(order_task).due_date) == due


# ---- the route an order starts keeps the order's time limits (regulation 44(2)) ------------------------------------------

ADVICE = {"advice_given_by": "A. Adviser", "advice_needs": "Language processing.",
          "advice_provision": "Weekly therapy.", "advice_outcomes": "Follows two-step instructions."}
STANDARD_ADVICE = (("UT_advice_school", "education"), ("UT_advice_ep", "psychological"),
                   ("UT_advice_health", "health"), ("UT_advice_social_care", "social_care"))
PROPOSE = {"amendment_reason": "needs_changed", "amendments_summary": "As the tribunal ordered.",
           "proposed_changes": {"section_f": {"provision": [
               {"description": "Speech and language therapy", "amount": "Twice weekly, 30 minutes",
                "provided_by": "Speech and language therapist", "needs": ["B1"]}]}},
           "evidence_list": "The tribunal's order of 2 March 2026."}
NO_FURTHER_COMMENTS = {"agrees_with_changes": "yes", "wants_meeting": False, "request_setting": False,
                       "no_further_comments": True}


def gather_advice(route: CaseDriver, sent: datetime, received: datetime) -> None:
    """The four advice requests of an assessment or re-assessment, sent and answered."""
    for _, key in STANDARD_ADVICE:
        route.complete("UT_request_advice", {"advice_route": "new_request"}, sent, key=key)
    for bpmn_id, key in STANDARD_ADVICE:
        route.complete(bpmn_id, ADVICE, received, key=key)


def test_an_order_to_assess_runs_the_assessment_on_the_orders_clocks(route: CaseDriver) -> None:
    """The order (Monday 2 March) reaches the authority on Wednesday 4 March. The assessment it starts does not
    decide whether to assess and opens no 6-week row: the caseworker registers the order on Monday 9 March (the
    notice that the authority will assess goes out then, within the 2 weeks, due 16 March). A decision not to issue
    is due in 10 weeks (11 May: the watch fires at 23:00 UTC, BST), the final plan in 14 (8 June). Advice asked for
    on 9 March (due 20 April), in by Friday 17 April; the decision to issue on Tuesday 5 May starts plan drafting with
    the order's 8 June, whose week-20 escalation fires at 23:00 UTC on 8 June."""
    route.at(utc(2026, 3, 4))
    start_order(route, "assess")
    assert route.open() == ["UT_register_order", "UT_tell_family_will_assess"]
    assert route.task("UT_register_order").due_date == date(2026, 3, 16)
    assert route.deadlines() == {"order_assess_notice": ("2026-03-16", "open")}

    route.complete("UT_register_order", {"has_setting": "yes"}, utc(2026, 3, 9))
    assert route.deadlines() == {"order_assess_notice": ("2026-03-16", "open"),
                                 "decision_not_to_issue": ("2026-05-11", "open")}
    assert timer_due(route, "ehc_needs_assessment", "ICE_16w_passed") == utc(2026, 5, 11, 23, 0)
    route.complete("UT_plan_advice", {"other_advisers": []}, utc(2026, 3, 9, 11))
    gather_advice(route, utc(2026, 3, 9, 12), utc(2026, 4, 17))
    assert route.task("UT_decide_issue").due_date == date(2026, 5, 11)
    route.complete("UT_decide_issue", {"issue_decision": "issue"}, utc(2026, 5, 5))

    drafting = route.data("ehc_plan_drafting")
    assert (str(drafting["final_plan_due"]), str(drafting["final_plan_by"])) == ("2026-06-08", "2026-06-08")
    deadlines = route.deadlines()
    assert deadlines["decision_not_to_issue"] == ("2026-05-11", "cancelled")
    assert deadlines["final_plan_20w"] == ("2026-06-08", "open")
    assert "decide_whether_to_assess" not in deadlines
    assert timer_due(route, "ehc_plan_drafting", "ICE_week_20") == utc(2026, 6, 8, 23, 0)
    route.at(utc(2026, 6, 8, 22, 59))
    assert route.deadlines()["final_plan_20w"] == ("2026-06-08", "open")
    route.at(utc(2026, 6, 8, 23, 1))
    assert route.deadlines()["final_plan_20w"] == ("2026-06-08", "missed")
    assert "UT_final_plan_overdue" in route.open()


def test_an_order_to_reassess_runs_the_reassessment_on_the_orders_clocks(route: CaseDriver, services: Services,
                                                                         world: World) -> None:
    """The order (Monday 2 March) reaches the authority on Wednesday 4 March: the re-assessment starts with its
    notice that day, no decision whether to re-assess. Counted from the order: a decision to leave the plan as it is
    in 10 weeks (the outcome task due 11 May), the amended plan in 14 (8 June; its escalation at 23:00 UTC, BST).
    Advice in by Friday 17 April; the draft on Monday 20 April; no further comments on Wednesday 22 April; the plan
    issued on Monday 27 April."""
    plan_in_force(services, world, world.case_id)
    route.at(utc(2026, 3, 4))
    start_order(route, "reassess")
    with route.services.session_factory() as s:
        (notice,) = [d for d in documents_for_case(s, route.case_id) if d.kind == "ra_decision_reassess"]
    assert "8 June 2026</strong> (within 14 weeks of the order)" in " ".join(notice.body_html.split())
    assert route.deadlines() == {"order_assess_notice": ("2026-03-16", "open"),
                                 "reassessment_final_plan": ("2026-06-08", "open")}
    assert timer_due(route, "tribunal_order", "TE_assess_notice_due") == utc(2026, 3, 17, 0, 0)
    gather_advice(route, utc(2026, 3, 4, 11), utc(2026, 4, 17))
    route.complete("UT_family_views", {"family_views": "Speech is still hard to follow."}, utc(2026, 4, 17, 11))
    assert route.task("UT_outcome").due_date == date(2026, 5, 11)
    route.complete("UT_outcome", {"reassessment_outcome": "amend", "outcome_reasons": "The advice agrees.",
                                  "draft_summary": "Therapy twice a week.",
                                  "draft_changes": PROPOSE["proposed_changes"]}, utc(2026, 4, 20))
    route.complete("UT_draft_response", NO_FURTHER_COMMENTS, utc(2026, 4, 22))
    assert route.task("UT_issue_plan").due_date == date(2026, 6, 8)
    assert timer_due(route, "reassessment", "TE_final_plan_due") == utc(2026, 6, 8, 23, 0)
    route.complete("UT_issue_plan", {"final_summary": "Therapy twice a week.",
                                     "representations_considered": "The family agreed."}, utc(2026, 4, 27))
    assert route.deadlines()["reassessment_final_plan"] == ("2026-06-08", "met")
    assert route.instance("reassessment").status == "completed"


@pytest.mark.parametrize(("kind", "due", "fires"), [
    # 5 weeks: Monday 6 April (BST: over at 23:00 UTC that day).
    ("amend", date(2026, 4, 6), utc(2026, 4, 6, 23, 0)),
    # Only the school in section I: 2 weeks, Monday 16 March (GMT: over at 00:00 UTC on 17 March).
    ("name_setting", date(2026, 3, 16), utc(2026, 3, 17, 0, 0)),
])
def test_an_order_to_amend_runs_the_amendment_on_the_orders_clock(route: CaseDriver, services: Services,
                                                                  world: World, kind: str, due: date,
                                                                  fires: datetime) -> None:
    """The order (Monday 2 March) reaches the authority on Wednesday 4 March; the notice of the amendments goes out
    on Thursday 5 March (the family's 15 days to 19 March) and the family has no further comments on Friday 6 March.
    The amended plan is due from the order's date, not 8 weeks from the notice (30 April): the escalation fires at
    the end of the due day, and the plan issued the next day is recorded as done late."""
    plan_in_force(services, world, world.case_id)
    route.at(utc(2026, 3, 4))
    start_order(route, kind)
    assert route.data("plan_amendment")["amended_plan_weeks"] == (2 if kind == "name_setting" else 5)
    assert route.task("UT_propose").due_date == due
    route.complete("UT_propose", PROPOSE, utc(2026, 3, 5))
    amendment = route.data("plan_amendment")
    assert (amendment["notice_sent_on"], amendment["representations_end"], str(amendment["amended_plan_due"])) == (
        "2026-03-05", "2026-03-19", due.isoformat())
    assert {k: v for k, v in route.deadlines().items() if k in ("amended_plan", "order_amended_plan")} == {
        "amended_plan": (due.isoformat(), "open"), "order_amended_plan": (due.isoformat(), "open")}
    route.complete("UT_family_response", NO_FURTHER_COMMENTS, utc(2026, 3, 6))
    assert route.task("UT_finalise").due_date == due
    assert timer_due(route, "plan_amendment", "TE_amended_plan_due") == fires
    route.at(fires - timedelta(minutes=1))
    assert route.deadlines()["amended_plan"] == (due.isoformat(), "open")
    route.at(fires + timedelta(minutes=1))
    assert route.deadlines()["amended_plan"] == (due.isoformat(), "missed")
    assert {"UT_finalise", "UT_finalise_late"} <= set(route.open())
    route.complete("UT_finalise", {"amendment_decision": "amend", "final_summary": "As ordered.",
                                   "representations_considered": "None."}, fires + timedelta(hours=10))
    row = route.deadline("amended_plan")
    assert (row.status, row.met_at is not None) == ("missed", True)


# ---- every appealable notice -> disagreement_resolution ------------------------------------------------------------------

SENDERS = {  # process id -> the decisions its notices carry, one entry per sending element
    "ehc_needs_assessment": ["refuse_assess", "refuse_assess", "refuse_issue"],
    "ehc_plan_drafting": ["final_plan"],
    "plan_amendment": ["amended_plan", "refuse_amend"],
    "reassessment": ["refuse_reassess", "refuse_amend", "amended_plan"],
    "annual_review": ["refuse_amend"],
    "cease_plan": ["cease"],
}


def test_every_appealable_notice_names_its_route_and_a_decision_the_disagreement_route_knows() -> None:
    """Read from the files: each sendsMessage appealable_decision_notified says which route sent it and a decision
    that the disagreement route maps to an order when the authority concedes (ST_unopposed)."""
    found: dict[str, list[str]] = {}
    pattern = re.compile(r'name="sendsMessage" value="appealable_decision_notified" />\s*'
                         r'<spiffworkflow:property name="messagePayload" value="([^"]*)"')
    for path in sorted((ROOT / "workflows").glob("*.bpmn")):
        for payload in pattern.findall(path.read_text()):
            text = payload.replace("&#34;", '"')
            decision = re.search(r'"decision": "(\w+)"', text)
            source = re.search(r'"source": "(\w+)"', text)
            assert decision and source and '"notice_sent_on": today()' in text, (path.name, text)
            assert source.group(1) == path.stem, path.name
            found.setdefault(path.stem, []).append(decision.group(1))
    assert {k: sorted(v) for k, v in found.items()} == {k: sorted(v) for k, v in SENDERS.items()}
    known = re.search(r'order_kind = \{([^}]*)\}', (ROOT / "workflows" / "disagreement_resolution.bpmn").read_text())
    assert known is not None
    mapped = set(re.findall(r'&#34;(\w+)&#34;: &#34;\w+&#34;', known.group(1))) | set(
        re.findall(r'"(\w+)": "\w+"', known.group(1)))
    assert {d for decisions in SENDERS.values() for d in decisions} <= mapped


def test_a_declined_request_starts_disagreement_resolution_from_the_real_assessment(route: CaseDriver) -> None:
    """The needs assessment declines a request (assessed in the last six months) on Monday 2 March: its notice
    starts the disagreement route in the same step, the adviser contact due 2 May."""
    assessment = route.engine.start(route.case_id, "ehc_needs_assessment", {"received_at": "2026-03-02T10:00:00+00:00"},
                                    route.users["caseworker"])
    route.check()
    route.complete("UT_register", {"has_setting": "yes", "assessed_in_last_six_months": "yes",
                                  "previous_assessment_on": "2025-12-01", "decline_recent_request": "yes",
                                  "decline_reasons": "Assessed in December; nothing has changed since."})
    disagreement = route.instance("disagreement_resolution")
    assert (disagreement.parent_instance_id, disagreement.status) == (assessment, "waiting_person")
    notice = route.data("disagreement_resolution")["notice"]
    assert notice == {"decision": "refuse_assess", "notice_sent_on": "2026-03-02", "sections": [],
                      "source": "ehc_needs_assessment"}
    assert route.open() == ["UT_adviser_contact"]
    assert route.task("UT_adviser_contact").due_date == date(2026, 5, 2)


# ---- disagreement_resolution -> the ceasing route (certificate, appeal lodged, appeal decided) -> tribunal_order -------

def test_the_real_ceasing_route_hears_the_certificate_the_appeal_and_the_decision(route: CaseDriver) -> None:
    """Ceasing decided on Monday 23 March (appeal period to 23 May); certificate on Wednesday 25 March (1 month is
    25 April: 23 May stands); appeal sent on Monday 20 April (response due 3 June); dismissed on Friday 2 October:
    the plan ceases that day and the order's 'cease at once' task is due that day."""
    cease = decide_to_cease(route, utc(2026, 3, 23))
    disagreement = route.instance("disagreement_resolution")
    assert disagreement.parent_instance_id == cease
    assert route.data("disagreement_resolution")["notice"]["source"] == "cease_plan"
    assert route.data("cease_plan")["appeal_period_ends"] == "2026-05-23"

    route.complete("UT_adviser_contact", {"contacted_on": "2026-03-24", "wants_mediation": "no"}, utc(2026, 3, 24))
    route.complete("UT_certificate_no_mediation", {}, utc(2026, 3, 25))
    assert route.data("cease_plan")["appeal_period_ends"] == "2026-05-23"  # told, and the later date kept
    assert route.task("UT_record_appeal").due_date == date(2026, 5, 23)

    route.complete("UT_record_appeal", {"registered_on": "2026-04-17", "sent_to_la_on": "2026-04-20",
                                        "section_i_only": "no"}, utc(2026, 4, 20))
    assert route.task("UT_la_response").due_date == date(2026, 6, 3)
    # The appeal keeps the plan in force past the end of the appeal period.
    route.at(utc(2026, 5, 24))
    assert route.instance("cease_plan").status == "running"  # waiting for a message: no timer, no task
    assert "ceased_on" not in route.data("cease_plan")
    route.complete("UT_la_response", {"la_position": "oppose", "response_summary": "Outcomes met"}, utc(2026, 5, 28))
    route.complete("UT_record_hearing", {"hearing_on": "2026-09-21", "on_the_papers": "no"}, utc(2026, 9, 21))
    route.complete("UT_record_decision", {"decision_received_on": "2026-10-02", "appeal_outcome": "dismissed",
                                          "order_kind": "none", "order_date": "2026-10-01",
                                          "health_recommendations": "no", "social_care_recommendations": "no"},
                   utc(2026, 10, 2))
    ceasing = route.instance("cease_plan")
    assert ceasing.status == "completed"
    assert route.data("cease_plan")["appeal_decision"] == {"outcome": "dismissed", "decided_on": "2026-10-02",
                                                           "order_kind": "cease"}
    assert str(route.data("cease_plan")["ceased_on"]) == "2026-10-02"
    assert route.open() == ["UT_confirm_cease"]
    assert route.task("UT_confirm_cease").due_date == date(2026, 10, 2)


def test_an_appeal_about_another_decision_leaves_the_ceasing_route_alone(route: CaseDriver) -> None:
    """Two disagreements on one case: an appeal about an amendment (notice Monday 2 March) is decided while the
    authority's decision to cease the plan (Monday 23 March) is in its appeal period. The appeal's outcome, its
    certificate and its lodging concern the amendment only (``sendsMessageWhen: decision == "cease"``): before,
    its dismissal on Tuesday 24 March reached the ceasing route and ceased the plan at once."""
    route.engine.send_message(route.case_id, "appealable_decision_notified",
                              {"decision": "amend", "notice_sent_on": "2026-03-02", "source": "plan_amendment"},
                              route.users["caseworker"])
    route.check()
    route.complete("UT_adviser_contact", {"contacted_on": "2026-03-03", "wants_mediation": "no"}, utc(2026, 3, 3))
    route.complete("UT_certificate_no_mediation", {}, utc(2026, 3, 4))
    route.complete("UT_record_appeal", {"registered_on": "2026-03-09", "sent_to_la_on": "2026-03-10",
                                        "section_i_only": "no"}, utc(2026, 3, 10))
    route.complete("UT_la_response", {"la_position": "oppose", "response_summary": "Amendment is right"},
                   utc(2026, 3, 16))
    route.complete("UT_record_hearing", {"hearing_on": "2026-03-20", "on_the_papers": "yes"}, utc(2026, 3, 20))

    decide_to_cease(route, utc(2026, 3, 23))
    assert len(route.instances("disagreement_resolution")) == 2

    route.complete("UT_record_decision", {"decision_received_on": "2026-03-24", "appeal_outcome": "dismissed",
                                          "order_kind": "none", "order_date": "2026-03-24",
                                          "health_recommendations": "no", "social_care_recommendations": "no"},
                   utc(2026, 3, 24))
    assert route.instance("cease_plan").status == "waiting_timer"  # the end of its own appeal period
    assert "appeal_decision" not in route.data("cease_plan") and "ceased_on" not in route.data("cease_plan")
    assert route.data("cease_plan")["appeal_period_ends"] == "2026-05-23"
    # The ceasing decision's own disagreement is still open for the family.
    assert "UT_adviser_contact" in route.open()


def test_every_message_to_a_ceasing_route_is_sent_only_about_ceasing() -> None:
    """Read from the file: each step of the disagreement route that tells a ceasing route something says so."""
    text = (ROOT / "workflows" / "disagreement_resolution.bpmn").read_text()
    sends = re.findall(r'name="sendsMessage" value="(mediation_certificate_issued|appeal_lodged|appeal_decided)" />'
                       r'\s*<spiffworkflow:property name="sendsMessageWhen" value="decision == &#34;cease&#34;" />',
                       text)
    assert len(sends) == text.count('name="sendsMessage" value="appeal_decided"') + 2 == 5


def test_keeping_the_plan_agreed_at_mediation_ends_the_real_ceasing_route_with_the_plan_kept(
        route: CaseDriver) -> None:
    """Ceasing decided on Monday 23 March; mediation on Wednesday 25 March agrees to keep the plan: the agreement's
    order (tribunal_order, called by the disagreement route) tells the real ceasing route, which ends without
    ceasing; the authority confirms the plan continues at once (25 March)."""
    decide_to_cease(route, utc(2026, 3, 23))
    route.complete("UT_adviser_contact", {"contacted_on": "2026-03-23", "wants_mediation": "yes",
                                          "mediation_issues": "Ceasing the plan", "health_issues": "no",
                                          "social_care_issues": "no"}, utc(2026, 3, 23, 14))
    route.complete("UT_arrange_mediation", {"mediator_name": "Sam Reed", "mediation_on": "2026-03-25",
                                            "attending_for_la": "Morgan Price", "invite_health": "no",
                                            "invite_social_care": "no"})
    route.complete("UT_mediation_outcome", {"held_on": "2026-03-25", "agreement_reached": "yes",
                                            "agreement_summary": "The plan continues",
                                            "agreement_order_kind": "keep"}, utc(2026, 3, 25, 16))
    ceasing = route.instance("cease_plan")
    assert ceasing.status == "completed"
    assert route.data("cease_plan")["appeal_decision"] == {"outcome": "allowed", "agreed_at_mediation": True,
                                                           "decided_on": "2026-03-25"}
    assert "ceased_on" not in route.data("cease_plan")
    assert route.task("UT_confirm_keep").due_date == date(2026, 3, 25)
