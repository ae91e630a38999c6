"""Statutory deadlines: timescale exceptions and the queries the case page and reports use.

An exception does not stop the clock (regulation 10(4) and friends say the LA "need not comply with the time limit"
when it is impractical because of one of the listed reasons): the deadline keeps its date and is reported both with
and without exceptions, as the national statistics are.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import FormInvalid, InvalidState, NotAllowed, NotFound
from engine.people.access import roles_in
from engine.people.roles import Role
from engine.statutory import calendar
from engine.statutory.clock import Clock
from engine.store.models import AuditEvent, Case, Deadline, User

EXCEPTION_REASONS: dict[str, str] = {
    "setting_closed": "The school or setting was closed for four weeks or more (regulation 10(4)(a)/(b))",
    "exceptional_personal_circumstances": "Exceptional personal circumstances of the child, parent or young person "
                                          "(regulation 10(4)(c))",
    "absent_from_area": "The child, parent or young person was away from the area for four weeks or more "
                        "(regulation 10(4)(d))",
    "missed_appointment": "The child or young person did not keep an appointment for an examination or test "
                          "(regulation 8(2)(c), advice requests only)",
}


def claim_exception(session: Session, clock: Clock, deadline_id: int, reason: str, detail: str,
                    family_told_on: date | str | None, actor: User | None) -> Deadline:
    row = session.get(Deadline, deadline_id)
    if row is None:
        raise NotFound("No such deadline")
    if actor is not None:
        case = session.get(Case, row.case_id)
        held = roles_in(session, actor)
        if case is None or not ({(case.la_id, Role.CASEWORKER.value), (case.la_id, Role.MANAGER.value)} & held):
            raise NotAllowed("Only the responsible local authority's caseworkers and managers can claim an exception")
    errors: dict[str, str] = {}
    if reason not in EXCEPTION_REASONS:
        errors["reason"] = "Select the reason the timescale could not be met"
    elif reason == "missed_appointment" and not row.key.startswith("advice"):
        errors["reason"] = "A missed appointment is a reason only for an advice request"
    if not detail.strip():
        errors["detail"] = "Enter the evidence for the exception"
    told: date | None = None
    if not family_told_on:
        errors["family_told_on"] = "Enter the date the family was told"
    else:
        try:
            told = calendar.as_date(family_told_on)
        except ValueError:
            errors["family_told_on"] = "Enter the date the family was told as a real date"
        else:
            if told > clock.today():
                errors["family_told_on"] = "The date the family was told must be today or in the past"
    if errors:
        raise FormInvalid(errors)
    if row.status == "cancelled":
        raise InvalidState("This deadline no longer applies")
    if row.exception_reason:
        raise InvalidState("An exception is already recorded for this deadline")
    row.exception_reason = reason
    row.exception_detail = detail.strip()
    row.exception_family_told_on = told
    row.exception_claimed_at = clock.now()
    row.exception_claimed_by_id = actor.id if actor else None
    session.add(AuditEvent(at=clock.now(), case_id=row.case_id, instance_id=row.instance_id,
                           actor_id=actor.id if actor else None, action="exception_claimed",
                           summary=f"Timescale exception recorded for {row.name}: {EXCEPTION_REASONS[reason]}",
                           detail={"deadline_id": row.id, "reason": reason}))
    return row


def deadlines_for_case(session: Session, case_id: int) -> list[Deadline]:
    return list(session.scalars(select(Deadline).where(Deadline.case_id == case_id)
                                .order_by(Deadline.due_date, Deadline.id)))


def deadline_state(row: Deadline, today: date, due_soon_days: int = 7) -> str:
    """For display: met, missed, missed with exception, overdue, due soon, due, or no longer applies."""
    if row.status == "cancelled":
        return "no longer applies"
    if row.status == "met":
        return "met"
    if row.missed or row.status == "missed":
        return "missed (exception claimed)" if row.exception_reason else "missed"
    if today > row.due_date:
        return "overdue"
    if (row.due_date - today).days <= due_soon_days:
        return "due soon"
    return "due"
