"""Demo cases with a plan at each stage of a review route (annual and phase-transfer reviews, re-assessment, ceasing
a plan: workflows/annual_review.bpmn and co), and two reviews an administrator has to repair."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from demo.driver import DEMO_PASSWORD, DemoContext, Driver, catch_up, give_plan
from engine.casework import plans
from engine.casework.setting_directory import describe_setting
from engine.errors import InstanceFailed
from engine.library.sandbox import make_script_engine
from engine.library.script_functions import script_globals
from engine.people.roles import Role
from engine.people.users import create_user
from engine.runtime.workflow_engine import WorkflowEngine
from engine.statutory import calendar
from engine.statutory.clock import FrozenClock
from engine.store.models import CaseParty, Deadline, HumanTask


def _plan_issued(engine: WorkflowEngine, case_id: int, setting_id: int, when: datetime) -> None:
    """What plan drafting records when it issues a final plan: the plan version, and the annual_review deadline 12
    months on (its opensDeadline), without replaying the route."""
    sections = {
        "A": {"views": "Likes drawing and football; wants to read chapter books.", "aspirations": "To be a vet."},
        "B": {"needs": [{"id": "B1", "area": "cognition_and_learning",
                         "description": "Reading and spelling well below age-related expectations."}]},
        "E": {"outcomes": [{"id": "E1", "description": "Reads a book for their age with support",
                            "by_when": "July, end of the key stage", "needs": ["B1"]}]},
        "F": {"provision": [{"id": "F1", "description": "Structured phonics programme, one to one",
                             "amount": "4 x 20 minutes a week", "provided_by": "Trained teaching assistant",
                             "needs": ["B1"], "preparing_for_adulthood": True}]},
    }
    issued_on = calendar.to_london_date(when)
    advice = [{"provider": "Educational psychology service", "kind": "psychological",
               "received_on": (issued_on - timedelta(days=60)).isoformat(),
               "title": "Educational psychology advice"}]
    with engine.session_factory() as session:
        plans.create_draft(session, case_id, sections, now=when, advice=advice)
        plans.issue_plan(session, case_id, "final", {"I": describe_setting(session, setting_id)}, now=when)
        session.add(Deadline(case_id=case_id, key="annual_review", process_id="ehc_plan_drafting",
                             name="First review of the EHC plan (within 12 months of issue)",
                             due_date=calendar.add_months(issued_on, 12), started_on=issued_on, status="open"))
        session.commit()


def seed_reviews(engine: WorkflowEngine, ctx: DemoContext) -> None:
    """Nine Northshire children with a plan, each at a different point of a review route:

    - Amara Osei: review meeting arranged for three weeks' time; the family's views are in, the rest is awaited;
    - Theo Martin (Year 8): the meeting was held five days ago; the school's report is due within two weeks of it;
    - Maya Hussain: the report came late (the deadline shows as missed); the LA's decision is due in a week;
    - Finn Walsh: overdue: the plan was last reviewed 13 months ago and the meeting has still not been arranged;
    - Grace Bennett (Year 6): phase-transfer review: the LA decided to amend the plan to name a secondary school;
      the family's 15 days to respond are running, with the 15 February date on the clock;
    - Oliver Grant: a re-assessment request received five days ago; the decision is due within 15 days;
    - Chloe Adams (19, left college): the LA decided to cease the plan three weeks ago; it stays in force until the
      appeal period ends;
    - Noah Patel: plan issued 300 days ago, review due in about 9 weeks: the timer worker's daily pass starts it;
    - Isla Brown: plan issued 200 days ago; the review falls due in about 5 months (on a later term's list).

    Driven through the engine on a frozen clock that starts in the past, as the needs assessment's demo is.
    """
    nsh = ctx.organisations["NSH"]
    own_clock, own_scripts = engine.clock, engine.script_engine
    now = own_clock.now()
    today = calendar.to_london_date(now)
    user = ctx.users.get
    by_role = {Role.CASEWORKER.value: user("caseworker@northshire.example"),
               Role.MANAGER.value: user("manager@northshire.example"),
               Role.SOCIAL_CARE.value: user("socialcare@northshire.example"), Role.HEALTH.value: user("dco@icb.example")}
    sencos = {"Elm Park Primary School": user("senco@elmpark.example"), "Oakwood Academy": user("senco@oakwood.example"),
              "Northshire College": user("senco@northshirecollege.example")}
    clock = FrozenClock(now)

    def day(days_ago: int, hour: int = 10) -> datetime:
        local = datetime.combine(today - timedelta(days=days_ago), time(hour), tzinfo=calendar.LONDON)
        return min(local.astimezone(UTC), now)

    def iso(days_from_today: int) -> str:
        return (today + timedelta(days=days_from_today)).isoformat()

    class Child:
        def __init__(self, first: str, last: str, born: date, setting: str, email: str, parent_name: str,
                     relationship: str = "mother") -> None:
            self.setting = setting
            with engine.session_factory() as session:
                self.parent = create_user(session, email, parent_name, DEMO_PASSWORD, own_clock, [(None, Role.FAMILY)])
                case = engine.open_case(session, nsh.id, first, last, born)
                for role, org in (("health_body", ctx.organisations["ICB"]), ("setting", ctx.organisations[setting]),
                                  ("mediation_service", ctx.organisations["MED"])):
                    session.add(CaseParty(case_id=case.id, role=role, organisation_id=org.id))
                session.add(CaseParty(case_id=case.id, role="family", user_id=self.parent.id,
                                      relationship_to_child=relationship))
                session.commit()
                self.case_id = case.id
            ctx.cases[f"{first} {last}"] = self.case_id
            ctx.users[email] = self.parent
            ctx.credentials.append((email, Role.FAMILY.label, f"{first} {last}'s family"))

        def at(self, when: datetime) -> None:
            clock.set(when)
            while engine.fire_due_timers():
                pass

        def start(self, process_id: str, when: datetime, data: dict[str, object] | None = None) -> None:
            self.at(when)
            engine.start(self.case_id, process_id, data or {}, by_role[Role.CASEWORKER.value])

        def do(self, bpmn_id: str, data: dict[str, object], when: datetime) -> None:
            self.at(when)
            with engine.session_factory() as session:
                task = session.scalars(select(HumanTask).where(HumanTask.case_id == self.case_id,
                                                               HumanTask.bpmn_id == bpmn_id,
                                                               HumanTask.status == "open")).one()
            who = {Role.FAMILY.value: self.parent, Role.SCHOOL.value: sencos[self.setting]}.get(task.role or "")
            engine.complete_task(task.id, data, who or by_role[task.role or ""])  # type: ignore[arg-type]

    def set_up(child: Child, when: datetime, last_review_days_ago: int, **extra: object) -> None:
        child.start("annual_review", when)
        child.do("UT_setup", {"review_kind": "annual", "arranged_by": "setting",
                              "last_review_on": iso(-last_review_days_ago), **extra}, when)

    def advice(child: Child, when: datetime) -> None:
        child.do("UT_family_views", {"family_views": "Things are going better this year."}, when)
        child.do("UT_setting_advice", {"setting_outcomes_progress": "Good progress towards most outcomes.",
                                       "setting_provision_made": "All of section F, every week."}, when)
        child.do("UT_health_advice", {"health_advice": "No change in health needs.", "health_needs_changed": False},
                 when)
        child.do("UT_social_care_advice", {"social_care_advice": "No social care involvement.",
                                           "social_care_needs_changed": False}, when)

    def meeting(held_on: str, **extra: object) -> dict[str, object]:
        return {"meeting_held_on": held_on, "attended_family": True, "attended_setting": True, "attended_la": True,
                "child_views": "Likes school more now.", "outcomes_progress": "On track for the outcomes.",
                "outcomes_still_appropriate": "yes", "personal_budget": "none",
                "pfa_discussion": "Hopes for the future talked through with the child and family.", **extra}

    place = {"meeting_place": "At school, SENCO's office", "meeting_time": "15:30"}
    report = {"report_recommendation": "keep", "report_summary": "A good year."}
    engine.clock, engine.script_engine = clock, make_script_engine(script_globals(clock))
    try:
        amara = Child("Amara", "Osei", date(today.year - 9, 4, 2), "Elm Park Primary School",
                      "parent.osei@example.com", "Efua Osei")
        set_up(amara, day(14), 330)
        amara.do("UT_arrange_setting", {**place, "meeting_date": iso(21)}, day(10))
        amara.do("UT_family_views", {"family_views": "Amara wants to join the choir."}, day(5))

        theo = Child("Theo", "Martin", date(today.year - 13, 1, 22), "Oakwood Academy", "parent.martin@example.com",
                     "Sean Martin", "father")
        set_up(theo, day(45), 340)
        theo.do("UT_arrange_setting", {**place, "meeting_date": iso(-5)}, day(42))
        advice(theo, day(25))
        theo.do("UT_meeting_setting", meeting(iso(-5)), day(5, 17))

        maya = Child("Maya", "Hussain", date(today.year - 10, 6, 14), "Elm Park Primary School",
                     "parent.hussain@example.com", "Sara Hussain")
        set_up(maya, day(60), 330)
        maya.do("UT_arrange_setting", {**place, "meeting_date": iso(-21)}, day(56))
        advice(maya, day(40))
        maya.do("UT_meeting_setting", meeting(iso(-21)), day(21, 17))
        maya.do("UT_report_setting", report, day(3))  # after the two weeks: the deadline shows as missed

        finn = Child("Finn", "Walsh", date(today.year - 11, 10, 5), "Elm Park Primary School",
                     "parent.walsh@example.com", "Aoife Walsh")
        set_up(finn, day(42), 395)  # due a month ago; the school has not arranged the meeting

        # Grace moves to secondary school in the September after the next 15 February that is 6 weeks away or more.
        year = today.year if today <= date(today.year, 1, 4) else today.year + 1
        grace = Child("Grace", "Bennett", date(year - 11, 3, 10), "Elm Park Primary School",
                      "parent.bennett@example.com", "Lucy Bennett")
        grace.start("annual_review", day(49))
        grace.do("UT_setup", {"review_kind": "phase_transfer", "arranged_by": "setting", "transfer_kind": "school",
                              "transfer_on": f"{year}-09-01", "last_review_on": iso(-300)}, day(49))
        grace.do("UT_arrange_setting", {**place, "meeting_date": iso(-19)}, day(45))
        advice(grace, day(40))
        grace.do("UT_meeting_setting", meeting(iso(-19)), day(19, 17))
        grace.do("UT_report_setting", {"report_recommendation": "amend", "report_summary": "Ready for secondary.",
                                       "recommended_amendments": "Name Oakwood Academy; update section F."}, day(12))
        grace.do("UT_decide", {"review_decision": "amend", "decision_reasons": "Grace moves to secondary school.",
                               "amendments_summary": "Name Oakwood Academy in section I; add transition support to "
                                                     "section F.",
                               "evidence_list": "Review report; Oakwood Academy's transition plan."}, day(5))

        oliver = Child("Oliver", "Grant", date(today.year - 8, 2, 28), "Elm Park Primary School",
                       "parent.grant@example.com", "Nina Grant")
        oliver.start("reassessment", day(5))
        oliver.do("UT_register", {"requested_by": "parent", "request_received_on": iso(-5),
                                  "last_assessment_on": iso(-400), "has_setting": True,
                                  "request_reasons": "New diagnosis of autism; needs have changed."}, day(5, 11))

        chloe = Child("Chloe", "Adams", date(today.year - 20, 1, 9), "Northshire College",
                      "chloe.adams@example.com", "Chloe Adams", "young person")
        chloe.start("cease_plan", day(45))
        chloe.do("UT_consider", {"cease_ground": "left_education", "consult_setting": True,
                                 "grounds_detail": "Chloe left college and has started full-time paid work.",
                                 "left_education_on": iso(-80), "left_education_review_on": iso(-50),
                                 "does_not_wish_to_return": True,
                                 "outcomes_achieved": "Completed her level 2 course; working as a trainee chef."},
                 day(45))
        chloe.do("UT_family_views", {"family_agrees_to_cease": "yes", "family_cease_views": "I have a job now."},
                 day(40))
        chloe.do("UT_setting_views", {"setting_agrees_to_cease": "yes", "setting_cease_views": "Agreed."}, day(38))
        chloe.do("UT_decide", {"cease_decision": "cease", "cease_decision_reasons": "Chloe has left education for "
                               "work and does not wish to return.", "views_considered": "Chloe and the college "
                               "agree."}, day(21))

        # Two plans issued by plan drafting and not reviewed yet: what it records when it issues a final plan (the
        # plan version, and the annual_review deadline 12 months on, its opensDeadline), without replaying the route.
        # The timer worker's daily pass starts Noah's review (due in about 9 weeks, so its start day, 10 weeks
        # before, has come); Isla's falls due in about 5 months and is on a later term's list of reviews.
        noah = Child("Noah", "Patel", date(today.year - 8, 1, 15), "Elm Park Primary School",
                     "parent.patel@example.com", "Priya Patel")
        _plan_issued(engine, noah.case_id, ctx.organisations[noah.setting].id, day(300))
        isla = Child("Isla", "Brown", date(today.year - 13, 2, 2), "Oakwood Academy", "parent.brown@example.com",
                     "Kate Brown")
        _plan_issued(engine, isla.case_id, ctx.organisations[isla.setting].id, day(200))
        clock.set(now)
    finally:
        engine.clock, engine.script_engine = own_clock, own_scripts
    catch_up(engine)


seed_reviews.process_id = "annual_review"  # type: ignore[attr-defined]


# ---- Something for an administrator to repair (docs/admin.md, "Demo") ----------------------------------------------

def seed_admin_cases(engine: WorkflowEngine, ctx: DemoContext) -> None:
    """Two Northshire reviews an administrator has to look at:

    - Zara Ahmed: her case came over from Northshire's old case-management system with its review already asked
      for by a date, which the import wrote as the old system showed it (dd/mm/yyyy, not ISO). The route took it
      (start data is not a form); when the caseworker set the review up two days ago, the step that works out the
      review dates could not read it: the instance failed and an incident was recorded. The administrator corrects
      ``review_requested_by`` in the instance data and retries the caseworker's step.
    - Kai Turner (Meadowbank School): stuck. The school arranges the review, but nobody at Meadowbank has an EHC Flow
      account, so the task waits for a role nobody holds; the review was due two weeks ago.
    """
    driver = Driver(engine, ctx)
    try:
        caseworker = driver.user("caseworker@northshire.example")
        zara = driver.new_case("NSH", "Zara", "Ahmed", f"{driver.today.year - 9}-05-21", "Elm Park Primary School",
                               "parent.ahmed@example.com", "Farah Ahmed")
        give_plan(driver, zara, "Elm Park Primary School", 330)
        requested_by = driver.today + timedelta(days=21)
        driver.move(driver.day(9))
        engine.start(zara, "annual_review", {"review_due": requested_by.strftime("%d/%m/%Y"), "arranged_by": "setting",
                                             "imported_from": "Northshire CMS, record 004127"}, None)
        try:
            driver.do(zara, "UT_setup", {"review_kind": "annual", "arranged_by": "setting",
                                         "last_review_on": driver.iso(330)}, caseworker, driver.day(2))
        except InstanceFailed:
            pass  # what the caseworker saw: "Something went wrong in this route ... (incident N)"

        kai = driver.new_case("NSH", "Kai", "Turner", f"{driver.today.year - 12}-09-03", "Meadowbank School",
                              "parent.kturner@example.com", "Jess Turner")
        give_plan(driver, kai, "Meadowbank School", 380)
        driver.move(driver.day(75))
        engine.start(kai, "annual_review", {}, caseworker)
        driver.do(kai, "UT_setup", {"review_kind": "annual", "arranged_by": "setting",
                                    "last_review_on": driver.iso(380)}, caseworker, driver.day(75, 11))
    finally:
        driver.restore()


seed_admin_cases.process_id = "annual_review"  # type: ignore[attr-defined]
