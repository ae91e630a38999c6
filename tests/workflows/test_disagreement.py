"""Scenario tests for the disagreement routes: workflows/disagreement_resolution.bpmn (with mediation.bpmn and
tribunal_order.bpmn), disagreement_resolution_service.bpmn and complaint.bpmn.

Every step goes through the engine; after every step each instance on the case is restored from its saved state and
serialized again, which must give the same document. Dates worked out by hand (England and Wales bank holidays 2026:
Good Friday 3 April, Easter Monday 6 April, 4 May, 25 May, 31 August, 25 and 28 December; "tribunal working days"
also leave out 25 December to 1 January and every day in August):

- A decision notice sent on Monday 2 March 2026: the family contacts the mediation adviser by Saturday 2 May (2
  months), and without a certificate can appeal by then too.
- Mediation declined, the adviser told on Wednesday 4 March: certificate due 3 working days later, Monday 9 March.
  Issued Friday 6 March: the appeal deadline is the later of 2 May (2 months after the notice) and 6 April (1 month
  after the certificate): 2 May. It closes at the end of 2 May, 23:00 UTC (BST).
- Mediation held: the adviser is told on Thursday 30 April, so mediation is due by Saturday 30 May (30 days). Held on
  Wednesday 20 May: certificate due 3 working days later, Thursday 21, Friday 22, (Monday 25 May is a bank holiday)
  Tuesday 26 May. Issued Friday 22 May: the appeal deadline is the later of 2 May and 22 June: 22 June. What was
  agreed that a tribunal could not order is due in 2 weeks, 3 June; the agreement to amend the plan is carried out
  as an order from 20 May: amended plan by 24 June (5 weeks).
- Mediation not held: the adviser is told on Monday 9 March; 30 days end on Wednesday 8 April (23:00 UTC, BST). The
  certificate is then due 3 working days later, Monday 13 April; issued Friday 10 April, so the appeal deadline is the
  later of 2 May and 10 May: Sunday 10 May. An appeal sent to the authority on Tuesday 28 April must be answered
  within 30 tribunal working days: 29-30 April (2), 1 May (3), 4 May is a bank holiday, 5-8 May (7), 11-15 (12),
  18-22 (17), 25 May is a bank holiday, 26-29 (21), 1-5 June (26), 8-11 June (30): Thursday 11 June.
- A section I appeal sent to the authority on Wednesday 1 April: 2 April (1), Easter, 7-10 April (5), 13-17 (10),
  20-24 (15), 27-30 (19), 1 May (20), 4 May, 5-8 (24), 11-15 (29), 18 May (30): Monday 18 May. Conceded on Friday 10
  April (regulation 45): the amended plan naming the school is due 2 weeks later, 24 April.
- An appeal sent on Monday 20 July 2026: 21-24 July (4), 27-31 July (9), August does not count, 1-4 September (13),
  7-11 (18), 14-18 (23), 21-25 (28), 28-29 September (30): the response is due Tuesday 29 September.
- Orders dated Monday 2 March 2026: 2 weeks is 16 March, 5 weeks 6 April, 10 weeks 11 May, 11 weeks 18 May, 14
  weeks 8 June.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from engine.library.registry import ProcessRegistry
from engine.people.access import can_act_on_task
from engine.runtime.services import Services
from engine.store.models import AuditEvent, Deadline, Document, HumanTask, Message, ProcessInstance, User
from tests.conftest import World

ROOT = Path(__file__).resolve().parents[2]
ROUTES = ["disagreement_resolution", "mediation", "tribunal_order", "disagreement_resolution_service", "complaint"]


def at(year: int, month: int, day: int, hour: int = 10, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def stub(process_id: str, message: str | None = None) -> str:
    """A stand-in for another route: it waits for a message (when given) or for nothing, so that these tests see
    what these routes start or tell without depending on the other routes' own data."""
    wait = ('<bpmn:intermediateCatchEvent id="ICE_wait"><bpmn:incoming>F1</bpmn:incoming>'
            '<bpmn:outgoing>F2</bpmn:outgoing><bpmn:messageEventDefinition id="MED" messageRef="Message_wait">'
            '<bpmn:extensionElements><spiffworkflow:messageVariable>received</spiffworkflow:messageVariable>'
            '</bpmn:extensionElements></bpmn:messageEventDefinition></bpmn:intermediateCatchEvent>'
            if message else
            '<bpmn:userTask id="UT_wait" name="Stand-in step"><bpmn:incoming>F1</bpmn:incoming>'
            '<bpmn:outgoing>F2</bpmn:outgoing></bpmn:userTask>')
    target = "ICE_wait" if message else "UT_wait"
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="Defs_{process_id}"
    targetNamespace="http://ehcflow.example/bpmn">
  {f'<bpmn:message id="Message_wait" name="{message}" />' if message else ''}
  <bpmn:process id="{process_id}" name="{process_id} (test stand-in)" isExecutable="true">
    <bpmn:startEvent id="SE_stub"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
    {wait}
    <bpmn:endEvent id="EE_stub"><bpmn:incoming>F2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="SE_stub" targetRef="{target}" />
    <bpmn:sequenceFlow id="F2" sourceRef="{target}" targetRef="EE_stub" />
  </bpmn:process>
</bpmn:definitions>
"""


class Case:
    """Drives the disagreement routes on the world's case, restoring every instance after every step."""

    def __init__(self, services: Services, world: World) -> None:
        self.services = services
        self.world = world
        self.engine = services.engine
        self.case_id = world.case_id
        registry = ProcessRegistry.from_files([ROOT / "workflows" / f"{r}.bpmn" for r in ROUTES], ROOT / "forms")
        self.engine.deploy(registry)

    def deploy_stub(self, process_id: str, message: str | None = None) -> None:
        self.engine.deploy(ProcessRegistry.from_texts({f"workflows/{process_id}.bpmn": stub(process_id, message)},
                                                      None))

    # ---- commands ------------------------------------------------------------------------------------------------
    def tell(self, name: str, payload: dict[str, Any]) -> int:
        instance_id = self.engine.send_message(self.case_id, name, payload, self.world.users["caseworker"])
        self.check_restore()
        return instance_id

    def notice(self, decision: str, sent_on: str, **extra: Any) -> int:
        return self.tell("appealable_decision_notified", {"decision": decision, "notice_sent_on": sent_on, **extra})

    def do(self, bpmn_id: str, data: dict[str, Any], user: str | User) -> None:
        actor = self.world.users[user] if isinstance(user, str) else user
        self.engine.complete_task(self.task(bpmn_id).id, data, actor)
        self.check_restore()

    def at(self, when: datetime) -> int:
        self.engine.clock.set(when)
        fired = self.engine.fire_due_timers()
        self.check_restore()
        return fired

    def check_restore(self) -> None:
        with self.services.session_factory() as s:
            for instance in s.scalars(select(ProcessInstance).where(ProcessInstance.case_id == self.case_id)):
                if instance.status not in ("completed", "terminated"):
                    wf = self.engine.load_workflow(instance)
                    assert self.engine.serializer.dumps(wf) == instance.state

    # ---- reading -------------------------------------------------------------------------------------------------
    def task(self, bpmn_id: str) -> HumanTask:
        with self.services.session_factory() as s:
            return s.scalars(select(HumanTask).where(HumanTask.case_id == self.case_id, HumanTask.bpmn_id == bpmn_id,
                                                     HumanTask.status == "open")).one()

    def open_tasks(self) -> set[str]:
        with self.services.session_factory() as s:
            return set(s.scalars(select(HumanTask.bpmn_id).where(HumanTask.case_id == self.case_id,
                                                                 HumanTask.status == "open")))

    def deadline(self, key: str) -> Deadline:
        with self.services.session_factory() as s:
            row = s.scalars(select(Deadline).where(Deadline.case_id == self.case_id, Deadline.key == key)
                            .order_by(Deadline.id.desc())).first()
            assert row is not None, f"no deadline {key}"
            return row

    def deadlines(self) -> dict[str, tuple[date, str]]:
        with self.services.session_factory() as s:
            return {d.key: (d.due_date, d.status) for d in s.scalars(
                select(Deadline).where(Deadline.case_id == self.case_id).order_by(Deadline.id))}

    def status(self, instance_id: int) -> str:
        with self.services.session_factory() as s:
            return s.get(ProcessInstance, instance_id).status

    def instances(self, process_id: str) -> list[ProcessInstance]:
        with self.services.session_factory() as s:
            return list(s.scalars(select(ProcessInstance).where(ProcessInstance.case_id == self.case_id,
                                                                ProcessInstance.process_id == process_id)
                                  .order_by(ProcessInstance.id)))

    def documents(self, kind: str) -> list[Document]:
        with self.services.session_factory() as s:
            rows = list(s.scalars(select(Document).where(Document.case_id == self.case_id, Document.kind == kind)
                                  .order_by(Document.id)))
            for row in rows:
                s.expunge(row)
            return rows

    def events(self, action: str) -> list[AuditEvent]:
        with self.services.session_factory() as s:
            return list(s.scalars(select(AuditEvent).where(AuditEvent.case_id == self.case_id,
                                                           AuditEvent.action == action)))

    def data_of(self, instance_id: int, spec_name: str) -> dict[str, Any]:
        with self.services.session_factory() as s:
            wf = self.engine.load_workflow(s.get(ProcessInstance, instance_id))
        tasks = wf.get_tasks(spec_name=spec_name)  # inside call activities too
        assert tasks, spec_name
        return dict(tasks[-1].data)


@pytest.fixture
def case(services: Services, world: World) -> Case:
    return Case(services, world)


def text_of(document: Document) -> str:
    from bs4 import BeautifulSoup

    return " ".join(BeautifulSoup(document.body_html, "html.parser").get_text().split())


# ---- mediation declined; the appeal window set by the notice ---------------------------------------------------------

def test_mediation_declined_certificate_and_the_window_closing_two_months_after_the_notice(case: Case) -> None:
    world = case.world
    iid = case.notice("refuse_assess", "2026-03-02")
    contact = case.task("UT_adviser_contact")
    assert (contact.role, contact.organisation_id, contact.due_date) == ("mediation", world.mediation.id,
                                                                         date(2026, 5, 2))
    case.engine.clock.set(at(2026, 3, 4))
    case.do("UT_adviser_contact", {"contacted_on": "2026-03-04", "wants_mediation": "no"}, "mediation")
    certificate = case.task("UT_certificate_no_mediation")
    assert certificate.due_date == date(2026, 3, 9)
    assert case.deadline("mediation_certificate").due_date == date(2026, 3, 9)

    case.engine.clock.set(at(2026, 3, 6))
    case.do("UT_certificate_no_mediation", {"certificate_reference": "MC-1"}, "mediation")
    assert case.deadline("mediation_certificate").status == "met"
    (issued,) = case.documents("dr_mediation_certificate")
    body = text_of(issued)
    assert issued.title == "Mediation certificate for Alex Taylor"
    assert [r["name"] for r in issued.recipients] == ["Parent", "Testshire Council"]
    assert "do not wish to pursue mediation" in body
    assert "by 2 May 2026" in body and "not to carry out an EHC needs assessment" in body
    appeal = case.task("UT_record_appeal")
    assert (appeal.role, appeal.organisation_id, appeal.due_date) == ("la_caseworker", world.la.id, date(2026, 5, 2))

    # Saturday 2 May ends at 23:00 UTC (BST): no appeal came, the route ends.
    assert case.at(at(2026, 5, 2, 22, 59, 59)) == 0
    assert case.at(at(2026, 5, 2, 23, 0, 1)) == 1
    assert case.status(iid) == "completed"
    assert case.open_tasks() == set()


def test_no_contact_with_the_adviser_within_two_months_closes_the_route(case: Case) -> None:
    iid = case.notice("refuse_issue", "2026-03-02")
    assert case.at(at(2026, 5, 2, 23, 0, 1)) == 1
    assert case.status(iid) == "completed"
    assert case.open_tasks() == set()


# ---- mediation held; the appeal window set by the certificate; the agreement carried out -------------------------------

def test_mediation_held_with_an_agreement_and_the_window_a_month_after_the_certificate(case: Case) -> None:
    world = case.world
    iid = case.notice("final_plan", "2026-03-02", sections=["B", "F"])
    case.engine.clock.set(at(2026, 4, 30))
    case.do("UT_adviser_contact", {"contacted_on": "2026-04-30", "wants_mediation": "yes",
                                   "mediation_issues": "Speech and language provision in section F",
                                   "health_issues": "yes", "health_provision_sought": "Speech therapy",
                                   "social_care_issues": "no"}, "mediation")
    arrange = case.task("UT_arrange_mediation")
    assert (arrange.organisation_id, arrange.due_date) == (world.la.id, date(2026, 5, 30))
    assert case.deadline("mediation_held").due_date == date(2026, 5, 30)

    case.engine.clock.set(at(2026, 5, 4))
    case.do("UT_arrange_mediation", {"mediator_name": "Sam Reed", "mediation_on": "2026-05-20",
                                     "attending_for_la": "Morgan Price, SEN manager", "invite_health": "no",
                                     "invite_social_care": "no"}, "caseworker")
    (letter,) = case.documents("dr_mediation_arrangements")
    assert "20 May 2026" in letter.title and "The health body has been asked to attend" in text_of(letter)
    # The issues include health care: health must attend, even though the caseworker did not tick it.
    assert case.open_tasks() == {"UT_health_attendance", "UT_mediation_outcome"}
    assert case.task("UT_health_attendance").organisation_id == world.health.id
    case.do("UT_health_attendance", {"attendee_name": "Dr Ng", "can_agree_provision": "yes"}, "health")

    case.engine.clock.set(at(2026, 5, 20, 16))
    case.do("UT_mediation_outcome", {"held_on": "2026-05-20", "agreement_reached": "yes",
                                     "agreement_summary": "Section F to specify weekly speech therapy",
                                     "non_appealable_actions": "A speech therapy trial this term",
                                     "agreement_order_kind": "amend"}, "mediation")
    assert case.deadline("mediation_held").status == "met"
    (agreement,) = case.documents("dr_mediation_agreement")
    assert "amend the EHC plan" in text_of(agreement)
    assert case.task("UT_certificate_after_mediation").due_date == date(2026, 5, 26)

    case.engine.clock.set(at(2026, 5, 22))
    case.do("UT_certificate_after_mediation", {}, "mediation")
    (certificate,) = case.documents("dr_mediation_certificate")
    assert "mediation took place" in text_of(certificate) and "by 22 June 2026" in text_of(certificate)
    assert case.task("UT_record_appeal").due_date == date(2026, 6, 22)
    # The agreement: a non-appealable action in 2 weeks, and the amendment as if the tribunal had ordered it.
    assert case.task("UT_agreed_actions").due_date == date(2026, 6, 3)
    assert case.task("UT_confirm_amended_plan").due_date == date(2026, 6, 24)
    # The order is carried out inside this route (a call activity), from the day of the agreement.
    assert case.data_of(iid, "UT_confirm_amended_plan")["order_source"] == "mediation_agreement"
    (notice,) = case.documents("to_compliance_notice")
    assert "At mediation on 20 May 2026 we agreed" in text_of(notice) and "by 24 June 2026" in text_of(notice)
    assert case.events("route_not_started")  # plan_amendment is not deployed in this test

    case.engine.clock.set(at(2026, 6, 1))
    case.do("UT_agreed_actions", {"actions_done_on": "2026-06-01"}, "caseworker")
    assert case.deadline("mediation_agreement_actions").status == "met"
    case.do("UT_confirm_amended_plan", {"done_on": "2026-06-01"}, "caseworker")
    assert case.deadline("order_amended_plan").status == "met"

    # No appeal: the window closes at the end of Monday 22 June.
    assert case.at(at(2026, 6, 22, 23, 0, 1)) == 1
    assert case.status(iid) == "completed"


# ---- mediation not held in 30 days; an appeal, opposed, decided, ordered -------------------------------------------

def test_mediation_not_held_in_30_days_then_an_appeal_to_a_make_plan_order(case: Case) -> None:
    world = case.world
    iid = case.notice("refuse_issue", "2026-03-02")
    case.engine.clock.set(at(2026, 3, 9))
    case.do("UT_adviser_contact", {"contacted_on": "2026-03-09", "wants_mediation": "yes",
                                   "mediation_issues": "Whether a plan is needed", "health_issues": "no",
                                   "social_care_issues": "no"}, "mediation")
    assert case.deadline("mediation_held").due_date == date(2026, 4, 8)
    case.do("UT_arrange_mediation", {"mediator_name": "Sam Reed", "mediation_on": "2026-04-20",
                                     "attending_for_la": "Morgan Price", "invite_health": "no",
                                     "invite_social_care": "no"}, "caseworker")
    assert case.open_tasks() == {"UT_mediation_outcome"}
    # 30 days end with Wednesday 8 April (23:00 UTC, BST): mediation was not held, and the mediator's step goes.
    assert case.at(at(2026, 4, 8, 22, 59, 59)) == 0
    assert case.at(at(2026, 4, 8, 23, 0, 1)) == 1
    held = case.deadline("mediation_held")
    assert (held.status, held.missed) == ("missed", True)
    assert case.open_tasks() == {"UT_certificate_not_held"}
    assert case.task("UT_certificate_not_held").due_date == date(2026, 4, 13)

    case.engine.clock.set(at(2026, 4, 10))
    case.do("UT_certificate_not_held", {}, "mediation")
    (certificate,) = case.documents("dr_mediation_certificate")
    assert "mediation was not held in time" in text_of(certificate) and "by 10 May 2026" in text_of(certificate)
    assert case.task("UT_record_appeal").due_date == date(2026, 5, 10)

    case.engine.clock.set(at(2026, 4, 28))
    case.do("UT_record_appeal", {"registered_on": "2026-04-27", "sent_to_la_on": "2026-04-28",
                                 "section_i_only": "no", "tribunal_reference": "EH101/26/00042"}, "caseworker")
    response = case.task("UT_la_response")
    assert response.due_date == date(2026, 6, 11)
    assert case.deadline("tribunal_response").due_date == date(2026, 6, 11)
    case.engine.clock.set(at(2026, 6, 5))
    case.do("UT_la_response", {"la_position": "oppose", "response_summary": "The needs can be met by SEN support"},
            "caseworker")
    assert case.deadline("tribunal_response").status == "met"
    (response_doc,) = case.documents("dr_la_response")
    assert [r["name"] for r in response_doc.recipients] == [
        "First-tier Tribunal (Special Educational Needs and Disability)", "Parent"]
    assert "opposes this appeal" in text_of(response_doc)

    case.engine.clock.set(at(2026, 9, 14))
    case.do("UT_record_hearing", {"hearing_on": "2026-09-14", "on_the_papers": "no"}, "caseworker")
    assert case.task("UT_record_decision").due_date == date(2026, 9, 28)  # 10 working days, practice only
    case.engine.clock.set(at(2026, 9, 28))
    case.do("UT_record_decision", {"decision_received_on": "2026-09-28", "appeal_outcome": "allowed",
                                   "order_kind": "make_plan", "order_date": "2026-09-25",
                                   "order_summary": "The authority must make and maintain a plan",
                                   "health_recommendations": "yes",
                                   "health_recommendation_text": "Provide occupational therapy",
                                   "social_care_recommendations": "no"}, "caseworker")
    assert "allowed your appeal" in text_of(case.documents("dr_tribunal_decision")[0])
    # Order of Friday 25 September: draft by 30 October (5 weeks), final by 11 December (11 weeks); the health
    # body answers the recommendation by 30 October (5 weeks).
    assert case.task("UT_confirm_draft_plan").due_date == date(2026, 10, 30)
    assert case.task("UT_health_recommendations").organisation_id == world.health.id
    assert case.task("UT_health_recommendations").due_date == date(2026, 10, 30)
    case.engine.clock.set(at(2026, 10, 20))
    case.do("UT_health_recommendations", {"follows_recommendations": "partly",
                                          "recommendation_response": "OT assessment agreed; weekly OT not funded"},
            "health")
    (health_doc,) = case.documents("to_health_response")
    assert "Testshire ICB" in text_of(health_doc) and "some of the recommendations" in text_of(health_doc)
    case.do("UT_confirm_draft_plan", {"done_on": "2026-10-20"}, "caseworker")
    assert case.task("UT_confirm_final_plan").due_date == date(2026, 12, 11)
    case.do("UT_confirm_final_plan", {"done_on": "2026-10-21"}, "caseworker")
    assert case.status(iid) == "completed"
    assert {k: v[1] for k, v in case.deadlines().items() if k.startswith("order_") or k.startswith("recomm")} == {
        "order_draft_plan": "met", "order_final_plan": "met", "recommendation_response_health": "met"}


# ---- a section I only appeal, conceded -------------------------------------------------------------------------------

def test_section_i_only_appeal_needs_no_certificate_and_a_concession_starts_the_clock(case: Case) -> None:
    iid = case.notice("final_plan", "2026-03-02", sections=["I"])
    case.engine.clock.set(at(2026, 4, 1))
    assert case.tell("appeal_registered", {"registered_on": "2026-03-31", "sent_to_la_on": "2026-04-01",
                                           "section_i_only": "yes", "tribunal_reference": "EH101/26/00077"}) == iid
    assert case.open_tasks() == {"UT_la_response"}  # the adviser's step is gone: no certificate needed
    data = case.data_of(iid, "UT_la_response")
    assert (data["certificate_missing"], data["response_due"]) == (False, "2026-05-18")
    case.engine.clock.set(at(2026, 4, 10))
    case.do("UT_la_response", {"la_position": "concede", "response_summary": "We will name the school asked for"},
            "caseworker")
    assert "does not oppose this appeal" in text_of(case.documents("dr_la_response")[0])
    # Regulation 45: decided for the family from Friday 10 April; only section I changes: 2 weeks, 24 April.
    amended = case.task("UT_confirm_amended_plan")
    assert amended.due_date == date(2026, 4, 24)
    order_data = case.data_of(iid, "UT_confirm_amended_plan")
    assert (order_data["order_kind"], order_data["order_source"]) == ("name_setting", "unopposed")
    assert "would not oppose your appeal" in text_of(case.documents("to_compliance_notice")[0])


def test_appeal_without_a_certificate_is_recorded_as_needing_permission(case: Case) -> None:
    iid = case.notice("cease", "2026-03-02")
    case.tell("appeal_registered", {"registered_on": "2026-03-20", "sent_to_la_on": "2026-03-23",
                                    "section_i_only": "no"})
    assert case.data_of(iid, "UT_la_response")["certificate_missing"] is True


# ---- ceasing upheld; the response clock across August ----------------------------------------------------------------

def test_appeal_against_ceasing_dismissed_ceases_the_plan_at_once(case: Case) -> None:
    case.deploy_stub("cease_plan", message="appeal_decided")
    case.engine.clock.set(at(2026, 6, 15))
    cease = case.engine.start(case.case_id, "cease_plan")
    iid = case.notice("cease", "2026-06-15")
    case.engine.clock.set(at(2026, 6, 16))
    case.do("UT_adviser_contact", {"contacted_on": "2026-06-16", "wants_mediation": "no"}, "mediation")
    case.engine.clock.set(at(2026, 6, 17))
    case.do("UT_certificate_no_mediation", {}, "mediation")
    # The later of 15 August (2 months after the notice) and 17 July (1 month after the certificate).
    assert case.task("UT_record_appeal").due_date == date(2026, 8, 15)
    case.engine.clock.set(at(2026, 7, 20))
    case.do("UT_record_appeal", {"registered_on": "2026-07-17", "sent_to_la_on": "2026-07-20",
                                 "section_i_only": "no"}, "caseworker")
    # 30 tribunal working days from Monday 20 July, August not counted: Tuesday 29 September.
    assert case.task("UT_la_response").due_date == date(2026, 9, 29)
    case.engine.clock.set(at(2026, 9, 1))
    case.do("UT_la_response", {"la_position": "oppose", "response_summary": "The outcomes have been achieved"},
            "caseworker")
    case.do("UT_record_hearing", {"hearing_on": "2026-11-02", "on_the_papers": "no"}, "caseworker")
    case.engine.clock.set(at(2026, 11, 6))
    case.do("UT_record_decision", {"decision_received_on": "2026-11-06", "appeal_outcome": "dismissed",
                                   "order_kind": "none", "order_date": "2026-11-05",
                                   "health_recommendations": "no", "social_care_recommendations": "no"},
            "caseworker")
    # Dismissed: the plan ceases at once, on the day the decision is received; the ceasing route is told.
    confirm = case.task("UT_confirm_cease")
    assert confirm.due_date == date(2026, 11, 6)
    assert case.status(cease) == "completed"
    received = case.data_of(cease, "EE_stub")["received"]
    assert received == {"outcome": "dismissed", "decided_on": "2026-11-06", "order_kind": "cease"}
    case.do("UT_confirm_cease", {"done_on": "2026-11-06"}, "caseworker")
    assert case.deadline("order_at_once").status == "met"
    assert case.status(iid) == "completed"


def test_appeal_withdrawn_before_the_response(case: Case) -> None:
    iid = case.notice("refuse_assess", "2026-03-02")
    case.tell("appeal_registered", {"registered_on": "2026-03-20", "sent_to_la_on": "2026-03-23",
                                    "section_i_only": "no"})
    assert case.deadline("tribunal_response").status == "open"
    case.engine.clock.set(at(2026, 4, 2))  # told on 2 April of a withdrawal on 30 March: dated 30 March
    case.tell("appeal_withdrawn", {"withdrawn_on": "2026-03-30"})
    assert case.deadline("tribunal_response").status == "cancelled"
    assert case.status(iid) == "completed"
    # The appeal was about refusing to assess: no ceasing route is told of its end (sendsMessageWhen).
    with case.services.session_factory() as s:
        assert s.scalars(select(Message).where(Message.case_id == case.case_id,
                                               Message.name.in_(("appeal_lodged", "appeal_decided")))).all() == []


def test_any_route_notice_starts_the_disagreement_route_in_the_same_step(case: Case) -> None:
    """What a route that issues an appealable notice adds to that step (sendsMessage), shown with a small route:
    the disagreement route starts in the same transaction, with the notice's date as its clock."""
    notice_route = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="D" targetNamespace="http://x">
  <bpmn:process id="refusal_notice" name="A route that refuses" isExecutable="true">
    <bpmn:startEvent id="SE_r"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="ST_notice" name="Send the decision not to assess">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="sendsMessage" value="appealable_decision_notified" />
        <spiffworkflow:property name="messagePayload"
          value='{"decision": "refuse_assess", "notice_sent_on": today(), "source": "refusal_notice"}' />
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing>
      <bpmn:script>refused_on = today()</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:endEvent id="EE_r"><bpmn:incoming>F2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="SE_r" targetRef="ST_notice" />
    <bpmn:sequenceFlow id="F2" sourceRef="ST_notice" targetRef="EE_r" />
  </bpmn:process>
</bpmn:definitions>
"""
    case.engine.deploy(ProcessRegistry.from_texts({"workflows/refusal_notice.bpmn": notice_route}, None))
    case.engine.clock.set(at(2026, 3, 2))
    refusal = case.engine.start(case.case_id, "refusal_notice")
    case.check_restore()
    (disagreement,) = case.instances("disagreement_resolution")
    assert disagreement.parent_instance_id == refusal
    assert case.task("UT_adviser_contact").due_date == date(2026, 5, 2)
    assert case.data_of(disagreement.id, "UT_adviser_contact")["notice"]["source"] == "refusal_notice"


def test_late_certificate_and_late_response_are_escalated_and_the_appeal_withdrawn_before_the_hearing(
        case: Case) -> None:
    iid = case.notice("refuse_assess", "2026-03-02")
    case.engine.clock.set(at(2026, 3, 4))
    case.do("UT_adviser_contact", {"contacted_on": "2026-03-04", "wants_mediation": "no"}, "mediation")
    # Certificate due Monday 9 March; the day ends at midnight GMT: missed, escalated to the authority's manager
    # (who chases the mediation service it commissions); the certificate still comes.
    assert case.at(at(2026, 3, 9, 23, 59, 59)) == 0
    assert case.at(at(2026, 3, 10, 0, 0, 1)) == 1
    assert case.deadline("mediation_certificate").status == "missed"
    late = case.task("UT_certificate_overdue")
    assert (late.role, late.organisation_id) == ("la_manager", case.world.la.id)
    assert case.open_tasks() == {"UT_certificate_no_mediation", "UT_certificate_overdue"}
    case.do("UT_certificate_overdue", {"action_taken": "Asked the mediation service to issue it today"}, "manager")
    case.engine.clock.set(at(2026, 3, 11))
    case.do("UT_certificate_no_mediation", {}, "mediation")
    assert case.deadline("mediation_certificate").met_at is not None
    case.engine.clock.set(at(2026, 3, 23))
    case.do("UT_record_appeal", {"registered_on": "2026-03-20", "sent_to_la_on": "2026-03-23",
                                 "section_i_only": "no"}, "caseworker")
    # 30 tribunal working days from Monday 23 March (Easter and 4 May not counted): Thursday 7 May.
    assert case.task("UT_la_response").due_date == date(2026, 5, 7)
    assert case.at(at(2026, 5, 7, 23, 0, 1)) == 1
    assert case.deadline("tribunal_response").status == "missed"
    overdue = case.task("UT_overdue")
    assert (overdue.role, overdue.organisation_id) == ("la_manager", case.world.la.id)
    case.do("UT_overdue", {"action_taken": "Response sent with an apology"}, "manager")
    case.do("UT_la_response", {"la_position": "oppose", "response_summary": "Late, but opposed"}, "caseworker")
    case.tell("appeal_withdrawn", {"withdrawn_on": "2026-06-01"})
    assert case.status(iid) == "completed"
    assert case.open_tasks() == set()


def test_appeal_dismissed_with_nothing_to_carry_out(case: Case) -> None:
    iid = case.notice("refuse_assess", "2026-03-02")
    case.tell("appeal_registered", {"registered_on": "2026-03-20", "sent_to_la_on": "2026-03-23",
                                    "section_i_only": "no"})
    case.do("UT_la_response", {"la_position": "oppose", "response_summary": "Opposed"}, "caseworker")
    case.do("UT_record_hearing", {"hearing_on": "2026-06-15", "on_the_papers": "yes"}, "caseworker")
    case.do("UT_record_decision", {"decision_received_on": "2026-06-20", "appeal_outcome": "dismissed",
                                   "order_kind": "none", "order_date": "2026-06-19",
                                   "health_recommendations": "no", "social_care_recommendations": "no"},
            "caseworker")
    assert "dismissed your appeal" in text_of(case.documents("dr_tribunal_decision")[0])
    assert case.status(iid) == "completed" and case.instances("tribunal_order") == []


def test_keeping_the_plan_agreed_at_mediation_with_social_care_there_tells_the_ceasing_route(case: Case) -> None:
    world = case.world
    case.deploy_stub("cease_plan", message="appeal_decided")
    cease = case.engine.start(case.case_id, "cease_plan")
    case.notice("cease", "2026-03-02")
    case.do("UT_adviser_contact", {"contacted_on": "2026-03-04", "wants_mediation": "yes",
                                   "mediation_issues": "Ceasing the plan", "health_issues": "no",
                                   "social_care_issues": "yes"}, "mediation")
    case.do("UT_arrange_mediation", {"mediator_name": "Sam Reed", "mediation_on": "2026-03-25",
                                     "attending_for_la": "Morgan Price", "invite_health": "no",
                                     "invite_social_care": "no"}, "caseworker")
    # Social care issues: social care attends even though the caseworker did not tick it.
    assert case.task("UT_social_care_attendance").organisation_id == world.la.id
    case.do("UT_social_care_attendance", {"attendee_name": "Sunita Cole", "can_agree_provision": "yes"},
            "socialcare")
    case.engine.clock.set(at(2026, 3, 25, 16))
    case.do("UT_mediation_outcome", {"held_on": "2026-03-25", "agreement_reached": "yes",
                                     "agreement_summary": "The plan continues", "agreement_order_kind": "keep"},
            "mediation")
    assert case.open_tasks() == {"UT_certificate_after_mediation", "UT_confirm_keep"}
    assert case.data_of(cease, "EE_stub")["received"] == {"outcome": "allowed", "agreed_at_mediation": True,
                                                           "decided_on": "2026-03-25"}
    assert case.task("UT_confirm_keep").due_date == date(2026, 3, 25)  # at once


# ---- each kind of tribunal order ------------------------------------------------------------------------------------------

ORDER_ROUTES = {"ehc_needs_assessment": None, "reassessment": None, "ehc_plan_drafting": None,
                "plan_amendment": None}


@pytest.mark.parametrize(
    ("kind", "source", "route", "steps"),
    [
        # Assess: tell the family in 2 weeks (16 March), decide in 10 (11 May), final plan in 14 (8 June).
        ("assess", "tribunal", "ehc_needs_assessment",
         [("UT_tell_family_will_assess", "order_assess_notice", date(2026, 3, 16), {"done_on": "2026-03-10"}),
          ("UT_assessment_decision", "order_assessment_decision", date(2026, 5, 11),
           {"will_issue": "yes", "decided_on": "2026-05-01"}),
          ("UT_confirm_final_plan", "order_final_plan", date(2026, 6, 8), {"done_on": "2026-06-01"})]),
        ("reassess", "unopposed", "reassessment",
         [("UT_tell_family_will_assess", "order_assess_notice", date(2026, 3, 16), {"done_on": "2026-03-10"}),
          ("UT_assessment_decision", "order_assessment_decision", date(2026, 5, 11),
           {"will_issue": "no", "decided_on": "2026-05-01"})]),
        # Make and maintain a plan: draft in 5 weeks (6 April), final in 11 (18 May).
        ("make_plan", "tribunal", "ehc_plan_drafting",
         [("UT_confirm_draft_plan", "order_draft_plan", date(2026, 4, 6), {"done_on": "2026-04-01"}),
          ("UT_confirm_final_plan", "order_final_plan", date(2026, 5, 18), {"done_on": "2026-05-11"})]),
        # Amend: 5 weeks (6 April); only the school named: 2 weeks (16 March).
        ("amend", "tribunal", "plan_amendment",
         [("UT_confirm_amended_plan", "order_amended_plan", date(2026, 4, 6), {"done_on": "2026-04-01"})]),
        ("name_setting", "tribunal", "plan_amendment",
         [("UT_confirm_amended_plan", "order_amended_plan", date(2026, 3, 16), {"done_on": "2026-03-12"})]),
        # Keep the plan, or cease it: at once.
        ("keep", "tribunal", None,
         [("UT_confirm_keep", "order_at_once", date(2026, 3, 2), {"done_on": "2026-03-02"})]),
        ("cease", "tribunal", None,
         [("UT_confirm_cease", "order_at_once", date(2026, 3, 2), {"done_on": "2026-03-02"})]),
    ],
)
def test_each_kind_of_order_has_its_clock_and_starts_its_route(case: Case, kind: str, source: str,
                                                              route: str | None,
                                                              steps: list[tuple[str, str, date, dict[str, Any]]]
                                                              ) -> None:
    for process_id in ORDER_ROUTES:
        case.deploy_stub(process_id)
    iid = case.engine.start(case.case_id, "tribunal_order",
                            {"order_kind": kind, "order_source": source, "order_date": "2026-03-02",
                             "health_recommendations": "no", "social_care_recommendations": "no"},
                            case.world.users["caseworker"])
    case.check_restore()
    if route is not None:
        (started,) = case.instances(route)
        assert started.parent_instance_id == iid
        assert case.data_of(started.id, "UT_wait")["tribunal_order"] == {"kind": kind, "source": source,
                                                                          "date": "2026-03-02"}
    (notice,) = case.documents("to_compliance_notice")
    assert notice.recipients[0]["name"] == "Parent"
    for bpmn_id, key, due, answers in steps:
        task = case.task(bpmn_id)
        assert (task.due_date, case.deadline(key).due_date) == (due, due), bpmn_id
        case.do(bpmn_id, answers, "caseworker")
        assert case.deadline(key).status == "met"
    assert case.status(iid) == "completed"


def test_recommendations_on_health_and_social_care_get_a_response_within_five_weeks(case: Case) -> None:
    iid = case.engine.start(case.case_id, "tribunal_order",
                            {"order_kind": "none", "order_source": "tribunal", "order_date": "2026-03-02",
                             "health_recommendations": "yes", "health_recommendation_text": "Audiology review",
                             "social_care_recommendations": "yes", "social_care_recommendation_text": "Short breaks"})
    case.check_restore()
    assert case.open_tasks() == {"UT_health_recommendations", "UT_social_care_recommendations"}
    assert case.task("UT_social_care_recommendations").due_date == date(2026, 4, 6)
    case.do("UT_social_care_recommendations", {"follows_recommendations": "yes",
                                               "recommendation_response": "Short breaks agreed"}, "socialcare")
    (letter,) = case.documents("to_social_care_response")
    assert "We will follow the recommendations" in text_of(letter)
    # The health body does not answer by Monday 6 April (23:00 UTC, BST): missed, and escalated to the health body
    # (its designated clinical officer) with a form saying what is being done; the response is still owed.
    assert case.at(at(2026, 4, 6, 22, 59, 59)) == 0
    assert case.at(at(2026, 4, 6, 23, 0, 1)) == 1
    assert case.deadline("recommendation_response_health").status == "missed"
    late = case.task("UT_health_late")
    assert (late.role, late.organisation_id) == ("health", case.world.health.id)
    assert case.open_tasks() == {"UT_health_recommendations", "UT_health_late"}
    case.do("UT_health_late", {"action_taken": "The response goes to the ICB board on 14 April",
                                "response_expected_by": "2026-04-15"}, "health")
    case.do("UT_health_recommendations", {"follows_recommendations": "no", "recommendation_response": "Not funded"},
            "health")
    assert case.deadline("recommendation_response_health").met_at is not None
    assert case.status(iid) == "completed"


def test_a_late_social_care_response_to_recommendations_is_escalated_to_the_authoritys_manager(case: Case) -> None:
    """Recommendations in an order dated Friday 25 September 2026: 5 weeks is Friday 30 October, which ends at
    00:00 UTC on 31 October (British Summer Time ended on Sunday 25 October)."""
    iid = case.engine.start(case.case_id, "tribunal_order",
                            {"order_kind": "none", "order_source": "tribunal", "order_date": "2026-09-25",
                             "health_recommendations": "no", "social_care_recommendations": "yes",
                             "social_care_recommendation_text": "Short breaks"})
    assert case.task("UT_social_care_recommendations").due_date == date(2026, 10, 30)
    assert case.at(at(2026, 10, 30, 23, 59, 59)) == 0
    assert case.at(at(2026, 10, 31, 0, 0, 1)) == 1
    assert case.deadline("recommendation_response_social_care").status == "missed"
    late = case.task("UT_social_care_late")
    assert (late.role, late.organisation_id) == ("la_manager", case.world.la.id)
    case.do("UT_social_care_late", {"action_taken": "Head of service to reply this week"}, "manager")
    case.do("UT_social_care_recommendations", {"follows_recommendations": "yes",
                                               "recommendation_response": "Short breaks agreed"}, "socialcare")
    assert case.status(iid) == "completed"


def test_an_order_carried_out_late_is_escalated_and_still_done(case: Case) -> None:
    iid = case.engine.start(case.case_id, "tribunal_order",
                            {"order_kind": "amend", "order_source": "tribunal", "order_date": "2026-03-02",
                             "health_recommendations": "no", "social_care_recommendations": "no"})
    # 5 weeks: Monday 6 April ends at 23:00 UTC (BST).
    assert case.at(at(2026, 4, 6, 23, 0, 1)) == 1
    assert case.deadline("order_amended_plan").status == "missed"
    overdue = case.task("UT_order_overdue")
    assert (overdue.role, overdue.organisation_id) == ("la_manager", case.world.la.id)
    case.do("UT_order_overdue", {"action_taken": "Amended plan being finalised this week"}, "manager")
    case.do("UT_confirm_amended_plan", {"done_on": "2026-04-09"}, "caseworker")
    assert case.deadline("order_amended_plan").met_at is not None
    assert case.status(iid) == "completed"


# ---- disagreement resolution, at any time ------------------------------------------------------------------------------

def test_disagreement_resolution_on_its_own(case: Case) -> None:
    iid = case.tell("drs_requested", {"about": "Support at school"})
    with case.services.session_factory() as s:
        assert s.get(ProcessInstance, iid).process_id == "disagreement_resolution_service"
    case.do("UT_drs_arrange", {"all_parties_agree": True, "drs_about": "Support at school", "drs_with": "setting"},
            "caseworker")
    case.do("UT_drs_outcome", {"drs_held_on": "2026-03-20", "drs_resolved": "yes",
                               "drs_outcome": "A support plan for lunchtimes"}, "caseworker")
    assert "does not affect your right to appeal" in text_of(case.documents("dr_drs_outcome")[0])
    assert case.status(iid) == "completed"


def test_one_message_starts_the_route_with_its_notice(case: Case) -> None:
    instance_id = case.engine.send_message(case.case_id, "appealable_decision_notified",
                                           {"decision": "refuse_assess", "notice_sent_on": "2026-03-02"})
    assert case.status(instance_id) == "waiting_person"
    assert case.open_tasks() == {"UT_adviser_contact"}
    assert case.data_of(instance_id, "UT_adviser_contact")["notice"]["decision"] == "refuse_assess"


def test_disagreement_resolution_during_a_disagreement_never_touches_the_appeal_clock(case: Case) -> None:
    iid = case.notice("refuse_assess", "2026-03-02")
    # The running route takes it in its event sub-process; the stand-alone service does not start.
    assert case.tell("drs_requested", {"about": "The decision"}) == iid
    assert case.instances("disagreement_resolution_service") == []
    assert case.open_tasks() == {"UT_adviser_contact", "UT_drs_arrange"}
    case.do("UT_drs_arrange", {"all_parties_agree": True, "drs_about": "The decision", "drs_with": "local_authority"},
            "caseworker")
    case.do("UT_drs_outcome", {"drs_held_on": "2026-03-20", "drs_resolved": "no", "drs_outcome": "Nothing agreed"},
            "caseworker")
    assert case.task("UT_adviser_contact").due_date == date(2026, 5, 2)
    assert case.status(iid) == "waiting_person"


def test_the_route_running_on_a_case_takes_disagreement_resolution_in_its_event_subprocess(case: Case) -> None:
    """The check both the runtime and the routes' own deliveries use (engine.runtime.messages.accepts)."""
    from SpiffWorkflow.bpmn import BpmnEvent
    from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition

    from engine.runtime.messages import accepts

    iid = case.notice("refuse_assess", "2026-03-02")
    with case.services.session_factory() as s:
        wf = case.engine.load_workflow(s.get(ProcessInstance, iid))
    assert accepts(wf, BpmnEvent(MessageEventDefinition("drs_requested"), payload={}))
    assert not accepts(wf, BpmnEvent(MessageEventDefinition("no_such_message"), payload={}))


# ---- complaints ------------------------------------------------------------------------------------------------------

def test_social_care_complaint_answered_in_28_days_with_an_independent_person(case: Case) -> None:
    iid = case.engine.start(case.case_id, "complaint", actor=case.world.users["caseworker"])
    case.do("UT_record_complaint", {"received_on": "2026-03-02", "complainant": "parent",
                                    "complainant_name": "Jo Taylor", "complainant_aged_18_or_over": "no",
                                    "about": "childrens_social_care", "complaint_summary": "No short breaks"},
            "caseworker")
    case.do("UT_appoint_independent_person", {"independent_person": "Pat Doyle", "appointed_on": "2026-03-04"},
            "socialcare")
    response = case.task("UT_social_care_response")
    # 28 days from Monday 2 March: Monday 30 March.
    assert (response.due_date, case.deadline("complaint_response").due_date) == (date(2026, 3, 30),
                                                                                  date(2026, 3, 30))
    case.engine.clock.set(at(2026, 3, 27))
    case.do("UT_social_care_response", {"complaint_outcome": "partly_upheld", "findings": "Delay in assessment",
                                        "remedy": "Short breaks from April"}, "socialcare")
    assert case.deadline("complaint_response").status == "met"
    (letter,) = case.documents("co_response")
    assert letter.recipients[0]["name"] == "Jo Taylor"
    assert "considered with Pat Doyle" in text_of(letter) and "Ombudsman" in text_of(letter)
    # The complainant goes to the Ombudsman: the authority answers its enquiries and records its decision.
    case.tell("ombudsman_complaint", {"reply_by": "2026-06-30"})
    assert case.task("UT_ombudsman_enquiries").due_date == date(2026, 6, 30)
    case.do("UT_ombudsman_enquiries", {"answered_on": "2026-06-20"}, "caseworker")
    case.do("UT_ombudsman_decision", {"ombudsman_decided_on": "2026-09-01", "ombudsman_finding": "fault_injustice",
                                      "ombudsman_remedy": "An apology and £300"}, "manager")
    assert "found fault that caused injustice" in text_of(case.documents("co_ombudsman_decision")[0])
    assert case.status(iid) == "completed"


def test_complaint_from_a_young_person_over_18_acknowledged_in_3_working_days_over_christmas(case: Case) -> None:
    case.engine.clock.set(at(2026, 12, 24))
    iid = case.engine.start(case.case_id, "complaint")
    case.do("UT_record_complaint", {"received_on": "2026-12-24", "complainant": "young_person",
                                    "complainant_name": "Alex Taylor", "complainant_aged_18_or_over": "yes",
                                    "about": "send_service", "complaint_summary": "College support stopped"},
            "caseworker")
    # Thursday 24 December; Christmas Day and the Boxing Day substitute (28 December) do not count:
    # 29 (1), 30 (2), 31 December (3).
    acknowledge = case.task("UT_acknowledge")
    assert acknowledge.due_date == date(2026, 12, 31)
    case.engine.clock.set(at(2026, 12, 29))
    case.do("UT_acknowledge", {"acknowledged_on": "2026-12-29", "discussion_offered": "yes",
                               "response_expected_by": "2027-01-29"}, "socialcare")
    assert case.deadline("complaint_acknowledgement").status == "met"
    assert "by 29 January 2027" in text_of(case.documents("co_acknowledgement")[0])
    assert case.task("UT_adult_response").due_date == date(2027, 1, 29)
    case.engine.clock.set(at(2027, 1, 20))
    case.do("UT_adult_response", {"complaint_outcome": "not_upheld", "findings": "Support continued"}, "socialcare")
    # No complaint to the Ombudsman within 12 months of the response: closed at the end of 20 January 2028.
    assert case.at(at(2028, 1, 20, 23, 59, 59)) == 0
    assert case.at(at(2028, 1, 21, 0, 0, 1)) == 1
    assert case.status(iid) == "completed"


def test_other_complaints_follow_the_authoritys_procedure_and_a_late_acknowledgement_is_escalated(case: Case
                                                                                                    ) -> None:
    corporate = case.engine.start(case.case_id, "complaint")
    case.do("UT_record_complaint", {"received_on": "2026-03-02", "complainant": "parent",
                                    "complainant_name": "Jo Taylor", "complainant_aged_18_or_over": "no",
                                    "about": "send_service", "complaint_summary": "The 20-week deadline was missed"},
            "caseworker")
    # The authority's own procedure (an LA setting): 20 working days from Monday 2 March, Monday 30 March.
    assert case.task("UT_corporate_response").due_date == date(2026, 3, 30)
    case.do("UT_corporate_response", {"complaint_outcome": "upheld", "findings": "The plan was late"}, "caseworker")
    assert case.status(corporate) == "waiting_timer"

    adult = case.engine.start(case.case_id, "complaint")
    case.do("UT_record_complaint", {"received_on": "2026-03-02", "complainant": "other", "complainant_name": "Ann",
                                    "complainant_aged_18_or_over": "no", "about": "adult_social_care",
                                    "complaint_summary": "Care package"}, "caseworker")
    # Acknowledgement due Thursday 5 March; not done by the end of it (midnight GMT): missed, and the authority's
    # manager gets a task saying so.
    assert case.at(at(2026, 3, 5, 23, 59, 59)) == 0
    assert case.at(at(2026, 3, 6, 0, 0, 1)) == 1
    assert case.deadline("complaint_acknowledgement").status == "missed"
    assert case.status(adult) == "waiting_person"
    late = case.task("UT_complaint_overdue")
    assert (late.role, late.organisation_id) == ("la_manager", case.world.la.id)
    case.do("UT_complaint_overdue", {"action_taken": "Acknowledged by phone; letter today",
                                     "complainant_told_on": "2026-03-06"}, "manager")
    assert case.open_tasks() == {"UT_acknowledge"}


def test_every_complaint_deadline_that_passes_is_escalated_to_the_authoritys_manager(case: Case) -> None:
    """Each stage's deadline, passing, gives the LA manager a task (it used to pass silently). Received Monday 2
    March 2026: children's social care, 28 days, Monday 30 March (ends 23:00 UTC on 30 March: BST from 29 March);
    the authority's own procedure, 20 working days (no bank holiday in March), Monday 30 March; an adult complaint
    acknowledged on Wednesday 4 March with a response promised by Friday 17 April (ends 23:00 UTC, BST)."""
    manager = case.world.la.id
    social = case.engine.start(case.case_id, "complaint")
    case.do("UT_record_complaint", {"received_on": "2026-03-02", "complainant": "parent",
                                    "complainant_name": "Jo Taylor", "complainant_aged_18_or_over": "no",
                                    "about": "childrens_social_care", "complaint_summary": "No short breaks"},
            "caseworker")
    case.do("UT_appoint_independent_person", {"independent_person": "Pat Doyle", "appointed_on": "2026-03-04"},
            "socialcare")
    corporate = case.engine.start(case.case_id, "complaint")
    case.do("UT_record_complaint", {"received_on": "2026-03-02", "complainant": "parent",
                                    "complainant_name": "Jo Taylor", "complainant_aged_18_or_over": "no",
                                    "about": "send_service", "complaint_summary": "Late plan"}, "caseworker")
    adult = case.engine.start(case.case_id, "complaint")
    case.do("UT_record_complaint", {"received_on": "2026-03-02", "complainant": "other", "complainant_name": "Ann",
                                    "complainant_aged_18_or_over": "yes", "about": "adult_social_care",
                                    "complaint_summary": "Care package"}, "caseworker")
    case.do("UT_acknowledge", {"acknowledged_on": "2026-03-04", "discussion_offered": "yes",
                               "response_expected_by": "2026-04-17"}, "socialcare")
    assert case.deadline("complaint_acknowledgement").status == "met"
    assert case.at(at(2026, 3, 30, 22, 59, 59)) == 0
    assert case.at(at(2026, 3, 30, 23, 0, 1)) == 2  # both complaints
    with case.services.session_factory() as s:
        late = list(s.scalars(select(HumanTask).where(HumanTask.case_id == case.case_id,
                                                      HumanTask.bpmn_id == "UT_complaint_overdue")
                              .order_by(HumanTask.instance_id)))
        missed = list(s.scalars(select(Deadline.status).where(Deadline.case_id == case.case_id,
                                                              Deadline.key == "complaint_response")))
    assert [(t.instance_id, t.role, t.organisation_id) for t in late] == [
        (social, "la_manager", manager), (corporate, "la_manager", manager)]
    assert missed == ["missed", "missed"]

    assert case.task("UT_adult_response").due_date == date(2026, 4, 17)
    assert case.at(at(2026, 4, 17, 22, 59, 59)) == 0
    assert case.at(at(2026, 4, 17, 23, 0, 1)) == 1
    with case.services.session_factory() as s:
        (adult_late,) = s.scalars(select(HumanTask).where(HumanTask.instance_id == adult,
                                                          HumanTask.bpmn_id == "UT_complaint_overdue"))
    assert (adult_late.role, adult_late.organisation_id) == ("la_manager", manager)
    case.engine.complete_task(adult_late.id, {"action_taken": "Response delayed by a strike; new date 24 April"},
                              case.world.users["manager"])
    case.check_restore()


def test_only_the_right_people_act_on_disagreement_steps(case: Case) -> None:
    case.notice("refuse_assess", "2026-03-02")
    task = case.task("UT_adviser_contact")
    with case.services.session_factory() as s:
        for key, allowed in (("mediation", True), ("caseworker", False), ("parent", False), ("other_caseworker", False)):
            assert can_act_on_task(s, s.get(User, case.world.users[key].id), task) is allowed, key


def test_an_agreement_the_authority_was_not_party_to_is_notified_within_a_week_or_escalated(case: Case) -> None:
    """Regulation 42(4): mediation about health care only, held on Wednesday 20 May 2026, with an agreement the
    authority was not a party to. The health body tells the authority within 1 week: by Wednesday 27 May, which ends
    at 23:00 UTC (BST). Not done: the authority's manager gets a task; the health body's task stays open."""
    world = case.world
    case.notice("final_plan", "2026-03-02", sections=["B", "F"])
    case.engine.clock.set(at(2026, 4, 30))
    case.do("UT_adviser_contact", {"contacted_on": "2026-04-30", "wants_mediation": "yes",
                                   "mediation_issues": "Speech therapy in section G", "health_issues": "yes",
                                   "health_provision_sought": "Speech therapy", "social_care_issues": "no"},
            "mediation")
    case.do("UT_arrange_mediation", {"mediator_name": "Sam Reed", "mediation_on": "2026-05-20",
                                     "attending_for_la": "Morgan Price", "invite_health": "yes",
                                     "invite_social_care": "no"}, "caseworker")
    case.do("UT_health_attendance", {"attendee_name": "Dr Ng", "can_agree_provision": "yes"}, "health")
    case.engine.clock.set(at(2026, 5, 20, 16))
    case.do("UT_mediation_outcome", {"held_on": "2026-05-20", "agreement_reached": "yes",
                                     "agreement_summary": "The ICB funds a block of speech therapy",
                                     "agreement_order_kind": "none", "la_party_to_agreement": "no"}, "mediation")
    notice = case.task("UT_agreement_notice")
    assert (notice.role, notice.organisation_id) == ("health", world.health.id)
    assert case.deadline("mediation_agreement_notice").due_date == date(2026, 5, 27)
    assert case.open_tasks() == {"UT_agreement_notice", "UT_certificate_after_mediation"}
    case.engine.clock.set(at(2026, 5, 21))
    case.do("UT_certificate_after_mediation", {}, "mediation")
    assert case.at(at(2026, 5, 27, 22, 59, 59)) == 0
    assert case.at(at(2026, 5, 27, 23, 0, 1)) == 1
    assert case.deadline("mediation_agreement_notice").status == "missed"
    late = case.task("UT_agreement_notice_overdue")
    assert (late.role, late.organisation_id) == ("la_manager", world.la.id)
    case.do("UT_agreement_notice_overdue", {"action_taken": "Asked the ICB for the agreement"}, "manager")
    case.do("UT_agreement_notice", {"la_notified_on": "2026-05-29", "notice_summary": "Speech therapy block"},
            "health")
    assert case.deadline("mediation_agreement_notice").met_at is not None
    assert case.open_tasks() == {"UT_record_appeal"}


def test_an_agreement_the_authority_made_needs_no_notice(case: Case) -> None:
    case.notice("refuse_assess", "2026-03-02")
    case.do("UT_adviser_contact", {"contacted_on": "2026-03-04", "wants_mediation": "yes",
                                   "mediation_issues": "The decision", "health_issues": "no",
                                   "social_care_issues": "no"}, "mediation")
    case.do("UT_arrange_mediation", {"mediator_name": "Sam Reed", "mediation_on": "2026-03-20",
                                     "attending_for_la": "Morgan Price", "invite_health": "no",
                                     "invite_social_care": "no"}, "caseworker")
    case.do("UT_mediation_outcome", {"held_on": "2026-03-20", "agreement_reached": "yes",
                                     "agreement_summary": "A visit to the school", "agreement_order_kind": "none",
                                     "la_party_to_agreement": "yes"}, "mediation")
    assert case.open_tasks() == {"UT_certificate_after_mediation"}
    assert "mediation_agreement_notice" not in case.deadlines()
