"""Checks BPMN files, and the forms their user tasks show, before anything is deployed.

SpiffWorkflow accepts a lot that only fails when a case reaches the broken element, months later: a syntax error in a
script or a condition, an unquoted timer literal, a call to a process that is not deployed, a form that does not
exist. Everything here is checked without running anything, so that ``ehcflow workflows check`` and an upload can
refuse the file up front with every problem listed as ``file:line: element-id: message``.

The rules are those of docs/bpmn-conventions.md. How SpiffWorkflow 3.2 reports its own errors (and where the line
numbers have to come from) is described in the project's SpiffWorkflow notes, sections 1, 3, 5 and 8.
"""

from __future__ import annotations

import ast
import builtins
import io
import json
import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import jsonschema
from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.spiff.parser import VALIDATOR, SpiffBpmnParser

from engine.roles import LANE_ROLES, role_for_lane
from engine.sandbox import SAFE_BUILTINS, compile_check
from engine.script_functions import SCRIPT_FUNCTION_NAMES

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NS = {"bpmn": BPMN_NS, "spiffworkflow": SPIFF_NS}

# Readable prefixes for the namespaces that libxml2 spells out in full in schema errors.
_NS_PREFIXES = {
    BPMN_NS: "bpmn",
    SPIFF_NS: "spiffworkflow",
    "http://www.omg.org/spec/BPMN/20100524/DI": "bpmndi",
    "http://www.omg.org/spec/DD/20100524/DC": "dc",
    "http://www.omg.org/spec/DD/20100524/DI": "di",
}

# SpiffWorkflow names its internal task specs Start, End and Root; a BPMN element with one of these ids replaces
# the internal spec and breaks the process (for Start, the parse fails with a misleading message).
RESERVED_IDS = frozenset({"Start", "End", "Root"})

# engine/documents.py renders engine/templates/documents/<name>.html for the `document` property. Spelled out here
# rather than imported so the linter stays importable without the document renderer's dependencies.
DOCUMENT_TEMPLATES = Path(__file__).resolve().parent / "templates" / "documents"
PLAN_VERSIONS = ("draft", "final", "amended")
# The values of the transferCase property (engine/transfer.py apply_transfer), spelled out for the same reason.
TRANSFER_ACTIONS = ("check", "apply", "export", "health")
# An expression property and the property it feeds: data without the property that uses it is a mistake.
_EXPRESSION_OF = {"startsRouteData": "startsRoute", "messagePayload": "sendsMessage"}

_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
_DOCUMENT_NAME = re.compile(r"[a-z0-9][a-z0-9_]*\Z")
_SANDBOX_LINE = re.compile(r"Line (\d+): (.*)\Z", re.DOTALL)

# ISO 8601 pieces, for spotting a timer literal written without quotes (it would be read as a Python name or fail
# to parse, and only break when the timer is armed).
_ISO_DURATION = re.compile(r"P(?=\d|T\d)(\d+(?:[.,]\d+)?[YMWD])*(T(\d+(?:[.,]\d+)?[HMS])+)?\Z", re.IGNORECASE)
_ISO_DATE = re.compile(
    r"\d{4}-?\d{2}-?\d{2}([T ]\d{2}(:?\d{2}(:?\d{2}([.,]\d+)?)?)?)?(Z|[+-]\d{2}(:?\d{2})?)?\Z", re.IGNORECASE
)
_ISO_REPEAT = re.compile(r"R\d*\Z", re.IGNORECASE)

# Python builtins that a script cannot call because the sandbox does not provide them. A call can never be to task
# data (task data is JSON), so calling one of these is certain to fail with a NameError when the element runs.
_UNAVAILABLE_BUILTINS = frozenset(
    name for name in dir(builtins)
    if not name.startswith("_") and name not in SAFE_BUILTINS and name not in SCRIPT_FUNCTION_NAMES
)

_SUBPROCESS_TAGS = frozenset(f"{{{BPMN_NS}}}{name}" for name in ("subProcess", "transaction", "adHocSubProcess"))
_GATEWAY_TAGS = frozenset(f"{{{BPMN_NS}}}{name}" for name in ("exclusiveGateway", "inclusiveGateway",
                                                              "complexGateway"))
_TIMER_TAGS = ("timeDate", "timeDuration", "timeCycle")

# lxml's XMLSchema keeps the errors of its last run on the shared validator object, so concurrent checks (two
# uploads at once) must not interleave between validating and reading the error log.
_VALIDATOR_LOCK = threading.Lock()


def _bpmn(tag: str) -> str:
    return f"{{{BPMN_NS}}}{tag}"


def _spiff(tag: str) -> str:
    return f"{{{SPIFF_NS}}}{tag}"


@dataclass(frozen=True, order=True)
class Problem:
    file: str  # the path as given by the caller (str(path))
    line: int | None
    element_id: str | None
    message: str

    def __str__(self) -> str:
        line = "?" if self.line is None else str(self.line)
        return f"{self.file}:{line}: {self.element_id or '-'}: {self.message}"


def _sort_key(problem: Problem) -> tuple[str, int, str, str]:
    # Problems without a line sort first in their file; comparing None with an int would raise.
    return (problem.file, -1 if problem.line is None else problem.line, problem.element_id or "", problem.message)


def check_files(bpmn_paths: Sequence[Path], forms_dir: Path,
                extra_forms: Mapping[str, str] | None = None) -> list[Problem]:
    """Every problem in the BPMN files and the forms they use, sorted by file and line; [] when all is well.

    The files are checked together, so a call activity may call a process in another file. ``extra_forms`` maps a
    form file name to its JSON text and wins over ``forms_dir``: it lets an upload be checked before it is written.
    Never raises for bad input.
    """
    linter = _Linter(Path(forms_dir), dict(extra_forms or {}))
    linter.run([str(p) for p in bpmn_paths])
    return sorted(set(linter.problems), key=_sort_key)


@dataclass
class _Document:
    path: str
    tree: Any  # lxml ElementTree
    schema_valid: bool = False
    # False when a process id in this file is already defined in an earlier file: SpiffWorkflow refuses to add it.
    combinable: bool = True
    ids: dict[str, Any] = field(default_factory=dict)

    @property
    def root(self) -> Any:
        return self.tree.getroot()

    def processes(self) -> list[Any]:
        return self.root.findall("bpmn:process", NS)

    def line_of(self, element_id: str | None) -> int | None:
        if not element_id:
            return None
        element = self.ids.get(element_id)
        return element.sourceline if element is not None else None


class _Linter:
    def __init__(self, forms_dir: Path, extra_forms: dict[str, str]) -> None:
        self.forms_dir = forms_dir
        self.extra_forms = extra_forms
        self.problems: list[Problem] = []
        self.forms_checked: set[str] = set()
        # Processes whose ids or references are broken: SpiffWorkflow's own errors for them are consequences,
        # often with misleading messages, so they are not reported on top.
        self.skip_structure: set[tuple[str, str]] = set()

    def add(self, file: str, line: int | None, element_id: str | None, message: str) -> None:
        self.problems.append(Problem(file, line, element_id, message))

    # ---- driver ----------------------------------------------------------------------------------------------------
    def run(self, paths: list[str]) -> None:
        docs = [doc for doc in (self._load(path) for path in paths) if doc is not None]
        for doc in docs:
            self._check_schema(doc)
        known_processes = {proc.get("id") for doc in docs for proc in doc.processes() if proc.get("id")}
        valid = [doc for doc in docs if doc.schema_valid]
        self._check_duplicate_processes(valid)
        for doc in valid:
            try:
                self._check_document(doc, known_processes)
            except Exception as exc:  # noqa: BLE001 - a checker bug must come out as a problem, not a traceback
                self.add(doc.path, None, None, f"the checker failed on this file: {exc!r}")
        self._check_structure([doc for doc in valid if doc.combinable])

    def _load(self, path: str) -> _Document | None:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            self.add(path, None, None, f"cannot read the file: {exc.strerror or exc}")
            return None
        # A fresh parser per file (lxml parsers are not thread-safe); no entities and no network, since uploaded
        # files are untrusted.
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
        try:
            tree = etree.parse(io.BytesIO(data), parser)
        except etree.XMLSyntaxError as exc:
            self.add(path, exc.lineno or None, None, f"malformed XML: {exc.msg}")
            return None
        except Exception as exc:  # noqa: BLE001 - lxml raises other errors for some inputs (e.g. an empty file)
            self.add(path, None, None, f"malformed XML: {exc}")
            return None
        if tree.docinfo.doctype:
            # A BPMN file never needs one, and a DOCTYPE is how entity tricks get into an XML parser.
            self.add(path, 1, None, "the file declares a DOCTYPE; BPMN files must not (remove the <!DOCTYPE ...> line)")
            return None
        doc = _Document(path, tree)
        for element in tree.getroot().iter(etree.Element):
            element_id = element.get("id")
            if element_id and element_id not in doc.ids:
                doc.ids[element_id] = element
        return doc

    # ---- 2. XSD ----------------------------------------------------------------------------------------------------
    def _check_schema(self, doc: _Document) -> None:
        with _VALIDATOR_LOCK:
            try:
                VALIDATOR.validate(doc.tree, doc.path)
                doc.schema_valid = True
                return
            except ValidationException as exc:
                entries = [(entry.line, entry.message, getattr(entry, "path", None))
                           for entry in VALIDATOR.validator.error_log]
                if not entries:
                    line = exc.line_number if isinstance(exc.line_number, int) else None
                    entries = [(line, _message_of(exc), None)]
            except Exception as exc:  # noqa: BLE001 - the validator should only raise ValidationException
                entries = [(None, repr(exc), None)]
        for line, message, xpath in entries:
            element = _element_at(doc.tree, xpath, line)
            self.add(doc.path, line or None, _owning_id(element),
                     f"not valid BPMN (XML schema): {_readable(message).rstrip('.')}")

    # ---- 6. duplicate processes ------------------------------------------------------------------------------------
    def _check_duplicate_processes(self, docs: list[_Document]) -> None:
        seen: dict[str, str] = {}
        for doc in docs:
            for process in doc.processes():
                pid = process.get("id")
                if not pid:
                    continue
                if pid in seen:
                    self.add(doc.path, process.sourceline, pid,
                             f"process id '{pid}' is also used in {seen[pid]}; process ids must be unique")
                    doc.combinable = False
                else:
                    seen[pid] = doc.path
            if not doc.processes():
                self.add(doc.path, doc.root.sourceline, None, "the file has no bpmn:process")

    # ---- 3. SpiffWorkflow's own parse ------------------------------------------------------------------------------
    def _check_structure(self, docs: list[_Document]) -> None:
        by_path = {doc.path: doc for doc in docs}
        # One parser for all files, as at deploy time, so call activities resolve across files.
        parser = SpiffBpmnParser(validator=None)
        for doc in docs:
            try:
                parser.add_bpmn_xml(doc.tree, filename=doc.path)
            except ValidationException as exc:
                self._spiff_problem(exc, by_path, doc)
            except Exception as exc:  # noqa: BLE001
                self.add(doc.path, None, None, f"SpiffWorkflow cannot read this file: {exc!r}")
        parsed: set[str] = set()
        # Parsing a process registers parsers for its embedded sub-processes, which are parsed in the next round.
        while True:
            pending = [pid for pid in parser.process_parsers if pid not in parsed]
            if not pending:
                break
            for pid in pending:
                parsed.add(pid)
                process_parser = parser.process_parsers[pid]
                doc = by_path.get(process_parser.filename)
                if doc is not None and (doc.path, _top_process_id(process_parser.node)) in self.skip_structure:
                    continue
                try:
                    parser.get_spec(pid)
                except ValidationException as exc:
                    self._spiff_problem(exc, by_path, doc)
                except Exception as exc:  # noqa: BLE001
                    path = doc.path if doc is not None else str(process_parser.filename)
                    self.add(path, process_parser.node.sourceline, pid, f"SpiffWorkflow cannot parse this process: "
                                                                        f"{exc!r}")

    def _spiff_problem(self, exc: ValidationException, by_path: dict[str, _Document],
                       fallback: _Document | None) -> None:
        doc = by_path.get(exc.file_name) or fallback
        path = doc.path if doc is not None else (exc.file_name or "-")
        element_id = getattr(exc, "id", "") or None
        line = exc.line_number if isinstance(exc.line_number, int) and exc.line_number > 0 else None
        if line is None and doc is not None:
            # SpiffWorkflow leaves line_number empty for structural errors; the element id is reliable.
            line = doc.line_of(element_id)
        self.add(path, line, element_id, _spiff_message(_message_of(exc)))

    # ---- checks on one file ----------------------------------------------------------------------------------------
    def _check_document(self, doc: _Document, known_processes: set[str]) -> None:
        self._check_reserved_ids(doc)
        self._check_references(doc, known_processes)
        self._check_scripts(doc)
        self._check_conditions(doc)
        self._check_timers(doc)
        self._check_properties(doc)
        self._check_user_tasks(doc)

    # 5.
    def _check_reserved_ids(self, doc: _Document) -> None:
        for element in doc.root.iter(etree.Element):
            element_id = element.get("id")
            if element_id in RESERVED_IDS:
                self.add(doc.path, element.sourceline, element_id,
                         f"the id '{element_id}' is reserved by the engine; rename the element")
                self._skip(doc, element)

    # 4. and sequence flows
    def _check_references(self, doc: _Document, known_processes: set[str]) -> None:
        for process in doc.processes():
            pid = process.get("id")
            ids = {e.get("id") for e in process.iter(etree.Element) if e.get("id")}
            outgoing: dict[str, list[str]] = {}
            for flow in process.iter(_bpmn("sequenceFlow")):
                outgoing.setdefault(flow.get("sourceRef", ""), []).append(flow.get("id", ""))
                for attribute, verb in (("sourceRef", "comes from"), ("targetRef", "goes to")):
                    ref = flow.get(attribute)
                    if ref not in ids:
                        self.add(doc.path, flow.sourceline, flow.get("id"),
                                 f"sequence flow {verb} '{ref}', which is not an element of process '{pid}'")
                        self._skip(doc, flow)
            for gateway in process.iter(*_GATEWAY_TAGS):
                default = gateway.get("default")
                if default and default not in outgoing.get(gateway.get("id", ""), []):
                    self.add(doc.path, gateway.sourceline, gateway.get("id"),
                             f"default flow '{default}' is not one of this gateway's outgoing sequence flows")
        for call in doc.root.iter(_bpmn("callActivity")):
            called = call.get("calledElement")
            if called and called not in known_processes:
                known = ", ".join(sorted(known_processes)) or "none"
                self.add(doc.path, call.sourceline, call.get("id"),
                         f"calls process '{called}', which is not defined in any of the files being checked "
                         f"(processes defined: {known})")

    # 7. scripts
    def _check_scripts(self, doc: _Document) -> None:
        for task in doc.root.iter(_bpmn("scriptTask")):
            script = task.find("bpmn:script", NS)
            if script is None or not (script.text or "").strip():
                self.add(doc.path, task.sourceline, task.get("id"), "script task has no script")
                continue
            self._check_script(doc, script, task.get("id"), "script")
        for tag, what in (("preScript", "pre-script"), ("postScript", "post-script")):
            for script in doc.root.iter(_spiff(tag)):
                if (script.text or "").strip():
                    self._check_script(doc, script, _flow_element_id(script), what)

    def _check_script(self, doc: _Document, element: Any, element_id: str | None, what: str) -> None:
        text = element.text or ""
        base = element.sourceline
        try:
            tree = ast.parse(text, mode="exec")
        except (SyntaxError, ValueError) as exc:
            lineno = getattr(exc, "lineno", None) or 1
            self.add(doc.path, _offset(base, lineno), element_id,
                     f"syntax error in the {what}, line {lineno}: {getattr(exc, 'msg', exc)}")
            return
        loop = next((node for node in ast.walk(tree) if isinstance(node, ast.While)), None)
        if loop is not None:
            # Nothing bounds a script's running time: a loop that never ends would hold the command (and its
            # database transaction) for ever. A for loop over a list always ends.
            self.add(doc.path, _offset(base, loop.lineno), element_id,
                     f"the {what} uses a while loop, line {loop.lineno}; use a for loop over a list instead")
            return
        if self._check_sandbox(doc, text, "exec", base, element_id, what):
            self._check_names(doc, tree, base, element_id, what)

    # 7. conditions and other expressions the engine evaluates
    def _check_conditions(self, doc: _Document) -> None:
        for condition in doc.root.iter(_bpmn("conditionExpression")):
            self._check_expression(doc, condition.text or "", condition.sourceline, _flow_element_id(condition),
                                   "condition")
        for tag, what in (("condition", "condition"), ("completionCondition", "completion condition"),
                          ("loopCondition", "loop condition"), ("loopCardinality", "loop cardinality")):
            for element in doc.root.iter(_bpmn(tag)):
                if tag == "condition" and element.getparent().tag != _bpmn("conditionalEventDefinition"):
                    continue
                self._check_expression(doc, element.text or "", element.sourceline, _flow_element_id(element),
                                       what)
        for payload in doc.root.iter(_spiff("messagePayload")):
            if (payload.text or "").strip():
                self._check_expression(doc, payload.text or "", payload.sourceline, _flow_element_id(payload),
                                       "message payload")

    def _check_expression(self, doc: _Document, text: str, line: int | None, element_id: str | None,
                          what: str) -> ast.Expression | None:
        if not text.strip():
            self.add(doc.path, line, element_id, f"the {what} is empty")
            return None
        try:
            tree = ast.parse(text, mode="eval")
        except (SyntaxError, ValueError) as exc:
            lineno = getattr(exc, "lineno", None) or 1
            where = f", line {lineno}" if "\n" in text.strip() else ""
            self.add(doc.path, _offset(line, lineno), element_id,
                     f"syntax error in the {what}{where}: {getattr(exc, 'msg', exc)} in {text.strip()!r}")
            return None
        if not self._check_sandbox(doc, text, "eval", line, element_id, what):
            return None
        self._check_names(doc, tree, line, element_id, what)
        return tree

    def _check_sandbox(self, doc: _Document, text: str, mode: str, base: int | None, element_id: str | None,
                       what: str) -> bool:
        try:
            objections = compile_check(text, mode)
        except Exception as exc:  # noqa: BLE001
            objections = [repr(exc)]
        by_line: dict[int, list[str]] = {}
        for objection in objections:
            match = _SANDBOX_LINE.match(objection)
            lineno, message = (int(match.group(1)), match.group(2)) if match else (1, objection)
            if message not in by_line.setdefault(lineno, []):
                by_line[lineno].append(message)
        for lineno, messages in sorted(by_line.items()):
            where = f", line {lineno}" if mode == "exec" else ""
            self.add(doc.path, _offset(base, lineno), element_id,
                     f"the sandbox refuses the {what}{where}: {'; '.join(m.rstrip('.') for m in messages)}")
        return not by_line

    def _check_names(self, doc: _Document, tree: ast.AST, base: int | None, element_id: str | None,
                     what: str) -> None:
        bound = _bound_names(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                self.add(doc.path, _offset(base, node.lineno), element_id,
                         f"imports are not allowed in the {what} (the sandbox has no modules); "
                         "use the script functions of docs/bpmn-conventions.md")
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                  and node.func.id in _UNAVAILABLE_BUILTINS and node.func.id not in bound):
                self.add(doc.path, _offset(base, node.lineno), element_id,
                         f"the {what} calls {node.func.id}(), which is not available in the sandbox")
        for name, lineno in _task_data_assignments(tree):
            if name in SCRIPT_FUNCTION_NAMES:
                self.add(doc.path, _offset(base, lineno), element_id,
                         f"the {what} sets '{name}', the name of a script function: task data with that name "
                         "stops every later script from running; use another name")

    # 7. timers
    def _check_timers(self, doc: _Document) -> None:
        for definition in doc.root.iter(_bpmn("timerEventDefinition")):
            event_id = _flow_element_id(definition)
            for child in definition.iterchildren(*(_bpmn(tag) for tag in _TIMER_TAGS)):
                text = (child.text or "").strip()
                if not text:
                    self.add(doc.path, child.sourceline, event_id, "the timer has no expression")
                    continue
                if _is_iso_literal(text):
                    self.add(doc.path, child.sourceline, event_id,
                             f'timer literal must be a quoted string, e.g. "{text}"')
                    continue
                tree = self._check_expression(doc, child.text or "", child.sourceline, event_id, "timer expression")
                if tree is not None and isinstance(tree.body, ast.Constant) and isinstance(tree.body.value, str):
                    message = _timer_value_problem(etree.QName(child).localname, tree.body.value)
                    if message:
                        self.add(doc.path, child.sourceline, event_id, message)

    # 9. spiffworkflow properties
    def _check_properties(self, doc: _Document) -> None:
        for properties in doc.root.iter(_spiff("properties")):
            owner = _owner_of_extension(properties)
            owner_id = owner.get("id") if owner is not None else _flow_element_id(properties)
            for prop in properties.iter(_spiff("property")):
                name, value, line = prop.get("name"), prop.get("value"), prop.sourceline
                if not name:
                    self.add(doc.path, line, owner_id, "a spiffworkflow:property has no name")
                    self._skip(doc, prop)
                    continue
                if value is None:
                    self.add(doc.path, line, owner_id, f"property '{name}' has no value")
                    self._skip(doc, prop)
                    continue
                self._check_property(doc, owner, owner_id, name, value, line)
            names = {prop.get("name") for prop in properties.iter(_spiff("property"))}
            for data_name, user in _EXPRESSION_OF.items():
                if data_name in names and user not in names:
                    prop = next(p for p in properties.iter(_spiff("property")) if p.get("name") == data_name)
                    self.add(doc.path, prop.sourceline, owner_id,
                             f"{data_name} is only read with the {user} property, which this element does not have")

    def _check_property(self, doc: _Document, owner: Any, owner_id: str | None, name: str, value: str,
                        line: int | None) -> None:
        if name in ("dueDate", "deadlineDetail"):
            self._check_expression(doc, value, line, owner_id, f"{name} expression")
        elif name == "opensDeadline":
            key, colon, expression = value.partition(":")
            if not colon or not _KEY.match(key.strip()):
                self.add(doc.path, line, owner_id,
                         f"opensDeadline must be written 'key: expression', e.g. "
                         f"'final_plan_20w: add_weeks(start_date, 20)', not {value!r}")
            else:
                self._check_expression(doc, expression.strip(), line, owner_id, "opensDeadline expression")
        elif name in ("meetsDeadline", "cancelsDeadlines"):
            keys = [key.strip() for key in value.split(",") if key.strip()]
            bad = [key for key in keys if not _KEY.match(key)]
            if not keys or bad:
                shown = ", ".join(repr(k) for k in bad) if bad else "nothing"
                self.add(doc.path, line, owner_id,
                         f"{name} must be deadline keys separated by commas (letters, digits and _), "
                         f"not {shown}")
        elif name == "deadline":
            if owner is None or owner.find("bpmn:timerEventDefinition", NS) is None:
                kind = etree.QName(owner).localname if owner is not None else "element"
                self.add(doc.path, line, owner_id,
                         f"the 'deadline' property is only allowed on timer events, not on a {kind}; "
                         "use opensDeadline to open a deadline without a timer")
            elif not _KEY.match(value.strip()):
                self.add(doc.path, line, owner_id,
                         f"deadline must be a deadline key (letters, digits and _), not {value!r}")
            elif _follows_event_gateway(owner):
                # SpiffWorkflow moves this timer onto the gateway: the deadline row would never be opened.
                self.add(doc.path, line, owner_id,
                         "a timer after an event-based gateway cannot carry a deadline; put the deadline on a "
                         "boundary timer of the task that does the work")
        elif name in _EXPRESSION_OF:
            self._check_expression(doc, value, line, owner_id, f"{name} expression")
        elif name == "startsRoute":
            route = value.strip()
            # Unlike a call activity, the route started need not be among the files checked: routes are deployed
            # on their own, and one that is not deployed is noted in the case's history when the step runs.
            if not _KEY.match(route):
                self.add(doc.path, line, owner_id, f"startsRoute must be a process id, not {value!r}")
        elif name == "sendsMessage" and not _KEY.match(value.strip()):
            self.add(doc.path, line, owner_id, f"sendsMessage must be a message name (letters, digits and _), "
                                               f"not {value!r}")
        elif name == "transferCase" and value.strip() not in TRANSFER_ACTIONS:
            self.add(doc.path, line, owner_id, f"transferCase must be one of {', '.join(TRANSFER_ACTIONS)}, "
                                               f"not {value!r}")
        elif name == "planVersion" and value.strip() not in PLAN_VERSIONS:
            self.add(doc.path, line, owner_id, f"planVersion must be one of {', '.join(PLAN_VERSIONS)}, "
                                               f"not {value!r}")
        elif name == "document":
            names = [n.strip() for n in value.split(",") if n.strip()]
            if not names:
                self.add(doc.path, line, owner_id, "document names no template")
            for template in names:
                if not _DOCUMENT_NAME.match(template) or not (DOCUMENT_TEMPLATES / f"{template}.html").is_file():
                    self.add(doc.path, line, owner_id,
                             f"document template '{template}' does not exist in engine/templates/documents")

    # 8. user tasks: lanes and forms
    def _check_user_tasks(self, doc: _Document) -> None:
        lanes: dict[str, Any] = {}
        # As SpiffWorkflow does: the last lane listing a node wins, so a nested lane beats its parent lane.
        for ref in doc.root.iter(_bpmn("flowNodeRef")):
            if ref.text is not None:
                lanes[ref.text] = ref.getparent()
        known = ", ".join(LANE_ROLES)
        unknown_lanes: dict[Any, list[str]] = {}
        for task in doc.root.iter(_bpmn("userTask")):
            task_id = task.get("id")
            lane = _lane_of(task, lanes)
            if lane is None:
                self.add(doc.path, task.sourceline, task_id,
                         f"user task is not in a lane; put it in the lane of the role that does it: {known}")
            elif role_for_lane(lane.get("name")) is None:
                unknown_lanes.setdefault(lane, []).append(task_id or "?")
            self._check_task_form(doc, task)
        for lane, task_ids in unknown_lanes.items():
            name = lane.get("name")
            what = f"lane '{name}'" if name else "a lane without a name"
            self.add(doc.path, lane.sourceline, lane.get("id"),
                     f"{what} holds user tasks ({', '.join(task_ids)}) but is not a role; "
                     f"lanes with user tasks must be named one of: {known}")

    def _check_task_form(self, doc: _Document, task: Any) -> None:
        task_id = task.get("id")
        form_prop = None
        # As SpiffWorkflow reads it: properties directly in the task's extensionElements, the last one wins.
        for prop in task.iterfind("bpmn:extensionElements/spiffworkflow:properties//spiffworkflow:property", NS):
            if prop.get("name") == "formJsonSchemaFilename":
                form_prop = prop
        form = (form_prop.get("value") or "").strip() if form_prop is not None else ""
        if not form:
            self.add(doc.path, task.sourceline, task_id,
                     "user task has no formJsonSchemaFilename property (the form it shows)")
            return
        line = form_prop.sourceline
        if Path(form).name != form or form.startswith("."):
            self.add(doc.path, line, task_id, f"form '{form}' must be a file name in the forms folder, not a path")
            return
        text = self._form_text(form)
        if text is None:
            self.add(doc.path, line, task_id, f"form file '{form}' does not exist in {self.forms_dir}")
            return
        if isinstance(text, Exception):
            self.add(doc.path, line, task_id, f"form file '{form}' cannot be read: {text}")
            return
        if form not in self.forms_checked:
            self.forms_checked.add(form)
            self._check_form(str(self.forms_dir / form), form, text, task_id)

    def _form_text(self, form: str) -> str | Exception | None:
        if form in self.extra_forms:
            return self.extra_forms[form]
        path = self.forms_dir / form
        if not path.is_file():
            return None
        try:
            return path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            return exc

    def _check_form(self, path: str, form: str, text: str, task_id: str | None) -> None:
        try:
            schema = json.loads(text)
        except json.JSONDecodeError as exc:
            self.add(path, exc.lineno, task_id, f"form {form} is not valid JSON: {exc.msg} (column {exc.colno})")
            return
        if not isinstance(schema, dict):
            self.add(path, 1, task_id, f"form {form} must be a JSON object (a JSON Schema)")
            return
        try:
            jsonschema.Draft202012Validator.check_schema(schema)
        except jsonschema.SchemaError as exc:
            self.add(path, _json_line(text, list(exc.absolute_path)), task_id,
                     f"form {form} is not a valid JSON Schema: {exc.message} "
                     f"(at {'/'.join(str(p) for p in exc.absolute_path) or 'the top level'})")
            return
        if schema.get("type") != "object":
            self.add(path, _json_line(text, ["type"]) if "type" in schema else 1, task_id,
                     f'form {form} must have "type": "object" at the top level')
        for key_path in _property_paths(schema, []):
            name = key_path[-1]
            if name == "typename":
                self.add(path, _json_line(text, key_path), task_id,
                         f"form {form} has a field called 'typename', which SpiffWorkflow cannot restore from saved "
                         "task data; rename it")
            elif _is_top_level_field(key_path) and name in SCRIPT_FUNCTION_NAMES:
                self.add(path, _json_line(text, key_path), task_id,
                         f"form {form} has a field called '{name}', the name of a script function: task data with "
                         "that name stops every later script from running; rename it")

    def _skip(self, doc: _Document, element: Any) -> None:
        process_id = _top_process_id(element)
        if process_id:
            self.skip_structure.add((doc.path, process_id))


# ---- helpers ----------------------------------------------------------------------------------------------------------
def _message_of(exc: BaseException) -> str:
    # SpiffWorkflowException.__str__ appends ". " and its notes; the first argument is the message itself.
    message = str(exc.args[0]) if exc.args else str(exc)
    notes = [n for n in getattr(exc, "notes", []) if isinstance(n, str)]
    return "; ".join([message.strip(), *notes])


def _spiff_message(message: str) -> str:
    if message.startswith("Multiple outgoing flows are not supported"):
        return "more than one sequence flow leaves this element; only gateways may split the flow (add a gateway)"
    if message.startswith("When looking for a task spec"):
        target = message[message.rfind("(") + 1:message.rfind(")")]
        return f"a sequence flow from this element goes to '{target}', which does not exist"
    return message


def _readable(message: str) -> str:
    for namespace, prefix in _NS_PREFIXES.items():
        message = message.replace(f"{{{namespace}}}", f"{prefix}:")
    return message


def _offset(base: int | None, lineno: int) -> int | None:
    return None if base is None else base + max(lineno, 1) - 1


def _owning_id(element: Any) -> str | None:
    while element is not None:
        if isinstance(element.tag, str) and element.get("id"):
            return str(element.get("id"))
        element = element.getparent()
    return None


def _flow_element_id(element: Any) -> str | None:
    """The id of the task, event, gateway or flow an inner element belongs to.

    Inner elements such as a timerEventDefinition may carry ids of their own, but people look for the element on
    the diagram, which is the direct child of a process or sub-process.
    """
    containers = {_bpmn("process"), *_SUBPROCESS_TAGS}
    node = element
    while node is not None:
        parent = node.getparent()
        if parent is not None and parent.tag in containers and node.get("id"):
            return str(node.get("id"))
        node = parent
    return _owning_id(element)


def _owner_of_extension(element: Any) -> Any:
    parent = element.getparent()
    if parent is not None and parent.tag == _bpmn("extensionElements"):
        return parent.getparent()
    return None


def _top_process_id(element: Any) -> str | None:
    while element is not None:
        if element.tag == _bpmn("process"):
            return element.get("id")
        element = element.getparent()
    return None


def _element_at(tree: Any, xpath: str | None, line: int | None) -> Any:
    """The element a schema error is about: by libxml2's path when it resolves, else the first on that line."""
    root = tree.getroot()
    if xpath:
        try:
            namespaces = {k: v for k, v in root.nsmap.items() if k}
            found = tree.xpath(xpath, namespaces=namespaces)
            if found and isinstance(found[0], etree._Element):
                return found[0]
        except etree.XPathError:
            pass
    if line:
        for element in root.iter(etree.Element):
            if element.sourceline == line:
                return element
    return None


def _lane_of(node: Any, lanes: dict[str, Any]) -> Any:
    """The lane element whose name SpiffWorkflow gives the task: an embedded sub-process passes its own lane on."""
    parent = node.getparent()
    while parent is not None and parent.tag not in _SUBPROCESS_TAGS and parent.tag != _bpmn("process"):
        parent = parent.getparent()
    if parent is not None and parent.tag in _SUBPROCESS_TAGS:
        inherited = _lane_of(parent, lanes)
        if inherited is not None and inherited.get("name") is not None:
            return inherited
    return lanes.get(node.get("id"))


def _follows_event_gateway(element: Any) -> bool:
    incoming = {flow.text.strip() for flow in element.findall("bpmn:incoming", NS) if flow.text}
    if not incoming:
        return False
    process = element.getparent()
    for flow in process.iter(_bpmn("sequenceFlow")):
        if flow.get("id") in incoming:
            source = next((e for e in process if e.get("id") == flow.get("sourceRef")), None)
            if source is not None and source.tag == _bpmn("eventBasedGateway"):
                return True
    return False


def _is_iso_literal(text: str) -> bool:
    parts = text.split("/")
    if len(parts) > 1 and _ISO_REPEAT.match(parts[0]):
        parts = parts[1:]
    return len(parts) <= 2 and all(_ISO_DURATION.match(p) or _ISO_DATE.match(p) for p in parts)


def _timer_value_problem(kind: str, value: str) -> str | None:
    """A quoted timer literal is read by SpiffWorkflow when the timer is armed: check it now instead."""
    try:
        if kind == "timeDate":
            TimerEventDefinition.get_datetime(value)
            if datetime.fromisoformat(value).tzinfo is None:
                return (f"timer date {value!r} has no UTC offset, so it would be read in the server's time zone; "
                        "add one (e.g. +00:00) or use deadline_at()")
        elif kind == "timeDuration":
            TimerEventDefinition.parse_iso_duration(value)
            if not value.upper().startswith("P"):
                raise ValueError(value)
        else:
            TimerEventDefinition.parse_iso_recurring_interval(value)
    except Exception:  # noqa: BLE001 - SpiffWorkflow raises plain Exception for a bad duration
        expected = {"timeDate": "an ISO 8601 date and time", "timeDuration": "an ISO 8601 duration such as \"P6W\""}
        return f"timer value {value!r} is not {expected.get(kind, 'an ISO 8601 repeating interval such as R3/PT1H')}"
    return None


def _bound_names(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
    return names


def _task_data_assignments(tree: ast.AST) -> Iterator[tuple[str, int]]:
    """Names a script binds at its top level: they become task data when the script ends."""
    def targets(node: ast.AST) -> Iterator[ast.Name]:
        if isinstance(node, ast.Name):
            yield node
        elif isinstance(node, ast.Tuple | ast.List):
            for element in node.elts:
                yield from targets(element)
        elif isinstance(node, ast.Starred):
            yield from targets(node.value)

    def statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
        for statement in body:
            yield statement
            if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                continue  # a new scope: its names do not become task data
            # Blocks do not open a scope in Python: names bound inside if/for/while/with/try are task data too.
            for attribute in ("body", "orelse", "finalbody"):
                inner = getattr(statement, attribute, None)
                if isinstance(inner, list):
                    yield from statements(inner)
            for handler in getattr(statement, "handlers", None) or []:
                yield from statements(handler.body)

    if not isinstance(tree, ast.Module):
        return
    for statement in statements(tree.body):
        found: list[ast.AST] = []
        if isinstance(statement, ast.Assign):
            found = list(statement.targets)
        elif isinstance(statement, ast.AugAssign | ast.AnnAssign | ast.For | ast.AsyncFor):
            found = [statement.target]
        elif isinstance(statement, ast.With | ast.AsyncWith):
            found = [item.optional_vars for item in statement.items if item.optional_vars is not None]
        for target in found:
            for name in targets(target):
                yield name.id, name.lineno


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


def _json_line(text: str, key_path: Sequence[str | int]) -> int | None:
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
