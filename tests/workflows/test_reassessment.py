"""Scenario tests for workflows/reassessment.bpmn (regs 23–27), with the dates worked out by hand.

- The request is received on Monday 2 March 2026 (the clock fixture). The decision is due within 15 days:
  2 March + 15 = Tuesday 17 March 2026 (calendar days, the unit to verify in reg 25), over at 18 March 00:00 UTC.
- "Assessed within the last six months": the LA may decline when the request comes before the day six months
  after the last assessment (month-end rule).
- The LA decides to re-assess on Tuesday 10 March: the amended plan is due within 14 weeks, by Tuesday 16 June
  2026 (10 March + 98 days); each advice request sent that day is due 6 weeks later, Tuesday 21 April.
"""

from __future__ import annotations

from datetime import date

import pytest

from engine.casework import plans
from engine.runtime.services import Services
from tests.conftest import World
from tests.workflows.test_reviews import Driver, at, deploy_review_routes, plan_in_force

ADVICE = {"advice_given_by": "A. Adviser", "advice_needs": "Speech sound difficulties persist.",
          "advice_provision": "More therapy.", "advice_outcomes": "Clear speech by July 2027."}


def register(route: Driver, last_assessment_on: str, received_on: str = "2026-03-02") -> None:
    route.complete("UT_register", {"requested_by": "parent", "request_received_on": received_on,
                                   "last_assessment_on": last_assessment_on, "has_setting": True,
                                   "request_reasons": "Needs have changed since the plan was made."})


@pytest.fixture
def request_route(services: Services, world: World) -> Driver:
    deploy_review_routes(services.engine)
    plan_in_force(services, world, world.case_id)
    route = Driver(services, world, world.case_id)
    route.start("reassessment")
    return route


def test_declined_because_assessed_within_six_months(request_route: Driver) -> None:
    """Last assessed Friday 10 October 2025: six months later is 10 April 2026, after the request (2 March)."""
    route = request_route
    register(route, "2025-10-10")
    decide = route.task("UT_decide_recent")
    assert (decide.role, decide.due_date) == ("la_manager", date(2026, 3, 17))
    assert route.deadline("reassessment_decision").due_date == date(2026, 3, 17)
    route.move_to(at("2026-03-09"))
    route.complete("UT_decide_recent", {"reassessment_decision": "decline",
                                        "decline_ground": "assessed_within_six_months",
                                        "decision_reasons": "Nothing has changed since October."})
    assert route.deadline("reassessment_decision").status == "met"
    notice = route.document("ra_decision_declined")
    assert notice.appealable and "appeal-rights" in notice.body_html
    assert "less than six months" in notice.body_html and "10 October 2025" in notice.body_html
    assert route.open_tasks() == [] and route.instance(route.started[0]).status == "completed"


def test_six_months_to_the_day_is_not_within_six_months(request_route: Driver) -> None:
    """Last assessed Tuesday 2 September 2025: six months later is Monday 2 March 2026, the day of the request,
    so the request is not within six months and the LA cannot decline on that ground."""
    route = request_route
    register(route, "2025-09-02")
    assert route.open_tasks() == ["UT_decide"]
    assert route.data("UT_decide")["assessed_recently"] is False
    route.complete("UT_decide", {"reassessment_decision": "decline", "decision_reasons": "Not necessary."})
    notice = route.document("ra_decision_declined")
    assert notice.appealable and "less than six months" not in notice.body_html


def test_decision_after_15_days_is_escalated(request_route: Driver) -> None:
    route = request_route
    register(route, "2025-06-15")
    route.move_to(at("2026-03-17", 23, 59))
    assert route.open_tasks() == ["UT_decide"]
    route.move_to(at("2026-03-18", 0, 1))
    assert route.open_tasks() == ["UT_decide", "UT_decision_late"]
    assert route.deadline("reassessment_decision").status == "missed"


def reassess(route: Driver) -> None:
    register(route, "2025-06-15")
    route.move_to(at("2026-03-10"))
    route.complete("UT_decide", {"reassessment_decision": "reassess", "decision_reasons": "Needs have changed."})


def gather_advice(route: Driver) -> None:
    # Every advice request goes through the needs assessment's own sub-process: the caseworker sends it, the
    # adviser answers.
    assert route.complete_each("UT_request_advice", {"advice_route": "new_request"}) == 4
    for task in ("UT_advice_school", "UT_advice_ep", "UT_advice_health", "UT_advice_social_care"):
        route.complete(task, ADVICE)
    route.complete("UT_family_views", {"family_views": "Speech is still hard to follow."})


def test_reassessment_amends_the_plan_within_14_weeks(request_route: Driver) -> None:
    """Advice in by 14 April; outcome on Tuesday 28 April (draft: 15 days beginning 28 April end on 12 May);
    the family has no further comments on 1 May; the plan is issued on Tuesday 5 May, before 16 June."""
    route = request_route
    reassess(route)
    decision = route.document("ra_decision_reassess")
    assert "16 June 2026" in decision.body_html
    final = route.deadline("reassessment_final_plan")
    assert (final.due_date, final.status) == (date(2026, 6, 16), "open")
    assert sorted(route.open_tasks()) == ["UT_family_views"] + ["UT_request_advice"] * 4
    route.complete_each("UT_request_advice", {"advice_route": "new_request"})
    for key in ("education", "psychological", "health", "social_care"):
        assert route.deadline(f"advice:{key}").due_date == date(2026, 4, 21)
    assert route.task("UT_advice_ep").role == "educational_psychologist"
    for task in ("UT_advice_school", "UT_advice_ep", "UT_advice_health", "UT_advice_social_care"):
        route.complete(task, ADVICE)
    route.move_to(at("2026-04-14"))
    route.complete("UT_family_views", {"family_views": "Speech is still hard to follow."})
    assert route.open_tasks() == ["UT_outcome"]
    advice = route.data("UT_outcome")["advice_received"]
    assert sorted(advice) == ["education", "health", "psychological", "social_care"]
    route.move_to(at("2026-04-28"))
    route.complete("UT_outcome", {"reassessment_outcome": "amend", "outcome_reasons": "The advice agrees.",
                                  "draft_summary": "Therapy twice a week.",
                                  "draft_changes": {"section_f": {"provision": [
                                      {"description": "Speech and language therapy",
                                       "amount": "Twice weekly, 30 minutes",
                                       "provided_by": "Speech and language therapist", "needs": ["B1"]}]}}})
    draft = route.document("ra_draft_plan")
    assert "12 May 2026" in draft.body_html
    assert route.task("UT_draft_response").due_date == date(2026, 5, 12)
    route.move_to(at("2026-05-01"))
    route.complete("UT_draft_response", {"agrees_with_changes": "yes", "wants_meeting": False,
                                         "request_setting": False, "no_further_comments": True})
    issue = route.task("UT_issue_plan")
    assert issue.due_date == date(2026, 6, 16)
    route.move_to(at("2026-05-05"))
    route.complete("UT_issue_plan", {"final_summary": "Therapy twice a week.",
                                     "representations_considered": "The family agreed."})
    assert route.deadline("reassessment_final_plan").status == "met"
    assert route.document("ra_final_plan").appealable
    with route.services.session_factory() as s:
        current = plans.current_plan(s, route.case_id)
        assert current is not None and current.kind == "amended"
        assert current.sections["F"]["provision"][0]["amount"] == "Twice weekly, 30 minutes"
    assert route.open_tasks() == []


def test_reassessment_leaves_the_plan_as_it_is_with_appeal_rights(request_route: Driver) -> None:
    route = request_route
    reassess(route)
    gather_advice(route)
    route.complete("UT_outcome", {"reassessment_outcome": "no_change", "outcome_reasons": "The plan still fits."})
    notice = route.document("ra_decision_no_change")
    assert notice.appealable
    assert route.deadline("reassessment_final_plan").status == "cancelled"
    assert route.open_tasks() == []


def test_final_plan_after_14_weeks_escalates(request_route: Driver) -> None:
    """16 June 2026 is over at 16 June 23:00 UTC (BST)."""
    route = request_route
    reassess(route)
    gather_advice(route)
    route.complete("UT_outcome", {"reassessment_outcome": "replace", "outcome_reasons": "A new plan is needed.",
                                  "draft_summary": "A new plan."})
    # The draft went out on 10 March: the family's 15 days end on 24 March and the worker closes them that night.
    route.move_to(at("2026-03-25", 0, 1))
    assert route.open_tasks() == ["UT_issue_plan"]
    route.move_to(at("2026-06-16", 22, 59))
    assert route.open_tasks() == ["UT_issue_plan"]
    route.move_to(at("2026-06-16", 23, 1))
    assert "UT_issue_late" in route.open_tasks()
    assert route.deadline("reassessment_final_plan").status == "missed"


def test_young_person_in_year_9_or_above_with_every_late_step(services: Services, world: World) -> None:
    """Nia, born 1 March 2012, is in Year 9 (13 on 31 August 2025): preparing-for-adulthood advice is asked for too.

    - Last assessed Monday 15 December 2025: six months later is 15 June 2026, so the request of 2 March is within
      six months; the decision is due by Tuesday 17 March (over at 18 March 00:00 UTC) and is made late, on
      Thursday 19 March. The plan is due 14 weeks later: Thursday 25 June 2026.
    - The draft goes out on Monday 4 May; the family's 15 days end on Monday 18 May. They reply on Tuesday 5 May
      asking for a meeting and for Hill Academy, without saying that is all; the academy answers on 12 May, so the
      LA waits for the end of the 15 days (over at 18 May 23:00 UTC, BST).
    - The plan is not issued by 25 June (over at 25 June 23:00 UTC): escalated; issued on Monday 29 June.
    """
    from engine.people.roles import Role
    from engine.people.users import create_organisation, create_user
    from tests.conftest import PASSWORD
    from tests.workflows.test_reviews import new_case

    deploy_review_routes(services.engine)
    case_id = new_case(services, world, "Nia", "2012-03-01")
    plan_in_force(services, world, case_id)
    with services.session_factory() as s:
        hill = create_organisation(s, "Hill Academy", "setting", services.engine.clock, setting_type="academy")
        world.users["hill"] = create_user(s, "senco@hill.example", "Hill SENCO", PASSWORD, services.engine.clock,
                                          [(hill, Role.SCHOOL)])
        s.commit()
        hill_id = hill.id
    route = Driver(services, world, case_id)
    route.start("reassessment")
    register(route, "2025-12-15")
    route.move_to(at("2026-03-18", 0, 1))
    assert route.open_tasks() == ["UT_decide_recent", "UT_decision_late"]
    route.complete("UT_decision_late", {"overdue_reason": "Panel postponed", "action_taken": "Deciding now"})
    route.move_to(at("2026-03-19"))
    route.complete("UT_decide_recent", {"reassessment_decision": "reassess",
                                        "decision_reasons": "Nia's needs have changed a lot since December."})
    assert route.deadline("reassessment_decision").status == "missed"
    assert route.deadline("reassessment_final_plan").due_date == date(2026, 6, 25)
    assert route.complete_each("UT_request_advice", {"advice_route": "new_request"}) == 5
    assert route.deadline("advice:preparation_for_adulthood").due_date == date(2026, 4, 30)  # 19 March + 6 weeks
    for task in ("UT_advice_school", "UT_advice_ep", "UT_advice_health", "UT_advice_social_care",
                 "UT_record_advice"):
        route.complete(task, ADVICE)
    route.complete("UT_family_views", {"family_views": "Nia wants to go to college."})
    route.move_to(at("2026-05-04"))
    route.complete("UT_outcome", {"reassessment_outcome": "amend", "outcome_reasons": "New needs.",
                                  "draft_summary": "Add support for anxiety."})
    route.move_to(at("2026-05-05"))
    route.complete("UT_draft_response", {"agrees_with_changes": "partly", "wants_meeting": True,
                                         "request_setting": True, "requested_setting_id": hill_id,
                                         "no_further_comments": False, "draft_representations": "More help."})
    route.complete("UT_meeting", {"draft_meeting_on": "2026-05-05", "draft_meeting_notes": "Talked it through."})
    route.move_to(at("2026-05-06"))
    route.complete("UT_send_consultation", {"consultation_note": "Please reply by 21 May."})
    assert route.deadline(f"setting_consultation:{hill_id}").due_date == date(2026, 5, 21)
    route.move_to(at("2026-05-12"))
    route.complete("UT_setting_response", {"setting_can_meet_needs": "yes", "setting_response": "We can."},
                   who="hill")
    assert route.open_tasks() == []  # the family's 15 days are not over yet
    route.move_to(at("2026-05-18", 23, 1))
    assert route.open_tasks() == ["UT_issue_plan"]
    route.move_to(at("2026-06-25", 23, 1))
    assert route.open_tasks() == ["UT_issue_late", "UT_issue_plan"]
    route.complete("UT_issue_late", {"overdue_reason": "Waiting for the college", "action_taken": "Issuing now"})
    route.move_to(at("2026-06-29"))
    route.complete("UT_issue_plan", {"final_summary": "Support for anxiety added.",
                                     "representations_considered": "Discussed at the meeting."})
    row = route.deadline("reassessment_final_plan")
    assert row.status == "missed" and row.met_at is not None
    assert "preparing for adulthood" in route.document("ra_decision_reassess").body_html


def test_requested_college_that_does_not_answer_does_not_hold_up_the_plan(request_route: Driver) -> None:
    """Consultation sent Tuesday 10 March: due Wednesday 25 March, over at 26 March 00:00 UTC (GMT)."""
    from engine.people.users import create_organisation

    route = request_route
    with route.services.session_factory() as s:
        college = create_organisation(s, "Vale College", "setting", route.engine.clock, setting_type="fe_college")
        s.commit()
        college_id = college.id
    reassess(route)
    gather_advice(route)
    route.complete("UT_outcome", {"reassessment_outcome": "amend", "outcome_reasons": "Advice.",
                                  "draft_summary": "More therapy."})
    route.complete("UT_draft_response", {"agrees_with_changes": "yes", "wants_meeting": False,
                                         "request_setting": True, "requested_setting_id": college_id,
                                         "no_further_comments": True})
    route.complete("UT_send_consultation", {})
    assert route.task("UT_setting_response").organisation_id == college_id
    route.move_to(at("2026-03-26", 0, 1))
    assert route.deadline(f"setting_consultation:{college_id}").status == "missed"
    assert route.open_tasks() == ["UT_issue_plan"]


def test_a_tribunal_order_to_re_assess_goes_straight_to_the_advice(services: Services, world: World) -> None:
    """Started by tribunal_order (reg 44(2)(b)) on Monday 2 March 2026 for an order dated Friday 27 February: no
    request to register and no decision to make; the notice goes at once. The clocks count from the order, not from
    the notice: a decision to leave the plan as it is within 10 weeks (27 February + 70 days = Friday 8 May), the
    plan within 14 weeks (+ 98 days = Friday 5 June 2026; from the notice it would have been Monday 8 June)."""
    deploy_review_routes(services.engine)
    route = Driver(services, world, world.case_id)
    route.start("reassessment", {"request_source": "tribunal_order", "received_at": "2026-03-02T10:00:00+00:00",
                                 "decided_to_reassess": True,
                                 "tribunal_order": {"kind": "reassess", "source": "tribunal", "date": "2026-02-27"}})
    notice = " ".join(route.document("ra_decision_reassess").body_html.split())
    assert "Tribunal" in notice and "5 June 2026</strong> (within 14 weeks of the order)" in notice
    assert route.deadline("reassessment_final_plan").due_date == date(2026, 6, 5)
    data = route.data("UT_family_views")
    assert (data["reassessment_notice_on"], data["outcome_due"], data["final_plan_due"]) == (
        "2026-03-02", "2026-05-08", "2026-06-05")
    assert route.deadlines("reassessment_decision") == []
    assert sorted(route.open_tasks()) == ["UT_family_views"] + ["UT_request_advice"] * 4
