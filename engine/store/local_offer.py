"""The Local Offer (Code of Practice chapter 4): an authority's public directory of provision, its fixed pages and the
comments it publishes with its response (engine/local_offer). Kept beside engine/store/models.py, on the same metadata."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.store.models import Base, Organisation


class LocalOfferEntry(Base):
    """One service or setting in an LA's Local Offer (Code of Practice 4.30-4.62). An education entry for a school or
    college points at its ``organisation`` row, the same record plan drafting names in section I, so the directory
    and the settings list are never two lists. Shown to the public only when ``status`` is ``published``."""

    __tablename__ = "local_offer_entry"
    __table_args__ = (Index("ix_local_offer_entry_la_status", "la_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    la_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    # Who keeps the entry up to date (a health body, a charity): its staff propose changes for the LA to review
    # (engine/local_offer/proposals.py). None: the setting it is about, if any, else only the LA.
    provider_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    # A code of engine/local_offer/categories.py CATEGORIES.
    category: Mapped[str] = mapped_column(String(40), index=True)
    # Codes of engine/local_offer/categories.py NEEDS; empty means every need.
    needs: Mapped[list[Any]]
    age_from: Mapped[int] = mapped_column(Integer, default=0)
    age_to: Mapped[int] = mapped_column(Integer, default=25)
    area: Mapped[str] = mapped_column(String(100), default="")
    offers: Mapped[str] = mapped_column(Text, default="")
    who_for: Mapped[str] = mapped_column(Text, default="")
    eligibility: Mapped[str] = mapped_column(Text, default="")
    how_to_access: Mapped[str] = mapped_column(Text, default="")
    contact_name: Mapped[str] = mapped_column(String(200), default="")
    contact_email: Mapped[str] = mapped_column(String(200), default="")
    contact_phone: Mapped[str] = mapped_column(String(40), default="")
    website: Mapped[str] = mapped_column(String(300), default="")
    opening_hours: Mapped[str] = mapped_column(Text, default="")
    cost: Mapped[str] = mapped_column(Text, default="")
    # A school's or college's own SEN information report (regulation 51), linked, never copied.
    sen_report_url: Mapped[str] = mapped_column(String(300), default="")
    last_checked_on: Mapped[date | None] = mapped_column(Date)
    # draft, published
    status: Mapped[str] = mapped_column(String(20), default="draft")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    organisation: Mapped[Organisation | None] = relationship(foreign_keys=[organisation_id])
    provider: Mapped[Organisation | None] = relationship(foreign_keys=[provider_id])
    la: Mapped[Organisation] = relationship(foreign_keys=[la_id])


class LocalOfferPage(Base):
    """A fixed page of an LA's Local Offer (how to request an assessment, how to complain...), written by the LA in
    plain text with a few marks (engine/local_offer/pages.py), never as HTML."""

    __tablename__ = "local_offer_page"
    __table_args__ = (UniqueConstraint("la_id", "slug"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    la_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    slug: Mapped[str] = mapped_column(String(60))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime]
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class LocalOfferComment(Base):
    """A comment on an LA's Local Offer, and the LA's response and action ("You said, we did", Code 4.27). No name or
    address is asked for; ``client_key`` is a keyed hash of the sender's connection, kept only to throttle."""

    __tablename__ = "local_offer_comment"
    __table_args__ = (Index("ix_local_offer_comment_la_status", "la_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    la_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    text: Mapped[str] = mapped_column(Text)
    # The year it is published under: the calendar year it was received.
    year: Mapped[int] = mapped_column(Integer)
    received_at: Mapped[datetime]
    client_key: Mapped[str] = mapped_column(String(64), index=True)
    # pending, published, rejected
    status: Mapped[str] = mapped_column(String(20), default="pending")
    response: Mapped[str] = mapped_column(Text, default="")
    action: Mapped[str] = mapped_column(Text, default="")
    moderated_at: Mapped[datetime | None]
    moderated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class LocalOfferProposal(Base):
    """A provider's change to its own entry, kept beside the published entry (which it never alters) until the LA's
    editor publishes it or returns it with a reason (engine/local_offer/proposals.py). ``changes`` holds the fields a
    provider may change, as checked when proposed."""

    __tablename__ = "local_offer_proposal"
    __table_args__ = (Index("ix_local_offer_proposal_entry_status", "entry_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("local_offer_entry.id"))
    provider_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    changes: Mapped[dict[str, Any]]
    # pending, published, returned (the provider may send it again), rejected
    status: Mapped[str] = mapped_column(String(20), default="pending")
    # Why the LA returned or rejected it, shown to the provider.
    reason: Mapped[str] = mapped_column(Text, default="")
    proposed_at: Mapped[datetime]
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None]
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # The review route (workflows/local_offer_review.bpmn, engine/local_offer/review_route.py): the deployed version
    # it runs on and its saved state. It is about an entry, not a child, so it is kept here rather than as a case's
    # process instance. None: proposed before the route existed (migration 0018).
    route_version_id: Mapped[int | None] = mapped_column(ForeignKey("process_version.id"))
    route_state: Mapped[str | None] = mapped_column(Text)
    # When the editor's review task is due (the route's dueDate), for the editor's list.
    review_due_on: Mapped[date | None] = mapped_column(Date)

    entry: Mapped[LocalOfferEntry] = relationship()
    provider: Mapped[Organisation] = relationship()
