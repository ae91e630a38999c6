"""engine/casework/transfer.py on its own: the transfer package, the review date it reads, the recipients of its documents,
and which messages a running route would take."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.spiff.parser import SpiffBpmnParser
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition

from engine.casework import transfer, transfer_package
from engine.runtime.messages import accepts
from engine.runtime.services import Services
from engine.store.models import AuditEvent, Case, Deadline, Document, PlanVersion
from tests.conftest import World

ISSUED = datetime(2025, 6, 10, 12, tzinfo=UTC)


def add_plan(services: Services, case_id: int) -> None:
    with services.session_factory() as s:
        s.add(PlanVersion(case_id=case_id, number=1, kind="final", label="Final plan", created_at=ISSUED,
                          issued_at=ISSUED, sections={"K": {"advice": [{"id": "K1", "title": "EP report"}]}}))
        s.commit()


def test_last_review_is_the_start_of_the_open_review_deadline_or_the_plan_issue(services: Services,
                                                                               world: World) -> None:
    with services.session_factory() as s:
        assert transfer.last_review_date(s, world.case_id) is None
    add_plan(services, world.case_id)
    with services.session_factory() as s:
        assert transfer.last_review_date(s, world.case_id) == date(2025, 6, 10)
        s.add(Deadline(case_id=world.case_id, key="annual_review", name="Review", due_date=date(2026, 9, 1),
                       started_on=date(2025, 9, 1), status="open", missed=False))
        s.commit()
        assert transfer.last_review_date(s, world.case_id) == date(2025, 9, 1)


def test_transfer_package_holds_the_plan_advice_documents_and_history_and_survives_html(services: Services,
                                                                                       world: World,
                                                                                       tmp_path: Path) -> None:
    add_plan(services, world.case_id)
    now = datetime(2026, 3, 6, 9, tzinfo=UTC)
    with services.session_factory() as s:
        # A body that would end the <script> element if it were not escaped.
        s.add(Document(case_id=world.case_id, kind="decision_to_assess", title="Decision",
                       body_html="<p>Tom & Jerry</p></script><!--", recipients=[], appealable=False,
                       issued_at=now))
        s.add(AuditEvent(at=now, case_id=world.case_id, action="move_recorded", summary="Move recorded"))
        s.commit()
        package = transfer_package.build_transfer_package(s, world.case_id, generated_at=now, reason="Moved away",
                                                          destination=world.other_la, move={"moved_on": "2026-03-06"})
    assert (package["format"], package["version"]) == ("ehcflow-transfer-package", 1)
    assert package["from_local_authority"]["name"] == "Testshire Council"
    assert package["to_local_authority"]["name"] == "Otherham Council"
    assert package["plan"]["in_force"] == 1 and package["plan"]["versions"][0]["label"] == "Final plan"
    assert package["advice"] == [{"source": "section K of the plan", "id": "K1", "title": "EP report"}]
    assert package["documents"][0]["body_html"] == "<p>Tom & Jerry</p></script><!--"
    assert [h["action"] for h in package["history"]][-1] == "move_recorded"
    assert {p["role"] for p in package["parties"]} >= {"health_body", "setting", "family"}

    html = transfer_package.package_html(package)
    assert "</script><!--" not in html.split('id="ehc-transfer-package">')[1].split("\n  </script>")[0]
    document = Document(case_id=world.case_id, kind=transfer_package.PACKAGE_KIND, title="Package", body_html=html,
                        recipients=[], appealable=False, issued_at=now)
    assert transfer_package.package_from_document(document) == json.loads(json.dumps(package))
    with services.session_factory() as s:
        s.add(document)
        s.commit()
        path = transfer_package.write_transfer_package(s, document.id, tmp_path / "out")
    assert path.name.endswith("-transfer-package-2026-03-06.json")
    assert json.loads(path.read_text())["reason"] == "Moved away"


def test_a_document_that_is_not_a_package_is_refused() -> None:
    from engine.errors import NotFound

    other = Document(case_id=1, kind="decision_to_assess", title="x", body_html="<p></p>", recipients=[],
                     appealable=False, issued_at=ISSUED)
    with pytest.raises(NotFound):
        transfer_package.package_from_document(other)


def test_recipient_rules(services: Services, world: World) -> None:
    with services.session_factory() as s:
        case = s.get(Case, world.case_id)
        assert transfer.recipients("la", case, {})[0]["name"] == "Testshire Council"
        assert transfer.recipients("mediation_service", case, {})[0]["name"] == "Test Mediation"
        assert transfer.recipients("tribunal", case, {})[0]["role"] == "tribunal"
        assert transfer.recipients("new_health_body", case, {"new_health_body_id": world.health.id})[0][
            "organisation_id"] == world.health.id
        assert transfer.recipients("new_health_body", case, {"new_health_body_name": "Farshire ICB"})[0][
            "name"] == "Farshire ICB"
        assert transfer.recipients("complainant", case, {"complainant_name": "Jo Taylor"})[0]["name"] == "Jo Taylor"
        with pytest.raises(KeyError):
            transfer.recipients("nobody", case, {})


def test_every_route_document_has_a_template_file() -> None:
    from engine.casework.documents import TEMPLATE_DIR, DocumentTemplate

    templates = transfer.document_templates(DocumentTemplate)
    assert set(templates) == set(transfer.DOCUMENTS)
    for name in templates:
        assert (TEMPLATE_DIR / f"{name}.html").is_file(), name
        assert name.split("_", 1)[0] in ("tr", "dr", "to", "co")
    # None of them is the notice of an appealable decision (those come from the routes that decide).
    assert [n for n, t in templates.items() if t.appealable] == []


def test_an_unknown_transfer_action_is_refused() -> None:
    projector: Any = SimpleNamespace()
    with pytest.raises(ValueError, match="transferCase must be one of"):
        transfer.apply_transfer(projector, SimpleNamespace(data={}), "teleport")


EVENT_SUBPROCESS = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="D" targetNamespace="http://x">
  <bpmn:message id="M_drs" name="drs_requested" />
  <bpmn:message id="M_moved" name="child_moved_la" />
  <bpmn:process id="p" isExecutable="true">
    <bpmn:startEvent id="SE_p"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:intermediateCatchEvent id="ICE_moved"><bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing>
      <bpmn:messageEventDefinition messageRef="M_moved" /></bpmn:intermediateCatchEvent>
    <bpmn:endEvent id="EE_p"><bpmn:incoming>F2</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="SE_p" targetRef="ICE_moved" />
    <bpmn:sequenceFlow id="F2" sourceRef="ICE_moved" targetRef="EE_p" />
    <bpmn:subProcess id="ESP" triggeredByEvent="true">
      <bpmn:startEvent id="SE_drs" isInterrupting="false"><bpmn:outgoing>G1</bpmn:outgoing>
        <bpmn:messageEventDefinition messageRef="M_drs" /></bpmn:startEvent>
      <bpmn:endEvent id="EE_drs"><bpmn:incoming>G1</bpmn:incoming></bpmn:endEvent>
      <bpmn:sequenceFlow id="G1" sourceRef="SE_drs" targetRef="EE_drs" />
    </bpmn:subProcess>
  </bpmn:process>
</bpmn:definitions>
"""


def test_accepts_sees_waiting_catch_events_and_event_subprocesses() -> None:
    parser = SpiffBpmnParser()
    parser.add_bpmn_str(EVENT_SUBPROCESS.encode(), "p.bpmn")
    wf = BpmnWorkflow(parser.get_spec("p"), parser.get_subprocess_specs("p"))
    wf.do_engine_steps()

    def event(name: str) -> BpmnEvent:
        return BpmnEvent(MessageEventDefinition(name), payload={})

    assert accepts(wf, event("child_moved_la"))
    assert accepts(wf, event("drs_requested"))  # the event sub-process, which is not a waiting task
    assert not accepts(wf, event("appeal_withdrawn"))
