"""Tiny BPMN documents for engine tests: start -> script -> user task -> end, with the script given."""

from __future__ import annotations

from xml.sax.saxutils import escape


def script_then_task(process_id: str, script: str, form: str = "ack.json",
                     properties: dict[str, str] | None = None) -> str:
    """``properties``: extension properties of the script task (``startsRoute`` and its data, for example)."""
    extension = ""
    if properties:
        rows = "".join(f'<spiffworkflow:property name="{escape(k)}" value="{escape(v, {chr(34): "&quot;"})}" />'
                       for k, v in properties.items())
        extension = f"<bpmn:extensionElements><spiffworkflow:properties>{rows}</spiffworkflow:properties>" \
                    "</bpmn:extensionElements>"
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
                  id="Defs_{process_id}" targetNamespace="http://ehcflow.example/bpmn">
  <bpmn:process id="{process_id}" name="{process_id}" isExecutable="true">
    <bpmn:laneSet id="LaneSet_1">
      <bpmn:lane id="Lane_1" name="LA caseworker">
        <bpmn:flowNodeRef>SE_1</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>ST_script</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>UT_next</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>EE_1</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="SE_1"><bpmn:outgoing>F1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:scriptTask id="ST_script" name="Run the script">
      {extension}<bpmn:incoming>F1</bpmn:incoming><bpmn:outgoing>F2</bpmn:outgoing>
      <bpmn:script>{escape(script)}</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:userTask id="UT_next" name="Next">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="formJsonSchemaFilename" value="{form}" />
      </spiffworkflow:properties></bpmn:extensionElements>
      <bpmn:incoming>F2</bpmn:incoming><bpmn:outgoing>F3</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:endEvent id="EE_1"><bpmn:incoming>F3</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="SE_1" targetRef="ST_script" />
    <bpmn:sequenceFlow id="F2" sourceRef="ST_script" targetRef="UT_next" />
    <bpmn:sequenceFlow id="F3" sourceRef="UT_next" targetRef="EE_1" />
  </bpmn:process>
</bpmn:definitions>
"""
