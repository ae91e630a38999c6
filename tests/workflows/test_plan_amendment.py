"""Scenario tests for workflows/plan_amendment.bpmn, started on its own (an amendment outside a review, reg 28).

The review-started amendment (with the proposed amendments sent with the review decision) is in test_reviews.py.
Dates, worked out by hand (2026; British Summer Time from Sunday 29 March):

- The notice goes out on Monday 2 March 2026 (the clock fixture). "At least 15 days beginning with the day of
  service": 2 March is day 1, so the last day is Monday 16 March (2 March + 14 days); the period is over at
  17 March 00:00 UTC (GMT).
- The amended plan, or the decision not to amend, is due within 8 weeks of the notice: 2 March + 56 days =
  Monday 27 April 2026, over at 27 April 23:00 UTC (BST).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from engine.casework import plans
from engine.library.registry import ProcessRegistry
from engine.people.roles import Role
from engine.people.users import create_organisation, create_user
from engine.runtime.services import Services
from engine.store.models import Organisation, User
from tests.conftest import PASSWORD, World
from tests.workflows.test_reviews import Driver, at, deploy_review_routes, plan_in_force

PROPOSE = {
    "amendment_reason": "needs_changed",
    "amendments_summary": "More speech and language therapy.",
    "proposed_changes": {"section_f": {"provision": [
        {"description": "Speech and language therapy", "amount": "Twice weekly, 30 minutes",
         "provided_by": "Speech and language therapist", "needs": ["B1"]}]}},
    "evidence_list": "Speech and language therapy report, February 2026.",
}


def family_reply(**overrides: Any) -> dict[str, Any]:
    reply = {"agrees_with_changes": "partly", "wants_meeting": False, "request_setting": False,
             "no_further_comments": False, "family_representations": "We would like three sessions."}
    reply.update(overrides)
    return reply


@pytest.fixture
def amendment(services: Services, world: World) -> Driver:
    deploy_review_routes(services.engine)
    plan_in_force(services, world, world.case_id)
    route = Driver(services, world, world.case_id)
    route.start("plan_amendment")
    return route


def test_notice_gives_15_days_beginning_with_the_day_of_service(amendment: Driver) -> None:
    route = amendment
    assert route.task("UT_propose").due_date is None  # no tribunal order: nothing is due before the notice
    route.complete("UT_propose", PROPOSE)
    notice = route.document("am_amendment_notice")
    assert not notice.appealable
    assert "16 March 2026" in notice.body_html and "27 April 2026" in notice.body_html
    assert [r["role"] for r in notice.recipients] == ["parent", "setting"]
    respond = route.task("UT_family_response")
    assert (respond.role, respond.due_date) == ("family", date(2026, 3, 16))
    row = route.deadline("amended_plan")
    assert (row.due_date, row.status) == (date(2026, 4, 27), "open")
    # The family answers early without saying that is all: the LA must wait until their 15 days are over.
    route.move_to(at("2026-03-05"))
    route.complete("UT_family_response", family_reply())
    assert route.open_tasks() == []
    route.move_to(at("2026-03-16", 23, 59))
    assert route.open_tasks() == []
    route.move_to(at("2026-03-17", 0, 1))
    assert route.open_tasks() == ["UT_finalise"]
    assert route.task("UT_finalise").due_date == date(2026, 4, 27)
    route.complete("UT_finalise", {"amendment_decision": "amend", "final_summary": "Therapy twice a week.",
                                   "representations_considered": "A third session is not needed yet."})
    assert route.deadline("amended_plan").status == "met"
    issued = route.document("am_amended_plan")
    assert issued.appealable and {r["role"] for r in issued.recipients} == {"parent", "setting", "health_body"}
    with route.services.session_factory() as s:
        current = plans.current_plan(s, route.case_id)
        assert current is not None and current.kind == "amended" and current.instance_id == route.started[0]
        assert current.sections["F"]["provision"][0]["amount"] == "Twice weekly, 30 minutes"


def test_no_further_comments_lets_the_plan_be_finalised_at_once(amendment: Driver) -> None:
    route = amendment
    route.complete("UT_propose", PROPOSE)
    route.complete("UT_family_response", family_reply(agrees_with_changes="yes", no_further_comments=True))
    assert route.open_tasks() == ["UT_finalise"]


def test_no_reply_in_15_days_and_a_decision_not_to_amend_with_appeal_rights(amendment: Driver) -> None:
    route = amendment
    route.complete("UT_propose", PROPOSE)
    route.move_to(at("2026-03-17", 0, 1))  # the 15 days are over: the family's task closes
    assert route.open_tasks() == ["UT_finalise"]
    route.complete("UT_finalise", {"amendment_decision": "not_amend", "not_amend_reasons": "The new report "
                                   "does not support a change.", "representations_considered": "None received."})
    notice = route.document("am_decision_not_to_amend")
    assert notice.appealable and "appeal-rights" in notice.body_html
    assert route.deadline("amended_plan").status == "met"
    with route.services.session_factory() as s:
        assert plans.current_plan(s, route.case_id).kind == "final"  # type: ignore[union-attr]


def test_eight_weeks_missed_escalates_and_is_done_late(amendment: Driver) -> None:
    route = amendment
    route.complete("UT_propose", PROPOSE)
    route.move_to(at("2026-04-27", 22, 59))
    assert route.open_tasks() == ["UT_finalise"]
    route.move_to(at("2026-04-27", 23, 1))  # 28 April 00:01 BST
    assert route.open_tasks() == ["UT_finalise", "UT_finalise_late"]
    assert route.deadline("amended_plan").status == "missed"
    route.complete("UT_finalise_late", {"overdue_reason": "Waiting for the therapist", "action_taken": "Chased"})
    route.complete("UT_finalise", {"amendment_decision": "amend", "final_summary": "Therapy twice a week.",
                                   "representations_considered": "None received."})
    row = route.deadline("amended_plan")
    assert row.status == "missed" and row.met_at is not None


def academy(services: Services) -> tuple[Organisation, User]:
    with services.session_factory() as s:
        clock = services.engine.clock
        org = create_organisation(s, "Hill Academy", "setting", clock, setting_type="academy")
        user = create_user(s, "senco@hill.example", "Hill SENCO", PASSWORD, clock, [(org, Role.SCHOOL)])
        s.commit()
        return org, user


def test_meeting_and_a_requested_school_consulted_for_15_days(services: Services, world: World,
                                                               amendment: Driver) -> None:
    """Family replies on Thursday 5 March asking for a meeting and for Hill Academy. The consultation goes on
    Tuesday 10 March: 15 days later is Wednesday 25 March. The academy answers on 20 March; the family's 15 days
    are over by then (16 March), so the plan can be finalised straight away."""
    route = amendment
    hill, senco = academy(services)
    route.world.users["hill"] = senco
    route.complete("UT_propose", PROPOSE)
    route.move_to(at("2026-03-05"))
    route.complete("UT_family_response", family_reply(wants_meeting=True, request_setting=True,
                                                      requested_setting_id=hill.id))
    route.complete("UT_meeting", {"amendment_meeting_on": "2026-03-09", "amendment_meeting_notes": "Discussed."})
    route.move_to(at("2026-03-10"))
    route.complete("UT_send_consultation", {"consultation_note": "Please reply by 25 March."})
    response = route.task("UT_setting_response")
    assert (response.organisation_id, response.due_date) == (hill.id, date(2026, 3, 25))
    assert route.deadline(f"setting_consultation:{hill.id}").due_date == date(2026, 3, 25)
    route.move_to(at("2026-03-20"))
    route.complete("UT_setting_response", {"setting_can_meet_needs": "yes", "setting_response": "We can."},
                   who="hill")
    assert route.deadline(f"setting_consultation:{hill.id}").status == "met"
    assert route.open_tasks() == ["UT_finalise"]


def test_a_setting_that_does_not_answer_does_not_hold_up_the_plan(services: Services, world: World,
                                                                   amendment: Driver) -> None:
    """Consultation sent Monday 2 March: due Tuesday 17 March, over at 18 March 00:00 UTC."""
    route = amendment
    hill, _ = academy(services)
    route.complete("UT_propose", PROPOSE)
    route.complete("UT_family_response", family_reply(request_setting=True, requested_setting_id=hill.id,
                                                      no_further_comments=True))
    route.complete("UT_send_consultation", {})
    route.move_to(at("2026-03-18", 0, 1))
    assert route.deadline(f"setting_consultation:{hill.id}").status == "missed"
    assert route.open_tasks() == ["UT_finalise"]


def test_forms_refuse_a_setting_request_without_the_setting(amendment: Driver) -> None:
    from engine.errors import FormInvalid

    route = amendment
    route.complete("UT_propose", PROPOSE)
    with pytest.raises(FormInvalid) as bad:
        route.complete("UT_family_response", family_reply(request_setting=True))
    assert "requested_setting_id" in bad.value.errors


def test_routes_are_deployed_with_their_forms(services: Services) -> None:
    registry: ProcessRegistry = deploy_review_routes(services.engine)
    for pid in ("annual_review", "plan_amendment", "reassessment", "cease_plan"):
        process = registry.get(pid)
        assert process.user_tasks and all(task.form and task.form in process.forms for task in process.user_tasks)


def test_an_amended_plan_naming_a_new_school_moves_the_case_there(services: Services, world: World,
                                                                   amendment: Driver) -> None:
    """A phase transfer: the amended plan names Hill Academy in section I. When it is issued the plan names the
    academy, the academy gets a copy of the plan that names it, and the case's school becomes the academy (Test
    Primary School stays on record, inactive), so the next review's tasks and lists go there."""
    from sqlalchemy import select

    from engine.store.models import AuditEvent, CaseParty

    route = amendment
    hill, senco = academy(services)
    route.world.users["hill"] = senco
    route.complete("UT_propose", {**PROPOSE, "amendments_summary": "Name Hill Academy for Year 7."})
    route.complete("UT_family_response", family_reply(agrees_with_changes="yes", no_further_comments=True))
    route.complete("UT_finalise", {"amendment_decision": "amend", "final_summary": "Hill Academy named.",
                                   "representations_considered": "The family agree.", "named_setting_id": hill.id})
    with services.session_factory() as s:
        current = plans.current_plan(s, route.case_id)
        assert current is not None and current.kind == "amended"
        assert (current.sections["I"]["setting_id"], current.sections["I"]["name"]) == (hill.id, "Hill Academy")
        settings = s.scalars(select(CaseParty).where(CaseParty.case_id == route.case_id,
                                                     CaseParty.role == "setting").order_by(CaseParty.id)).all()
        assert [(p.organisation_id, p.active) for p in settings] == [(world.school.id, False), (hill.id, True)]
        assert s.scalars(select(AuditEvent.summary).where(AuditEvent.case_id == route.case_id,
                                                          AuditEvent.action == "setting_changed")).all() == [
            "School or college now: Hill Academy"]
    issued = route.document("am_amended_plan")
    assert [(r["name"], r["copy"]) for r in issued.recipients if r["role"] == "setting"] == [
        ("Test Primary School", False), ("Hill Academy", True)]


def test_an_amended_plan_naming_no_new_school_keeps_section_i_and_the_school(services: Services, world: World,
                                                                             amendment: Driver) -> None:
    from sqlalchemy import select

    from engine.store.models import CaseParty

    route = amendment
    route.complete("UT_propose", PROPOSE)
    route.complete("UT_family_response", family_reply(agrees_with_changes="yes", no_further_comments=True))
    route.complete("UT_finalise", {"amendment_decision": "amend", "final_summary": "Therapy twice a week.",
                                   "representations_considered": "None."})
    with services.session_factory() as s:
        current = plans.current_plan(s, route.case_id)
        assert current is not None and current.sections["I"]["setting_id"] == world.school.id
        assert s.scalars(select(CaseParty.organisation_id).where(
            CaseParty.case_id == route.case_id, CaseParty.role == "setting", CaseParty.active.is_(True))).all() == [
            world.school.id]
    assert [r["name"] for r in route.document("am_amended_plan").recipients if r["role"] == "setting"] == [
        "Test Primary School"]
