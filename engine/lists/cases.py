"""Read-only queries for the staff case pages: which cases a user may see, the case list and search, and one case's
parties, timeline and route instances with their open tasks and waiting timers.

``visible_cases_clause`` and ``staff_can_see_case`` repeat ``engine.people.access.can_see_case`` for staff (in SQL for
the list); a test keeps them in step.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, collate, false, func, or_, select
from sqlalchemy.orm import Session, aliased

from engine.lists.case_search import search_clause
from engine.lists.holder import Holder, holder
from engine.lists.keyset import Key, Run, ordered, paged_ids
from engine.lists.paging import LIST_CAP, Page
from engine.people.roles import NO_CASE_ACCESS_ROLES
from engine.store.models import (
    AuditEvent,
    Case,
    CaseParty,
    HumanTask,
    Organisation,
    ProcessInstance,
    ProcessVersion,
    Timer,
    User,
)

ACTIVE_INSTANCE_STATUSES = ("running", "waiting_person", "waiting_timer", "failed", "suspended")


# ---- which cases ---------------------------------------------------------------------------------------------------

def visible_cases_clause(who: Holder, by_index: bool = True) -> ColumnElement[bool]:
    """``engine.people.access.can_see_case`` as SQL, for staff: their LA's cases and the cases their organisation is on.
    ``by_index=False`` writes the LA test so that no index can answer it (to make the database read another index)."""
    staff_orgs = sorted({org for org, role in who.roles if org is not None and role not in NO_CASE_ACCESS_ROLES})
    all_orgs = sorted(who.organisation_ids)
    party = select(CaseParty.case_id).where(CaseParty.organisation_id.in_(all_orgs), CaseParty.active.is_(True))
    la = Case.la_id if by_index else Case.la_id + 0
    return or_(la.in_(staff_orgs) if staff_orgs else false(), Case.id.in_(party) if all_orgs else false())


def staff_can_see_case(session: Session, who: Holder, case_row: Case) -> bool:
    """``engine.people.access.can_see_case`` for staff acting for their organisation: the responsible LA's staff and the
    staff of organisations acting on the case. Being the family on a case never opens the staff pages for it."""
    if any(org == case_row.la_id and role not in NO_CASE_ACCESS_ROLES for org, role in who.roles):
        return True
    orgs = sorted(who.organisation_ids)
    if not orgs:
        return False
    return session.scalar(select(CaseParty.id).where(CaseParty.case_id == case_row.id, CaseParty.active.is_(True),
                                                     CaseParty.organisation_id.in_(orgs)).limit(1)) is not None


@dataclass
class CaseRow:
    id: int
    reference: str
    child_name: str
    la_name: str
    status: str
    stage: str | None
    open_tasks: int


def case_list(session: Session, user_id: int, q: str | None, page: int = 1, per_page: int = 25,
              after: str | None = None, before: str | None = None) -> Page[CaseRow]:
    """The cases a member of staff can see, searched by child's name or case reference, in order of the child's name:
    counted up to ``LIST_CAP``, with numbered pages no deeper, and past them pages found by keyset paging
    (``after`` or ``before``, engine/lists/keyset.py; a cursor that cannot be read raises ``BadCursor``)."""
    who = holder(session, user_id)
    matching = select(Case.id).where(visible_cases_clause(who))
    if q and q.strip():
        matching = matching.where(search_clause(session, q))
    found = list(session.scalars(matching.limit(LIST_CAP + 1)))
    total = len(found)
    runs = [Run(None, (*(Key(name, str) for name in child_name_order(session)), Key(Case.id, int)))]
    by_name = ordered(runs[0].keys)
    if total <= LIST_CAP:
        ids_query = select(Case.id).where(Case.id.in_(found))
    else:
        # Many cases: read them in name order along ix_case_record_child_sort and stop after the page. Given an
        # indexable visibility clause the database would answer its OR from two indexes and sort every case the
        # user can see; ``la_id + 0`` is the same test that no index answers.
        ids_query = select(Case.id).where(visible_cases_clause(who, by_index=False))
        if q and q.strip():
            ids_query = ids_query.where(search_clause(session, q))
    paged = paged_ids(session, ids_query, runs, Case.id, total=total, cap=LIST_CAP, asked=page, per_page=per_page,
                      after=after, before=before, numbered=lambda number: list(session.scalars(
                          ids_query.order_by(*by_name).offset((number - 1) * per_page).limit(per_page))))
    ids = paged.ids
    open_tasks = (select(func.count(HumanTask.id)).where(HumanTask.case_id == Case.id, HumanTask.status == "open")
                  .correlate(Case).scalar_subquery())
    rows = session.execute(select(Case, Organisation.name, open_tasks.label("open_tasks"))
                           .join(Organisation, Organisation.id == Case.la_id)
                           .where(Case.id.in_(ids)).order_by(*by_name)).all() if ids else []
    return paged.of([CaseRow(c.id, c.reference, c.child_name, la, c.status, c.stage, n or 0) for c, la, n in rows],
                    total, per_page, LIST_CAP)


def child_name_order(session: Session) -> list[Any]:
    """By the child's last name then first name, whatever their case (the case list and the task lists' "Child"
    sort). SQLite compares them COLLATE NOCASE, the collation of ix_case_record_child_sort there (migration 0016): it
    orders exactly as ``lower()`` does on SQLite (both fold ASCII letters only), and the index can serve it."""
    if session.get_bind().dialect.name == "sqlite":
        return [collate(Case.child_last_name, "nocase"), collate(Case.child_first_name, "nocase")]
    return [func.lower(Case.child_last_name), func.lower(Case.child_first_name)]


# ---- one case: who is on it and what happened ---------------------------------------------------------------------

@dataclass
class Party:
    role: str
    name: str
    relationship: str | None
    organisation_id: int | None
    user_id: int | None


PARTY_ROLE_LABELS = {
    "family": "Parent or young person",
    "health_body": "Health body",
    "setting": "School or setting",
    "mediation_service": "Mediation service",
    "local_authority": "Local authority",
    "social_care": "Social care",
    "acting_for_young_person": "Named by the young person to act for them",
}


def case_parties(session: Session, case_id: int) -> list[Party]:
    out: list[Party] = []
    for party in session.scalars(select(CaseParty).where(CaseParty.case_id == case_id, CaseParty.active.is_(True))
                                 .order_by(CaseParty.id)):
        if party.user is not None:
            name = party.user.name
        elif party.organisation is not None:
            name = party.organisation.name
        else:
            name = "Not recorded"
        out.append(Party(party.role, name, party.relationship_to_child, party.organisation_id, party.user_id))
    return out


@dataclass
class TimelineEntry:
    at: datetime
    action: str
    summary: str
    actor_name: str | None
    instance_id: int | None


def case_timeline(session: Session, case_id: int, limit: int = 50, offset: int = 0) -> Page[TimelineEntry]:
    """Everything that happened on a case, newest first, with who did it."""
    total = session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.case_id == case_id)) or 0
    rows = session.execute(
        select(AuditEvent, User.name).outerjoin(User, User.id == AuditEvent.actor_id)
        .where(AuditEvent.case_id == case_id).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .offset(offset).limit(limit)
    ).all()
    entries = [TimelineEntry(e.at, e.action, e.summary, name, e.instance_id) for e, name in rows]
    return Page(entries, total, offset // limit + 1, limit)


# ---- one case: its routes ------------------------------------------------------------------------------------------

@dataclass
class OpenTask:
    id: int
    name: str
    role: str | None
    organisation_id: int | None
    assignee_id: int | None
    assignee_name: str | None
    due_date: date | None
    instance_id: int
    bpmn_id: str
    process_id: str
    created_at: datetime
    detail: str | None = None  # what it is about (the route's taskDetail)


def open_tasks_for_case(session: Session, case_id: int) -> list[OpenTask]:
    assignee = aliased(User)
    rows = session.execute(
        select(HumanTask, assignee.name).outerjoin(assignee, assignee.id == HumanTask.assignee_id)
        .where(HumanTask.case_id == case_id, HumanTask.status == "open")
        .order_by(HumanTask.due_date.is_(None), HumanTask.due_date, HumanTask.id)
    ).all()
    return [OpenTask(t.id, t.name, t.role, t.organisation_id, t.assignee_id, name, t.due_date, t.instance_id,
                     t.bpmn_id, t.process_id, t.created_at, t.detail) for t, name in rows]


@dataclass
class RouteInstance:
    id: int
    process_id: str
    name: str
    status: str
    version_hash: str
    created_at: datetime
    completed_at: datetime | None
    open_tasks: list[OpenTask] = field(default_factory=list)
    waiting_timers: list[Timer] = field(default_factory=list)
    unreadable: bool = False  # its saved state cannot be restored (engine.admin.unreadable_routes)

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_INSTANCE_STATUSES


def case_routes(session: Session, case_id: int, unreadable: Collection[int] = ()) -> list[RouteInstance]:
    """The case's route instances, running ones first, each with its open tasks and waiting timers (read from the
    projections, so a route whose state cannot be restored, one of ``unreadable``, is still shown and marked)."""
    tasks = open_tasks_for_case(session, case_id)
    timers = list(session.scalars(select(Timer).where(Timer.case_id == case_id, Timer.status == "waiting")
                                  .order_by(Timer.due_at)))
    out: list[RouteInstance] = []
    for instance, version in session.execute(
        select(ProcessInstance, ProcessVersion).join(ProcessVersion, ProcessVersion.id == ProcessInstance.process_version_id)
        .where(ProcessInstance.case_id == case_id).order_by(ProcessInstance.created_at.desc(), ProcessInstance.id.desc())
    ):
        out.append(RouteInstance(
            instance.id, instance.process_id, version.name or instance.process_id, instance.status,
            version.version_hash, instance.created_at, instance.completed_at,
            [t for t in tasks if t.instance_id == instance.id], [t for t in timers if t.instance_id == instance.id],
            instance.id in unreadable))
    out.sort(key=lambda r: (not r.active,))
    return out


def completed_task_ids(session: Session, instance_id: int) -> list[str]:
    """BPMN ids of the user tasks of an instance that have been done (for the diagram)."""
    return list(session.scalars(select(HumanTask.bpmn_id).where(HumanTask.instance_id == instance_id,
                                                                HumanTask.status == "completed").distinct()))


__all__ = [
    "ACTIVE_INSTANCE_STATUSES", "CaseRow", "OpenTask", "PARTY_ROLE_LABELS", "Party", "RouteInstance", "TimelineEntry",
    "case_list", "case_parties", "case_routes", "case_timeline", "child_name_order", "completed_task_ids",
    "open_tasks_for_case", "staff_can_see_case", "visible_cases_clause",
]
