"""Demo SEN support (workflows/sen_support.bpmn): two pupils without an EHC plan in each demo school with a SENCO
account, driven through the engine by their SENCO on a clock that starts in the past, so each school's task list
shows cycles under way: one pupil reviewed once and into a second cycle, one in the first cycle's "do" stage. Also a
child of two at a nursery (the progress check at age two recorded first) and a student at the college, whose own
account gives their views before the review (the college's version: the young person decides)."""

from __future__ import annotations

from typing import Any

from demo.driver import DEMO_PASSWORD, DemoContext, Driver
from engine.intake.route_starts import start_by_hand
from engine.people.roles import Role
from engine.people.users import create_user
from engine.runtime.workflow_engine import WorkflowEngine

# school, its SENCO's sign-in, and two pupils (first, last, years old, primary need, parent email, parent name)
PUPILS = [
    ("Elm Park Primary School", "senco@elmpark.example",
     [("Noah", "Reed", 7, "SPLD", "parent.reed@example.com", "Emma Reed"),
      ("Lily", "Hart", 9, "SEMH", "parent.hart@example.com", "Dan Hart")]),
    ("Oakwood Academy", "senco@oakwood.example",
     [("Ethan", "Cole", 12, "SLCN", "parent.cole@example.com", "Priya Cole"),
      ("Ava", "Moss", 13, "ASD", "parent.moss@example.com", "Gareth Moss")]),
    ("Southborough Primary School", "senco@southboroughprimary.example",
     [("Oscar", "Lane", 6, "SLCN", "parent.lane@example.com", "Jade Lane"),
      ("Isla", "Ford", 10, "MLD", "parent.ford@example.com", "Ben Ford")]),
]
AREAS = {"SPLD": "cognition_and_learning", "MLD": "cognition_and_learning", "SEMH": "social_emotional_mental_health",
         "SLCN": "communication_and_interaction", "ASD": "communication_and_interaction"}


def _plan(driver: Driver, review_in_days: int, days_ago: int) -> dict[str, Any]:
    return {"outcomes": [{"description": "Makes expected progress in the targeted skill",
                          "measure": "Half-termly check by the class teacher"}],
            "provision": [{"description": "Small-group intervention", "delivered_by": "Teaching assistant",
                           "frequency": "20 minutes, 3 times a week", "hours_per_week": 1, "cost_per_year": 900}],
            "review_date": driver.iso(days_ago - review_in_days), "planned_with_family": True}


def seed_sen_support(engine: WorkflowEngine, ctx: DemoContext) -> None:
    driver = Driver(engine, ctx)
    try:
        for school, senco_email, pupils in PUPILS:
            senco = driver.user(senco_email)
            for index, (first, last, age, need, email, parent_name) in enumerate(pupils):
                case_id = driver.new_case("NSH" if school != "Southborough Primary School" else "SBH", first, last,
                                          f"{driver.today.year - age}-03-15", school, email, parent_name,
                                          listed=False)
                started = 150 if index == 0 else 40
                driver.move(driver.day(started))
                start_by_hand(engine, case_id, "sen_support", None, senco)
                driver.do(case_id, "UT_identify", {
                    "setting_phase": "school",
                    "concern_summary": "Progress well below that of classmates despite quality first teaching.",
                    "identified_on": driver.iso(started), "parents_told_on": driver.iso(started - 1),
                    "parents_told_how": "meeting", "family_views": "We have noticed this at home too.",
                    "child_views": "Some lessons are hard.", "senco_name": senco.name}, senco,
                    driver.day(started - 1))
                driver.do(case_id, "UT_assess", {"areas_of_need": [AREAS[need]], "primary_need": need,
                                                 "assessment_summary": "Assessed with the class teacher."},
                          senco, driver.day(started - 3))
                driver.do(case_id, "UT_plan", _plan(driver, 70, started - 3), senco, driver.day(started - 3, 11))
                if index == 1:
                    continue  # first cycle, delivering the support
                # The reminder has passed: the review is arranged, the family gives views, the review continues.
                driver.do(case_id, "UT_arrange_review", {"review_meeting_on": driver.iso(started - 72),
                                                         "family_invited_on": driver.iso(started - 64)},
                          senco, driver.day(started - 64))
                driver.do(case_id, "UT_family_views", {"family_views_before_review": "Going better at home."},
                          ctx.users[email], driver.day(started - 68))
                driver.do(case_id, "UT_review", {
                    "review_held_on": driver.iso(started - 72), "attended_family": True,
                    "outcome_progress": [{"outcome": "Targeted skill", "progress": "good"}],
                    "family_views_at_review": "Pleased.", "child_views_at_review": "I like the group.",
                    "next_step": "continue", "next_step_reasons": "Good progress."}, senco,
                    driver.day(started - 72, 15))
                driver.do(case_id, "UT_next_review", {"review_date": driver.iso(started - 72 - 80)}, senco,
                          driver.day(started - 72, 16))
        _seed_nursery(engine, ctx, driver)
        _seed_college(ctx, driver)
    finally:
        driver.restore()


NURSERY, NURSERY_SENCO = "Riverside Nursery School", "senco@riversidenursery.example"
COLLEGE_SENCO = "senco@northshirecollege.example"


def _identify(driver: Driver, phase: str, started: int, senco: Any) -> dict[str, Any]:
    return {"setting_phase": phase, "concern_summary": "Progress well below what is expected despite good support.",
            "identified_on": driver.iso(started), "parents_told_on": driver.iso(started - 1),
            "parents_told_how": "meeting", "family_views": "We have noticed this too.",
            "child_views": "Some things are hard.", "senco_name": senco.name}


def _seed_nursery(engine: WorkflowEngine, ctx: DemoContext, driver: Driver) -> None:
    """A child of two and a half at the nursery: the progress check at age two, then the first assessment."""
    with engine.session_factory() as session:
        senco = create_user(session, NURSERY_SENCO, "Kim Lowe (SENCO)", DEMO_PASSWORD, driver.own_clock,
                            [(ctx.organisations[NURSERY], Role.SCHOOL)])
        session.commit()
    ctx.users[NURSERY_SENCO] = senco
    ctx.credentials.append((NURSERY_SENCO, Role.SCHOOL.label, NURSERY))
    born = driver.today.replace(year=driver.today.year - 3, month=1, day=12)  # two in January two years ago
    case_id = driver.new_case("NSH", "Poppy", "Wells", born.isoformat(), NURSERY, "parent.wells@example.com",
                              "Amy Wells", listed=False)
    driver.move(driver.day(30))
    start_by_hand(engine, case_id, "sen_support", None, senco)
    driver.do(case_id, "UT_identify", _identify(driver, "early_years", 30, senco), senco, driver.day(29))
    driver.do(case_id, "UT_progress_check", {
        "progress_check_status": "done_here", "progress_check_on": driver.iso(40),
        "prime_areas_of_concern": ["communication_and_language"],
        "progress_check_summary": "Uses few words; understands simple instructions in routine.",
        "progress_check_shared_on": driver.iso(38)}, senco, driver.day(28))


def _seed_college(ctx: DemoContext, driver: Driver) -> None:
    """A student of 17 at the college with their own account: the views before the review are theirs to give."""
    senco = driver.user(COLLEGE_SENCO)
    born = driver.today.replace(year=driver.today.year - 17, month=2, day=3)
    case_id = driver.new_case("NSH", "Kofi", "Osei", born.isoformat(), "Northshire College", "kofi.osei@example.com",
                              "Kofi Osei", relationship="young person")
    started = 60
    driver.move(driver.day(started))
    start_by_hand(driver.engine, case_id, "sen_support", None, senco)
    driver.do(case_id, "UT_identify", _identify(driver, "college", started, senco), senco, driver.day(started - 1))
    driver.do(case_id, "UT_assess", {"areas_of_need": ["cognition_and_learning"], "primary_need": "SPLD",
                                     "assessment_summary": "Assessed with the course tutor."},
              senco, driver.day(started - 3))
    driver.do(case_id, "UT_plan", _plan(driver, 62, started - 3), senco, driver.day(started - 3, 11))  # review in 5 days
    driver.do(case_id, "UT_do", {"provision_started_on": driver.iso(started - 4)}, senco, driver.day(20))
    driver.do(case_id, "UT_arrange_review", {"review_meeting_on": driver.iso(-5), "family_invited_on": driver.iso(15)},
              senco, driver.day(15))


seed_sen_support.process_id = "sen_support"  # type: ignore[attr-defined]
