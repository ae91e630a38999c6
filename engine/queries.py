"""Read-only queries for the web UI: task lists, case pages, the family's view.

Typed module functions over a Session, in one place so that no view writes ad-hoc SQL. They read the projection rows
(human tasks, deadlines, timers, audit events, documents) and never deserialize a workflow. None of them commits.

Who may act on a task is decided by ``engine.access.can_act_on_task``; the task lists repeat that rule in SQL (so a
page of 25 rows is one query however many tasks there are) and in ``can_act`` below for each listed row. A test keeps
the three in step.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, and_, case, exists, false, func, or_, select
from sqlalchemy.orm import Session, aliased

from engine.access import LA_ROLES
from engine.models import (
    AuditEvent,
    Case,
    CaseParty,
    Deadline,
    Document,
    HumanTask,
    Membership,
    Organisation,
    PlanVersion,
    ProcessInstance,
    ProcessVersion,
    Timer,
    User,
)
from engine.roles import Role

DUE_SOON_DAYS = 7

#: Task statuses shown in lists, in the order of the status filter.
TASK_STATUSES: dict[str, str] = {
    "overdue": "Overdue",
    "due_soon": "Due soon",
    "due": "Due",
    "exception": "Exception claimed",
    "no_date": "No due date",
}

TASK_SORTS: dict[str, str] = {
    "due": "Due date",
    "child": "Child's name",
    "reference": "Case reference",
    "task": "Task",
    "route": "Route",
    "opened": "Date opened",
}

T = TypeVar("T")

ACTIVE_INSTANCE_STATUSES = ("running", "waiting_person", "waiting_timer", "failed", "suspended")


# ---- who the user is ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Holder:
    """The roles a user holds, read once per request."""

    user_id: int
    roles: frozenset[tuple[int | None, str]]

    @property
    def organisation_ids(self) -> set[int]:
        return {org for org, _ in self.roles if org is not None}

    def has(self, org: int | None, role: Role | str) -> bool:
        return (org, str(role)) in self.roles

    @property
    def is_family(self) -> bool:
        return any(role == Role.FAMILY.value for _, role in self.roles)

    @property
    def is_staff(self) -> bool:
        return any(org is not None and role != Role.FAMILY.value for org, role in self.roles)

    def manages(self, org: int | None) -> bool:
        return org is not None and self.has(org, Role.MANAGER)

    def administers(self, org: int | None) -> bool:
        return org is not None and self.has(org, Role.ADMIN)


def holder(session: Session, user_id: int) -> Holder:
    rows = session.execute(select(Membership.organisation_id, Membership.role).where(Membership.user_id == user_id))
    return Holder(user_id, frozenset((org, role) for org, role in rows))


def family_case_ids(session: Session, user_id: int) -> set[int]:
    """The cases on which the user is an active family party (parent, carer or the young person)."""
    return set(session.scalars(select(CaseParty.case_id).where(CaseParty.user_id == user_id,
                                                               CaseParty.role == Role.FAMILY.value,
                                                               CaseParty.active.is_(True))))


# ---- acting on tasks -------------------------------------------------------------------------------------------------

def can_act(task_role: str | None, task_org: int | None, assignee_id: int | None, case_id: int, who: Holder,
            family_cases: set[int]) -> bool:
    """``engine.access.can_act_on_task`` for a listed row, without a query per row (the task is known to be open)."""
    if task_role == Role.FAMILY.value:
        return case_id in family_cases
    is_manager = task_role in LA_ROLES and who.manages(task_org)
    if assignee_id is not None and assignee_id != who.user_id and not is_manager:
        return False
    return (task_org, task_role) in who.roles or is_manager


def _held_pairs(who: Holder, exclude: Iterable[str] = ()) -> ColumnElement[bool]:
    skip = set(exclude)
    clauses = [and_(HumanTask.organisation_id == org, HumanTask.role == role)
               for org, role in sorted(who.roles, key=lambda r: (r[0] or 0, r[1]))
               if org is not None and role not in skip]
    return or_(*clauses) if clauses else false()


def _managed_la_tasks(who: Holder) -> ColumnElement[bool]:
    orgs = sorted(org for org, role in who.roles if org is not None and role == Role.MANAGER.value)
    if not orgs:
        return false()
    return and_(HumanTask.organisation_id.in_(orgs), HumanTask.role.in_(sorted(LA_ROLES)))


def _administered_tasks(who: Holder) -> ColumnElement[bool]:
    orgs = sorted(org for org, role in who.roles if org is not None and role == Role.ADMIN.value)
    return HumanTask.organisation_id.in_(orgs) if orgs else false()


def my_tasks_clause(who: Holder) -> ColumnElement[bool]:
    """Open tasks assigned to the user, waiting to be claimed by one of their roles, or the family's own."""
    family = select(CaseParty.case_id).where(CaseParty.user_id == who.user_id, CaseParty.role == Role.FAMILY.value,
                                             CaseParty.active.is_(True))
    return or_(
        and_(HumanTask.assignee_id == who.user_id, or_(_held_pairs(who), _managed_la_tasks(who))),
        and_(HumanTask.assignee_id.is_(None), _held_pairs(who)),
        and_(HumanTask.role == Role.FAMILY.value, HumanTask.case_id.in_(family)),
    )


def team_tasks_clause(who: Holder) -> ColumnElement[bool]:
    """Open tasks of the roles the user holds in their organisations, whoever holds them; for a manager every LA
    task of the authority, and for an administrator every task of the organisation (to reassign it)."""
    return or_(_held_pairs(who, exclude=(Role.FAMILY.value,)), _managed_la_tasks(who), _administered_tasks(who))


# ---- task lists ------------------------------------------------------------------------------------------------------

@dataclass
class TaskFilters:
    view: str = "mine"  # mine | team
    route: str | None = None
    status: str | None = None
    due_from: date | None = None
    due_to: date | None = None
    q: str | None = None
    sort: str = "due"
    descending: bool = False
    page: int = 1
    per_page: int = 25


@dataclass
class TaskRow:
    id: int
    name: str
    case_id: int
    case_reference: str
    child_name: str
    route_id: str
    route_name: str
    due_date: date | None
    status: str  # a key of TASK_STATUSES
    assignee_id: int | None
    assignee_name: str | None
    role: str | None
    organisation_id: int | None
    created_at: datetime
    can_act: bool = False
    can_reassign: bool = False

    @property
    def status_label(self) -> str:
        return TASK_STATUSES[self.status]


@dataclass
class Page(Generic[T]):
    rows: list[T]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def first_index(self) -> int:
        return 0 if self.total == 0 else (self.page - 1) * self.per_page + 1

    @property
    def last_index(self) -> int:
        return min(self.total, self.page * self.per_page)


def _exception_claimed() -> ColumnElement[bool]:
    return exists().where(Deadline.attached_task_guid == HumanTask.task_guid, Deadline.case_id == HumanTask.case_id,
                          Deadline.exception_reason.is_not(None))


def _status_expression(today: date) -> Any:
    soon = today + timedelta(days=DUE_SOON_DAYS)
    return case(
        (_exception_claimed(), "exception"),
        (HumanTask.due_date.is_(None), "no_date"),
        (HumanTask.due_date < today, "overdue"),
        (HumanTask.due_date <= soon, "due_soon"),
        else_="due",
    )


def route_names(session: Session) -> dict[str, str]:
    """Every deployed route's id and its name (from its current version, else its latest)."""
    names: dict[str, str] = {}
    for pid, name, _current in session.execute(
        select(ProcessVersion.process_id, ProcessVersion.name, ProcessVersion.is_current)
        .order_by(ProcessVersion.process_id, ProcessVersion.is_current, ProcessVersion.id)
    ):
        names[pid] = name or pid
    return names


def search_clause(q: str) -> ColumnElement[bool]:
    """Child's first, last or full name, or the case reference, containing the words typed (any case)."""
    text = " ".join(q.lower().split())
    full = func.lower(Case.child_first_name + " " + Case.child_last_name)
    return or_(full.contains(text, autoescape=True), func.lower(Case.reference).contains(text, autoescape=True),
               func.lower(Case.child_last_name + " " + Case.child_first_name).contains(text, autoescape=True))


def task_list(session: Session, user_id: int, filters: TaskFilters, today: date) -> Page[TaskRow]:
    """One page of the user's tasks ("mine") or their team's ("team"), filtered, searched and sorted."""
    who = holder(session, user_id)
    fam = family_case_ids(session, user_id)
    assignee = aliased(User)
    status = _status_expression(today).label("status")
    visible = my_tasks_clause(who) if filters.view == "mine" else team_tasks_clause(who)
    query = (
        select(HumanTask, Case.reference, Case.child_first_name, Case.child_last_name, ProcessInstance.process_id,
               assignee.name, status)
        .join(Case, Case.id == HumanTask.case_id)
        .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
        .outerjoin(assignee, assignee.id == HumanTask.assignee_id)
        .where(HumanTask.status == "open", visible)
    )
    if filters.route:
        query = query.where(ProcessInstance.process_id == filters.route)
    if filters.status in TASK_STATUSES:
        query = query.where(_status_expression(today) == filters.status)
    if filters.due_from:
        query = query.where(HumanTask.due_date >= filters.due_from)
    if filters.due_to:
        query = query.where(HumanTask.due_date <= filters.due_to)
    if filters.q and filters.q.strip():
        query = query.where(search_clause(filters.q))
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    order = {
        "due": [HumanTask.due_date.is_(None), HumanTask.due_date],
        "child": [func.lower(Case.child_last_name), func.lower(Case.child_first_name)],
        "reference": [Case.reference],
        "task": [func.lower(HumanTask.name)],
        "route": [ProcessInstance.process_id],
        "opened": [HumanTask.created_at],
    }.get(filters.sort, [HumanTask.due_date.is_(None), HumanTask.due_date])
    if filters.descending:
        order = [o.desc() for o in order]
    page = max(1, filters.page)
    per_page = max(1, min(filters.per_page, 200))
    rows = session.execute(query.order_by(*order, HumanTask.id).offset((page - 1) * per_page).limit(per_page)).all()
    names = route_names(session)
    out: list[TaskRow] = []
    for task, reference, first, last, route_id, assignee_name, row_status in rows:
        out.append(TaskRow(
            id=task.id, name=task.name, case_id=task.case_id, case_reference=reference, child_name=f"{first} {last}",
            route_id=route_id, route_name=names.get(route_id, route_id), due_date=task.due_date, status=row_status,
            assignee_id=task.assignee_id, assignee_name=assignee_name, role=task.role,
            organisation_id=task.organisation_id, created_at=task.created_at,
            can_act=can_act(task.role, task.organisation_id, task.assignee_id, task.case_id, who, fam),
            can_reassign=task.role != Role.FAMILY.value and (who.manages(task.organisation_id)
                                                             or who.administers(task.organisation_id)),
        ))
    return Page(out, total, page, per_page)


def task_status(session: Session, task: HumanTask, today: date) -> str:
    """The list status of one task (a key of TASK_STATUSES)."""
    if session.scalar(select(Deadline.id).where(Deadline.attached_task_guid == task.task_guid,
                                                Deadline.case_id == task.case_id,
                                                Deadline.exception_reason.is_not(None)).limit(1)):
        return "exception"
    if task.due_date is None:
        return "no_date"
    if task.due_date < today:
        return "overdue"
    if task.due_date <= today + timedelta(days=DUE_SOON_DAYS):
        return "due_soon"
    return "due"


def reassign_candidates(session: Session, task: HumanTask) -> list[User]:
    """Active users who hold the role the task needs in its organisation."""
    if task.role is None or task.organisation_id is None:
        return []
    return list(session.scalars(
        select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.organisation_id == task.organisation_id, Membership.role == task.role,
               User.active.is_(True))
        .order_by(func.lower(User.name))
    ).unique())


# ---- cases -----------------------------------------------------------------------------------------------------------

def visible_cases_clause(who: Holder) -> ColumnElement[bool]:
    """``engine.access.can_see_case`` as SQL, for staff: their LA's cases and the cases their organisation is on."""
    staff_orgs = sorted({org for org, role in who.roles if org is not None and role != Role.FAMILY.value})
    all_orgs = sorted(who.organisation_ids)
    party = select(CaseParty.case_id).where(CaseParty.organisation_id.in_(all_orgs), CaseParty.active.is_(True))
    return or_(Case.la_id.in_(staff_orgs) if staff_orgs else false(), Case.id.in_(party) if all_orgs else false())


def staff_can_see_case(session: Session, who: Holder, case_row: Case) -> bool:
    """``engine.access.can_see_case`` for staff acting for their organisation: the responsible LA's staff and the
    staff of organisations acting on the case. Being the family on a case never opens the staff pages for it."""
    if any(org == case_row.la_id and role != Role.FAMILY.value for org, role in who.roles):
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


def case_list(session: Session, user_id: int, q: str | None, page: int = 1, per_page: int = 25) -> Page[CaseRow]:
    """The cases a member of staff can see, searched by child's name or case reference."""
    who = holder(session, user_id)
    open_tasks = (select(func.count(HumanTask.id)).where(HumanTask.case_id == Case.id, HumanTask.status == "open")
                  .correlate(Case).scalar_subquery())
    query = (select(Case, Organisation.name, open_tasks.label("open_tasks"))
             .join(Organisation, Organisation.id == Case.la_id)
             .where(visible_cases_clause(who)))
    if q and q.strip():
        query = query.where(search_clause(q))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = max(1, page)
    rows = session.execute(query.order_by(func.lower(Case.child_last_name), func.lower(Case.child_first_name), Case.id)
                           .offset((page - 1) * per_page).limit(per_page)).all()
    return Page([CaseRow(c.id, c.reference, c.child_name, la, c.status, c.stage, n or 0) for c, la, n in rows],
                total, page, per_page)


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


def open_tasks_for_case(session: Session, case_id: int) -> list[OpenTask]:
    assignee = aliased(User)
    rows = session.execute(
        select(HumanTask, assignee.name).outerjoin(assignee, assignee.id == HumanTask.assignee_id)
        .where(HumanTask.case_id == case_id, HumanTask.status == "open")
        .order_by(HumanTask.due_date.is_(None), HumanTask.due_date, HumanTask.id)
    ).all()
    return [OpenTask(t.id, t.name, t.role, t.organisation_id, t.assignee_id, name, t.due_date, t.instance_id,
                     t.bpmn_id, t.process_id, t.created_at) for t, name in rows]


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

    @property
    def active(self) -> bool:
        return self.status in ACTIVE_INSTANCE_STATUSES


def case_routes(session: Session, case_id: int) -> list[RouteInstance]:
    """The case's route instances, running ones first, each with its open tasks and waiting timers."""
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
            [t for t in tasks if t.instance_id == instance.id], [t for t in timers if t.instance_id == instance.id]))
    out.sort(key=lambda r: (not r.active,))
    return out


def completed_task_ids(session: Session, instance_id: int) -> list[str]:
    """BPMN ids of the user tasks of an instance that have been done (for the diagram)."""
    return list(session.scalars(select(HumanTask.bpmn_id).where(HumanTask.instance_id == instance_id,
                                                                HumanTask.status == "completed").distinct()))


def organisations_by_id(session: Session, ids: Iterable[int | None]) -> dict[int, Organisation]:
    wanted = sorted({i for i in ids if i is not None})
    if not wanted:
        return {}
    return {o.id: o for o in session.scalars(select(Organisation).where(Organisation.id.in_(wanted)))}


# ---- documents -------------------------------------------------------------------------------------------------------

FAMILY_RECIPIENT_ROLES = frozenset({"parent", "young_person", "family"})


def is_for_family(document: Document) -> bool:
    """A document the family receives (to them or as a copy). Documents with no recipients recorded are shown too:
    the family may see what the authority issues about their child unless it is addressed only to others."""
    recipients: Sequence[Any] = document.recipients or []
    if not recipients:
        return True
    for recipient in recipients:
        role = recipient.get("role") if isinstance(recipient, dict) else str(recipient)
        if str(role).lower() in FAMILY_RECIPIENT_ROLES:
            return True
    return False


def case_documents(session: Session, case_id: int, family_only: bool = False) -> list[Document]:
    documents = list(session.scalars(select(Document).where(Document.case_id == case_id)
                                     .order_by(Document.issued_at.desc(), Document.id.desc())))
    return [d for d in documents if is_for_family(d)] if family_only else documents


def family_plan_versions(session: Session, case_id: int) -> list[PlanVersion]:
    """The plan versions the family has been sent: every issued plan, and each draft after which the route sent the
    family a document (the draft was served on them, with their time to comment)."""
    versions = list(session.scalars(select(PlanVersion).where(PlanVersion.case_id == case_id)
                                    .order_by(PlanVersion.number.desc())))
    documents = [d for d in case_documents(session, case_id, family_only=True)]
    out = []
    for version in versions:
        if version.issued_at is not None:
            out.append(version)
        elif any(d.instance_id == version.instance_id and d.issued_at >= version.created_at for d in documents):
            out.append(version)
    return out


# ---- the family's view -----------------------------------------------------------------------------------------------

@dataclass
class FamilyCase:
    id: int
    reference: str
    child_name: str
    la_name: str
    relationship: str | None
    open_routes: int
    my_open_tasks: int


def family_cases(session: Session, user_id: int) -> list[FamilyCase]:
    out: list[FamilyCase] = []
    for party, case_row, la_name in session.execute(
        select(CaseParty, Case, Organisation.name).join(Case, Case.id == CaseParty.case_id)
        .join(Organisation, Organisation.id == Case.la_id)
        .where(CaseParty.user_id == user_id, CaseParty.role == Role.FAMILY.value, CaseParty.active.is_(True))
        .order_by(Case.child_first_name, Case.id)
    ):
        routes = session.scalar(select(func.count(ProcessInstance.id)).where(
            ProcessInstance.case_id == case_row.id, ProcessInstance.status.in_(ACTIVE_INSTANCE_STATUSES))) or 0
        tasks = session.scalar(select(func.count(HumanTask.id)).where(
            HumanTask.case_id == case_row.id, HumanTask.status == "open", HumanTask.role == Role.FAMILY.value)) or 0
        out.append(FamilyCase(case_row.id, case_row.reference, case_row.child_name, la_name,
                              party.relationship_to_child, routes, tasks))
    return out


def open_deadlines(session: Session, case_id: int) -> list[Deadline]:
    return list(session.scalars(select(Deadline).where(Deadline.case_id == case_id, Deadline.status == "open")
                                .order_by(Deadline.due_date, Deadline.id)))


__all__ = [
    "ACTIVE_INSTANCE_STATUSES", "CaseRow", "DUE_SOON_DAYS", "FamilyCase", "Holder", "OpenTask", "Page", "Party",
    "RouteInstance", "TASK_SORTS", "TASK_STATUSES", "TaskFilters", "TaskRow", "TimelineEntry", "can_act",
    "case_documents", "case_list", "case_parties", "case_routes", "case_timeline", "completed_task_ids",
    "family_case_ids", "family_cases", "family_plan_versions", "holder", "is_for_family", "my_tasks_clause",
    "open_deadlines", "open_tasks_for_case", "organisations_by_id", "reassign_candidates", "route_names",
    "search_clause", "staff_can_see_case", "task_list", "task_status", "team_tasks_clause", "visible_cases_clause",
]
