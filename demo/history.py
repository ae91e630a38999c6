"""Finished work for Northshire over the eighteen months or so before the demo's today, so that the timeliness
reports have something to show: needs assessments from request to final plan (or to a decision not to assess),
then the first annual reviews of the older plans and a few amendments; some on time and some late, a few with a
timescale exception claimed.

Like every demo seeder, each case is driven through the real routes by the engine on a clock moved forward from
the past (demo.driver.Driver), never by writing rows: each assessment that decides to issue hands over to
plan drafting, which is taken to the final plan. The families of these cases can sign in (with addresses at
example.org) but are left out of the set-up command's list, which would otherwise be very long.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from demo.driver import DemoContext, Driver
from engine.people.roles import Role
from engine.runtime.workflow_engine import WorkflowEngine
from engine.statutory import calendar
from engine.store.models import Deadline, ProcessVersion


@dataclass(frozen=True)
class Request:
    """One past request for an assessment: days are counted from the day it was received."""

    first: str
    last: str
    age: int
    received_days_ago: int
    decided_after: int  # the decision whether to assess; after 42 days it is late
    plan_after: int | None = None  # the final plan; after 140 days (20 weeks) it is late; None: not assessed
    plan_exception: str | None = None  # a timescale exception claimed on the 20-week deadline
    decision_exception: str | None = None  # one claimed on the 6-week decision
    review_late: int | None = None  # the first review decided so many days after it was due (< 0: before)
    amendment: tuple[int, int] | None = None  # amendments proposed so many days ago, issued so many days later


PERSONAL = "exceptional_personal_circumstances"
AWAY = "absent_from_area"
CLOSED = "setting_closed"

# About half the plans within 20 weeks (the national figure is near 50%), one issued in each month or so of the last
# eighteen; most decisions whether to assess within 6 weeks.
REQUESTS = [
    Request("Poppy", "Hall", 7, 653, 35, 133, review_late=-20),
    Request("Arthur", "Lee", 9, 640, 38, 150, PERSONAL, review_late=30),
    Request("Evie", "Wood", 6, 621, 33, 161, review_late=-15),
    Request("Ivy", "Cooper", 8, 556, 36, 126, review_late=-25),
    Request("Oscar", "Ward", 11, 568, 49, 168, AWAY, PERSONAL, review_late=20),
    Request("Lily", "Morgan", 5, 507, 34, 137, review_late=-10),
    Request("Jack", "Harris", 12, 470, 40),
    Request("Harry", "Khan", 10, 492, 41, 147, review_late=-25),
    Request("George", "Allen", 9, 445, 37, 130, amendment=(200, 40)),
    Request("Freya", "King", 6, 445, 46, 155, CLOSED),
    Request("Leo", "Scott", 12, 399, 32, 139, amendment=(150, 70)),
    Request("Daisy", "Baker", 8, 388, 39, 158),
    Request("Sofia", "Young", 7, 350, 30),
    Request("Max", "Edwards", 10, 324, 35, 124, amendment=(100, 50)),
    Request("Alfie", "Bell", 11, 315, 36, 145, PERSONAL),
    Request("Isabella", "Clark", 7, 276, 30, 136),
    Request("Thomas", "Reid", 9, 262, 40, 152),
    Request("Emily", "Carter", 6, 209, 37, 129),
    Request("Samuel", "Lewis", 10, 215, 44, 160, PERSONAL),
    Request("Rosie", "Price", 7, 205, 44),
    Request("Ella", "Davies", 8, 156, 33, 131),
]

ADVICE = {"advice_given_by": "Named adviser", "advice_needs": "Difficulties with language and literacy.",
          "advice_provision": "Specialist teaching three times a week.",
          "advice_outcomes": "Reads and follows instructions in class."}
ADVICE_TASKS = ("UT_advice_school", "UT_advice_ep", "UT_advice_health", "UT_advice_social_care")


def _setting(age: int) -> str:
    return "Elm Park Primary School" if age < 11 else "Oakwood Academy"


class _History:
    """The demo routes' driver (its clock, days and cases), with each task done by the demo user who holds its role."""

    def __init__(self, engine: WorkflowEngine, ctx: DemoContext) -> None:
        self.driver = Driver(engine, ctx)

        user = self.user
        self.by_role = {Role.CASEWORKER.value: user("caseworker@northshire.example"),
                        Role.MANAGER.value: user("manager@northshire.example"),
                        Role.EDUCATIONAL_PSYCHOLOGIST.value: user("ep@northshire.example"),
                        Role.SOCIAL_CARE.value: user("socialcare@northshire.example"),
                        Role.HEALTH.value: user("dco@icb.example")}
        self.by_setting = {ctx.organisations["Elm Park Primary School"].id: user("senco@elmpark.example"),
                           ctx.organisations["Oakwood Academy"].id: user("senco@oakwood.example")}
        self.parents: dict[int, Any] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self.driver, name)

    def deployed(self, process_id: str) -> bool:
        with self.engine.session_factory() as session:
            return session.scalar(select(ProcessVersion.id).where(ProcessVersion.process_id == process_id,
                                                                  ProcessVersion.is_current.is_(True))) is not None

    def child(self, first: str, last: str, age: int) -> int:
        setting = _setting(age)
        email = f"{first}.{last}@example.org".lower()
        case_id = self.new_case("NSH", first, last, f"{self.today.year - age}-03-01", setting, email,
                                f"Alex {last}", listed=False)
        self.parents[case_id] = self.ctx.users[email]
        return case_id

    def act(self, case_id: int, bpmn_id: str, data: dict[str, Any], when: Any) -> None:
        """Does every open task of that step on the case (the advice requests are one step, several tasks)."""
        self.move(when)
        tasks = self.open_tasks(case_id, bpmn_id)
        if not tasks:
            raise LookupError(f"No open {bpmn_id} on case {case_id}")
        for task in tasks:
            if task.role == Role.FAMILY.value:
                who = self.parents[case_id]
            elif task.role == Role.SCHOOL.value:
                who = self.by_setting[task.organisation_id]
            else:
                who = self.by_role[task.role or ""]
            self.engine.complete_task(task.id, data, who)

    def act_if_open(self, case_id: int, bpmn_id: str, data: dict[str, Any], when: Any) -> None:
        self.move(when)
        if self.open_tasks(case_id, bpmn_id):
            self.act(case_id, bpmn_id, data, when)

    def claim(self, case_id: int, key: str, reason: str, when: Any) -> None:
        self.move(when)
        with self.engine.session_factory() as session:
            deadline_id = session.scalars(select(Deadline.id).where(Deadline.case_id == case_id, Deadline.key == key)
                                          .order_by(Deadline.id.desc())).first()
        self.engine.claim_exception(deadline_id, reason, "Letters and notes of calls with the family are on file.",
                                    self.clock.today(), self.user("caseworker@northshire.example"))


def _assessment(h: _History, r: Request) -> None:
    case_id = h.child(r.first, r.last, r.age)
    received = r.received_days_ago
    while calendar.statutory_start_date(h.day(received)) != h.today - timedelta(days=received):
        received += 1  # a weekend or a bank holiday: received on the working day before, so the clock starts then

    def at(after: int, hour: int = 10) -> Any:
        return h.day(received - after, hour)

    h.move(at(0))
    h.engine.start(case_id, "ehc_needs_assessment", {"requester_type": "parent", "requester_name": "",
                                                      "received_at": at(0).isoformat()},
                   h.user("caseworker@northshire.example"))
    h.act(case_id, "UT_register", {"has_setting": "yes", "assessed_in_last_six_months": "no"}, at(0, 11))
    h.act(case_id, "UT_family_views", {"family_views": f"{r.first} finds reading and writing very hard."}, at(7))
    h.act(case_id, "UT_setting_evidence", {
        "setting_attainment": "Working well below age-related expectations in reading and writing.",
        "setting_needs": "Cognition and learning; communication.",
        "setting_action_taken": "SEN support plan for three terms, reviewed each term.",
        "setting_over_and_above": "yes"}, at(9))
    panel = at(min(r.decided_after - 3, 40))
    h.act(case_id, "UT_panel_assess", {"panel_met_on": calendar.to_london_date(panel).isoformat(),
                                       "panel_recommendation": "assess" if r.plan_after else "not_assess",
                                       "panel_reasons": "Considered against section 36(8)."}, panel)
    if r.decided_after > 42:
        if r.decision_exception:
            h.claim(case_id, "decide_whether_to_assess", r.decision_exception, at(43))
        h.act(case_id, "UT_escalate_decide_assess", {"escalation_action": "Decision at the next panel."}, at(43, 11))
    if r.plan_after is None:
        h.act(case_id, "UT_decide_assess", {"assess_decision": "not_assess", "assess_decision_reasons":
                                            f"{r.first}'s needs can be met through SEN support at school."},
              at(r.decided_after))
        return
    h.act(case_id, "UT_decide_assess", {"assess_decision": "assess"}, at(r.decided_after))
    h.act(case_id, "UT_plan_advice", {"other_advisers": []}, at(r.decided_after + 1))
    h.act(case_id, "UT_request_advice", {"advice_route": "new_request"}, at(r.decided_after + 1, 11))
    for bpmn_id in ADVICE_TASKS:
        h.act(case_id, bpmn_id, ADVICE, at(r.decided_after + 30))
    # Before week 16, when a decision not to issue would be due. The assessment then hands over to plan drafting.
    decided = min(r.plan_after - 21, 105)
    h.act(case_id, "UT_decide_issue", {"issue_decision": "issue"}, at(decided))
    issued = at(r.plan_after)
    _draft_and_issue(h, case_id, r, at, decided)
    issued_on = calendar.to_london_date(issued)
    if r.review_late is not None and h.deployed("annual_review"):
        decided_on = calendar.add_months(issued_on, 12) + timedelta(days=r.review_late)
        _review(h, case_id, issued_on.isoformat(), (h.today - decided_on).days)
    if r.amendment is not None and h.deployed("plan_amendment"):
        _amendment(h, case_id, *r.amendment)


def _draft_and_issue(h: _History, case_id: int, r: Request, at: Callable[..., Any], decided: int) -> None:
    """The plan drafting route the decision to issue started, taken to the final plan on day ``r.plan_after``: the
    draft within days, the family's comments and a request to name the current school, the consultation, and the
    final plan (escalated at week 20 when it comes later)."""
    day = calendar.to_london_date
    h.act(case_id, "UT_health_provision", {"section_c": {"needs": []}, "section_g": {"provision": []}},
          at(decided + 1))
    h.act(case_id, "UT_social_care_provision", {"section_d": {"needs": []}, "section_h1": {"provision": []},
                                                "section_h2": {"provision": []}}, at(decided + 1, 11))
    h.act(case_id, "UT_draft_plan", {
        "section_a": {"views": f"{r.first} likes drawing and football, and wants to read chapter books.",
                      "aspirations": "To be a vet"},
        "section_b": {"needs": [{"area": "cognition_and_learning",
                                 "description": "Reading and spelling well below age-related expectations"}]},
        "section_e": {"outcomes": [{"description": "Reads a book for their age with support",
                                    "by_when": "July, end of the key stage", "needs": ["B1"]}]},
        "section_f": {"provision": [{"description": "Structured phonics programme, one to one",
                                     "amount": "4 sessions of 20 minutes a week",
                                     "provided_by": "Trained teaching assistant", "needs": ["B1"]}]}},
          at(decided + 2))
    h.act(case_id, "UT_serve_draft", {"served_on": day(at(decided + 2, 11)).isoformat(), "service_method": "email",
                                      "settings_information": "The Northshire Local Offer lists every school."},
          at(decided + 2, 11))
    school = h.ctx.organisations[_setting(r.age)].id
    h.act(case_id, "UT_family_response", {"representations": "We agree with the draft.", "wants_meeting": False,
                                          "request_setting": True, "requested_setting_id": school,
                                          "request_personal_budget": False, "no_further_comments": True},
          at(decided + 4))
    h.act_if_open(case_id, "UT_consider_representations", {"representations_response": "Noted, thank you.",
                                                           "changes_agreed": False}, at(decided + 5))
    h.act(case_id, "UT_send_consultation", {"consultation_sent_on": day(at(decided + 6)).isoformat(),
                                            "consult_other_la": False}, at(decided + 6))
    h.act(case_id, "UT_setting_response", {"setting_can_meet_needs": "yes",
                                           "setting_response": "We can meet the needs in section F."},
          at(decided + 8))
    h.act(case_id, "UT_decide_requested_setting", {"name_requested_setting": True}, at(decided + 9))
    if r.plan_after > 140:
        if r.plan_exception:
            h.claim(case_id, "final_plan_20w", r.plan_exception, at(141))
        h.act(case_id, "UT_final_plan_overdue", {"overdue_reason": "The last changes to the draft took longer.",
                                                 "expected_issue_date": day(at(r.plan_after)).isoformat(),
                                                 "family_told_on": day(at(141)).isoformat()}, at(141, 11))
    h.act(case_id, "UT_issue_final_plan", {"sections_checked": True, "covering_note": "Thank you."},
          at(r.plan_after))


def _review(h: _History, case_id: int, issued_on: str, decided: int) -> None:
    """The plan's first annual review, begun nine weeks before it was decided, so many days ago."""
    begun = decided + 63
    h.move(h.day(begun))
    h.engine.start(case_id, "annual_review", {}, h.user("caseworker@northshire.example"))
    h.act(case_id, "UT_setup", {"review_kind": "annual", "arranged_by": "setting",
                                "last_review_on": issued_on}, h.day(begun, 11))
    meeting = decided + 21
    h.act(case_id, "UT_arrange_setting", {"meeting_place": "At school, SENCO's office", "meeting_time": "15:30",
                                          "meeting_date": h.iso(meeting)}, h.day(begun - 2))
    h.act(case_id, "UT_family_views", {"family_views": "Things are going better this year."}, h.day(meeting + 21))
    h.act(case_id, "UT_setting_advice", {"setting_outcomes_progress": "Good progress towards most outcomes.",
                                         "setting_provision_made": "All of section F, every week."},
          h.day(meeting + 20))
    h.act(case_id, "UT_health_advice", {"health_advice": "No change in health needs.", "health_needs_changed": False},
          h.day(meeting + 19))
    h.act(case_id, "UT_social_care_advice", {"social_care_advice": "No social care involvement.",
                                             "social_care_needs_changed": False}, h.day(meeting + 18))
    h.act(case_id, "UT_meeting_setting", {
        "meeting_held_on": h.iso(meeting), "attended_family": True, "attended_setting": True, "attended_la": True,
        "child_views": "Likes school more now.", "outcomes_progress": "On track for the outcomes.",
        "outcomes_still_appropriate": "yes", "personal_budget": "none",
        "pfa_discussion": "Hopes for the future talked through with the child and family."}, h.day(meeting, 17))
    h.act(case_id, "UT_report_setting", {"report_recommendation": "keep", "report_summary": "A good year."},
          h.day(meeting - 7))
    h.act_if_open(case_id, "UT_review_late", {"overdue_reason": "The school could not arrange the meeting sooner",
                                              "action_taken": "Held now"}, h.day(decided, 9))
    h.act(case_id, "UT_decide", {"review_decision": "keep", "decision_reasons": "The plan still meets the needs."},
          h.day(decided))


def _amendment(h: _History, case_id: int, sent: int, finalised_after: int) -> None:
    h.move(h.day(sent))
    h.engine.start(case_id, "plan_amendment", {}, h.user("caseworker@northshire.example"))
    h.act(case_id, "UT_propose", {
        "amendment_reason": "needs_changed", "amendments_summary": "More speech and language therapy.",
        "proposed_changes": {"section_f": {"provision": [
            {"description": "Speech and language therapy", "amount": "Twice weekly, 30 minutes",
             "provided_by": "Speech and language therapist", "needs": ["B1"]}]}},
        "evidence_list": "Speech and language therapy report."}, h.day(sent, 11))
    h.act(case_id, "UT_family_response", {"agrees_with_changes": "yes", "wants_meeting": False,
                                          "request_setting": False, "no_further_comments": True,
                                          "family_representations": ""}, h.day(sent - 7))
    done = sent - finalised_after
    h.act_if_open(case_id, "UT_finalise_late", {"overdue_reason": "Waiting for the therapist's report",
                                                "action_taken": "Chased"}, h.day(done, 9))
    h.act(case_id, "UT_finalise", {"amendment_decision": "amend", "final_summary": "Therapy twice a week.",
                                   "representations_considered": "The family agreed."}, h.day(done))


def seed_history(engine: WorkflowEngine, ctx: DemoContext) -> None:
    """Twenty-one requests for an assessment received 5 to 22 months ago, all decided; the plans issued, seven of
    them reviewed a year on and three amended (REQUESTS)."""
    h = _History(engine, ctx)
    try:
        for request in REQUESTS:
            _assessment(h, request)
    finally:
        h.restore()


seed_history.process_id = "ehc_needs_assessment"  # type: ignore[attr-defined]
