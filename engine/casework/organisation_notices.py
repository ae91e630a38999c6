"""Notices to an organisation that are about no single case (the termly list of reviews due): who may read them."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.lists.holder import Holder
from engine.people.roles import Role
from engine.store.outbox import OrganisationNotice


def _staff_organisations(who: Holder) -> set[int]:
    return {org for org, role in who.roles if org is not None and role != Role.FAMILY.value}


def notices_for(session: Session, who: Holder, limit: int = 100) -> list[OrganisationNotice]:
    """The newest notices to the organisations the user works for."""
    orgs = _staff_organisations(who)
    if not orgs:
        return []
    return list(session.scalars(select(OrganisationNotice).where(OrganisationNotice.organisation_id.in_(orgs))
                                .order_by(OrganisationNotice.issued_at.desc(), OrganisationNotice.id.desc())
                                .limit(limit)))


def notice_for(session: Session, who: Holder, notice_id: int) -> OrganisationNotice | None:
    """The notice, when it was sent to an organisation the user works for; otherwise None (shown as not found)."""
    notice = session.get(OrganisationNotice, notice_id)
    if notice is None or notice.organisation_id not in _staff_organisations(who):
        return None
    return notice
