"""A setting's notional SEN budget by financial year (engine/casework/sen_support_budget.py), kept beside
engine/store/models.py on the same metadata."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from engine.store.models import Base


class SenBudget(Base):
    """What a school or setting has in its budget for SEN support in one financial year (the "notional SEN budget"
    of its funding), as its SENCO records it, so that the provision map can be set against it. Whole pounds."""

    __tablename__ = "sen_support_budget"
    __table_args__ = (UniqueConstraint("organisation_id", "year_from", name="uq_sen_support_budget_year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    year_from: Mapped[int] = mapped_column(Integer)  # the financial year starting on 1 April of this year
    amount: Mapped[int] = mapped_column(Integer)
    recorded_at: Mapped[datetime]
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
