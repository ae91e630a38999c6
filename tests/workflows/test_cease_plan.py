"""Scenario tests for workflows/cease_plan.bpmn (CFA 2014 s.45, regs 29–31), dates worked out by hand.

- Considering ceasing is notified on Monday 2 March 2026 (the clock fixture); the family and the school have 15
  days (an LA setting: no statutory time was found): until Tuesday 17 March, over at 18 March 00:00 UTC.
- The appeal period is 2 calendar months after the decision notice (month-end rule), or 1 month after a mediation
  certificate if that is later; the plan stays in force until it is over, or until an appeal is decided.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from engine.runtime.services import Services
from tests.conftest import World
from tests.workflows.test_reviews import Driver, at, deploy_review_routes, issue_plan_on, new_case

NO_LONGER_NECESSARY = {"cease_ground": "no_longer_necessary", "consult_setting": True,
                       "grounds_detail": "All outcomes met; needs met from the school's own resources."}
FAMILY = {"family_agrees_to_cease": "no", "family_cease_views": "We are worried about secondary school."}
SETTING = {"setting_agrees_to_cease": "yes", "setting_cease_views": "Needs are met through SEN support."}
CEASE = {"cease_decision": "cease", "cease_decision_reasons": "The provision is no longer needed.",
         "views_considered": "The family's worries are addressed by the transition plan."}


def consider_and_consult(route: Driver, grounds: dict[str, Any] | None = None) -> None:
    route.complete("UT_consider", grounds or NO_LONGER_NECESSARY)
    route.complete("UT_family_views", FAMILY)
    route.complete("UT_setting_views", SETTING)


@pytest.fixture
def cease(services: Services, world: World) -> Driver:
    deploy_review_routes(services.engine)
    route = Driver(services, world, world.case_id)
    issue_plan_on(route, "2025-06-01")  # the plan's next review is due 1 June 2026
    route.move_to(at("2026-03-02"))
    route.start("cease_plan")
    return route


def test_ceased_when_the_appeal_period_ends_without_an_appeal(cease: Driver) -> None:
    """Decision sent on Thursday 31 December 2026: 2 months later is 28 February 2027 (no 31 February). The plan
    stays in force until the end of that day, 1 March 2027 00:00 UTC (GMT)."""
    route = cease
    route.complete("UT_consider", NO_LONGER_NECESSARY)
    considering = route.document("cp_considering_ceasing")
    assert not considering.appealable and "17 March 2026" in considering.body_html
    assert {r["role"] for r in considering.recipients} == {"parent", "setting"}
    assert route.task("UT_family_views").due_date == date(2026, 3, 17)
    route.complete("UT_family_views", FAMILY)
    route.complete("UT_setting_views", SETTING)
    route.move_to(at("2026-12-31"))
    route.complete("UT_decide", CEASE)
    notice = route.document("cp_decision_cease")
    assert notice.appealable and "appeal-rights" in notice.body_html
    assert {r["role"] for r in notice.recipients} == {"parent", "setting", "health_body"}
    assert "28 February 2027" in notice.body_html
    assert route.deadline("annual_review").status == "open"  # the plan is still in force
    route.move_to(at("2027-02-28", 23, 59))
    assert route.instance(route.started[-1]).status == "waiting_timer"
    route.move_to(at("2027-03-01", 0, 1))
    ceased = route.document("cp_plan_ceased")
    assert "28 February 2027" in ceased.body_html and "1 March 2027" in ceased.body_html
    assert route.deadline("annual_review").status == "cancelled"
    assert route.instance(route.started[-1]).status == "completed"


def test_appeal_keeps_the_plan_in_force_until_it_is_dismissed(cease: Driver) -> None:
    """Decision Monday 23 March 2026 (period to 23 May). The family appeals on 15 May; the plan stays in force past
    23 May; the Tribunal dismisses the appeal on 2 October 2026 and the plan ceases that day (reg 44(2)(a))."""
    route = cease
    consider_and_consult(route)
    route.move_to(at("2026-03-23"))
    route.complete("UT_decide", CEASE)
    route.move_to(at("2026-05-15"))
    iid = route.message("appeal_lodged", {"lodged_on": "2026-05-15"})
    assert iid == route.started[-1]
    route.move_to(at("2026-06-30"))
    assert route.documents()[-1].kind == "cp_decision_cease"  # still in force
    route.move_to(at("2026-10-02"))
    route.message("appeal_decided", {"outcome": "dismissed", "decided_on": "2026-10-02"})
    ceased = route.document("cp_plan_ceased")
    assert "dismissed the appeal on 2 October 2026" in ceased.body_html
    assert route.deadline("annual_review").status == "cancelled"


def test_appeal_allowed_the_plan_continues(cease: Driver) -> None:
    """An appeal decision can also arrive without the lodging having been announced to the route."""
    route = cease
    consider_and_consult(route)
    route.complete("UT_decide", CEASE)
    route.move_to(at("2026-04-20"))
    route.message("appeal_decided", {"outcome": "allowed", "decided_on": "2026-04-20"})
    assert route.document("cp_plan_continues")
    assert [d.kind for d in route.documents()].count("cp_plan_ceased") == 0
    assert route.deadline("annual_review").status == "open"
    assert route.instance(route.started[-1]).status == "completed"


def test_a_mediation_certificate_extends_the_appeal_period(cease: Driver) -> None:
    """Decision Monday 2 March 2026: 2 months to Saturday 2 May. A mediation certificate issued on Thursday
    30 April gives 1 month from then, to Saturday 30 May, which is later: the plan stays in force until the end
    of 30 May (23:00 UTC, BST)."""
    route = cease
    consider_and_consult(route)
    route.complete("UT_decide", CEASE)
    route.move_to(at("2026-04-30"))
    route.message("mediation_certificate_issued", {"issued_on": "2026-04-30"})
    route.move_to(at("2026-05-03"))
    assert [d.kind for d in route.documents()].count("cp_plan_ceased") == 0
    route.move_to(at("2026-05-30", 22, 59))
    assert [d.kind for d in route.documents()].count("cp_plan_ceased") == 0
    route.move_to(at("2026-05-30", 23, 1))
    assert route.document("cp_plan_ceased")


def test_the_la_decides_to_keep_the_plan(cease: Driver) -> None:
    route = cease
    route.complete("UT_consider", NO_LONGER_NECESSARY)
    route.move_to(at("2026-03-18", 0, 1))  # nobody replied in the 15 days: the decision is still made
    assert route.open_tasks() == ["UT_decide"]
    route.complete("UT_decide", {"cease_decision": "continue", "cease_decision_reasons": "Still needed.",
                                 "views_considered": "No views received."})
    notice = route.document("cp_decision_continue")
    assert not notice.appealable
    assert route.deadline("annual_review").status == "open"


def grounds_refused(route: Driver, grounds: dict[str, Any]) -> str:
    route.complete("UT_consider", grounds)
    assert route.open_tasks() == ["UT_consider"], "the grounds should have been refused"
    assert route.documents() == []
    return str(route.data("UT_consider")["cease_problem"])


def test_never_ceased_only_because_the_young_person_is_19_or_over(services: Services, world: World) -> None:
    """Born 15 January 2006: 20 on 2 March 2026."""
    deploy_review_routes(services.engine)
    route = Driver(services, world, new_case(services, world, "Kai", "2006-01-15"))
    route.start("cease_plan")
    problem = grounds_refused(route, NO_LONGER_NECESSARY)
    assert problem.startswith("A plan is never ceased only because the young person is 19 or over")
    route.complete("UT_consider", {**NO_LONGER_NECESSARY,
                                   "outcomes_achieved": "Completed the level 2 course and started work."})
    assert route.document("cp_considering_ceasing").recipients[0]["role"] == "young_person"


def test_a_child_under_18_who_left_education_keeps_the_plan(services: Services, world: World) -> None:
    """Born 1 September 2009: 16 on 2 March 2026."""
    deploy_review_routes(services.engine)
    route = Driver(services, world, new_case(services, world, "Lee", "2009-09-01"))
    route.start("cease_plan")
    problem = grounds_refused(route, {"cease_ground": "left_education", "consult_setting": False,
                                      "grounds_detail": "Left college in January.", "left_education_on": "2026-01-09",
                                      "left_education_review_on": "2026-02-20", "does_not_wish_to_return": True})
    assert "regulation 29" in problem


def test_reached_25_needs_the_young_person_to_be_25(services: Services, world: World) -> None:
    """Born 3 March 2001: 24 on 2 March 2026, 25 the next day."""
    deploy_review_routes(services.engine)
    route = Driver(services, world, new_case(services, world, "Mo", "2001-03-03"))
    route.start("cease_plan")
    grounds = {"cease_ground": "reached_25", "consult_setting": False, "grounds_detail": "Turns 25."}
    assert grounds_refused(route, grounds).startswith("The young person has not reached 25")
    route.move_to(at("2026-03-03"))
    route.complete("UT_consider", grounds)
    assert route.open_tasks() == ["UT_family_views"]  # no school or college to consult


def test_leaving_education_needs_the_young_person_not_to_wish_to_return(services: Services, world: World) -> None:
    from engine.errors import FormInvalid

    deploy_review_routes(services.engine)
    route = Driver(services, world, new_case(services, world, "Ash", "2006-01-15"))
    route.start("cease_plan")
    with pytest.raises(FormInvalid) as bad:
        route.complete("UT_consider", {"cease_ground": "left_education", "consult_setting": False,
                                       "grounds_detail": "Left college.", "left_education_on": "2026-01-09",
                                       "left_education_review_on": "2026-02-20", "does_not_wish_to_return": False})
    assert "regulation 30" in bad.value.errors["does_not_wish_to_return"]
