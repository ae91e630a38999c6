"""Checks BPMN files, and the forms their user tasks show, before anything is deployed.

SpiffWorkflow accepts a lot that only fails when a case reaches the broken element, months later: a syntax error in a
script or a condition, an unquoted timer literal, a call to a process that is not deployed, a form that does not
exist. Everything here is checked without running anything, so that ``ehcflow workflows check`` and an upload can
refuse the file up front with every problem listed as ``file:line: element-id: message``.

The rules are those of docs/bpmn-conventions.md. How SpiffWorkflow 3.2 reports its own errors (and where the line
numbers have to come from) is described in the project's SpiffWorkflow notes, sections 1, 3, 5 and 8.

This module loads the files and runs the checks of its sibling modules over them, in order.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from lxml import etree

from engine.library.lint.document import Document
from engine.library.lint.expressions import check_conditions, check_scripts
from engine.library.lint.hand_starts import check_hand_starts
from engine.library.lint.problems import Findings, Problem
from engine.library.lint.properties import check_properties
from engine.library.lint.structure import (
    check_duplicate_processes,
    check_references,
    check_reserved_ids,
    check_schema,
    check_structure,
)
from engine.library.lint.timers import check_timers
from engine.library.lint.unsupported import check_unsupported, thrown_signals
from engine.library.lint.user_tasks import FormFiles, check_user_tasks


def check_files(bpmn_paths: Sequence[Path], forms_dir: Path,
                extra_forms: Mapping[str, str] | None = None,
                other_processes: Iterable[str] = ()) -> list[Problem]:
    """Every problem in the BPMN files and the forms they use, sorted by file and line; [] when all is well.

    The files are checked together, so a call activity may call a process in another file. ``extra_forms`` maps a
    form file name to its JSON text and wins over ``forms_dir``: it lets an upload be checked before it is written.
    ``other_processes`` names processes defined elsewhere (the other files of the folder, the versions deployed in
    the database) that a call activity may call. Never raises for bad input.
    """
    findings = Findings()
    forms = FormFiles(Path(forms_dir), dict(extra_forms or {}))
    docs = [doc for doc in (_load(findings, str(path)) for path in bpmn_paths) if doc is not None]
    for doc in docs:
        check_schema(findings, doc)
    known_processes = {proc.get("id") for doc in docs for proc in doc.processes() if proc.get("id")}
    known_processes.update(other_processes)
    valid = [doc for doc in docs if doc.schema_valid]
    check_duplicate_processes(findings, valid)
    signals = {name for doc in valid for name in thrown_signals(doc)}
    for doc in valid:
        try:
            check_unsupported(findings, doc, signals)
            _check_document(findings, doc, known_processes, forms)
        except Exception as exc:  # noqa: BLE001 - a checker bug must come out as a problem, not a traceback
            findings.add(doc.path, None, None, f"the checker failed on this file: {exc!r}")
    check_structure(findings, [doc for doc in valid if doc.combinable])
    return findings.sorted()


def _load(findings: Findings, path: str) -> Document | None:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        findings.add(path, None, None, f"cannot read the file: {exc.strerror or exc}")
        return None
    # A fresh parser per file (lxml parsers are not thread-safe); no entities and no network, since uploaded
    # files are untrusted.
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        tree = etree.parse(io.BytesIO(data), parser)
    except etree.XMLSyntaxError as exc:
        findings.add(path, exc.lineno or None, None, f"malformed XML: {exc.msg}")
        return None
    except Exception as exc:  # noqa: BLE001 - lxml raises other errors for some inputs (e.g. an empty file)
        findings.add(path, None, None, f"malformed XML: {exc}")
        return None
    if tree.docinfo.doctype:
        # A BPMN file never needs one, and a DOCTYPE is how entity tricks get into an XML parser.
        findings.add(path, 1, None, "the file declares a DOCTYPE; BPMN files must not (remove the <!DOCTYPE ...> line)")
        return None
    doc = Document(path, tree)
    for element in tree.getroot().iter(etree.Element):
        element_id = element.get("id")
        if element_id and element_id not in doc.ids:
            doc.ids[element_id] = element
    return doc


def _check_document(findings: Findings, doc: Document, known_processes: set[str], forms: FormFiles) -> None:
    check_reserved_ids(findings, doc)
    check_references(findings, doc, known_processes)
    check_scripts(findings, doc)
    check_conditions(findings, doc)
    check_timers(findings, doc)
    check_properties(findings, doc)
    check_user_tasks(findings, doc, forms)
    check_hand_starts(findings, doc, forms)
