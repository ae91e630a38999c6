"""A young person naming a parent to act for them (CoP 2.13): done by the young person from their own pages, or
recorded by the responsible authority when the young person asks it to.

From the day after the end of compulsory school age the rights, and the notices, are the young person's
(engine/casework/documents.py); a parent they name also gets every notice. Before that day the parents have the rights
anyway, so a nomination is refused then rather than recorded to no effect.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.casework.documents import long_date
from engine.casework.family_rights import NAMED_PARENT_ROLE, name_parent_to_act, withdraw_named_parent
from engine.errors import InvalidState, NotFound
from engine.statutory import calendar
from engine.store.models import AuditEvent, Case, CaseParty, User


@dataclass(frozen=True)
class FamilyMember:
    user_id: int
    name: str
    relationship: str | None
    named: bool  # named by the young person to act for them


def rights_pass_on(case: Case) -> date | None:
    """The first day the rights are the young person's (None when the date of birth is not recorded)."""
    if case.date_of_birth is None:
        return None
    return calendar.add_days(calendar.end_of_compulsory_school_age(case.date_of_birth), 1)


def parents(session: Session, case_id: int) -> list[FamilyMember]:
    """The family members on the case who could be named (everyone but the young person)."""
    named = set(session.scalars(select(CaseParty.user_id).where(
        CaseParty.case_id == case_id, CaseParty.role == NAMED_PARENT_ROLE, CaseParty.active.is_(True))))
    rows = session.execute(select(CaseParty, User).join(User, User.id == CaseParty.user_id).where(
        CaseParty.case_id == case_id, CaseParty.role == "family", CaseParty.active.is_(True)).order_by(CaseParty.id))
    return [FamilyMember(user.id, user.name, party.relationship_to_child, user.id in named)
            for party, user in rows if (party.relationship_to_child or "").lower() != "young person"]


def is_the_young_person(session: Session, case_id: int, user_id: int) -> bool:
    """The user is the young person of the case (their own family party), who alone names a parent for themselves."""
    return session.scalars(select(CaseParty.id).where(
        CaseParty.case_id == case_id, CaseParty.role == "family", CaseParty.user_id == user_id,
        CaseParty.active.is_(True), func.lower(CaseParty.relationship_to_child) == "young person")).first() is not None


def set_named_parent(session: Session, case: Case, user_id: int, named: bool, actor: User, now: datetime) -> None:
    """Records (or withdraws) the young person's nomination of a parent, with an audit event; the caller commits."""
    starts = rights_pass_on(case)
    today = calendar.to_london_date(now)
    if starts is None:
        raise InvalidState("Record the child's date of birth first: the rights pass to the young person at the end "
                           "of compulsory school age")
    if today < starts:
        raise InvalidState(f"Until {long_date(starts)} the parents have the rights and get the notices; "
                           "a young person can name a parent to act for them from that day")
    member = next((m for m in parents(session, case.id) if m.user_id == user_id), None)
    if member is None:
        raise NotFound("Only a parent already on the case can be named to act for the young person")
    if named:
        if member.named:
            raise InvalidState(f"{member.name} is already named to act for the young person")
        name_parent_to_act(session, case.id, user_id)
        action, summary = "parent_named", f"The young person named {member.name} to act for them"
    else:
        if not withdraw_named_parent(session, case.id, user_id):
            raise InvalidState(f"{member.name} is not named to act for the young person")
        action, summary = "parent_nomination_withdrawn", f"The young person no longer wants {member.name} to act " \
                                                         "for them"
    session.add(AuditEvent(at=now, case_id=case.id, actor_id=actor.id, action=action, summary=summary,
                           detail={"user_id": user_id}))
