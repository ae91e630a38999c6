"""Statements of a command that flush the session first only when its pending changes could alter them.

With autoflush, every query of a command first writes whatever the command has changed so far. Each flush costs
more than most of the command's statements (the unit of work's fixed overhead), and what a command has pending is
mostly rows of other tables than the one read: the task just completed when the deadlines are read, a new timer when
the human tasks are. ``execute`` flushes only when new, changed or deleted rows of the tables named are pending (the
only changes that could alter what the statement finds or writes), so a command flushes once or twice, at the
points where it must, and the commit writes the rest together.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import chain
from typing import Any

from sqlalchemy import update
from sqlalchemy.engine import Result
from sqlalchemy.orm import Session


def execute(session: Session, statement: Any, *tables: type, params: dict[str, Any] | None = None,
            matters: Callable[[Any], bool] | None = None) -> Result[Any]:
    """``session.execute(statement, params)``, flushing first only if rows of ``tables`` (mapped classes) are
    pending; ``matters``, when given, says which of them could change what the statement finds (the caller knows a
    change it has made and allows for)."""
    _flush_if_pending(session, tables, matters)
    with session.no_autoflush:
        return session.execute(statement, params)


def rows(session: Session, statement: Any, *tables: type, params: dict[str, Any] | None = None,
         matters: Callable[[Any], bool] | None = None) -> Result[Any]:
    """``execute`` for a statement that selects columns, not mapped objects: run as Core on the session's
    connection, since the ORM's handling of a statement costs about as much again as the rest of such a read."""
    _flush_if_pending(session, tables, matters)
    return session.connection().execute(statement, params)


def _flush_if_pending(session: Session, tables: tuple[type, ...], matters: Callable[[Any], bool] | None) -> None:
    if any(isinstance(row, tables) and (matters is None or matters(row))
           for row in chain(session.new, session.dirty, session.deleted)):
        session.flush()


def update_by_id(session: Session, model: Any, ids: list[int], values: dict[str, Any], *where: Any) -> None:
    """Sets ``values`` on the rows of ``model`` whose id is in ``ids`` (and that match ``where``), as one Core
    statement: the ORM's bulk UPDATE, which also works out which objects of the session it changes, cost as much as
    the rest of a timer's firing. Objects of those rows that the session holds are expired, so they read the new
    values.

    Only a changed or deleted object of one of those rows is flushed first (else the flush would write its change
    over the statement's): a new row has no id yet, so the statement cannot touch it and it waits for the commit."""
    if any(isinstance(row, model) and row.id in ids for row in chain(session.dirty, session.deleted)):
        session.flush()
    table = model.__table__
    session.connection().execute(update(table).where(table.c.id.in_(ids), *where).values(**values))
    held = [row for row in session.identity_map.values() if isinstance(row, model) and row.id in ids]
    for row in held:
        session.expire(row, list(values))


__all__ = ["execute", "rows", "update_by_id"]
