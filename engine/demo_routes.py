"""Demo cases part-way through each route, so that every stage can be seen in the UI.

Each route adds a seeder here: a function (engine, ctx) -> None that starts its route on demo cases and drives it
through the engine (never by writing rows directly), so the demo shows exactly what real use produces.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from engine.demo_history import HISTORY_SEEDERS

if TYPE_CHECKING:
    from engine.demo import DemoContext
    from engine.runtime import WorkflowEngine

Seeder = Callable[["WorkflowEngine", "DemoContext"], None]

SEEDERS: list[Seeder] = []


def seed_routes(engine: WorkflowEngine, ctx: DemoContext) -> None:
    deployed = set()
    from sqlalchemy import select

    from engine.models import ProcessVersion

    with engine.session_factory() as session:
        deployed = set(session.scalars(select(ProcessVersion.process_id).where(ProcessVersion.is_current.is_(True))))
    for seeder in SEEDERS:
        needs = getattr(seeder, "process_id", None)
        if needs is None or needs in deployed:
            seeder(engine, ctx)


# ---- EHC plan drafting: a case taken from "decided to issue" to a final plan, with every version kept --------------

def seed_plan_drafting(engine: WorkflowEngine, ctx: DemoContext) -> None:
    """Leo Hughes (Year 9, Oakwood Academy, Northshire): draft 1, the family's comments and a request to name
    Oakwood, a personal budget, draft 2 with the agreed changes, the consultation, and the final plan."""
    from datetime import timedelta

    from engine.models import CaseParty, HumanTask
    from engine.roles import Role
    from engine.users import create_user

    nsh, oakwood = ctx.organisations["NSH"], ctx.organisations["Oakwood Academy"]
    with engine.session_factory() as session:
        parent = create_user(session, "parent.hughes@example.com", "Dana Hughes", _demo_password(), engine.clock,
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
            from sqlalchemy import select

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


def _demo_password() -> str:
    from engine.demo import DEMO_PASSWORD

    return DEMO_PASSWORD


seed_plan_drafting.process_id = "ehc_plan_drafting"  # type: ignore[attr-defined]
SEEDERS.append(seed_plan_drafting)


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
    from datetime import UTC, datetime, time, timedelta
    from uuid import UUID

    from sqlalchemy import select

    from engine import calendar
    from engine.clock import FrozenClock
    from engine.demo import DEMO_PASSWORD
    from engine.models import CaseParty, HumanTask, ProcessInstance
    from engine.roles import Role
    from engine.sandbox import make_script_engine
    from engine.script_functions import script_globals
    from engine.users import create_user

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
    _catch_up(engine)


seed_needs_assessment.process_id = "ehc_needs_assessment"  # type: ignore[attr-defined]
SEEDERS.append(seed_needs_assessment)


# ---- Transfer between authorities, and disagreement resolution (workflows/plan_transfer.bpmn and friends) ---------

if TYPE_CHECKING:
    from datetime import datetime
    from typing import Any


def _catch_up(engine: WorkflowEngine) -> None:
    """Fires everything that fell due while a seeder's clock ran in the past, batch after batch, as the timer worker
    does after downtime (a single batch would leave the rest waiting for the worker's first pass)."""
    while engine.fire_due_timers():
        pass


class _Driver:
    """Drives this section's demo cases through the engine on a clock that starts in the past and moves forward.

    A FrozenClock stands in for the engine's clock (and the scripts' today()) while seeding; each step moves it and
    does the timer worker's work first. Used by seed_plan_transfer and seed_disagreements.
    """

    def __init__(self, engine: WorkflowEngine, ctx: DemoContext) -> None:
        from engine import calendar
        from engine.clock import FrozenClock
        from engine.sandbox import make_script_engine
        from engine.script_functions import script_globals

        self.engine, self.ctx = engine, ctx
        self.own_clock, self.own_scripts = engine.clock, engine.script_engine
        self.now = self.own_clock.now()
        self.today = calendar.to_london_date(self.now)
        self.clock = FrozenClock(self.now)
        engine.clock, engine.script_engine = self.clock, make_script_engine(script_globals(self.clock))

    def restore(self) -> None:
        self.clock.set(self.now)
        self.engine.clock, self.engine.script_engine = self.own_clock, self.own_scripts
        _catch_up(self.engine)

    def day(self, days_ago: int, hour: int = 10) -> Any:
        """10:00 in England, so many days before today (never after now)."""
        from datetime import UTC, datetime, time, timedelta

        from engine import calendar

        local = datetime.combine(self.today - timedelta(days=days_ago), time(hour), tzinfo=calendar.LONDON)
        return min(local.astimezone(UTC), self.now)

    def iso(self, days_ago: int) -> str:
        from datetime import timedelta

        return (self.today - timedelta(days=days_ago)).isoformat()

    def move(self, when: Any) -> None:
        self.clock.set(when)
        while self.engine.fire_due_timers():
            pass

    def user(self, email: str) -> Any:
        return self.ctx.users[email]

    def new_case(self, la_code: str, first: str, last: str, born: str, setting: str, email: str,
                 parent_name: str, listed: bool = True) -> int:
        """A case with its family, health body, setting and mediation service; ``listed`` puts the family's sign-in
        in the set-up command's list."""
        from engine.demo import DEMO_PASSWORD
        from engine.models import CaseParty
        from engine.roles import Role
        from engine.users import create_user

        with self.engine.session_factory() as session:
            parent = create_user(session, email, parent_name, DEMO_PASSWORD, self.own_clock, [(None, Role.FAMILY)])
            case = self.engine.open_case(session, self.ctx.organisations[la_code].id, first, last, born)
            for role, org in (("health_body", self.ctx.organisations["ICB"]),
                              ("setting", self.ctx.organisations[setting]),
                              ("mediation_service", self.ctx.organisations["MED"])):
                session.add(CaseParty(case_id=case.id, role=role, organisation_id=org.id))
            session.add(CaseParty(case_id=case.id, role="family", user_id=parent.id, relationship_to_child="mother"))
            session.commit()
            case_id = case.id
        self.ctx.cases[f"{first} {last}"] = case_id
        self.ctx.users[email] = parent
        if listed:
            self.ctx.credentials.append((email, Role.FAMILY.label, f"{first} {last}'s family"))
        return case_id

    def do(self, case_id: int, bpmn_id: str, data: dict[str, Any], who: Any, when: Any) -> None:
        self.move(when)
        (task,) = self.open_tasks(case_id, bpmn_id)
        self.engine.complete_task(task.id, data, who)

    def open_tasks(self, case_id: int, bpmn_id: str) -> list[Any]:
        from sqlalchemy import select

        from engine.models import HumanTask

        with self.engine.session_factory() as session:
            return list(session.scalars(select(HumanTask).where(
                HumanTask.case_id == case_id, HumanTask.bpmn_id == bpmn_id, HumanTask.status == "open")
                .order_by(HumanTask.id)))

    def tell(self, case_id: int, name: str, payload: dict[str, Any], when: Any) -> int:
        """Sends a message to the case (the notice of an appealable decision starts the disagreement route)."""
        self.move(when)
        return self.engine.send_message(case_id, name, payload, self.user("caseworker@northshire.example"))


def _route_documents_known() -> bool:
    """Whether engine.documents knows this section's notices (it loads the routes' own templates on demand)."""
    import logging

    from engine import documents, transfer

    documents.load_route_documents()
    known = set(transfer.DOCUMENTS) <= set(documents.TEMPLATES)
    if not known:
        # Every step that sends a notice would fail: leave the demo without these cases rather than half of them.
        logging.getLogger(__name__).warning("transfer and disagreement demo skipped: engine.documents does not know "
                                            "their notices")
    return known


def _give_plan(driver: _Driver, case_id: int, setting: str, issued_days_ago: int) -> None:
    """A plan in force, made with the plan functions plan drafting uses (its own demo shows the drafting)."""
    from engine import plans

    sections = {
        "section_a": {"views": "Enjoys football and drawing; wants to be a PE teacher.", "interests": "Football",
                      "aspirations": "To go to college"},
        "section_b": {"needs": [{"area": "communication_and_interaction",
                                 "description": "Speech sound disorder: hard to understand outside the family"}]},
        "section_e": {"outcomes": [{"description": "Is understood by adults and children in school",
                                    "by_when": "July 2027", "needs": ["B1"]}]},
        "section_f": {"provision": [{"description": "Speech and language therapy programme",
                                     "amount": "2 sessions of 30 minutes a week", "provided_by": "Specialist teacher",
                                     "needs": ["B1"]}]},
    }
    advice = [{"provider": "Dr Eleanor Park", "kind": "psychological", "title": "Psychological advice",
               "received_on": driver.iso(issued_days_ago + 60)},
              {"provider": "Northshire speech and language therapy", "kind": "medical", "title": "Medical advice",
               "received_on": driver.iso(issued_days_ago + 55)}]
    moment = driver.day(issued_days_ago)
    with driver.engine.session_factory() as session:
        plans.create_draft(session, case_id, sections, now=moment, advice=advice)
        plans.issue_plan(session, case_id, "final",
                         {"I": plans.describe_setting(session, driver.ctx.organisations[setting].id)}, now=moment)
        session.commit()


def seed_plan_transfer(engine: WorkflowEngine, ctx: DemoContext) -> None:
    """Two families moving from Northshire to Southborough (both use EHC Flow):

    - Oliver Bennett: the move is in 3 weeks; Northshire has recorded it and prepared the transfer, and the case
      moves to Southborough at the start of the day of the move (Northshire's staff still see it until then).
    - Grace Lee: moved 2 weeks ago; the case is Southborough's, whose 6-week notice to the family is open, and the
      health body has told... itself (one ICB covers both areas in the demo, so the health body does not change).
    """
    if not _route_documents_known():
        return
    driver = _Driver(engine, ctx)
    try:
        caseworker = driver.user("caseworker@northshire.example")
        sbh = ctx.organisations["SBH"]
        oliver = driver.new_case("NSH", "Oliver", "Bennett", f"{driver.today.year - 9}-04-22",
                                 "Elm Park Primary School", "laura.bennett@example.com", "Laura Bennett")
        _give_plan(driver, oliver, "Elm Park Primary School", 300)
        driver.move(driver.day(3))
        engine.start(oliver, "plan_transfer", actor=caseworker)
        driver.do(oliver, "UT_record_move", {"move_date": driver.iso(-21), "aware_date": driver.iso(3),
                                             "new_la_id": sbh.id, "health_body_changes": "no",
                                             "new_address": "14 Harbour Row, Southborough",
                                             "notes_for_new_la": "Oliver has speech therapy on Tuesdays."},
                  caseworker, driver.day(3, 11))
        driver.do(oliver, "UT_prepare_transfer", {"plan_and_advice_checked": True,
                                                  "interim_arrangements": "Speech therapy continues by video until "
                                                                          "Southborough arranges it locally."},
                  caseworker, driver.day(1))

        grace = driver.new_case("NSH", "Grace", "Lee", f"{driver.today.year - 12}-10-09", "Oakwood Academy",
                                "parent.lee@example.com", "Mei Lee")
        _give_plan(driver, grace, "Oakwood Academy", 200)
        driver.move(driver.day(30))
        engine.start(grace, "plan_transfer", actor=caseworker)
        driver.do(grace, "UT_record_move", {"move_date": driver.iso(14), "aware_date": driver.iso(30),
                                            "new_la_id": sbh.id, "health_body_changes": "no"},
                  caseworker, driver.day(30, 11))
        driver.do(grace, "UT_prepare_transfer", {"plan_and_advice_checked": True}, caseworker, driver.day(20))
        driver.move(driver.day(0, 9))  # the case moved 14 days ago, at the start of the day of the move
    finally:
        driver.restore()


seed_plan_transfer.process_id = "plan_transfer"  # type: ignore[attr-defined]
SEEDERS.append(seed_plan_transfer)


def seed_disagreements(engine: WorkflowEngine, ctx: DemoContext) -> None:
    """Northshire families at each stage of a disagreement:

    - Harry Wilson: a decision not to assess was sent 10 days ago; the mediation adviser waits to hear from them;
    - Sophie Turner: wants mediation; Northshire is arranging it (30 days from being told);
    - Jacob Hill: mediation held, certificate issued; the appeal window is open;
    - Amelia King: appealed; Northshire's response to the tribunal is due (30 tribunal working days);
    - Lucas Wright: the tribunal ordered the plan to be amended and made a health recommendation: the amended plan is
      due in 5 weeks and the health body's response too;
    - Chloe Baker: a complaint about children's social care, with an independent person, answer due in 28 days.
    """
    if not _route_documents_known():
        return
    driver = _Driver(engine, ctx)
    try:
        caseworker = driver.user("caseworker@northshire.example")
        adviser = driver.user("adviser@mediation.example")
        social_care = driver.user("socialcare@northshire.example")
        contact = {"wants_mediation": "no"}

        def new(first: str, last: str, years: int) -> int:
            return driver.new_case("NSH", first, last, f"{driver.today.year - years}-01-15", "Elm Park Primary School",
                                   f"parent.{last.lower()}@example.com", f"Sam {last}")

        harry = new("Harry", "Wilson", 7)
        driver.tell(harry, "appealable_decision_notified", {"decision": "refuse_assess",
                                                            "notice_sent_on": driver.iso(10)}, driver.day(10))

        sophie = new("Sophie", "Turner", 8)
        driver.tell(sophie, "appealable_decision_notified", {"decision": "refuse_issue",
                                                             "notice_sent_on": driver.iso(40)}, driver.day(40))
        driver.do(sophie, "UT_adviser_contact", {"contacted_on": driver.iso(6), "wants_mediation": "yes",
                                                 "mediation_issues": "Whether Sophie needs an EHC plan",
                                                 "health_issues": "no", "social_care_issues": "no"},
                  adviser, driver.day(5))

        jacob = new("Jacob", "Hill", 10)
        driver.tell(jacob, "appealable_decision_notified", {"decision": "final_plan", "sections": ["B", "F"],
                                                            "notice_sent_on": driver.iso(50)}, driver.day(50))
        driver.do(jacob, "UT_adviser_contact", {"contacted_on": driver.iso(45), "wants_mediation": "yes",
                                                "mediation_issues": "The speech therapy in section F",
                                                "health_issues": "yes", "health_provision_sought": "Weekly therapy",
                                                "social_care_issues": "no"}, adviser, driver.day(45))
        driver.do(jacob, "UT_arrange_mediation", {"mediator_name": "Ruth Okoye", "mediation_on": driver.iso(25),
                                                  "attending_for_la": "Morgan Price, SEN manager",
                                                  "invite_health": "yes", "invite_social_care": "no"},
                  caseworker, driver.day(40))
        driver.do(jacob, "UT_health_attendance", {"attendee_name": "Dr Harriet Ng", "can_agree_provision": "yes"},
                  driver.user("dco@icb.example"), driver.day(30))
        driver.do(jacob, "UT_mediation_outcome", {"held_on": driver.iso(25), "agreement_reached": "no"}, adviser,
                  driver.day(25, 16))
        driver.do(jacob, "UT_certificate_after_mediation", {"certificate_reference": "NMS-2041"}, adviser,
                  driver.day(24))

        amelia = new("Amelia", "King", 11)
        driver.tell(amelia, "appealable_decision_notified", {"decision": "cease", "notice_sent_on": driver.iso(60)},
                    driver.day(60))
        driver.do(amelia, "UT_adviser_contact", {"contacted_on": driver.iso(55), **contact}, adviser, driver.day(55))
        driver.do(amelia, "UT_certificate_no_mediation", {}, adviser, driver.day(54))
        driver.do(amelia, "UT_record_appeal", {"registered_on": driver.iso(22), "sent_to_la_on": driver.iso(21),
                                               "section_i_only": "no", "tribunal_reference": "EH825/26/00311"},
                  caseworker, driver.day(21))

        lucas = new("Lucas", "Wright", 13)
        driver.tell(lucas, "appealable_decision_notified", {"decision": "amended_plan", "sections": ["F", "I"],
                                                            "notice_sent_on": driver.iso(200)}, driver.day(200))
        driver.do(lucas, "UT_adviser_contact", {"contacted_on": driver.iso(190), **contact}, adviser,
                  driver.day(190))
        driver.do(lucas, "UT_certificate_no_mediation", {}, adviser, driver.day(189))
        driver.do(lucas, "UT_record_appeal", {"registered_on": driver.iso(170), "sent_to_la_on": driver.iso(168),
                                              "section_i_only": "no"}, caseworker, driver.day(168))
        driver.do(lucas, "UT_la_response", {"la_position": "oppose",
                                            "response_summary": "The provision in section F meets Lucas's needs."},
                  caseworker, driver.day(140))
        driver.do(lucas, "UT_record_hearing", {"hearing_on": driver.iso(20), "on_the_papers": "no"}, caseworker,
                  driver.day(20))
        driver.do(lucas, "UT_record_decision", {
            "decision_received_on": driver.iso(8), "appeal_outcome": "partly_allowed", "order_kind": "amend",
            "order_date": driver.iso(9), "order_summary": "Section F to specify 1 hour of occupational therapy a week",
            "health_recommendations": "yes", "health_recommendation_text": "An occupational therapy assessment",
            "social_care_recommendations": "no"}, caseworker, driver.day(8))

        chloe = new("Chloe", "Baker", 9)
        driver.move(driver.day(12))
        engine.start(chloe, "complaint", actor=caseworker)
        driver.do(chloe, "UT_record_complaint", {
            "received_on": driver.iso(12), "complainant": "parent", "complainant_name": "Sam Baker",
            "complainant_aged_18_or_over": "no", "about": "childrens_social_care",
            "complaint_summary": "Short breaks were stopped without a reassessment."}, caseworker, driver.day(12, 11))
        driver.do(chloe, "UT_appoint_independent_person", {"independent_person": "Pat Doyle",
                                                           "appointed_on": driver.iso(10)}, social_care, driver.day(10))
    finally:
        driver.restore()


seed_disagreements.process_id = "disagreement_resolution"  # type: ignore[attr-defined]
SEEDERS.append(seed_disagreements)


def _plan_issued(engine: WorkflowEngine, case_id: int, setting_id: int, when: datetime) -> None:
    """What plan drafting records when it issues a final plan: the plan version, and the annual_review deadline 12
    months on (its opensDeadline), without replaying the route."""
    from datetime import timedelta

    from engine import calendar, plans
    from engine.models import Deadline

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
        plans.issue_plan(session, case_id, "final", {"I": plans.describe_setting(session, setting_id)}, now=when)
        session.add(Deadline(case_id=case_id, key="annual_review", process_id="ehc_plan_drafting",
                             name="First review of the EHC plan (within 12 months of issue)",
                             due_date=calendar.add_months(issued_on, 12), started_on=issued_on, status="open"))
        session.commit()


# ---- Reviews, amendment, re-assessment and ceasing: a case at each stage (workflows/annual_review.bpmn & co) -------

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
    from datetime import UTC, date, datetime, time, timedelta

    from sqlalchemy import select

    from engine import calendar
    from engine.clock import FrozenClock
    from engine.demo import DEMO_PASSWORD
    from engine.models import CaseParty, HumanTask
    from engine.roles import Role
    from engine.sandbox import make_script_engine
    from engine.script_functions import script_globals
    from engine.users import create_user

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
    _catch_up(engine)


seed_reviews.process_id = "annual_review"  # type: ignore[attr-defined]
SEEDERS.append(seed_reviews)


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
    from datetime import timedelta

    from engine.errors import InstanceFailed

    driver = _Driver(engine, ctx)
    try:
        caseworker = driver.user("caseworker@northshire.example")
        zara = driver.new_case("NSH", "Zara", "Ahmed", f"{driver.today.year - 9}-05-21", "Elm Park Primary School",
                               "parent.ahmed@example.com", "Farah Ahmed")
        _give_plan(driver, zara, "Elm Park Primary School", 330)
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
        _give_plan(driver, kai, "Meadowbank School", 380)
        driver.move(driver.day(75))
        engine.start(kai, "annual_review", {}, caseworker)
        driver.do(kai, "UT_setup", {"review_kind": "annual", "arranged_by": "setting",
                                    "last_review_on": driver.iso(380)}, caseworker, driver.day(75, 11))
    finally:
        driver.restore()


seed_admin_cases.process_id = "annual_review"  # type: ignore[attr-defined]
SEEDERS.append(seed_admin_cases)


# After the cases in progress: the finished work of the last eighteen months (engine/demo_history.py).
SEEDERS.extend(HISTORY_SEEDERS)
