"""Reviews of EHC plans: when each review falls due, phase transfers, the termly lists and age milestones.

A plan can last from the early years to 25, so every review, amendment, re-assessment and ceasing runs as its own
short process instance on the case (``workflows/annual_review.bpmn`` and friends). What links them is the case's
statutory clock: the ``annual_review`` deadline row, opened 12 months after the plan is issued (plan drafting) and
12 months after each review decision (``annual_review.bpmn``). This module reads that row to work out when the
next review is due and what kind it is, starts the review route when the time comes, and lists the reviews due each
term for schools, health and social care (send-processes.md §3.1–§3.2, §11).

Everything above the "queries" section is pure date arithmetic on ``engine.calendar``, so it is tested on its own.

Settings. Figures set by statute are constants with their source. Figures the reference marks "verify", and the
local choices an authority makes, are **LA settings**: change them here. The routes carry the same figures as process
data with a default (their set-up scripts); the review scheduler passes ``ROUTE_SETTINGS`` when it starts a route, and
``tests/workflows/test_reviews.py`` checks that the defaults in the BPMN files agree with this module.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, StrictUndefined
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, object_session

from engine import calendar, documents
from engine.documents import DocumentTemplate
from engine.errors import InstanceFailed, InvalidState, NotFound
from engine.models import Case, CaseParty, Deadline, Organisation, OrganisationNotice, ProcessInstance

if TYPE_CHECKING:
    from engine.runtime import WorkflowEngine

log = logging.getLogger(__name__)

# ---- statutory figures -----------------------------------------------------------------------------------------

#: CFA 2014 s.44(1): a plan is reviewed within 12 months of its issue, then within 12 months of the last review.
REVIEW_INTERVAL_MONTHS = 12

# ---- LA settings and figures to verify ------------------------------------------------------------------------

#: LA setting. Code of Practice 9.178: for a child under five, the LA should consider reviewing every 3 to 6 months.
#: The statutory 12-month deadline still stands; this only brings the review forward.
UNDER_FIVE_REVIEW_MONTHS = 6
UNDER_FIVE_REVIEW_RANGE = (3, 6)

#: Review meeting notice (reg 20(3)/21(3)), papers circulated before the meeting (reg 20(4)), report after the meeting
#: (reg 20(7), paragraph number to verify) and the LA's decision after the meeting (reg 20(10), to verify). The DfE
#: consulted in 2022 on 3 weeks for papers and longer for the decision; no amending regulations were found (verify).
REVIEW_NOTICE_WEEKS = 2
REVIEW_PAPERS_WEEKS = 2
REVIEW_REPORT_WEEKS = 2
REVIEW_DECISION_WEEKS = 4

#: Amending a plan (reg 22): at least 15 days, beginning with the day of service, for representations; the amended
#: plan within 8 weeks of the notice (reg 22(3)). The decision not to amend is timed by the same 8 weeks: reg 22(4)
#: was seen only in part (verify).
AMENDMENT_REPRESENTATION_DAYS = 15
AMENDED_PLAN_WEEKS = 8
#: Code of Practice 9.83 ("should"): a school or college consulted on being named responds within 15 days.
SETTING_CONSULTATION_DAYS = 15

#: Re-assessment (regs 24–27): decision within 15 days of the request (reg 25: the unit is to verify; calendar days
#: here); the LA may decline when it assessed in the previous 6 months (reg 24, wording to verify); advice within 6
#: weeks (reg 8 through reg 26); the draft gives 15 days for comments (reg 13(1)); the plan within 14 weeks (reg 27(2)).
REASSESSMENT_DECISION_DAYS = 15
REASSESSMENT_RECENT_MONTHS = 6
REASSESSMENT_ADVICE_WEEKS = 6
REASSESSMENT_DRAFT_RESPONSE_DAYS = 15
REASSESSMENT_FINAL_PLAN_WEEKS = 14

#: Ceasing (reg 31): no statutory time for the consultation was found (verify), so it is an LA setting. The plan
#: stays in force for the appeal period: 2 months after the notice, or 1 month after a mediation certificate if later
#: (HESC Rules r.20(1)(c)); the figures are the ones the appeal-rights bundle quotes (engine/documents.py).
CEASE_CONSULTATION_DAYS = 15
APPEAL_MONTHS = documents.APPEAL_MONTHS
CERTIFICATE_APPEAL_MONTHS = documents.APPEAL_MONTHS_AFTER_CERTIFICATE

#: LA setting: how long before a review is due the review route starts (the setting then has time to give two weeks'
#: notice, hold the meeting and report, and the LA to decide within four weeks of the meeting, all before the date).
REVIEW_START_LEAD_WEEKS = 10
#: LA setting: a phase-transfer review must also finish the amendment (up to 12 weeks after the meeting) by the date.
PHASE_TRANSFER_START_LEAD_WEEKS = 20

#: Code of Practice 9.172: the termly list of reviews goes out at least two weeks before the term starts.
TERM_LIST_NOTICE_WEEKS = 2

#: LA setting: the national curriculum year a child enters at each phase transfer in this authority, and which date
#: rule applies (reg 18(1): "post16" is 31 March, "school" 15 February of the calendar year of transfer). Reception
#: (early years to school), Year 7 (primary to secondary) and Year 12 (secondary to post-16) everywhere; add 3 for
#: infant to junior schools, or 5 and 9 where the authority has middle schools.
PHASE_TRANSFER_YEAR_GROUPS: Mapping[int, str] = {0: "school", 7: "school", 12: "post16"}

#: The figures each route reads as process data, as the scheduler passes them.
ROUTE_SETTINGS: Mapping[str, Mapping[str, int]] = {
    "annual_review": {
        "review_notice_weeks": REVIEW_NOTICE_WEEKS,
        "review_papers_weeks": REVIEW_PAPERS_WEEKS,
        "review_report_weeks": REVIEW_REPORT_WEEKS,
        "review_decision_weeks": REVIEW_DECISION_WEEKS,
        "under_five_review_months": UNDER_FIVE_REVIEW_MONTHS,
    },
    "plan_amendment": {
        "representation_days": AMENDMENT_REPRESENTATION_DAYS,
        "amended_plan_weeks": AMENDED_PLAN_WEEKS,
        "setting_consultation_days": SETTING_CONSULTATION_DAYS,
    },
    "reassessment": {
        "reassessment_decision_days": REASSESSMENT_DECISION_DAYS,
        "recent_assessment_months": REASSESSMENT_RECENT_MONTHS,
        "weeks_for_advice": REASSESSMENT_ADVICE_WEEKS,
        "draft_response_days": REASSESSMENT_DRAFT_RESPONSE_DAYS,
        "final_plan_weeks": REASSESSMENT_FINAL_PLAN_WEEKS,
        "setting_consultation_days": SETTING_CONSULTATION_DAYS,
    },
    "cease_plan": {
        "cease_consultation_days": CEASE_CONSULTATION_DAYS,
        "appeal_months": APPEAL_MONTHS,
        "certificate_appeal_months": CERTIFICATE_APPEAL_MONTHS,
    },
}


# ---- term dates (LA setting) -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Term:
    """A school term in the authority's area (first and last teaching day)."""

    name: str
    starts: date
    ends: date

    @property
    def list_due(self) -> date:
        """The last day the termly list of reviews can go out: two weeks before the term starts (CoP 9.172)."""
        return self.starts - timedelta(weeks=TERM_LIST_NOTICE_WEEKS)

    @property
    def send_on(self) -> date:
        """The day the timer worker sends the list: ``list_due``, or the last working day before it when that is a
        weekend or a bank holiday, so that it reaches schools and offices on a day they are open."""
        day = self.list_due
        while not calendar.is_working_day(day):
            day -= timedelta(days=1)
        return day


#: LA setting: the authority's term dates (maintained schools' calendar), in order. Extend it every year; a date
#: beyond the last term raises LookupError naming this setting rather than guessing.
TERM_DATES: tuple[Term, ...] = (
    Term("Autumn 2025", date(2025, 9, 3), date(2025, 12, 19)),
    Term("Spring 2026", date(2026, 1, 5), date(2026, 3, 27)),
    Term("Summer 2026", date(2026, 4, 13), date(2026, 7, 22)),
    Term("Autumn 2026", date(2026, 9, 2), date(2026, 12, 18)),
    Term("Spring 2027", date(2027, 1, 5), date(2027, 3, 25)),
    Term("Summer 2027", date(2027, 4, 12), date(2027, 7, 21)),
    Term("Autumn 2027", date(2027, 9, 1), date(2027, 12, 17)),
    Term("Spring 2028", date(2028, 1, 4), date(2028, 4, 7)),
    Term("Summer 2028", date(2028, 4, 24), date(2028, 7, 21)),
    Term("Autumn 2028", date(2028, 9, 4), date(2028, 12, 20)),
    Term("Spring 2029", date(2029, 1, 3), date(2029, 3, 29)),
    Term("Summer 2029", date(2029, 4, 16), date(2029, 7, 20)),
    Term("Autumn 2029", date(2029, 9, 3), date(2029, 12, 19)),
    Term("Spring 2030", date(2030, 1, 7), date(2030, 4, 5)),
    Term("Summer 2030", date(2030, 4, 23), date(2030, 7, 19)),
)


def _check_terms(terms: tuple[Term, ...]) -> None:
    for term in terms:
        if term.ends < term.starts:
            raise ValueError(f"TERM_DATES: {term.name} ends before it starts")
    for earlier, later in zip(terms, terms[1:], strict=False):
        if later.starts <= earlier.ends:
            raise ValueError(f"TERM_DATES: {later.name} starts before {earlier.name} ends")


_check_terms(TERM_DATES)


def term_named(name: str, terms: tuple[Term, ...] = TERM_DATES) -> Term:
    for term in terms:
        if term.name == name:
            return term
    raise LookupError(f"No term called {name!r} in TERM_DATES (engine/reviews.py)")


def term_for(day: calendar.DateLike, terms: tuple[Term, ...] = TERM_DATES) -> Term:
    """The term whose list covers a review due on this day: the term it falls in, or the next one if it falls in a
    holiday, so that no due date is left off every list."""
    d = calendar.as_date(day)
    for term in terms:
        if d <= term.ends:
            return term
    raise LookupError(f"No term dates after {terms[-1].ends.isoformat()}: add the next terms to TERM_DATES "
                      "(engine/reviews.py)")


def next_term(day: calendar.DateLike, terms: tuple[Term, ...] = TERM_DATES) -> Term:
    """The first term that starts after this day."""
    d = calendar.as_date(day)
    for term in terms:
        if term.starts > d:
            return term
    raise LookupError(f"No term starts after {d.isoformat()}: add the next terms to TERM_DATES (engine/reviews.py)")


def term_window(term: Term, terms: tuple[Term, ...] = TERM_DATES) -> tuple[date, date]:
    """The due dates a term's list covers: from the day after the previous term ended (so holidays belong to the
    term after them) to the last day of the term."""
    index = terms.index(term)
    first = terms[index - 1].ends + timedelta(days=1) if index > 0 else term.starts
    return first, term.ends


# ---- phase transfers ---------------------------------------------------------------------------------------------

TRANSFER_KINDS: Mapping[str, str] = {
    "school": "Between school phases (early years to school, infant to junior, primary to secondary ...): "
              "by 15 February of the year of transfer (reg 18(1)(b))",
    "post16": "From secondary school to a post-16 institution: by 31 March of the year of transfer (reg 18(1)(a))",
    "post16_to_post16": "Between post-16 institutions: at least 5 months before the transfer (reg 18(2))",
}


@dataclass(frozen=True)
class PhaseTransfer:
    """A move between phases of education, and the date by which the plan must be reviewed and amended for it."""

    kind: str
    transfer_on: date
    year_group: int | None = None

    @property
    def year(self) -> int:
        return self.transfer_on.year

    @property
    def deadline(self) -> date:
        return phase_transfer_review_deadline(self.kind, self.transfer_on)


def phase_transfer_review_deadline(kind: str, transfer_on: calendar.DateLike) -> date:
    """The date by which a phase-transfer review must be finished, with the plan amended to name the new setting.

    ``kind`` is one of ``TRANSFER_KINDS``; ``transfer_on`` is the day the child or young person moves (for the
    school and post-16 kinds only its calendar year matters).
    """
    moving = calendar.as_date(transfer_on)
    if kind == "school":
        return calendar.phase_transfer_deadline(moving.year, "school")
    if kind == "post16":
        return calendar.phase_transfer_deadline(moving.year, "post16")
    if kind == "post16_to_post16":
        return calendar.post16_transfer_deadline(moving)
    raise ValueError(f"A phase transfer is one of {', '.join(TRANSFER_KINDS)}, not {kind!r}")


def transfer_starts(birth: calendar.DateLike, year_group: int) -> date:
    """1 September of the year a child (taught in their chronological year group) enters ``year_group``."""
    born = calendar.as_date(birth)
    # Reception (year group 0) starts in the September after the 4th birthday, or on it for a 1 September birthday;
    # school_year_group() is the authority on that, so step through the two candidate years.
    for year in (born.year + year_group + 4, born.year + year_group + 5):
        if calendar.school_year_group(born, date(year, 9, 1)) == year_group:
            return date(year, 9, 1)
    raise AssertionError("unreachable: a child enters each year group in one of two Septembers")


def next_phase_transfer(birth: calendar.DateLike, after: calendar.DateLike,
                        year_groups: Mapping[int, str] = PHASE_TRANSFER_YEAR_GROUPS) -> PhaseTransfer | None:
    """The child's next phase transfer after a day, from the authority's transfer year groups (None after the last)."""
    day = calendar.as_date(after)
    for group in sorted(year_groups):
        starts = transfer_starts(birth, group)
        if starts > day:
            return PhaseTransfer(year_groups[group], starts, group)
    return None


# ---- when a review is due ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ReviewSchedule:
    """The next review of a plan: its kind, the dates it must meet, and when the review route should start.

    ``kind`` is "annual", "under_five" or "phase_transfer" (an "early" review is only ever started by hand).
    """

    kind: str
    last_review_on: date
    statutory_due: date
    due: date
    start_on: date
    transfer: PhaseTransfer | None = None

    def start_data(self) -> dict[str, Any]:
        """The process data ``annual_review`` starts with when the scheduler starts it (ISO dates: task data is
        JSON), with the route's settings."""
        data: dict[str, Any] = {
            "scheduled": True,
            "review_kind": self.kind,
            "last_review_on": self.last_review_on.isoformat(),
            "statutory_review_due": self.statutory_due.isoformat(),
            "review_due": self.due.isoformat(),
            "phase_transfer_due": self.transfer.deadline.isoformat() if self.transfer else None,
            "transfer_kind": self.transfer.kind if self.transfer else None,
            "transfer_on": self.transfer.transfer_on.isoformat() if self.transfer else None,
        }
        data.update(ROUTE_SETTINGS["annual_review"])
        return data


def statutory_review_due(last_review_on: calendar.DateLike) -> date:
    """12 months after the plan's issue or the last review (month-end rule: 29 Feb 2028 -> 28 Feb 2029)."""
    return calendar.add_months(last_review_on, REVIEW_INTERVAL_MONTHS)


def _under_five_months(months: int) -> int:
    low, high = UNDER_FIVE_REVIEW_RANGE
    if not low <= months <= high:
        raise ValueError(f"Reviews for under-fives are every {low} to {high} months, not {months}")
    return months


def next_review_due(last_review_on: calendar.DateLike, birth: calendar.DateLike | None = None,
                    under_five_months: int = UNDER_FIVE_REVIEW_MONTHS) -> date:
    """When the next review should be finished, leaving phase transfers aside: 12 months after the last one, or
    ``under_five_months`` after it for a child under five on that day."""
    last = calendar.as_date(last_review_on)
    due = statutory_review_due(last)
    if birth is not None and calendar.age_on(birth, last) < 5:
        due = min(due, calendar.add_months(last, _under_five_months(under_five_months)))
    return due


def schedule_review(last_review_on: calendar.DateLike, birth: calendar.DateLike | None = None, *,
                    statutory_due: calendar.DateLike | None = None, transfer: PhaseTransfer | None = None,
                    under_five_months: int = UNDER_FIVE_REVIEW_MONTHS,
                    year_groups: Mapping[int, str] = PHASE_TRANSFER_YEAR_GROUPS) -> ReviewSchedule:
    """The next review after the one (or the plan's issue) on ``last_review_on``.

    ``statutory_due`` is the date on the case's statutory clock when it differs from 12 months (a plan transferred
    from another authority is reviewed by the later of 12 months and 3 months from the transfer, reg 15(5)).
    ``transfer`` is a known phase transfer; without it the next transfer is worked out from the date of birth and
    the authority's transfer year groups, leaving out one whose review the last review already was. Reg 18: a
    review held within 12 months before a transfer is a phase-transfer review, which must be finished, with the
    plan amended, by the transfer deadline (15 February or 31 March of the year of transfer; 5 months before a move
    between post-16 institutions).
    """
    last = calendar.as_date(last_review_on)
    statutory = calendar.as_date(statutory_due) if statutory_due is not None else statutory_review_due(last)
    kind, due = "annual", statutory
    if birth is not None:
        target = next_review_due(last, birth, under_five_months)
        if target < due:
            kind, due = "under_five", target
    if transfer is None and birth is not None:
        transfer = next_phase_transfer(birth, last, year_groups)
        # A review held within the 12 months before a transfer was that transfer's review: look at the next one.
        while transfer is not None and calendar.add_months(transfer.transfer_on, -12) <= last:
            transfer = next_phase_transfer(birth, transfer.transfer_on, year_groups)
    if transfer is not None and calendar.add_months(transfer.transfer_on, -12) <= due:
        kind, due = "phase_transfer", min(due, transfer.deadline)
    else:
        transfer = None
    lead = PHASE_TRANSFER_START_LEAD_WEEKS if kind == "phase_transfer" else REVIEW_START_LEAD_WEEKS
    start_on = max(last, due - timedelta(weeks=lead))
    return ReviewSchedule(kind, last, statutory, due, start_on, transfer)


# ---- age milestones -------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Milestone:
    key: str
    on: date
    description: str


def year_nine_starts(birth: calendar.DateLike) -> date:
    """1 September of Year 9: from then reviews consider preparing for adulthood (reg 20(6))."""
    return transfer_starts(birth, 9)


def preparing_for_adulthood(birth: calendar.DateLike, on: calendar.DateLike) -> bool:
    """True from Year 9: the review covers preparing for adulthood and independent living."""
    return calendar.school_year_group(birth, on) >= 9


def rights_holder(birth: calendar.DateLike | None, on: calendar.DateLike) -> str:
    """Who holds the rights on this day: "parent" until the end of compulsory school age (the last Friday in June of
    Year 11), "young_person" from the next day (CoP 2.12–2.13; subject to mental capacity)."""
    if birth is None:
        return "parent"
    return "young_person" if calendar.as_date(on) > calendar.end_of_compulsory_school_age(birth) else "parent"


def notice_addressee(birth: calendar.DateLike | None, on: calendar.DateLike,
                     young_person_named_parent: bool = False) -> str:
    """Whom a notice is addressed to: "parent"; "young_person"; or "parent_for_young_person" when the young person
    has named their parent to act for them (the notice is still the young person's, and goes to both)."""
    if rights_holder(birth, on) == "parent":
        return "parent"
    return "parent_for_young_person" if young_person_named_parent else "young_person"


#: The case party role that records a parent the young person has named to act for them (CoP 2.13: the young person
#: may ask their parent to act on their behalf). The row's ``user_id`` is the parent, who is also a family party.
NAMED_PARENT_ROLE = "acting_for_young_person"


def name_parent_to_act(session: Session, case_id: int, user_id: int) -> CaseParty:
    """Records that the young person has named this parent (a family member on the case) to act for them. From the
    end of compulsory school age, notices then go to the young person and to that parent (engine/documents.py)."""
    parent = session.scalars(select(CaseParty).where(
        CaseParty.case_id == case_id, CaseParty.role == "family", CaseParty.user_id == user_id,
        CaseParty.active.is_(True))).first()
    if parent is None:
        raise NotFound("Only a parent already on the case can be named to act for the young person")
    if (parent.relationship_to_child or "").lower() == "young person":
        raise InvalidState("The young person cannot be named to act for themselves")
    existing = session.scalars(select(CaseParty).where(
        CaseParty.case_id == case_id, CaseParty.role == NAMED_PARENT_ROLE, CaseParty.user_id == user_id,
        CaseParty.active.is_(True))).first()
    if existing is not None:
        return existing
    row = CaseParty(case_id=case_id, role=NAMED_PARENT_ROLE, user_id=user_id,
                    relationship_to_child=parent.relationship_to_child, active=True)
    session.add(row)
    session.flush()
    return row


def withdraw_named_parent(session: Session, case_id: int, user_id: int) -> bool:
    """The young person no longer wants this parent to act for them; True when a nomination was withdrawn."""
    rows = list(session.scalars(select(CaseParty).where(
        CaseParty.case_id == case_id, CaseParty.role == NAMED_PARENT_ROLE, CaseParty.user_id == user_id,
        CaseParty.active.is_(True))))
    for row in rows:
        row.active = False
    session.flush()
    return bool(rows)


def age_milestones(birth: calendar.DateLike) -> list[Milestone]:
    """The dates in a plan's life that change what the routes do, in order."""
    born = calendar.as_date(birth)
    milestones = [
        Milestone("year_9", year_nine_starts(born),
                  "Year 9: reviews and the plan cover preparing for adulthood and independent living"),
        Milestone("end_of_compulsory_school_age", calendar.end_of_compulsory_school_age(born),
                  "End of compulsory school age: from the next day the rights pass from the parent to the young "
                  "person, and notices are addressed to the young person (who may name the parent to act for them)"),
        Milestone("age_18", calendar.add_years(born, 18),
                  "18: transition to adult social care (Care Act assessment); the plan cannot cease only because the "
                  "young person left education without a review (reg 30)"),
        Milestone("age_19", calendar.add_years(born, 19),
                  "19: a plan is never ceased only because of age; before ceasing, consider whether the education "
                  "or training outcomes have been achieved"),
        Milestone("age_25", calendar.add_years(born, 25),
                  "25: the plan may be maintained to the end of the academic year, then ceases (CFA s.46)"),
    ]
    return sorted(milestones, key=lambda m: m.on)


# ---- queries ----------------------------------------------------------------------------------------------------

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
    # Imported here so that the date functions above can be used without loading the workflow runtime.
    from engine.runtime import ACTIVE_STATUSES

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


def terms_to_send(today: calendar.DateLike, terms: tuple[Term, ...] = TERM_DATES) -> list[Term]:
    """The terms whose list goes out today: from its send day until the term starts (a worker that was down on the
    send day still sends it, late, rather than not at all)."""
    day = calendar.as_date(today)
    return [term for term in terms if term.send_on <= day < term.starts]


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
    gets an email saying it is ready (engine/notifications.py).
    """
    from engine import notifications  # the outbox; imported here to keep the date functions above light

    today = today or engine.clock.today()
    now = engine.clock.now()
    made: list[int] = []
    if all(term.starts <= today for term in terms):
        log.warning("TERM_DATES (engine/reviews.py) has no term after %s: no termly lists can be sent until the "
                    "next terms are added", today.isoformat())
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


# ---- the routes' notices ------------------------------------------------------------------------------------------

#: What engine/documents.py needs to know about each notice of the review routes besides its HTML: its title, who it
#: goes to, whether it carries the appeal-rights bundle. engine/documents.py reads them from here (ROUTE_DOCUMENTS).
#: "family" is the parent, or the young person once over compulsory school age. Appealable (CFA s.51,
#: send-processes.md §10): a decision not to amend after a review or re-assessment, an amended or replaced plan, a
#: decision not to re-assess, a decision to cease.
DOCUMENT_TEMPLATES: Mapping[str, DocumentTemplate] = {
    "ar_invitation": DocumentTemplate(
        "Invitation to the review of {{ child.name }}'s EHC plan on {{ data.meeting_date | long_date }}",
        ("family", "setting", "health", "social_care")),
    "ar_advice_pack": DocumentTemplate(
        "Advice and information for the review of {{ child.name }}'s EHC plan on {{ data.meeting_date | long_date }}",
        ("family", "setting", "health", "social_care")),
    "ar_review_report": DocumentTemplate(
        "Report of the review of {{ child.name }}'s EHC plan held on {{ data.meeting_held_on | long_date }}",
        ("family", "setting", "health", "social_care")),
    "ar_decision_keep": DocumentTemplate(
        "Decision after the review of {{ child.name }}'s EHC plan: the plan stays as it is",
        ("family", "copy:setting", "copy:health"), appealable=True),
    "am_amendment_notice": DocumentTemplate(
        "Proposed amendments to {{ child.name }}'s EHC plan", ("family", "copy:setting")),
    "am_amended_plan": DocumentTemplate(
        "{{ child.name }}'s amended EHC plan", ("family", "setting", "copy:new_setting", "health"), appealable=True),
    "am_decision_not_to_amend": DocumentTemplate(
        "Decision not to amend {{ child.name }}'s EHC plan", ("family", "copy:setting"), appealable=True),
    "ra_decision_declined": DocumentTemplate(
        "Decision not to re-assess {{ child.name }}'s education, health and care needs",
        ("family", "copy:setting", "copy:health"), appealable=True),
    "ra_decision_reassess": DocumentTemplate(
        "Decision to re-assess {{ child.name }}'s education, health and care needs",
        ("family", "copy:setting", "copy:health", "copy:social_care")),
    "ra_decision_no_change": DocumentTemplate(
        "Decision not to amend or replace {{ child.name }}'s EHC plan after the re-assessment",
        ("family", "copy:setting", "copy:health"), appealable=True),
    "ra_draft_plan": DocumentTemplate(
        "Draft EHC plan for {{ child.name }} after the re-assessment", ("family",)),
    "ra_final_plan": DocumentTemplate(
        "{{ child.name }}'s EHC plan after the re-assessment", ("family", "setting", "copy:new_setting", "health"),
        appealable=True),
    "cp_considering_ceasing": DocumentTemplate(
        "We are considering ceasing {{ child.name }}'s EHC plan", ("family", "setting")),
    "cp_decision_cease": DocumentTemplate(
        "Decision to cease {{ child.name }}'s EHC plan", ("family", "setting", "health"), appealable=True),
    "cp_decision_continue": DocumentTemplate(
        "Decision to keep {{ child.name }}'s EHC plan", ("family", "copy:setting")),
    "cp_plan_ceased": DocumentTemplate(
        "{{ child.name }}'s EHC plan has ceased", ("family", "setting", "health")),
    "cp_plan_continues": DocumentTemplate(
        "{{ child.name }}'s EHC plan continues after the appeal", ("family", "setting", "health")),
}


#: Recipient rules of these notices besides engine/documents.py's own (loaded through its ROUTE_DOCUMENTS).
RECIPIENT_RULES: tuple[str, ...] = ("new_setting",)


def recipients(rule: str, case: Case, data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """``new_setting``: the school or college an amended plan names in section I (``named_setting_id``) when it is not
    the case's setting yet (a phase transfer): it gets the plan that names it."""
    if rule != "new_setting":
        raise KeyError(f"No review recipient rule {rule!r}")
    session = object_session(case)
    setting_id = data.get("named_setting_id")
    if session is None or not setting_id:
        return []
    current = set(session.scalars(select(CaseParty.organisation_id).where(
        CaseParty.case_id == case.id, CaseParty.role == "setting", CaseParty.active.is_(True))))
    org = session.get(Organisation, int(setting_id))
    if org is None or org.id in current:
        return []
    return [{"name": org.name, "role": "setting", "organisation_id": org.id, "email": org.email,
             "address": org.address}]


__all__ = [
    "DOCUMENT_TEMPLATES", "NAMED_PARENT_ROLE", "PHASE_TRANSFER_YEAR_GROUPS", "RECIPIENT_RULES", "ROUTE_SETTINGS",
    "TERM_DATES", "TRANSFER_KINDS", "DueReview", "Milestone", "PhaseTransfer", "ReviewSchedule", "Term",
    "TermlyReviewList", "age_milestones", "due_reviews", "name_parent_to_act", "next_phase_transfer",
    "next_review_due", "next_term", "notice_addressee", "phase_transfer_review_deadline", "preparing_for_adulthood",
    "recipients", "rights_holder", "schedule_review", "send_termly_review_lists", "start_due_reviews",
    "statutory_review_due", "term_for", "term_named", "term_window", "termly_review_list", "terms_to_send",
    "transfer_starts", "withdraw_named_parent", "year_nine_starts",
]
