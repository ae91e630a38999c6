"""Routes people may start by hand on a case: the properties of a process's start event that say who, when and with
what form (docs/bpmn-conventions.md, "Routes started by hand"), and their checks.

The names below are the contract with ``engine/intake/route_starts.py``, which reads the properties from a deployed
version; they live here, beside their checks, so the checker and the engine cannot disagree about them.
"""

from __future__ import annotations

import ast
import json
from typing import Any

from lxml import etree

from engine.library.lint.document import Document, bpmn_tag, owner_of_extension, spiff_tag
from engine.library.lint.expressions import check_expression
from engine.library.lint.problems import Findings
from engine.library.lint.user_tasks import FormFiles, check_form_file, json_line
from engine.library.sandbox import SAFE_BUILTINS
from engine.people.roles import LANE_ROLES

STARTABLE_BY = "startableBy"
STARTABLE_WHEN = "startableWhen"
STARTABLE_ALONGSIDE = "startableAlongside"
START_LABEL = "startLabel"
START_LABEL_FAMILY = "startLabelFamily"
START_HELP = "startHelp"
START_HELP_FAMILY = "startHelpFamily"
START_FORM = "startForm"
TEXTS = (START_LABEL, START_LABEL_FAMILY, START_HELP, START_HELP_FAMILY)
HAND_START_PROPERTIES = (STARTABLE_BY, STARTABLE_WHEN, STARTABLE_ALONGSIDE, *TEXTS, START_FORM)

#: The facts about the case a startableWhen expression may use (engine/intake/route_starts.py works them out).
CONDITION_NAMES = ("plan_in_force", "open_assessment", "running", "case_open")
#: What every route is given about its case when it starts (engine/runtime/workflow_engine.py ``_start_data``): a
#: start form may not ask for them, and start data never overwrites them.
CASE_FACTS = ("case_id", "case_reference", "child_name", "date_of_birth", "la_id", "started_on")
LABEL_MAX = 80
_FLAGS = ("true", "false")


def lanes_of(value: str) -> list[str]:
    """The lane names of a startableBy value, in order."""
    return [name.strip() for name in value.split(",") if name.strip()]


def check_hand_starts(findings: Findings, doc: Document, forms: FormFiles) -> None:
    owners: dict[Any, dict[str, Any]] = {}
    for properties in doc.root.iter(spiff_tag("properties")):
        owner = owner_of_extension(properties)
        for prop in properties.iter(spiff_tag("property")):
            if prop.get("name") in HAND_START_PROPERTIES and prop.get("value") is not None:
                owners.setdefault(owner, {})[prop.get("name")] = prop  # as SpiffWorkflow reads them: the last wins
    for owner, props in owners.items():
        owner_id = owner.get("id") if owner is not None else None
        where = _wrong_place(owner)
        if where:
            for name, prop in props.items():
                findings.add(doc.path, prop.sourceline, owner_id,
                             f"{name} is only read on the start event of a process without a trigger (the route's "
                             f"plain start), not on {where}")
            continue
        if STARTABLE_BY not in props:
            for name, prop in props.items():
                findings.add(doc.path, prop.sourceline, owner_id,
                             f"{name} is only read with the {STARTABLE_BY} property, which this start event does not "
                             "have")
            continue
        for name, prop in props.items():
            _check_one(findings, doc, forms, owner_id, name, prop.get("value"), prop.sourceline)


def _wrong_place(owner: Any) -> str | None:
    if owner is None:
        return "properties outside an element's extensionElements"
    kind = etree.QName(owner).localname
    if owner.tag != bpmn_tag("startEvent"):
        return f"a {kind}"
    if owner.getparent() is None or owner.getparent().tag != bpmn_tag("process"):
        return "the start event of a sub-process"
    trigger = next((etree.QName(child).localname for child in owner
                    if isinstance(child.tag, str) and child.tag.endswith("EventDefinition")), None)
    if trigger:
        return f"a start event with a {trigger.removesuffix('EventDefinition')} trigger (it is started by that)"
    return None


def _check_one(findings: Findings, doc: Document, forms: FormFiles, owner_id: str | None, name: str, value: str,
               line: int | None) -> None:
    if name == STARTABLE_BY:
        lanes = lanes_of(value)
        known = ", ".join(LANE_ROLES)
        if not lanes:
            findings.add(doc.path, line, owner_id, f"{STARTABLE_BY} names no lane; give lane names separated by "
                                                   f"commas, from: {known}")
        for lane in lanes:
            if lane not in LANE_ROLES:
                findings.add(doc.path, line, owner_id, f"{STARTABLE_BY} names '{lane}', which is not a lane; "
                                                       f"use: {known}")
    elif name == STARTABLE_WHEN:
        tree = check_expression(findings, doc, value, line, owner_id, f"{STARTABLE_WHEN} expression")
        if tree is not None:
            unknown = sorted(_free_names(tree) - set(CONDITION_NAMES) - set(SAFE_BUILTINS))
            if unknown:
                findings.add(doc.path, line, owner_id,
                             f"{STARTABLE_WHEN} may only use {', '.join(CONDITION_NAMES)}, not "
                             f"{', '.join(repr(n) for n in unknown)}")
    elif name == STARTABLE_ALONGSIDE:
        if value.strip().lower() not in _FLAGS:
            findings.add(doc.path, line, owner_id, f"{STARTABLE_ALONGSIDE} must be true or false, not {value!r}")
    elif name in TEXTS:
        if not value.strip():
            findings.add(doc.path, line, owner_id, f"{name} is empty")
        elif name in (START_LABEL, START_LABEL_FAMILY) and len(value.strip()) > LABEL_MAX:
            findings.add(doc.path, line, owner_id, f"{name} is longer than {LABEL_MAX} characters: it is the text "
                                                   "of a link; put the explanation in startHelp")
    elif name == START_FORM:
        _check_start_form(findings, doc, forms, owner_id, value.strip(), line)


def _free_names(tree: ast.AST) -> set[str]:
    """Names an expression reads that it does not bind itself (a comprehension's variables are its own)."""
    bound = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)}
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)} - bound


def _check_start_form(findings: Findings, doc: Document, forms: FormFiles, owner_id: str | None, form: str,
                      line: int | None) -> None:
    if not form:
        findings.add(doc.path, line, owner_id, f"{START_FORM} is empty")
        return
    text = check_form_file(findings, doc, forms, owner_id, form, line)
    if text is None:
        return
    path = str(forms.forms_dir / form)
    try:
        schema = json.loads(text)
    except json.JSONDecodeError:
        return  # reported by the form check
    fields = schema.get("properties") if isinstance(schema, dict) else None
    for fact in CASE_FACTS:
        if isinstance(fields, dict) and fact in fields:
            findings.add(path, json_line(text, ["properties", fact]), owner_id,
                         f"form {form} asks for '{fact}', which every route is given from its case; a start form "
                         "cannot set it: rename the field")
