"""The front door joined to the real routes: a parent's online request, registered by a caseworker for a child EHC
Flow did not know, runs through the needs assessment, plan drafting and the first annual review, each started by
the one before (issue 13).

The routes are the project's own ``workflows/`` folder, checked and deployed as ``ehcflow setup`` does; nothing is
a stand-in. Every step goes through the engine's commands with a moved clock (as tests/workflows/
test_needs_assessment.py does), and after every step each instance on the case is restored from its saved state and
serialized again (tests/workflows/drivers.py).

The calendar (worked out by hand, not by the code under test):

- 2026: British Summer Time from Sunday 29 March to Sunday 25 October; 2027: from Sunday 28 March. Bank holidays
  between March and June 2026: Good Friday 3 April, Easter Monday 6 April, 4 May, 25 May.
- "6 weeks" = 42 calendar days, "16 weeks" = 112, "20 weeks" = 140, "10 weeks" = 70: bank holidays do not move them.
- A deadline "on" a day is over at midnight in England at its end: 00:00 UTC in winter, 23:00 UTC the day before in
  summer. That is when its timer fires.
- A request received on a working day before 17:00 in England starts the clock that day.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select

from engine.casework.plans import list_versions
from engine.intake.questions import PAGE_BY_SLUG, check_page, pages_for
from engine.intake.registration import register_request
from engine.intake.requests import decide_by, save_answers, start_draft, submit_draft
from engine.runtime.services import Services
from engine.runtime.worker import run_daily_jobs, run_once
from engine.statutory import calendar
from engine.store.models import AuditEvent, Case, CaseParty, ProcessInstance, User
from engine.store.outbox import OutboxEmail
from engine.store.requests import AssessmentRequest
from tests.conftest import World, real_routes
from tests.workflows.drivers import CaseDriver

# The parent's answers, page by page, as typed into the online pages. Robin was born on 20 October 2017: in Year 3
# in 2025/26 (Reception from September 2022), so no preparation-for-adulthood advice, and Year 7 (the next phase
# transfer) starts in September 2029, long after the first review.
ANSWERS = {
    "who": {"requester_type": "parent"},
    "about-you": {"requester_name": "Sam Rivers", "relationship_to_child": "mother",
                  "requester_email": "Sam.Rivers@Example.com", "requester_phone": "01234 567890"},
    "child": {"child_first_name": "Robin", "child_last_name": "Rivers", "child_date_of_birth": "20 10 2017"},
    "address": {"child_address": "1 Mill Lane\nTestbury", "child_postcode": "te1 2ab"},
    "setting": {"setting_name": "Test Primary School", "child_upn": ""},
    "views": {"parent_views": "Robin finds reading very hard and is unhappy at school.", "young_person_views": ""},
    "support": {"sen_support": "Two terms of small-group phonics and a reading buddy."},
    "urgent": {"urgent": "no", "urgent_details": ""},
    "consent": {"consent_to_share": "yes"},
}
EVIDENCE = {"setting_attainment": "Working well below age-related expectations.",
            "setting_needs": "Literacy.", "setting_action_taken": "Two terms of SEN support.",
            "setting_over_and_above": "yes"}
PANEL_ASSESS = {"panel_met_on": "2026-03-16", "panel_recommendation": "assess", "panel_reasons": "Meets the test."}
ADVICE = {"advice_given_by": "A. Adviser, specialist", "advice_needs": "Phonological processing.",
          "advice_provision": "Daily structured phonics.", "advice_outcomes": "Reads simple sentences."}
STANDARD_ADVICE = (("UT_advice_school", "education"), ("UT_advice_ep", "psychological"),
                   ("UT_advice_health", "health"), ("UT_advice_social_care", "social_care"))
# Plan drafting's contributions and draft (the shapes of tests/workflows/test_plan_drafting.py).
HEALTH = {"section_c": {"needs": [{"description": "Glue ear affecting hearing"}]},
          "section_g": {"provision": [{"description": "Audiology review", "amount": "every 6 months",
                                       "provided_by": "Paediatric audiology", "needs": ["C1"]}]}}
SOCIAL_CARE = {"section_d": {"needs": []}, "section_h1": {"provision": []}, "section_h2": {"provision": []}}
DRAFT = {
    "section_a": {"views": "Robin likes football and drawing.", "aspirations": "To read a book on his own."},
    "section_b": {"needs": [{"area": "cognition_and_learning", "description": "Difficulty decoding words"}]},
    "section_e": {"outcomes": [{"description": "Reads a book for his age with support", "by_when": "July 2027",
                                "needs": ["B1"]}]},
    "section_f": {"provision": [{"description": "Structured phonics programme", "amount": "20 minutes daily",
                                 "provided_by": "Trained teaching assistant", "needs": ["B1"]}]},
}


def utc(year: int, month: int, day: int, hour: int = 10, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def send_request_online(services: Services, world: World) -> int:
    """The parent, with no account, fills in every page (each checked as the page checks it) and sends it."""
    clock = services.engine.clock
    with services.session_factory() as s:
        row, _token = start_draft(s, world.la.id, clock.now())
        for page in pages_for("parent"):
            clean, errors = check_page(PAGE_BY_SLUG[page.slug], ANSWERS[page.slug], clock.today(), "parent")
            assert errors == {}, (page.slug, errors)
            save_answers(row, clean, clock.now())
        submit_draft(s, row, clock.now())
        s.commit()
        return row.id


def record_partners(services: Services, world: World, case_id: int) -> None:
    """The organisations that work with Robin: his school, the health body and the mediation service.

    Registration links only the family (and a setting that asked from its own account): nothing in intake, on the
    case page or on the command line records the health body or a school named by its free-text name yet, so the
    test records them as the demo data and the other route tests do.
    """
    with services.session_factory() as s:
        for role, org in (("setting", world.school), ("health_body", world.health),
                          ("mediation_service", world.mediation)):
            s.add(CaseParty(case_id=case_id, role=role, organisation_id=org.id, active=True))
        s.commit()


def test_a_request_runs_through_assessment_plan_drafting_and_the_first_annual_review(services: Services,
                                                                                      world: World) -> None:
    engine = services.engine
    engine.deploy(real_routes())  # as `ehcflow setup` does

    # ---- the request -------------------------------------------------------------------------------------------
    # Sent online on Monday 2 March 2026 at 10:00 GMT (the clock fixture): a working day before 17:00, so the
    # clock starts that day. 6 weeks: 2 Mar + 42 days = Monday 13 April.
    received = utc(2026, 3, 2, 10)
    engine.clock.set(received)
    request_id = send_request_online(services, world)
    with services.session_factory() as s:
        row = s.get(AssessmentRequest, request_id)
        assert row is not None
        assert (row.status, row.channel, row.received_at, row.child_date_of_birth, row.child_postcode) == (
            "new", "online", received, date(2017, 10, 20), "TE1 2AB")
        assert decide_by(row.received_at) == date(2026, 4, 13)
        parent = s.scalars(select(User).where(User.email == "sam.rivers@example.com")).one()
        assert parent.password_hash is None and row.requester_user_id == parent.id
        assert sorted(s.scalars(select(OutboxEmail.kind).where(OutboxEmail.to_user_id == parent.id))) == [
            "request_received", "set_password"]
        cases_before = set(s.scalars(select(Case.id)))

    # ---- registered by a caseworker on Tuesday 3 March, for a child EHC Flow does not know ------------------------
    engine.clock.set(utc(2026, 3, 3, 9))
    case_id = register_request(engine, request_id, world.users["caseworker"])
    assert case_id not in cases_before
    route = CaseDriver(services, world.users, case_id)
    route.check()
    with services.session_factory() as s:
        case = s.get(Case, case_id)
        assert case is not None
        assert (case.child_name, case.date_of_birth, case.la_id, case.postcode, case.created_at) == (
            "Robin Rivers", date(2017, 10, 20), world.la.id, "TE1 2AB", utc(2026, 3, 3, 9))
        opened = s.scalars(select(AuditEvent).where(AuditEvent.case_id == case_id,
                                                    AuditEvent.action == "case_opened")).one()
        assert opened.actor_id == world.users["caseworker"].id
        assert s.get(AssessmentRequest, request_id).instance_id == route.instance("ehc_needs_assessment").id
    assert route.family().id == parent.id
    assert route.open() == ["UT_register"]
    # The assessment counts from the moment of receipt, not from the registration a day later.
    data = route.data("ehc_needs_assessment")
    assert (data["received_at"], data["requester_type"], data["requester_name"]) == (
        "2026-03-02T10:00:00+00:00", "parent", "Sam Rivers")
    record_partners(services, world, case_id)

    # ---- the needs assessment ------------------------------------------------------------------------------------
    # 16 weeks: 2 Mar + 112 days = Monday 22 June. 20 weeks: 2 Mar + 140 days = Monday 20 July.
    route.complete("UT_register", {"has_setting": "yes", "assessed_in_last_six_months": "no"}, utc(2026, 3, 3, 9, 30))
    data = route.data("ehc_needs_assessment")
    assert (data["start_date"], data["decide_by"], data["no_plan_notice_by"], data["final_plan_by"]) == (
        "2026-03-02", "2026-04-13", "2026-06-22", "2026-07-20")
    assert route.deadlines() == {"decide_whether_to_assess": ("2026-04-13", "open")}
    # Views and evidence asked for 15 days (local practice) from the day they were asked, the registration on
    # Tuesday 3 March: by Wednesday 18 March.
    assert {t.bpmn_id: t.due_date for t in route.open_tasks()} == {
        "UT_family_views": date(2026, 3, 18), "UT_setting_evidence": date(2026, 3, 18)}
    # The parent who asked, with an account the request made (no password yet), gives the family's views.
    assert route.complete("UT_family_views", {"family_views": "Please assess."}, utc(2026, 3, 9)).completed_by_id \
        == parent.id
    route.complete("UT_setting_evidence", EVIDENCE, utc(2026, 3, 10))
    route.complete("UT_panel_assess", PANEL_ASSESS, utc(2026, 3, 16))
    assert route.task("UT_decide_assess").due_date == date(2026, 4, 13)
    route.complete("UT_decide_assess", {"assess_decision": "assess"}, utc(2026, 3, 18))
    assert route.deadlines() == {"decide_whether_to_assess": ("2026-04-13", "met"),
                                 "decision_not_to_issue": ("2026-06-22", "open")}
    route.complete("UT_plan_advice", {"other_advisers": []}, utc(2026, 3, 19, 9))
    assert route.open() == ["UT_request_advice:education", "UT_request_advice:health",
                            "UT_request_advice:psychological", "UT_request_advice:social_care"]
    # All four sent on Thursday 19 March: due 19 Mar + 42 days = Thursday 30 April.
    for key in ("education", "health", "psychological", "social_care"):
        route.complete("UT_request_advice", {"advice_route": "new_request"}, utc(2026, 3, 19, 10), key=key)
    assert {k: v for k, v in route.deadlines().items() if k.startswith("advice:")} == {
        f"advice:{k}": ("2026-04-30", "open") for k in ("education", "psychological", "health", "social_care")}
    # All in on Monday 20 April, before the reminders (7 days before the due date: 23 April).
    for bpmn_id, key in STANDARD_ADVICE:
        route.complete(bpmn_id, ADVICE, utc(2026, 4, 20), key=key)
    assert [status for k, (_, status) in route.deadlines().items() if k.startswith("advice:")] == ["met"] * 4
    assert route.open() == ["UT_decide_issue"]
    assert route.task("UT_decide_issue").due_date == date(2026, 6, 22)

    # Monday 8 June is day 98 from 2 March, the first day of week 15: the LA decides to issue a plan.
    route.complete("UT_decide_issue", {"issue_decision": "issue"}, utc(2026, 6, 8))
    assessment = route.instance("ehc_needs_assessment")
    assert assessment.status == "completed"
    assert route.deadlines()["decision_not_to_issue"] == ("2026-06-22", "cancelled")

    # ---- plan drafting, started by the decision to issue -------------------------------------------------------
    drafting = route.instance("ehc_plan_drafting")
    assert drafting.parent_instance_id == assessment.id
    plan_data = route.data("ehc_plan_drafting")
    assert plan_data["start_date"] == "2026-03-02"  # the same statutory start, not the day it was handed over
    assert sorted(plan_data["advice_received"]) == ["education", "health", "psychological", "social_care"]
    # The assessment's 20-week row moved to plan drafting: one row, still open, due Monday 20 July.
    assert route.deadlines()["final_plan_20w"] == ("2026-07-20", "open")
    assert route.deadline("final_plan_20w").instance_id == drafting.id
    assert route.open() == ["UT_health_provision", "UT_social_care_provision"]
    assert route.task("UT_health_provision").organisation_id == world.health.id

    route.complete("UT_health_provision", HEALTH, utc(2026, 6, 10, 9))
    route.complete("UT_social_care_provision", SOCIAL_CARE, utc(2026, 6, 10, 10))
    route.complete("UT_draft_plan", DRAFT, utc(2026, 6, 10, 14))
    # Served on Thursday 11 June: 15 days beginning with that day run to Thursday 25 June (11 June + 14 days).
    route.complete("UT_serve_draft", {"served_on": "2026-06-11", "service_method": "email",
                                      "settings_information": "The Testshire Local Offer"}, utc(2026, 6, 11))
    assert route.task("UT_family_response").due_date == date(2026, 6, 25)
    # The parent has nothing to add but keeps the right to the full 15 days.
    route.complete("UT_family_response", {"wants_meeting": False, "request_setting": False,
                                          "request_personal_budget": False, "no_further_comments": False},
                   utc(2026, 6, 15))
    route.complete("UT_choose_setting", {"naming_choice": "setting", "proposed_setting_id": world.school.id,
                                         "choice_reasons": "His local primary school can meet his needs"},
                   utc(2026, 6, 16, 9))
    # Consultation sent on Tuesday 16 June: the school answers within 15 days, by Wednesday 1 July.
    route.complete("UT_send_consultation", {"consultation_sent_on": "2026-06-16", "consult_other_la": False},
                   utc(2026, 6, 16, 10))
    assert route.deadlines()[f"setting_consultation:{world.school.id}"] == ("2026-07-01", "open")
    route.complete("UT_setting_response", {"setting_can_meet_needs": "yes",
                                           "setting_response": "We can meet his needs"}, utc(2026, 6, 22))
    assert route.deadlines()[f"setting_consultation:{world.school.id}"] == ("2026-07-01", "met")
    route.complete("UT_confirm_la_setting", {"name_proposed_setting": True, "confirm_reasons": "Can meet the needs"},
                   utc(2026, 6, 23))
    # Everything is done, but the family's 15 days run to the end of 25 June: 23:00 UTC (BST).
    assert route.open() == []
    assert route.at(utc(2026, 6, 25, 22, 59, 59)) == 0
    assert route.at(utc(2026, 6, 25, 23, 0, 1)) == 1
    assert route.open() == ["UT_issue_final_plan"]
    assert route.task("UT_issue_final_plan").due_date == date(2026, 7, 20)

    # Issued on Wednesday 1 July 2026, 121 days after 2 March (week 18; 8 June was day 98): the 20 weeks are met.
    route.complete("UT_issue_final_plan", {"sections_checked": True}, utc(2026, 7, 1))
    assert route.instance("ehc_plan_drafting").status == "completed"
    row = route.deadline("final_plan_20w")
    assert (row.due_date, row.status, row.missed, row.met_at) == (date(2026, 7, 20), "met", False, utc(2026, 7, 1))
    with services.session_factory() as s:
        final = list_versions(s, case_id)[-1]
    assert (final.kind, final.is_issued, final.sections["I"]["name"]) == ("final", True, "Test Primary School")
    # The first review is due within 12 months of the issue: 1 July 2026 + 12 months = Thursday 1 July 2027 (the
    # month-end rule does not come into it: July has a 1st every year).
    review_row = route.deadline("annual_review")
    assert (review_row.due_date, review_row.started_on, review_row.status) == (
        date(2027, 7, 1), date(2026, 7, 1), "open")

    # ---- the first annual review, started by the scheduler from that row --------------------------------------
    # An annual review (Robin was 8 when the plan was issued, not under five, and his next phase transfer, Year 7 in
    # September 2029, is not within 12 months of 1 July 2027), so the route starts 10 weeks before the date:
    # 1 July 2027 - 70 days = Thursday 22 April 2027 (1 July - 30 days = 1 June, - 31 days = 1 May, - 9 days =
    # 22 April). The worker's pass on Wednesday 21 April starts nothing.
    engine.clock.set(utc(2027, 4, 21, 7))  # 08:00 BST
    run_once(engine)
    route.check()
    assert route.instances("annual_review") == []
    engine.clock.set(utc(2027, 4, 22, 7))
    assert run_daily_jobs(engine) == {"start_due_reviews": True, "termly_review_lists": True,
                                      "planner_statistics": True}
    route.check()
    review = route.instance("annual_review")
    assert review.status != "failed", review.last_error
    data = route.data("annual_review")
    assert {k: data[k] for k in ("scheduled", "review_kind", "last_review_on", "statutory_review_due", "review_due",
                                 "phase_transfer_due", "transfer_kind", "transfer_on", "arranged_by")} == {
        "scheduled": True, "review_kind": "annual", "last_review_on": "2026-07-01",
        "statutory_review_due": "2027-07-01", "review_due": "2027-07-01", "phase_transfer_due": None,
        "transfer_kind": None, "transfer_on": None, "arranged_by": "setting"}
    # Invitations by 1 July 2027 - 6 weeks (2 weeks' notice + 4 weeks for the decision) = Thursday 20 May 2027.
    assert data["latest_invitations_on"] == "2027-05-20"
    assert calendar.add_weeks("2027-05-20", 6) == date(2027, 7, 1)
    assert route.open() == ["UT_arrange_setting"]  # the school arranges it: no set-up task, the scheduler gave dates
    assert route.task("UT_arrange_setting").organisation_id == world.school.id
    # One row on the statutory clock, still due 1 July 2027, now the review's to meet; a second pass the same day
    # starts nothing more.
    assert route.deadlines()["annual_review"] == ("2027-07-01", "open")
    assert route.deadline("annual_review").instance_id == review.id
    run_once(engine)
    assert len(route.instances("annual_review")) == 1
    with services.session_factory() as s:
        statuses = {i.process_id: i.status for i in s.scalars(select(ProcessInstance).where(
            ProcessInstance.case_id == case_id))}
    assert statuses["ehc_needs_assessment"] == statuses["ehc_plan_drafting"] == "completed"
