"""What an administrator reads about process instances: counts, the filtered list and one instance's page.

Everything here reads projection rows (instance, human task, timer, deadline, incident, audit event) and never
deserializes a workflow, so the list stays one indexed query a page however many cases there are. Every query is
scoped to the cases whose responsible organisation the administrator administers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from engine.admin.unreadable_routes import READ_STATE
from engine.lists.keyset import Key, Run, ordered, paged_ids
from engine.lists.paging import LIST_CAP, Page, bounded_count
from engine.people.roles import Role
from engine.store.models import (
    AuditEvent,
    Case,
    Deadline,
    HumanTask,
    Incident,
    Membership,
    ProcessInstance,
    ProcessVersion,
    Timer,
    User,
)

INSTANCE_STATUSES: dict[str, str] = {
    "running": "Running",
    "waiting_person": "Waiting for a person",
    "waiting_timer": "Waiting for a date",
    "suspended": "Suspended",
    "failed": "Failed",
    "completed": "Completed",
    "terminated": "Ended by an administrator",
}
LIVE_STATUSES = ("running", "waiting_person", "waiting_timer", "suspended", "failed")

#: Age filter: instances started more than this many days ago.
AGES: dict[str, str] = {
    "7": "Started more than 7 days ago",
    "30": "Started more than 30 days ago",
    "90": "Started more than 90 days ago",
    "365": "Started more than a year ago",
}


def administered_org_ids(session: Session, user_id: int) -> list[int]:
    return sorted(set(session.scalars(select(Membership.organisation_id).where(
        Membership.user_id == user_id, Membership.role == Role.ADMIN.value,
        Membership.organisation_id.is_not(None)))))


def _in_scope(org_ids: list[int]) -> ColumnElement[bool]:
    """The instance's case belongs to one of the organisations. As a correlated EXISTS (not a join) so that a page
    of the newest instances walks the primary key backwards and stops after 25 rows instead of sorting them all."""
    return exists().where(Case.id == ProcessInstance.case_id, Case.la_id.in_(org_ids))


# ---- overdue --------------------------------------------------------------------------------------------------------

def overdue_deadline_clause(today: date) -> ColumnElement[bool]:
    """A statutory deadline past its date whose work is not done: still open, or missed and not yet done."""
    return or_(and_(Deadline.status == "open", Deadline.due_date < today),
               and_(Deadline.status == "missed", Deadline.met_at.is_(None)))


@dataclass
class AdminCounts:
    """Each count is exact up to ``LIST_CAP``; ``LIST_CAP + 1`` means more than that (``text`` says so)."""

    failed: int
    suspended: int
    overdue_deadlines: int
    live: int
    # Routes whose saved state cannot be read (flagged where they were found: engine.admin.unreadable_routes).
    unreadable: int = 0

    @staticmethod
    def text(count: int) -> str:
        return f"more than {LIST_CAP:,}" if count > LIST_CAP else f"{count:,}"


def _status_counts(session: Session, conditions: list[ColumnElement[bool]], statuses: Iterable[str]) -> dict[str, int]:
    """Instances per status (the statuses with none left out), each counted no further than ``LIST_CAP + 1``: a
    GROUP BY would count every instance of the authority, which at 100,000 cost more than the rest of the page."""
    counts = {status: bounded_count(session, select(ProcessInstance.id).where(*conditions,
                                                                              ProcessInstance.status == status))
              for status in statuses}
    return {status: n for status, n in counts.items() if n}


def admin_counts(session: Session, org_ids: list[int], today: date) -> AdminCounts:
    by_status = _status_counts(session, [_in_scope(org_ids)], LIVE_STATUSES)
    deadlines = bounded_count(session,
        select(Deadline.id).join(Case, Case.id == Deadline.case_id)
        .outerjoin(ProcessInstance, ProcessInstance.id == Deadline.instance_id)
        .where(Case.la_id.in_(org_ids), overdue_deadline_clause(today),
               or_(ProcessInstance.id.is_(None), ProcessInstance.status.in_(LIVE_STATUSES))))
    # The unresolved incidents first (a handful), then which of them are live and the administrator's: joined in
    # one query, SQLite walked every live instance and probed the incidents of each.
    flagged = list(session.scalars(select(Incident.instance_id).distinct().where(
        Incident.command == READ_STATE, Incident.resolved_at.is_(None)).limit(LIST_CAP + 1)))
    unreadable = bounded_count(session, select(ProcessInstance.id).where(
        ProcessInstance.id.in_(flagged), _in_scope(org_ids), ProcessInstance.status.in_(LIVE_STATUSES))) \
        if flagged else 0
    return AdminCounts(by_status.get("failed", 0), by_status.get("suspended", 0), deadlines,
                       min(sum(by_status.values()), LIST_CAP + 1), unreadable)


# ---- the list -------------------------------------------------------------------------------------------------------

@dataclass
class InstanceFilters:
    route: str | None = None
    version_id: int | None = None
    status: str | None = None
    overdue: bool = False
    age_days: int | None = None
    page: int = 1
    per_page: int = 25
    after: str | None = None  # past the numbered pages: cursors as in the task lists (engine/lists/keyset.py)
    before: str | None = None


@dataclass
class InstanceRow:
    id: int
    process_id: str
    route_name: str
    version_hash: str
    status: str
    case_id: int
    case_reference: str
    child_name: str
    created_at: datetime
    updated_at: datetime
    error: str | None
    overdue: int = 0
    late_since: date | None = None  # the earliest due date of its unfinished work, when that has passed

    @property
    def status_label(self) -> str:
        return INSTANCE_STATUSES.get(self.status, self.status)


@dataclass
class InstanceList:
    page: Page[InstanceRow]
    status_counts: dict[str, int]  # each bounded: see AdminCounts

    def count_text(self, status: str) -> str:
        return AdminCounts.text(self.status_counts.get(status, 0))


def instance_list(session: Session, org_ids: list[int], filters: InstanceFilters, today: date,
                  now: datetime) -> InstanceList:
    """One page of instances of the administrator's organisations, newest first (with the overdue filter, the
    longest overdue first), with a count per status."""
    conditions: list[ColumnElement[bool]] = [_in_scope(org_ids)]
    if filters.route:
        conditions.append(ProcessInstance.process_id == filters.route)
    if filters.version_id:
        conditions.append(ProcessInstance.process_version_id == filters.version_id)
    if filters.age_days:
        conditions.append(ProcessInstance.created_at < now - timedelta(days=filters.age_days))
    per_page = filters.per_page
    if filters.overdue:
        # Overdue exactly when the earliest due date of the instance's unfinished work (kept by the database:
        # migration 0021) has passed; the longest overdue first, so a page reads one index range and stops.
        conditions.append(ProcessInstance.earliest_due < today)
        counts = _status_counts(session, conditions, LIVE_STATUSES)
        chosen = [filters.status] if filters.status else list(LIVE_STATUSES)
        conditions.append(ProcessInstance.status.in_(chosen))
        total = min(sum(counts.get(status, 0) for status in chosen), LIST_CAP + 1)
        keys: tuple[Key, ...] = (Key(ProcessInstance.earliest_due, date), Key(ProcessInstance.id, int))
    else:
        counts = _status_counts(session, conditions, INSTANCE_STATUSES)
        # The per-status counts already hold the total, with or without a status chosen: no second count.
        if filters.status:
            conditions.append(ProcessInstance.status == filters.status)
            total = counts.get(filters.status, 0)
        else:
            total = min(sum(counts.values()), LIST_CAP + 1)
        keys = (Key(ProcessInstance.id, int, descending=True),)
    matching = select(ProcessInstance.id).where(*conditions)
    paged = paged_ids(session, matching, [Run(None, keys)], ProcessInstance.id, total=total, cap=LIST_CAP,
                      asked=filters.page, per_page=per_page, after=filters.after, before=filters.before,
                      numbered=lambda number: list(session.scalars(matching.order_by(*ordered(keys)).offset(
                          (number - 1) * per_page).limit(per_page))) if total else [])
    ids = paged.ids
    rows = session.execute(
        select(ProcessInstance.id, ProcessInstance.process_id, ProcessVersion.name, ProcessVersion.version_hash,
               ProcessInstance.status, Case.id, Case.reference, Case.child_first_name, Case.child_last_name,
               ProcessInstance.created_at, ProcessInstance.updated_at, ProcessInstance.last_error,
               ProcessInstance.earliest_due)
        .join(Case, Case.id == ProcessInstance.case_id)
        .join(ProcessVersion, ProcessVersion.id == ProcessInstance.process_version_id)
        .where(ProcessInstance.id.in_(ids))).all() if ids else []
    place = {iid: n for n, iid in enumerate(ids)}
    out = [InstanceRow(r[0], r[1], r[2] or r[1], r[3][:10], r[4], r[5], r[6], f"{r[7]} {r[8]}", r[9], r[10],
                       (r[11] or {}).get("message") if r[4] == "failed" else None,
                       late_since=r[12] if r[12] is not None and r[12] < today else None)
           for r in sorted(rows, key=lambda r: place[r[0]])]
    late = _overdue_per_instance(session, [r.id for r in out], today)
    for row in out:
        row.overdue = late.get(row.id, 0)
    return InstanceList(paged.of(out, total, per_page, LIST_CAP), counts)


def _overdue_per_instance(session: Session, ids: list[int], today: date) -> dict[int, int]:
    """Overdue deadlines and tasks of a page of instances. The rows are read by instance id and judged here, so the
    database uses the instance index rather than the (much larger) status index."""
    found: dict[int, int] = {}
    if not ids:
        return found
    for iid, status, due, met_at in session.execute(
            select(Deadline.instance_id, Deadline.status, Deadline.due_date, Deadline.met_at)
            .where(Deadline.instance_id.in_(ids))):
        if (status == "open" and due < today) or (status == "missed" and met_at is None):
            found[iid] = found.get(iid, 0) + 1
    for iid, status, due in session.execute(select(HumanTask.instance_id, HumanTask.status, HumanTask.due_date)
                                            .where(HumanTask.instance_id.in_(ids))):
        if status == "open" and due is not None and due < today:
            found[iid] = found.get(iid, 0) + 1
    return found


def route_versions(session: Session) -> list[tuple[str, str, int, str, bool]]:
    """(process id, name, version id, short hash, current) of every deployed version, for the filters."""
    return [(pid, name or pid, vid, h[:10], bool(cur)) for pid, name, vid, h, cur in session.execute(
        select(ProcessVersion.process_id, ProcessVersion.name, ProcessVersion.id, ProcessVersion.version_hash,
               ProcessVersion.is_current).order_by(ProcessVersion.process_id, ProcessVersion.id.desc()))]


# ---- one instance ---------------------------------------------------------------------------------------------------

def instance_for_admin(session: Session, org_ids: list[int], instance_id: int) -> ProcessInstance | None:
    """The instance, if its case's responsible organisation is one the administrator administers (the same scope as
    the list, so that what the list shows is exactly what opens)."""
    return session.scalar(select(ProcessInstance).where(ProcessInstance.id == instance_id, _in_scope(org_ids)))


@dataclass
class AdminTask:
    id: int
    name: str
    bpmn_id: str
    role: str | None
    organisation_id: int | None
    assignee_name: str | None
    due_date: date | None
    created_at: datetime


@dataclass
class AuditRow:
    at: datetime
    action: str
    summary: str
    actor_name: str | None
    detail: dict[str, Any] | None


@dataclass
class InstanceDetail:
    instance: ProcessInstance
    case: Case
    version: ProcessVersion
    open_tasks: list[AdminTask]
    timers: list[Timer]
    deadlines: list[Deadline]
    incidents: list[Incident]
    audit: Page[AuditRow]
    versions: list[ProcessVersion] = field(default_factory=list)

    @property
    def open_incident(self) -> Incident | None:
        return next((i for i in self.incidents if i.resolved_at is None), None)


def instance_detail(session: Session, instance: ProcessInstance, audit_page: int = 1,
                    audit_per_page: int = 50) -> InstanceDetail:
    case = session.get(Case, instance.case_id)
    version = session.get(ProcessVersion, instance.process_version_id)
    assert case is not None and version is not None
    assignee = aliased(User)
    tasks = [AdminTask(t.id, t.name, t.bpmn_id, t.role, t.organisation_id, name, t.due_date, t.created_at)
             for t, name in session.execute(
                 select(HumanTask, assignee.name).outerjoin(assignee, assignee.id == HumanTask.assignee_id)
                 .where(HumanTask.instance_id == instance.id, HumanTask.status == "open").order_by(HumanTask.id))]
    timers = list(session.scalars(select(Timer).where(Timer.instance_id == instance.id, Timer.status == "waiting")
                                  .order_by(Timer.due_at)))
    deadlines = list(session.scalars(select(Deadline).where(Deadline.instance_id == instance.id)
                                     .order_by(Deadline.due_date, Deadline.id)))
    incidents = list(session.scalars(select(Incident).where(Incident.instance_id == instance.id)
                                     .order_by(Incident.id.desc())))
    total = session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.instance_id == instance.id)) or 0
    audit_page = max(1, audit_page)
    events = [AuditRow(e.at, e.action, e.summary, name, e.detail) for e, name in session.execute(
        select(AuditEvent, User.name).outerjoin(User, User.id == AuditEvent.actor_id)
        .where(AuditEvent.instance_id == instance.id).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .offset((audit_page - 1) * audit_per_page).limit(audit_per_page))]
    versions = list(session.scalars(select(ProcessVersion).where(ProcessVersion.process_id == instance.process_id)
                                    .order_by(ProcessVersion.id.desc())))
    return InstanceDetail(instance, case, version, tasks, timers, deadlines, incidents,
                          Page(events, total, audit_page, audit_per_page), versions)


def diagram_marks(session: Session, instance: ProcessInstance) -> dict[str, list[str]]:
    """BPMN element ids to mark on the diagram, from the projections: done, current, waiting and failed."""
    done = set(session.scalars(select(HumanTask.bpmn_id).where(HumanTask.instance_id == instance.id,
                                                               HumanTask.status == "completed")))
    done |= set(session.scalars(select(Timer.bpmn_id).where(Timer.instance_id == instance.id,
                                                            Timer.status == "fired")))
    current = set(session.scalars(select(HumanTask.bpmn_id).where(HumanTask.instance_id == instance.id,
                                                                  HumanTask.status == "open")))
    waiting = set(session.scalars(select(Timer.bpmn_id).where(Timer.instance_id == instance.id,
                                                               Timer.status == "waiting")))
    failed = []
    if instance.status == "failed" and (instance.last_error or {}).get("element_id"):
        failed = [str(instance.last_error["element_id"])]  # type: ignore[index]
    return {"done": sorted(done - current), "current": sorted(current), "waiting": sorted(waiting),
            "failed": failed}


def other_versions(session: Session, instance: ProcessInstance) -> list[ProcessVersion]:
    """The other deployed versions of the instance's route, newest first (to migrate to, or back)."""
    return list(session.scalars(select(ProcessVersion).where(ProcessVersion.process_id == instance.process_id,
                                                             ProcessVersion.id != instance.process_version_id)
                                .order_by(ProcessVersion.id.desc())))


__all__ = [
    "AGES", "AdminCounts", "AdminTask", "AuditRow", "INSTANCE_STATUSES", "InstanceDetail", "InstanceFilters",
    "InstanceList", "InstanceRow", "LIVE_STATUSES", "admin_counts", "administered_org_ids", "diagram_marks",
    "instance_detail", "instance_for_admin", "instance_list", "other_versions",
    "overdue_deadline_clause", "route_versions",
]
