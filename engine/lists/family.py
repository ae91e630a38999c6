"""Read-only queries for the family's view: their cases, the plan versions they have been sent, open deadlines."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from engine.lists.cases import ACTIVE_INSTANCE_STATUSES
from engine.lists.documents import case_documents
from engine.people.access import ACTING_FOR_YOUNG_PERSON
from engine.people.roles import Role
from engine.store.models import Case, CaseParty, Deadline, HumanTask, Organisation, PlanVersion, ProcessInstance


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
            HumanTask.case_id == case_row.id, HumanTask.status == "open", HumanTask.role == Role.FAMILY.value,
            _theirs_to_do(user_id, case_row.id))) or 0
        out.append(FamilyCase(case_row.id, case_row.reference, case_row.child_name, la_name,
                              party.relationship_to_child, routes, tasks))
    return out


def _theirs_to_do(user_id: int, case_id: int) -> ColumnElement[bool]:
    """Not a task the route gave the young person, unless it is theirs or they named this parent to act for them."""
    named = select(CaseParty.id).where(CaseParty.case_id == case_id, CaseParty.user_id == user_id,
                                       CaseParty.role == ACTING_FOR_YOUNG_PERSON, CaseParty.active.is_(True))
    return or_(HumanTask.assignee_id.is_(None), HumanTask.assignee_id == user_id, named.exists())


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


def open_deadlines(session: Session, case_id: int) -> list[Deadline]:
    return list(session.scalars(select(Deadline).where(Deadline.case_id == case_id, Deadline.status == "open")
                                .order_by(Deadline.due_date, Deadline.id)))


__all__ = ["FamilyCase", "family_cases", "family_plan_versions", "open_deadlines"]
