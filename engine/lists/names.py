"""The names shown for ids in lists: deployed routes and organisations."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from engine.store.models import Organisation, ProcessVersion

_ROUTE_NAMES = select(ProcessVersion.process_id, ProcessVersion.name, ProcessVersion.is_current).order_by(
    ProcessVersion.process_id, ProcessVersion.is_current, ProcessVersion.id)  # read on most pages: built once


def route_names(session: Session) -> dict[str, str]:
    """Every deployed route's id and its name (from its current version, else its latest)."""
    names: dict[str, str] = {}
    for pid, name, _current in session.execute(_ROUTE_NAMES):
        names[pid] = name or pid
    return names


_ROUTE_NAME = select(ProcessVersion.name).where(ProcessVersion.process_id == bindparam("process_id")).order_by(
    ProcessVersion.is_current.desc(), ProcessVersion.id.desc()).limit(1)


def route_name(session: Session, process_id: str) -> str:
    """One route's name, as ``route_names`` gives it, for a page that shows one route (not every version read). Read
    as Core on the session's connection: the ORM's handling costs as much again as the read."""
    return session.connection().scalar(_ROUTE_NAME, {"process_id": process_id}) or process_id


def organisations_by_id(session: Session, ids: Iterable[int | None]) -> dict[int, Organisation]:
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    return {o.id: o for o in session.scalars(select(Organisation).where(Organisation.id.in_(wanted)))}


__all__ = ["organisations_by_id", "route_name", "route_names"]
