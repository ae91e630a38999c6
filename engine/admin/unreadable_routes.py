"""Routes whose saved state cannot be restored: found where they are met (a case page), flagged for an administrator.

A damaged state is rare (a bad manual edit of the database, a restore from a broken backup, a serializer change that
missed a migration), so nothing scans for it: the case page restores each unfinished route it shows anyway (to offer
the messages a route waits for), and one that fails is flagged there, once. The flag is an open incident (command
``read_state``) and, for a route that was running, the status ``failed``: the admin overview counts it
(``engine.admin.instance_admin.admin_counts``), the timer worker and the message lists leave it alone, and retrying
it after the state is repaired runs its timers and clears the incident (``engine.runtime.admin_commands``).

The check costs one restore per unfinished route of the case: measured at about 2.5 ms a route (the web tests'
route, three on the case), under a tenth of the case page's own 100 ms on this two-core machine.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from engine.statutory.clock import active_clock
from engine.store.models import ACTIVE_STATUSES, AuditEvent, Incident, ProcessInstance

log = logging.getLogger(__name__)

READ_STATE = "read_state"
LIVE = (*ACTIVE_STATUSES, "suspended", "failed")
MESSAGE = "The saved state of this route cannot be read ({error}): repair it, then retry the route"


def unreadable_routes(engine: Any, session: Session, case_id: int) -> set[int]:
    """The ids of the case's unfinished routes whose state cannot be restored, each flagged (and committed) the first
    time it is found. ``engine`` is the WorkflowEngine (its ``load_workflow`` and ``clock``)."""
    found: dict[int, str] = {}
    instances = list(session.scalars(select(ProcessInstance).where(ProcessInstance.case_id == case_id,
                                                                   ProcessInstance.status.in_(LIVE))))
    with active_clock(engine.clock):
        for instance in instances:
            try:
                engine.load_workflow(instance)
            except Exception as exc:  # noqa: BLE001 - whatever a damaged state raises, the page must go on
                log.warning("instance %s: its state cannot be restored: %r", instance.id, exc)
                found[instance.id] = f"{type(exc).__name__}: {exc}"[:300]
    for instance in instances:
        if instance.id in found:
            _flag(session, engine.clock.now(), instance, found[instance.id])
    return set(found)


def _flag(session: Session, now: Any, instance: ProcessInstance, error: str) -> None:
    already = session.scalar(select(Incident.id).where(Incident.instance_id == instance.id,
                                                       Incident.command == READ_STATE,
                                                       Incident.resolved_at.is_(None)).limit(1))
    if already is not None:
        return
    message = MESSAGE.format(error=error)
    session.add(Incident(instance_id=instance.id, at=now, command=READ_STATE, command_args={}, message=message))
    if instance.status in ACTIVE_STATUSES:
        instance.last_error = {"file": None, "element_id": None, "line": None, "message": message,
                               "command": READ_STATE, "previous_status": instance.status}
        instance.status = "failed"
    session.add(AuditEvent(at=now, case_id=instance.case_id, instance_id=instance.id, actor_id=None, action="failed",
                           summary="The route's saved state cannot be read; an administrator has been told",
                           detail={"command": READ_STATE, "message": message}))
    try:
        session.commit()
    except StaleDataError:  # someone changed it meanwhile: whoever finds it next flags it
        session.rollback()


__all__ = ["READ_STATE", "unreadable_routes"]
