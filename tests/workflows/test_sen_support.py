"""Scenario tests for workflows/sen_support.bpmn (issue 19): SEN support in a setting, the graduated approach, run by
the setting's SENCO through several cycles with a moved clock, and the request for an EHC needs assessment built
from the record, with the real routes deployed (``real_routes()``), as ``ehcflow setup`` deploys them.

Every step goes through the engine's commands (tests/workflows/drivers.py ``CaseDriver``: each saved state is
restored and serialized again after every step), and feeds the flow coverage checked by the last test.

The route's settings (its start script): a review at most 13 weeks (91 days, a calendar setting for "a term") after
the plan; the reminder 10 days before the review date; a specialist's advice due 6 weeks after the request unless the
SENCO gives a later date. The calendar, worked out by hand:

- British Summer Time: 2026 to Sunday 25 October; 2027 from Sunday 28 March to Sunday 31 October. A day's timer fires
  when that day is over in England: 00:00 UTC the next day in winter, 23:00 UTC on the day itself in summer (the
  timer worker fires a timer once its moment has passed, so the tests look a minute either side).
- A timer "on" the reminder day fires when the day before it is over (``deadline_at(reminder_on - 1 day)``), i.e. at
  the start of the reminder day.
- A request for an EHC needs assessment received after 17:00 in England, or on a non-working day, counts from the
  next working day; the decision whether to assess is due 6 weeks (42 days) after that.

Alex Taylor (the World's case, born 14 May 2015) has no EHC plan; Test Primary School is the setting on the case.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup

from engine.casework.documents import documents_for_case
from engine.errors import NotAllowed
from engine.intake.route_starts import start_by_hand, startable_routes
from engine.people.access import can_act_on_task, can_see_case, may_see_document
from engine.people.roles import Role
from engine.people.users import create_organisation, create_user
from engine.runtime.services import Services
from engine.store.models import Case, CaseParty
from tests.conftest import PASSWORD, World, real_routes
from tests.workflows import flow_coverage
from tests.workflows.drivers import CaseDriver

ROOT = Path(__file__).resolve().parents[2]
PROCESS = "sen_support"
COVERAGE = flow_coverage.register(PROCESS, [ROOT / "workflows" / "sen_support.bpmn"])

IDENTIFY = {"concern_summary": "Alex is not yet reading simple words and avoids writing.",
            "identified_on": "", "identified_by": "Class teacher", "parents_told_on": "",
            "parents_told_how": "meeting", "family_views": "We have seen the same at home.",
            "child_views": "Reading is hard; I like drawing.", "senco_name": "Sam Senco"}
ASSESS = {"areas_of_need": ["cognition_and_learning", "communication_and_interaction"], "primary_need": "SPLD",
          "assessment_summary": "Phonics well below age-related expectations.",
          "assessment_sources": "Phonics screening, teacher assessment"}
OUTCOMES = [{"description": "Reads CVC words with 80% accuracy", "measure": "Weekly phonics check"}]
PROVISION = [{"description": "Phonics catch-up group", "delivered_by": "Teaching assistant",
              "frequency": "20 minutes, 4 times a week", "hours_per_week": 1.5, "cost_per_year": 1200}]


def utc(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def plan(review_date: str) -> dict[str, Any]:
    return {"outcomes": OUTCOMES, "provision": PROVISION, "review_date": review_date, "planned_with_family": True,
            "plan_family_views": "Happy with the group."}


def review(held_on: str, next_step: str, progress: str = "some") -> dict[str, Any]:
    return {"review_held_on": held_on, "attended_family": True, "attended_child": True,
            "outcome_progress": [{"outcome": "Reads CVC words", "progress": progress, "evidence": "Phonics check"}],
            "family_views_at_review": "Reading at home a little more.", "child_views_at_review": "The group is fun.",
            "next_step": next_step, "next_step_reasons": f"Decided at the review: {next_step}."}


def advice(by: str) -> dict[str, Any]:
    return {"advice_given_by": by, "advice_summary": "Working memory is a relative weakness.",
            "advice_recommendations": "Precision teaching, 10 minutes daily."}


@pytest.fixture
def route(services: Services, world: World) -> CaseDriver:
    services.engine.deploy(real_routes())  # as `ehcflow setup` does
    driver = CaseDriver(services, world.users, world.case_id)
    driver.coverage.append(COVERAGE)
    return driver


def start(route: CaseDriver, world: World, when: datetime) -> int:
    """The SENCO starts SEN support on the pupil's case, as the case page offers it (the start event's
    ``startableBy``: School)."""
    route.at(when)
    instance_id = start_by_hand(route.engine, world.case_id, PROCESS, None, world.users["school"])
    route.check()
    return instance_id


def identify(route: CaseDriver, on: datetime) -> None:
    day = on.date().isoformat()
    route.complete("UT_identify", {**IDENTIFY, "identified_on": day, "parents_told_on": day}, on)


def early_cycle(route: CaseDriver, plan_on: datetime, review_date: str, do_on: datetime, views_on: datetime,
                meeting: datetime, next_step: str, assess: bool = True) -> None:
    """One cycle in which the SENCO is ready to review before the reminder: assess (unless ``assess`` is False),
    plan, do (submitted early), arrange the meeting, the family's views, the review."""
    if assess:
        route.complete("UT_assess", ASSESS, plan_on)
    route.complete("UT_plan", plan(review_date), plan_on.replace(minute=30))
    route.complete("UT_do", {"provision_started_on": plan_on.date().isoformat()}, do_on)
    route.complete("UT_arrange_review", {"review_meeting_on": meeting.date().isoformat(),
                                         "family_invited_on": do_on.date().isoformat()}, do_on.replace(minute=30))
    route.complete("UT_family_views", {"family_views_before_review": "Going well.",
                                       "child_views_before_review": "I can read my name."}, views_on)
    route.complete("UT_review", review(meeting.date().isoformat(), next_step), meeting)


def test_three_cycles_with_reminders_a_late_review_and_a_request_for_assessment(route: CaseDriver,
                                                                                world: World) -> None:
    """Cycle 1. Started Monday 7 September 2026; the need identified and the parents told on Tuesday 8 September.
    Planned on Monday 14 September with a review on Monday 7 December (within the 13 weeks: 14 September + 91 days =
    Monday 14 December). Reminder 10 days before: Friday 27 November, so the timer fires at 00:00 UTC on 27 November
    (GMT). The family gives views on 3 December; the review on 7 December (on time) continues the plan.

    Cycle 2. The SENCO asks for 30 April 2027: more than a term, so the review is due on 7 December + 91 days =
    Monday 8 March 2027 (24 days to 31 December, 31 in January, 28 in February, 8 in March), reminder Friday
    26 February. The SENCO is ready early (15 February) and sets the meeting for Wednesday 10 March: the review date
    passes at 00:00 UTC on 9 March (missed, the overdue task opens); the family gave no views, which close when
    9 March is over (00:00 UTC on 10 March). The review on 10 March asks the educational psychologist, on Thursday
    11 March with no date given: due 11 March + 42 days = Thursday 22 April 2027.

    Cycle 3. Advice in on 20 April; assessed and planned on Wednesday 21 April 2027 with a review on Friday 9 July
    (21 April + 91 days = 21 July). Reminder Tuesday 29 June: in British Summer Time, so the timer fires at
    23:00 UTC on 28 June. The review on Thursday 8 July asks the LA for an EHC needs assessment, sent at 16:30 UTC =
    17:30 in England: received after 5pm, so the statutory clock starts on Friday 9 July, and the decision whether
    to assess is due 9 July + 42 days = Friday 20 August 2027."""
    sen_support_id = start(route, world, utc(2026, 9, 7))
    assert route.open() == ["UT_identify"]
    assert route.task("UT_identify").organisation_id == world.school.id
    identify(route, utc(2026, 9, 8))
    route.complete("UT_assess", ASSESS, utc(2026, 9, 14))
    route.complete("UT_plan", plan("2026-12-07"), utc(2026, 9, 14, 11))
    assert route.deadlines() == {"sen_support_review:1": ("2026-12-07", "open")}
    assert route.task("UT_do").due_date == date(2026, 11, 27)
    # The reminder: not before 27 November begins.
    route.at(utc(2026, 11, 26, 23, 59))
    assert route.open() == ["UT_do"]
    route.at(utc(2026, 11, 27, 0, 1))
    assert route.open() == ["UT_arrange_review"]
    assert route.task("UT_arrange_review").due_date == date(2026, 12, 7)
    route.complete("UT_arrange_review", {"review_meeting_on": "2026-12-07", "family_invited_on": "2026-11-27"},
                   utc(2026, 11, 27, 9))
    family_task = route.task("UT_family_views")
    assert (family_task.role, family_task.due_date) == (Role.FAMILY.value, date(2026, 12, 7))
    route.complete("UT_family_views", {"family_views_before_review": "Alex reads road signs now.",
                                       "child_views_before_review": "I like the group."}, utc(2026, 12, 3))
    assert route.task("UT_review").due_date == date(2026, 12, 7)
    route.complete("UT_review", review("2026-12-07", "continue"), utc(2026, 12, 7, 15))
    assert route.deadlines()["sen_support_review:1"] == ("2026-12-07", "met")
    assert route.open() == ["UT_next_review"]

    # Cycle 2: the same plan, a date too far away, a late review.
    route.complete("UT_next_review", {"review_date": "2027-04-30"}, utc(2026, 12, 7, 16))
    assert route.deadlines()["sen_support_review:2"] == ("2027-03-08", "open")
    assert route.task("UT_do").due_date == date(2027, 2, 26)
    route.complete("UT_do", {"provision_started_on": "2026-12-08", "delivery_notes": "Attending well."},
                   utc(2027, 2, 15))
    route.complete("UT_arrange_review", {"review_meeting_on": "2027-03-10", "family_invited_on": "2027-02-15"},
                   utc(2027, 2, 15, 11))
    route.at(utc(2027, 3, 8, 23, 59))
    assert route.open() == ["UT_family_views"]
    route.at(utc(2027, 3, 9, 0, 1))
    assert route.deadlines()["sen_support_review:2"] == ("2027-03-08", "missed")
    assert route.open() == ["UT_family_views", "UT_review_overdue"]
    route.at(utc(2027, 3, 10, 0, 1))
    assert route.open() == ["UT_review", "UT_review_overdue"]
    assert route.task("UT_review").due_date == date(2027, 3, 10)
    route.complete("UT_review_overdue", {}, utc(2027, 3, 10, 8))
    route.complete("UT_review", review("2027-03-10", "specialist", "little"), utc(2027, 3, 10, 14))
    row = route.rows("sen_support_review:2")[0]
    assert (row.status, row.met_at is not None) == ("missed", True)  # done, after its day
    route.complete("UT_specialist_request", {"specialist_kind": "educational_psychologist",
                                             "specialist_name": "Testshire EP service",
                                             "advice_question": "Why is progress in phonics so slow?"},
                   utc(2027, 3, 11))
    ep_task = route.task("UT_advice_ep")
    assert (ep_task.role, ep_task.organisation_id, ep_task.due_date) == (
        Role.EDUCATIONAL_PSYCHOLOGIST.value, world.la.id, date(2027, 4, 22))
    route.complete("UT_advice_ep", advice("Dr Eleanor Park, educational psychologist"), utc(2027, 4, 20))
    assert route.open() == ["UT_assess"]

    # Cycle 3: assessed again with the advice; the reminder in summer time; the request for an assessment.
    route.complete("UT_assess", ASSESS, utc(2027, 4, 21))
    route.complete("UT_plan", plan("2027-07-09"), utc(2027, 4, 21, 11))
    assert route.deadlines()["sen_support_review:3"] == ("2027-07-09", "open")
    assert route.task("UT_do").due_date == date(2027, 6, 29)
    route.at(utc(2027, 6, 28, 22, 59))
    assert route.open() == ["UT_do"]
    route.at(utc(2027, 6, 28, 23, 1))
    assert route.open() == ["UT_arrange_review"]
    route.complete("UT_arrange_review", {"review_meeting_on": "2027-07-08", "family_invited_on": "2027-06-29"},
                   utc(2027, 6, 29, 9))
    route.complete("UT_family_views", {"family_views_before_review": "Still struggling; <b>worried</b>."},
                   utc(2027, 7, 5))
    route.complete("UT_review", review("2027-07-08", "request_assessment", "little"), utc(2027, 7, 8, 14))
    assert route.deadlines()["sen_support_review:3"] == ("2027-07-09", "met")
    route.complete("UT_request_assessment", {"request_reasons": "Little progress after three cycles and EP advice.",
                                             "requested_by": "Sam Senco, SENCO, Test Primary School",
                                             "family_told_on": "2027-07-08"}, utc(2027, 7, 8, 16, 30))

    # The LA's needs assessment started on the case, from the record.
    assessment = route.instance("ehc_needs_assessment")
    assert assessment.parent_instance_id == sen_support_id
    data = route.data("ehc_needs_assessment")
    assert (data["requester_type"], data["requester_name"], data["received_at"], data["start_date"],
            data["decide_by"]) == ("setting", "Sam Senco, SENCO, Test Primary School", "2027-07-08T16:30:00+00:00",
                                   "2027-07-09", "2027-08-20")
    evidence = data["sen_support_evidence"]
    assert (evidence["identified_on"], evidence["senco"], evidence["family_told_on"]) == (
        "2026-09-08", "Sam Senco", "2027-07-08")
    assert [(c["number"], c["review_due"], c["review_held_on"], c["next_step"], c["review_reminded"])
            for c in evidence["cycles"]] == [
        (1, "2026-12-07", "2026-12-07", "continue", True),
        (2, "2027-03-08", "2027-03-10", "specialist", False),
        (3, "2027-07-09", "2027-07-08", "request_assessment", True)]
    # Cycle 2's family gave no views before its review; cycle 3's text is kept as written.
    assert [c["family_views_before_review"] for c in evidence["cycles"]] == [
        "Alex reads road signs now.", "", "Still struggling; <b>worried</b>."]
    assert evidence["cycles"][0]["outcomes"] == OUTCOMES and evidence["cycles"][0]["provision"] == PROVISION
    assert [(a["kind"], a["requested_on"], a["due"], a["received_on"]) for a in evidence["specialist_advice"]] == [
        ("educational_psychologist", "2027-03-11", "2027-04-22", "2027-04-20")]
    # The caseworker sees the evidence on the case: the setting's request with the record, issued as the assessment
    # started, every typed text escaped; the authority, the family (a copy) and the setting read it, health not.
    with route.services.session_factory() as s:
        letters = [d for d in documents_for_case(s, world.case_id) if d.kind == "sen_support_evidence"]
        assert [(d.instance_id, d.title) for d in letters] == [
            (sen_support_id, "Request for an EHC needs assessment for Alex Taylor: SEN support evidence")]
        letter, case = letters[0], s.get(Case, world.case_id)
        assert case is not None
        text = " ".join(BeautifulSoup(letter.body_html, "html.parser").get_text(" ").split())
        for expected in ("Test Primary School", "To: the special educational needs team, Testshire Council",
                         "Copies to: Parent", "Little progress after three cycles and EP advice.",
                         "We told the family about this request on 8 July 2027.",
                         "Alex is not yet reading simple words and avoids writing.",
                         "Cycle 1: planned 14 September 2026, reviewed 7 December 2026",
                         "Cycle 2: planned 7 December 2026, reviewed 10 March 2027", "Review due 8 March 2027.",
                         "Cycle 3: planned 21 April 2027, reviewed 8 July 2027",
                         "Primary need: Specific learning difficulty.", "Reads CVC words with 80% accuracy",
                         "Phonics catch-up group: Teaching assistant, 20 minutes, 4 times a week; 1.5 staff hours a "
                         "week; £1200 a year", "Reads CVC words: Little or no progress (Phonics check)",
                         "Educational psychology: Testshire EP service",
                         "from Dr Eleanor Park, educational psychologist", "Precision teaching, 10 minutes daily."):
            assert expected in text, expected
        assert "Still struggling; &lt;b&gt;worried&lt;/b&gt;." in letter.body_html
        assert "<b>worried</b>" not in letter.body_html
        assert may_see_document(s, world.users["caseworker"], case, letter)
        assert may_see_document(s, world.users["school"], case, letter)
        assert may_see_document(s, world.users["parent"], case, letter, as_family=True)
        assert not may_see_document(s, world.users["health"], case, letter)
    # SEN support carries on while the authority decides: the SENCO sets the next review; the caseworker registers.
    assert route.open() == ["UT_next_review", "UT_register"]
    assert route.task("UT_register").role == Role.CASEWORKER.value
    assert route.data(PROCESS)["assessment_requested_on"] == "2027-07-08"


def test_specialists_a_change_of_plan_and_stopping_sen_support(route: CaseDriver, world: World) -> None:
    """Started and identified on Monday 4 January 2027 (GMT). Every cycle here is reviewed early, before its
    reminder.

    Cycle 1: planned on Tuesday 5 January with a review date in the past (1 January): the review is due 13 weeks
    on, 5 January + 91 days = Tuesday 6 April 2027 (26 days to 31 January, 28 in February, 31 in March, 6 in April).
    Reviewed on 8 February: speech and language therapy, asked on 9 February for advice by Monday 1 March (given:
    a later date than the request, so kept).
    Cycle 2: planned 1 March, review 29 March; asks an advisory teacher on 23 March for advice by 20 March (before
    the request: replaced by 23 March + 42 days = Tuesday 4 May 2027), recorded by the SENCO on 20 April.
    Cycle 3: planned 20 April, review 17 May (reminder 7 May; ready on 5 May): change the support (assess and
    plan again).
    Cycle 4: planned 18 May, review 12 July (reminder 2 July; ready on 28 June): stop SEN support; the route ends."""
    start(route, world, utc(2027, 1, 4))
    identify(route, utc(2027, 1, 4, 11))
    early_cycle(route, utc(2027, 1, 5), "2027-01-01", utc(2027, 2, 1), utc(2027, 2, 3), utc(2027, 2, 8, 15),
                "specialist")
    assert route.deadlines()["sen_support_review:1"] == ("2027-04-06", "met")
    route.complete("UT_specialist_request", {"specialist_kind": "speech_and_language",
                                             "specialist_name": "Testshire NHS speech and language therapy",
                                             "advice_question": "Is there an underlying language need?",
                                             "advice_due_by": "2027-03-01"}, utc(2027, 2, 9))
    salt = route.task("UT_advice_health")
    assert (salt.role, salt.organisation_id, salt.due_date) == (Role.HEALTH.value, world.health.id, date(2027, 3, 1))
    route.complete("UT_advice_health", advice("A. Therapist, speech and language therapist"), utc(2027, 2, 26))

    early_cycle(route, utc(2027, 3, 1), "2027-03-29", utc(2027, 3, 15), utc(2027, 3, 17), utc(2027, 3, 22, 15),
                "specialist")
    route.complete("UT_specialist_request", {"specialist_kind": "advisory_teacher",
                                             "specialist_name": "Testshire learning support team",
                                             "advice_question": "Strategies for the classroom?",
                                             "advice_due_by": "2027-03-20"}, utc(2027, 3, 23))
    other = route.task("UT_advice_other")
    assert (other.role, other.organisation_id, other.due_date) == (Role.SCHOOL.value, world.school.id,
                                                                   date(2027, 5, 4))
    route.complete("UT_advice_other", advice("B. Adviser, advisory teacher"), utc(2027, 4, 20))

    early_cycle(route, utc(2027, 4, 20, 11), "2027-05-17", utc(2027, 5, 5), utc(2027, 5, 12), utc(2027, 5, 17, 14),
                "change")
    assert route.open() == ["UT_assess"]
    early_cycle(route, utc(2027, 5, 18), "2027-07-12", utc(2027, 6, 28), utc(2027, 7, 7), utc(2027, 7, 12, 14),
                "stop", assess=True)
    assert route.open() == []
    assert route.instance(PROCESS).status == "completed"
    assert route.deadlines() == {"sen_support_review:1": ("2027-04-06", "met"),
                                 "sen_support_review:2": ("2027-03-29", "met"),
                                 "sen_support_review:3": ("2027-05-17", "met"),
                                 "sen_support_review:4": ("2027-07-12", "met")}
    data = route.data(PROCESS)
    assert (data["ended_on"], data["ended_reason"]) == ("2027-07-12", "Decided at the review: stop.")
    assert [c["next_step"] for c in data["cycles"]] == ["specialist", "specialist", "change", "stop"]
    assert [(a["kind"], a["due"]) for a in data["specialist_advice"]] == [
        ("speech_and_language", "2027-03-01"), ("advisory_teacher", "2027-05-04")]
    assert route.instances("ehc_needs_assessment") == []


def test_a_setting_acts_only_for_its_own_pupils_and_a_family_only_for_its_child(route: CaseDriver, world: World,
                                                                                services: Services) -> None:
    """Another school's SENCO cannot start SEN support on Alex's case, see it, or do its tasks; another child's
    parent cannot give views for Alex. The case's own school and family can (the existing access rules)."""
    engine = route.engine
    with services.session_factory() as s:
        other_school = create_organisation(s, "Other Academy", "setting", engine.clock,
                                           setting_type="academy", maintaining_la_id=world.la.id)
        other_senco = create_user(s, "senco@other.example", "Other Senco", PASSWORD, engine.clock,
                                  [(other_school, Role.SCHOOL)])
        s.commit()
    with services.session_factory() as s:
        case = s.get(Case, world.case_id)
        assert case is not None
        offered = {o.process_id: o.allowed for o in startable_routes(engine, s, case, world.users["school"])}
        assert offered[PROCESS] is True
        assert {o.process_id: o.allowed for o in startable_routes(engine, s, case, other_senco)}[PROCESS] is False
        assert {o.process_id: o.allowed for o in startable_routes(engine, s, case, world.users["parent"],
                                                                  as_family=True)}[PROCESS] is False
        assert can_see_case(s, world.users["school"], case) and not can_see_case(s, other_senco, case)
        assert not can_see_case(s, world.users["other_parent"], case)
    with pytest.raises(NotAllowed):
        start_by_hand(engine, world.case_id, PROCESS, None, other_senco)
    start(route, world, utc(2026, 9, 7))
    task = route.task("UT_identify")
    with services.session_factory() as s:
        assert can_act_on_task(s, world.users["school"], task) and not can_act_on_task(s, other_senco, task)
        assert not can_act_on_task(s, world.users["parent"], task)
    with pytest.raises(NotAllowed):
        engine.complete_task(task.id, {**IDENTIFY, "identified_on": "2026-09-07", "parents_told_on": "2026-09-07"},
                             other_senco)
    identify(route, utc(2026, 9, 8))
    early_cycle_to_views(route)
    views = route.task("UT_family_views")
    with services.session_factory() as s:
        assert can_act_on_task(s, world.users["parent"], views)
        assert not can_act_on_task(s, world.users["other_parent"], views)
        assert not can_act_on_task(s, world.users["school"], views)
    with pytest.raises(NotAllowed):
        engine.complete_task(views.id, {"family_views_before_review": "Not my child."}, world.users["other_parent"])
    # A child who moves to the other school: the new setting acts on the case from then on, the old one no longer.
    with services.session_factory() as s:
        party = s.query(CaseParty).filter_by(case_id=world.case_id, role="setting").one()
        party.organisation_id = other_school.id
        s.commit()
    with services.session_factory() as s:
        case = s.get(Case, world.case_id)
        assert case is not None
        assert can_see_case(s, other_senco, case)


def early_cycle_to_views(route: CaseDriver) -> None:
    """Assess, plan, do and arrange on 14 September 2026 (review on Monday 7 December): the family's task opens."""
    route.complete("UT_assess", ASSESS, utc(2026, 9, 14))
    route.complete("UT_plan", plan("2026-12-07"), utc(2026, 9, 14, 11))
    route.complete("UT_do", {"provision_started_on": "2026-09-15"}, utc(2026, 11, 2))
    route.complete("UT_arrange_review", {"review_meeting_on": "2026-12-07", "family_invited_on": "2026-11-02"},
                   utc(2026, 11, 2, 11))


# The early years, college and move-of-setting scenarios (tests/workflows/sen_support_scenarios.py): collected here so
# that the flow coverage below counts them.
from tests.workflows.sen_support_scenarios import (  # noqa: E402
    test_a_college_asks_the_young_person_and_a_move_the_young_person_refuses,
    test_an_early_years_setting_records_the_progress_check_and_the_record_moves_with_consent,
)

__all__ = ["test_a_college_asks_the_young_person_and_a_move_the_young_person_refuses",
           "test_an_early_years_setting_records_the_progress_check_and_the_record_moves_with_consent"]


# ---- coverage: keep this test last ------------------------------------------------------------------------------------
def test_every_flow_node_and_sequence_flow_of_the_route_is_visited(request: pytest.FixtureRequest) -> None:
    flow_coverage.check_whole_module_covered(request, COVERAGE, globals())
