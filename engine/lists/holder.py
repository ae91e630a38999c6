"""Who the user is: the roles they hold, and the cases on which they are the family."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.people.roles import Role
from engine.store.models import CaseParty, Membership


@dataclass(frozen=True)
class Holder:
    """The roles a user holds, read once per request."""

    user_id: int
    roles: frozenset[tuple[int | None, str]]

    @property
    def organisation_ids(self) -> set[int]:
        return {org for org, _ in self.roles if org is not None}

    def has(self, org: int | None, role: Role | str) -> bool:
        return (org, str(role)) in self.roles

    @property
    def is_family(self) -> bool:
        return any(role == Role.FAMILY.value for _, role in self.roles)

    @property
    def is_staff(self) -> bool:
        return any(org is not None and role != Role.FAMILY.value for org, role in self.roles)

    def manages(self, org: int | None) -> bool:
        return org is not None and self.has(org, Role.MANAGER)

    def administers(self, org: int | None) -> bool:
        return org is not None and self.has(org, Role.ADMIN)


def holder(session: Session, user_id: int) -> Holder:
    rows = session.execute(select(Membership.organisation_id, Membership.role).where(Membership.user_id == user_id))
    return Holder(user_id, frozenset((org, role) for org, role in rows))


def family_case_ids(session: Session, user_id: int) -> set[int]:
    """The cases on which the user is an active family party (parent, carer or the young person)."""
    return set(session.scalars(select(CaseParty.case_id).where(CaseParty.user_id == user_id,
                                                               CaseParty.role == Role.FAMILY.value,
                                                               CaseParty.active.is_(True))))


__all__ = ["Holder", "family_case_ids", "holder"]
