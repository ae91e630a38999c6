"""BPMN elements that outside modelers write and EHC Flow does not run, refused with one line each.

SpiffWorkflow parses most of them and then fails (or does something else than the diagram says) only when a case
reaches the element, and its own errors are written for its developers. Each element here was tried with
SpiffWorkflow 3.2 and the engine (tests/fixtures/outside/ keeps one file per modeler style):

- service tasks need an operator registered in Python, business rule tasks a DMN table: the engine has neither;
- send tasks throw a message inside the instance only (routes talk through the ``sendsMessage`` property);
- data stores need a Python implementation; data associations make SpiffWorkflow move the variable named by the
  *data object's id* out of the process data, so the bpmn.io drawing "script writes letter" fails at run time;
- nothing outside an instance sends signals, so a signal that no element of the files throws is never caught;
- escalation, compensation, cancel and conditional events, complex gateways, transactions and ad-hoc sub-processes;
- an interrupting event sub-process runs without cancelling the main flow in SpiffWorkflow 3.2;
- a multi-instance activity needs ``loopCardinality`` or ``loopDataInputRef`` (``camunda:collection`` is not read).
"""

from __future__ import annotations

from typing import Any

from lxml import etree

from engine.library.lint.document import NS, Document, bpmn_tag, flow_element_id
from engine.library.lint.problems import Findings

_ELEMENTS = {
    "serviceTask": "service tasks are not supported (EHC Flow calls no outside systems); use a script task, or a "
                   "userTask for the person who does it",
    "businessRuleTask": "business rule tasks (DMN decision tables) are not supported; use a script task or an "
                        "exclusive gateway with conditions",
    "sendTask": "send tasks are not supported; to send a message to another route, put the sendsMessage property "
                "on a task or event",
    "complexGateway": "complex gateways are not supported; use exclusive, inclusive or parallel gateways",
    "transaction": "transactions are not supported; use a plain sub-process",
    "adHocSubProcess": "ad-hoc sub-processes are not supported; use a sub-process with a sequence flow, or parallel "
                       "tasks after a parallel gateway",
    "dataStoreReference": "data stores are not supported (the engine keeps all data with the case); remove it",
    "dataInputAssociation": "data associations are not supported: the engine would read the variable named by the "
                            "data object's id, not what the diagram shows; remove the association (a data object "
                            "may stay on the diagram unconnected)",
    "dataOutputAssociation": "data associations are not supported: the engine would move the variable named by "
                             "the data object's id out of the process data; remove the association (a data object "
                             "may stay on the diagram unconnected)",
}

_EVENT_DEFINITIONS = {
    "escalationEventDefinition": "escalation events are not supported; use a message, a timer or an exclusive gateway",
    "compensateEventDefinition": "compensation events are not supported; model the undoing as ordinary tasks",
    "cancelEventDefinition": "cancel events are not supported (they belong to transactions)",
    "conditionalEventDefinition": "conditional events are not supported (nothing re-checks the condition); use an "
                                  "exclusive gateway, a timer or a message",
}


def check_unsupported(findings: Findings, doc: Document, thrown_signals: set[str]) -> None:
    """``thrown_signals``: the names of the signals thrown by some element of the files being checked."""
    for name, message in _ELEMENTS.items():
        for element in doc.root.iter(bpmn_tag(name)):
            _refuse(findings, doc, element, element.get("id"), message)
    for name, message in _EVENT_DEFINITIONS.items():
        for definition in doc.root.iter(bpmn_tag(name)):
            _refuse(findings, doc, definition, flow_element_id(definition), message)
    for activity in doc.root.iter(etree.Element):
        if activity.get("isForCompensation") == "true":
            _refuse(findings, doc, activity, activity.get("id"),
                    "compensation activities are not supported; model the undoing as ordinary tasks")
    _check_signals(findings, doc, thrown_signals)
    _check_event_subprocesses(findings, doc)
    _check_multi_instance(findings, doc)


def signal_names(doc: Document) -> dict[str, str]:
    """signal id -> name (the name when it has one: SpiffWorkflow matches signals by name)."""
    return {s.get("id", ""): s.get("name") or s.get("id", "") for s in doc.root.iter(bpmn_tag("signal"))}


def thrown_signals(doc: Document) -> set[str]:
    names = signal_names(doc)
    thrown: set[str] = set()
    for tag in ("intermediateThrowEvent", "endEvent"):
        for event in doc.root.iter(bpmn_tag(tag)):
            for definition in event.iterfind("bpmn:signalEventDefinition", NS):
                ref = definition.get("signalRef", "")
                thrown.add(names.get(ref, ref))
    return thrown


def _check_signals(findings: Findings, doc: Document, thrown: set[str]) -> None:
    names = signal_names(doc)
    for tag in ("startEvent", "intermediateCatchEvent", "boundaryEvent"):
        for event in doc.root.iter(bpmn_tag(tag)):
            for definition in event.iterfind("bpmn:signalEventDefinition", NS):
                ref = definition.get("signalRef", "")
                name = names.get(ref, ref)
                if tag == "startEvent" and event.getparent().tag == bpmn_tag("process"):
                    _refuse(findings, doc, event, event.get("id"),
                            "signal start events are not supported (nothing outside a route sends signals); use a "
                            "message start event")
                elif name not in thrown:
                    _refuse(findings, doc, event, event.get("id"),
                            f"waits for signal '{name}', which no element of the files being checked throws: signals "
                            "from outside a route are not supported; use a message event")


def _check_event_subprocesses(findings: Findings, doc: Document) -> None:
    for sub in doc.root.iter(bpmn_tag("subProcess")):
        if sub.get("triggeredByEvent") != "true":
            continue
        for start in sub.iterfind("bpmn:startEvent", NS):
            if start.get("isInterrupting", "true") != "false":
                _refuse(findings, doc, start, start.get("id"),
                        "interrupting event sub-processes are not supported (the engine runs them without "
                        "stopping the main flow); set isInterrupting=\"false\", or use an interrupting boundary "
                        "event on a sub-process")


def _check_multi_instance(findings: Findings, doc: Document) -> None:
    for loop in doc.root.iter(bpmn_tag("multiInstanceLoopCharacteristics")):
        if loop.find("bpmn:loopCardinality", NS) is None and loop.find("bpmn:loopDataInputRef", NS) is None:
            _refuse(findings, doc, loop, flow_element_id(loop),
                    "a multi-instance activity without loopCardinality or loopDataInputRef is not supported "
                    "(camunda:collection is not read); give the number of instances or the list to go through")


def _refuse(findings: Findings, doc: Document, element: Any, element_id: str | None, message: str) -> None:
    owner = doc.ids.get(element_id) if element_id else None
    line = owner.sourceline if owner is not None else element.sourceline
    findings.add(doc.path, line, element_id, message)
    findings.skip(doc, element)
