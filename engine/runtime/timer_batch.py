"""The timer worker's batches: several due instances fired in one transaction.

Firing one instance per transaction paid, for every firing, a connection check-out, BEGIN, the claim, COMMIT and the
wait for the commit to reach the disk; on PostgreSQL those round trips were as long as the firing itself. A batch
claims its instances with one statement, writes their audit rows with one more (engine/runtime/audit_batch.py)
and commits them together.

A batch is all or nothing. When anything in it fails (a route's script, a lost race for a row, a revision another
process moved on), nothing of it is kept and each of its instances is fired again on its own, by the one-at-a-time
command that records incidents and conflicts (``WorkflowEngine._fire_one``). A failing route therefore ends exactly as
it did before batches: failed, with its incident, while the others in its batch fire. Nothing leaves the database
inside a firing (emails go through the outbox), so a batch undone leaves nothing behind.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session, sessionmaker

from engine.runtime import audit_batch
from engine.runtime.command_reads import CaseAuthority, due_instances
from engine.statutory.clock import Clock, active_clock
from engine.store.db import is_postgres
from engine.store.models import ACTIVE_STATUSES, ProcessInstance

log = logging.getLogger(__name__)

#: Instances fired per transaction: enough that the round trips of the claim and the commit no longer count, few
#: enough that a fall-back to one at a time (after a failure) costs little and a commit is not held for long.
BATCH_SIZE = 20

_CLAIM = {lock: due_instances(ACTIVE_STATUSES, lock) for lock in (False, True)}


def claim_of(session: Session) -> Any:
    """The claim for the session's database: with a row lock on PostgreSQL."""
    return _CLAIM[session.bind is not None and is_postgres(session.bind)]


class FiresTimers(Protocol):
    """What a batch needs of the engine (engine/runtime/workflow_engine.py)."""

    session_factory: sessionmaker[Session]
    clock: Clock

    def apply_step(self, session: Session, instance: ProcessInstance, step: Callable[..., None], actor: Any,
                   action: str, summary: str, detail: dict[str, Any] | None,
                   completed_user_task: Any = None, case: Any = None) -> None: ...


def fire_batch(engine: FiresTimers, ids: list[int], now: datetime, step: Callable[..., None],
               summary: str) -> list[int] | None:
    """Claims those of ``ids`` still due and not held by another worker, fires their timers with ``step`` and commits
    them together; returns the ids fired. ``None`` when anything failed: nothing was kept, and the caller fires each
    one on its own."""
    with engine.session_factory() as session, active_clock(engine.clock):
        audit_batch.start(session)  # the firings' audit rows are written together, before the commit
        try:
            claimed = session.execute(claim_of(session), {"ids": ids, "now": now}).all()
            instances = [instance for instance, _, _ in claimed]
            for instance, case_id, la_id in claimed:
                engine.apply_step(session, instance, step, None, "fire_timers", summary, None,
                                  case=CaseAuthority(case_id, la_id))
            audit_batch.write(session)
            session.commit()
        except Exception as exc:  # noqa: BLE001 - any failure: the batch is undone and fired one at a time
            session.rollback()
            log.info("a batch of %s timer firings was undone (%s); firing them one at a time", len(ids), exc)
            return None
        finally:
            audit_batch.stop(session)
        return [instance.id for instance in instances]


__all__ = ["BATCH_SIZE", "FiresTimers", "claim_of", "fire_batch"]
