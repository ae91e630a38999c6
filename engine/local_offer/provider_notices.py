"""Telling a provider what became of the change it proposed to its Local Offer entry.

The notice is an ``OrganisationNotice`` to the provider (a setting, a health body, a charity), read at ``/notices/``
by its staff, with an email through the outbox to each of them who keeps Local Offer entries (the provider roles
below). As every EHC Flow email, it only says that a notice is waiting and links to it; the notice says which entry,
the outcome and the LA's reason, escaped (the page cleans it again).
"""

from __future__ import annotations

from datetime import datetime
from html import escape

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.casework.notifications import ORGANISATION_NOTICE_PATH, SUBJECTS
from engine.people.roles import Role
from engine.store.local_offer import LocalOfferProposal
from engine.store.models import Membership, User
from engine.store.outbox import OrganisationNotice, OutboxEmail

#: The roles whose holders keep an organisation's Local Offer entries: a setting's SENCO, a health body's staff, a
#: charity's or other service's staff.
PROVIDER_ROLES = (Role.SCHOOL, Role.HEALTH, Role.LOCAL_OFFER_PROVIDER)
NOTICE_KIND = "local_offer_review"
#: The providers' list of their entries (webui/local_offer/provider.py), linked from the notice.
PROVIDER_PAGE = "/local-offer-provider/"
EMAIL_KIND = "organisation_notice"
TITLES = {
    "published": "Your change to “{title}” is published in the Local Offer",
    "returned": "{la} has asked you to change what you proposed for “{title}”",
    "rejected": "{la} did not publish your change to “{title}”",
}
OPENINGS = {
    "published": "{la} has published your change. The entry is marked as checked today.",
    "returned": "{la} has not published your change yet. Please change it and send it again.",
    "rejected": "{la} has decided not to publish your change. The entry stays as it was.",
}


def notice_key(proposal: LocalOfferProposal) -> str:
    return f"local_offer_proposal:{proposal.id}:{proposal.status}"


def tell_provider(session: Session, proposal: LocalOfferProposal, now: datetime) -> OrganisationNotice:
    """The notice of the proposal's outcome to its provider, and an email to each of its staff who keep entries; in
    the caller's transaction, once per proposal and outcome."""
    existing = session.scalars(select(OrganisationNotice).where(OrganisationNotice.key == notice_key(proposal))).first()
    if existing is not None:
        return existing
    names = {"title": proposal.entry.title, "la": proposal.entry.la.name}
    body = f"<p>{escape(OPENINGS[proposal.status].format(**names))}</p>"
    if proposal.reason:
        body += f"<h2>Their reason</h2><p>{escape(proposal.reason)}</p>"
    body += f'<p><a href="{PROVIDER_PAGE}">See your Local Offer entries</a>.</p>'
    notice = OrganisationNotice(key=notice_key(proposal), kind=NOTICE_KIND, organisation_id=proposal.provider_id,
                                recipient_role=Role.LOCAL_OFFER_PROVIDER.value, title=TITLES[proposal.status]
                                .format(**names)[:300], body_html=body, case_ids=[], issued_at=now)
    session.add(notice)
    session.flush()
    path = ORGANISATION_NOTICE_PATH.format(notice_id=notice.id)
    for user in _provider_staff(session, proposal.provider_id):
        row = OutboxEmail(key=f"{EMAIL_KIND}:{notice.id}:{user.id}", kind=EMAIL_KIND, to_user_id=user.id,
                          to_address=user.email, subject=SUBJECTS[EMAIL_KIND], body="", link_path=path, case_id=None,
                          created_at=now, status="pending", attempts=0, next_attempt_at=now)
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:  # already queued
            continue
    return notice


def _provider_staff(session: Session, organisation_id: int) -> list[User]:
    return list(session.scalars(
        select(User).join(Membership, Membership.user_id == User.id)
        .where(Membership.organisation_id == organisation_id, Membership.role.in_([r.value for r in PROVIDER_ROLES]),
               User.active.is_(True))
        .order_by(User.id)).unique())


__all__ = ["NOTICE_KIND", "PROVIDER_ROLES", "notice_key", "tell_provider"]
