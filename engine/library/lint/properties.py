"""The spiffworkflow properties the engine reads: deadlines, documents, routes started, messages, transfers, plans."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from lxml import etree

from engine.library.lint.document import NS, Document, bpmn_tag, flow_element_id, owner_of_extension, spiff_tag
from engine.library.lint.expressions import check_expression
from engine.library.lint.problems import Findings

# engine/casework/documents.py renders engine/casework/templates/documents/<name>.html for the `document` property.
# Spelled out here rather than imported so the linter stays importable without the document renderer's dependencies.
DOCUMENT_TEMPLATES = Path(__file__).resolve().parents[2] / "casework" / "templates" / "documents"
PLAN_VERSIONS = ("draft", "final", "amended")
# The values of the transferCase property (engine/casework/transfer.py apply_transfer), spelled out for the same reason.
TRANSFER_ACTIONS = ("check", "apply", "export", "health")
# An expression property and the property it feeds: data without the property that uses it is a mistake.
_EXPRESSION_OF = {"startsRouteData": "startsRoute", "messagePayload": "sendsMessage",
                  "sendsMessageWhen": "sendsMessage"}

_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
_TASKS_FOR_PEOPLE = ("userTask", "manualTask", "task")
_DOCUMENT_NAME = re.compile(r"[a-z0-9][a-z0-9_]*\Z")


# ---- 9. spiffworkflow properties -----------------------------------------------------------------------------------
def check_properties(findings: Findings, doc: Document) -> None:
    for properties in doc.root.iter(spiff_tag("properties")):
        owner = owner_of_extension(properties)
        owner_id = owner.get("id") if owner is not None else flow_element_id(properties)
        for prop in properties.iter(spiff_tag("property")):
            name, value, line = prop.get("name"), prop.get("value"), prop.sourceline
            if not name:
                findings.add(doc.path, line, owner_id, "a spiffworkflow:property has no name")
                findings.skip(doc, prop)
                continue
            if value is None:
                findings.add(doc.path, line, owner_id, f"property '{name}' has no value")
                findings.skip(doc, prop)
                continue
            _check_property(findings, doc, owner, owner_id, name, value, line)
        names = {prop.get("name") for prop in properties.iter(spiff_tag("property"))}
        for data_name, user in _EXPRESSION_OF.items():
            if data_name in names and user not in names:
                prop = next(p for p in properties.iter(spiff_tag("property")) if p.get("name") == data_name)
                findings.add(doc.path, prop.sourceline, owner_id,
                             f"{data_name} is only read with the {user} property, which this element does not have")


def _check_property(findings: Findings, doc: Document, owner: Any, owner_id: str | None, name: str, value: str,
                    line: int | None) -> None:
    if name in ("dueDate", "deadlineDetail", "taskDetail"):
        check_expression(findings, doc, value, line, owner_id, f"{name} expression")
        kind = etree.QName(owner).localname if owner is not None else None
        if name == "taskDetail" and kind is not None and kind not in _TASKS_FOR_PEOPLE:
            findings.add(doc.path, line, owner_id, "taskDetail says what a person's task is about: it is only "
                                                   f"read on a user, manual or plain task, not on a {kind}")
    elif name == "opensDeadline":
        key, colon, expression = value.partition(":")
        if not colon or not _KEY.match(key.strip()):
            findings.add(doc.path, line, owner_id,
                         f"opensDeadline must be written 'key: expression', e.g. "
                         f"'final_plan_20w: add_weeks(start_date, 20)', not {value!r}")
        else:
            check_expression(findings, doc, expression.strip(), line, owner_id, "opensDeadline expression")
    elif name in ("meetsDeadline", "cancelsDeadlines"):
        keys = [key.strip() for key in value.split(",") if key.strip()]
        bad = [key for key in keys if not _KEY.match(key)]
        if not keys or bad:
            shown = ", ".join(repr(k) for k in bad) if bad else "nothing"
            findings.add(doc.path, line, owner_id,
                         f"{name} must be deadline keys separated by commas (letters, digits and _), "
                         f"not {shown}")
    elif name == "deadline":
        if owner is None or owner.find("bpmn:timerEventDefinition", NS) is None:
            kind = etree.QName(owner).localname if owner is not None else "element"
            findings.add(doc.path, line, owner_id,
                         f"the 'deadline' property is only allowed on timer events, not on a {kind}; "
                         "use opensDeadline to open a deadline without a timer")
        elif not _KEY.match(value.strip()):
            findings.add(doc.path, line, owner_id,
                         f"deadline must be a deadline key (letters, digits and _), not {value!r}")
        elif _follows_event_gateway(owner):
            # SpiffWorkflow moves this timer onto the gateway: the deadline row would never be opened.
            findings.add(doc.path, line, owner_id,
                         "a timer after an event-based gateway cannot carry a deadline; put the deadline on a "
                         "boundary timer of the task that does the work")
    elif name in _EXPRESSION_OF:
        check_expression(findings, doc, value, line, owner_id, f"{name} expression")
    elif name == "startsRoute":
        route = value.strip()
        # Unlike a call activity, the route started need not be among the files checked: routes are deployed
        # on their own, and one that is not deployed is noted in the case's history when the step runs.
        if not _KEY.match(route):
            findings.add(doc.path, line, owner_id, f"startsRoute must be a process id, not {value!r}")
    elif name == "sendsMessage" and not _KEY.match(value.strip()):
        findings.add(doc.path, line, owner_id, f"sendsMessage must be a message name (letters, digits and _), "
                                               f"not {value!r}")
    elif name == "transferCase" and value.strip() not in TRANSFER_ACTIONS:
        findings.add(doc.path, line, owner_id, f"transferCase must be one of {', '.join(TRANSFER_ACTIONS)}, "
                                               f"not {value!r}")
    elif name == "planVersion" and value.strip() not in PLAN_VERSIONS:
        findings.add(doc.path, line, owner_id, f"planVersion must be one of {', '.join(PLAN_VERSIONS)}, "
                                               f"not {value!r}")
    elif name == "document":
        names = [n.strip() for n in value.split(",") if n.strip()]
        if not names:
            findings.add(doc.path, line, owner_id, "document names no template")
        for template in names:
            if not _DOCUMENT_NAME.match(template) or not (DOCUMENT_TEMPLATES / f"{template}.html").is_file():
                findings.add(doc.path, line, owner_id,
                             f"document template '{template}' does not exist in engine/casework/templates/documents")


def _follows_event_gateway(element: Any) -> bool:
    incoming = {flow.text.strip() for flow in element.findall("bpmn:incoming", NS) if flow.text}
    if not incoming:
        return False
    process = element.getparent()
    for flow in process.iter(bpmn_tag("sequenceFlow")):
        if flow.get("id") in incoming:
            source = next((e for e in process if e.get("id") == flow.get("sourceRef")), None)
            if source is not None and source.tag == bpmn_tag("eventBasedGateway"):
                return True
    return False
