"""The termly lists of reviews due (CoP 9.172): one notice per term to each school or college, health body and the
LA's social care, sent by the timer worker (engine/runtime/worker.py)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING

from jinja2 import Environment, StrictUndefined
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.casework import documents, notifications
from engine.casework.review_scheduler import DueReview, due_reviews
from engine.casework.review_terms import TERM_DATES, Term, term_window, terms_to_send
from engine.statutory import calendar
from engine.store.models import Organisation
from engine.store.outbox import OrganisationNotice

if TYPE_CHECKING:
    from engine.runtime.workflow_engine import WorkflowEngine

log = logging.getLogger(__name__)


@dataclass
class TermlyReviewList:
    """The reviews due in a term, as each recipient gets them (CoP 9.172): each school or college its own pupils,
    each health body its patients, and the LA's social care team every child."""

    term: Term
    send_by: date
    reviews: list[DueReview] = field(default_factory=list)
    by_setting: dict[int, list[DueReview]] = field(default_factory=dict)
    by_health_body: dict[int, list[DueReview]] = field(default_factory=dict)
    not_in_a_setting: list[DueReview] = field(default_factory=list)


def termly_review_list(session: Session, term: Term, la_id: int | None = None,
                       terms: tuple[Term, ...] = TERM_DATES) -> TermlyReviewList:
    """The reviews due in a term (including the holiday before it), for the list sent two weeks before it starts."""
    first, last = term_window(term, terms)
    listing = TermlyReviewList(term, term.list_due)
    for review in due_reviews(session, la_id, due_by=last):
        if review.schedule.due < first:
            continue  # belongs to an earlier term's list (or is already overdue)
        listing.reviews.append(review)
        for setting_id in review.setting_ids:
            listing.by_setting.setdefault(setting_id, []).append(review)
        for health_id in review.health_body_ids:
            listing.by_health_body.setdefault(health_id, []).append(review)
        if not review.setting_ids:
            listing.not_in_a_setting.append(review)
    return listing


TERMLY_LIST_KIND = "termly_review_list"

REVIEW_KIND_NAMES: Mapping[str, str] = {
    "annual": "Annual review",
    "under_five": "Review (under five)",
    "phase_transfer": "Phase-transfer review",
}

_LIST_ENV = Environment(autoescape=True, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
_LIST_ENV.filters["long_date"] = documents.long_date
_LIST_TEMPLATE = _LIST_ENV.from_string("""\
<article class="ehc-document">
  <header class="ehc-document__header">
    <p class="ehc-document__from">{{ la.name }}</p>
    <p class="ehc-document__date">{{ issued_on | long_date }}</p>
    <p class="ehc-document__to">To: {{ organisation_name }}</p>
  </header>
  <h1 class="ehc-document__title">{{ title }}</h1>
  <p>These reviews of education, health and care plans are due in {{ term.name }}, which starts on
  {{ term.starts | long_date }} (or in the holiday before it: reviews due from {{ first | long_date }} to
  {{ term.ends | long_date }}). {{ role_note }}</p>
  <table class="govuk-table">
    <thead class="govuk-table__head"><tr class="govuk-table__row">
      <th scope="col" class="govuk-table__header">Child or young person</th>
      <th scope="col" class="govuk-table__header">Our reference</th>
      <th scope="col" class="govuk-table__header">Review</th>
      <th scope="col" class="govuk-table__header">Due by</th>
    </tr></thead>
    <tbody class="govuk-table__body">
{% for review in reviews %}
      <tr class="govuk-table__row">
        <td class="govuk-table__cell">{{ review.child_name }}</td>
        <td class="govuk-table__cell">{{ review.reference }}</td>
        <td class="govuk-table__cell">{{ kinds[review.schedule.kind] }}</td>
        <td class="govuk-table__cell">{{ review.schedule.due | long_date }}</td>
      </tr>
{% endfor %}
    </tbody>
  </table>
  <footer class="ehc-document__footer"><p>Special educational needs team, {{ la.name }}</p></footer>
</article>
""")

_ROLE_NOTES: Mapping[str, str] = {
    "setting": "As the school or college, you arrange each review meeting, with two weeks' notice.",
    "health_body": "Please be ready to give health advice for each review and to attend the meetings.",
    "social_care": "Please be ready to give social care advice for each review and to attend the meetings.",
}


def send_termly_review_lists(engine: WorkflowEngine, today: date | None = None,
                             terms: tuple[Term, ...] = TERM_DATES) -> list[int]:
    """Sends each term's list of reviews due (CoP 9.172) to every school or college, health body and the LA's social
    care, once per term and recipient organisation; returns the ids of the notices made.

    Run once a day by the timer worker: a list goes on the term's ``send_on`` day (or later, if the worker was down).
    Each list is an ``OrganisationNotice`` (not tied to one case), and each person with the recipient's role there
    gets an email saying it is ready (engine/casework/notifications.py).
    """
    today = today or engine.clock.today()
    now = engine.clock.now()
    made: list[int] = []
    if all(term.starts <= today for term in terms):
        log.warning("TERM_DATES (engine/casework/review_terms.py) has no term after %s: no termly lists can be sent "
                    "until the next terms are added", today.isoformat())
    for term in terms_to_send(today, terms):
        with engine.session_factory() as session:
            las = session.scalars(select(Organisation).where(Organisation.kind == "local_authority",
                                                             Organisation.active.is_(True)).order_by(Organisation.id))
            for la in list(las):
                listing = termly_review_list(session, term, la.id, terms)
                if not listing.reviews:
                    continue
                recipients = [*(("setting", org_id, rows) for org_id, rows in listing.by_setting.items()),
                              *(("health_body", org_id, rows) for org_id, rows in listing.by_health_body.items()),
                              ("social_care", la.id, listing.reviews)]
                for role, org_id, rows in recipients:
                    notice = _termly_notice(session, term, la, role, org_id, rows, now, terms)
                    if notice is not None:
                        notifications.queue_organisation_notice(session, notice, now)
                        made.append(notice.id)
            session.commit()
    return made


def _termly_notice(session: Session, term: Term, la: Organisation, role: str, org_id: int, rows: list[DueReview],
                   now: datetime, terms: tuple[Term, ...]) -> OrganisationNotice | None:
    key = f"{TERMLY_LIST_KIND}:{term.starts.isoformat()}:{role}:{org_id}"
    if session.scalar(select(OrganisationNotice.id).where(OrganisationNotice.key == key)) is not None:
        return None
    organisation = session.get(Organisation, org_id)
    if organisation is None:
        return None
    name = f"Social care, {la.name}" if role == "social_care" else organisation.name
    title = f"Reviews of EHC plans due in {term.name}"
    body = _LIST_TEMPLATE.render(la=la, issued_on=calendar.to_london_date(now), organisation_name=name, title=title,
                                 term=term, first=term_window(term, terms)[0], role_note=_ROLE_NOTES[role],
                                 reviews=rows, kinds=REVIEW_KIND_NAMES)
    notice = OrganisationNotice(key=key, kind=TERMLY_LIST_KIND, organisation_id=org_id, recipient_role=role,
                                title=title, body_html=body, case_ids=[r.case_id for r in rows], issued_at=now)
    try:
        with session.begin_nested():  # another worker (or a second run by hand) may make it at the same moment
            session.add(notice)
    except IntegrityError:
        return None
    return notice


__all__ = ["TermlyReviewList", "send_termly_review_lists", "termly_review_list"]
