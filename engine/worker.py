"""The timer worker: sleeps until the earliest due timer, then fires due instances in small batches.

It only reads the indexed ``next_timer_due`` column, never the workflow state, to decide when to wake. New work that
arrives while it sleeps (a timer set by a task just completed) is picked up at the next re-check, at most
``recheck_seconds`` later. Several workers on several hosts are safe: see WorkflowEngine.fire_due_timers.
"""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import func, select

from engine.models import ProcessInstance
from engine.runtime import ACTIVE_STATUSES, WorkflowEngine

log = logging.getLogger(__name__)


def earliest_due(engine: WorkflowEngine) -> datetime | None:
    with engine.session_factory() as session:
        return session.scalar(
            select(func.min(ProcessInstance.next_timer_due)).where(ProcessInstance.status.in_(ACTIVE_STATUSES))
        )


def run_once(engine: WorkflowEngine, batch_size: int = 20) -> int:
    """Fires everything that is due now (batch after batch); returns the number of instances advanced."""
    total = 0
    while True:
        fired = engine.fire_due_timers(limit=batch_size)
        total += fired
        if fired < batch_size:
            return total


class Worker:
    def __init__(self, engine: WorkflowEngine, batch_size: int = 20, recheck_seconds: float = 5.0,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.engine = engine
        self.batch_size = batch_size
        self.recheck_seconds = recheck_seconds
        self.sleep = sleep
        self.stopping = False

    def stop(self, *_: object) -> None:
        self.stopping = True

    def seconds_until_next(self) -> float:
        due = earliest_due(self.engine)
        if due is None:
            return self.recheck_seconds
        wait = (due - self.engine.clock.now()).total_seconds()
        return max(0.0, min(wait, self.recheck_seconds))

    def run_forever(self, after_pass: Callable[[], None] | None = None, install_signals: bool = True) -> None:
        if install_signals:  # only possible in the main thread; `ehcflow run` runs the worker in a thread
            signal.signal(signal.SIGTERM, self.stop)
            signal.signal(signal.SIGINT, self.stop)
        log.info("timer worker started")
        while not self.stopping:
            fired = run_once(self.engine, self.batch_size)
            if fired:
                log.info("fired timers on %d instance(s)", fired)
            if after_pass is not None:
                after_pass()
            wait = self.seconds_until_next()
            if wait > 0:
                self.sleep(wait)
        log.info("timer worker stopped")
