"""The 20-week clock of an EHC needs assessment, from the day the request is received to the final plan: the week of
the 20 ("week 9 of 20"), the date the final plan is due and what is due next, whatever step the route is at.

The decision to issue opens the ``final_plan_20w`` deadline, but a caseworker needs the 20 weeks in view from the day
the request arrives (regulation 13(2) counts them from the day the request is received). The clock is read from
projection rows only, never from a workflow, so a task list of 25 rows costs a few queries. The start of the 20 weeks
comes from, most authoritative first:

1. the ``final_plan_20w`` deadline (opened by the decision to issue, carried on by plan drafting): its day is the
   final plan's date, 20 weeks after the start;
2. the ``decide_whether_to_assess`` deadline (opened when the request is registered): 6 weeks after the start;
3. the ``decision_not_to_issue`` deadline: 16 weeks after the start;
4. the moment the request was received, before any deadline row exists (day one): the front door's request that
   started the assessment (``AssessmentRequest.received_at``), the start form of an assessment started by hand (the
   ``route_started_by_hand`` event keeps it), or else the moment the route started (its script takes ``now()`` as the
   time of receipt when its start data gives none); a request received after 5pm or on a day that is not a working
   day starts the clock on the next working day (``calendar.statutory_start_date``, as the route's script does).

After a Tribunal order to assess the clock counts 14 weeks from the order's date instead (regulation 44(2)(b)): the
task that registers the order is due 2 weeks after it. Weeks are calendar weeks: the start day is day 1 of week 1,
and bank holidays do not move them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Row, bindparam, select
from sqlalchemy.orm import Session

from engine.statutory import calendar
from engine.store.models import AuditEvent, Deadline, HumanTask, ProcessInstance
from engine.store.requests import AssessmentRequest

ASSESSMENT = "ehc_needs_assessment"
PLAN_DRAFTING = "ehc_plan_drafting"
#: The routes during which the 20 weeks run.
CLOCK_ROUTES = (ASSESSMENT, PLAN_DRAFTING)
ACTIVE = ("running", "waiting_person", "waiting_timer", "failed", "suspended")
WEEKS = 20
DECIDE_KEY = "decide_whether_to_assess"
DECIDE_WEEKS = 6
#: Deadline key -> weeks after the start it falls on (regulations 5(1), 10(1), 13(2)).
ANCHORS = {"final_plan_20w": WEEKS, DECIDE_KEY: DECIDE_WEEKS, "decision_not_to_issue": 16}
HAND_START_EVENT = "route_started_by_hand"
# After a Tribunal order to assess, the clock counts from the order's date: the family is told the authority will
# assess within 2 weeks (the due date of the registering task), and the final plan is due within 14 (reg 44(2)(b)).
ORDER_TASK = "UT_register_order"
ORDER_NOTICE_WEEKS = 2
ORDER_WEEKS = 14


@dataclass(frozen=True)
class NextDue:
    name: str
    due_date: date


@dataclass(frozen=True)
class AssessmentClock:
    """Where a case is in its 20 weeks on ``today``."""

    case_id: int
    start: date  # day 1 of week 1
    final_plan_by: date
    today: date
    next_due: NextDue | None = None
    weeks: int = WEEKS  # 14 after a Tribunal order

    @property
    def week(self) -> int:
        """The week of the 20 that ``today`` is in (1 before the start: a request received at a weekend)."""
        return max(1, (self.today - self.start).days // 7 + 1)

    @property
    def past_final(self) -> bool:
        return self.today > self.final_plan_by

    @property
    def label(self) -> str:
        if self.past_final:
            return f"Week {self.week}: the {self.weeks} weeks have passed"
        return f"Week {self.week} of {self.weeks}"


# The clock's reads, built once with their parameters (every staff task page and task list reads the first): building
# a statement's comparisons costs more than these indexed reads themselves. Those of columns only run as Core on the
# session's connection: the ORM's handling of a statement costs about as much again as such a read.
_IDS = bindparam("ids", expanding=True)
_CASE_INSTANCES = select(ProcessInstance.id, ProcessInstance.case_id, ProcessInstance.process_id,
                         ProcessInstance.status, ProcessInstance.parent_instance_id, ProcessInstance.created_at).where(
    ProcessInstance.case_id.in_(_IDS)).order_by(ProcessInstance.created_at, ProcessInstance.id)
_CASE_DEADLINES = select(Deadline).where(Deadline.case_id.in_(_IDS), Deadline.status != "cancelled").order_by(
    Deadline.id)
_HAND_STARTS = select(AuditEvent.instance_id, AuditEvent.detail).where(AuditEvent.action == HAND_START_EVENT,
                                                                        AuditEvent.instance_id.in_(_IDS))
_REQUESTS_RECEIVED = select(AssessmentRequest.instance_id, AssessmentRequest.received_at).where(
    AssessmentRequest.instance_id.in_(_IDS), AssessmentRequest.received_at.is_not(None))
_ORDER_TASKS = select(HumanTask.case_id, HumanTask.due_date).where(
    HumanTask.instance_id.in_(_IDS), HumanTask.bpmn_id == ORDER_TASK, HumanTask.status != "cancelled").order_by(
    HumanTask.id)
_INSTANCE_TASKS = select(HumanTask).where(HumanTask.instance_id.in_(_IDS))


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _received(session: Session, instance_ids: list[int]) -> dict[int, datetime]:
    """Instance id -> the moment its request was received, where something other than the route's start says so."""
    out: dict[int, datetime] = {}
    for instance_id, detail in session.connection().execute(_HAND_STARTS, {"ids": instance_ids}):
        text = (detail or {}).get("received_at")
        if isinstance(text, str):
            try:
                out[instance_id] = _aware(datetime.fromisoformat(text))
            except ValueError:
                continue
    for instance_id, moment in session.connection().execute(_REQUESTS_RECEIVED, {"ids": instance_ids}):
        out[instance_id] = _aware(moment)
    return out


def assessment_clocks(session: Session, case_ids: Iterable[int], today: date) -> dict[int, AssessmentClock]:
    """Case id -> its clock, for the cases among ``case_ids`` with an assessment or plan drafting route running."""
    wanted = sorted(set(case_ids))
    if not wanted:
        return {}
    instances: dict[int, list[Row[Any]]] = {}
    # Route and status judged here: given them, SQLite (no statistics) reads every instance of the route along its
    # index rather than the page's cases' instances. Only the columns used: not the saved states.
    for instance in session.connection().execute(_CASE_INSTANCES, {"ids": wanted}):
        if instance.process_id in CLOCK_ROUTES and instance.status in ACTIVE:
            instances.setdefault(instance.case_id, []).append(instance)
    if not instances:
        return {}
    instance_ids = sorted(i.id for rows in instances.values() for i in rows)
    anchors: dict[int, dict[str, Deadline]] = {}
    open_deadlines: dict[int, list[Deadline]] = {}
    for row in session.scalars(_CASE_DEADLINES, {"ids": sorted(instances)}):
        if row.key in ANCHORS and row.instance_id in instance_ids:
            anchors.setdefault(row.case_id, {})[row.key] = row  # the latest of each key
        if row.status == "open" and row.instance_id in instance_ids:
            open_deadlines.setdefault(row.case_id, []).append(row)
    received = _received(session, instance_ids)
    # A Tribunal's order: its registering task (open or done) in the assessment, or in the one plan drafting came from.
    order_instances = sorted({*instance_ids, *(i.parent_instance_id for rows in instances.values() for i in rows
                                               if i.parent_instance_id is not None)})
    ordered: dict[int, date] = {}
    # The undated rows are skipped here rather than in SQL: a due date test in the query leads SQLite (which keeps no
    # statistics) to read every dated open task along ix_human_task_status_due instead of these instances' tasks.
    for case_id, due in session.connection().execute(_ORDER_TASKS, {"ids": order_instances}):
        if due is not None:
            ordered[case_id] = calendar.add_weeks(due, -ORDER_NOTICE_WEEKS)
    tasks: dict[int, list[HumanTask]] = {}
    # Judged here too: with ``status = 'open'`` in the query SQLite reads every open task along a status index.
    for task in session.scalars(_INSTANCE_TASKS, {"ids": instance_ids}):
        if task.status == "open" and task.due_date is not None:
            tasks.setdefault(task.case_id, []).append(task)
    out: dict[int, AssessmentClock] = {}
    for case_id, running in instances.items():
        rows = anchors.get(case_id, {})
        weeks = ORDER_WEEKS if case_id in ordered else WEEKS
        start = ordered.get(case_id) or _start(rows, running, received)
        if start is None:
            continue
        final = rows["final_plan_20w"].due_date if "final_plan_20w" in rows else calendar.add_weeks(start, weeks)
        due = [NextDue(d.name, d.due_date) for d in open_deadlines.get(case_id, [])]
        due += [NextDue(_task_name(t), t.due_date) for t in tasks.get(case_id, []) if t.due_date is not None]
        if not rows and case_id not in ordered:
            # Day one: the request is not registered yet, so the 6-week deadline is not on the case, but it runs.
            due.append(NextDue("Decide whether to assess (6 weeks)", calendar.add_weeks(start, DECIDE_WEEKS)))
        out[case_id] = AssessmentClock(case_id, start, final, today, min(due, key=lambda n: n.due_date, default=None),
                                       weeks)
    return out


def assessment_clock(session: Session, case_id: int, today: date) -> AssessmentClock | None:
    return assessment_clocks(session, [case_id], today).get(case_id)


def _start(rows: dict[str, Deadline], running: list[Row[Any]], received: dict[int, datetime]) -> date | None:
    for key, weeks in ANCHORS.items():
        if key in rows:
            return calendar.add_weeks(rows[key].due_date, -weeks)
    assessments = [i for i in running if i.process_id == ASSESSMENT]
    if not assessments:
        return None  # plan drafting without its 20-week deadline: nothing to count from
    latest = assessments[-1]
    return calendar.statutory_start_date(received.get(latest.id) or _aware(latest.created_at))


def _task_name(task: HumanTask) -> str:
    return f"{task.name}: {task.detail}" if task.detail else task.name


__all__ = ["AssessmentClock", "NextDue", "assessment_clock", "assessment_clocks"]
