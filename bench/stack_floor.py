"""What the headline step's stack costs at the least (run on demand, never by the test suite):

    .venv/bin/python -m bench.stack_floor [--steps 300] [--open-tasks 2000]

The headline step (post the looping route's open task, then open the next task's page; issue 16's goal: 5 ms of
server CPU) stands on SpiffWorkflow, Flask (with Flask-Login, Flask-WTF and Jinja) and SQLAlchemy, the stack EHC Flow
is built on. This measures, in one process and one spell, what each of those costs for its share of a step with
none of EHC Flow's own work, next to the real step measured the same way (Flask's test client, as
``bench.step_profile``):

- SpiffWorkflow alone, no database: restore the looping route's saved state, complete its open task, run on until
  it waits, serialize it again (the state EHC Flow saves, so the same size);
- a signed-in POST (with its CSRF token) and a signed-in GET to views added for this run that do nothing, and a
  GET of a page that is only the GOV.UK layout (header, navigation, footer) with an empty body: what every
  request and every page costs before its own work (the session cookie, the user read from the database, the
  CSRF check, the security headers, the layout);
- the database through the ORM: read the open task with its instance, update the task, insert the next one, save
  the instance's state (the real state's size) guarded by its revision, add an audit row, commit: the least a
  completion reads and writes, at the database's durability.

Their sum is the floor under the step on this machine; the step less the floor is EHC Flow's own work. The engine's
own completion (``complete_task``, no web) is given beside its share of the floor (SpiffWorkflow and the database's
part). CPU time (``time.process_time``), mean per step, the parts called in turn (one call of each per round, so
that each finds the caches as the others leave them, as inside a step). ``python -m bench`` reports the same figures
(``headline_figures``); ``python -m bench.instructions`` counts the same parts in instructions. Nothing here asserts
a timing.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, render_template
from SpiffWorkflow import TaskState
from sqlalchemy import insert, select

from bench.http_loop import open_task_id
from bench.step_profile import Stepper, signed_in_stepper
from engine.runtime.workflow_engine import WorkflowEngine
from engine.store.models import AuditEvent, Case, HumanTask, ProcessInstance
from webui.access import signed_in

EMPTY, LAYOUT = "/bench-floor/empty", "/bench-floor/layout"
FLOOR, STEP = "the floor (their sum)", "the step (bench.step_profile's)"
OWN = "EHC Flow's own work (the step less the floor)"
EMPTY_GET = "for comparison: a signed-in GET to a view that does nothing"
SPIFF = "SpiffWorkflow alone: restore, complete, run on, serialize"
POST = "a signed-in POST (CSRF checked) to a view that does nothing"
LAYOUT_GET = "a signed-in GET of the GOV.UK layout with an empty body"
STORE = "the database (ORM): read the task, write a completion, commit"
FLOOR_PARTS = (SPIFF, POST, LAYOUT_GET, STORE)
ENGINE, ENGINE_FLOOR = "the engine's completion alone (no web)", "its floor: SpiffWorkflow alone and the database's part"


def add_floor_views(app: Flask) -> None:
    """Views that do nothing but what every signed-in request does (added to this run's app only)."""
    bare_page = app.jinja_env.from_string('{% extends "base.html" %}')  # compiled once, as a template file is

    @signed_in
    def empty() -> str:
        return ""

    @signed_in
    def layout() -> str:
        return render_template(bare_page)

    app.add_url_rule(EMPTY, "bench_floor_empty", empty, methods=["GET", "POST"])
    app.add_url_rule(LAYOUT, "bench_floor_layout", layout)


#: A part measured: its label, the call measured, and what runs before each call unmeasured (or None).
Part = tuple[str, Callable[[], object], Callable[[], object] | None]
#: How parts are measured: runner(parts, count) gives each label's mean cost per call over ``count`` calls, after a
#: tenth as many (at least 5) to warm up (``cpu_in_turn`` here, instructions in ``bench.instructions``).
Runner = Callable[[list[Part], int], dict[str, float]]


def cpu_in_turn(parts: list[Part], count: int) -> dict[str, float]:
    """Mean CPU in ms (``time.process_time``) per call of each part, the parts called in turn, one call each per
    round, as a step runs them one after another: each finds the processor's caches as the others left them, as
    in a real step, and every part sees the same moments of the machine's spell. (Each part in a loop of its own
    would run hot, its code and data in the caches, and cost less than it does inside a step.)"""
    warm = max(5, count // 10)
    spent = dict.fromkeys((label for label, _, _ in parts), 0.0)
    for n in range(warm + count):
        for label, action, before in parts:
            if before is not None:
                before()
            began = time.process_time()
            action()
            if n >= warm:
                spent[label] += time.process_time() - began
    return {label: total * 1000 / count for label, total in spent.items()}


@dataclass
class SpiffOnly:
    """The looping route's state, stepped by SpiffWorkflow alone."""

    engine: WorkflowEngine
    state: str
    spec: object
    subprocess_specs: object

    def step(self) -> None:
        wf = self.engine.serializer.loads(self.state, self.spec, self.subprocess_specs)
        wf.script_engine = self.engine.script_engine
        task = wf.get_tasks(state=TaskState.READY, manual=True)[0]
        task.set_data(note="floor " + "x" * 40)
        task.run()
        wf.do_engine_steps()
        self.state = self.engine.serializer.dumps(wf)


def spiff_only(stepper: Stepper) -> SpiffOnly:
    engine = stepper.engine
    with engine.session_factory() as s:
        instance = s.get(ProcessInstance, stepper.instance_id)
        assert instance is not None
        loaded = engine.version_by_id(s, instance.process_version_id)
        return SpiffOnly(engine, instance.state, loaded.spec, loaded.subprocess_specs)


class StoreOnly:
    """The least a completion reads and writes, through the ORM, on its own instance (a copy of the real one)."""

    def __init__(self, engine: WorkflowEngine, instance_id: int) -> None:
        self.engine = engine
        with engine.session_factory() as s:
            original = s.get(ProcessInstance, instance_id)
            assert original is not None
            # A case of its own, so that the real step's pages (which read the case's routes) do not see the copy.
            la_id = s.scalar(select(Case.la_id).where(Case.id == original.case_id))
            case = engine.open_case(s, la_id, "Floor", "Store")
            task = s.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                     HumanTask.status == "open")).one()
            self.state = original.state
            copy = ProcessInstance(**{c.key: getattr(original, c.key) for c in ProcessInstance.__table__.columns
                                      if c.key not in ("id", "case_id")}, case_id=case.id)
            s.add(copy)
            s.flush()
            self.instance_id, self.case_id = copy.id, copy.case_id
            self.task_columns = {c.key: getattr(task, c.key) for c in HumanTask.__table__.columns
                                 if c.key not in ("id", "instance_id", "case_id")}
            self.task_columns["case_id"] = case.id
            s.add(HumanTask(**self.task_columns, instance_id=copy.id))
            s.commit()
        self.n = 0

    def step(self) -> None:
        self.n += 1
        now = self.engine.clock.now()
        with self.engine.session_factory() as s:
            task, instance = s.execute(
                select(HumanTask, ProcessInstance).join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
                .where(HumanTask.instance_id == self.instance_id, HumanTask.status == "open")).one()
            task.status, task.completed_at, task.submitted_data = "completed", now, {"note": f"floor {self.n}"}
            s.add(HumanTask(**{**self.task_columns, "task_guid": f"floor-{self.n:032d}", "created_at": now},
                            instance_id=self.instance_id))
            # A different state each time, so that no write is skipped; the same size as the real one.
            instance.state = f"{self.n:08d}" + self.state[8:]
            instance.revision += 1
            instance.updated_at = now
            s.flush()
            s.connection().execute(insert(AuditEvent.__table__), [{
                "at": now, "case_id": self.case_id, "instance_id": self.instance_id, "actor_id": None,
                "action": "completed", "summary": "Floor step", "detail": None}])
            s.commit()


def engine_completion(stepper: Stepper) -> Part:
    """The engine's own complete_task (no web) on a looping route of a case of its own in the same authority, the
    open task's id read before each call, unmeasured."""
    engine = stepper.engine
    with engine.session_factory() as s:
        instance = s.get(ProcessInstance, stepper.instance_id)
        assert instance is not None
        la_id = s.scalar(select(Case.la_id).where(Case.id == instance.case_id))
        case_id = engine.open_case(s, la_id, "Floor", "Engine").id
        s.commit()
    instance_id = engine.start(case_id, "looping", {"steps": 0, "limit": 1_000_000})
    held = {"task_id": 0, "n": 0}

    def find() -> None:
        held["task_id"], held["n"] = open_task_id(engine, instance_id), held["n"] + 1

    def complete() -> None:
        engine.complete_task(held["task_id"], {"note": f"engine {held['n']} " + "x" * 40})

    return ENGINE, complete, find


def parts_of(stepper: Stepper) -> list[Part]:
    """The step, the four parts of its floor, the engine's completion and an empty signed-in GET."""
    client, token = stepper.client, stepper.token
    spiff, store = spiff_only(stepper), StoreOnly(stepper.engine, stepper.instance_id)

    def post_empty() -> None:
        if client.post(EMPTY, data={"note": "x" * 40, "csrf_token": token}).status_code != 200:
            raise RuntimeError("the empty view refused the post")

    def get(path: str) -> Callable[[], None]:
        def fetch() -> None:
            if client.get(path).status_code != 200:
                raise RuntimeError(f"{path} did not answer 200")
        return fetch

    return [(STEP, stepper.step, None), (SPIFF, spiff.step, None), (POST, post_empty, None), (LAYOUT_GET, get(LAYOUT),
            None), (STORE, store.step, None), engine_completion(stepper), (EMPTY_GET, get(EMPTY), None)]


def with_totals(found: dict[str, float]) -> list[tuple[str, float]]:
    """The parts' costs (by label, as a runner gives them) in the order printed, with the floor (the four parts'
    sum), the step less the floor, and the engine's share of the floor (SpiffWorkflow alone and the database's
    part), whatever the unit."""
    floor = sum(found[label] for label in FLOOR_PARTS)
    return [*((label, found[label]) for label in FLOOR_PARTS), (FLOOR, floor), (STEP, found[STEP]),
            (OWN, found[STEP] - floor), (ENGINE, found[ENGINE]), (ENGINE_FLOOR, found[SPIFF] + found[STORE]),
            (EMPTY_GET, found[EMPTY_GET])]


def measure(stepper: Stepper, steps: int) -> list[tuple[str, float]]:
    """Each part's mean CPU in ms per call, timed in turn, with the totals of ``with_totals``."""
    return with_totals(cpu_in_turn(parts_of(stepper), steps))


def headline_figures(workdir: Path, steps: int, open_tasks: int = 2000) -> dict[str, float]:
    """The floor figures for the headline benchmark (``python -m bench``), measured on a SQLite database of their own
    in ``workdir``: the step and the engine's completion, each with its floor and their ratio."""
    stepper = signed_in_stepper(open_tasks, workdir, prepare=add_floor_views)
    figures = dict(measure(stepper, steps))
    step, floor = figures[STEP], figures[FLOOR]
    completion, engine_floor = figures[ENGINE], figures[ENGINE_FLOOR]
    return {"floor_step_cpu_ms": round(step, 2), "stack_floor_ms": round(floor, 2),
            "step_over_floor": round(step / floor, 3), "floor_engine_complete_ms": round(completion, 2),
            "engine_floor_ms": round(engine_floor, 2), "engine_over_floor": round(completion / engine_floor, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.stack_floor", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=300, help="calls measured of each part (after a tenth to warm)")
    parser.add_argument("--open-tasks", type=int, default=2000, help="other open tasks bulk-loaded first")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ehcflow-floor-") as folder:
        stepper = signed_in_stepper(args.open_tasks, Path(folder), prepare=add_floor_views)
        figures = measure(stepper, args.steps)
    print(f"CPU per step, mean of {args.steps} (ms)\n\n| part | ms |\n|---|---|")
    for label, ms in figures:
        print(f"| {label} | {ms:.2f} |")


if __name__ == "__main__":
    main()
