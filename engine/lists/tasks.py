"""Read-only queries for the task lists: whose tasks a user sees, the filters and sorts, one task's status.

They read the projection rows (human tasks, deadlines) and never deserialize a workflow. None of them commits.

Who may act on a task is decided by ``engine.people.access.can_act_on_task``; the task lists repeat that rule in SQL (so a
page of 25 rows is one query however many tasks there are) and in ``can_act`` below for each listed row. A test keeps
the three in step.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, case, exists, false, func, or_, select
from sqlalchemy.orm import Session, aliased

from engine.lists.case_search import search_clause
from engine.lists.cases import child_name_order
from engine.lists.clock import AssessmentClock, assessment_clocks
from engine.lists.holder import Holder, family_case_ids, holder
from engine.lists.keyset import Key, Paged, Run, ordered, paged_ids
from engine.lists.names import route_names
from engine.lists.outer_first import OuterFirst
from engine.lists.paging import LIST_CAP, Page, last_page
from engine.people.access import ACTING_FOR_YOUNG_PERSON, LA_ROLES
from engine.people.api_tokens import token_accounts
from engine.people.roles import Role
from engine.store.models import (
    Case,
    CaseParty,
    Deadline,
    HumanTask,
    Membership,
    Organisation,
    ProcessInstance,
    User,
)

DUE_SOON_DAYS = 7
#: A search matching up to this many cases passes them to the list's queries by id.
SEARCH_BY_ID = 5000

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


# ---- acting on tasks -------------------------------------------------------------------------------------------------

def can_act(task_role: str | None, task_org: int | None, assignee_id: int | None, case_id: int, who: Holder,
            family_cases: set[int]) -> bool:
    """``engine.people.access.can_act_on_task`` for a listed row, without a query per row (the task is known to be open)."""
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
        and_(HumanTask.role == Role.FAMILY.value, HumanTask.case_id.in_(family), _family_member_may_act(who)),
    )


def _family_member_may_act(who: Holder) -> ColumnElement[bool]:
    """A family task for anyone of the family, or one the route gave the young person (``familyMember``): theirs, or
    of a parent they named to act for them (as ``engine.people.access.can_act_on_task``)."""
    acting = select(CaseParty.case_id).where(CaseParty.user_id == who.user_id,
                                             CaseParty.role == ACTING_FOR_YOUNG_PERSON, CaseParty.active.is_(True))
    return or_(HumanTask.assignee_id.is_(None), HumanTask.assignee_id == who.user_id, HumanTask.case_id.in_(acting))


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
    after: str | None = None  # past the numbered pages: the cursor of the row before the page (engine/lists/keyset.py)
    before: str | None = None  # ... or of the row after it


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
    detail: str | None = None  # what the task is about (the route's taskDetail), e.g. which adviser
    route_failed: bool = False  # the route stopped on an error: nobody can complete it until an admin repairs it
    clock: AssessmentClock | None = None  # the case's 20 weeks, while an assessment runs

    @property
    def status_label(self) -> str:
        return TASK_STATUSES[self.status]


def _exception_claimed() -> ColumnElement[bool]:
    return exists().where(Deadline.attached_task_guid == HumanTask.task_guid, Deadline.case_id == HumanTask.case_id,
                          Deadline.exception_reason.is_not(None))


def _status_expression(today: date) -> Any:
    """The list status of each task. A chase task carries the date of the deadline it chases (its dueDate), so
    "overdue" here and the overdue deadlines of the reports count the same work."""
    soon = today + timedelta(days=DUE_SOON_DAYS)
    return case(
        (_exception_claimed(), "exception"),
        (HumanTask.due_date.is_(None), "no_date"),
        (HumanTask.due_date < today, "overdue"),
        (HumanTask.due_date <= soon, "due_soon"),
        else_="due",
    )


def _status_condition(status: str, today: date) -> ColumnElement[bool]:
    """Tasks whose ``_status_expression`` is ``status``, written so that the due date index can find them."""
    claimed = _exception_claimed()
    if status == "exception":
        return claimed
    soon = today + timedelta(days=DUE_SOON_DAYS)
    dated = {
        "no_date": HumanTask.due_date.is_(None),
        "overdue": HumanTask.due_date < today,
        "due_soon": and_(HumanTask.due_date >= today, HumanTask.due_date <= soon),
        "due": HumanTask.due_date > soon,
    }[status]
    return and_(~claimed, dated)


def _matching(session: Session, who: Holder, filters: TaskFilters, today: date) -> Select[tuple[int]]:
    """The ids of the tasks the list shows, unordered: the joins only when a filter needs them."""
    visible = my_tasks_clause(who) if filters.view == "mine" else team_tasks_clause(who)
    query = select(HumanTask.id).where(HumanTask.status == "open", visible)
    if filters.q and filters.q.strip():
        query = _searched(session, query, filters.q)
    if filters.route:
        query = query.join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id).where(
            ProcessInstance.process_id == filters.route)
    if filters.status in TASK_STATUSES:
        query = query.where(_status_condition(filters.status, today))
    if filters.due_from:
        query = query.where(HumanTask.due_date >= filters.due_from)
    if filters.due_to:
        query = query.where(HumanTask.due_date <= filters.due_to)
    return query


def _searched(session: Session, query: Select[tuple[int]], q: str) -> Select[tuple[int]]:
    """``query`` narrowed to the tasks of the cases that match the search, found once and named by id rather than
    searched again by each of the page's queries. (SQLite reads them by case only with the statistics of
    engine/store/planner_statistics.py: without them it reads every open task and looks for its case in the list.)"""
    cases = select(Case.id).where(search_clause(session, q))
    found = list(session.scalars(cases.limit(SEARCH_BY_ID + 1)))
    if not found:
        return query.where(false())  # nothing to list (an empty IN is a subquery SQLite would test on every task)
    if len(found) > SEARCH_BY_ID:
        return query.where(HumanTask.case_id.in_(cases))
    return query.where(HumanTask.case_id.in_(found))


def _runs(session: Session, filters: TaskFilters, today: date) -> list[Run]:
    """The list's order as runs of keys (engine/lists/keyset.py), for the sorts read without one ORDER BY of
    everything: by due date (three runs) and, for keyset paging past the numbered pages, every sort.

    The due order puts overdue work first, then the rest by date, undated last; one ORDER BY of that shape can use
    no index, so the database would sort every matching task for each page. It is read instead as three runs, each
    an index range in (due date, id) order: overdue tasks without an exception claimed, the other dated tasks (an
    overdue one with an exception claimed waits with them, earliest first), and the undated ones. Descending reverses
    the runs and the dates but, as in the one ORDER BY, not the id that breaks ties (except by child: there the
    exact reverse, which the name index can give backwards)."""
    down = filters.descending
    task_id = Key(HumanTask.id, int)
    if filters.sort == "child":
        names = [Key(name, str, down) for name in child_name_order(session)]
        return [Run(None, (*names, Key(Case.id, int, down), Key(HumanTask.id, int, down)))]
    by_column = {"reference": Key(Case.reference, str, down), "task": Key(func.lower(HumanTask.name), str, down),
                 "route": Key(ProcessInstance.process_id, str, down), "opened": Key(HumanTask.created_at, datetime, down)}
    if filters.sort in by_column:
        return [Run(None, (by_column[filters.sort], task_id))]
    claimed = _exception_claimed()
    dated = (Key(HumanTask.due_date, date, down), task_id)
    runs = [Run(and_(HumanTask.due_date < today, ~claimed), dated),
            Run(and_(HumanTask.due_date.is_not(None), or_(HumanTask.due_date >= today, claimed)), dated),
            Run(HumanTask.due_date.is_(None), (task_id,))]
    return runs[::-1] if down else runs


def _due_order_ids(session: Session, matching: Select[tuple[int]], runs: list[Run], offset: int,
                   limit: int) -> list[int]:
    """One page of ``matching`` in the list's due order, read run by run along the (status, due date) index."""
    wanted = offset + limit
    ids: list[int] = []
    for run in runs:
        assert run.where is not None
        ids.extend(session.scalars(matching.where(run.where).order_by(*ordered(run.keys))
                                   .limit(wanted - len(ids))))
        if len(ids) >= wanted:
            break
    return ids[offset:wanted]


def _ids_query(filters: TaskFilters, matching: Select[tuple[int]]) -> Select[tuple[int]]:
    """The matching task ids with the joins the sort and the filters need, and no more: the instance rows hold the
    saved state, so joining 100,000 of them reads far more pages than the tasks themselves. Sorted by child (and no
    route chosen), the children are read in name order along their index, each one's tasks by case, so that a page
    stops after its rows (engine/lists/outer_first.py) rather than sort every matching task."""
    if filters.sort == "child" and not filters.route:
        return select(HumanTask.id).select_from(OuterFirst(Case, HumanTask, Case.id == HumanTask.case_id)).where(
            matching.whereclause)
    ids = select(HumanTask.id)
    if filters.sort in ("child", "reference"):
        ids = ids.join(Case, Case.id == HumanTask.case_id)
    if filters.route or filters.sort == "route":
        ids = ids.join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
    return ids.where(matching.whereclause)


def task_list(session: Session, user_id: int, filters: TaskFilters, today: date) -> Page[TaskRow]:
    """One page of the user's tasks ("mine") or their team's ("team"), filtered, searched and sorted.

    The total is counted up to ``LIST_CAP`` (more says "more than 1,000") and numbered pages reach no deeper than
    that; past them the pages go on by keyset paging (``filters.after`` or ``filters.before``; a cursor that cannot be
    read raises ``BadCursor``)."""
    who = holder(session, user_id)
    fam = family_case_ids(session, user_id)
    per_page = max(1, min(filters.per_page, 200))
    matching = _matching(session, who, filters, today)
    found = list(session.scalars(matching.limit(LIST_CAP + 1)))
    total = len(found)
    assignee = aliased(User)
    status = _status_expression(today).label("status")
    query = (
        select(HumanTask, Case.reference, Case.child_first_name, Case.child_last_name, ProcessInstance.process_id,
               assignee.name, status, ProcessInstance.status)
        .join(Case, Case.id == HumanTask.case_id)
        .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id)
        .outerjoin(assignee, assignee.id == HumanTask.assignee_id)
    )
    runs = _runs(session, filters, today)
    by_due = filters.sort not in TASK_SORTS or filters.sort == "due"
    if by_due:
        # As one ORDER BY: overdue work first of all (a task with an exception claimed waits with the rest), then
        # by date, undated last; descending reverses all but the id that breaks ties.
        terms = [case((_status_expression(today) == "overdue", 0), else_=1), HumanTask.due_date.is_(None),
                 HumanTask.due_date]
        order = [*(t.desc() if filters.descending else t for t in terms), HumanTask.id]
    else:
        order = ordered(runs[0].keys)
    ordered_query = query.order_by(*order)
    if total <= LIST_CAP:
        # Every matching task is known: sort those few (the database's own order, so nothing changes).
        paged = Paged(max(1, min(filters.page, last_page(total, per_page, LIST_CAP))))
        page_query = ordered_query.where(HumanTask.id.in_(found)).offset((paged.page - 1) * per_page).limit(per_page)
    else:
        ids = _ids_query(filters, matching)

        def numbered(number: int) -> list[int]:
            offset = (number - 1) * per_page
            if by_due:
                return _due_order_ids(session, matching, runs, offset, per_page)
            # Sorted by a column of the case, the route or the task: the page's ids first, sorting only the columns
            # the order needs (the status and the assignee of 25 rows, not of every task).
            return list(session.scalars(ids.order_by(*order).offset(offset).limit(per_page)))

        paged = paged_ids(session, ids, runs, HumanTask.id, total=total, cap=LIST_CAP, asked=filters.page,
                          per_page=per_page, after=filters.after, before=filters.before, numbered=numbered)
        page_query = ordered_query.where(HumanTask.id.in_(paged.ids))
    rows = session.execute(page_query).all()
    names = route_names(session)
    clocks = assessment_clocks(session, {row[0].case_id for row in rows}, today)
    out: list[TaskRow] = []
    for task, reference, first, last, route_id, assignee_name, row_status, instance_status in rows:
        out.append(TaskRow(
            id=task.id, name=task.name, case_id=task.case_id, case_reference=reference, child_name=f"{first} {last}",
            route_id=route_id, route_name=names.get(route_id, route_id), due_date=task.due_date, status=row_status,
            assignee_id=task.assignee_id, assignee_name=assignee_name, role=task.role,
            organisation_id=task.organisation_id, created_at=task.created_at,
            can_act=can_act(task.role, task.organisation_id, task.assignee_id, task.case_id, who, fam),
            can_reassign=task.role != Role.FAMILY.value and (who.manages(task.organisation_id)
                                                             or who.administers(task.organisation_id)),
            detail=task.detail, route_failed=instance_status == "failed", clock=clocks.get(task.case_id),
        ))
    return paged.of(out, total, per_page, LIST_CAP)


_EXCEPTION_CLAIMED = select(Deadline.id).where(Deadline.attached_task_guid == bindparam("guid"),
                                               Deadline.case_id == bindparam("case_id"),
                                               Deadline.exception_reason.is_not(None)).limit(1)


def task_status(session: Session, task: HumanTask, today: date) -> str:
    """The list status of one task (a key of TASK_STATUSES)."""
    # Core on the session's connection, as the clock's reads: a task page reads this for its one task.
    if session.connection().scalar(_EXCEPTION_CLAIMED, {"guid": task.task_guid, "case_id": task.case_id}):
        return "exception"
    if task.due_date is None:
        return "no_date"
    if task.due_date < today:
        return "overdue"
    if task.due_date <= today + timedelta(days=DUE_SOON_DAYS):
        return "due_soon"
    return "due"


# ---- after a task is done --------------------------------------------------------------------------------------------

@dataclass
class NextStep:
    """An open task after a command: who has it (role, organisation, person) and by when."""

    id: int
    name: str
    detail: str | None
    role: str | None
    organisation_name: str | None
    assignee_name: str | None
    due_date: date | None


@dataclass
class AfterTask:
    """What happens next once a task is done: the open tasks of its route (and of any route the step started), or
    why there are none (the route waits for a date, or has finished)."""

    task: HumanTask
    steps: list[NextStep]
    route_status: str
    waits_until: datetime | None


def after_task(session: Session, task_id: int, limit: int = 5) -> AfterTask | None:
    """The next steps after ``task_id`` was completed, earliest due first (None: no such task, or not done)."""
    done = session.get(HumanTask, task_id)
    if done is None or done.status != "completed":
        return None
    instance = session.get(ProcessInstance, done.instance_id)
    assert instance is not None
    started_with_it = done.completed_at if done.completed_at is not None else done.created_at
    assignee = aliased(User)
    rows = session.execute(
        select(HumanTask, Organisation.name, assignee.name)
        .outerjoin(Organisation, Organisation.id == HumanTask.organisation_id)
        .outerjoin(assignee, assignee.id == HumanTask.assignee_id)
        .where(HumanTask.case_id == done.case_id, HumanTask.status == "open",
               or_(HumanTask.instance_id == done.instance_id, HumanTask.created_at >= started_with_it))
        .order_by(HumanTask.due_date.is_(None), HumanTask.due_date, HumanTask.id).limit(limit)
    ).all()
    steps = [NextStep(t.id, t.name, t.detail, t.role, org, person, t.due_date) for t, org, person in rows]
    return AfterTask(done, steps, instance.status, instance.next_timer_due)


def reassign_candidates(session: Session, task: HumanTask) -> list[User]:
    """Active users who hold the role the task needs in its organisation."""
    if task.role is None or task.organisation_id is None:
        return []
    return list(session.scalars(
        select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.organisation_id == task.organisation_id, Membership.role == task.role,
               User.active.is_(True), User.id.not_in(token_accounts()))  # an API token's account is not a person
        .order_by(func.lower(User.name))
    ).unique())


__all__ = [
    "DUE_SOON_DAYS", "TASK_SORTS", "TASK_STATUSES", "AfterTask", "NextStep", "TaskFilters", "TaskRow", "after_task",
    "can_act", "my_tasks_clause", "reassign_candidates", "task_list", "task_status", "team_tasks_clause",
]
