"""The facts the SEN2 export and the timeliness report share, worked out once so that the two agree on every case.

Two rules of the national statistics (the DfE's SEN2 person-level return) live here:

- **The 20-week measure counts from the date the request was received**: the date in England, not the statutory start
  date the needs assessment route moves to the next working day for a request received after 5pm or on a non-working
  day (``calendar.statutory_start_date``). The route's own deadline (``final_plan_20w``, due 20 weeks after that
  moved date) is local practice: it is reported too, but labelled as local.
- **Each plan counts for the authority that issued it.** A case transferred to another authority
  (engine/casework/transfer.py records ``case_transferred`` with the old and the new authority) moves to the new one
  from the moment of the transfer; the old one counts it until then.

Everything is read from the projections (deadlines, instances, the requests the front door received, the audit
trail), never from workflow state.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from engine.statutory import calendar
from engine.store.models import AuditEvent, Case, Deadline, ProcessInstance
from engine.store.requests import AssessmentRequest

ASSESSMENT = "ehc_needs_assessment"
PLAN_DRAFTING = "ehc_plan_drafting"
TRANSFER_EVENT = "case_transferred"
HAND_START_EVENT = "route_started_by_hand"
PLAN_KEY = "final_plan_20w"
DECIDE_KEY = "decide_whether_to_assess"
WEEKS_TO_PLAN = 20  # reg 13(2)
WEEKS_TO_DECIDE = 6  # reg 5(1)

# Where a request's received date came from, as the export's documentation names it.
FROM_FRONT_DOOR = "front door"
FROM_START_FORM = "start form"
FROM_ROUTE_START = "route start"


def _day(value: datetime | None) -> date | None:
    return calendar.to_london_date(value) if value is not None else None


@dataclass(frozen=True)
class LaHistory:
    """Which authority was responsible for a case when: the first one, then each transfer (moment, new authority)."""

    first: int
    moves: tuple[tuple[datetime, int, int], ...] = ()  # (when, from, to), oldest first

    def at(self, moment: datetime | None) -> int:
        """The authority responsible at that moment (with none, now)."""
        la = self.first
        for when, _, to in self.moves:
            if moment is None or when <= moment:
                la = to
        return la

    def spans(self) -> list[tuple[int, date | None, date | None]]:
        """(authority, from day, to day) in England; None is open-ended. The day of a transfer belongs to the new one."""
        out: list[tuple[int, date | None, date | None]] = []
        start: date | None = None
        la = self.first
        for when, _, to in self.moves:
            day = calendar.to_london_date(when)
            out.append((la, start, day))
            la, start = to, day
        out.append((la, start, None))
        return out

    def held_during(self, la_id: int, start: date, end: date) -> bool:
        return any(la == la_id and (since is None or since <= end) and (until is None or until > start)
                   for la, since, until in self.spans())

    def moved_in(self, la_id: int) -> tuple[int, datetime] | None:
        """(the authority it came from, when) for the latest transfer into ``la_id``."""
        found = [(frm, when) for when, frm, to in self.moves if to == la_id]
        return found[-1] if found else None


def case_filter(session: Session, la_id: int | None) -> Any:
    """A WHERE clause on Case for the cases an authority has ever been responsible for (None: every case). No list of
    every case id goes into the SQL: only those of transferred cases, which are few."""
    if la_id is None:
        return None
    moved = {case_id for case_id, detail in session.execute(
        select(AuditEvent.case_id, AuditEvent.detail).where(AuditEvent.action == TRANSFER_EVENT))
        if case_id is not None and la_id in ((detail or {}).get("from_la_id"), (detail or {}).get("to_la_id"))}
    return or_(Case.la_id == la_id, Case.id.in_(sorted(moved))) if moved else Case.la_id == la_id


def scoped(query: Any, column: Any, where: Any) -> Any:
    """``query`` limited to the cases of ``where`` (from case_filter), joining the case on ``column``."""
    return query if where is None else query.join(Case, Case.id == column).where(where)


def la_histories(session: Session, where: Any) -> dict[int, LaHistory]:
    query = select(Case.id, Case.la_id)
    cases = {case_id: la for case_id, la in session.execute(query if where is None else query.where(where))}
    moves: dict[int, list[tuple[datetime, int, int]]] = defaultdict(list)
    for case_id, at, detail in session.execute(
            select(AuditEvent.case_id, AuditEvent.at, AuditEvent.detail)
            .where(AuditEvent.action == TRANSFER_EVENT).order_by(AuditEvent.at, AuditEvent.id)):
        frm, to = (detail or {}).get("from_la_id"), (detail or {}).get("to_la_id")
        if case_id in cases and isinstance(frm, int) and isinstance(to, int):
            moves[case_id].append((at, frm, to))
    return {case_id: LaHistory(moves[case_id][0][1] if moves[case_id] else la, tuple(moves[case_id]))
            for case_id, la in cases.items()}


@dataclass
class Request:
    """One request for an EHC needs assessment (an ``ehc_needs_assessment`` route) and the plan it led to; or, with
    no route (``instance_id`` None), a plan whose request is not recorded here (a plan drafted straight away)."""

    case_id: int
    instance_id: int | None
    la_id: int  # the authority responsible when the request was received
    started_at: datetime | None = None  # when the route started
    received_on: date | None = None
    received_from: str = ""
    requester_type: str | None = None
    decide: Any = None  # the decide_whether_to_assess deadline row
    plan: Any = None  # the final_plan_20w deadline row (not cancelled)
    plan_la_id: int | None = None  # the authority responsible when the plan was issued
    ended_at: datetime | None = None  # when the next request on the case started (documents after it are its)
    documents: list[Any] = field(default_factory=list)

    @property
    def statutory_start(self) -> date | None:
        """Local practice: the route's start date (after 5pm or a non-working day, the next working day)."""
        if self.decide is not None:
            return calendar.add_weeks(self.decide.due_date, -WEEKS_TO_DECIDE)
        if self.plan is not None:
            return calendar.add_weeks(self.plan.due_date, -WEEKS_TO_PLAN)
        return None

    @property
    def issued_on(self) -> date | None:
        return _day(self.plan.met_at) if self.plan is not None else None

    @property
    def due_on(self) -> date | None:
        """The DfE's 20-week date: 20 weeks after the day the request was received."""
        return calendar.add_weeks(self.received_on, WEEKS_TO_PLAN) if self.received_on else None

    @property
    def within_20_weeks(self) -> bool | None:
        """The DfE's measure; None until issued, or when the received date is not known."""
        issued, due = self.issued_on, self.due_on
        return None if issued is None or due is None else issued <= due

    @property
    def within_20_weeks_local(self) -> bool | None:
        """Local practice: the route's deadline (from the statutory start date) was not missed."""
        return None if self.issued_on is None else not self.plan.missed

    @property
    def exception(self) -> str:
        return (self.plan.exception_reason or "") if self.plan is not None else ""


def _received(session: Session, where: Any) -> tuple[dict[int, tuple[datetime, str | None]], dict[int, datetime]]:
    """The moment each assessment route's request was received: from the front door's request (and who made it), or
    from the start form of a route started by hand (``route_started_by_hand`` keeps it)."""
    front: dict[int, tuple[datetime, str | None]] = {}
    for instance_id, at, requester in session.execute(scoped(
            select(AssessmentRequest.instance_id, AssessmentRequest.received_at, AssessmentRequest.requester_type)
            .where(AssessmentRequest.instance_id.is_not(None), AssessmentRequest.received_at.is_not(None)),
            AssessmentRequest.case_id, where)):
        front[instance_id] = (at, requester)
    by_hand: dict[int, datetime] = {}
    for instance_id, detail in session.execute(scoped(
            select(AuditEvent.instance_id, AuditEvent.detail)
            .where(AuditEvent.action == HAND_START_EVENT, AuditEvent.instance_id.is_not(None)), AuditEvent.case_id,
            where)):
        text = (detail or {}).get("received_at")
        if (detail or {}).get("process_id") == ASSESSMENT and isinstance(text, str):
            try:
                moment = datetime.fromisoformat(text)
            except ValueError:
                continue
            if moment.tzinfo is not None:
                by_hand[instance_id] = moment
    return front, by_hand


def requests(session: Session, where: Any, histories: dict[int, LaHistory]) -> dict[int, list[Request]]:
    """case id -> its requests, oldest first, each with its deadlines and the authorities that received and issued."""
    instances: dict[int, Any] = {}
    for row in session.execute(scoped(
            select(ProcessInstance.id, ProcessInstance.case_id, ProcessInstance.process_id,
                   ProcessInstance.parent_instance_id, ProcessInstance.created_at)
            .where(ProcessInstance.process_id.in_((ASSESSMENT, PLAN_DRAFTING))), ProcessInstance.case_id, where)):
        instances[row.id] = row
    front, by_hand = _received(session, where)
    out: dict[int, list[Request]] = defaultdict(list)
    by_instance: dict[int, Request] = {}
    for inst in sorted((i for i in instances.values() if i.process_id == ASSESSMENT), key=lambda i: (i.created_at, i.id)):
        history = histories.get(inst.case_id)
        la = history.at(inst.created_at) if history else 0
        if inst.id in front:
            moment, requester = front[inst.id]
            received, source = _day(moment), FROM_FRONT_DOOR
        elif inst.id in by_hand:
            received, source, requester = _day(by_hand[inst.id]), FROM_START_FORM, None
        else:  # the route took the moment it started (its script's `now()` when no received_at was given)
            received, source, requester = _day(inst.created_at), FROM_ROUTE_START, None
        found = Request(inst.case_id, inst.id, la, inst.created_at, received, source, requester)
        if out[inst.case_id]:
            out[inst.case_id][-1].ended_at = inst.created_at
        out[inst.case_id].append(found)
        by_instance[inst.id] = found
    for d in session.execute(scoped(
            select(Deadline.id, Deadline.case_id, Deadline.key, Deadline.due_date, Deadline.met_at, Deadline.missed,
                   Deadline.status, Deadline.exception_reason, Deadline.instance_id, Deadline.started_on)
            .where(Deadline.key.in_((PLAN_KEY, DECIDE_KEY)), Deadline.status != "cancelled"), Deadline.case_id,
            where).order_by(Deadline.id)):
        owner = _owner(d, instances, by_instance, out[d.case_id])
        if owner is None:  # a plan with no request recorded here
            history = histories.get(d.case_id)
            owner = Request(d.case_id, None, history.at(d.met_at) if history else 0)
            out[d.case_id].append(owner)
        if d.key == DECIDE_KEY:
            owner.decide = d if owner.decide is None or owner.decide.id < d.id else owner.decide
        elif owner.plan is None or owner.plan.id < d.id:
            owner.plan = d
            history = histories.get(d.case_id)
            owner.plan_la_id = history.at(d.met_at) if history and d.met_at is not None else None
    return out


def _owner(d: Any, instances: dict[int, Any], by_instance: dict[int, Request], case_requests: list[Request]) \
        -> Request | None:
    """The request a deadline belongs to: its route's (or the assessment that started its plan drafting); a deadline
    with no route, the latest request started by the day the deadline was set."""
    seen: set[int] = set()
    current = d.instance_id
    while current is not None and current not in seen:
        seen.add(current)
        if current in by_instance:
            return by_instance[current]
        inst = instances.get(current)
        current = inst.parent_instance_id if inst is not None else None
    if d.instance_id is not None and d.instance_id in instances:
        return None  # a plan drafting route started without an assessment
    earlier = [r for r in case_requests if r.instance_id is not None and r.started_at is not None
               and (d.started_on is None or _day(r.started_at) <= d.started_on)]  # type: ignore[operator]
    return earlier[-1] if earlier else None


__all__ = ["FROM_FRONT_DOOR", "FROM_ROUTE_START", "FROM_START_FORM", "LaHistory", "Request", "WEEKS_TO_PLAN",
           "case_filter", "la_histories", "requests", "scoped"]
