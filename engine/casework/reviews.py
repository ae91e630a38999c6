"""Reviews of EHC plans: when each review falls due, phase transfers, the routes' settings and age milestones.

A plan can last from the early years to 25, so every review, amendment, re-assessment and ceasing runs as its own
short process instance on the case (``workflows/annual_review.bpmn`` and friends). What links them is the case's
statutory clock: the ``annual_review`` deadline row, opened 12 months after the plan is issued (plan drafting) and
12 months after each review decision (``annual_review.bpmn``). This module works out from that row when the next
review is due and what kind it is; ``engine.casework.review_scheduler`` starts the review route when the time comes,
and ``engine.casework.termly_review_lists`` lists the reviews due each term for schools, health and social care
(send-processes.md §3.1–§3.2, §11).

Everything here is pure date arithmetic on ``engine.statutory.calendar``, so it is tested on its own.

Settings. Figures set by statute are constants with their source. Figures the reference marks "verify", and the
local choices an authority makes, are **LA settings**: change them here (the term dates are in
``engine.casework.review_terms``). The routes carry the same figures as process data with a default (their set-up
scripts); the review scheduler passes ``ROUTE_SETTINGS`` when it starts a route, and
``tests/workflows/test_reviews.py`` checks that the defaults in the BPMN files agree with this module.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from engine.casework import documents
from engine.statutory import calendar

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
#: (HESC Rules r.20(1)(c)); the figures are the ones the appeal-rights bundle quotes (engine/casework/documents.py).
CEASE_CONSULTATION_DAYS = 15
APPEAL_MONTHS = documents.APPEAL_MONTHS
CERTIFICATE_APPEAL_MONTHS = documents.APPEAL_MONTHS_AFTER_CERTIFICATE

#: LA setting: how long before a review is due the review route starts (the setting then has time to give two weeks'
#: notice, hold the meeting and report, and the LA to decide within four weeks of the meeting, all before the date).
REVIEW_START_LEAD_WEEKS = 10
#: LA setting: a phase-transfer review must also finish the amendment (up to 12 weeks after the meeting) by the date.
PHASE_TRANSFER_START_LEAD_WEEKS = 20


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

#: The routes whose settings a scheduled review carries: itself and the routes it calls.
REVIEW_CALLS_SETTINGS = ("annual_review", "plan_amendment", "cease_plan")


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
        JSON), with the route's settings and those of the routes it calls (``plan_amendment`` and ``cease_plan``
        are call activities of the review and read their settings from the data it hands them)."""
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
        for route in REVIEW_CALLS_SETTINGS:
            data.update(ROUTE_SETTINGS[route])
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


__all__ = [
    "PHASE_TRANSFER_YEAR_GROUPS", "ROUTE_SETTINGS", "TRANSFER_KINDS", "Milestone", "PhaseTransfer", "ReviewSchedule",
    "age_milestones", "next_phase_transfer", "next_review_due", "phase_transfer_review_deadline",
    "preparing_for_adulthood", "schedule_review", "statutory_review_due", "transfer_starts", "year_nine_starts",
]
