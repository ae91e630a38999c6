"""A case's contact log (engine/casework/case_notes.py), kept beside engine/store/models.py on the same metadata."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from engine.store.models import Base


class CaseNote(Base):
    """An entry in a case's contact log (engine/casework/case_notes.py): a call, email, meeting, letter or visit, who it
    was with, when, and what was said. Read only by the responsible authority's caseworkers and managers; never changed
    (a correction is a new entry)."""

    __tablename__ = "case_note"
    __table_args__ = (Index("ix_case_note_case_happened", "case_id", "happened_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case_record.id"))
    # call, email, meeting, letter, visit, other
    kind: Mapped[str] = mapped_column(String(20))
    happened_on: Mapped[date] = mapped_column(Date)
    with_whom: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[datetime]
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
