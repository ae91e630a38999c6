"""The process registry: loads the BPMN files and forms, checks them, versions each process by the hash of its files.

A process version is identified by the SHA-256 of the files it depends on: its own BPMN file, the files of the
processes it calls (recursively) and the forms its user tasks use. Changing a form therefore makes a new version of
every process that uses it, and nothing else.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.specs.event_definitions.simple import NoneEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.spiff.parser import VALIDATOR, SpiffBpmnParser

from engine.library.lint.checker import check_files
from engine.library.lint.document import NS
from engine.library.lint.problems import Problem


class RegistryError(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass
class UserTaskInfo:
    bpmn_id: str
    name: str
    lane: str | None
    form: str | None
    documentation: str | None


@dataclass
class TimerInfo:
    bpmn_id: str
    name: str
    expression: str
    deadline: str | None
    attached_to: str | None


@dataclass
class ParsedProcess:
    """One process as parsed from a set of files, with the files it depends on and its version hash."""

    process_id: str
    name: str
    spec: Any
    subprocess_specs: dict[str, Any]
    files: dict[str, str]
    version_hash: str
    user_tasks: list[UserTaskInfo] = field(default_factory=list)
    timers: list[TimerInfo] = field(default_factory=list)
    message_starts: list[str] = field(default_factory=list)

    @property
    def forms(self) -> dict[str, dict[str, Any]]:
        return {name[len("forms/"):]: json.loads(text) for name, text in self.files.items() if name.startswith("forms/")}


def version_hash(files: Mapping[str, str]) -> str:
    digest = hashlib.sha256()
    for name in sorted(files):
        digest.update(name.encode())
        digest.update(b"\0")
        digest.update(files[name].encode())
        digest.update(b"\0")
    return digest.hexdigest()


def _all_specs(spec: Any, subprocess_specs: dict[str, Any]) -> Iterable[Any]:
    yield spec
    yield from subprocess_specs.values()


def form_of(task_spec: Any) -> str | None:
    return (getattr(task_spec, "extensions", None) or {}).get("properties", {}).get("formJsonSchemaFilename")


def properties_of(task_spec: Any) -> dict[str, str]:
    return (getattr(task_spec, "extensions", None) or {}).get("properties", {}) or {}


def plain_start_event(spec: Any) -> Any | None:
    """The process's own start event without a trigger (not a message or timer start), where the properties of a
    route that people may start by hand are declared (docs/bpmn-conventions.md); None when it has none."""
    for ts in spec.task_specs.values():
        if type(ts).__name__ == "StartEvent" and isinstance(getattr(ts, "event_definition", None), NoneEventDefinition):
            return ts
    return None


def start_properties(spec: Any) -> dict[str, str]:
    """The spiffworkflow properties of the process's plain start event ({} when none)."""
    start = plain_start_event(spec)
    return properties_of(start) if start is not None else {}


def describe(spec: Any, subprocess_specs: dict[str, Any]) -> tuple[list[UserTaskInfo], list[TimerInfo], list[str]]:
    """The user tasks and timers of a process (including the processes it calls), for people and for projections."""
    users: list[UserTaskInfo] = []
    timers: list[TimerInfo] = []
    message_starts: list[str] = []
    for process_spec in _all_specs(spec, subprocess_specs):
        for ts in process_spec.task_specs.values():
            if getattr(ts, "manual", False) and ts.bpmn_id:
                users.append(UserTaskInfo(ts.bpmn_id, ts.bpmn_name or ts.bpmn_id, ts.lane, form_of(ts),
                                          ts.documentation))
            definition = getattr(ts, "event_definition", None)
            if isinstance(definition, TimerEventDefinition):
                timers.append(TimerInfo(ts.bpmn_id, ts.bpmn_name or ts.bpmn_id, definition.expression,
                                        properties_of(ts).get("deadline"),
                                        getattr(getattr(ts, "attached_to", None), "bpmn_id", None)))
            if process_spec is spec and type(ts).__name__ == "StartEvent" and definition is not None:
                name = getattr(definition, "name", None)
                if name and not isinstance(definition, TimerEventDefinition):
                    message_starts.append(name)
    return users, timers, message_starts


class ProcessRegistry:
    """The processes in a folder of BPMN files (and a folder of forms), checked and versioned."""

    def __init__(self, processes: dict[str, ParsedProcess]) -> None:
        self.processes = processes

    @classmethod
    def load(cls, workflows_dir: Path, forms_dir: Path) -> ProcessRegistry:
        paths = sorted(Path(workflows_dir).glob("*.bpmn"))
        return cls.from_files(paths, Path(forms_dir))

    @classmethod
    def from_files(cls, bpmn_paths: list[Path], forms_dir: Path,
                   extra_forms: Mapping[str, str] | None = None) -> ProcessRegistry:
        """Checks and parses the files; raises RegistryError listing every problem."""
        problems = check_files(bpmn_paths, forms_dir, extra_forms)
        if problems:
            raise RegistryError(problems)
        texts = {f"workflows/{p.name}": p.read_text(encoding="utf-8") for p in bpmn_paths}
        return cls.from_texts(texts, forms_dir, extra_forms)

    @classmethod
    def from_texts(cls, bpmn_texts: Mapping[str, str], forms_dir: Path | None,
                   extra_forms: Mapping[str, str] | None = None) -> ProcessRegistry:
        """Parses already-checked BPMN texts (keyed 'workflows/<file>')."""
        parser = SpiffBpmnParser(validator=VALIDATOR)
        for name, text in bpmn_texts.items():
            parser.add_bpmn_xml(_xml(text), filename=name)
        file_of: dict[str, str] = {}
        for name, text in bpmn_texts.items():
            single = SpiffBpmnParser()
            single.add_bpmn_xml(_xml(text), filename=name)
            for pid in single.get_process_ids():
                file_of[pid] = name

        def form_text(form: str) -> str:
            if extra_forms and form in extra_forms:
                return extra_forms[form]
            if forms_dir is None:
                raise FileNotFoundError(form)
            return (forms_dir / form).read_text(encoding="utf-8")

        processes: dict[str, ParsedProcess] = {}
        for pid in parser.get_process_ids():
            spec = parser.get_spec(pid)
            subs = parser.get_subprocess_specs(pid)
            files = {file_of[p]: bpmn_texts[file_of[p]] for p in [pid, *subs] if p in file_of}
            users, timers, message_starts = describe(spec, subs)
            for task in users:
                if task.form:
                    files[f"forms/{task.form}"] = form_text(task.form)
            start_form = start_properties(spec).get("startForm", "").strip()
            if start_form:  # the form of a route started by hand is part of its version, like a task's form
                files[f"forms/{start_form}"] = form_text(start_form)
            processes[pid] = ParsedProcess(pid, spec.description or pid, spec, subs, files, version_hash(files),
                                           users, timers, message_starts)
        return cls(processes)

    def get(self, process_id: str) -> ParsedProcess:
        try:
            return self.processes[process_id]
        except KeyError:
            known = ", ".join(sorted(self.processes)) or "none"
            raise KeyError(f"no process {process_id!r} is loaded (known: {known})") from None

    def process_for_message(self, message_name: str) -> ParsedProcess | None:
        for process in self.processes.values():
            if message_name in process.message_starts:
                return process
        return None


def process_documentation(bpmn_text: str, process_id: str) -> str | None:
    """The documentation a BPMN text gives the process (None when it gives none or does not define the process)."""
    found = _xml(bpmn_text).find(f"bpmn:process[@id='{process_id}']/bpmn:documentation", NS)
    return " ".join(found.text.split()) if found is not None and (found.text or "").strip() else None


def _xml(text: str) -> Any:
    """Parses BPMN text without entities, DTDs or network access (texts may come from an upload)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    return etree.fromstring(text.encode("utf-8"), parser)
