"""Scenario tests for workflows/ehc_needs_assessment.bpmn (with ehc_advice_request.bpmn and
ehc_no_plan_notice_watch.bpmn, which it calls): every path, with the statutory dates worked out by hand.

Every step goes through the engine, one transaction per command (load the state, run, save), and after every step
the saved state is restored with ``engine.load_workflow`` and serialized again, which must give the same state.
The same restored state feeds the flow coverage printed at the end of the run.

The calendar (worked out by hand, not by the code under test):

- 2026: British Summer Time from Sunday 29 March to Sunday 25 October. Bank holidays: Good Friday 3 April, Easter
  Monday 6 April, 4 May, 25 May, 31 August, Christmas Day Friday 25 December, Boxing Day Saturday 26 December with
  its substitute on Monday 28 December. 2027: New Year's Day Friday 1 January.
- "6 weeks" = 42 calendar days, "16 weeks" = 112, "20 weeks" = 140: bank holidays do not move them.
- A deadline "on" a day is over at midnight in England at the end of that day: 00:00 UTC in winter, 23:00 UTC the
  day before in summer. That is when its timer fires.
- A request received on a working day before 17:00 in England starts the clock that day; otherwise on the next
  working day.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from sqlalchemy import select

from engine.casework.documents import DocumentError, documents_for_case, render
from engine.library.registry import ProcessRegistry
from engine.people.roles import Role
from engine.people.users import create_user
from engine.runtime.services import Services
from engine.store.models import AuditEvent, Case, CaseParty, Deadline, Document, HumanTask, ProcessInstance, Timer
from tests.conftest import PASSWORD, World
from tests.workflows import flow_coverage

ROOT = Path(__file__).resolve().parents[2]
PROCESS = "ehc_needs_assessment"
FILES = [ROOT / "workflows" / name for name in
         ("ehc_needs_assessment.bpmn", "ehc_advice_request.bpmn", "ehc_no_plan_notice_watch.bpmn")]
COVERAGE = flow_coverage.register(PROCESS, FILES)
PLAN_DRAFTING = ROOT / "workflows" / "ehc_plan_drafting.bpmn"  # started by the decision to issue

# Who does the tasks of each role in the `world` fixture.
ACTOR_FOR_ROLE = {
    Role.CASEWORKER.value: "caseworker", Role.MANAGER.value: "manager", Role.FAMILY.value: "parent",
    Role.SCHOOL.value: "school", Role.EDUCATIONAL_PSYCHOLOGIST.value: "ep", Role.HEALTH.value: "health",
    Role.SOCIAL_CARE.value: "socialcare",
}

VIEWS = {"family_views": "Alex finds reading hard and gets upset at school.",
         "family_requested_advisers": [{"name": "Sam Speech", "role": "Speech and language therapist",
                                        "organisation": "Testshire NHS Trust", "reason": "Sees Alex weekly"}]}
EVIDENCE = {"setting_attainment": "Working well below age-related expectations.",
            "setting_needs": "Communication and literacy.", "setting_action_taken": "Two years of SEN support.",
            "setting_over_and_above": "yes"}
PANEL_ASSESS = {"panel_met_on": "2026-03-16", "panel_recommendation": "assess", "panel_reasons": "Meets the test."}
ADVICE = {"advice_given_by": "A. Adviser, specialist", "advice_needs": "Language processing.",
          "advice_provision": "Weekly therapy.", "advice_outcomes": "Follows two-step instructions."}
NEW_REQUEST = {"advice_route": "new_request"}
STANDARD_KEYS = ("education", "psychological", "health", "social_care")
ROUTE_TEMPLATES = ("decline_recent_assessment", "considering_assessment", "partner_notification",
                   "decision_not_to_assess", "decision_to_assess", "advice_request", "advice_reminder",
                   "advice_reuse_agreement", "decision_not_to_issue", "decision_to_issue", "request_withdrawn",
                   "assessment_ended_moved")


def utc(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


class Route:
    """Drives one needs assessment through the engine and checks the saved state after every step."""

    def __init__(self, services: Services, world: World, test: str) -> None:
        self.services = services
        self.engine = services.engine
        self.clock = services.engine.clock
        self.world = world
        self.users = world.users
        self.test = test
        self.case_id = world.case_id
        self.instance_id: int | None = None

    # ---- cases -------------------------------------------------------------------------------------------------
    def new_case(self, first: str, last: str, date_of_birth: str, *, setting: bool = True,
                 young_person: bool = False) -> int:
        with self.services.session_factory() as s:
            case = self.engine.open_case(s, self.world.la.id, first, last, date_of_birth)
            s.add(CaseParty(case_id=case.id, role="health_body", organisation_id=self.world.health.id))
            s.add(CaseParty(case_id=case.id, role="mediation_service", organisation_id=self.world.mediation.id))
            if setting:
                s.add(CaseParty(case_id=case.id, role="setting", organisation_id=self.world.school.id))
            if young_person:
                person = create_user(s, f"{first.lower()}@test.example", f"{first} {last}", PASSWORD,
                                     self.clock, [(None, Role.FAMILY)])
                s.add(CaseParty(case_id=case.id, role="family", user_id=person.id,
                                relationship_to_child="young person"))
                self.users[f"family:{case.id}"] = person
            else:
                s.add(CaseParty(case_id=case.id, role="family", user_id=self.users["parent"].id,
                                relationship_to_child="mother"))
            s.commit()
            self.case_id = case.id
            return case.id

    # ---- commands ----------------------------------------------------------------------------------------------
    def start(self, received_at: datetime, requester_type: str = "parent", when: datetime | None = None) -> None:
        self.clock.set(when or received_at)
        self.instance_id = self.engine.start(
            self.case_id, PROCESS, {"requester_type": requester_type, "requester_name": "Jo Taylor",
                                    "received_at": received_at.isoformat()}, self.users["caseworker"])
        self.check()

    def at(self, when: datetime) -> None:
        """Moves the clock and lets the timer worker fire whatever is due."""
        self.clock.set(when)
        while self.engine.fire_due_timers():
            pass
        self.check()

    def complete(self, bpmn_id: str, data: dict[str, Any], when: datetime | None = None,
                 key: str | None = None) -> None:
        if when is not None:
            self.at(when)
        task = self.task(bpmn_id, key)
        actor = self.users.get(f"family:{self.case_id}") if task.role == Role.FAMILY.value else None
        self.engine.complete_task(task.id, data, actor or self.users[ACTOR_FOR_ROLE[task.role or ""]])
        self.check()

    def message(self, name: str, payload: dict[str, Any], when: datetime) -> None:
        self.at(when)
        assert self.engine.send_message(self.case_id, name, payload, self.users["caseworker"]) == self.instance_id
        self.check()

    def claim_exception(self, key: str, reason: str, family_told_on: str) -> None:
        self.engine.claim_exception(self.deadline(key).id, reason, "Evidence is on file.", family_told_on,
                                    self.users["caseworker"])

    # ---- reading -----------------------------------------------------------------------------------------------
    def instance(self) -> ProcessInstance:
        with self.services.session_factory() as s:
            instance = s.get(ProcessInstance, self.instance_id)
            assert instance is not None
            return instance

    def workflow(self) -> Any:
        """The instance's saved state, restored (as every engine command does)."""
        with self.services.session_factory() as s:
            instance = s.get(ProcessInstance, self.instance_id)
            assert instance is not None
            assert instance.status != "failed", instance.last_error
            wf = self.engine.load_workflow(instance)
            # The same state once restored (the order of the call activities' entries may differ: JSON objects).
            assert json.loads(self.engine.serializer.dumps(wf)) == json.loads(instance.state)
            return wf

    def check(self) -> None:
        """The saved state restores and serializes to the same document; records the flow coverage."""
        COVERAGE.record(self.workflow(), self.test)

    def _key_of(self, task: HumanTask) -> str | None:
        spiff = self.workflow().get_task_from_id(UUID(task.task_guid))
        request = spiff.data.get("advice_request") if spiff is not None else None
        return request.get("key") if isinstance(request, dict) else None

    def open_tasks(self) -> list[HumanTask]:
        with self.services.session_factory() as s:
            return list(s.scalars(select(HumanTask).where(HumanTask.instance_id == self.instance_id,
                                                          HumanTask.status == "open").order_by(HumanTask.id)))

    def open(self) -> list[str]:
        """The open tasks as 'bpmn_id' or 'bpmn_id:advice key' for tasks of an advice request, sorted."""
        names = []
        for task in self.open_tasks():
            key = self._key_of(task) if task.process_id == "ehc_advice_request" else None
            names.append(f"{task.bpmn_id}:{key}" if key else task.bpmn_id)
        return sorted(names)

    def drafting(self) -> ProcessInstance:
        """The plan drafting route the decision to issue started on the case."""
        with self.services.session_factory() as s:
            return s.scalars(select(ProcessInstance).where(ProcessInstance.case_id == self.case_id,
                                                           ProcessInstance.process_id == "ehc_plan_drafting")).one()

    def drafting_open(self) -> list[str]:
        with self.services.session_factory() as s:
            return sorted(s.scalars(select(HumanTask.bpmn_id).where(HumanTask.instance_id == self.drafting().id,
                                                                    HumanTask.status == "open")))

    def task(self, bpmn_id: str, key: str | None = None) -> HumanTask:
        found = [t for t in self.open_tasks() if t.bpmn_id == bpmn_id and (key is None or self._key_of(t) == key)]
        assert len(found) == 1, f"{bpmn_id} {key or ''}: found {len(found)}; open: {self.open()}"
        return found[0]

    def deadlines(self) -> dict[str, tuple[str, str]]:
        """key -> (due date, status)"""
        with self.services.session_factory() as s:
            rows = s.scalars(select(Deadline).where(Deadline.case_id == self.case_id).order_by(Deadline.id))
            return {row.key: (row.due_date.isoformat(), row.status) for row in rows}

    def deadline(self, key: str) -> Deadline:
        with self.services.session_factory() as s:
            return s.scalars(select(Deadline).where(Deadline.case_id == self.case_id, Deadline.key == key)).one()

    def documents(self, kind: str | None = None) -> list[Document]:
        with self.services.session_factory() as s:
            return [d for d in documents_for_case(s, self.case_id) if kind is None or d.kind == kind]

    def kinds(self) -> list[str]:
        return [d.kind for d in self.documents()]

    def data(self) -> dict[str, Any]:
        """The data of the last task that ran (the whole route's data once it has ended)."""
        wf = self.workflow()
        return dict(wf.data) if wf.is_completed() else dict(wf.last_task.data)


@pytest.fixture
def route(services: Services, world: World, request: pytest.FixtureRequest) -> Route:
    registry = ProcessRegistry.from_files([*FILES, PLAN_DRAFTING], ROOT / "forms")
    services.engine.deploy(registry)
    return Route(services, world, request.node.name)


def names(recipients: list[dict[str, Any]] | None, copy: bool = False) -> list[str]:
    return [r["name"] for r in recipients or [] if bool(r.get("copy")) == copy]


def assert_appeal_rights(document: Document, appeal_by: str) -> None:
    """The §0.4 bundle: right to appeal, time limits, the reg 32 mediation information, disagreement resolution, IASS."""
    assert document.appealable
    body = " ".join(document.body_html.split())
    assert 'id="appeal-rights"' in body
    for text in ("right to appeal", "First-tier Tribunal", f"by <strong>{appeal_by}</strong>", "mediation certificate",
                 "Test Mediation", "within 30 days", "health care provision you are seeking",
                 "disagreement resolution service", "SEND Information, Advice and Support Service"):
        assert text in body, text


def register(route: Route, when: datetime, has_setting: str = "yes") -> None:
    route.complete("UT_register", {"has_setting": has_setting, "assessed_in_last_six_months": "no"}, when)


def decide_to_assess(route: Route, *, views: datetime, evidence: datetime | None, panel: datetime,
                     decision: datetime) -> None:
    route.complete("UT_family_views", {"family_views": "Please assess."}, views)
    if evidence is not None:
        route.complete("UT_setting_evidence", EVIDENCE, evidence)
    route.complete("UT_panel_assess", PANEL_ASSESS, panel)
    route.complete("UT_decide_assess", {"assess_decision": "assess"}, decision)


def request_and_receive_standard_advice(route: Route, sent: datetime, received: datetime) -> None:
    for key in STANDARD_KEYS:
        route.complete("UT_request_advice", NEW_REQUEST, sent, key=key)
    for bpmn_id, key in (("UT_advice_school", "education"), ("UT_advice_ep", "psychological"),
                         ("UT_advice_health", "health"), ("UT_advice_social_care", "social_care")):
        route.complete(bpmn_id, ADVICE, received, key=key)


# ---- scenarios -------------------------------------------------------------------------------------------------------
def test_monday_request_assessed_and_plan_issued_on_time(route: Route) -> None:
    # Received Monday 2 March 2026 at 10:00 GMT: a working day before 17:00, so the clock starts that day.
    # 6 weeks: 2 Mar + 42 days = 13 April. 16 weeks: + 112 = 22 June. 20 weeks: + 140 = 20 July (all Mondays).
    route.start(utc(2026, 3, 2, 10))
    assert route.open() == ["UT_register"]
    register(route, utc(2026, 3, 2, 10, 30))
    data = route.data()
    assert (data["start_date"], data["decide_by"], data["no_plan_notice_by"], data["final_plan_by"]) == (
        "2026-03-02", "2026-04-13", "2026-06-22", "2026-07-20")
    assert route.kinds() == ["considering_assessment", "partner_notification"]
    considering, partners = route.documents()
    assert names(considering.recipients) == ["Parent"] and not considering.appealable
    assert "by <strong>13 April 2026</strong>" in considering.body_html
    assert "by <strong>17 March 2026</strong>" in considering.body_html  # views: 2 Mar + 15 days
    assert names(partners.recipients) == ["Testshire ICB", "Social care, Testshire Council", "Test Primary School"]
    assert route.deadlines() == {"decide_whether_to_assess": ("2026-04-13", "open")}
    # The family and the school are asked for views and evidence by 17 March (local practice: 15 days).
    assert {t.bpmn_id: t.due_date for t in route.open_tasks()} == {
        "UT_family_views": date(2026, 3, 17), "UT_setting_evidence": date(2026, 3, 17)}

    route.complete("UT_family_views", VIEWS, utc(2026, 3, 9))
    route.complete("UT_setting_evidence", EVIDENCE, utc(2026, 3, 10))
    route.complete("UT_panel_assess", PANEL_ASSESS, utc(2026, 3, 16))
    assert route.task("UT_decide_assess").due_date == date(2026, 4, 13)  # from its 6-week deadline timer
    route.complete("UT_decide_assess", {"assess_decision": "assess"}, utc(2026, 3, 18))
    assert route.deadlines() == {"decide_whether_to_assess": ("2026-04-13", "met"),
                                 "decision_not_to_issue": ("2026-06-22", "open")}
    decision = route.documents("decision_to_assess")[0]
    assert names(decision.recipients) == ["Parent"]
    assert names(decision.recipients, copy=True) == ["Testshire ICB", "Social care, Testshire Council",
                                                     "Test Primary School"]
    assert "by 22 June 2026" in decision.body_html and "by 20 July 2026" in decision.body_html

    # Alex (born 14 May 2015) is in Year 6: no preparation-for-adulthood advice. The family asked for a speech and
    # language therapist: one more request.
    route.complete("UT_plan_advice", {"other_advisers": [
        {"name": "Sam Speech", "role": "Speech and language therapist", "requested_by": "family"}]},
        utc(2026, 3, 19, 9))
    assert route.open() == ["UT_request_advice:adviser_1", "UT_request_advice:education", "UT_request_advice:health",
                            "UT_request_advice:psychological", "UT_request_advice:social_care"]
    # Requests sent on different days, each with its own 6 weeks from the day it was sent:
    route.complete("UT_request_advice", NEW_REQUEST, utc(2026, 3, 19), key="education")  # Thu 19 Mar -> 30 Apr
    route.complete("UT_request_advice", {**NEW_REQUEST, "request_questions": "Phonics <b>progress</b>?"},
                   utc(2026, 3, 23), key="psychological")  # Mon 23 Mar -> Mon 4 May (a bank holiday: no matter)
    route.complete("UT_request_advice", NEW_REQUEST, utc(2026, 3, 25), key="health")  # Wed 25 Mar -> 6 May
    route.complete("UT_request_advice", {
        "advice_route": "reuse_existing", "reuse_report_title": "Child in need assessment",
        "reuse_report_date": "2026-01-15", "reuse_agreed_by": ["provider", "local_authority", "family"]},
        utc(2026, 3, 25), key="social_care")
    route.complete("UT_request_advice", NEW_REQUEST, utc(2026, 3, 31, 9), key="adviser_1")  # Tue 31 Mar -> 12 May
    assert route.deadlines() == {
        "decide_whether_to_assess": ("2026-04-13", "met"), "decision_not_to_issue": ("2026-06-22", "open"),
        "advice:education": ("2026-04-30", "open"), "advice:psychological": ("2026-05-04", "open"),
        "advice:health": ("2026-05-06", "open"), "advice:adviser_1": ("2026-05-12", "open")}
    assert {t.bpmn_id: t.due_date for t in route.open_tasks()} == {
        "UT_advice_school": date(2026, 4, 30), "UT_advice_ep": date(2026, 5, 4),
        "UT_advice_health": date(2026, 5, 6), "UT_record_advice": date(2026, 5, 12)}
    requests = {d.recipients[0]["name"]: d for d in route.documents("advice_request")}
    assert sorted(requests) == ["Educational psychology service, Testshire Council", "Sam Speech",
                                "Test Primary School", "Testshire ICB"]
    ep_request = requests["Educational psychology service, Testshire Council"].body_html
    assert "by 4 May 2026" in ep_request and "Phonics &lt;b&gt;progress&lt;/b&gt;?" in ep_request
    assert "Alex finds reading hard" in ep_request  # the family's views go to every adviser (reg 7)
    reuse = route.documents("advice_reuse_agreement")[0]
    assert names(reuse.recipients) == ["Parent", "Social care, Testshire Council"]
    assert "Child in need assessment" in reuse.body_html and "15 January 2026" in reuse.body_html

    route.complete("UT_advice_school", ADVICE, utc(2026, 4, 20))
    route.complete("UT_advice_ep", ADVICE, utc(2026, 4, 24))
    # Health's reminder is due 7 days before 6 May: its timer fires at the start of 29 April (28 Apr 23:00 UTC).
    route.at(utc(2026, 4, 28, 22, 59))
    assert route.documents("advice_reminder") == []
    route.at(utc(2026, 4, 29, 9))
    reminder = route.documents("advice_reminder")[0]
    assert names(reminder.recipients) == ["Testshire ICB"] and "due by 6 May 2026" in reminder.title
    route.complete("UT_advice_health", ADVICE, utc(2026, 5, 1))
    route.complete("UT_record_advice", ADVICE, utc(2026, 5, 4))
    assert [d[1] for k, d in route.deadlines().items() if k.startswith("advice:")] == ["met"] * 4
    assert len(route.documents("advice_reminder")) == 1
    assert route.task("UT_decide_issue").due_date == date(2026, 6, 22)

    # Monday 8 June is day 98, the first day of week 15: the LA decides to issue a plan.
    route.complete("UT_decide_issue", {"issue_decision": "issue"}, utc(2026, 6, 8))
    deadlines = route.deadlines()
    assert deadlines["decision_not_to_issue"] == ("2026-06-22", "cancelled")  # a "no" is no longer possible
    assert deadlines["final_plan_20w"] == ("2026-07-20", "open")
    assert names(route.documents("decision_to_issue")[0].recipients) == ["Parent"]
    # The assessment hands over: plan drafting starts on the case in the same step, on the same statutory start,
    # and takes over the 20-week deadline (one row, still open); the assessment ends.
    assert route.instance().status == "completed" and route.open() == []
    drafting = route.drafting()
    assert drafting.parent_instance_id == route.instance_id
    assert route.drafting_open() == ["UT_health_provision", "UT_social_care_provision"]
    assert route.deadlines()["final_plan_20w"] == ("2026-07-20", "open")
    assert route.deadline("final_plan_20w").instance_id == drafting.id
    with route.services.session_factory() as s:
        plan_data = route.engine.load_workflow(s.get(ProcessInstance, drafting.id)).last_task.data
    assert plan_data["start_date"] == "2026-03-02" and sorted(plan_data["advice_received"]) == [
        "adviser_1", "education", "health", "psychological", "social_care"]
    assert route.data()["handed_to_plan_drafting_on"] == "2026-06-08"
    assert sorted(route.data()["advice_received"]) == ["adviser_1", "education", "health", "psychological",
                                                       "social_care"]
    assert route.data()["advice_received"]["social_care"]["status"] == "reused"


def test_friday_after_5pm_school_request_no_plan_at_week_15_is_met(route: Route) -> None:
    # Received by email on Friday 6 March 2026 at 17:30 GMT: after 17:00, so the clock starts on the next working
    # day, Monday 9 March. 6 weeks: 20 April. 16 weeks: 9 Mar + 112 days = 29 June. 20 weeks: 27 July.
    route.start(utc(2026, 3, 6, 17, 30), requester_type="school", when=utc(2026, 3, 9, 9))
    register(route, utc(2026, 3, 9, 9, 30))
    data = route.data()
    assert (data["start_date"], data["decide_by"], data["no_plan_notice_by"]) == (
        "2026-03-09", "2026-04-20", "2026-06-29")
    assert route.task("UT_family_views").due_date == date(2026, 3, 24)  # 9 Mar + 15 days
    considering = route.documents("considering_assessment")[0].body_html
    assert "On 6 March 2026 Alex Taylor&#39;s school or setting asked us" in considering
    assert route.deadlines() == {"decide_whether_to_assess": ("2026-04-20", "open")}
    decide_to_assess(route, views=utc(2026, 3, 16), evidence=utc(2026, 3, 17), panel=utc(2026, 4, 13),
                     decision=utc(2026, 4, 17))
    assert route.deadlines()["decide_whether_to_assess"] == ("2026-04-20", "met")

    # No other advisers: the multi-instance runs over an empty list.
    route.complete("UT_plan_advice", {"other_advisers": []}, utc(2026, 4, 20, 9))
    assert route.open() == [f"UT_request_advice:{k}" for k in sorted(STANDARD_KEYS)]
    # All four sent on Monday 20 April: due 20 Apr + 42 days = Monday 1 June.
    request_and_receive_standard_advice(route, utc(2026, 4, 20), utc(2026, 5, 22))
    assert {k: v for k, v in route.deadlines().items() if k.startswith("advice:")} == {
        f"advice:{k}": ("2026-06-01", "met") for k in STANDARD_KEYS}
    assert route.documents("advice_reminder") == []  # every adviser answered before 25 May

    # Friday 19 June is day 102 from 9 March: week 15. A "no" by 29 June is on time.
    route.complete("UT_decide_issue", {"issue_decision": "not_issue", "issue_decision_reasons": "Needs can be met "
                                       "through SEN support.", "support_without_plan": "Daily phonics."},
                   utc(2026, 6, 19))
    assert route.deadlines()["decision_not_to_issue"] == ("2026-06-29", "met")
    notice = route.documents("decision_not_to_issue")[0]
    assert names(notice.recipients) == ["Parent"]
    assert names(notice.recipients, copy=True) == ["Testshire ICB", "Test Primary School"]
    assert_appeal_rights(notice, "19 August 2026")  # 19 June + 2 months
    for title in ("Educational advice", "Psychological advice", "Medical advice and information",
                  "Social care advice and information"):
        assert f"<strong>{title}</strong>" in notice.body_html
    assert "Needs can be met through SEN support." in notice.body_html
    assert route.instance().status == "completed"
    assert route.open_tasks() == []


def test_day_before_bank_holiday_request_withdrawn_while_advice_is_gathered(route: Route) -> None:
    # Received on Thursday 2 April 2026 at 16:30 UTC, which is 17:30 BST: after 17:00 in England. Good Friday
    # (3 Apr), the weekend and Easter Monday (6 Apr) are not working days: the clock starts on Tuesday 7 April.
    # 6 weeks: 7 Apr + 42 = 19 May. 16 weeks: 7 Apr + 112 = 28 July.
    route.start(utc(2026, 4, 2, 16, 30), requester_type="other", when=utc(2026, 4, 7, 9))
    register(route, utc(2026, 4, 7, 9, 30))
    data = route.data()
    assert (data["start_date"], data["decide_by"], data["no_plan_notice_by"]) == (
        "2026-04-07", "2026-05-19", "2026-07-28")
    assert "we were told about Alex Taylor by someone who works with them" in \
        route.documents("considering_assessment")[0].body_html
    decide_to_assess(route, views=utc(2026, 4, 14), evidence=utc(2026, 4, 15), panel=utc(2026, 4, 28),
                     decision=utc(2026, 5, 5))
    route.complete("UT_plan_advice", {"other_advisers": []}, utc(2026, 5, 6, 9))
    route.complete("UT_request_advice", NEW_REQUEST, utc(2026, 5, 6), key="education")  # 6 May + 42 = 17 June
    route.complete("UT_request_advice", NEW_REQUEST, utc(2026, 5, 7), key="psychological")  # 7 May + 42 = 18 June
    assert route.deadlines() == {
        "decide_whether_to_assess": ("2026-05-19", "met"), "decision_not_to_issue": ("2026-07-28", "open"),
        "advice:education": ("2026-06-17", "open"), "advice:psychological": ("2026-06-18", "open")}

    route.message("request_withdrawn", {"reason": "We have moved <b>schools</b> and things are better."},
                  utc(2026, 5, 20))
    assert route.deadlines() == {
        "decide_whether_to_assess": ("2026-05-19", "met"), "decision_not_to_issue": ("2026-07-28", "cancelled"),
        "advice:education": ("2026-06-17", "cancelled"), "advice:psychological": ("2026-06-18", "cancelled")}
    assert route.instance().status == "completed"
    assert route.open_tasks() == []
    with route.services.session_factory() as s:
        assert s.scalars(select(Timer).where(Timer.instance_id == route.instance_id,
                                             Timer.status == "waiting")).all() == []
    confirmation = route.documents("request_withdrawn")[0]
    assert names(confirmation.recipients) == ["Parent"]
    assert "We have moved &lt;b&gt;schools&lt;/b&gt; and things are better." in confirmation.body_html
    assert not confirmation.appealable


def test_late_december_request_final_plan_after_week_20_with_an_exception(route: Route) -> None:
    # Received on Thursday 24 December 2026 at 18:00 GMT: after 17:00. Christmas Day (Fri 25), the weekend and the
    # Boxing Day substitute (Mon 28) are not working days: the clock starts on Tuesday 29 December 2026.
    # 6 weeks: 29 Dec + 42 = 9 February 2027. 16 weeks: + 112 = 20 April 2027. 20 weeks: + 140 = 18 May 2027.
    route.start(utc(2026, 12, 24, 18), when=utc(2026, 12, 29, 9))
    register(route, utc(2026, 12, 29, 9, 30))
    data = route.data()
    assert (data["start_date"], data["decide_by"], data["no_plan_notice_by"], data["final_plan_by"]) == (
        "2026-12-29", "2027-02-09", "2027-04-20", "2027-05-18")
    assert route.task("UT_family_views").due_date == date(2027, 1, 13)  # 29 Dec + 15 days
    decide_to_assess(route, views=utc(2027, 1, 5), evidence=utc(2027, 1, 6), panel=utc(2027, 1, 20),
                     decision=utc(2027, 1, 27))
    route.complete("UT_plan_advice", {"other_advisers": []}, utc(2027, 1, 28, 9))
    # Sent Thursday 28 January 2027: 28 Jan + 42 days = Thursday 11 March 2027.
    request_and_receive_standard_advice(route, utc(2027, 1, 28), utc(2027, 3, 1))
    assert {k: v for k, v in route.deadlines().items() if k.startswith("advice:")} == {
        f"advice:{k}": ("2027-03-11", "met") for k in STANDARD_KEYS}
    route.complete("UT_decide_issue", {"issue_decision": "issue"}, utc(2027, 3, 22))
    assert route.deadlines()["final_plan_20w"] == ("2027-05-18", "open")
    assert route.deadlines()["decision_not_to_issue"] == ("2027-04-20", "cancelled")

    # Plan drafting carries the 20-week clock from the same start. 18 May 2027 is in BST: the deadline is over at
    # 23:00 UTC on 18 May, when plan drafting's week-20 timer escalates to the decision panel.
    assert route.instance().status == "completed"
    route.at(utc(2027, 5, 18, 22, 59))
    assert "UT_final_plan_overdue" not in route.drafting_open()
    route.at(utc(2027, 5, 19, 9))
    assert route.deadlines()["final_plan_20w"] == ("2027-05-18", "missed")
    assert "UT_final_plan_overdue" in route.drafting_open()
    route.claim_exception("final_plan_20w", "exceptional_personal_circumstances", "2027-05-19")
    row = route.deadline("final_plan_20w")
    assert (row.status, row.missed, row.exception_reason, row.exception_family_told_on) == (
        "missed", True, "exceptional_personal_circumstances", date(2027, 5, 19))


def test_child_moves_to_another_la_during_the_decision(route: Route) -> None:
    # Received Wednesday 7 October 2026 at 09:00 UTC (10:00 BST). 6 weeks: 7 Oct + 42 = Wednesday 18 November.
    route.start(utc(2026, 10, 7, 9))
    register(route, utc(2026, 10, 7, 9, 30))
    assert route.deadlines() == {"decide_whether_to_assess": ("2026-11-18", "open")}
    route.complete("UT_family_views", VIEWS, utc(2026, 10, 14))
    route.message("child_moved_la", {"new_la": "Otherham Council", "moved_on": "2026-10-24",
                                     "note": "The family moved for work."}, utc(2026, 10, 27))
    assert route.deadlines() == {"decide_whether_to_assess": ("2026-11-18", "cancelled")}
    assert route.instance().status == "completed"
    assert route.open_tasks() == []
    notice = route.documents("assessment_ended_moved")[0]
    assert names(notice.recipients) == ["Parent", "Otherham Council"]
    assert "24 October 2026" in notice.body_html and "within 6 weeks of becoming responsible" in notice.body_html
    assert route.data()["closed_reason"] == "moved_la"


def test_request_within_six_months_of_an_assessment_is_declined_with_reasons(route: Route) -> None:
    # Received Monday 9 March 2026. Six months before the start date is 9 September 2025; the last assessment
    # finished on 20 November 2025, inside that period, so the LA may decline.
    route.start(utc(2026, 3, 9, 9))
    route.complete("UT_register", {"has_setting": "yes", "assessed_in_last_six_months": "yes",
                                   "previous_assessment_on": "2025-11-20", "decline_recent_request": "yes",
                                   "decline_reasons": "Nothing has changed since the assessment."},
                   utc(2026, 3, 9, 10))
    assert route.instance().status == "completed"
    assert route.kinds() == ["decline_recent_assessment"]
    notice = route.documents()[0]
    assert names(notice.recipients) == ["Parent"]
    assert "Nothing has changed since the assessment." in notice.body_html
    assert_appeal_rights(notice, "9 May 2026")  # 9 March + 2 months
    assert route.deadlines() == {}

    # On another case the last assessment finished on 1 September 2025, more than six months before the start
    # date (9 September 2025 is the limit): the request cannot be declined on that ground and goes on.
    route.new_case("Chris", "Lee", "2016-02-01")
    route.start(utc(2026, 3, 9, 9))
    route.complete("UT_register", {"has_setting": "yes", "assessed_in_last_six_months": "yes",
                                   "previous_assessment_on": "2025-09-01", "decline_recent_request": "yes",
                                   "decline_reasons": "Recently assessed."}, utc(2026, 3, 9, 10))
    assert route.kinds() == ["considering_assessment", "partner_notification"]
    assert route.open() == ["UT_family_views", "UT_setting_evidence"]


def test_young_person_with_no_setting_is_refused_an_assessment_after_no_reply(route: Route) -> None:
    # Jordan was born on 1 June 2009: compulsory school age ended on the last Friday of June 2025 (27 June), so in
    # 2026 Jordan is a young person and every notice is addressed to Jordan.
    route.new_case("Jordan", "Patel", "2009-06-01", setting=False, young_person=True)
    # Received Wednesday 4 March 2026 at 11:00 GMT: 6 weeks = 15 April.
    route.start(utc(2026, 3, 4, 11), requester_type="young_person")
    register(route, utc(2026, 3, 4, 11, 30), has_setting="no")
    assert route.open() == ["UT_family_views"]  # no setting to ask for evidence
    considering = route.documents("considering_assessment")[0]
    assert names(considering.recipients) == ["Jordan Patel"]
    assert considering.recipients[0]["role"] == "young_person"
    # No reply by 19 March (4 Mar + 15 days): the request goes to the panel at 00:00 on 20 March.
    route.at(utc(2026, 3, 19, 23, 59))
    assert route.open() == ["UT_family_views"]
    route.at(utc(2026, 3, 20, 9))
    assert route.open() == ["UT_panel_assess"]
    route.complete("UT_panel_assess", {**PANEL_ASSESS, "panel_recommendation": "not_assess"}, utc(2026, 3, 30))
    route.complete("UT_decide_assess", {"assess_decision": "not_assess",
                                        "assess_decision_reasons": "<script>alert('x')</script> & progress is good."},
                   utc(2026, 4, 2))
    assert route.deadlines() == {"decide_whether_to_assess": ("2026-04-15", "met")}
    notice = route.documents("decision_not_to_assess")[0]
    assert names(notice.recipients) == ["Jordan Patel"]
    assert names(notice.recipients, copy=True) == ["Testshire ICB", "Social care, Testshire Council"]
    assert_appeal_rights(notice, "2 June 2026")  # Thursday 2 April + 2 months
    assert "<script>" not in notice.body_html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; progress is good." in notice.body_html
    assert route.instance().status == "completed"


def test_the_refusal_notice_starts_the_disagreement_route_with_the_notice_date(route: Route) -> None:
    """The notice of a refusal carries sendsMessage: the disagreement route starts in the same step, its clocks
    counted from the notice: sent Thursday 2 April 2026, so the family has until 2 June to contact the adviser."""
    route.services.engine.deploy(ProcessRegistry.from_files(
        [ROOT / "workflows" / f"{name}.bpmn" for name in ("disagreement_resolution", "mediation", "tribunal_order")],
        ROOT / "forms"))
    route.start(utc(2026, 3, 4, 11))
    register(route, utc(2026, 3, 4, 11, 30))
    route.complete("UT_family_views", {"family_views": "Please assess."}, utc(2026, 3, 9))
    route.complete("UT_setting_evidence", EVIDENCE, utc(2026, 3, 10))
    route.complete("UT_panel_assess", {**PANEL_ASSESS, "panel_recommendation": "not_assess"}, utc(2026, 3, 30))
    route.complete("UT_decide_assess", {"assess_decision": "not_assess", "assess_decision_reasons": "Progress."},
                   utc(2026, 4, 2))
    with route.services.session_factory() as s:
        refusal = route.instance()
        (disagreement,) = s.scalars(select(ProcessInstance).where(
            ProcessInstance.case_id == refusal.case_id, ProcessInstance.process_id == "disagreement_resolution"))
        contact = s.scalars(select(HumanTask).where(HumanTask.instance_id == disagreement.id,
                                                    HumanTask.status == "open")).one()
        audit = list(s.scalars(select(AuditEvent.action).where(AuditEvent.instance_id == refusal.id)))
    assert disagreement.parent_instance_id == refusal.id
    assert (contact.bpmn_id, contact.due_date) == ("UT_adviser_contact", date(2026, 6, 2))
    assert "route_started" in audit


def test_everything_late_no_plan_at_week_17_is_missed_and_exceptions_are_claimed(route: Route) -> None:
    # Sam was born on 10 January 2011: 14 on 31 August 2025, so in Year 10 in 2025/26 (Year 9 or above): the
    # assessment also asks for preparation-for-adulthood advice.
    route.new_case("Sam", "Okafor", "2011-01-10")
    # Received Monday 2 March 2026: 6 weeks = 13 April, 16 weeks = 22 June.
    route.start(utc(2026, 3, 2, 10))
    register(route, utc(2026, 3, 2, 10, 30))
    route.complete("UT_family_views", {"family_views": "Sam is anxious."}, utc(2026, 3, 10))
    # The school sends nothing by 17 March: at 00:00 on 18 March the panel goes ahead without it.
    route.at(utc(2026, 3, 18, 9))
    assert route.open() == ["UT_panel_assess"]
    route.complete("UT_panel_assess", PANEL_ASSESS, utc(2026, 4, 10))
    # 13 April is in BST: the decision deadline is over at 23:00 UTC on 13 April.
    route.at(utc(2026, 4, 13, 22, 59))
    assert route.deadlines()["decide_whether_to_assess"] == ("2026-04-13", "open")
    route.at(utc(2026, 4, 14, 9))
    assert route.deadlines()["decide_whether_to_assess"] == ("2026-04-13", "missed")
    assert route.open() == ["UT_decide_assess", "UT_escalate_decide_assess"]  # the work carries on
    route.claim_exception("decide_whether_to_assess", "exceptional_personal_circumstances", "2026-04-14")
    route.complete("UT_escalate_decide_assess", {"escalation_action": "Decision this week."}, utc(2026, 4, 14, 10))
    route.complete("UT_decide_assess", {"assess_decision": "assess"}, utc(2026, 4, 16))
    row = route.deadline("decide_whether_to_assess")
    assert (row.status, row.missed, row.met_at, row.exception_reason) == (
        "missed", True, utc(2026, 4, 16), "exceptional_personal_circumstances")

    route.complete("UT_plan_advice", {"other_advisers": [
        {"name": "Olu Therapist", "role": "Occupational therapist", "requested_by": "family"}]}, utc(2026, 4, 16, 11))
    keys = ["adviser_1", "education", "health", "preparation_for_adulthood", "psychological", "social_care"]
    assert route.open() == [f"UT_request_advice:{k}" for k in keys]
    # All six sent on Friday 17 April 2026: due 17 Apr + 42 = Friday 29 May; reminders from 22 May.
    for key in keys:
        route.complete("UT_request_advice", NEW_REQUEST, utc(2026, 4, 17), key=key)
    route.at(utc(2026, 5, 21, 22, 59))
    assert route.documents("advice_reminder") == []
    route.at(utc(2026, 5, 22, 9))
    reminders = route.documents("advice_reminder")
    assert sorted(r.recipients[0]["name"] for r in reminders) == [
        "Advice on preparing for adulthood and independent living (arranged by Testshire Council)",
        "Educational psychology service, Testshire Council", "Olu Therapist", "Social care, Testshire Council",
        "Test Primary School", "Testshire ICB"]
    assert all("due by 29 May 2026" in r.title for r in reminders)
    route.at(utc(2026, 5, 30, 9))
    assert {k: v for k, v in route.deadlines().items() if k.startswith("advice:")} == {
        f"advice:{k}": ("2026-05-29", "missed") for k in keys}
    assert route.open() == sorted([f"UT_chase_advice:{k}" for k in keys] + [
        "UT_advice_ep:psychological", "UT_advice_health:health", "UT_advice_school:education",
        "UT_advice_social_care:social_care", "UT_record_advice:adviser_1",
        "UT_record_advice:preparation_for_adulthood"])
    route.claim_exception("advice:psychological", "missed_appointment", "2026-05-30")
    route.complete("UT_chase_advice", {"escalation_action": "New appointment on 2 June."}, utc(2026, 6, 1),
                   key="psychological")
    for bpmn_id, key in (("UT_advice_school", "education"), ("UT_advice_ep", "psychological"),
                         ("UT_advice_health", "health"), ("UT_advice_social_care", "social_care"),
                         ("UT_record_advice", "preparation_for_adulthood"), ("UT_record_advice", "adviser_1")):
        route.complete(bpmn_id, ADVICE, utc(2026, 6, 3), key=key)
    for key in keys:
        row = route.deadline(f"advice:{key}")
        assert (row.status, row.missed, row.met_at) == ("missed", True, utc(2026, 6, 3)), key
    assert route.deadline("advice:psychological").exception_reason == "missed_appointment"
    assert route.open() == ["UT_decide_issue"]  # the other chase tasks closed when their advice came in

    # 22 June is in BST: week 16 is over at 23:00 UTC on 22 June.
    route.at(utc(2026, 6, 22, 22, 59))
    assert route.deadlines()["decision_not_to_issue"] == ("2026-06-22", "open")
    route.at(utc(2026, 6, 23, 9))
    assert route.deadlines()["decision_not_to_issue"] == ("2026-06-22", "missed")
    assert route.open() == ["UT_decide_issue", "UT_escalate_16w"]
    route.complete("UT_escalate_16w", {"escalation_action": "Panel on 26 June."}, utc(2026, 6, 24))
    # Friday 26 June is day 116 from 2 March: week 17. The "no" is late.
    route.complete("UT_decide_issue", {"issue_decision": "not_issue", "issue_decision_reasons": "Needs are met."},
                   utc(2026, 6, 26))
    row = route.deadline("decision_not_to_issue")
    assert (row.due_date, row.status, row.missed, row.met_at) == (date(2026, 6, 22), "missed", True, utc(2026, 6, 26))
    notice = route.documents("decision_not_to_issue")[0]
    assert_appeal_rights(notice, "26 August 2026")
    assert notice.body_html.count("<strong>") >= 7  # the appeal date and the six pieces of advice
    assert "Advice on preparing for adulthood and independent living" in notice.body_html
    assert route.instance().status == "completed"


def test_started_without_request_details_counts_from_now(route: Route) -> None:
    # A child brought to the LA's attention, started with no request details on Saturday 7 March 2026: the receipt
    # is "now" and, on a weekend, the clock starts on Monday 9 March.
    route.clock.set(utc(2026, 3, 7, 10))
    route.instance_id = route.engine.start(route.case_id, PROCESS, {}, route.users["caseworker"])
    route.check()
    data = route.data()
    assert (data["received_at"], data["requester_type"], data["start_date"], data["decide_by"]) == (
        "2026-03-07T10:00:00+00:00", "other", "2026-03-09", "2026-04-20")


def test_a_panel_after_week_6_records_the_decision_deadline_as_missed(route: Route) -> None:
    # Received Monday 2 March 2026: the decision is due by 13 April. The panel only meets on 20 April: the 6-week
    # timer runs from the moment the views and evidence are in (it is on the panel-and-decision sub-process), so it
    # fires at 23:00 UTC on 13 April even though no decision task is open yet.
    route.start(utc(2026, 3, 2, 10))
    register(route, utc(2026, 3, 2, 10, 30))
    route.complete("UT_family_views", VIEWS, utc(2026, 3, 9))
    route.complete("UT_setting_evidence", EVIDENCE, utc(2026, 3, 10))
    route.at(utc(2026, 4, 13, 22, 59))
    assert route.deadlines()["decide_whether_to_assess"] == ("2026-04-13", "open")
    route.at(utc(2026, 4, 14, 9))
    assert route.deadlines()["decide_whether_to_assess"] == ("2026-04-13", "missed")
    assert route.open() == ["UT_escalate_decide_assess", "UT_panel_assess"]
    route.complete("UT_panel_assess", PANEL_ASSESS, utc(2026, 4, 20))
    assert route.open() == ["UT_decide_assess", "UT_escalate_decide_assess"]
    route.complete("UT_decide_assess", {"assess_decision": "assess"}, utc(2026, 4, 21))
    row = route.deadline("decide_whether_to_assess")
    assert (row.status, row.met_at) == ("missed", utc(2026, 4, 21))


# ---- the demo -----------------------------------------------------------------------------------------------------
def test_demo_cases_at_each_stage_of_the_route(services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    from demo import seed as demo
    from demo.assessment import seed_needs_assessment

    services.engine.deploy(ProcessRegistry.from_files([*FILES, PLAN_DRAFTING], ROOT / "forms"))
    monkeypatch.setattr(demo, "SEEDERS", [seed_needs_assessment])  # this route's seeder only
    clock = services.engine.clock
    before = clock.now()
    ctx = demo.seed(services.engine)
    assert clock.now() == before  # the engine has its own clock back, at the same moment
    with services.session_factory() as s:
        def state(child: str) -> tuple[str, list[str], dict[str, str], list[str]]:
            case_id = ctx.cases[child]
            instance = s.scalars(select(ProcessInstance).where(ProcessInstance.case_id == case_id,
                                                               ProcessInstance.process_id == PROCESS)).one()
            tasks = sorted(t.bpmn_id for t in s.scalars(select(HumanTask).where(
                HumanTask.case_id == case_id, HumanTask.status == "open")))
            deadlines = {d.key: d.status for d in s.scalars(select(Deadline).where(Deadline.case_id == case_id))}
            return instance.status, tasks, deadlines, [d.kind for d in documents_for_case(s, case_id)]

        assert state("Ava Green")[:3] == ("waiting_person", ["UT_register"], {})
        noah = state("Noah Brooks")
        assert noah[1] == ["UT_decide_assess"] and noah[2] == {"decide_whether_to_assess": "open"}
        isla = state("Isla Ward")
        assert isla[2]["advice:education"] == "missed" and "UT_chase_advice" in isla[1]
        assert {k: v for k, v in isla[2].items() if k != "advice:education"} == {
            "decide_whether_to_assess": "met", "decision_not_to_issue": "open", "advice:psychological": "met",
            "advice:health": "open", "advice:preparation_for_adulthood": "open", "advice:adviser_1": "open"}
        assert "advice_reuse_agreement" in isla[3] and "advice_reminder" in isla[3]
        ethan = state("Ethan Clarke")
        assert ethan[0] == "completed" and ethan[2] == {"decide_whether_to_assess": "met"}
        assert ethan[3][-1] == "decision_not_to_assess"
        ruby = state("Ruby Singh")
        assert ruby[0] == "completed"  # handed over: plan drafting has started, health and social care first
        assert ruby[1] == ["UT_health_provision", "UT_social_care_provision"]
        assert ruby[2]["final_plan_20w"] == "open" and ruby[2]["decision_not_to_issue"] == "cancelled"
        final = s.scalars(select(Deadline).where(Deadline.case_id == ctx.cases["Ruby Singh"],
                                                 Deadline.key == "final_plan_20w")).one()
        assert (final.due_date - clock.today()).days == 35  # 15 weeks in: 5 weeks to go
    assert ("parent.ward@example.com", "Parent or young person", "Isla Ward's family") in ctx.credentials


# ---- documents -------------------------------------------------------------------------------------------------------
def test_an_unknown_template_is_refused(services: Services, world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.casework import documents

    monkeypatch.setattr(documents, "ROUTE_DOCUMENTS", ())  # no other route's notices either
    with services.session_factory() as s:
        case = s.get(Case, world.case_id)
        assert case is not None
        with pytest.raises(DocumentError, match="No document template 'nope'"):
            render("nope", case, [], {}, date(2026, 3, 2))


def test_every_appealable_template_carries_the_appeal_rights(services: Services, world: World) -> None:
    from engine.casework.documents import TEMPLATES

    data = {"received_at": "2026-03-02T10:00:00+00:00", "previous_assessment_on": "2025-11-20",
            "decline_reasons": "r", "assess_decision_reasons": "r", "issue_decision_reasons": "r",
            "advice_received": {}}
    with services.session_factory() as s:
        case = s.get(Case, world.case_id)
        assert case is not None
        parties = list(s.scalars(select(CaseParty).where(CaseParty.case_id == case.id)))
        mine = [name for name in TEMPLATES if name in ROUTE_TEMPLATES]  # other routes register theirs here too
        assert sorted(mine) == sorted(ROUTE_TEMPLATES)
        appealable = [name for name in mine if TEMPLATES[name].appealable]
        assert sorted(appealable) == ["decision_not_to_assess", "decision_not_to_issue", "decline_recent_assessment"]
        for name in appealable:
            title, body, recipients, flag = render(name, case, parties, data, date(2026, 3, 2))
            assert flag and 'id="appeal-rights"' in body and "by <strong>2 May 2026</strong>" in body, name


def waiting_timers(route: Route) -> dict[str, datetime]:
    """bpmn id -> due moment (UTC) of the timers the assessment (and the routes it calls) wait on."""
    with route.services.session_factory() as s:
        rows = s.scalars(select(Timer).where(Timer.instance_id == route.instance_id, Timer.status == "waiting"))
        return {row.bpmn_id: row.due_at.replace(tzinfo=UTC) if row.due_at.tzinfo is None else row.due_at.astimezone(UTC)
                for row in rows}


def test_an_ordered_assessment_does_not_decide_whether_to_assess_and_counts_from_the_order(route: Route) -> None:
    """The First-tier Tribunal orders an assessment on Monday 2 March 2026 (regulation 44(2)(b)); the order reaches
    the authority, and tribunal_order starts this route, on Wednesday 4 March. Counted from the order, not from the
    route's start: the family is told the authority will assess within 2 weeks (Monday 16 March), a decision not to
    issue a plan is due within 10 weeks (2 March + 70 days = Monday 11 May) and the final plan within 14 weeks
    (+ 98 days = Monday 8 June). No request to register, no views or panel, no 6-week decision: the notice that the
    authority will assess goes out when the order is registered. The advice is asked for on Monday 9 March (6 weeks:
    Monday 20 April). 11 May is in British Summer Time: the 10 weeks are over at 23:00 UTC on 11 May, when the watch
    escalates; the decision not to issue, on Wednesday 13 May, is recorded late (appeal by 13 July)."""
    order = {"kind": "assess", "source": "tribunal", "date": "2026-03-02"}
    route.clock.set(utc(2026, 3, 4, 10))
    route.instance_id = route.engine.start(
        route.case_id, PROCESS, {"received_at": utc(2026, 3, 4, 10).isoformat(), "requester_type": "other",
                                 "requester_name": "First-tier Tribunal (SEND) order", "tribunal_order": order},
        route.users["caseworker"])
    route.check()
    data = route.data()
    assert data["tribunal_order"] == order
    assert (data["start_date"], data["will_assess_notice_by"], data["no_plan_notice_by"], data["final_plan_by"]) == (
        "2026-03-04", "2026-03-16", "2026-05-11", "2026-06-08")
    assert route.open() == ["UT_register_order"]
    assert route.task("UT_register_order").due_date == date(2026, 3, 16)
    assert route.deadlines() == {} and route.kinds() == []  # no 6-week decision, no "considering" notice

    route.complete("UT_register_order", {"has_setting": "yes"}, utc(2026, 3, 9, 9))
    assert route.kinds() == ["decision_to_assess"]
    notice = route.documents("decision_to_assess")[0].body_html
    assert "by 11 May 2026" in notice and "by 8 June 2026" in notice
    assert route.deadlines() == {"decision_not_to_issue": ("2026-05-11", "open")}
    assert waiting_timers(route)["ICE_16w_passed"] == utc(2026, 5, 11, 23, 0)
    assert route.open() == ["UT_plan_advice"]
    route.complete("UT_plan_advice", {"other_advisers": []}, utc(2026, 3, 9, 10))
    request_and_receive_standard_advice(route, utc(2026, 3, 9, 11), utc(2026, 4, 17))
    assert {k: v for k, v in route.deadlines().items() if k.startswith("advice:")} == {
        f"advice:{k}": ("2026-04-20", "met") for k in STANDARD_KEYS}
    assert route.task("UT_decide_issue").due_date == date(2026, 5, 11)

    route.at(utc(2026, 5, 11, 22, 59))
    assert route.deadlines()["decision_not_to_issue"] == ("2026-05-11", "open")
    route.at(utc(2026, 5, 11, 23, 1))
    assert route.deadlines()["decision_not_to_issue"] == ("2026-05-11", "missed")
    assert route.open() == ["UT_decide_issue", "UT_escalate_16w"]
    route.complete("UT_decide_issue", {"issue_decision": "not_issue", "issue_decision_reasons": "Needs can be met "
                                       "through SEN support.", "support_without_plan": "Daily phonics."},
                   utc(2026, 5, 13))
    row = route.deadline("decision_not_to_issue")
    assert (row.status, row.met_at is not None) == ("missed", True)  # done, after its day
    assert_appeal_rights(route.documents("decision_not_to_issue")[0], "13 July 2026")
    assert "decide_whether_to_assess" not in route.deadlines() and "final_plan_20w" not in route.deadlines()
    assert route.instance().status == "completed" and route.open_tasks() == []


# ---- coverage: keep this test last ------------------------------------------------------------------------------------
def test_every_flow_node_and_sequence_flow_of_the_route_is_visited(request: pytest.FixtureRequest) -> None:
    flow_coverage.check_whole_module_covered(request, COVERAGE, globals())
