"""Scenario runs: a process owner's test of a route before it is deployed.

A scenario file (YAML) names a process, a starting moment and a list of steps: start with data, complete a task with
data, advance the clock (due timers then fire), send a message, and expectations (tasks open, deadline dates and
states, documents issued, route ended). It runs against a throw-away SQLite database with a small set of
organisations and people, through the same engine as production, and reports which steps passed.

    process: ehc_needs_assessment
    clock: 2026-03-02T10:00:00+00:00
    child: {first_name: Alex, last_name: Taylor, date_of_birth: 2015-05-14}
    steps:
      - start: {requester: parent}
      - complete: UT_register_request
        data: {concern: speech and language}
      - advance: {weeks: 6, days: 1}
      - message: request_withdrawn
        payload: {reason: moved}
      - expect:
          tasks_open: [UT_decide]
          deadlines: {decide_whether_to_assess: "2026-04-13"}
          deadline_status: {decide_whether_to_assess: missed}
          documents: [refusal_to_assess]
          ended: false
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select

from engine.errors import EngineError
from engine.library.registry import ProcessRegistry
from engine.people.roles import Role
from engine.people.users import create_organisation, create_user
from engine.runtime.workflow_engine import WorkflowEngine
from engine.statutory.clock import FrozenClock
from engine.store.db import make_engine, make_session_factory
from engine.store.migrate import upgrade
from engine.store.models import CaseParty, Deadline, Document, HumanTask, ProcessInstance

STEP_KINDS = ("start", "complete", "advance", "message", "expect", "claim_exception")


class ScenarioError(Exception):
    """The scenario file itself is wrong (not a failed expectation)."""


@dataclass
class StepResult:
    number: int
    description: str
    passed: bool
    message: str = ""


@dataclass
class ScenarioResult:
    name: str
    steps: list[StepResult] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(step.passed for step in self.steps)


def load_scenario(path: Path) -> dict[str, Any]:
    try:
        scenario = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ScenarioError(f"{path}: not valid YAML{where}") from exc
    except OSError as exc:
        raise ScenarioError(f"{path}: cannot read the file ({exc.strerror})") from exc
    if not isinstance(scenario, dict) or not isinstance(scenario.get("process"), str):
        raise ScenarioError(f"{path}: a scenario needs 'process' (the process id) and 'steps'")
    if not isinstance(scenario.get("steps"), list) or not scenario["steps"]:
        raise ScenarioError(f"{path}: 'steps' must be a list with at least one step")
    for number, step in enumerate(scenario["steps"], 1):
        kinds = [k for k in STEP_KINDS if isinstance(step, dict) and k in step]
        if len(kinds) != 1:
            raise ScenarioError(f"{path}: step {number} must have exactly one of {', '.join(STEP_KINDS)}")
    return scenario


class _World:
    """The people a scenario acts as: one of each role, in one LA, with one child's case."""

    def __init__(self, engine: WorkflowEngine, child: dict[str, Any]) -> None:
        clock = engine.clock
        with engine.session_factory() as s:
            la = create_organisation(s, "Scenario Council", "local_authority", clock, code="SCN")
            health = create_organisation(s, "Scenario ICB", "health_body", clock)
            school = create_organisation(s, "Scenario School", "setting", clock, setting_type="maintained_school",
                                         maintaining_la_id=la.id)
            mediation = create_organisation(s, "Scenario Mediation", "mediation_service", clock)
            self.users = {}
            for role, org in [(Role.CASEWORKER, la), (Role.MANAGER, la), (Role.EDUCATIONAL_PSYCHOLOGIST, la),
                              (Role.SOCIAL_CARE, la), (Role.HEALTH, health), (Role.SCHOOL, school),
                              (Role.MEDIATION, mediation), (Role.FAMILY, None)]:
                self.users[role.value] = create_user(s, f"{role.value}@scenario.invalid", role.label,
                                                     "scenario-password", clock, [(org, role)])
            case = engine.open_case(s, la.id, str(child.get("first_name", "Alex")), str(child.get("last_name", "Doe")),
                                    child.get("date_of_birth"))
            for party, org in (("health_body", health), ("setting", school), ("mediation_service", mediation)):
                s.add(CaseParty(case_id=case.id, role=party, organisation_id=org.id))
            s.add(CaseParty(case_id=case.id, role="family", user_id=self.users["family"].id))
            s.commit()
            self.case_id = case.id


def run_scenario(scenario: dict[str, Any], registry: ProcessRegistry, name: str = "scenario") -> ScenarioResult:
    """Runs a loaded scenario against the processes of a registry (a version not yet deployed, typically)."""
    result = ScenarioResult(name)
    if scenario["process"] not in registry.processes:
        result.steps.append(StepResult(0, "find the process", False,
                                       f"no process {scenario['process']!r} in the files checked"))
        return result
    with tempfile.TemporaryDirectory(prefix="ehcflow-scenario-") as tmp:
        db = make_engine(f"sqlite:///{Path(tmp) / 'scenario.sqlite3'}")
        try:
            upgrade(db)
            start = _moment(scenario.get("clock", "2026-03-02T10:00:00+00:00"))
            engine = WorkflowEngine(make_session_factory(db), FrozenClock(start))
            engine.deploy(registry)
            world = _World(engine, scenario.get("child") or {})
            runner = _Runner(engine, world, scenario["process"])
            for number, step in enumerate(scenario["steps"], 1):
                description = _describe(step)
                try:
                    message = runner.run(step)
                    result.steps.append(StepResult(number, description, not message, message or ""))
                except (EngineError, ScenarioError, ValueError, KeyError) as exc:
                    result.steps.append(StepResult(number, description, False, str(exc)))
                except (TypeError, AttributeError) as exc:
                    # A step whose values have the wrong shape (``advance: {fortnights: 1}``, a list for data):
                    # the file is wrong, and the process owner should be told which step, not shown a traceback.
                    result.steps.append(StepResult(number, description, False,
                                                   f"this step is not written as engine/authoring/scenarios.py describes: "
                                                   f"{exc}"))
                if not result.steps[-1].passed and "expect" not in step:
                    break  # later steps depend on this one
        finally:
            db.dispose()
    return result


def _moment(value: Any) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _describe(step: dict[str, Any]) -> str:
    kind = next(k for k in STEP_KINDS if k in step)
    value = step[kind]
    if kind == "complete":
        return f"complete {value}"
    if kind == "message":
        return f"send message {value}"
    if kind == "advance":
        if isinstance(value, dict) and "to" in value:
            return f"advance the clock to {value['to']}"
        return "advance the clock " + (", ".join(f"{v} {k}" for k, v in value.items())
                                       if isinstance(value, dict) else str(value))
    if kind == "expect":
        return "expect " + ", ".join(sorted(value or {}))
    return kind.replace("_", " ")


class _Runner:
    def __init__(self, engine: WorkflowEngine, world: _World, process_id: str) -> None:
        self.engine = engine
        self.world = world
        self.process_id = process_id
        self.instance_id: int | None = None

    def run(self, step: dict[str, Any]) -> str | None:
        if "start" in step:
            self.instance_id = self.engine.start(self.world.case_id, self.process_id, step["start"] or {})
            return None
        if "complete" in step:
            return self._complete(step["complete"], step.get("data") or {}, step.get("as"))
        if "advance" in step:
            clock = self.engine.clock
            assert isinstance(clock, FrozenClock)
            if "to" in (step["advance"] or {}):
                clock.set(_moment(step["advance"]["to"]))
            else:
                clock.advance(**{k: float(v) for k, v in (step["advance"] or {}).items()})
            while self.engine.fire_due_timers():
                pass
            return None
        if "message" in step:
            delivered = self.engine.send_message(self.world.case_id, step["message"], step.get("payload") or {})
            if self.instance_id is None:
                self.instance_id = delivered  # a route that its message starts: later steps can expect it ended
            return None
        if "claim_exception" in step:
            spec = step["claim_exception"]
            with self.engine.session_factory() as s:
                row = s.scalars(select(Deadline).where(Deadline.case_id == self.world.case_id,
                                                       Deadline.key == spec["deadline"])).first()
            if row is None:
                return f"no deadline {spec['deadline']!r} on the case"
            self.engine.claim_exception(row.id, spec["reason"], spec.get("detail", "scenario"),
                                        spec.get("family_told_on", self.engine.clock.today().isoformat()))
            return None
        return self._expect(step["expect"] or {})

    def _complete(self, bpmn_id: str, data: dict[str, Any], role: str | None) -> str | None:
        with self.engine.session_factory() as s:
            task = s.scalars(select(HumanTask).where(HumanTask.case_id == self.world.case_id,
                                                     HumanTask.bpmn_id == bpmn_id, HumanTask.status == "open")
                             .order_by(HumanTask.id)).first()
            if task is None:
                open_ids = s.scalars(select(HumanTask.bpmn_id).where(HumanTask.case_id == self.world.case_id,
                                                                     HumanTask.status == "open")).all()
                return f"no open task {bpmn_id}; open tasks: {', '.join(open_ids) or 'none'}"
            actor = self.world.users.get(role or task.role or "")
        self.engine.complete_task(task.id, data, actor)
        return None

    def _expect(self, expect: dict[str, Any]) -> str | None:
        problems: list[str] = []
        with self.engine.session_factory() as s:
            open_tasks = sorted(s.scalars(select(HumanTask.bpmn_id).where(HumanTask.case_id == self.world.case_id,
                                                                          HumanTask.status == "open")))
            if "tasks_open" in expect and sorted(expect["tasks_open"]) != open_tasks:
                problems.append(f"tasks open: expected {sorted(expect['tasks_open'])}, found {open_tasks}")
            deadlines = {d.key: d for d in s.scalars(select(Deadline).where(Deadline.case_id == self.world.case_id)
                                                     .order_by(Deadline.id))}
            for key, due in (expect.get("deadlines") or {}).items():
                row = deadlines.get(key)
                wanted = due if isinstance(due, date) else date.fromisoformat(str(due))
                if row is None:
                    problems.append(f"deadline {key}: not set")
                elif row.due_date != wanted:
                    problems.append(f"deadline {key}: expected {wanted}, found {row.due_date}")
            for key, status in (expect.get("deadline_status") or {}).items():
                row = deadlines.get(key)
                if row is None or row.status != status:
                    problems.append(f"deadline {key}: expected {status}, found {row.status if row else 'not set'}")
            if "documents" in expect:
                kinds = sorted(s.scalars(select(Document.kind).where(Document.case_id == self.world.case_id)))
                missing = [k for k in expect["documents"] if k not in kinds]
                if missing:
                    problems.append(f"documents not issued: {missing}; issued: {kinds}")
            if "ended" in expect:
                instance = s.get(ProcessInstance, self.instance_id) if self.instance_id else None
                ended = instance is not None and instance.status in ("completed", "terminated")
                if ended != bool(expect["ended"]):
                    problems.append(f"route ended: expected {bool(expect['ended'])}, "
                                    f"found {instance.status if instance else 'not started'}")
        return "; ".join(problems) or None
