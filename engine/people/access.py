"""Who may see a case and act on a task. The web UI asks these; the engine enforces them on every command."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.people.roles import ROLE_PARTY, Role
from engine.store.models import Case, CaseParty, HumanTask, Membership, User

LA_ROLES = frozenset(r.value for r, party in ROLE_PARTY.items() if party == "local_authority")


def roles_in(session: Session, user: User) -> set[tuple[int | None, str]]:
    return {(m.organisation_id, m.role) for m in session.scalars(select(Membership).where(Membership.user_id == user.id))}


def is_family_of(session: Session, user: User, case_id: int) -> bool:
    return session.scalars(
        select(CaseParty.id).where(CaseParty.case_id == case_id, CaseParty.user_id == user.id,
                                   CaseParty.role == "family", CaseParty.active.is_(True))
    ).first() is not None


def can_act_on_task(session: Session, user: User, task: HumanTask) -> bool:
    if not user.active or task.status != "open":
        return False
    if task.role == Role.FAMILY.value:
        return is_family_of(session, user, task.case_id)
    held = roles_in(session, user)
    is_manager = task.role in LA_ROLES and (task.organisation_id, Role.MANAGER.value) in held
    if task.assignee_id is not None and task.assignee_id != user.id and not is_manager:
        return False
    return (task.organisation_id, task.role) in held or is_manager


def can_see_case(session: Session, user: User, case: Case) -> bool:
    """Staff of the responsible LA, staff of organisations acting on the case, and the family on it."""
    if not user.active:
        return False
    held = roles_in(session, user)
    if any(org == case.la_id and role != Role.FAMILY.value for org, role in held):
        return True
    party_orgs = set(
        session.scalars(
            select(CaseParty.organisation_id).where(CaseParty.case_id == case.id, CaseParty.active.is_(True),
                                                    CaseParty.organisation_id.is_not(None))
        )
    )
    if any(org in party_orgs for org, _ in held):
        return True
    return is_family_of(session, user, case.id)
