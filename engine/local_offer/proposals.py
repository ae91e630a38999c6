"""Providers keep their own Local Offer entries up to date, and the LA reviews what they propose before it is shown.

A provider is the organisation an entry names as its ``provider`` (a health service, a charity), or, when it names
none, the school or college the education entry is about: its SENCO (role ``school``), a health body's staff (role
``health``) or a charity's staff (role ``local_offer_provider``) propose a change. The change is kept beside the
published entry as a ``LocalOfferProposal`` and never alters it: the LA's Local Offer editor reviews it on the route
``workflows/local_offer_review.bpmn`` (engine/local_offer/review_route.py) and publishes it (which also marks the
entry checked today, taking it off the review list), asks for changes or rejects it, with a reason; the provider is
told (engine/local_offer/provider_notices.py). An entry has at most one pending proposal;
proposing again replaces it. A provider may change what the entry says, never its category, its status, the setting
it is about or who provides it: those are the LA's.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from engine.errors import FormInvalid, NotFound
from engine.local_offer.categories import need_labels
from engine.local_offer.entries import clean_entry
from engine.store.local_offer import LocalOfferEntry, LocalOfferProposal

#: What a provider may change, with the label the LA's comparison shows.
PROVIDER_FIELDS: dict[str, str] = {
    "title": "Name", "needs": "Needs it is for", "age_from": "Youngest age", "age_to": "Oldest age", "area": "Area",
    "offers": "What it offers", "who_for": "Who it is for", "eligibility": "Eligibility",
    "how_to_access": "How to get it", "contact_name": "Contact name", "contact_email": "Contact email",
    "contact_phone": "Contact phone", "website": "Website", "opening_hours": "Opening hours", "cost": "Cost",
    "sen_report_url": "SEN information report",
}
#: The rest of an entry, kept as the LA set it when a proposal is checked.
LA_FIELDS = ("category", "status", "organisation_id", "provider_id")
STATUSES = ("pending", "published", "returned", "rejected")
#: What the LA may decide, and the status each gives the proposal.
DECISIONS = {"publish": "published", "return": "returned", "reject": "rejected"}
MAX_REASON = 2000


def provider_of(entry: LocalOfferEntry) -> int | None:
    """The organisation that keeps the entry up to date: the one named, else the setting it is about."""
    return entry.provider_id or entry.organisation_id


def entries_of_providers(session: Session, org_ids: Collection[int]) -> list[LocalOfferEntry]:
    """The entries these organisations provide, in any authority's Local Offer."""
    if not org_ids:
        return []
    ids = sorted(org_ids)
    return list(session.scalars(select(LocalOfferEntry).where(or_(
        LocalOfferEntry.provider_id.in_(ids),
        and_(LocalOfferEntry.provider_id.is_(None), LocalOfferEntry.organisation_id.in_(ids))))
        .order_by(LocalOfferEntry.title, LocalOfferEntry.id)))


def provider_entry(session: Session, org_ids: Collection[int], entry_id: int) -> LocalOfferEntry:
    """One of the providers' own entries; any other is "not found", so ids cannot be probed."""
    entry = session.get(LocalOfferEntry, entry_id)
    if entry is None or provider_of(entry) not in set(org_ids):
        raise NotFound("No such entry of yours in the Local Offer")
    return entry


def entry_values(entry: LocalOfferEntry) -> dict[str, Any]:
    """The entry as form values (what ``clean_entry`` reads)."""
    out: dict[str, Any] = {name: getattr(entry, name) for name in PROVIDER_FIELDS}
    out["needs"] = list(entry.needs or [])
    out.update(category=entry.category, status=entry.status, organisation_id=str(entry.organisation_id or ""),
               provider_id=str(entry.provider_id or ""))
    return out


def pending_of(session: Session, entry_id: int) -> LocalOfferProposal | None:
    return session.scalars(select(LocalOfferProposal).where(
        LocalOfferProposal.entry_id == entry_id, LocalOfferProposal.status == "pending")).first()


def latest_of(session: Session, entry_id: int) -> LocalOfferProposal | None:
    """The entry's newest proposal, whatever became of it (to tell the provider it was returned, and why)."""
    return session.scalars(select(LocalOfferProposal).where(LocalOfferProposal.entry_id == entry_id)
                           .order_by(LocalOfferProposal.proposed_at.desc(), LocalOfferProposal.id.desc())).first()


def propose(session: Session, entry: LocalOfferEntry, provider_id: int, data: dict[str, Any], now: datetime,
            user_id: int | None) -> LocalOfferProposal:
    """Keeps the provider's version of the entry for the LA to review; the published entry is unchanged. Proposing
    the entry as it is says "still right" (publishing that marks it checked). FormInvalid as the LA's form would."""
    if provider_of(entry) != provider_id:
        raise NotFound("No such entry of yours in the Local Offer")
    merged = {**entry_values(entry), **{name: data.get(name, "") for name in PROVIDER_FIELDS}}
    merged["needs"] = data.get("needs") or []
    cleaned = clean_entry(session, merged)
    changes = {name: cleaned[name] for name in PROVIDER_FIELDS}
    row = pending_of(session, entry.id)
    if row is None:
        row = LocalOfferProposal(entry_id=entry.id, status="pending", reason="")
        session.add(row)
    row.provider_id, row.changes, row.proposed_at, row.proposed_by_id = provider_id, changes, now, user_id
    session.flush()
    return row


@dataclass(frozen=True)
class Difference:
    label: str
    published: str
    proposed: str


def _shown(name: str, value: Any) -> str:
    if name == "needs":
        return ", ".join(need_labels(list(value or [])))
    return "" if value is None else str(value)


def differences(proposal: LocalOfferProposal) -> list[Difference]:
    """What the proposal would change in the published entry, field by field (nothing: "still right")."""
    entry = proposal.entry
    out = []
    for name, label in PROVIDER_FIELDS.items():
        now_shown, then_shown = _shown(name, getattr(entry, name)), _shown(name, (proposal.changes or {}).get(name))
        if now_shown != then_shown:
            out.append(Difference(label, now_shown, then_shown))
    return out


def pending_for(session: Session, la_id: int) -> list[LocalOfferProposal]:
    """The LA's proposals waiting for review, the oldest first."""
    return list(session.scalars(select(LocalOfferProposal).join(LocalOfferEntry).where(
        LocalOfferEntry.la_id == la_id, LocalOfferProposal.status == "pending")
        .order_by(LocalOfferProposal.proposed_at, LocalOfferProposal.id)))


def proposal_of(session: Session, la_id: int, proposal_id: int) -> LocalOfferProposal:
    row = session.get(LocalOfferProposal, proposal_id)
    if row is None or row.entry.la_id != la_id:
        raise NotFound("No such proposed change")
    return row


def decide(session: Session, proposal: LocalOfferProposal, decision: str, reason: str, now: datetime, today: date,
           user_id: int | None) -> None:
    """Carries out the LA's review (the outcome of workflows/local_offer_review.bpmn, engine/local_offer/review_route.py):
    ``publish`` puts the change into the entry and marks it checked today; ``return`` sends it back to the provider
    to change, ``reject`` refuses it, each with the reason (required). Only a pending proposal is decided."""
    reason = (reason or "").replace("\r\n", "\n").strip()
    errors: dict[str, str] = {}
    if proposal.status != "pending":
        errors["decision"] = "This change has already been reviewed"
    elif decision not in DECISIONS:
        errors["decision"] = "Select whether to publish the change, ask for changes or reject it"
    elif decision != "publish" and not reason:
        errors["reason"] = "Enter why, so the provider can put it right"
    if len(reason) > MAX_REASON:
        errors["reason"] = f"Use {MAX_REASON} characters or fewer"
    if errors:
        raise FormInvalid(errors)
    entry = proposal.entry
    if decision == "publish":
        values = clean_entry(session, {**entry_values(entry), **(proposal.changes or {})})
        for name in PROVIDER_FIELDS:
            setattr(entry, name, values[name])
        entry.last_checked_on, entry.updated_at, entry.updated_by_id = today, now, user_id
    proposal.status = DECISIONS[decision]
    proposal.reason = reason
    proposal.decided_at, proposal.decided_by_id = now, user_id
    session.flush()


__all__ = ["DECISIONS", "LA_FIELDS", "PROVIDER_FIELDS", "STATUSES", "Difference", "decide", "differences",
           "entries_of_providers", "entry_values", "latest_of", "pending_for", "pending_of", "propose", "proposal_of",
           "provider_entry", "provider_of"]
