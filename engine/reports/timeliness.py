"""Statutory reports, read from the projections (deadlines, instances, tasks), never from workflow state.

Timeliness follows the national statistics (the EES data set "Timeliness of new EHC plans", built from the DfE's SEN2
return): a new plan is "within 20 weeks" when it was issued within 20 weeks of the **date the request was received**
(engine/reports/sen2_facts.py, which the SEN2 export reads too, so that the two agree on every case). The route's own
deadline counts from the statutory start date, which moves a request received after 5pm or on a non-working day to
the next working day: that figure is shown too, labelled as the local measure. The figure "excluding exceptions"
leaves every case where a timescale exception was claimed out of both the count and the total, as the published
`_ex` measures do (an excepted plan issued on time is left out of both too). See docs/reports.md for every figure.

Work counts for the authority responsible for the case when it was done: a plan for the authority that issued it, a
case transferred in for the new authority from the transfer on. The SEN2 export is in engine/reports/sen2.py.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from engine.lists.cases import ACTIVE_INSTANCE_STATUSES
from engine.people.roles import ROLE_LABELS, Role
from engine.reports import sen2_facts as facts
from engine.reports.sen2 import SEN2_COLUMNS, sen2_csv
from engine.statutory import calendar
from engine.store.models import Case, Deadline, HumanTask, Organisation, PlanVersion, ProcessInstance

PLANS_DFE = "final_plan_20w"
PLANS_LOCAL = "final_plan_20w_local"
# Report name -> measure code: the deadline key the routes use for it (see docs/reports.md and docs/routes/), except
# the two 20-week measures, which are worked out per request (engine/reports/sen2_facts.py).
TIMELINESS_MEASURES: dict[str, str] = {
    "EHC plans issued within 20 weeks": PLANS_DFE,
    "EHC plans issued within 20 weeks of the statutory start date (local measure)": PLANS_LOCAL,
    "Decisions to assess within 6 weeks": "decide_whether_to_assess",
    "Reviews completed on time": "annual_review",
    "Amendments issued within 8 weeks": "amended_plan",
}
DEADLINE_MEASURES = ("decide_whether_to_assess", "annual_review", "amended_plan")


@dataclass
class TimelinessRow:
    measure: str
    period: str
    completed: int
    on_time: int
    late_with_exception: int
    on_time_with_exception: int = 0

    @property
    def with_exception(self) -> int:
        return self.late_with_exception + self.on_time_with_exception

    @property
    def completed_excluding_exceptions(self) -> int:
        return self.completed - self.with_exception

    @property
    def on_time_excluding_exceptions(self) -> int:
        return self.on_time - self.on_time_with_exception

    @property
    def percent(self) -> float | None:
        return round(100 * self.on_time / self.completed, 1) if self.completed else None

    @property
    def percent_excluding_exceptions(self) -> float | None:
        counted = self.completed_excluding_exceptions
        return round(100 * self.on_time_excluding_exceptions / counted, 1) if counted else None


def _in_la(query, column, la_id: int | None):  # type: ignore[no-untyped-def]
    return query if la_id is None else query.join(Case, Case.id == column).where(Case.la_id == la_id)


def _keyed(key: str) -> Any:
    """A deadline of that key, with or without a detail ("advice:ep")."""
    return or_(Deadline.key == key, Deadline.key.like(f"{key}:%"))


def timeliness(session: Session, la_id: int | None = None, by: str = "month") -> list[TimelinessRow]:
    """Work done, by measure and by the London month (or year) it was done in, for the authority responsible then.

    Work still not done is not counted (the national figures count plans issued); a deadline that no longer applies
    (the request was withdrawn) is not either, nor, in the DfE's 20-week measure, a plan whose request is not recorded
    here (see plans_without_request). Months are London months, which SQL cannot group portably, so the rows are
    read (only the columns needed) and counted here.
    """
    where = facts.case_filter(session, la_id)
    histories = facts.la_histories(session, where)
    rows: dict[tuple[str, str], TimelinessRow] = {}
    names = {code: name for name, code in TIMELINESS_MEASURES.items()}

    def count(code: str, done: datetime, on_time: bool, excepted: bool) -> None:
        day = calendar.to_london_date(done)
        period = f"{day.year}-{day.month:02d}" if by == "month" else str(day.year)
        row = rows.setdefault((names[code], period), TimelinessRow(names[code], period, 0, 0, 0))
        row.completed += 1
        row.on_time += on_time
        if excepted:
            if on_time:
                row.on_time_with_exception += 1
            else:
                row.late_with_exception += 1

    for case_requests in facts.requests(session, where, histories).values():
        for r in case_requests:
            if r.issued_on is None or (la_id is not None and r.plan_la_id != la_id):
                continue
            count(PLANS_LOCAL, r.plan.met_at, bool(r.within_20_weeks_local), bool(r.exception))
            if r.within_20_weeks is not None:
                count(PLANS_DFE, r.plan.met_at, r.within_20_weeks, bool(r.exception))
    query = facts.scoped(
        select(Deadline.case_id, Deadline.key, Deadline.met_at, Deadline.missed, Deadline.exception_reason)
        .where(Deadline.met_at.is_not(None), Deadline.status != "cancelled",
               or_(*(_keyed(k) for k in DEADLINE_MEASURES))), Deadline.case_id, where)
    for case_id, key, met_at, missed, exception_reason in session.execute(query):
        base = key.split(":", 1)[0]
        history = histories.get(case_id)
        if base not in DEADLINE_MEASURES or (la_id is not None and (history is None or history.at(met_at) != la_id)):
            continue
        count(base, met_at, not missed, bool(exception_reason))
    order = list(TIMELINESS_MEASURES)
    return [rows[k] for k in sorted(rows, key=lambda k: (order.index(k[0]), k[1]))]


def plans_without_request(session: Session, la_id: int | None = None) -> int:
    """Plans issued (by the authority) whose request is not recorded here: the DfE measure cannot count them."""
    where = facts.case_filter(session, la_id)
    return sum(1 for case_requests in facts.requests(session, where, facts.la_histories(session, where)).values()
               for r in case_requests if r.issued_on is not None and r.received_on is None
               and (la_id is None or r.plan_la_id == la_id))


def _overdue(la_id: int | None, today: date):  # type: ignore[no-untyped-def]
    """Deadlines past their day whose work is not done: open ones, and missed ones still waiting for the work."""
    query = select(Deadline.process_id, Deadline.instance_id, Deadline.attached_task_guid).where(
        Deadline.status.in_(("open", "missed")), Deadline.met_at.is_(None), Deadline.due_date < today)
    return _in_la(query, Deadline.case_id, la_id)


def overdue_by_route(session: Session, today: date, la_id: int | None = None) -> list[tuple[str, int]]:
    """(route id, overdue deadlines): the route is the one that set the deadline."""
    counts = Counter(d.process_id or "-" for d in session.execute(_overdue(la_id, today)))
    return sorted(counts.items())


def overdue_by_team(session: Session, today: date, la_id: int | None = None) -> list[tuple[str, int]]:
    """("organisation (role)", overdue deadlines): who holds the work each overdue deadline waits for.

    The team is that of the open task the deadline is attached to; for a deadline not attached to a task (a 20-week
    plan deadline, a review due date) it is that of the earliest-due open task of the route that set it; with no task
    open, "No task open" (the route waits for a timer or a message).
    """
    overdue = list(session.execute(_overdue(la_id, today)))
    instance_ids = sorted({d.instance_id for d in overdue if d.instance_id is not None})
    tasks: list[Any] = []
    for start in range(0, len(instance_ids), _CHUNK):
        tasks += session.execute(
            select(HumanTask.instance_id, HumanTask.task_guid, HumanTask.role, HumanTask.due_date, HumanTask.id,
                   Organisation.name)
            .outerjoin(Organisation, Organisation.id == HumanTask.organisation_id)
            .where(HumanTask.status == "open", HumanTask.instance_id.in_(instance_ids[start:start + _CHUNK])))
    tasks.sort(key=lambda t: (t.due_date is None, t.due_date or date.min, t.id))
    by_guid = {(t.instance_id, t.task_guid): t for t in tasks}
    first_of_instance: dict[int, Any] = {}
    for t in tasks:
        first_of_instance.setdefault(t.instance_id, t)
    counts: Counter[str] = Counter()
    for d in overdue:
        task = by_guid.get((d.instance_id, d.attached_task_guid)) or first_of_instance.get(d.instance_id or 0)
        counts[_team(task.role, task.name) if task is not None else "No task open"] += 1
    return sorted(counts.items())


def _team(role: str | None, organisation: str | None) -> str:
    label = ROLE_LABELS[Role(role)] if role in _ROLE_CODES else (role or "No role")
    return f"{organisation} ({label})" if organisation else label


_ROLE_CODES = {r.value for r in Role}
_CHUNK = 500  # ids per IN list: SQLite limits the variables of one statement


def open_tasks_by_stage(session: Session, la_id: int | None = None) -> list[tuple[str, str, int]]:
    """Open tasks by route and step: where the work is. The route is the instance's (a task inside a sub-process
    or a called process counts for the route that runs it)."""
    route = ProcessInstance.process_id
    query = (select(route, HumanTask.name, func.count())
             .join(ProcessInstance, ProcessInstance.id == HumanTask.instance_id).where(HumanTask.status == "open")
             .group_by(route, HumanTask.name).order_by(route, HumanTask.name))
    if la_id is not None:
        query = query.join(Case, Case.id == HumanTask.case_id).where(Case.la_id == la_id)
    return [(p, n, c) for p, n, c in session.execute(query)]


# The routes a case moves through, in the order it does; routes that run beside them (a disagreement, a complaint)
# give a case's stage only when nothing else runs.
STAGE_ORDER = ("ehc_needs_assessment", "ehc_plan_drafting", "annual_review", "plan_amendment", "reassessment",
               "cease_plan", "plan_transfer")
SIDE_ROUTES = ("disagreement_resolution", "disagreement_resolution_service", "mediation", "tribunal_order",
               "complaint")
PLAN_MAINTAINED = "plan_maintained"
NO_ROUTE = "no_route"


def open_cases_by_stage(session: Session, la_id: int | None = None) -> list[tuple[str, int]]:
    """(stage, open cases). A case's stage is the route it is on: the most recently started running route (routes
    beside the main line only when nothing else runs); with none, PLAN_MAINTAINED when an issued plan is in force,
    else NO_ROUTE. Stages come in the order of a case's life."""
    def open_cases(query, column):  # type: ignore[no-untyped-def]
        query = query.join(Case, Case.id == column).where(Case.status == "open")
        return query if la_id is None else query.where(Case.la_id == la_id)

    cases = select(Case.id).where(Case.status == "open")
    case_ids = set(session.scalars(cases if la_id is None else cases.where(Case.la_id == la_id)))
    if not case_ids:
        return []
    latest: dict[int, tuple[bool, Any, int, str]] = {}
    for case_id, process_id, created, instance_id in session.execute(open_cases(
            select(ProcessInstance.case_id, ProcessInstance.process_id, ProcessInstance.created_at,
                   ProcessInstance.id).where(ProcessInstance.status.in_(ACTIVE_INSTANCE_STATUSES)),
            ProcessInstance.case_id)):
        rank = (process_id not in SIDE_ROUTES, created, instance_id, process_id)
        if case_id not in latest or rank > latest[case_id]:
            latest[case_id] = rank
    with_plan = set(session.scalars(open_cases(
        select(PlanVersion.case_id).where(PlanVersion.issued_at.is_not(None)), PlanVersion.case_id)))
    counts = Counter(latest[c][3] if c in latest else (PLAN_MAINTAINED if c in with_plan else NO_ROUTE)
                     for c in case_ids)
    order = [*STAGE_ORDER, PLAN_MAINTAINED]

    def position(stage: str) -> tuple[int, str]:
        if stage in order:
            return order.index(stage), ""
        return (len(order) + 1, "") if stage == NO_ROUTE else (len(order), stage)

    return sorted(counts.items(), key=lambda item: position(item[0]))


def stage_label(stage: str, route_names: dict[str, str]) -> str:
    if stage == PLAN_MAINTAINED:
        return "EHC plan maintained (no route running)"
    if stage == NO_ROUTE:
        return "No route running"
    return route_names.get(stage, stage)


def periods(rows: list[TimelinessRow]) -> list[str]:
    return sorted({r.period for r in rows})


def month_label(period: str) -> str:
    """"2026-03" -> "March 2026"; a year stays as it is."""
    if len(period) == 7:
        return date(int(period[:4]), int(period[5:]), 1).strftime("%B %Y")
    return period


__all__ = ["PLANS_DFE", "PLANS_LOCAL", "SEN2_COLUMNS", "TIMELINESS_MEASURES", "TimelinessRow", "month_label",
           "open_cases_by_stage", "open_tasks_by_stage", "overdue_by_route", "overdue_by_team", "periods",
           "plans_without_request", "sen2_csv", "stage_label", "timeliness"]
