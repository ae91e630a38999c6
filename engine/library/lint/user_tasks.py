"""User tasks: the lane (the role) each one is in, and the form it shows, checked as a JSON Schema."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import jsonschema

from engine.library.lint.document import NS, SUBPROCESS_TAGS, Document, bpmn_tag
from engine.library.lint.problems import Findings
from engine.library.script_functions import SCRIPT_FUNCTION_NAMES
from engine.people.roles import LANE_ROLES, YOUNG_PERSON, Role, role_for_lane


class FormFiles:
    """The forms folder, with the forms of an upload not yet written winning over it; each form is checked once."""

    def __init__(self, forms_dir: Path, extra_forms: dict[str, str]) -> None:
        self.forms_dir = forms_dir
        self.extra_forms = extra_forms
        self.checked: set[str] = set()

    def text(self, form: str) -> str | Exception | None:
        if form in self.extra_forms:
            return self.extra_forms[form]
        path = self.forms_dir / form
        if not path.is_file():
            return None
        try:
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            return exc


# The tasks a person does, which SpiffWorkflow makes "manual" and the engine lists as human tasks. A plain task or
# a manualTask has no form: the people of its lane's role mark it as done (docs/bpmn-conventions.md).
_PEOPLE_TASKS = tuple(bpmn_tag(name) for name in ("userTask", "manualTask", "task"))
_KIND = {bpmn_tag("userTask"): "user task", bpmn_tag("manualTask"): "manual task", bpmn_tag("task"): "task"}


# ---- 8. user tasks: lanes and forms --------------------------------------------------------------------------------
def check_user_tasks(findings: Findings, doc: Document, forms: FormFiles) -> None:
    lanes: dict[str, Any] = {}
    # As SpiffWorkflow does: the last lane listing a node wins, so a nested lane beats its parent lane.
    for ref in doc.root.iter(bpmn_tag("flowNodeRef")):
        if ref.text is not None:
            lanes[ref.text] = ref.getparent()
    known = ", ".join(LANE_ROLES)
    unknown_lanes: dict[Any, list[str]] = {}
    for task in doc.root.iter(*_PEOPLE_TASKS):
        task_id = task.get("id")
        kind = _KIND[task.tag]
        lane = _lane_of(task, lanes)
        if lane is None:
            findings.add(doc.path, task.sourceline, task_id,
                         f"{kind} is not in a lane; put it in the lane of the role that does it: {known}")
        elif role_for_lane(lane.get("name")) is None:
            unknown_lanes.setdefault(lane, []).append(task_id or "?")
        _check_family_member(findings, doc, task, lane)
        if task.tag == bpmn_tag("userTask"):
            _check_task_form(findings, doc, task, forms)
        elif _form_property(task) is not None:
            findings.add(doc.path, task.sourceline, task_id,
                         f"a {kind} shows no form (people only mark it as done); make it a userTask to show "
                         f"form '{_form_property(task).get('value')}'")
    for lane, task_ids in unknown_lanes.items():
        name = lane.get("name")
        what = f"lane '{name}'" if name else "a lane without a name"
        findings.add(doc.path, lane.sourceline, lane.get("id"),
                     f"{what} holds user tasks ({', '.join(task_ids)}) but is not a role; "
                     f"lanes with user tasks must be named one of: {known}")


def _lane_of(node: Any, lanes: dict[str, Any]) -> Any:
    """The lane element whose name SpiffWorkflow gives the task: an embedded sub-process passes its own lane on."""
    parent = node.getparent()
    while parent is not None and parent.tag not in SUBPROCESS_TAGS and parent.tag != bpmn_tag("process"):
        parent = parent.getparent()
    if parent is not None and parent.tag in SUBPROCESS_TAGS:
        inherited = _lane_of(parent, lanes)
        if inherited is not None and inherited.get("name") is not None:
            return inherited
    return lanes.get(node.get("id"))


def _form_property(task: Any) -> Any:
    return _property(task, "formJsonSchemaFilename")


def _property(task: Any, name: str) -> Any:
    found = None
    # As SpiffWorkflow reads it: properties directly in the task's extensionElements, the last one wins.
    for prop in task.iterfind("bpmn:extensionElements/spiffworkflow:properties//spiffworkflow:property", NS):
        if prop.get("name") == name:
            found = prop
    return found


def _check_family_member(findings: Findings, doc: Document, task: Any, lane: Any) -> None:
    """``familyMember`` gives a family task to the young person (engine/runtime/projection.py): any other value, or
    a task of another lane, would be accepted here and ignored when the route runs."""
    prop = _property(task, "familyMember")
    if prop is None:
        return
    if (prop.get("value") or "").strip() != YOUNG_PERSON:
        findings.add(doc.path, prop.sourceline, task.get("id"),
                     f"familyMember must be '{YOUNG_PERSON}' (the task is the young person's), not {prop.get('value')!r}")
    elif lane is not None and role_for_lane(lane.get("name")) != Role.FAMILY:
        findings.add(doc.path, prop.sourceline, task.get("id"),
                     f"familyMember is only read on a task in the Family lane, not in lane '{lane.get('name')}'")


def _check_task_form(findings: Findings, doc: Document, task: Any, forms: FormFiles) -> None:
    task_id = task.get("id")
    form_prop = _form_property(task)
    form = (form_prop.get("value") or "").strip() if form_prop is not None else ""
    if not form:
        findings.add(doc.path, task.sourceline, task_id,
                     "user task has no formJsonSchemaFilename property (the form it shows)")
        return
    check_form_file(findings, doc, forms, task_id, form, form_prop.sourceline)


def check_form_file(findings: Findings, doc: Document, forms: FormFiles, owner_id: str | None, form: str,
                    line: int | None) -> str | None:
    """The form a BPMN property names: a file in the forms folder, readable, a valid schema (checked once however many
    elements show it). Returns its text, or None when it cannot be read."""
    if Path(form).name != form or form.startswith("."):
        findings.add(doc.path, line, owner_id, f"form '{form}' must be a file name in the forms folder, not a path")
        return None
    text = forms.text(form)
    if text is None:
        findings.add(doc.path, line, owner_id, f"form file '{form}' does not exist in {forms.forms_dir}")
        return None
    if isinstance(text, Exception):
        findings.add(doc.path, line, owner_id, f"form file '{form}' cannot be read: {text}")
        return None
    if form not in forms.checked:
        forms.checked.add(form)
        check_form(findings, str(forms.forms_dir / form), form, text, owner_id)
    return text


def check_form(findings: Findings, path: str, form: str, text: str, task_id: str | None) -> None:
    try:
        schema = json.loads(text)
    except json.JSONDecodeError as exc:
        findings.add(path, exc.lineno, task_id, f"form {form} is not valid JSON: {exc.msg} (column {exc.colno})")
        return
    if not isinstance(schema, dict):
        findings.add(path, 1, task_id, f"form {form} must be a JSON object (a JSON Schema)")
        return
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as exc:
        findings.add(path, json_line(text, list(exc.absolute_path)), task_id,
                     f"form {form} is not a valid JSON Schema: {exc.message} "
                     f"(at {'/'.join(str(p) for p in exc.absolute_path) or 'the top level'})")
        return
    if schema.get("type") != "object":
        findings.add(path, json_line(text, ["type"]) if "type" in schema else 1, task_id,
                     f'form {form} must have "type": "object" at the top level')
    for key_path in _property_paths(schema, []):
        name = key_path[-1]
        if name == "typename":
            findings.add(path, json_line(text, key_path), task_id,
                         f"form {form} has a field called 'typename', which SpiffWorkflow cannot restore from saved "
                         "task data; rename it")
        elif _is_top_level_field(key_path) and name in SCRIPT_FUNCTION_NAMES:
            findings.add(path, json_line(text, key_path), task_id,
                         f"form {form} has a field called '{name}', the name of a script function: task data with "
                         "that name stops every later script from running; rename it")


def _property_paths(schema: Any, path: list[str | int]) -> Iterator[list[str | int]]:
    """The key path of every field a form can produce, nested objects and array items included."""
    if not isinstance(schema, dict):
        return
    properties = schema.get("properties")
    if isinstance(properties, dict):
        for name, sub in properties.items():
            yield [*path, "properties", name]
            yield from _property_paths(sub, [*path, "properties", name])
    items = schema.get("items")
    if isinstance(items, dict):
        yield from _property_paths(items, [*path, "items"])
    for keyword in ("allOf", "anyOf", "oneOf"):
        branches = schema.get(keyword)
        if isinstance(branches, list):
            for index, branch in enumerate(branches):
                yield from _property_paths(branch, [*path, keyword, index])
    for keyword in ("then", "else"):
        yield from _property_paths(schema.get(keyword), [*path, keyword])


def _is_top_level_field(key_path: list[str | int]) -> bool:
    # Only top-level answers are merged into the process data; nested ones live inside their parent's value.
    return key_path.count("properties") == 1 and "items" not in key_path


def json_line(text: str, key_path: Sequence[str | int]) -> int | None:
    """Best-effort line of a key path in a JSON text: each key is searched for after the previous one."""
    position = 0
    for key in key_path:
        if isinstance(key, int):
            continue
        match = re.compile(re.escape(json.dumps(key)) + r"\s*:").search(text, position)
        if match is None:
            break
        position = match.start()
    return text.count("\n", 0, position) + 1
