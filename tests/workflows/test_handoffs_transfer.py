"""Hand-offs from the transfer route (workflows/plan_transfer.bpmn) to the plan routes, with the real routes
(issue 14): the project's ``workflows/`` folder deployed as ``ehcflow setup`` deploys it, driven through the engine's
commands with a moved clock; each test asserts the started instance (process and parent), its data, its first tasks
and their deadlines.

Each hand-off (from plan_transfer's element, to route, how) and the test that covers it:

- ST_new_la_dates (opensDeadline annual_review) -> annual_review for the new authority (the review scheduler):
  test_the_new_authority_s_review_date_starts_its_first_review.
- ST_start_assessment (the new authority proposes to assess) -> ehc_needs_assessment (startsRoute):
  test_the_new_authority_proposes_to_assess_and_its_needs_assessment_starts.
- ST_start_new_la_assessment (moved during an assessment, after child_moved_la ends the old one) ->
  ehc_needs_assessment (startsRoute):
  test_transfer.py::test_move_during_an_assessment_ends_it_and_the_new_authority_assesses_on_its_own_clock.
- ST_start_health_review (the new health body asks for a review) -> annual_review (startsRoute):
  test_the_new_health_body_s_request_for_a_review_starts_an_early_review.
- ST_start_health_reassessment (it asks for a re-assessment) -> reassessment (startsRoute):
  test_the_new_health_body_s_request_for_a_re_assessment_starts_one.

The calendar (worked out by hand; England and Wales bank holidays; BST from Sunday 29 March 2026 and from Sunday
28 March 2027; Easter 2026: 3 and 6 April; Easter 2027: Good Friday 26 March, Easter Monday 29 March):

- Mia (born 10 January 2019: Year 2 in 2025/26, Year 7 from September 2030) has a plan issued by the real plan
  drafting route on Tuesday 15 September 2026. Her review is due 12 months later, 15 September 2027.
- The family tells Testshire on Monday 1 March 2027 that they move to Otherham on Monday 22 March. 15 working days
  beginning with 1 March: 1-5 (5), 8-12 (10), 15-19 March (15): Friday 19 March, before the move, so the plan
  transfers on the day of the move, at its start: 22 March 00:00 GMT.
- The new authority tells the family within 6 weeks: by Monday 3 May 2027. It reviews by the later of 12 months
  from the plan (15 September 2027) and 3 months from the transfer (22 June 2027): 15 September 2027.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from engine.casework import review_scheduler
from engine.people.roles import Role
from engine.people.users import create_organisation, create_user
from engine.runtime.services import Services
from engine.store.models import Case
from tests.conftest import PASSWORD, World, real_routes
from tests.workflows.drivers import CaseDriver
from tests.workflows.test_reviews import COVERAGE as REVIEW_COVERAGE
from tests.workflows.test_reviews import new_case

MOVE = {"move_date": "2027-03-22", "aware_date": "2027-03-01", "health_body_changes": "no",
        "notes_for_new_la": "Speech therapy on Tuesdays"}
NO_ASSESSMENT = {"will_assess": "no", "planned_review_date": "2027-09-01", "setting_practicable": "yes"}


def utc(year: int, month: int, day: int, hour: int = 10, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


@pytest.fixture
def route(services: Services, world: World) -> CaseDriver:
    services.engine.deploy(real_routes())  # as `ehcflow setup` does
    driver = CaseDriver(services, world.users, new_case(services, world, "Mia", "2019-01-10"))
    driver.coverage.append(REVIEW_COVERAGE)
    return driver


def transferred(route: CaseDriver, world: World) -> int:
    """Mia's plan (issued 15 September 2026) transfers to Otherham on Monday 22 March 2027; returns the transfer's
    instance id."""
    route.issue_final_plan(utc(2026, 9, 15, 11), world.school.id)
    transfer_id = route.start("plan_transfer", None, utc(2027, 3, 1, 10))
    route.complete("UT_record_move", {**MOVE, "new_la_id": world.other_la.id}, utc(2027, 3, 1, 10, 5))
    assert route.task("UT_prepare_transfer").due_date == date(2027, 3, 22)
    route.complete("UT_prepare_transfer", {"plan_and_advice_checked": True}, utc(2027, 3, 2))
    assert route.at(utc(2027, 3, 21, 23, 59, 59)) == 0
    route.at(utc(2027, 3, 22, 0, 0, 1))
    with route.services.session_factory() as s:
        case = s.get(Case, route.case_id)
        assert case is not None and case.la_id == world.other_la.id
    notice = route.task("UT_new_la_notice")
    assert (notice.organisation_id, notice.due_date) == (world.other_la.id, date(2027, 5, 3))
    row = route.deadline("annual_review")
    assert (row.due_date, row.started_on, row.status, row.instance_id) == (
        date(2027, 9, 15), date(2026, 9, 15), "open", transfer_id)
    return transfer_id


def test_the_new_authority_s_review_date_starts_its_first_review(route: CaseDriver, world: World) -> None:
    """The scheduler starts the review the transfer dated (an annual review: Mia is 8 and Year 7 is three years
    away) 10 weeks before it: 15 September 2027 - 70 days = Wednesday 7 July 2027 (15 Sep - 15 = 31 Aug, - 31 =
    31 Jul, - 24 = 7 Jul). Invitations by 15 September - 6 weeks = Wednesday 4 August. It is Otherham's review."""
    transfer_id = transferred(route, world)
    route.complete("UT_new_la_notice", NO_ASSESSMENT, utc(2027, 3, 29), who="other_caseworker")
    assert route.instance("plan_transfer").status == "completed"
    assert route.deadline("transfer_notice").status == "met"
    with route.services.session_factory() as s:
        assert [r.case_id for r in review_scheduler.due_reviews(s, world.la.id)] == []
        (due,) = review_scheduler.due_reviews(s, world.other_la.id)
    assert (due.case_id, due.schedule.kind, due.schedule.due, due.schedule.start_on) == (
        route.case_id, "annual", date(2027, 9, 15), date(2027, 7, 7))
    route.at(utc(2027, 7, 6, 7))
    assert review_scheduler.start_due_reviews(route.engine) == []
    route.at(utc(2027, 7, 7, 7))
    [review_id] = review_scheduler.start_due_reviews(route.engine)
    route.check()
    review = route.instance("annual_review")
    assert (review.id, review.parent_instance_id) == (review_id, None)
    data = route.task_data("UT_arrange_setting")
    assert {k: data[k] for k in ("scheduled", "review_kind", "last_review_on", "statutory_review_due", "review_due",
                                 "latest_invitations_on", "la_id")} == {
        "scheduled": True, "review_kind": "annual", "last_review_on": "2026-09-15",
        "statutory_review_due": "2027-09-15", "review_due": "2027-09-15", "latest_invitations_on": "2027-08-04",
        "la_id": world.other_la.id}
    arrange = route.task("UT_arrange_setting")
    assert (arrange.organisation_id, arrange.due_date) == (world.school.id, date(2027, 8, 4))
    row = route.deadline("annual_review")
    assert (row.due_date, row.status, row.instance_id) == (date(2027, 9, 15), "open", review_id)
    assert transfer_id != review_id


def test_the_new_authority_proposes_to_assess_and_its_needs_assessment_starts(route: CaseDriver,
                                                                              world: World) -> None:
    """Otherham tells the family on Tuesday 6 April 2027 (10:00 UTC = 11:00 BST, a working day after Easter) that
    it proposes to assess: its needs assessment starts then, on its own clock. 6 weeks from 6 April: Tuesday 18
    May 2027; 16 weeks (112 days): Tuesday 27 July; 20 weeks (140 days): Tuesday 24 August."""
    transfer_id = transferred(route, world)
    route.complete("UT_new_la_notice", {"will_assess": "yes", "assessment_reasons": "Needs have changed",
                                        "planned_review_date": "2027-09-01", "setting_practicable": "yes"},
                   utc(2027, 4, 6), who="other_caseworker")
    assessment = route.instance("ehc_needs_assessment")
    assert (assessment.parent_instance_id, assessment.status) == (transfer_id, "waiting_person")
    data = route.task_data("UT_register")
    assert {k: data[k] for k in ("requester_type", "requester_name", "received_at", "transferred_on",
                                 "assessment_reasons", "moved_from_la", "la_id")} == {
        "requester_type": "other", "requester_name": "Otherham Council", "received_at": "2027-04-06T10:00:00+00:00",
        "transferred_on": "2027-03-22", "assessment_reasons": "Needs have changed", "moved_from_la": None,
        "la_id": world.other_la.id}
    assert (data["start_date"], data["decide_by"], data["no_plan_notice_by"], data["final_plan_by"]) == (
        "2027-04-06", "2027-05-18", "2027-07-27", "2027-08-24")
    register = route.task("UT_register")
    assert register.organisation_id == world.other_la.id
    route.complete("UT_register", {"has_setting": "yes", "assessed_in_last_six_months": "no"}, utc(2027, 4, 6, 11),
                   who="other_caseworker")
    assert route.deadlines()["decide_whether_to_assess"] == ("2027-05-18", "open")


# ---- the health body ---------------------------------------------------------------------------------------------------

def new_health_body_asks(route: CaseDriver, world: World, request: str, action_by: str) -> int:
    """Mia's plan (issued 15 September 2026) moves with the family to Otherham on Monday 22 March 2027, and her
    health body changes to Otherham ICB. Testshire's health body tells it on Tuesday 2 March; Otherham ICB answers
    the same day that it cannot secure the health provision and asks for a review or a re-assessment (reg 16(3)),
    which Testshire (still responsible until the move) records on Wednesday 3 March."""
    with route.services.session_factory() as s:
        icb = create_organisation(s, "Otherham ICB", "health_body", route.engine.clock, code="OICB")
        s.flush()
        dco = create_user(s, "dco@otherham.example", "Otherham DCO", PASSWORD, route.engine.clock,
                          [(icb, Role.HEALTH)])
        s.commit()
        route.users = {**route.users, "new_health": dco}
        icb_id = icb.id
    route.issue_final_plan(utc(2026, 9, 15, 11), world.school.id)
    transfer_id = route.start("plan_transfer", None, utc(2027, 3, 1, 10))
    route.complete("UT_record_move", {**MOVE, "new_la_id": world.other_la.id, "health_body_changes": "yes",
                                      "new_health_body_id": icb_id}, utc(2027, 3, 1, 10, 5))
    route.complete("UT_notify_new_health_body", {"notified_new_body_on": "2027-03-02", "what_was_sent": "The plan"},
                   utc(2027, 3, 2))
    route.complete("UT_new_health_check", {"health_can_secure": "no", "health_request": request,
                                           "health_reasons": "No local audiology service"}, utc(2027, 3, 2, 14),
                   who="new_health")
    route.complete("UT_health_request", {"health_action_by": action_by}, utc(2027, 3, 3))
    return transfer_id


def test_the_new_health_body_s_request_for_a_review_starts_an_early_review(route: CaseDriver,
                                                                           world: World) -> None:
    """Asked for by Wednesday 30 June 2027. The caseworker sets the review up as an early review of the plan
    issued 15 September 2026: due by the earlier of 12 months (15 September 2027) and the date asked for, 30 June;
    invitations by 30 June - 6 weeks = Wednesday 19 May 2027."""
    transfer_id = new_health_body_asks(route, world, "review", "2027-06-30")
    review = route.instance("annual_review")
    assert review.parent_instance_id == transfer_id
    data = route.task_data("UT_setup")
    assert (data["scheduled"], data["review_requested_by"], data["early_reason"]) == (
        False, "2027-06-30", "The new health body cannot secure the health provision in section G and asked for a "
                             "review (regulation 16(3)).")
    setup = route.task("UT_setup")
    assert (setup.process_id, setup.organisation_id) == ("annual_review", world.la.id)  # before the move
    route.complete("UT_setup", {"review_kind": "early", "last_review_on": "2026-09-15", "arranged_by": "setting",
                                "early_reason": "Otherham ICB cannot provide audiology"}, utc(2027, 3, 3, 11))
    data = route.task_data("UT_arrange_setting")
    assert (data["review_due"], data["statutory_review_due"], data["latest_invitations_on"]) == (
        "2027-06-30", "2027-09-15", "2027-05-19")
    assert route.task("UT_arrange_setting").due_date == date(2027, 5, 19)
    assert route.deadline("annual_review").due_date == date(2027, 9, 15)


def test_the_new_health_body_s_request_for_a_re_assessment_starts_one(route: CaseDriver, world: World) -> None:
    """The request reaches Testshire on Wednesday 3 March 2027, the day the re-assessment starts: the decision is
    due within 15 days of it, by Thursday 18 March 2027. Who asked is the health body; the caseworker only adds
    the last assessment's date (1 June 2025: more than six months ago) and the reasons."""
    transfer_id = new_health_body_asks(route, world, "reassess", "2027-04-30")
    reassessment = route.instance("reassessment")
    assert reassessment.parent_instance_id == transfer_id
    register = route.task("UT_register_passed_on")
    assert (register.process_id, register.organisation_id, register.due_date) == (
        "reassessment", world.la.id, date(2027, 3, 18))
    data = route.task_data("UT_register_passed_on")
    assert (data["request_source"], data["requested_by"], data["request_received_on"]) == (
        "health_body", "health_body", "2027-03-03")
    route.complete("UT_register_passed_on", {"last_assessment_on": "2025-06-01", "has_setting": True,
                                             "request_reasons": "No local audiology service"}, utc(2027, 3, 3, 11))
    decide = route.task("UT_decide")
    assert decide.due_date == date(2027, 3, 18)
    assert route.deadlines()["reassessment_decision"] == ("2027-03-18", "open")
    assert route.task_data("UT_decide")["decision_due"] == "2027-03-18"
