"""Audit rows of a batch of commands written with one statement at its end instead of one per command.

The timer worker fires up to 20 routes in one transaction (engine/runtime/timer_batch.py); each firing's audit rows
were one INSERT of their own, a round trip as long as a fifth of the firing on PostgreSQL. Inside a batch they are
held on the session and written together before it commits. Before a step's completion hook runs (it may read the
trail, or start or tell another route in a savepoint, engine/casework/route_links.py) the rows held so far are
written, so the trail keeps the order in which things happened and a hook sees it whole; rows recorded inside a
savepoint are written at once, so that they go if the savepoint is undone.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from engine.store.models import AuditEvent

_KEY = "ehcflow.audit_batch"


def start(session: Session) -> None:
    """From now on the session holds its commands' audit rows until ``write``."""
    session.info[_KEY] = []


def record(session: Session, rows: list[dict[str, Any]]) -> None:
    """Holds ``rows`` if the session is batching them and no savepoint is open; else writes them now (inside a
    savepoint the rows held stay held: written there, they would go if it were undone)."""
    held = session.info.get(_KEY)
    if held is not None and not session.in_nested_transaction():
        held.extend(rows)
    else:
        session.connection().execute(insert(AuditEvent.__table__), rows)


def write(session: Session) -> None:
    """Writes the rows held so far (before a completion hook runs, and before the batch commits)."""
    held = session.info.get(_KEY)
    if held:
        session.connection().execute(insert(AuditEvent.__table__), held)
        held.clear()


def stop(session: Session) -> None:
    session.info.pop(_KEY, None)


__all__ = ["record", "start", "stop", "write"]
