"""Who holds a child's rights on a day, and so to whom the family's notices go: the parent, then the young person,
and a parent the young person has named to act for them (CoP 2.12–2.13)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import InvalidState, NotFound
from engine.people.access import ACTING_FOR_YOUNG_PERSON
from engine.statutory import calendar
from engine.store.models import CaseParty


def rights_holder(birth: calendar.DateLike | None, on: calendar.DateLike) -> str:
    """Who holds the rights on this day: "parent" until the end of compulsory school age (the last Friday in June of
    Year 11), "young_person" from the next day (CoP 2.12–2.13; subject to mental capacity)."""
    if birth is None:
        return "parent"
    return "young_person" if calendar.as_date(on) > calendar.end_of_compulsory_school_age(birth) else "parent"


def notice_addressee(birth: calendar.DateLike | None, on: calendar.DateLike,
                     young_person_named_parent: bool = False) -> str:
    """Whom a notice is addressed to: "parent"; "young_person"; or "parent_for_young_person" when the young person
    has named their parent to act for them (the notice is still the young person's, and goes to both)."""
    if rights_holder(birth, on) == "parent":
        return "parent"
    return "parent_for_young_person" if young_person_named_parent else "young_person"


#: The case party role that records a parent the young person has named to act for them (CoP 2.13: the young person
#: may ask their parent to act on their behalf). The row's ``user_id`` is the parent, who is also a family party.
NAMED_PARENT_ROLE = ACTING_FOR_YOUNG_PERSON


def name_parent_to_act(session: Session, case_id: int, user_id: int) -> CaseParty:
    """Records that the young person has named this parent (a family member on the case) to act for them. From the
    end of compulsory school age, notices then go to the young person and to that parent (engine/casework/documents.py)."""
    parent = session.scalars(select(CaseParty).where(
        CaseParty.case_id == case_id, CaseParty.role == "family", CaseParty.user_id == user_id,
        CaseParty.active.is_(True))).first()
    if parent is None:
        raise NotFound("Only a parent already on the case can be named to act for the young person")
    if (parent.relationship_to_child or "").lower() == "young person":
        raise InvalidState("The young person cannot be named to act for themselves")
    existing = session.scalars(select(CaseParty).where(
        CaseParty.case_id == case_id, CaseParty.role == NAMED_PARENT_ROLE, CaseParty.user_id == user_id,
        CaseParty.active.is_(True))).first()
    if existing is not None:
        return existing
    row = CaseParty(case_id=case_id, role=NAMED_PARENT_ROLE, user_id=user_id,
                    relationship_to_child=parent.relationship_to_child, active=True)
    session.add(row)
    session.flush()
    return row


def withdraw_named_parent(session: Session, case_id: int, user_id: int) -> bool:
    """The young person no longer wants this parent to act for them; True when a nomination was withdrawn."""
    rows = list(session.scalars(select(CaseParty).where(
        CaseParty.case_id == case_id, CaseParty.role == NAMED_PARENT_ROLE, CaseParty.user_id == user_id,
        CaseParty.active.is_(True))))
    for row in rows:
        row.active = False
    session.flush()
    return bool(rows)


__all__ = ["NAMED_PARENT_ROLE", "name_parent_to_act", "notice_addressee", "rights_holder", "withdraw_named_parent"]
