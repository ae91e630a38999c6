"""The shape of the files: the XML schema, process ids, reserved ids, references, and SpiffWorkflow's own parse."""

from __future__ import annotations

import threading
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.spiff.parser import VALIDATOR, SpiffBpmnParser

from engine.library.lint.document import BPMN_NS, SPIFF_NS, Document, bpmn_tag, owning_id, top_process_id
from engine.library.lint.problems import Findings

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

_GATEWAY_TAGS = frozenset(bpmn_tag(name) for name in ("exclusiveGateway", "inclusiveGateway", "complexGateway"))

# lxml's XMLSchema keeps the errors of its last run on the shared validator object, so concurrent checks (two
# uploads at once) must not interleave between validating and reading the error log.
_VALIDATOR_LOCK = threading.Lock()


# ---- 2. XSD --------------------------------------------------------------------------------------------------------
def check_schema(findings: Findings, doc: Document) -> None:
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
        findings.add(doc.path, line or None, owning_id(element),
                     f"not valid BPMN (XML schema): {_readable(message).rstrip('.')}")


# ---- 6. duplicate processes ----------------------------------------------------------------------------------------
def check_duplicate_processes(findings: Findings, docs: list[Document]) -> None:
    seen: dict[str, str] = {}
    for doc in docs:
        for process in doc.processes():
            pid = process.get("id")
            if not pid:
                continue
            if pid in seen:
                findings.add(doc.path, process.sourceline, pid,
                             f"process id '{pid}' is also used in {seen[pid]}; process ids must be unique")
                doc.combinable = False
            else:
                seen[pid] = doc.path
        if not doc.processes():
            findings.add(doc.path, doc.root.sourceline, None, "the file has no bpmn:process")
        elif not any(p.get("isExecutable", "true") == "true" for p in doc.processes()):
            first = doc.processes()[0]
            findings.add(doc.path, first.sourceline, first.get("id"),
                         'the process is not executable, and no other process in this file is; '
                         'set isExecutable="true" on the process that runs')


# ---- 3. SpiffWorkflow's own parse ----------------------------------------------------------------------------------
def check_structure(findings: Findings, docs: list[Document]) -> None:
    by_path = {doc.path: doc for doc in docs}
    # One parser for all files, as at deploy time, so call activities resolve across files.
    parser = SpiffBpmnParser(validator=None)
    for doc in docs:
        if any(path == doc.path for path, _ in findings.skip_structure):
            continue  # its problems are reported already; SpiffWorkflow would only repeat them in its own words
        try:
            parser.add_bpmn_xml(doc.tree, filename=doc.path)
        except ValidationException as exc:
            _spiff_problem(findings, exc, by_path, doc)
        except Exception as exc:  # noqa: BLE001
            findings.add(doc.path, None, None, f"the engine cannot read this file: {_one_line(repr(exc))}")
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
            if doc is not None and (doc.path, top_process_id(process_parser.node)) in findings.skip_structure:
                continue
            if not process_parser.process_executable:
                continue  # a pool drawn for the reader (the family, another organisation): nothing runs it
            try:
                parser.get_spec(pid)
            except ValidationException as exc:
                _spiff_problem(findings, exc, by_path, doc)
            except Exception as exc:  # noqa: BLE001
                path = doc.path if doc is not None else str(process_parser.filename)
                findings.add(path, process_parser.node.sourceline, pid,
                             f"the engine cannot run this process: {_one_line(repr(exc))}")


def _spiff_problem(findings: Findings, exc: ValidationException, by_path: dict[str, Document],
                   fallback: Document | None) -> None:
    doc = by_path.get(exc.file_name) or fallback
    path = doc.path if doc is not None else (exc.file_name or "-")
    element_id = getattr(exc, "id", "") or None
    line = exc.line_number if isinstance(exc.line_number, int) and exc.line_number > 0 else None
    if line is None and doc is not None:
        # SpiffWorkflow leaves line_number empty for structural errors; the element id is reliable.
        line = doc.line_of(element_id)
    findings.add(path, line, element_id, _one_line(_spiff_message(_message_of(exc))))


# ---- 5. reserved ids -----------------------------------------------------------------------------------------------
def check_reserved_ids(findings: Findings, doc: Document) -> None:
    for element in doc.root.iter(etree.Element):
        element_id = element.get("id")
        if element_id in RESERVED_IDS:
            findings.add(doc.path, element.sourceline, element_id,
                         f"the id '{element_id}' is reserved by the engine; rename the element")
            findings.skip(doc, element)


# ---- 4. and sequence flows -----------------------------------------------------------------------------------------
def check_references(findings: Findings, doc: Document, known_processes: set[str]) -> None:
    for process in doc.processes():
        pid = process.get("id")
        ids = {e.get("id") for e in process.iter(etree.Element) if e.get("id")}
        outgoing: dict[str, list[str]] = {}
        for flow in process.iter(bpmn_tag("sequenceFlow")):
            outgoing.setdefault(flow.get("sourceRef", ""), []).append(flow.get("id", ""))
            for attribute, verb in (("sourceRef", "comes from"), ("targetRef", "goes to")):
                ref = flow.get(attribute)
                if ref not in ids:
                    findings.add(doc.path, flow.sourceline, flow.get("id"),
                                 f"sequence flow {verb} '{ref}', which is not an element of process '{pid}'")
                    findings.skip(doc, flow)
        for gateway in process.iter(*_GATEWAY_TAGS):
            default = gateway.get("default")
            if default and default not in outgoing.get(gateway.get("id", ""), []):
                findings.add(doc.path, gateway.sourceline, gateway.get("id"),
                             f"default flow '{default}' is not one of this gateway's outgoing sequence flows")
    for call in doc.root.iter(bpmn_tag("callActivity")):
        called = call.get("calledElement")
        if called and called not in known_processes:
            known = ", ".join(sorted(known_processes)) or "none"
            findings.add(doc.path, call.sourceline, call.get("id"),
                         f"calls process '{called}', which is not defined in any of the files being checked "
                         f"(processes defined: {known})")


# ---- messages --------------------------------------------------------------------------------------------------------
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


def _one_line(message: str, limit: int = 300) -> str:
    """One problem, one line: SpiffWorkflow's messages may quote whole XML elements."""
    text = " ".join(message.split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _readable(message: str) -> str:
    for namespace, prefix in _NS_PREFIXES.items():
        message = message.replace(f"{{{namespace}}}", f"{prefix}:")
    return message


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
