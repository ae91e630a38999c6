"""The timer worker: sleeps until the earliest due timer, then fires due instances in small batches.

It only reads the indexed ``next_timer_due`` column, never the workflow state, to decide when to wake. New work that
arrives while it sleeps (a timer set by a task just completed) is picked up at the next re-check, at most
``recheck_seconds`` later. Several workers on several hosts are safe: see WorkflowEngine.fire_due_timers.

Once a day (the first pass on each London day) it also runs the ``DAILY_JOBS``: starting the reviews that have
fallen due and sending the termly lists of reviews (engine/casework/review_scheduler.py, termly_review_lists.py). Each
job claims the day in ``daily_job_run`` first, so of several workers only one runs it; after downtime the first pass
simply runs it for today, and the jobs themselves catch up on what they missed (a review whose start day passed is
started; a list not yet sent goes). It also refreshes SQLite's planner statistics for the task lists
(engine/store/planner_statistics.py).
"""

from __future__ import annotations

import importlib
import logging
import signal
import time
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError

from engine.runtime.timer_pass import TimerPass
from engine.runtime.workflow_engine import ACTIVE_STATUSES, WorkflowEngine
from engine.store.jobs import DailyJobRun
from engine.store.models import ProcessInstance

log = logging.getLogger(__name__)

#: The once-a-day jobs: (name, "module:function"); each function is called as function(engine, today).
DAILY_JOBS: tuple[tuple[str, str], ...] = (
    ("start_due_reviews", "engine.casework.review_scheduler:start_due_reviews"),
    ("termly_review_lists", "engine.casework.termly_review_lists:send_termly_review_lists"),
    ("planner_statistics", "engine.store.planner_statistics:daily_job"),
)

#: A pass of a long-running worker gives way after this long (the next starts at once), so that the outbox and the
#: daily jobs are not held up by a long catch-up.
PASS_BUDGET_SECONDS = 60.0
#: How many times one pass tries an instance that another worker keeps changing first, and fires one instance.
MAX_CONFLICTS = 3
MAX_FIRINGS = 50

#: How long a worker waits before trying a failed daily job again.
DAILY_RETRY_SECONDS = 15 * 60


def claim_day(engine: WorkflowEngine, job: str, today: date) -> tuple[bool, date | None]:
    """Claims today's run of a daily job: (claimed, the day it last ran before). The conditional UPDATE is atomic on
    SQLite and PostgreSQL, so when several workers try at once exactly one gets it."""
    with engine.session_factory() as session:
        row = session.get(DailyJobRun, job)
        if row is None:
            try:
                with session.begin_nested():  # another worker may create it at the same moment
                    session.add(DailyJobRun(job=job))
            except IntegrityError:
                pass
            previous = None
        else:
            previous = row.last_run_on
        claimed = session.execute(
            update(DailyJobRun)
            .where(DailyJobRun.job == job, or_(DailyJobRun.last_run_on.is_(None), DailyJobRun.last_run_on < today))
            .values(last_run_on=today, started_at=engine.clock.now(), finished_at=None)
            .execution_options(synchronize_session=False)
        ).rowcount == 1
        session.commit()
        return claimed, previous


def _finish_day(engine: WorkflowEngine, job: str, today: date, succeeded: bool, previous: date | None) -> None:
    with engine.session_factory() as session:
        values = {"finished_at": engine.clock.now()} if succeeded else {"last_run_on": previous, "started_at": None}
        session.execute(update(DailyJobRun).where(DailyJobRun.job == job, DailyJobRun.last_run_on == today)
                        .values(**values).execution_options(synchronize_session=False))
        session.commit()


def run_daily_jobs(engine: WorkflowEngine, today: date | None = None,
                   jobs: Sequence[tuple[str, str]] | None = None) -> dict[str, bool]:
    """Runs each daily job not yet run today (by any worker); returns {job: succeeded} for those this call ran.

    A job that fails gives its day back, so the next pass tries again; it never stops the worker.
    """
    today = today or engine.clock.today()
    ran: dict[str, bool] = {}
    for job, target in DAILY_JOBS if jobs is None else jobs:
        claimed, previous = claim_day(engine, job, today)
        if not claimed:
            continue
        module_name, _, function = target.partition(":")
        try:
            result = getattr(importlib.import_module(module_name), function)(engine, today)
        except Exception:  # noqa: BLE001 - logged; the day is given back and the worker carries on
            log.exception("daily job %s failed; it will be tried again on the next pass", job)
            _finish_day(engine, job, today, False, previous)
            ran[job] = False
            continue
        _finish_day(engine, job, today, True, previous)
        ran[job] = True
        if result:
            log.info("daily job %s: %d", job, len(result) if hasattr(result, "__len__") else result)
    return ran


def earliest_due(engine: WorkflowEngine) -> datetime | None:
    with engine.session_factory() as session:
        return session.scalar(
            select(func.min(ProcessInstance.next_timer_due)).where(ProcessInstance.status.in_(ACTIVE_STATUSES))
        )


def run_pass(engine: WorkflowEngine, batch_size: int = 20, budget_seconds: float | None = None,
             clock: Callable[[], float] = time.monotonic) -> TimerPass:
    """Fires every timer that is due now, batch after batch, until none is left (or ``budget_seconds`` of real
    time are spent: then the next pass goes on).

    A conflict (another worker fired that instance first) or a failing instance never ends the pass early: the
    failing one is recorded as an incident and left out, and an instance that keeps conflicting is left for the
    next pass after ``MAX_CONFLICTS`` tries, so that two workers sharing the work cannot hold each other up.
    """
    started = clock()
    done = TimerPass()
    conflicts: Counter[int] = Counter()
    firings: Counter[int] = Counter()
    left_out: set[int] = set()
    while budget_seconds is None or clock() - started < budget_seconds:
        batch = engine.fire_due(limit=batch_size, skip=left_out)
        done.add(batch)
        left_out.update(batch.failed)
        conflicts.update(batch.conflicts)
        firings.update(batch.fired)
        left_out.update(iid for iid, count in conflicts.items() if count >= MAX_CONFLICTS)
        # A route whose timers fall due again as soon as they fire would hold the pass for ever.
        left_out.update(iid for iid, count in firings.items() if count >= MAX_FIRINGS)
        if batch.examined == 0:
            break
    if done.failed:
        log.warning("timers failed on %d instance(s): %s (each has an incident)", len(done.failed), done.failed)
    return done


def run_once(engine: WorkflowEngine, batch_size: int = 20, daily: bool = True) -> int:
    """Runs the daily jobs not yet run today (unless ``daily`` is False), then fires everything that is due now;
    returns the number of instances advanced."""
    if daily:
        run_daily_jobs(engine)
    return len(run_pass(engine, batch_size).fired)


class Worker:
    def __init__(self, engine: WorkflowEngine, batch_size: int = 20, recheck_seconds: float = 5.0,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.engine = engine
        self.batch_size = batch_size
        self.recheck_seconds = recheck_seconds
        self.sleep = sleep
        self.stopping = False
        self.daily_done_on: date | None = None  # saves a database round trip on every pass of the day
        self.daily_retry_at: datetime | None = None  # after a failed daily job, not on every pass

    def stop(self, *_: object) -> None:
        self.stopping = True

    def seconds_until_next(self) -> float:
        due = earliest_due(self.engine)
        if due is None:
            return self.recheck_seconds
        wait = (due - self.engine.clock.now()).total_seconds()
        return max(0.0, min(wait, self.recheck_seconds))

    def run_daily_jobs(self) -> None:
        now, today = self.engine.clock.now(), self.engine.clock.today()
        if self.daily_done_on == today or (self.daily_retry_at is not None and now < self.daily_retry_at):
            return
        if all(run_daily_jobs(self.engine, today).values()):
            self.daily_done_on, self.daily_retry_at = today, None
        else:
            self.daily_retry_at = now + timedelta(seconds=DAILY_RETRY_SECONDS)

    def run_forever(self, after_pass: Callable[[], None] | None = None, install_signals: bool = True) -> None:
        if install_signals:  # only possible in the main thread; `ehcflow run` runs the worker in a thread
            signal.signal(signal.SIGTERM, self.stop)
            signal.signal(signal.SIGINT, self.stop)
        log.info("timer worker started")
        while not self.stopping:
            self.run_daily_jobs()
            fired = run_pass(self.engine, self.batch_size, PASS_BUDGET_SECONDS).fired
            if fired:
                log.info("fired timers on %d instance(s)", len(fired))
            if after_pass is not None:
                after_pass()
            wait = self.seconds_until_next()
            if wait > 0:
                self.sleep(wait)
        log.info("timer worker stopped")
