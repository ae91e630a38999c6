"""More scenario tests for workflows/sen_support.bpmn (issue 19): the early years branch (the progress check at age
two), the college's version (the young person gives the views before each review), and a move of setting with the
family's consent (``ESP_move``; engine/casework/sen_support_move.py).

They are imported into tests/workflows/test_sen_support.py, and collected there, so that the route's flow coverage
(checked by that module's last test) counts them; this module has no ``test_`` prefix so that pytest does not run
them twice. Every step goes through the engine's commands with the state restored after every step (CaseDriver).

Dates, worked out by hand (GMT until Sunday 28 March 2027: a day's timer fires at 00:00 UTC the next day):

- Planned on Monday 14 September 2026 with a review on Monday 7 December (within 14 September + 91 days).
- The college's second cycle: the next review on Monday 1 March 2027, the meeting that day; the young person's
  views close when 28 February is over, 00:00 UTC on 1 March.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from engine.casework.sen_support_move import move_record, move_status, propose_move
from engine.errors import InvalidState, NotAllowed
from engine.intake.route_starts import start_by_hand
from engine.lists.family import family_cases
from engine.lists.tasks import TaskFilters, task_list
from engine.people.access import ACTING_FOR_YOUNG_PERSON, can_act_on_task
from engine.people.roles import Role
from engine.people.users import create_organisation, create_user
from engine.store.models import Case, CaseParty
from tests.conftest import PASSWORD, World
from tests.workflows.drivers import CaseDriver

PROCESS = "sen_support"
IDENTIFY = {"concern_summary": "Few words at two and a half; plays alone.", "identified_by": "Key person",
            "parents_told_how": "meeting", "family_views": "We have noticed the same.",
            "child_views": "Points to pictures of trains.", "senco_name": "Sam Senco"}
ASSESS = {"areas_of_need": ["communication_and_interaction"], "primary_need": "SLCN",
          "assessment_summary": "Understands simple instructions; uses single words."}
PLAN = {"outcomes": [{"description": "Uses two-word phrases", "measure": "Key person's observations"}],
        "provision": [{"description": "Small-group language sessions", "delivered_by": "Key person",
                       "frequency": "15 minutes daily", "hours_per_week": 1.25, "cost_per_year": 900}],
        "review_date": "2026-12-07", "planned_with_family": True, "plan_family_views": "Agreed."}
REVIEW = {"review_held_on": "2026-12-07", "attended_family": True, "attended_child": True,
          "outcome_progress": [{"outcome": "Two-word phrases", "progress": "good", "evidence": "Observations"}],
          "family_views_at_review": "Much better.", "child_views_at_review": "Happy.",
          "next_step": "continue", "next_step_reasons": "Going well."}


def utc(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def _start(route: CaseDriver, world: World, phase: str, born: str) -> int:
    with route.services.session_factory() as s:
        case = s.get(Case, world.case_id)
        assert case is not None
        case.date_of_birth = date.fromisoformat(born)
        s.commit()
    route.at(utc(2026, 9, 7))
    instance_id = start_by_hand(route.engine, world.case_id, PROCESS, None, world.users["school"])
    route.complete("UT_identify", {**IDENTIFY, "setting_phase": phase, "identified_on": "2026-09-08",
                                   "parents_told_on": "2026-09-08"}, utc(2026, 9, 8))
    return instance_id


def _new_setting(route: CaseDriver, name: str, setting_type: str) -> tuple[int, str]:
    """Another setting of the authority and its SENCO (a ``world`` user key, for ``complete(who=...)``)."""
    with route.services.session_factory() as s:
        la_id = s.get(Case, route.case_id).la_id  # type: ignore[union-attr]
        org = create_organisation(s, name, "setting", route.engine.clock, setting_type=setting_type,
                                  maintaining_la_id=la_id)
        key = f"senco_{org.id}"
        route.users[key] = create_user(s, f"{key}@test.example", f"Senco of {name}", PASSWORD,  # type: ignore[index]
                                       route.engine.clock, [(org, Role.SCHOOL)])
        s.commit()
        return org.id, key


def test_an_early_years_setting_records_the_progress_check_and_the_record_moves_with_consent(
        route: CaseDriver, world: World) -> None:
    """A nursery child, born 10 March 2024 (two and a half): the progress check at age two is recorded after the
    need, before the first assessment. On 1 October the nursery proposes a move to another nursery; the parent agrees
    on 2 October and the SENCO moves the record: from then on the new nursery's SENCO does the route's tasks and the
    old one cannot."""
    _start(route, world, "early_years", "2024-03-10")
    assert route.open() == ["UT_progress_check"]
    route.complete("UT_progress_check", {"progress_check_status": "done_here", "progress_check_on": "2026-06-15",
                                         "prime_areas_of_concern": ["communication_and_language"],
                                         "progress_check_summary": "Fewer words than expected at two.",
                                         "progress_check_shared_on": "2026-06-16"}, utc(2026, 9, 9))
    assert route.open() == ["UT_assess"]
    route.complete("UT_assess", ASSESS, utc(2026, 9, 14))
    route.complete("UT_plan", PLAN, utc(2026, 9, 14, 11))
    assert route.data(PROCESS)["progress_check_summary"] == "Fewer words than expected at two."

    nursery, new_senco = _new_setting(route, "Little Acorns Nursery", "early_years")
    route.at(utc(2026, 10, 1))
    with pytest.raises(NotAllowed):
        propose_move(route.engine, world.case_id, nursery, world.users["parent"])
    propose_move(route.engine, world.case_id, nursery, world.users["school"])
    route.check()
    consent = route.task("UT_move_consent")
    assert (consent.role, consent.detail) == (Role.FAMILY.value, "Little Acorns Nursery")
    assert route.open() == ["UT_do", "UT_move_consent"]
    with pytest.raises(InvalidState):  # one proposal at a time
        propose_move(route.engine, world.case_id, nursery, world.users["school"])
    with route.services.session_factory() as s:
        case = s.get(Case, world.case_id)
        assert case is not None
        with pytest.raises(InvalidState):  # not before the family agrees
            move_record(s, case, world.users["school"], route.engine.clock.now())
    route.complete("UT_move_consent", {"move_consent": "yes"}, utc(2026, 10, 2))
    assert route.open() == ["UT_do"]
    with route.services.session_factory() as s:
        case = s.get(Case, world.case_id)
        assert case is not None
        status = move_status(s, world.case_id)
        assert status is not None and (status.consent, status.ready_to_move) == ("yes", True)
        move_record(s, case, world.users["school"], route.engine.clock.now())
        s.commit()
    with route.services.session_factory() as s:
        parties = [(p.organisation_id, p.active) for p in s.query(CaseParty).filter_by(case_id=world.case_id,
                                                                                       role="setting")]
        assert parties == [(world.school.id, False), (nursery, True)]
        do = route.task("UT_do")
        assert do.organisation_id == nursery
        assert can_act_on_task(s, route.users[new_senco], do)
        assert not can_act_on_task(s, world.users["school"], do)
    route.complete("UT_do", {"provision_started_on": "2026-09-15"}, utc(2026, 11, 2), who=new_senco)
    arrange = route.task("UT_arrange_review")
    assert arrange.organisation_id == nursery
    route.complete("UT_arrange_review", {"review_meeting_on": "2026-12-07", "family_invited_on": "2026-11-02"},
                   utc(2026, 11, 2, 11), who=new_senco)
    assert route.open() == ["UT_family_views"]


def test_a_college_asks_the_young_person_and_a_move_the_young_person_refuses(route: CaseDriver,
                                                                            world: World) -> None:
    """A student of 17 (born 10 January 2009) at college: the views before each review are the young person's own
    task. In cycle 1 they give them; in cycle 2 they do not, and the task closes when the meeting day begins. Asked
    to agree to the record moving to another college, the young person says no: the record stays."""
    with route.services.session_factory() as s:
        student = create_user(s, "student@test.example", "Sam Student", PASSWORD, route.engine.clock,
                              [(None, Role.FAMILY)])
        s.add(CaseParty(case_id=world.case_id, role="family", user_id=student.id,
                        relationship_to_child="young person"))
        s.commit()
        route.users["young_person"] = student  # type: ignore[index]
    _start(route, world, "college", "2009-01-10")
    assert route.open() == ["UT_assess"]
    route.complete("UT_assess", ASSESS, utc(2026, 9, 14))
    route.complete("UT_plan", PLAN, utc(2026, 9, 14, 11))
    route.complete("UT_do", {"provision_started_on": "2026-09-15"}, utc(2026, 11, 2))
    route.complete("UT_arrange_review", {"review_meeting_on": "2026-12-07", "family_invited_on": "2026-11-02"},
                   utc(2026, 11, 2, 11))
    views = route.task("UT_young_person_views")
    assert (views.role, views.name, views.due_date) == (Role.FAMILY.value, "Give your views before your review",
                                                        date(2026, 12, 7))
    # The young person's own task (familyMember: young_person): their parent on the case cannot do it for them
    # unless the young person names them to act for them.
    assert views.assignee_id == student.id
    with route.services.session_factory() as s:
        parent = s.get(type(student), world.users["parent"].id)

        def listed(user_id: int) -> tuple[bool, int]:
            mine = task_list(s, user_id, TaskFilters(), date(2026, 11, 2)).rows
            [case] = [c for c in family_cases(s, user_id) if c.id == world.case_id]
            return views.id in {row.id for row in mine}, case.my_open_tasks

        assert not can_act_on_task(s, parent, views) and listed(parent.id) == (False, 0)
        assert can_act_on_task(s, s.get(type(student), student.id), views) and listed(student.id) == (True, 1)
        s.add(CaseParty(case_id=world.case_id, role=ACTING_FOR_YOUNG_PERSON, user_id=parent.id))
        s.flush()
        assert can_act_on_task(s, parent, views) and listed(parent.id) == (True, 1)
        s.rollback()
    route.complete("UT_young_person_views", {"child_views_before_review": "I want help with maths, not English."},
                   utc(2026, 12, 3), who="young_person")
    route.complete("UT_review", REVIEW, utc(2026, 12, 7, 15))
    route.complete("UT_next_review", {"review_date": "2027-03-01"}, utc(2026, 12, 7, 16))
    route.complete("UT_do", {"provision_started_on": "2026-12-08"}, utc(2027, 2, 1))
    route.complete("UT_arrange_review", {"review_meeting_on": "2027-03-01", "family_invited_on": "2027-02-01"},
                   utc(2027, 2, 1, 11))
    route.at(utc(2027, 2, 28, 23, 59))
    assert route.open() == ["UT_young_person_views"]
    route.at(utc(2027, 3, 1, 0, 1))
    assert route.open() == ["UT_review"]
    cycles = route.data(PROCESS).get("cycles") or []
    assert [c["child_views_before_review"] for c in cycles] == ["I want help with maths, not English."]

    college, _ = _new_setting(route, "Testshire College", "fe_college")
    route.at(utc(2027, 3, 2))
    propose_move(route.engine, world.case_id, college, world.users["caseworker"])
    route.check()
    route.complete("UT_move_consent", {"move_consent": "no", "move_consent_notes": "I am staying."},
                   utc(2027, 3, 3), who="young_person")
    with route.services.session_factory() as s:
        case = s.get(Case, world.case_id)
        assert case is not None
        status = move_status(s, world.case_id)
        assert status is not None and (status.consent, status.ready_to_move) == ("no", False)
        with pytest.raises(InvalidState):
            move_record(s, case, world.users["caseworker"], route.engine.clock.now())
    # The record stays; the review (due on 1 March, so overdue since 2 March) is still the college's to hold.
    assert route.open() == ["UT_review", "UT_review_overdue"]
