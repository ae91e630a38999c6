"""The review scheduler: the reviews coming on every case, from its statutory clock, and starting them when due.

``start_due_reviews`` runs once a day in the timer worker (engine/runtime/worker.py).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.casework.reviews import REVIEW_INTERVAL_MONTHS, ReviewSchedule, schedule_review
from engine.errors import InstanceFailed
from engine.statutory import calendar
from engine.store.models import ACTIVE_STATUSES, Case, CaseParty, Deadline, ProcessInstance

if TYPE_CHECKING:
    from engine.runtime.workflow_engine import WorkflowEngine

log = logging.getLogger(__name__)

REVIEW_DEADLINE_KEY = "annual_review"


@dataclass(frozen=True)
class DueReview:
    """A case's next review, from the open ``annual_review`` row on its statutory clock."""

    case_id: int
    reference: str
    child_name: str
    la_id: int
    deadline_id: int
    schedule: ReviewSchedule
    setting_ids: tuple[int, ...] = ()
    health_body_ids: tuple[int, ...] = ()


def due_reviews(session: Session, la_id: int | None = None, due_by: date | None = None) -> list[DueReview]:
    """Every case whose plan has a review coming (an open ``annual_review`` deadline), soonest first."""
    query = (select(Deadline, Case).join(Case, Case.id == Deadline.case_id)
             .where(Deadline.key == REVIEW_DEADLINE_KEY, Deadline.status == "open", Case.status == "open"))
    if la_id is not None:
        query = query.where(Case.la_id == la_id)
    rows = session.execute(query.order_by(Deadline.due_date, Deadline.id)).all()
    parties: dict[int, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    case_ids = [case.id for _, case in rows]
    if case_ids:
        for party in session.scalars(select(CaseParty).where(CaseParty.case_id.in_(case_ids),
                                                             CaseParty.active.is_(True),
                                                             CaseParty.organisation_id.is_not(None))):
            parties[party.case_id][party.role].append(party.organisation_id)  # type: ignore[arg-type]
    found: list[DueReview] = []
    for row, case in rows:
        # The row's start is the day it was opened: the plan's issue or the last review decision.
        last = row.started_on or calendar.add_months(row.due_date, -REVIEW_INTERVAL_MONTHS)
        schedule = schedule_review(last, case.date_of_birth, statutory_due=row.due_date)
        if due_by is not None and schedule.due > due_by:
            continue
        found.append(DueReview(case.id, case.reference, case.child_name, case.la_id, row.id, schedule,
                               tuple(parties[case.id]["setting"]), tuple(parties[case.id]["health_body"])))
    return sorted(found, key=lambda r: (r.schedule.due, r.case_id))


def _active_review_cases(session: Session, case_ids: Iterable[int]) -> set[int]:
    ids = list(case_ids)
    if not ids:
        return set()
    return set(session.scalars(select(ProcessInstance.case_id).where(
        ProcessInstance.case_id.in_(ids), ProcessInstance.process_id == "annual_review",
        ProcessInstance.status.in_((*ACTIVE_STATUSES, "suspended", "failed")))))


def start_due_reviews(engine: WorkflowEngine, today: date | None = None, la_id: int | None = None) -> list[int]:
    """Starts ``annual_review`` on every case whose review start date has come and that has no review running.

    Meant to run once a day (the timer worker or cron). Returns the ids of the instances started. A review that is
    already running (an early review, or one started by hand) is left alone: it meets the same deadline.
    """
    today = today or engine.clock.today()
    with engine.session_factory() as session:
        due = [r for r in due_reviews(session, la_id) if r.schedule.start_on <= today]
        busy = _active_review_cases(session, (r.case_id for r in due))
    started: list[int] = []
    for review in due:
        if review.case_id in busy:
            continue
        data = review.schedule.start_data()
        data["arranged_by"] = "setting" if review.setting_ids else "la"
        try:
            started.append(engine.start(review.case_id, "annual_review", data))
        except InstanceFailed:
            # Recorded as an incident on a failed instance, which an admin retries; the other cases go ahead.
            log.exception("the review of case %s could not be started", review.reference)
        busy.add(review.case_id)
    return started


__all__ = ["DueReview", "due_reviews", "start_due_reviews"]
