"""Statutory reports, read from the projections (deadlines, instances, tasks), never from workflow state.

Timeliness follows the national statistics: a plan is "within 20 weeks" when its deadline was met; the figure
"excluding exceptions" leaves out of the count the cases where a timescale exception was claimed, as the published
`_ex` measures do.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine import calendar
from engine.models import Case, Deadline, HumanTask, Organisation, ProcessInstance

# Report name -> the deadline key the routes use for it (see docs/bpmn-conventions.md and docs/routes/).
TIMELINESS_MEASURES: dict[str, str] = {
    "EHC plans issued within 20 weeks": "final_plan_20w",
    "Decisions to assess within 6 weeks": "decide_whether_to_assess",
    "Reviews completed on time": "annual_review",
    "Amendments issued within 8 weeks": "amendment_8w",
}


@dataclass
class TimelinessRow:
    measure: str
    period: str
    completed: int
    on_time: int
    late_with_exception: int

    @property
    def percent(self) -> float | None:
        return round(100 * self.on_time / self.completed, 1) if self.completed else None

    @property
    def percent_excluding_exceptions(self) -> float | None:
        counted = self.completed - self.late_with_exception
        return round(100 * self.on_time / counted, 1) if counted else None


def timeliness(session: Session, la_id: int | None = None, by: str = "month") -> list[TimelinessRow]:
    """Deadlines that reached their end (the work was done), by measure and by the month or year it was done."""
    query = select(Deadline).where(Deadline.met_at.is_not(None), Deadline.status != "cancelled")
    if la_id is not None:
        query = query.join(Case, Case.id == Deadline.case_id).where(Case.la_id == la_id)
    rows: dict[tuple[str, str], TimelinessRow] = {}
    keys = {key: name for name, key in TIMELINESS_MEASURES.items()}
    for deadline in session.scalars(query):
        base = deadline.key.split(":", 1)[0]
        if base not in keys:
            continue
        done = calendar.to_london_date(deadline.met_at)  # type: ignore[arg-type]
        period = f"{done.year}-{done.month:02d}" if by == "month" else str(done.year)
        row = rows.setdefault((keys[base], period), TimelinessRow(keys[base], period, 0, 0, 0))
        row.completed += 1
        if not deadline.missed:
            row.on_time += 1
        elif deadline.exception_reason:
            row.late_with_exception += 1
    return [rows[k] for k in sorted(rows)]


def overdue_by_route(session: Session, today: date, la_id: int | None = None) -> list[tuple[str, int]]:
    query = (select(Deadline.process_id, func.count()).where(Deadline.status.in_(("open", "missed")),
                                                             Deadline.met_at.is_(None), Deadline.due_date < today)
             .group_by(Deadline.process_id).order_by(Deadline.process_id))
    if la_id is not None:
        query = query.join(Case, Case.id == Deadline.case_id).where(Case.la_id == la_id)
    return [(process or "-", count) for process, count in session.execute(query)]


def open_tasks_by_stage(session: Session, la_id: int | None = None) -> list[tuple[str, str, int]]:
    """Open tasks by route and step: where the work is."""
    query = (select(HumanTask.process_id, HumanTask.name, func.count()).where(HumanTask.status == "open")
             .group_by(HumanTask.process_id, HumanTask.name).order_by(HumanTask.process_id, HumanTask.name))
    if la_id is not None:
        query = query.join(Case, Case.id == HumanTask.case_id).where(Case.la_id == la_id)
    return [(p, n, c) for p, n, c in session.execute(query)]


def overdue_by_team(session: Session, today: date) -> list[tuple[str, int]]:
    query = (select(Organisation.name, HumanTask.role, func.count())
             .join(Organisation, Organisation.id == HumanTask.organisation_id)
             .where(HumanTask.status == "open", HumanTask.due_date < today)
             .group_by(Organisation.name, HumanTask.role).order_by(Organisation.name, HumanTask.role))
    return [(f"{org} ({role})", count) for org, role, count in session.execute(query)]


SEN2_COLUMNS = [
    "case_reference", "local_authority", "date_of_birth", "request_date", "assessment_decision_due",
    "assessment_decision_made", "assessment_decision_on_time", "plan_issued", "plan_within_20_weeks",
    "plan_exception", "reviews_completed", "mediation_or_appeal", "plan_ceased",
]


def sen2_csv(session: Session, la_id: int | None = None) -> str:
    """Per-case data for the annual SEN2 return (see docs/reports.md for each column)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(SEN2_COLUMNS)
    cases = select(Case).order_by(Case.reference)
    if la_id is not None:
        cases = cases.where(Case.la_id == la_id)
    for case in session.scalars(cases):
        deadlines = list(session.scalars(select(Deadline).where(Deadline.case_id == case.id).order_by(Deadline.id)))
        by_key = {}
        for d in deadlines:
            by_key.setdefault(d.key.split(":", 1)[0], d)
        decide = by_key.get("decide_whether_to_assess")
        plan = by_key.get("final_plan_20w")
        processes = dict(session.execute(
            select(ProcessInstance.process_id, func.count()).where(ProcessInstance.case_id == case.id)
            .group_by(ProcessInstance.process_id)).all())
        ceased = session.scalar(select(func.count()).select_from(ProcessInstance).where(
            ProcessInstance.case_id == case.id, ProcessInstance.process_id == "cease_plan",
            ProcessInstance.status == "completed"))
        reviews = sum(1 for d in deadlines if d.key == "annual_review" and d.met_at is not None)

        def day(value: object) -> str:
            return calendar.to_london_date(value).isoformat() if value is not None else ""  # type: ignore[arg-type]

        writer.writerow([
            case.reference, case.la.name, case.date_of_birth.isoformat() if case.date_of_birth else "",
            decide.started_on.isoformat() if decide and decide.started_on else "",
            decide.due_date.isoformat() if decide else "", day(decide.met_at) if decide else "",
            ("yes" if not decide.missed else "no") if decide and decide.met_at else "",
            day(plan.met_at) if plan else "", ("yes" if not plan.missed else "no") if plan and plan.met_at else "",
            plan.exception_reason or "" if plan else "", reviews,
            "yes" if processes.get("disagreement_resolution") else "no", "yes" if ceased else "no",
        ])
    return out.getvalue()
