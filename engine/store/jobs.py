"""The timer worker's once-a-day jobs (engine/runtime/worker.py), kept beside engine/store/models.py on the same
metadata."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.store.models import Base


class DailyJobRun(Base):
    """The last day each once-a-day job of the timer worker ran (engine/runtime/worker.py). A worker claims the day with
    one conditional UPDATE, so of several workers exactly one runs the job each day."""

    __tablename__ = "daily_job_run"

    job: Mapped[str] = mapped_column(String(60), primary_key=True)
    last_run_on: Mapped[date | None] = mapped_column(Date)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
