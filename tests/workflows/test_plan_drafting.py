"""Scenario tests for workflows/ehc_plan_drafting.bpmn: every path, with the statutory dates worked out by hand.

Every step goes through the engine (one transaction per command), and after every step the saved state is restored
and serialized again, which must give the same document (the instance survives a save and restore at any point).

The calendar used throughout (2026; British Summer Time starts on Sunday 29 March):

- The assessment started on Monday 10 November 2025 (``START``). Week 20 ends on Monday 30 March 2026
  (10 Nov 2025 + 20 weeks = 140 days): the final plan is due by the end of that day, 23:00 UTC (BST).
- Plan drafting starts on Monday 2 March 2026 at 10:00 UTC (the clock fixture), in week 17.
- A draft served on Monday 2 March has "15 days beginning with the day of service": 2 March is day 1, so the last
  day for comments is Monday 16 March, 14 days later; the period is over at midnight, 17 March 00:00 UTC (GMT).
- A consultation sent on Thursday 5 March should be answered within 15 days: by Friday 20 March.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from engine.casework.plans import compare_versions, list_versions
from engine.errors import FormInvalid
from engine.library.registry import ProcessRegistry
from engine.people.roles import Role
from engine.people.users import create_organisation, create_user
from engine.runtime.services import Services
from engine.store.models import (
    AuditEvent,
    CaseParty,
    Deadline,
    Document,
    HumanTask,
    Organisation,
    PlanVersion,
    ProcessInstance,
    User,
)
from tests.conftest import PASSWORD, World

ROOT = Path(__file__).resolve().parents[2]
PROCESS = "ehc_plan_drafting"
START = "2025-11-10"

ADVICE = [
    {"provider": "Jo Taylor (parent)", "kind": "parent", "received_on": "2025-12-01", "title": "Parent's views"},
    {"provider": "Test Primary School", "kind": "educational", "received_on": "2025-12-15",
     "title": "Educational advice"},
    {"provider": "Dr Eleanor Park", "kind": "psychological", "received_on": "2026-01-12",
     "title": "Educational psychology report"},
    {"provider": "Testshire ICB", "kind": "medical", "received_on": "2026-01-20", "title": "Medical advice"},
]

HEALTH = {"section_c": {"needs": [{"description": "Glue ear affecting hearing"}]},
          "section_g": {"provision": [{"description": "Audiology review", "amount": "every 6 months",
                                       "provided_by": "Paediatric audiology", "needs": ["C1"]}]}}
SOCIAL_CARE = {"section_d": {"needs": []}, "section_h1": {"provision": []}, "section_h2": {"provision": []}}
DRAFT = {
    "section_a": {"views": "Alex enjoys trains and drawing.", "aspirations": "To read on his own."},
    "section_b": {"needs": [
        {"area": "communication_and_interaction", "description": "Speech sound difficulties"},
        {"area": "cognition_and_learning", "description": "Difficulty holding instructions in mind"},
    ]},
    "section_e": {"outcomes": [{"description": "Speaks in short sentences understood by adults", "by_when": "July 2027",
                                "needs": ["B1"]}]},
    "section_f": {"provision": [
        {"description": "Speech and language therapy", "amount": "3 sessions of 30 minutes a week",
         "provided_by": "Speech and language therapist", "needs": ["B1"]},
        {"description": "Visual prompts for every instruction", "amount": "Every lesson, daily",
         "provided_by": "Class teacher", "needs": ["B2"]},
    ]},
}


@dataclass
class Route:
    """Drives one plan drafting instance through the engine, checking the saved state after every step."""

    services: Services
    world: World
    academy_id: int
    academy_user: User
    special_id: int
    special_user: User
    instance_id: int = 0

    @property
    def engine(self) -> Any:
        return self.services.engine

    def user(self, who: str) -> User:
        return {"academy": self.academy_user, "special": self.special_user}.get(who) or self.world.users[who]

    def start(self, **data: Any) -> int:
        self.instance_id = self.engine.start(self.world.case_id, PROCESS,
                                             {"start_date": START, "advice_received": ADVICE, **data},
                                             self.world.users["caseworker"])
        self.check_restore()
        return self.instance_id

    def check_restore(self) -> ProcessInstance:
        """Restores the saved state and checks that serializing it again gives the same document."""
        with self.services.session_factory() as s:
            instance = s.get(ProcessInstance, self.instance_id)
            assert instance is not None
            if instance.status != "completed":
                wf = self.engine.load_workflow(instance)
                assert self.engine.serializer.dumps(wf) == instance.state
            return instance

    def task(self, bpmn_id: str) -> HumanTask:
        with self.services.session_factory() as s:
            return s.scalars(select(HumanTask).where(HumanTask.bpmn_id == bpmn_id, HumanTask.status == "open",
                                                     HumanTask.instance_id == self.instance_id)).one()

    def open_tasks(self) -> set[str]:
        with self.services.session_factory() as s:
            return set(s.scalars(select(HumanTask.bpmn_id).where(HumanTask.status == "open",
                                                                 HumanTask.instance_id == self.instance_id)))

    def do(self, bpmn_id: str, data: dict[str, Any], who: str) -> None:
        self.engine.complete_task(self.task(bpmn_id).id, data, self.user(who))
        self.check_restore()

    def at(self, when: datetime) -> int:
        """Moves the clock and lets the timer worker fire whatever is due."""
        self.engine.clock.set(when)
        fired = self.engine.fire_due_timers()
        self.check_restore()
        return fired

    def deadlines(self, key: str) -> list[Deadline]:
        with self.services.session_factory() as s:
            return list(s.scalars(select(Deadline).where(Deadline.case_id == self.world.case_id,
                                                         (Deadline.key == key) | Deadline.key.startswith(key + ":"))
                                  .order_by(Deadline.id)))

    def deadline(self, key: str) -> Deadline:
        rows = self.deadlines(key)
        assert len(rows) == 1, rows
        return rows[0]

    def versions(self) -> list[PlanVersion]:
        with self.services.session_factory() as s:
            return list_versions(s, self.world.case_id)

    def documents(self) -> list[Document]:
        with self.services.session_factory() as s:
            return list(s.scalars(select(Document).where(Document.case_id == self.world.case_id)
                                  .order_by(Document.id)))

    def status(self) -> str:
        return self.check_restore().status

    def audit_actions(self) -> list[str]:
        with self.services.session_factory() as s:
            return list(s.scalars(select(AuditEvent.action).where(AuditEvent.instance_id == self.instance_id)
                                  .order_by(AuditEvent.id)))

    # ---- the common steps ----------------------------------------------------------------------------------------
    def contributions(self) -> None:
        self.do("UT_health_provision", HEALTH, "health")
        self.do("UT_social_care_provision", SOCIAL_CARE, "socialcare")

    def draft_and_serve(self, served_on: str = "2026-03-02") -> None:
        self.do("UT_draft_plan", DRAFT, "caseworker")
        self.do("UT_serve_draft", {"served_on": served_on, "service_method": "email",
                                   "settings_information": "The Testshire Local Offer: testshire.example/localoffer"},
                "caseworker")

    def family_responds(self, **answers: Any) -> None:
        data = {"wants_meeting": False, "request_setting": False, "request_personal_budget": False,
                "no_further_comments": True, **answers}
        self.do("UT_family_response", data, "parent")

    def consult(self, sent_on: str = "2026-03-05", other_la_id: int | None = None) -> None:
        data: dict[str, Any] = {"consultation_sent_on": sent_on, "consult_other_la": other_la_id is not None}
        if other_la_id is not None:
            data["other_la_id"] = other_la_id
        self.do("UT_send_consultation", data, "caseworker")

    def la_names(self, setting_id: int, setting_user: str) -> None:
        """The LA's own choice: chosen, consulted, answered, confirmed."""
        self.do("UT_choose_setting", {"naming_choice": "setting", "proposed_setting_id": setting_id,
                                      "choice_reasons": "Local mainstream primary school that can meet the needs"},
                "caseworker")
        self.consult()
        self.do("UT_setting_response", {"setting_can_meet_needs": "yes",
                                        "setting_response": "We can meet the needs with the provision in F"},
                setting_user)
        self.do("UT_confirm_la_setting", {"name_proposed_setting": True, "confirm_reasons": "Can meet the needs"},
                "manager")

    def issue(self) -> None:
        self.do("UT_issue_final_plan", {"sections_checked": True}, "manager")


@pytest.fixture(autouse=True)
def plan_documents(monkeypatch: pytest.MonkeyPatch) -> None:
    """Registers the route's notices and recipient rules with engine.casework.documents, as the change described in
    docs/routes/plan-drafting.md does; once engine/casework/documents.py has that change, this does nothing."""
    from engine.casework import documents
    from engine.casework.plan_documents import PLAN_RECIPIENT_RULES, plan_document_templates, plan_recipients

    for name, template in plan_document_templates(documents.DocumentTemplate).items():
        if name not in documents.TEMPLATES:
            monkeypatch.setitem(documents.TEMPLATES, name, template)
    if not set(PLAN_RECIPIENT_RULES) <= set(documents.RECIPIENT_RULES):
        known_rule = documents._rule

        def rule(name: str, case: Any, parties: Any, data: dict[str, Any], on: date) -> list[dict[str, Any]]:
            if name in PLAN_RECIPIENT_RULES:
                return plan_recipients(name, case, data)
            return known_rule(name, case, parties, data, on)

        monkeypatch.setattr(documents, "_rule", rule)
        monkeypatch.setattr(documents, "RECIPIENT_RULES", (*documents.RECIPIENT_RULES, *PLAN_RECIPIENT_RULES))


@pytest.fixture
def route(services: Services, world: World) -> Iterator[Route]:
    registry = ProcessRegistry.from_files([ROOT / "workflows" / f"{PROCESS}.bpmn"], ROOT / "forms")
    services.engine.deploy(registry)
    clock = services.engine.clock
    with services.session_factory() as s:
        academy = create_organisation(s, "Hill Academy", "setting", clock, setting_type="academy",
                                      maintaining_la_id=world.other_la.id)
        special = create_organisation(s, "Brook School", "setting", clock, setting_type="non_maintained_special",
                                      maintaining_la_id=world.la.id)
        academy_user = create_user(s, "senco@hill.example", "Hill SENCO", PASSWORD, clock, [(academy, Role.SCHOOL)])
        special_user = create_user(s, "head@brook.example", "Brook Head", PASSWORD, clock, [(special, Role.SCHOOL)])
        s.commit()
        yield Route(services, world, academy.id, academy_user, special.id, special_user)


def text_of(document: Document) -> str:
    from bs4 import BeautifulSoup

    return " ".join(BeautifulSoup(document.body_html, "html.parser").get_text().split())


def _at(year: int, month: int, day: int, hour: int = 10, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


# ---- the paths ------------------------------------------------------------------------------------------------------

def test_no_setting_requested_la_names_one_and_issues_in_week_19(route: Route) -> None:
    world = route.world
    route.start()
    assert route.open_tasks() == {"UT_health_provision", "UT_social_care_provision"}
    assert route.task("UT_health_provision").organisation_id == world.health.id
    # The 20-week deadline: 10 Nov 2025 + 140 days = Monday 30 March 2026.
    week20 = route.deadline("final_plan_20w")
    assert (week20.due_date, week20.status) == (date(2026, 3, 30), "open")
    route.contributions()
    assert route.open_tasks() == {"UT_draft_plan"}
    route.do("UT_draft_plan", DRAFT, "caseworker")

    (draft1,) = route.versions()
    assert (draft1.number, draft1.kind, draft1.label, draft1.is_issued) == (1, "draft", "Draft 1", False)
    assert draft1.sections["I"]["setting_id"] is None and draft1.sections["I"]["name"] == ""
    assert [a["provider"] for a in draft1.sections["K"]["advice"]] == [a["provider"] for a in ADVICE]
    assert [a["id"] for a in draft1.sections["K"]["advice"]] == ["K1", "K2", "K3", "K4"]
    assert draft1.sections["C"]["needs"][0]["description"] == "Glue ear affecting hearing"  # from health
    assert draft1.sections["J"]["status"] == "not_requested"

    route.do("UT_serve_draft", {"served_on": "2026-03-02", "service_method": "email",
                                "settings_information": "The Local Offer"}, "caseworker")
    # Served Monday 2 March: the last day for comments is Monday 16 March, 14 days later.
    family = route.task("UT_family_response")
    assert family.due_date == date(2026, 3, 16)
    assert family.organisation_id is None and family.role == "family"

    route.engine.clock.set(_at(2026, 3, 5))
    route.family_responds(no_further_comments=False)  # nothing to say, but keeps the right to the full 15 days
    assert route.open_tasks() == {"UT_choose_setting"}
    route.la_names(world.school.id, "school")
    consultation = route.deadline("setting_consultation")
    # Consultation sent Thursday 5 March + 15 days = Friday 20 March; answered the same day: met.
    assert (consultation.key, consultation.due_date, consultation.status) == (
        f"setting_consultation:{world.school.id}", date(2026, 3, 20), "met")

    # Everything is done on 5 March, but the family's 15 days run to the end of 16 March: the route waits.
    assert route.open_tasks() == set()
    assert route.status() == "waiting_timer"
    assert route.at(_at(2026, 3, 16, 23, 59, 59)) == 0
    assert route.at(_at(2026, 3, 17, 0, 0, 1)) == 1
    assert route.open_tasks() == {"UT_issue_final_plan"}
    assert route.task("UT_issue_final_plan").due_date == date(2026, 3, 30)  # the end of week 20

    # Tuesday 17 March is in week 19 (16-22 March): the 20-week deadline is met.
    route.engine.clock.set(_at(2026, 3, 17, 11))
    route.issue()
    final = route.versions()[-1]
    assert (final.number, final.kind, final.label, final.is_issued) == (2, "final", "Final plan", True)
    assert final.based_on_id == draft1.id
    assert final.sections["I"]["name"] == "Test Primary School"
    assert final.sections["I"]["setting_type"] == "Maintained school"
    assert final.sections["I"]["basis"] == "la_choice"
    assert [c.section for c in compare_versions(draft1, final)] == ["I"]
    week20 = route.deadline("final_plan_20w")
    assert (week20.status, week20.missed) == ("met", False)
    review = route.deadline("annual_review")
    # Issued 17 March 2026: the first review is due within 12 months, by 17 March 2027.
    assert (review.due_date, review.status) == (date(2027, 3, 17), "open")
    assert route.status() == "completed"
    assert "plan_version_recorded" in route.audit_actions()

    notice, consultation_letter, final_notice = route.documents()
    assert notice.kind == "pd_draft_plan_notice" and not notice.appealable
    assert notice.title == "Draft EHC plan for Alex Taylor: your comments by 16 March 2026"
    assert [r["name"] for r in notice.recipients] == ["Parent"]
    assert ("You have 15 days, beginning with the day this draft was served on you (2 March 2026), to tell us what you "
            "think. The last day is 16 March 2026.") in text_of(notice)
    assert "The Local Offer" in text_of(notice)
    assert consultation_letter.kind == "pd_setting_consultation"
    assert [(r["name"], r["copy"]) for r in consultation_letter.recipients] == [("Test Primary School", False)]
    assert "Please respond by 20 March 2026 (15 days from 5 March 2026)" in text_of(consultation_letter)
    assert (final_notice.kind, final_notice.appealable) == ("pd_final_plan_notice", True)
    assert [(r["name"], r["copy"]) for r in final_notice.recipients] == [
        ("Parent", False), ("Test Primary School", True), ("Testshire ICB", True)]
    final_text = text_of(final_notice)
    assert ("You can appeal to the First-tier Tribunal (SEND) about the special educational needs in section B, the "
            "special educational provision in section F, and the school or other institution named") in final_text
    assert "The plan names Test Primary School in section I" in final_text
    assert 'id="appeal-rights"' in final_notice.body_html  # the appeal-rights bundle of regulation 14
    assert "We must review the plan within 12 months, by 17 March 2027" in final_text


def test_setting_requested_and_named_after_consulting_it_and_its_la(route: Route) -> None:
    world = route.world
    route.start()
    route.contributions()
    route.draft_and_serve()
    route.engine.clock.set(_at(2026, 3, 4))
    route.family_responds(wants_meeting=True, request_setting=True, requested_setting_id=route.academy_id,
                          representations="We would like Alex to go to Hill Academy with his cousin.",
                          no_further_comments=False)
    assert route.open_tasks() == {"UT_draft_meeting"}
    route.do("UT_draft_meeting", {"meeting_held_on": "2026-03-04", "meeting_notes": "Talked through section F",
                                  "meeting_representations": "Please add the speech therapist's name."},
             "caseworker")
    route.do("UT_consider_representations", {"representations_response": "The provider is named in F.",
                                             "changes_agreed": False}, "caseworker")
    assert route.open_tasks() == {"UT_send_consultation"}
    route.engine.clock.set(_at(2026, 3, 5))
    route.consult(other_la_id=world.other_la.id)
    # The academy is consulted, and so is Otherham, the other LA that maintains it.
    assert route.task("UT_setting_response").organisation_id == route.academy_id
    other = route.task("UT_other_la_response")
    assert (other.organisation_id, other.role, other.due_date) == (world.other_la.id, "la_caseworker",
                                                                  date(2026, 3, 20))
    route.do("UT_other_la_response", {"other_la_view": "no_objection", "other_la_response": "No objection"},
             "other_caseworker")
    route.do("UT_setting_response", {"setting_can_meet_needs": "yes", "setting_response": "We can meet the needs"},
             "academy")
    route.do("UT_decide_requested_setting", {"name_requested_setting": True}, "manager")
    assert route.open_tasks() == set()  # waiting for the end of the family's 15 days, to 16 March
    assert route.at(_at(2026, 3, 17, 0, 0, 1)) == 1
    route.engine.clock.set(_at(2026, 3, 18, 9))
    route.issue()
    final = route.versions()[-1]
    assert final.kind == "final"
    assert (final.sections["I"]["setting_id"], final.sections["I"]["name"], final.sections["I"]["basis"],
            final.sections["I"]["maintaining_la"]) == (route.academy_id, "Hill Academy", "family_request",
                                                        "Otherham Council")
    assert [d.status for d in route.deadlines("setting_consultation")] == ["met"]
    assert [d.status for d in route.deadlines("la_consultation")] == ["met"]
    letter = next(d for d in route.documents() if d.kind == "pd_setting_consultation")
    assert [(r["name"], r["copy"]) for r in letter.recipients] == [("Hill Academy", False), ("Otherham Council", True)]
    assert "family has asked for your school or college to be named" in text_of(letter)
    final_notice = route.documents()[-1]
    assert [r["name"] for r in final_notice.recipients] == ["Parent", "Hill Academy", "Testshire ICB"]


def test_setting_requested_and_refused_on_a_section_39_4_ground(route: Route) -> None:
    world = route.world
    route.start()
    route.contributions()
    route.draft_and_serve()
    route.engine.clock.set(_at(2026, 3, 4))
    route.family_responds(request_setting=True, requested_setting_id=route.special_id)
    route.engine.clock.set(_at(2026, 3, 5))
    route.consult()
    # Brook School does not answer. Sent 5 March: its 15 days end on Friday 20 March (midnight GMT).
    assert route.task("UT_setting_response").due_date == date(2026, 3, 20)
    assert route.at(_at(2026, 3, 20, 23, 59)) == 0
    assert route.at(_at(2026, 3, 21, 0, 0, 1)) == 1
    late = route.deadline("setting_consultation")
    assert (late.key, late.status, late.missed) == (f"setting_consultation:{route.special_id}", "missed", True)
    # The LA decides anyway. Refusing needs a section 39(4) ground and reasons.
    decide = route.task("UT_decide_requested_setting")
    with pytest.raises(FormInvalid) as refused:
        route.engine.complete_task(decide.id, {"name_requested_setting": False}, world.users["manager"])
    assert set(refused.value.errors) == {"s39_4_ground", "refusal_reasons"}
    route.do("UT_decide_requested_setting", {
        "name_requested_setting": False, "s39_4_ground": "incompatible_efficient_resources",
        "refusal_reasons": "The needs can be met at the local school; the cost of the placement would be an "
                           "inefficient use of resources."}, "manager")
    with route.services.session_factory() as s:
        decision = s.scalars(select(HumanTask).where(HumanTask.bpmn_id == "UT_decide_requested_setting")).one()
        assert decision.submitted_data["s39_4_ground"] == "incompatible_efficient_resources"
    # The request not met, the LA names a school it thinks appropriate, after consulting it.
    assert route.open_tasks() == {"UT_choose_setting"}
    route.engine.clock.set(_at(2026, 3, 23))
    route.do("UT_choose_setting", {"naming_choice": "setting", "proposed_setting_id": world.school.id,
                                   "choice_reasons": "Mainstream school near home"}, "caseworker")
    route.consult(sent_on="2026-03-23")
    route.do("UT_setting_response", {"setting_can_meet_needs": "yes", "setting_response": "Yes"}, "school")
    route.do("UT_confirm_la_setting", {"name_proposed_setting": True, "confirm_reasons": "Meets the needs"},
             "manager")
    route.issue()  # 23 March, week 20: met
    final = route.versions()[-1]
    assert (final.sections["I"]["setting_id"], final.sections["I"]["basis"]) == (world.school.id, "la_choice")
    assert [d.status for d in route.deadlines("setting_consultation")] == ["missed", "met"]
    assert route.deadline("final_plan_20w").status == "met"
    assert ("We did not name the school or college you asked for because attendance there would be incompatible "
            "with the efficient use of resources (section 39(4)") in text_of(route.documents()[-1])


def test_only_a_type_of_school_can_be_specified(route: Route) -> None:
    route.start()
    route.contributions()
    route.draft_and_serve()
    route.family_responds()
    route.do("UT_choose_setting", {"naming_choice": "type_only", "named_type": "Maintained special school for "
                                   "communication and interaction needs",
                                   "choice_reasons": "No place can be named yet; the search continues"},
             "caseworker")
    assert route.open_tasks() == {"UT_issue_final_plan"}  # no_further_comments: no need to wait
    route.issue()
    section_i = route.versions()[-1].sections["I"]
    assert (section_i["setting_id"], section_i["type_only"], section_i["setting_type"]) == (
        None, True, "Maintained special school for communication and interaction needs")


def test_personal_budget_agreed_before_the_draft_shows_in_the_draft(route: Route) -> None:
    route.start(personal_budget_requested=True)
    route.contributions()
    assert route.open_tasks() == {"UT_pb_decide"}
    pb = {"pb_decision": "agree", "pb_indicative_amount": 2400, "pb_provision": "F1 speech and language therapy",
          "pb_needs_outcomes": "B1, E1", "pb_direct_payments": True, "pb_dp_on_setting_premises": False,
          "pb_dp_needs_outcomes": "B1: therapy at home after school"}
    route.do("UT_pb_decide", pb, "manager")
    assert route.open_tasks() == {"UT_draft_plan"}
    route.draft_and_serve()
    draft_j = route.versions()[0].sections["J"]
    assert (draft_j["status"], draft_j["indicative_amount"], draft_j["direct_payments"]) == ("agreed", 2400.0, True)
    route.family_responds()
    route.la_names(route.world.school.id, "school")
    route.issue()
    final_j = route.versions()[-1].sections["J"]
    assert final_j == draft_j
    assert final_j["dp_needs_and_outcomes"] == "B1: therapy at home after school"


def test_personal_budget_requested_with_the_comments_and_refused(route: Route) -> None:
    route.start()
    route.contributions()
    route.draft_and_serve()
    assert route.versions()[0].sections["J"]["status"] == "not_requested"
    route.family_responds(request_personal_budget=True)
    assert route.open_tasks() == {"UT_pb_decide"}
    task = route.task("UT_pb_decide")
    with pytest.raises(FormInvalid) as bad:
        route.engine.complete_task(task.id, {"pb_decision": "refuse"}, route.world.users["manager"])
    assert "pb_refusal_reasons" in bad.value.errors
    route.do("UT_pb_decide", {"pb_decision": "refuse", "pb_refusal_reasons": "The provision cannot be separated "
                              "from the school's whole-class provision."}, "manager")
    assert route.open_tasks() == {"UT_choose_setting"}
    route.la_names(route.world.school.id, "school")
    route.issue()
    refusal = next(d for d in route.documents() if d.kind == "pd_personal_budget_refusal")
    assert not refusal.appealable
    assert "You can ask us to review this decision" in text_of(refusal)
    assert "cannot be appealed to the First-tier Tribunal" in text_of(refusal)
    final_j = route.versions()[-1].sections["J"]
    assert final_j["status"] == "refused"
    assert final_j["refusal_reasons"].startswith("The provision cannot be separated")


def test_direct_payments_refused_by_the_setting(route: Route) -> None:
    route.start(personal_budget_requested=True)
    route.contributions()
    route.do("UT_pb_decide", {"pb_decision": "agree", "pb_indicative_amount": 1500,
                              "pb_provision": "F1 speech and language therapy", "pb_direct_payments": True,
                              "pb_dp_on_setting_premises": True,
                              "pb_dp_needs_outcomes": "B1: therapist of the family's choice in school"}, "manager")
    setting = route.task("UT_dp_setting_agreement")
    assert setting.organisation_id == route.world.school.id  # the school the child attends
    route.do("UT_dp_setting_agreement", {"dp_setting_agrees": False,
                                         "dp_setting_reasons": "We cannot host an outside therapist."}, "school")
    assert route.open_tasks() == {"UT_draft_plan"}
    route.draft_and_serve()
    j = route.versions()[0].sections["J"]
    assert (j["status"], j["direct_payments"], j["dp_on_setting_premises"], j["dp_setting_agreed"]) == (
        "agreed", False, True, False)
    told = next(d for d in route.documents() if d.kind == "pd_direct_payments_refused")
    assert [(r["name"], r["copy"]) for r in told.recipients] == [("Parent", False), ("Test Primary School", True)]
    assert "We cannot host an outside therapist." in text_of(told)


def test_representations_lead_to_a_second_draft(route: Route) -> None:
    route.start()
    route.contributions()
    route.draft_and_serve()
    route.engine.clock.set(_at(2026, 3, 9))
    route.family_responds(representations="Section F does not say who will run the social skills group.")
    route.do("UT_consider_representations", {"representations_response": "Agreed: added as F3.",
                                             "changes_agreed": True}, "caseworker")
    new_f = {"provision": [*DRAFT["section_f"]["provision"],
                           {"description": "Social skills group", "amount": "1 hour a week",
                            "provided_by": "SENCO", "needs": ["B1"]}]}
    route.do("UT_revise_draft", {"changes_summary": "Added a social skills group (F3)",
                                 "plan_changes": {"section_f": new_f}}, "caseworker")
    draft1, draft2 = route.versions()
    assert (draft2.label, draft2.kind, draft2.based_on_id) == ("Draft 2", "draft", draft1.id)
    revised = route.documents()[-1]
    assert revised.kind == "pd_revised_draft" and "Added a social skills group (F3)" in text_of(revised)
    changes = compare_versions(draft1, draft2)
    assert [c.section for c in changes] == ["F"]
    assert (changes[0].added, changes[0].removed, changes[0].changed) == (("F3",), (), ())
    route.la_names(route.world.school.id, "school")
    route.issue()  # 9 March, the family said these were all their comments
    final = route.versions()[-1]
    assert (final.label, final.based_on_id) == ("Final plan", draft2.id)
    assert [c.section for c in compare_versions(draft2, final)] == ["I"]
    assert [v.label for v in route.versions()] == ["Draft 1", "Draft 2", "Final plan"]


def test_family_silence_ends_the_15_days_and_the_la_carries_on(route: Route) -> None:
    route.start()
    route.contributions()
    route.draft_and_serve(served_on="2026-03-02")
    # Day 15 is Monday 16 March; at 23:59:59 on 16 March (GMT) the period is still running.
    assert route.at(_at(2026, 3, 16, 23, 59, 59)) == 0
    assert route.open_tasks() == {"UT_family_response"}
    assert route.at(_at(2026, 3, 17, 0, 0, 1)) == 1
    assert route.open_tasks() == {"UT_choose_setting"}
    route.la_names(route.world.school.id, "school")
    assert route.open_tasks() == {"UT_issue_final_plan"}  # the period is already over: no wait


def test_final_plan_in_week_21_is_missed_and_escalated(route: Route) -> None:
    route.start()
    route.contributions()
    route.draft_and_serve()
    route.family_responds(no_further_comments=False)
    route.la_names(route.world.school.id, "school")
    route.at(_at(2026, 3, 17, 0, 0, 1))
    assert route.open_tasks() == {"UT_issue_final_plan"}
    # Week 20 ends with Monday 30 March; BST has begun, so the day is over at 23:00 UTC.
    assert route.at(_at(2026, 3, 30, 22, 59, 59)) == 0
    assert route.deadline("final_plan_20w").status == "open"
    assert route.at(_at(2026, 3, 30, 23, 0, 1)) == 1
    week20 = route.deadline("final_plan_20w")
    assert (week20.status, week20.missed, week20.met_at) == ("missed", True, None)
    escalation = route.task("UT_final_plan_overdue")
    assert (escalation.role, escalation.organisation_id) == ("la_manager", route.world.la.id)
    # Issued on Wednesday 1 April, in week 21: still missed.
    route.engine.clock.set(_at(2026, 4, 1, 9))
    route.issue()
    week20 = route.deadline("final_plan_20w")
    assert (week20.status, week20.missed) == ("missed", True)
    assert route.status() == "completed"
    with route.services.session_factory() as s:  # the unfinished escalation is closed with the route
        overdue = s.scalars(select(HumanTask).where(HumanTask.bpmn_id == "UT_final_plan_overdue")).one()
        assert overdue.status == "cancelled"
    assert route.deadline("annual_review").due_date == date(2027, 4, 1)


def test_a_final_plan_issued_late_records_when_it_was_issued(route: Route) -> None:
    route.start()
    route.contributions()
    route.draft_and_serve()
    route.family_responds()
    route.la_names(route.world.school.id, "school")
    route.at(_at(2026, 3, 30, 23, 0, 1))  # week 20 is over: missed
    route.engine.clock.set(_at(2026, 4, 1, 9))
    route.issue()
    week20 = route.deadline("final_plan_20w")
    assert (week20.status, week20.met_at) == ("missed", _at(2026, 4, 1, 9))
    assert "deadline_done_late" in route.audit_actions()


def test_the_assessment_s_20_week_deadline_row_is_the_one_met(route: Route) -> None:
    """The assessment opens final_plan_20w (opensDeadline); plan drafting takes over that row, never a second one."""
    with route.services.session_factory() as s:
        s.add(Deadline(case_id=route.world.case_id, key="final_plan_20w", name="Final EHC plan (20 weeks)",
                       process_id="ehc_needs_assessment", due_date=date(2026, 3, 30), started_on=date(2025, 11, 10),
                       status="open", missed=False))
        s.commit()
    route.start()
    row = route.deadline("final_plan_20w")
    assert (row.name, row.instance_id, row.timer_guid is not None) == ("Final EHC plan (20 weeks)",
                                                                        route.instance_id, True)
    route.contributions()
    route.draft_and_serve()
    route.family_responds()
    route.la_names(route.world.school.id, "school")
    route.issue()
    assert route.deadline("final_plan_20w").status == "met"


def test_a_draft_breaking_the_section_f_rule_is_refused_and_nothing_is_saved(route: Route) -> None:
    route.start()
    route.contributions()
    task = route.task("UT_draft_plan")
    before = route.check_restore()
    only_b1 = {**DRAFT, "section_f": {"provision": [DRAFT["section_f"]["provision"][0]]}}
    with pytest.raises(FormInvalid) as bad:
        route.engine.complete_task(task.id, only_b1, route.world.users["caseworker"])
    assert bad.value.errors == {"section_f": "Section F has no provision for need B2 in section B: Difficulty "
                                             "holding instructions in mind"}
    after = route.check_restore()
    assert (after.state, after.status) == (before.state, before.status)
    assert route.versions() == []
    assert route.open_tasks() == {"UT_draft_plan"}


def test_only_the_consulted_setting_can_answer_the_consultation(route: Route) -> None:
    from engine.errors import NotAllowed

    route.start()
    route.contributions()
    route.draft_and_serve()
    route.family_responds(request_setting=True, requested_setting_id=route.academy_id)
    route.consult()
    task = route.task("UT_setting_response")
    with pytest.raises(NotAllowed):
        route.engine.complete_task(task.id, {"setting_can_meet_needs": "yes", "setting_response": "x"},
                                   route.world.users["school"])


def test_the_directory_offers_the_settings_to_name(route: Route) -> None:
    from engine.casework.setting_directory import settings_directory

    with route.services.session_factory() as s:
        academies = settings_directory(s, "academy")
        assert [o.name for o in academies] == ["Hill Academy"]
        mine = settings_directory(s, maintaining_la_id=route.world.la.id)
        assert [o.name for o in mine] == ["Brook School", "Test Primary School"]
        assert all(isinstance(o, Organisation) and o.kind == "setting" for o in mine)
        parties = s.scalars(select(CaseParty).where(CaseParty.case_id == route.world.case_id)).all()
        assert any(p.role == "setting" and p.organisation_id == route.world.school.id for p in parties)


def test_demo_case_goes_from_decided_to_issue_to_a_final_plan(services: Services,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from demo import seed as demo
    from demo.assessment import seed_plan_drafting
    from engine.casework.plan_render import render_plan_html, render_plan_pdf

    services.engine.deploy(ProcessRegistry.from_files([ROOT / "workflows" / f"{PROCESS}.bpmn"], ROOT / "forms"))
    monkeypatch.setattr(demo, "SEEDERS", [seed_plan_drafting])  # this route's seeder only
    ctx = demo.seed(services.engine)
    case_id = ctx.cases["Leo Hughes"]
    with services.session_factory() as s:
        versions = list_versions(s, case_id)
        assert [v.label for v in versions] == ["Draft 1", "Draft 2", "Final plan"]
        final = versions[-1]
        assert final.sections["I"]["name"] == "Oakwood Academy" and final.sections["J"]["status"] == "agreed"
        assert any(p["preparing_for_adulthood"] for p in final.sections["F"]["provision"])  # Leo is in Year 9
        assert [a["provider"] for a in final.sections["K"]["advice"]][:2] == [
            "Lee Shah (SENCO), Oakwood Academy", "Dr Eleanor Park"]
        assert render_plan_pdf(s, final).startswith(b"%PDF-")
        assert "Oakwood Academy" in render_plan_html(s, final)
        instance = s.scalars(select(ProcessInstance).where(ProcessInstance.case_id == case_id)).one()
        assert instance.status == "completed"
    assert ("parent.hughes@example.com", "Parent or young person", "Leo Hughes's family") in ctx.credentials


def test_the_route_file_is_complete_and_its_expressions_compile() -> None:
    """Every element has a shape in the diagram and a lane; user tasks have a known lane and a valid form; every
    script, condition, timer and property expression compiles in the sandbox; timers end a statutory day."""
    import json

    from jsonschema import Draft202012Validator
    from lxml import etree

    from engine.library.sandbox import compile_check
    from engine.people.roles import LANE_ROLES

    ns = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL",
          "bpmndi": "http://www.omg.org/spec/BPMN/20100524/DI",
          "spiffworkflow": "http://spiffworkflow.org/bpmn/schema/1.0/core"}
    tree = etree.parse(str(ROOT / "workflows" / f"{PROCESS}.bpmn"))
    process = tree.find("bpmn:process", ns)
    assert process.get("id") == PROCESS and process.get("isExecutable") == "true"
    node_tags = ("startEvent", "endEvent", "userTask", "scriptTask", "exclusiveGateway", "parallelGateway",
                 "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent")
    nodes = [n for tag in node_tags for n in process.findall(f"bpmn:{tag}", ns)]
    flows = process.findall("bpmn:sequenceFlow", ns)
    lanes = process.findall("bpmn:laneSet/bpmn:lane", ns)
    drawn = {e.get("bpmnElement") for e in tree.iterfind(".//bpmndi:BPMNShape", ns)} | {
        e.get("bpmnElement") for e in tree.iterfind(".//bpmndi:BPMNEdge", ns)}
    ids = [n.get("id") for n in nodes] + [f.get("id") for f in flows] + [lane.get("id") for lane in lanes]
    assert set(ids) <= drawn, set(ids) - drawn
    assert not {"Start", "End", "Root"} & set(ids)
    lane_of = {ref.text: lane.get("name") for lane in lanes for ref in lane.findall("bpmn:flowNodeRef", ns)}
    assert {lane.get("name") for lane in lanes} == {"LA caseworker", "LA decision panel", "Family", "School",
                                                     "Health", "Social care"}
    assert set(lane_of) == {n.get("id") for n in nodes}

    def props(node: Any) -> dict[str, str]:
        return {p.get("name"): p.get("value") for p in node.iterfind(".//spiffworkflow:property", ns)}

    for task in process.findall("bpmn:userTask", ns):
        assert lane_of[task.get("id")] in LANE_ROLES
        form = json.loads((ROOT / "forms" / props(task)["formJsonSchemaFilename"]).read_text())
        Draft202012Validator.check_schema(form)
        assert props(task)["formJsonSchemaFilename"].startswith("pd_")
    for node in nodes:
        p = props(node)
        for name in ("dueDate", "deadlineDetail", "organisation"):
            if name in p:
                assert compile_check(p[name], "eval") == [], (node.get("id"), name)
        if "opensDeadline" in p:
            assert compile_check(p["opensDeadline"].partition(":")[2].strip(), "eval") == []
        for script in [*node.iterfind("bpmn:script", ns), *node.iterfind(".//spiffworkflow:postScript", ns)]:
            assert compile_check(script.text, "exec") == [], node.get("id")
        for timer in node.iterfind(".//bpmn:timeDate", ns):
            assert timer.text.startswith("deadline_at(") and compile_check(timer.text, "eval") == []
    for flow in flows:
        condition = flow.find("bpmn:conditionExpression", ns)
        if condition is not None:
            assert compile_check(condition.text, "eval") == [], flow.get("id")
    gateways = process.findall("bpmn:exclusiveGateway", ns)
    for gateway in gateways:  # a decision has a default, so no gateway can be left with no way out
        if len(process.findall(f"bpmn:sequenceFlow[@sourceRef='{gateway.get('id')}']", ns)) > 1:
            assert gateway.get("default"), gateway.get("id")
