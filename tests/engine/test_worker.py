"""The timer worker: sleeps until the earliest due timer, catches up after downtime, fires each timer once."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select

from engine.models import AuditEvent, HumanTask
from engine.services import Services
from engine.worker import Worker, earliest_due, run_once
from tests.conftest import World
from tests.engine.test_runtime import deploy_demo, open_task


def test_sleeps_until_the_earliest_due_timer_but_rechecks(services: Services, world: World) -> None:
    engine = services.engine
    worker = Worker(engine, recheck_seconds=30)
    assert earliest_due(engine) is None
    assert worker.seconds_until_next() == 30  # nothing due: just re-check later
    deploy_demo(engine)
    engine.start(world.case_id, "runtime_demo", {"explode": False})
    engine.complete_task(open_task(services, "UT_register").id, {"concern": "x"})
    # Deadline 13 April 2026 is over at 23:00 UTC.
    assert earliest_due(engine) == datetime(2026, 4, 13, 23, 0, tzinfo=UTC)
    engine.clock.set(datetime(2026, 4, 13, 22, 59, 50, tzinfo=UTC))
    assert worker.seconds_until_next() == 10
    engine.clock.set(datetime(2026, 4, 14, 9, 0, tzinfo=UTC))
    assert worker.seconds_until_next() == 0


def test_catches_up_after_downtime_firing_each_timer_once(services: Services, world: World) -> None:
    engine = services.engine
    deploy_demo(engine)
    for _ in range(45):  # more than two batches
        iid = engine.start(world.case_id, "runtime_demo", {"explode": False})
        with services.session_factory() as s:
            task_id = s.scalars(select(HumanTask.id).where(HumanTask.instance_id == iid)).one()
        engine.complete_task(task_id, {"concern": "x"})
    engine.clock.set(datetime(2026, 9, 1, tzinfo=UTC))  # the worker was down for months
    assert run_once(engine, batch_size=20) == 45
    assert run_once(engine, batch_size=20) == 0
    with services.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "timer_fired")) == 45


def test_run_forever_stops_when_told(services: Services) -> None:
    worker = Worker(services.engine, recheck_seconds=0.01)
    passes = []

    def after_pass() -> None:
        passes.append(1)
        if len(passes) == 3:
            worker.stop()

    worker.run_forever(after_pass=after_pass, install_signals=False)
    assert len(passes) == 3
