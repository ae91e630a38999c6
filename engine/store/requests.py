"""The way in: requests for an EHC needs assessment as they arrive (online or recorded by the LA), and the one-off
tokens that let a family set the password of an account a request created."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engine.store.models import Base, Case, Organisation, User


class AssessmentRequest(Base):
    """A request for an EHC needs assessment (CoP 9.8–9.11), or a child brought to the LA's attention.

    ``status``: ``draft`` (being filled in online; found by the hash of a token kept in the requester's session),
    ``new`` (received, waiting for a caseworker), ``registered`` (a case holds it and the assessment has started) or
    ``closed`` (not taken forward, with the reason). ``received_at`` is the exact moment the LA received it: it starts
    the statutory clock.
    """

    __tablename__ = "assessment_request"
    __table_args__ = (Index("ix_assessment_request_la_status", "la_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str | None] = mapped_column(String(40), unique=True)
    la_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    status: Mapped[str] = mapped_column(String(20), default="draft")
    # online, email, post, phone, in_person
    channel: Mapped[str] = mapped_column(String(20), default="online")
    received_at: Mapped[datetime | None]
    # parent, young_person, setting, other
    requester_type: Mapped[str | None] = mapped_column(String(20))
    requester_name: Mapped[str | None] = mapped_column(String(200))
    requester_email: Mapped[str | None] = mapped_column(String(200))
    requester_phone: Mapped[str | None] = mapped_column(String(40))
    relationship_to_child: Mapped[str | None] = mapped_column(String(80))
    requester_user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    requester_org_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    child_first_name: Mapped[str | None] = mapped_column(String(100))
    child_last_name: Mapped[str | None] = mapped_column(String(100))
    child_date_of_birth: Mapped[date | None] = mapped_column(Date)
    child_address: Mapped[str | None] = mapped_column(Text)
    child_postcode: Mapped[str | None] = mapped_column(String(10))
    child_upn: Mapped[str | None] = mapped_column(String(13))
    setting_name: Mapped[str | None] = mapped_column(String(200))
    setting_org_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    # The answers that are text: views, consent, the help tried so far, anything urgent (engine/intake/answers.py).
    answers: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Uploaded reports: [{token, filename, size}] (webui/uploads.py stores the files).
    attachments: Mapped[list[Any]] = mapped_column(default=list)
    draft_token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case_record.id"), index=True)
    instance_id: Mapped[int | None] = mapped_column(ForeignKey("process_instance.id"))
    registered_at: Mapped[datetime | None]
    registered_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    closed_at: Mapped[datetime | None]
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    closed_reason: Mapped[str | None] = mapped_column(Text)

    la: Mapped[Organisation] = relationship(foreign_keys=[la_id])
    case: Mapped[Case | None] = relationship()
    requester_user: Mapped[User | None] = relationship(foreign_keys=[requester_user_id])

    @property
    def child_name(self) -> str:
        return " ".join(p for p in (self.child_first_name, self.child_last_name) if p)


class AccountToken(Base):
    """A one-off link to set a password (an account a request created has none). Only the SHA-256 of the token is
    kept; it works once and until ``expires_at``."""

    __tablename__ = "account_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(20), default="set_password")
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()
