"""The timer worker fires due instances in batches, one transaction each (engine/runtime/timer_batch.py): the rows a
batch leaves are those one firing at a time leaves, a failing route fails alone, and on PostgreSQL an instance another
worker holds is passed over, not waited for."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import event, select, text

from engine.runtime import audit_batch
from engine.runtime import workflow_engine as workflow_engine_module
from engine.runtime.services import Services
from engine.store.models import AuditEvent, Deadline, HumanTask, Incident, ProcessInstance, Timer
from tests.conftest import World
from tests.engine.test_runtime import deploy_demo

DUE = datetime(2026, 4, 21, 9, 0, tzinfo=UTC)  # a week after the routes' decision timers fell due


@pytest.fixture(params=["sqlite", "postgres"])
def db_services(request: pytest.FixtureRequest, services: Services) -> Services:
    return services if request.param == "sqlite" else request.getfixturevalue("pg_services")


def _new_case(services: Services, la_id: int, first_name: str) -> int:
    with services.session_factory() as s:
        case = services.engine.open_case(s, la_id, first_name, "Taylor", "2015-05-14")
        s.commit()
        return case.id


def _routes_at_decide(services: Services, case_id: int, count: int) -> list[int]:
    """``count`` runtime_demo routes on one case, each waiting at "Decide" on its 6-week timer (one case: each
    firing takes over the case's "decide" deadline from the last, so the firings of a batch meet in its rows)."""
    engine = services.engine
    ids = []
    for _ in range(count):
        iid = engine.start(case_id, "runtime_demo", {"explode": False})
        with services.session_factory() as s:
            task_id = s.scalars(select(HumanTask.id).where(HumanTask.instance_id == iid)).one()
        engine.complete_task(task_id, {"concern": "x"})
        ids.append(iid)
    return ids


def _rows(services: Services, case_id: int, ids: list[int]) -> dict[str, Any]:
    """What the firings left on a case, with ids replaced by each instance's place in ``ids``."""
    place = {iid: n for n, iid in enumerate(ids)}
    with services.session_factory() as s:
        return {
            "deadlines": sorted((d.key, d.name, d.status, d.missed, d.due_date, d.met_at, d.missed_at, d.started_on,
                                 place.get(d.instance_id)) for d in s.scalars(
                select(Deadline).where(Deadline.case_id == case_id))),
            "timers": sorted((place[t.instance_id], t.bpmn_id, t.status, t.due_at, t.fired_at) for t in s.scalars(
                select(Timer).where(Timer.case_id == case_id))),
            "tasks": sorted((place[t.instance_id], t.bpmn_id, t.status, t.role, t.organisation_id, t.due_date)
                            for t in s.scalars(select(HumanTask).where(HumanTask.case_id == case_id))),
            "audit": [(place.get(a.instance_id), a.action, a.summary) for a in s.scalars(
                select(AuditEvent).where(AuditEvent.case_id == case_id, AuditEvent.action != "case_opened")
                .order_by(AuditEvent.id))],
            "instances": [(i.status, i.next_timer_due, i.revision) for i in s.scalars(
                select(ProcessInstance).where(ProcessInstance.id.in_(ids)).order_by(ProcessInstance.id))],
        }


def _commits_while(services: Services, action: Any) -> tuple[Any, int]:
    commits: list[int] = []

    def count(_conn: Any) -> None:
        commits.append(1)

    event.listen(services.db, "commit", count)
    try:
        return action(), len(commits)
    finally:
        event.remove(services.db, "commit", count)


def test_a_batch_leaves_the_rows_that_one_firing_at_a_time_leaves(db_services: Services,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    services, engine = db_services, db_services.engine
    world = World(services)
    deploy_demo(engine)
    began = engine.clock.now()
    one_case, batch_case = _new_case(services, world.la.id, "One"), _new_case(services, world.la.id, "Batch")

    one_ids = _routes_at_decide(services, one_case, 6)
    engine.clock.set(DUE)
    monkeypatch.setattr(workflow_engine_module, "BATCH_SIZE", 1)
    alone, alone_commits = _commits_while(services, lambda: engine.fire_due(limit=50))
    engine.clock.set(began)
    batch_ids = _routes_at_decide(services, batch_case, 6)
    engine.clock.set(DUE)
    monkeypatch.setattr(workflow_engine_module, "BATCH_SIZE", 20)
    batched, batch_commits = _commits_while(services, lambda: engine.fire_due(limit=50))

    assert sorted(alone.fired) == one_ids and sorted(batched.fired) == batch_ids
    assert (alone_commits, batch_commits) == (6, 1)  # one transaction for the batch of six
    one_rows, batch_rows = _rows(services, one_case, one_ids), _rows(services, batch_case, batch_ids)
    assert [action for _, action, _ in batch_rows["audit"]].count("timer_fired") == 6
    assert {status for status, _, _ in batch_rows["instances"]} == {"waiting_person"}
    assert batch_rows == one_rows


def test_a_failing_route_in_a_batch_fails_alone(db_services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    """The batch it was in is undone and its routes are fired one at a time: the others fire once each, the broken
    one is failed with one incident, and nothing of the undone batch is left."""
    services, engine = db_services, db_services.engine
    world = World(services)
    deploy_demo(engine)
    ids = _routes_at_decide(services, world.case_id, 5)
    broken = ids[2]
    real_step = engine._fire_timers_step

    def step(session, instance, wf, projector):  # noqa: ANN001, ANN202 - same signature as the real step
        if instance.id == broken:
            raise RuntimeError("the timer's route broke")
        real_step(session, instance, wf, projector)

    monkeypatch.setattr(engine, "_fire_timers_step", step)
    engine.clock.set(DUE)
    result = engine.fire_due(limit=50)
    assert sorted(result.fired) == [iid for iid in ids if iid != broken]
    assert result.failed == [broken] and result.conflicts == []
    with services.session_factory() as s:
        fired = list(s.scalars(select(AuditEvent.instance_id).where(AuditEvent.action == "timer_fired")))
        assert sorted(fired) == sorted(result.fired)
        assert s.get(ProcessInstance, broken).status == "failed"
        assert list(s.scalars(select(Incident.instance_id))) == [broken]
        assert s.scalar(select(Timer.status).where(Timer.instance_id == broken)) == "waiting"
    assert engine.fire_due(limit=50).examined == 0


def test_a_batch_passes_over_an_instance_another_worker_holds(pg_services: Services) -> None:
    services, engine = pg_services, pg_services.engine
    world = World(services)
    deploy_demo(engine)
    ids = _routes_at_decide(services, world.case_id, 4)
    held = ids[1]
    engine.clock.set(DUE)
    with services.db.connect() as other_worker:
        other_worker.execute(text("SELECT id FROM process_instance WHERE id = :id FOR UPDATE"), {"id": held})
        result = engine.fire_due(limit=50)  # does not wait for the lock: SKIP LOCKED
        assert sorted(result.fired) == [iid for iid in ids if iid != held]
        other_worker.rollback()
    assert engine.fire_due(limit=50).fired == [held]


def _audit(action: str) -> dict[str, Any]:
    return {"at": DUE, "case_id": None, "instance_id": None, "actor_id": None, "action": action, "summary": action,
            "detail": None}


def test_a_batch_holds_its_audit_rows_until_written_but_not_inside_a_savepoint(services: Services) -> None:
    def actions(s: Any) -> list[str]:
        return list(s.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))

    with services.session_factory() as s:
        audit_batch.record(s, [_audit("alone")])  # no batch: written at once
        audit_batch.start(s)
        audit_batch.record(s, [_audit("first"), _audit("second")])
        assert actions(s) == ["alone"]  # held
        audit_batch.write(s)  # as the projection does before a completion hook, which may open a savepoint
        audit_batch.record(s, [_audit("third")])
        savepoint = s.begin_nested()
        audit_batch.record(s, [_audit("in a savepoint")])  # written at once, and gone when the savepoint is undone
        assert actions(s) == ["alone", "first", "second", "in a savepoint"]
        savepoint.rollback()
        assert actions(s) == ["alone", "first", "second"]  # "third" is still held, outside the savepoint
        audit_batch.write(s)
        audit_batch.stop(s)
        s.commit()
    with services.session_factory() as s:
        assert actions(s) == ["alone", "first", "second", "third"]
