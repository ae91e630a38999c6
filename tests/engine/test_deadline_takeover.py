"""A deadline the case already has open is taken over, not opened twice, when a later command of another route on the
case opens the same key: the projection reads the case's unfinished deadlines with the deadlines of the tasks just
completed, and finds them there (engine/runtime/projection.py, ``_unfinished``)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import select

from engine.library.registry import ProcessRegistry
from engine.runtime.services import Services
from engine.store.models import Deadline, HumanTask
from tests.conftest import World

FORMS = Path(__file__).resolve().parent / "data" / "forms"


def _task(task_id: str, due: str) -> str:
    return f"""
    <bpmn:userTask id="{task_id}" name="{task_id}">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formJsonSchemaFilename" value="ack.json" />
        <spiffworkflow:property name="opensDeadline" value="shared_key: '{due}'" />
        <spiffworkflow:property name="deadlineName" value="The shared deadline" />
      </spiffworkflow:properties></bpmn:extensionElements>"""


ROUTE = f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
                  id="Defs_takeover" targetNamespace="http://ehcflow.example/bpmn">
  <bpmn:process id="takeover" name="Takeover" isExecutable="true">
    <bpmn:laneSet id="LaneSet_1">
      <bpmn:lane id="Lane_1" name="LA caseworker">
        <bpmn:flowNodeRef>SE_1</bpmn:flowNodeRef><bpmn:flowNodeRef>UT_first</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>UT_second</bpmn:flowNodeRef><bpmn:flowNodeRef>EE_1</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="SE_1"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
    {_task("UT_first", "2027-01-15")}
      <bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing>
    </bpmn:userTask>
    {_task("UT_second", "2027-02-26")}
      <bpmn:incoming>F2</bpmn:incoming><bpmn:outgoing>F3</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="EE_1"><bpmn:incoming>F3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="SE_1" targetRef="UT_first" />
    <bpmn:sequenceFlow id="F2" sourceRef="UT_first" targetRef="UT_second" />
    <bpmn:sequenceFlow id="F3" sourceRef="UT_second" targetRef="EE_1" />
  </bpmn:process>
</bpmn:definitions>
"""


def _open_task(services: Services, instance_id: int) -> int:
    with services.session_factory() as s:
        return s.scalars(select(HumanTask.id).where(HumanTask.instance_id == instance_id,
                                                    HumanTask.status == "open")).one()


def _shared(services: Services) -> list[tuple[int, str, date]]:
    with services.session_factory() as s:
        return [(row.instance_id, row.status, row.due_date) for row in s.scalars(
            select(Deadline).where(Deadline.key == "shared_key").order_by(Deadline.id))]


def test_a_later_route_takes_over_the_open_deadline_of_another(services: Services, world: World) -> None:
    engine = services.engine
    engine.deploy(ProcessRegistry.from_texts({"workflows/takeover.bpmn": ROUTE}, FORMS))
    engine.clock.set(datetime(2026, 12, 7, 10, 0, tzinfo=UTC))
    first = engine.start(world.case_id, "takeover")
    engine.complete_task(_open_task(services, first), {"note": "done"})
    assert _shared(services) == [(first, "open", date(2027, 1, 15))]

    # Another route on the same case opens the same key: it takes the row over (its own date, its instance).
    second = engine.start(world.case_id, "takeover")
    engine.complete_task(_open_task(services, second), {"note": "done"})
    assert _shared(services) == [(second, "open", date(2027, 1, 15))]

    # And again within the route that holds it now, from its next task: still one row, moved to the new date.
    engine.complete_task(_open_task(services, second), {"note": "done"})
    assert _shared(services) == [(second, "open", date(2027, 2, 26))]
