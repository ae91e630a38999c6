"""The timer worker: sleeps until the earliest due timer, catches up after downtime, fires each timer once."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from engine.errors import ConcurrentUpdate
from engine.runtime import worker as worker_module
from engine.runtime.services import Services
from engine.runtime.timer_pass import TimerPass
from engine.runtime.worker import Worker, claim_day, earliest_due, run_daily_jobs, run_once, run_pass
from engine.runtime.workflow_engine import WorkflowEngine
from engine.store.jobs import DailyJobRun
from engine.store.models import AuditEvent, HumanTask, Incident, ProcessInstance
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


# ---- the once-a-day jobs ------------------------------------------------------------------------------------------

RUNS: list[tuple[str, date]] = []


def record_job(engine: WorkflowEngine, today: date) -> list[int]:
    RUNS.append(("record", today))
    return []


def failing_job(engine: WorkflowEngine, today: date) -> list[int]:
    RUNS.append(("failing", today))
    raise RuntimeError("the job broke")


RECORD = (("record", "tests.engine.test_worker:record_job"),)


@pytest.fixture(autouse=True)
def _forget_runs() -> None:
    RUNS.clear()


def test_a_daily_job_runs_once_a_day_and_once_after_downtime(services: Services) -> None:
    engine = services.engine
    engine.clock.set(datetime(2026, 3, 2, 6, 0, tzinfo=UTC))
    assert run_daily_jobs(engine, jobs=RECORD) == {"record": True}
    engine.clock.set(datetime(2026, 3, 2, 23, 30, tzinfo=UTC))  # 23:30 GMT: still Monday 2 March in England
    assert run_daily_jobs(engine, jobs=RECORD) == {}
    engine.clock.set(datetime(2026, 3, 3, 0, 5, tzinfo=UTC))
    assert run_daily_jobs(engine, jobs=RECORD) == {"record": True}
    engine.clock.set(datetime(2026, 3, 20, 9, 0, tzinfo=UTC))  # down for 17 days: one run, for today
    assert run_daily_jobs(engine, jobs=RECORD) == {"record": True}
    assert run_daily_jobs(engine, jobs=RECORD) == {}
    assert RUNS == [("record", date(2026, 3, 2)), ("record", date(2026, 3, 3)), ("record", date(2026, 3, 20))]
    with services.session_factory() as s:
        row = s.get(DailyJobRun, "record")
        assert row is not None and row.last_run_on == date(2026, 3, 20) and row.finished_at is not None


def test_a_failed_daily_job_gives_its_day_back(services: Services) -> None:
    engine = services.engine
    jobs = (("failing", "tests.engine.test_worker:failing_job"), *RECORD)
    assert run_daily_jobs(engine, jobs=jobs) == {"failing": False, "record": True}  # the other job still ran
    assert run_daily_jobs(engine, jobs=jobs) == {"failing": False}  # tried again; the other is done for today
    with services.session_factory() as s:
        row = s.get(DailyJobRun, "failing")
        assert row is not None and row.last_run_on is None
    assert [name for name, _ in RUNS] == ["failing", "record", "failing"]


def test_of_several_workers_only_one_claims_the_day(services: Services) -> None:
    """Eight workers try to claim the same day at the same moment: exactly one gets it."""
    engine = services.engine
    today = date(2026, 3, 2)
    barrier = threading.Barrier(8)
    results: list[bool] = []
    errors: list[BaseException] = []

    def claim() -> None:
        try:
            barrier.wait()
            results.append(claim_day(engine, "contested", today)[0])
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(results) == [False] * 7 + [True]
    assert claim_day(engine, "contested", date(2026, 3, 3))[0] is True


def test_of_several_workers_only_one_claims_the_day_on_postgresql(pg_services: Services) -> None:
    engine = pg_services.engine
    barrier = threading.Barrier(6)
    results: list[bool] = []

    def claim() -> None:
        barrier.wait()
        results.append(claim_day(engine, "contested", date(2026, 3, 2))[0])

    threads = [threading.Thread(target=claim) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 5 + [True]


def test_the_worker_runs_the_daily_jobs_on_its_first_pass_of_each_day(services: Services,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(worker_module, "DAILY_JOBS", RECORD)
    engine = services.engine
    worker = Worker(engine, recheck_seconds=0.01)
    passes = []

    def after_pass() -> None:
        passes.append(1)
        if len(passes) == 3:
            engine.clock.set(datetime(2026, 3, 3, 8, 0, tzinfo=UTC))  # the next day
        if len(passes) == 5:
            worker.stop()

    worker.run_forever(after_pass=after_pass, install_signals=False)
    assert RUNS == [("record", date(2026, 3, 2)), ("record", date(2026, 3, 3))]


def test_run_once_for_cron_runs_the_daily_jobs_too(services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(worker_module, "DAILY_JOBS", RECORD)
    assert run_once(services.engine) == 0
    assert run_once(services.engine) == 0
    assert RUNS == [("record", date(2026, 3, 2))]


# ---- a pass goes on until nothing due is left ----------------------------------------------------------------------

@pytest.fixture(params=["sqlite", "postgres"])
def db_services(request: pytest.FixtureRequest, services: Services) -> Services:
    if request.param == "sqlite":
        return services
    return request.getfixturevalue("pg_services")


def _waiting_decisions(services: Services, world: World, count: int) -> list[int]:
    """``count`` routes at "Decide", each with its 6-week decision timer (due 13 April 2026, 23:00 UTC)."""
    engine = services.engine
    deploy_demo(engine)
    ids = []
    for _ in range(count):
        iid = engine.start(world.case_id, "runtime_demo", {"explode": False})
        with services.session_factory() as s:
            task_id = s.scalars(select(HumanTask.id).where(HumanTask.instance_id == iid)).one()
        engine.complete_task(task_id, {"concern": "x"})
        ids.append(iid)
    return ids


def test_a_conflict_does_not_end_the_pass(services: Services, world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first instance picked is changed by "another worker" at its first two firings (in its batch of 20, which
    is undone, then on its own): the pass still fires all 35 (before, a batch with a conflict fired fewer than its
    size and the pass stopped: 19 of 35)."""
    engine = services.engine
    ids = _waiting_decisions(services, world, 35)
    engine.clock.set(datetime(2026, 4, 21, 9, 0, tzinfo=UTC))  # a week after the timers fell due
    real_apply = engine.apply_step
    conflicted: list[int] = []

    def apply(session, instance, *args, **kwargs):  # noqa: ANN001, ANN202 - same signature as apply_step
        if len(conflicted) < 2 and instance.id == ids[0]:
            conflicted.append(instance.id)
            raise ConcurrentUpdate("changed by another worker")
        return real_apply(session, instance, *args, **kwargs)

    monkeypatch.setattr(engine, "apply_step", apply)
    done = run_pass(engine, batch_size=20)
    assert conflicted == [ids[0], ids[0]]
    assert done.conflicts == [ids[0]]
    assert sorted(done.fired) == ids and done.failed == []
    assert run_pass(engine, batch_size=20).examined == 0


def test_after_a_week_down_two_workers_fire_every_due_timer_once_past_a_failing_instance(
        db_services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    """A week of downtime, then two workers at once (each its own engine, as two processes would be), small
    batches: every due timer fires exactly once, the one instance whose timer fails is left failed with its
    incident and reported, and nothing due is left waiting."""
    world = World(db_services)
    ids = _waiting_decisions(db_services, world, 35)
    broken = ids[7]
    clock = db_services.engine.clock
    clock.set(datetime(2026, 4, 21, 9, 0, tzinfo=UTC))
    engines = [WorkflowEngine(db_services.session_factory, clock) for _ in range(2)]
    for engine in engines:
        real_step = engine._fire_timers_step

        def step(session, instance, wf, projector, real_step=real_step):  # noqa: ANN001, ANN202
            if instance.id == broken:
                raise RuntimeError("the timer's route broke")
            real_step(session, instance, wf, projector)

        monkeypatch.setattr(engine, "_fire_timers_step", step)
    barrier = threading.Barrier(2)
    passes: list[TimerPass] = []
    errors: list[BaseException] = []

    def work(engine: WorkflowEngine) -> None:
        try:
            barrier.wait()
            passes.append(run_pass(engine, batch_size=3))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(engine,)) for engine in engines]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert errors == []
    fired = [iid for p in passes for iid in p.fired]
    assert sorted(fired) == sorted(set(ids) - {broken})
    assert [iid for p in passes for iid in p.failed] == [broken]
    with db_services.session_factory() as s:
        events = list(s.scalars(select(AuditEvent.instance_id).where(AuditEvent.action == "timer_fired")))
        assert sorted(events) == sorted(fired)
        escalated = list(s.scalars(select(HumanTask.instance_id).where(HumanTask.bpmn_id == "UT_escalation")))
        assert sorted(escalated) == sorted(fired)
        assert s.get(ProcessInstance, broken).status == "failed"
        assert s.scalars(select(Incident).where(Incident.instance_id == broken)).one().command == "fire_timers"
    assert earliest_due(db_services.engine) is None
