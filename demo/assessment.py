"""Demo cases part-way through an EHC needs assessment (workflows/ehc_needs_assessment.bpmn), and one taken through
plan drafting from the decision to issue to the final plan."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from uuid import UUID

from sqlalchemy import select

from demo.driver import DEMO_PASSWORD, DemoContext, catch_up
from engine.library.sandbox import make_script_engine
from engine.library.script_functions import script_globals
from engine.people.roles import Role
from engine.people.users import create_user
from engine.runtime.workflow_engine import WorkflowEngine
from engine.statutory import calendar
from engine.statutory.clock import FrozenClock
from engine.store.models import CaseParty, HumanTask, ProcessInstance

# ---- EHC plan drafting: a case taken from "decided to issue" to a final plan, with every version kept --------------

def seed_plan_drafting(engine: WorkflowEngine, ctx: DemoContext) -> None:
    """Leo Hughes (Year 9, Oakwood Academy, Northshire): draft 1, the family's comments and a request to name
    Oakwood, a personal budget, draft 2 with the agreed changes, the consultation, and the final plan."""
    nsh, oakwood = ctx.organisations["NSH"], ctx.organisations["Oakwood Academy"]
    with engine.session_factory() as session:
        parent = create_user(session, "parent.hughes@example.com", "Dana Hughes", DEMO_PASSWORD, engine.clock,
                             [(None, Role.FAMILY)])
        case = engine.open_case(session, nsh.id, "Leo", "Hughes", "2012-06-10")
        for role, org in (("health_body", ctx.organisations["ICB"]), ("setting", oakwood),
                          ("mediation_service", ctx.organisations["MED"])):
            session.add(CaseParty(case_id=case.id, role=role, organisation_id=org.id))
        session.add(CaseParty(case_id=case.id, role="family", user_id=parent.id, relationship_to_child="mother"))
        session.commit()  # the sessions do not expire on commit: parent stays usable as the actor below
        case_id = case.id
    ctx.cases["Leo Hughes"] = case_id
    ctx.users["parent.hughes@example.com"] = parent
    ctx.credentials.append(("parent.hughes@example.com", Role.FAMILY.label, "Leo Hughes's family"))

    today = engine.clock.today()
    # The request counted as received 17 weeks ago: the final plan is due in 3 weeks.
    start = (today - timedelta(weeks=17)).isoformat()
    advice = {
        "education": {"title": "Educational advice", "status": "received", "given_by": "Lee Shah (SENCO), "
                      "Oakwood Academy", "received_on": (today - timedelta(weeks=9)).isoformat()},
        "psychological": {"title": "Psychological advice", "status": "received", "given_by": "Dr Eleanor Park",
                          "received_on": (today - timedelta(weeks=8)).isoformat()},
        "health": {"title": "Medical advice and information", "status": "received",
                   "given_by": "Dr Harriet Ng (designated clinical officer)",
                   "received_on": (today - timedelta(weeks=8)).isoformat()},
        "social_care": {"title": "Social care advice and information", "status": "received",
                        "given_by": "Sunita Cole", "received_on": (today - timedelta(weeks=7)).isoformat()},
        "preparation_for_adulthood": {"title": "Advice on preparing for adulthood and independent living",
                                      "status": "received", "given_by": "Northshire careers adviser",
                                      "received_on": (today - timedelta(weeks=7)).isoformat()},
    }
    user = ctx.users.get
    caseworker, panel = user("caseworker@northshire.example"), user("manager@northshire.example")
    instance_id = engine.start(case_id, "ehc_plan_drafting", {"start_date": start, "advice_received": advice,
                                                               "personal_budget_requested": True}, caseworker)

    def do(bpmn_id: str, data: dict[str, object], who: object) -> None:
        with engine.session_factory() as session:
            task = session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                           HumanTask.bpmn_id == bpmn_id,
                                                           HumanTask.status == "open")).one()
        engine.complete_task(task.id, data, who)  # type: ignore[arg-type]

    pfa = {"preparing_for_adulthood": True}
    do("UT_health_provision", {
        "section_c": {"needs": [{"description": "Type 1 diabetes, managed with an insulin pump"}]},
        "section_g": {"provision": [{"description": "Diabetes nurse training for school staff and a care plan "
                                     "Leo helps to write", "amount": "Termly review", "provided_by":
                                     "Children's diabetes team", "needs": ["C1"], **pfa}]}},
        user("dco@icb.example"))
    do("UT_social_care_provision", {"section_d": {"needs": []}, "section_h1": {"provision": []},
                                    "section_h2": {"provision": []}}, user("socialcare@northshire.example"))
    do("UT_pb_decide", {"pb_decision": "agree", "pb_indicative_amount": 1800,
                        "pb_provision": "F3 travel training", "pb_needs_outcomes": "B2; E2",
                        "pb_direct_payments": True, "pb_dp_on_setting_premises": False,
                        "pb_dp_needs_outcomes": "B2 and E2: independent travel, with a trainer the family chooses"},
       panel)
    draft = {
        "section_a": {"views": "Leo likes computers and wants to build games. He finds busy corridors hard.",
                      "interests": "Coding, swimming", "aspirations": "To go to college and work in games design"},
        "section_b": {"needs": [
            {"area": "cognition_and_learning", "description": "Dyslexia: reads two years below his age"},
            {"area": "social_emotional_and_mental_health", "description": "Anxiety in crowded, noisy places"}]},
        "section_e": {"outcomes": [
            {"description": "Reads and understands texts used in Year 10 lessons", "by_when": "July 2027",
             "needs": ["B1"]},
            {"description": "Travels to college on his own", "by_when": "September 2028", "adult_life": True,
             "needs": ["B2"]}]},
        "section_f": {"provision": [
            {"description": "Structured literacy programme with a specialist teacher",
             "amount": "3 sessions of 40 minutes a week", "provided_by": "Specialist teacher", "needs": ["B1"]},
            {"description": "Quiet space and a planned route between lessons", "amount": "Daily",
             "provided_by": "Oakwood Academy", "needs": ["B2"]},
            {"description": "Travel training towards independent travel to college", "amount": "1 hour a week "
             "for a term", "provided_by": "Independent travel trainer", "needs": ["B2"], **pfa}]},
    }
    do("UT_draft_plan", draft, caseworker)
    do("UT_serve_draft", {"served_on": today.isoformat(), "service_method": "email",
                          "settings_information": "The Northshire Local Offer lists every school and college: "
                                                  "northshire.example/localoffer"}, caseworker)
    do("UT_family_response", {"representations": "Please add that Leo uses a laptop for written work.",
                              "wants_meeting": False, "request_setting": True, "requested_setting_id": oakwood.id,
                              "request_personal_budget": False, "no_further_comments": True}, parent)
    do("UT_consider_representations", {"representations_response": "Agreed: the laptop is added to section F.",
                                       "changes_agreed": True}, caseworker)
    new_f = {"provision": [*draft["section_f"]["provision"],  # type: ignore[index]
                           {"description": "A laptop with text-to-speech for written work", "amount": "Every lesson",
                            "provided_by": "Oakwood Academy", "needs": ["B1"]}]}
    do("UT_revise_draft", {"changes_summary": "Added the laptop for written work (F4).",
                           "plan_changes": {"section_f": new_f}}, caseworker)
    do("UT_send_consultation", {"consultation_sent_on": today.isoformat(), "consult_other_la": False}, caseworker)
    do("UT_setting_response", {"setting_can_meet_needs": "yes",
                               "setting_response": "We can meet Leo's needs with the provision in section F."},
       user("senco@oakwood.example"))
    do("UT_decide_requested_setting", {"name_requested_setting": True}, panel)
    do("UT_issue_final_plan", {"sections_checked": True,
                               "covering_note": "Thank you for working with us on Leo's plan."}, panel)


seed_plan_drafting.process_id = "ehc_plan_drafting"  # type: ignore[attr-defined]


# ---- EHC needs assessment: a case at each stage of workflows/ehc_needs_assessment.bpmn -----------------------------

def seed_needs_assessment(engine: WorkflowEngine, ctx: DemoContext) -> None:
    """Five Northshire children, each part-way through an EHC needs assessment:

    - Ava Green: the request has just arrived (the caseworker's "Check and register the request" is open);
    - Noah Brooks: views and evidence are in, the panel has recommended; the LA's decision whether to assess is open;
    - Isla Ward (Year 9 or above): advice is being gathered; the school's educational advice is overdue (the
      deadline is missed and the manager has a chase task), the other requests are running, one re-used;
    - Ethan Clarke: the LA decided not to assess; the notice with the appeal rights has gone;
    - Ruby Singh: the LA decided to issue a plan; the assessment handed over to plan drafting, which is at its
      first steps (health and social care provision) with the 20-week date.

    Each case is driven through the engine step by step on a clock that starts in the past: a FrozenClock stands in
    for the engine's clock (and the scripts' today()) while seeding, moving forward to each step, with the timer
    worker's work done at every move; the engine then gets its own clock back and fires whatever is due by now.
    """
    nsh = ctx.organisations["NSH"]
    own_clock, own_scripts = engine.clock, engine.script_engine
    now = own_clock.now()
    today = calendar.to_london_date(now)
    user = ctx.users.get
    caseworker, manager = user("caseworker@northshire.example"), user("manager@northshire.example")
    by_role = {Role.CASEWORKER.value: caseworker, Role.MANAGER.value: manager,
               Role.EDUCATIONAL_PSYCHOLOGIST.value: user("ep@northshire.example"),
               Role.SOCIAL_CARE.value: user("socialcare@northshire.example"), Role.HEALTH.value: user("dco@icb.example")}
    seniors = {"Elm Park Primary School": user("senco@elmpark.example"), "Oakwood Academy": user("senco@oakwood.example")}

    def day(days_ago: int, hour: int = 10) -> datetime:
        """10:00 in England, so many days before today."""
        local = datetime.combine(today - timedelta(days=days_ago), time(hour), tzinfo=calendar.LONDON)
        return min(local.astimezone(UTC), now)

    def new_case(first: str, last: str, born: str, setting: str, email: str, parent_name: str) -> tuple[int, object]:
        with engine.session_factory() as session:
            parent = create_user(session, email, parent_name, DEMO_PASSWORD, own_clock, [(None, Role.FAMILY)])
            case = engine.open_case(session, nsh.id, first, last, born)
            for role, org in (("health_body", ctx.organisations["ICB"]), ("setting", ctx.organisations[setting]),
                              ("mediation_service", ctx.organisations["MED"])):
                session.add(CaseParty(case_id=case.id, role=role, organisation_id=org.id))
            session.add(CaseParty(case_id=case.id, role="family", user_id=parent.id, relationship_to_child="mother"))
            session.commit()
            case_id = case.id
        ctx.cases[f"{first} {last}"] = case_id
        ctx.users[email] = parent
        ctx.credentials.append((email, Role.FAMILY.label, f"{first} {last}'s family"))
        return case_id, parent

    class Journey:
        """One case's assessment, driven through the engine at given moments."""

        def __init__(self, case_id: int, parent: object, setting: str) -> None:
            self.case_id, self.parent, self.setting = case_id, parent, setting
            self.instance_id = 0

        def move(self, when: datetime) -> None:
            clock.set(when)
            while engine.fire_due_timers():
                pass

        def start(self, received: datetime, requester: str = "parent") -> None:
            self.move(received)
            self.instance_id = engine.start(self.case_id, "ehc_needs_assessment", {
                "requester_type": requester, "requester_name": "", "received_at": received.isoformat()}, caseworker)

        def do(self, bpmn_id: str, data: dict[str, object], when: datetime, key: str | None = None) -> None:
            self.move(when)
            with engine.session_factory() as session:
                tasks = list(session.scalars(select(HumanTask).where(
                    HumanTask.instance_id == self.instance_id, HumanTask.bpmn_id == bpmn_id,
                    HumanTask.status == "open")))
                if key is not None:
                    instance = session.get(ProcessInstance, self.instance_id)
                    wf = engine.load_workflow(instance)  # type: ignore[arg-type]
                    tasks = [t for t in tasks
                             if (wf.get_task_from_id(UUID(t.task_guid)).data.get("advice_request") or {}).get("key")
                             == key]
            task = tasks[0]
            who = {Role.FAMILY.value: self.parent, Role.SCHOOL.value: seniors[self.setting]}.get(task.role or "")
            engine.complete_task(task.id, data, who or by_role[task.role or ""])  # type: ignore[arg-type]

        def register(self, when: datetime) -> None:
            self.do("UT_register", {"has_setting": "yes", "assessed_in_last_six_months": "no"}, when)

        def views_and_evidence(self, views: datetime, evidence: datetime, text: str) -> None:
            self.do("UT_family_views", {"family_views": text}, views)
            self.do("UT_setting_evidence", {
                "setting_attainment": "Working below age-related expectations in reading and writing.",
                "setting_needs": "Communication and interaction; literacy.",
                "setting_action_taken": "SEN support plan for four terms, reviewed each term.",
                "setting_over_and_above": "yes"}, evidence)

        def panel(self, when: datetime, recommendation: str = "assess") -> None:
            self.do("UT_panel_assess", {"panel_met_on": calendar.to_london_date(when).isoformat(),
                                        "panel_recommendation": recommendation,
                                        "panel_reasons": "Considered against section 36(8)."}, when)

    advice = {"advice_given_by": "Named adviser", "advice_needs": "Difficulties with language and literacy.",
              "advice_provision": "Specialist teaching three times a week.",
              "advice_outcomes": "Reads and follows instructions in class."}
    clock = FrozenClock(now)
    engine.clock, engine.script_engine = clock, make_script_engine(script_globals(clock))
    try:
        # Just requested: received this morning by email.
        case_id, parent = new_case("Ava", "Green", f"{today.year - 7}-02-11", "Elm Park Primary School",
                                   "parent.green@example.com", "Hannah Green")
        ava = Journey(case_id, parent, "Elm Park Primary School")
        ava.start(min(day(0, 9), now - timedelta(minutes=5)))

        # Deciding: request 4 weeks ago; the decision is due in 2 weeks.
        case_id, parent = new_case("Noah", "Brooks", f"{today.year - 9}-09-30", "Elm Park Primary School",
                                   "parent.brooks@example.com", "Kerry Brooks")
        noah = Journey(case_id, parent, "Elm Park Primary School")
        noah.start(day(28))
        noah.register(day(28, 11))
        noah.views_and_evidence(day(21), day(19), "Noah struggles to make friends and to follow what is said in class.")
        noah.panel(day(3))

        # Gathering advice: request 14 weeks ago; the school's advice, requested 7 weeks ago, is a week overdue.
        case_id, parent = new_case("Isla", "Ward", f"{today.year - 15}-03-15", "Oakwood Academy",
                                   "parent.ward@example.com", "Simone Ward")
        isla = Journey(case_id, parent, "Oakwood Academy")
        isla.start(day(98))
        isla.register(day(98, 11))
        isla.views_and_evidence(day(91), day(90), "Isla is anxious about school and has stopped going some days.")
        isla.panel(day(77))
        isla.do("UT_decide_assess", {"assess_decision": "assess"}, day(76))
        isla.do("UT_plan_advice", {"other_advisers": [{"name": "Priya Rao", "role": "Occupational therapist",
                                                       "requested_by": "family"}]}, day(75))
        request = {"advice_route": "new_request"}
        isla.do("UT_request_advice", request, day(49), key="education")
        isla.do("UT_request_advice", request, day(35), key="psychological")
        isla.do("UT_request_advice", request, day(30), key="health")
        isla.do("UT_request_advice", {"advice_route": "reuse_existing", "reuse_report_title": "Child in need "
                                      "assessment", "reuse_report_date": (today - timedelta(days=120)).isoformat(),
                                      "reuse_agreed_by": ["provider", "local_authority", "family"]}, day(30),
                key="social_care")
        isla.do("UT_request_advice", request, day(28), key="preparation_for_adulthood")
        isla.do("UT_request_advice", request, day(21), key="adviser_1")
        isla.do("UT_advice_ep", advice, day(6), key="psychological")

        # Decided not to assess: request 7 weeks ago, decided in week 5.
        case_id, parent = new_case("Ethan", "Clarke", f"{today.year - 10}-11-03", "Elm Park Primary School",
                                   "parent.clarke@example.com", "Marcus Clarke")
        ethan = Journey(case_id, parent, "Elm Park Primary School")
        ethan.start(day(49))
        ethan.register(day(49, 11))
        ethan.views_and_evidence(day(42), day(41), "Ethan finds maths hard.")
        ethan.panel(day(35), "not_assess")
        ethan.do("UT_decide_assess", {"assess_decision": "not_assess", "assess_decision_reasons":
                                      "Ethan is making good progress with the support his school gives him; his needs "
                                      "can be met through SEN support."}, day(34))

        # Decided to issue: request 15 weeks ago; the plan-drafting step is open, the final plan due in 5 weeks.
        case_id, parent = new_case("Ruby", "Singh", f"{today.year - 8}-07-19", "Elm Park Primary School",
                                   "parent.singh@example.com", "Anita Singh")
        ruby = Journey(case_id, parent, "Elm Park Primary School")
        ruby.start(day(105))
        ruby.register(day(105, 11))
        ruby.views_and_evidence(day(98), day(97), "Ruby has cerebral palsy and needs help with writing and moving.")
        ruby.panel(day(84))
        ruby.do("UT_decide_assess", {"assess_decision": "assess"}, day(83))
        ruby.do("UT_plan_advice", {"other_advisers": []}, day(82))
        for key in ("education", "psychological", "health", "social_care"):
            ruby.do("UT_request_advice", request, day(82, 11), key=key)
        for bpmn_id, key in (("UT_advice_school", "education"), ("UT_advice_ep", "psychological"),
                             ("UT_advice_health", "health"), ("UT_advice_social_care", "social_care")):
            ruby.do(bpmn_id, advice, day(45), key=key)
        ruby.do("UT_decide_issue", {"issue_decision": "issue"}, day(7))
        clock.set(now)
    finally:
        engine.clock, engine.script_engine = own_clock, own_scripts
    catch_up(engine)


seed_needs_assessment.process_id = "ehc_needs_assessment"  # type: ignore[attr-defined]
