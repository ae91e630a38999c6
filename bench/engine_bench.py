"""Engine benchmarks (run on demand, never by the test suite): `.venv/bin/python -m bench.engine_bench`.

Measures, on a fresh SQLite database in a temporary folder (or DATABASE_URL):
1. complete-task latency through the engine, committed, p50 and p95, with 1,000 / 10,000 / 100,000 cases stored;
2. cost against instance age: 200 steps through a looping process, mean of the last 20 over the first 20;
3. timers fired per second by one worker;
4. the same persisted steps with SpiffWorkflow's default serialization (spec embedded), as a ratio in the same run;
5. the admin console's instance list and home counts (projections only), p50 and p95, at each size of 1.
Prints a Markdown report to paste into docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from engine.library.registry import ProcessRegistry
from engine.runtime.workflow_engine import WorkflowEngine
from engine.statutory.clock import FrozenClock, active_clock
from engine.store import planner_statistics
from engine.store.db import make_engine, make_session_factory
from engine.store.migrate import upgrade
from engine.store.models import Case, HumanTask, Organisation, ProcessInstance

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).parent.parent


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[index]


def setup(url: str | None) -> tuple[WorkflowEngine, int]:
    if url is None:
        url = f"sqlite:///{tempfile.mkdtemp(prefix='ehcflow-bench-')}/bench.sqlite3"
    db = make_engine(url)
    upgrade(db)
    engine = WorkflowEngine(make_session_factory(db), FrozenClock(datetime(2026, 3, 2, 10, tzinfo=UTC)))
    registry = ProcessRegistry.from_texts(
        {
            "workflows/looping.bpmn": (DATA / "looping.bpmn").read_text(),
            "workflows/runtime_demo.bpmn": (ROOT / "tests/engine/data/runtime_demo.bpmn").read_text(),
        },
        DATA,
        extra_forms={p.name: p.read_text() for p in (ROOT / "tests/engine/data/forms").glob("*.json")},
    )
    engine.deploy(registry)
    with engine.session_factory() as s:
        la = Organisation(name="Bench Council", kind="local_authority", code="BEN")
        s.add(la)
        s.commit()
        return engine, la.id


def add_cases(engine: WorkflowEngine, la_id: int, target: int) -> None:
    """Bulk-adds cases, each with a running instance and an open task, cloned from one real instance's rows."""
    with engine.session_factory() as s:
        have = s.scalar(select(func.count()).select_from(Case)) or 0
        if have >= target:
            return
        template_case = engine.open_case(s, la_id, "Template", "Case")
        s.commit()
        template_case_id = template_case.id
    iid = engine.start(template_case_id, "runtime_demo", {"explode": False})
    with engine.session_factory() as s:
        inst = s.get(ProcessInstance, iid)
        task = s.scalars(select(HumanTask).where(HumanTask.instance_id == iid)).one()
        now, today = engine.clock.now(), engine.clock.today()
        batch = 5000
        start_id = (s.scalar(select(func.max(Case.id))) or 0) + 1
        while have < target:
            n = min(batch, target - have)
            ids = range(start_id, start_id + n)
            s.execute(insert(Case), [
                {"id": i, "reference": f"BEN-{i:07d}", "child_first_name": f"Child{i}", "child_last_name": "Bench",
                 "la_id": la_id, "status": "open", "created_at": now} for i in ids])
            first_inst = (s.scalar(select(func.max(ProcessInstance.id))) or 0) + 1
            s.execute(insert(ProcessInstance), [
                {"id": first_inst + k, "case_id": i, "process_version_id": inst.process_version_id,
                 "process_id": inst.process_id, "status": inst.status, "state": inst.state,
                 "serializer_version": inst.serializer_version, "revision": 1, "next_timer_due": None,
                 "created_at": now, "updated_at": now} for k, i in enumerate(ids)])
            s.execute(insert(HumanTask), [
                {"instance_id": first_inst + k, "case_id": i, "task_guid": task.task_guid, "process_id": task.process_id,
                 "bpmn_id": task.bpmn_id, "name": task.name, "lane": task.lane, "role": task.role,
                 "organisation_id": task.organisation_id, "status": "open", "created_at": now, "form": task.form,
                 "due_date": _due_date(today, i)}
                for k, i in enumerate(ids)])
            s.commit()
            have += n
            start_id += n
        after_bulk_load(s)


def _due_date(today: date, i: int) -> date | None:
    """Due dates as a caseload has them, so the lists' overdue-first order has work to do: one task in six overdue
    (up to 15 days), most due within 75 days, one in 100 with no due date."""
    return None if i % 100 == 0 else today + timedelta(days=(i % 90) - 15)


def after_bulk_load(session: Session) -> None:
    """SQLite: the task lists' planner statistics, as the worker keeps them. PostgreSQL: moves each id sequence past
    the ids the bulk load chose itself (without this the next case or
    instance the engine creates takes an id the load already used and fails with a duplicate key), then gathers the
    planner's statistics."""
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        # SQLite: the statistics the worker's daily job keeps (engine/store/planner_statistics.py), as a day after the load.
        planner_statistics.refresh(session.connection())
        session.commit()
        return
    quote = bind.dialect.identifier_preparer.quote
    for model in (Case, ProcessInstance, HumanTask):
        table = quote(model.__tablename__)
        session.execute(text(f"SELECT setval(pg_get_serial_sequence(:name, 'id'), "
                             f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)"), {"name": table})
    # Planner statistics for the rows just loaded, as autovacuum would gather soon after on a live database;
    # without them the first queries plan for empty tables.
    session.execute(text("ANALYZE"))
    session.commit()


def complete_latency(engine: WorkflowEngine, la_id: int, samples: int = 200,
                     state_sizes: list[int] | None = None) -> list[float]:
    """Starts fresh instances (among the stored cases) and times complete_task on each, committed; with
    ``state_sizes``, also collects the size of each saved state (what a write floor must write)."""
    with engine.session_factory() as s:
        case = engine.open_case(s, la_id, "Timed", "Case")
        s.commit()
        case_id = case.id
    timings: list[float] = []
    for _ in range(samples):
        iid = engine.start(case_id, "runtime_demo", {"explode": False})
        with engine.session_factory() as s:
            task_id = s.scalars(select(HumanTask.id).where(HumanTask.instance_id == iid)).one()
        t0 = time.perf_counter()
        engine.complete_task(task_id, {"concern": "benchmark"})
        timings.append((time.perf_counter() - t0) * 1000)
        if state_sizes is not None:
            with engine.session_factory() as s:
                state_sizes.append(len(s.get(ProcessInstance, iid).state))
    return timings


ADMIN_LISTS = {
    "first page, all": {},
    "waiting for a person": {"status": "waiting_person"},
    "with overdue deadlines": {"overdue": True},
    "page 100": {"page": 100},
}


def admin_list_latency(engine: WorkflowEngine, la_id: int, samples: int = 30) -> dict[str, list[float]]:
    """The admin console's queries as an administrator of the benchmark LA sees them."""
    from engine.admin.instance_admin import InstanceFilters, admin_counts, instance_list

    timings: dict[str, list[float]] = {name: [] for name in [*ADMIN_LISTS, "home counts"]}
    today, now = engine.clock.today(), engine.clock.now()
    with engine.session_factory() as s:
        for _ in range(samples):
            for name, filters in ADMIN_LISTS.items():
                t0 = time.perf_counter()
                instance_list(s, [la_id], InstanceFilters(**filters), today, now)
                timings[name].append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            admin_counts(s, [la_id], today)
            timings["home counts"].append((time.perf_counter() - t0) * 1000)
    return timings


def age_cost(engine: WorkflowEngine, la_id: int, steps: int = 200) -> tuple[list[float], int, int]:
    with engine.session_factory() as s:
        case = engine.open_case(s, la_id, "Loop", "Case")
        s.commit()
        case_id = case.id
    iid = engine.start(case_id, "looping", {"steps": 0, "limit": steps + 1})
    timings: list[float] = []
    sizes: list[int] = []
    for _ in range(steps):
        with engine.session_factory() as s:
            task_id = s.scalars(select(HumanTask.id).where(HumanTask.instance_id == iid,
                                                           HumanTask.status == "open")).one()
        t0 = time.perf_counter()
        engine.complete_task(task_id, {"note": "x" * 50})
        timings.append((time.perf_counter() - t0) * 1000)
        with engine.session_factory() as s:
            sizes.append(len(s.get(ProcessInstance, iid).state))
    return timings, sizes[0], sizes[-1]


def embedded_ratio(engine: WorkflowEngine, la_id: int, steps: int = 60) -> tuple[float, float]:
    """Persisted step cost (deserialize + step + serialize) by reference vs with the spec embedded, in memory."""
    with engine.session_factory() as s:
        case = engine.open_case(s, la_id, "Ratio", "Case")
        s.commit()
        case_id = case.id
    iid = engine.start(case_id, "looping", {"steps": 0, "limit": steps + 10})
    with engine.session_factory() as s:
        instance = s.get(ProcessInstance, iid)
        wf = engine.load_workflow(instance)
        loaded = engine.load_version(instance.version)
    ser = engine.serializer
    by_ref: list[float] = []
    embedded: list[float] = []
    state_ref = ser.dumps(wf)
    state_emb = ser.embedded.serialize_json(wf)
    with active_clock(engine.clock):
        for _ in range(steps):
            t0 = time.perf_counter()
            w = ser.loads(state_ref, loaded.spec, loaded.subprocess_specs)
            w.script_engine = engine.script_engine
            _step(w)
            state_ref = ser.dumps(w)
            by_ref.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            w = ser.embedded.deserialize_json(state_emb)
            w.script_engine = engine.script_engine
            _step(w)
            state_emb = ser.embedded.serialize_json(w)
            embedded.append(time.perf_counter() - t0)
    return statistics.mean(embedded) / statistics.mean(by_ref), len(state_emb) / len(state_ref)


def _step(wf) -> None:
    from SpiffWorkflow.util.task import TaskState

    task = wf.get_next_task(state=TaskState.READY, manual=True)
    task.set_data(note="x")
    task.run()
    wf.refresh_timers()
    wf.do_engine_steps()


def first_tasks(engine: WorkflowEngine, la_id: int, count: int, prefix: str) -> list[int]:
    """Starts ``count`` runtime_demo routes, each on a case of its own (as a council's are: one case's routes share
    its deadlines), and returns the id of each one's first task."""
    tasks = []
    for n in range(count):
        with engine.session_factory() as s:
            case = engine.open_case(s, la_id, f"{prefix}{n}", "Case")
            s.commit()
            case_id = case.id
        iid = engine.start(case_id, "runtime_demo", {"explode": False})
        with engine.session_factory() as s:
            tasks.append(s.scalars(select(HumanTask.id).where(HumanTask.instance_id == iid)).one())
    return tasks


def timer_throughput(engine: WorkflowEngine, la_id: int, count: int = 300) -> float:
    """Due timers fired per second by one worker: ``count`` routes, each on its own case (300 routes on one case
    would hand one "decide" deadline from route to route and open it again at each firing), each waiting on its
    decision deadline, all due at once."""
    for task_id in first_tasks(engine, la_id, count, "Timer"):
        engine.complete_task(task_id, {"concern": "x"})
    assert isinstance(engine.clock, FrozenClock)
    engine.clock.advance(weeks=10)
    t0 = time.perf_counter()
    fired = 0
    while True:
        n = engine.fire_due_timers(limit=50)
        fired += n
        if n == 0:
            break
    elapsed = time.perf_counter() - t0
    engine.clock.advance(days=-70)
    return fired / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--samples", type=int, default=200)
    args = parser.parse_args()
    engine, la_id = setup(os.environ.get("DATABASE_URL"))
    print(f"Machine: {platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} CPUs, "
          f"database {engine.session_factory.kw['bind'].dialect.name}\n")
    print("| cases stored | complete-task p50 (ms) | p95 (ms) |\n|---|---|---|")
    admin: list[str] = []
    for size in (int(x) for x in args.sizes.split(",")):
        add_cases(engine, la_id, size)
        timings = complete_latency(engine, la_id, args.samples)
        print(f"| {size:,} | {percentile(timings, 50):.1f} | {percentile(timings, 95):.1f} |")
        for name, values in admin_list_latency(engine, la_id).items():
            admin.append(f"| {size:,} | {name} | {percentile(values, 50):.1f} | {percentile(values, 95):.1f} |")
    print("\nAdmin console queries:\n\n| cases stored | query | p50 (ms) | p95 (ms) |\n|---|---|---|---|")
    print("\n".join(admin))
    timings, first_size, last_size = age_cost(engine, la_id)
    first, last = statistics.mean(timings[:20]), statistics.mean(timings[-20:])
    print(f"\nCost against age (200 steps of one looping instance): first 20 mean {first:.2f} ms, last 20 mean "
          f"{last:.2f} ms, ratio **{last / first:.2f}**; state {first_size:,} B after step 1, {last_size:,} B after 200")
    rate = timer_throughput(engine, la_id)
    print(f"\nTimers fired by one worker: **{rate:.0f} instances per second**")
    ratio, size_ratio = embedded_ratio(engine, la_id)
    print(f"\nPersisted step (load + step + save, in memory) with the spec embedded vs by reference: time ratio "
          f"**{ratio:.2f}**, size ratio {size_ratio:.2f}")


if __name__ == "__main__":
    _ = timedelta
    main()
