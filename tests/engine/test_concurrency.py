"""Races: two people completing the same task, two workers firing the same timers.

Run on SQLite always and on PostgreSQL when TEST_DATABASE_URL is reachable (skipped with the reason printed
otherwise). The race is forced, not hoped for: both sides load the instance and wait for each other before saving.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from engine.errors import TaskAlreadyCompleted
from engine.runtime.services import Services
from engine.runtime.workflow_engine import WorkflowEngine
from engine.store.models import AuditEvent, HumanTask, ProcessInstance
from tests.conftest import World
from tests.engine.test_runtime import deploy_demo, open_task


@pytest.fixture(params=["sqlite", "postgres"])
def db_services(request: pytest.FixtureRequest, services: Services) -> Services:
    if request.param == "sqlite":
        return services
    return request.getfixturevalue("pg_services")


def _forced_overlap(monkeypatch: pytest.MonkeyPatch, engine: WorkflowEngine, parties: int) -> None:
    """Makes every command wait, after loading its instance, until `parties` commands have loaded it."""
    barrier = threading.Barrier(parties, timeout=10)
    real_load = engine.load_workflow

    def load_then_wait(instance):
        wf = real_load(instance)
        try:
            barrier.wait()
        except threading.BrokenBarrierError:
            pass
        return wf

    monkeypatch.setattr(engine, "load_workflow", load_then_wait)


def test_two_people_complete_the_same_task_at_once(db_services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    world = World(db_services)
    engine = db_services.engine
    deploy_demo(engine)
    iid = engine.start(world.case_id, "runtime_demo", {"explode": False})
    task_id = open_task(db_services, "UT_register").id
    _forced_overlap(monkeypatch, engine, 2)
    outcomes: dict[str, object] = {}

    def complete(who: str) -> None:
        try:
            engine.complete_task(task_id, {"concern": f"by {who}"}, world.users[who])
            outcomes[who] = "ok"
        except TaskAlreadyCompleted as exc:
            outcomes[who] = exc
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            outcomes[who] = repr(exc)

    threads = [threading.Thread(target=complete, args=(who,)) for who in ("caseworker", "manager")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    winners = [who for who, outcome in outcomes.items() if outcome == "ok"]
    losers = [outcome for outcome in outcomes.values() if isinstance(outcome, TaskAlreadyCompleted)]
    assert len(winners) == 1, outcomes
    assert len(losers) == 1, outcomes
    assert "already completed" in str(losers[0])
    with db_services.session_factory() as s:
        task = s.get(HumanTask, task_id)
        assert task.submitted_data == {"concern": f"by {winners[0]}"}
        # exactly one next task: the loser's run left nothing behind
        assert s.scalar(select(func.count()).select_from(HumanTask).where(HumanTask.bpmn_id == "UT_decide")) == 1
        assert s.get(ProcessInstance, iid).status == "waiting_person"


def test_two_workers_race_for_the_same_due_timers(db_services: Services) -> None:
    world = World(db_services)
    engine = db_services.engine
    deploy_demo(engine)
    instance_ids = []
    for _ in range(8):
        iid = engine.start(world.case_id, "runtime_demo", {"explode": False})
        instance_ids.append(iid)
        with db_services.session_factory() as s:
            task_id = s.scalars(select(HumanTask.id).where(HumanTask.instance_id == iid,
                                                           HumanTask.bpmn_id == "UT_register")).one()
        engine.complete_task(task_id, {"concern": "x"})
    engine.clock.set(datetime(2026, 5, 1, tzinfo=UTC))
    # Two workers, each with its own engine (as on two hosts), sharing the database and the clock.
    workers = [engine, WorkflowEngine(db_services.session_factory, engine.clock)]
    counts: list[int] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def run(worker: WorkflowEngine) -> None:
        try:
            start.wait()
            counts.append(worker.fire_due_timers(limit=20))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors
    assert sum(counts) == 8
    with db_services.session_factory() as s:
        fired = s.execute(select(AuditEvent.instance_id, func.count()).where(AuditEvent.action == "timer_fired")
                          .group_by(AuditEvent.instance_id)).all()
        assert sorted(fired) == sorted((iid, 1) for iid in instance_ids)
        assert s.scalar(select(func.count()).select_from(HumanTask)
                        .where(HumanTask.bpmn_id == "UT_escalation")) == 8
    assert engine.fire_due_timers() == 0
