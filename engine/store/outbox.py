"""What is sent rather than worked on, kept beside engine/store/models.py on the same metadata: emails waiting in
the outbox (sent by the worker) and notices to organisations about no single case."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.store.models import Base, Organisation


class OutboxEmail(Base):
    """An email waiting to be sent (or sent): filled by engine.casework.notifications, sent by the worker.

    ``key`` makes queueing idempotent (one email per event and recipient). The body holds nothing personal beyond a
    link: the recipient signs in to see what it is about.
    """

    __tablename__ = "outbox_email"
    __table_args__ = (Index("ix_outbox_email_status_next", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    # task_opened, task_assigned, task_due_soon, task_overdue, document_issued
    kind: Mapped[str] = mapped_column(String(40))
    to_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    to_address: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    link_path: Mapped[str] = mapped_column(String(300))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case_record.id"), index=True)
    created_at: Mapped[datetime]
    # pending, sent, failed (gave up after the last attempt)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class OrganisationNotice(Base):
    """A notice to an organisation that is about no single case, such as the termly list of reviews due
    (engine/casework/termly_review_lists.py). ``key`` makes sending it idempotent: one notice per list and recipient
    organisation."""

    __tablename__ = "organisation_notice"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(60))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    # The part the organisation plays for the cases listed: setting, health_body or social_care.
    recipient_role: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300))
    body_html: Mapped[str] = mapped_column(Text)
    case_ids: Mapped[list[Any]]
    issued_at: Mapped[datetime]

    organisation: Mapped[Organisation] = relationship()
