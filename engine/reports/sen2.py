"""The per-case data the annual SEN2 return needs, as CSV, read from the projections (deadlines, documents, plan
versions, instances), never from workflow state. docs/reports.md says what each column means and where it comes from.

One row per case: the request, assessment and plan columns describe the case's latest request for an assessment.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from engine.statutory import calendar
from engine.store.models import Case, Deadline, Document, Message, Organisation, PlanVersion, ProcessInstance

SEN2_COLUMNS = [
    # The first nine stay in this order: files made by earlier versions are read by position.
    "case_reference", "local_authority", "date_of_birth", "request_date", "assessment_decision_due",
    "assessment_decision_made", "assessment_decision_on_time", "plan_issued", "plan_within_20_weeks",
    "forename", "surname", "request_outcome", "assessment_decision_exception", "assessment_outcome",
    "assessment_outcome_date", "plan_due", "plan_exception", "weeks_to_plan", "reviews_completed",
    "reviews_on_time", "last_review_date", "request_mediation", "request_appeal", "assessment_mediation",
    "assessment_appeal", "plan_mediation", "plan_appeal", "plan_ceased", "plan_ceased_date",
    "disagreement_decisions",
]

# Document kinds (the routes' `document` property) that record the outcome of a request and of an assessment.
REQUEST_OUTCOMES = {
    "decision_to_assess": "assess",
    "decision_not_to_assess": "not_assess",
    "decline_recent_assessment": "declined_recent_assessment",
    "request_withdrawn": "withdrawn",
    "assessment_ended_moved": "moved_away",
}
ASSESSMENT_OUTCOMES = {"decision_to_issue": "issue", "decision_not_to_issue": "not_issue"}
CEASED_KIND = "cp_plan_ceased"
# Which decision a disagreement is about: the `decision` of the message that started it (the routes send
# `appealable_decision_notified` with every appealable notice), else the kind of the last appealable notice before it.
# Anything but a refusal to assess or to issue is about the plan (its contents, an amendment, ceasing it).
DISAGREEMENT_TOPICS = {"refuse_assess": "request", "refuse_issue": "assessment"}
# An appealable notice's kind -> the decision code the routes' messages use for it.
NOTICE_DECISIONS = {
    "decision_not_to_assess": "refuse_assess", "decline_recent_assessment": "refuse_assess",
    "decision_not_to_issue": "refuse_issue", "pd_final_plan_notice": "final_plan", "am_amended_plan": "amended_plan",
    "ra_final_plan": "amended_plan", "am_decision_not_to_amend": "refuse_amend", "cp_decision_cease": "cease",
    "ra_decision_declined": "refuse_reassess",
}
DISAGREEMENT_ROUTE = "disagreement_resolution"
DISAGREEMENT_MESSAGE = "appealable_decision_notified"
DEADLINE_KEYS = ("decide_whether_to_assess", "final_plan_20w", "annual_review", "mediation_held", "tribunal_response")
# The request's statutory start is 6 weeks before the decision whether to assess is due (reg 5(1)) and 20 weeks
# before the final plan is (reg 13(2)).
WEEKS_TO_DECIDE = 6
WEEKS_TO_PLAN = 20

# A spreadsheet runs a cell starting with one of these as a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> str:
    """A cell a spreadsheet shows as text: a leading quote before anything that would start a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


@dataclass
class _CaseFacts:
    deadlines: dict[str, list[Any]] = field(default_factory=lambda: defaultdict(list))
    # Rows of the columns read (see _facts), not whole objects.
    documents: list[Any] = field(default_factory=list)
    assessments: list[Any] = field(default_factory=list)
    disagreements: list[Any] = field(default_factory=list)
    decisions: dict[int, str] = field(default_factory=dict)  # disagreement instance id -> decision disagreed with
    has_issued_plan_by: datetime | None = None


def _day(value: datetime | None) -> date | None:
    return calendar.to_london_date(value) if value is not None else None


def _iso(value: date | None) -> str:
    return value.isoformat() if value else ""


def _yes_no(value: bool) -> str:
    return "yes" if value else "no"


def _facts(session: Session, la_id: int | None) -> dict[int, _CaseFacts]:
    """Everything the rows need, in one query per table, filtered by joining the case (an authority may have
    100,000 cases: no list of ids in the SQL) and reading only the columns used (no document bodies, no state)."""
    facts: dict[int, _CaseFacts] = defaultdict(_CaseFacts)

    def of_la(query, column):  # type: ignore[no-untyped-def]
        return query if la_id is None else query.join(Case, Case.id == column).where(Case.la_id == la_id)

    keyed = or_(*(or_(Deadline.key == k, Deadline.key.like(f"{k}:%")) for k in DEADLINE_KEYS))
    for d in session.execute(of_la(
            select(Deadline.id, Deadline.case_id, Deadline.key, Deadline.due_date, Deadline.met_at, Deadline.missed,
                   Deadline.status, Deadline.exception_reason, Deadline.instance_id).where(keyed),
            Deadline.case_id).order_by(Deadline.id)):
        facts[d.case_id].deadlines[d.key.split(":", 1)[0]].append(d)
    kinds = {*REQUEST_OUTCOMES, *ASSESSMENT_OUTCOMES, CEASED_KIND}
    for doc in session.execute(of_la(
            select(Document.id, Document.case_id, Document.kind, Document.issued_at, Document.appealable)
            .where(or_(Document.kind.in_(kinds), Document.appealable.is_(True))), Document.case_id)
            .order_by(Document.issued_at, Document.id)):
        facts[doc.case_id].documents.append(doc)
    for inst in session.execute(of_la(
            select(ProcessInstance.id, ProcessInstance.case_id, ProcessInstance.process_id,
                   ProcessInstance.created_at)
            .where(ProcessInstance.process_id.in_(("ehc_needs_assessment", DISAGREEMENT_ROUTE))),
            ProcessInstance.case_id).order_by(ProcessInstance.created_at, ProcessInstance.id)):
        target = facts[inst.case_id].assessments if inst.process_id == "ehc_needs_assessment" \
            else facts[inst.case_id].disagreements
        target.append(inst)
    for case_id, instance_id, payload in session.execute(of_la(
            select(Message.case_id, Message.instance_id, Message.payload)
            .where(Message.name == DISAGREEMENT_MESSAGE, Message.instance_id.is_not(None)), Message.case_id)):
        decision = (payload or {}).get("decision")
        if isinstance(decision, str):
            facts[case_id].decisions[instance_id] = decision
    for case_id, issued in session.execute(of_la(
            select(PlanVersion.case_id, PlanVersion.issued_at).where(PlanVersion.issued_at.is_not(None)),
            PlanVersion.case_id).order_by(PlanVersion.issued_at)):
        facts[case_id].has_issued_plan_by = facts[case_id].has_issued_plan_by or issued
    return facts


def _latest_doc(docs: list[Any], kinds: dict[str, str], since: datetime | None) -> Any:
    found = [d for d in docs if d.kind in kinds and (since is None or d.issued_at >= since)]
    return found[-1] if found else None


def _decision(f: _CaseFacts, inst: Any) -> str:
    if inst.id in f.decisions:
        return f.decisions[inst.id]
    before = [d for d in f.documents if d.appealable and d.issued_at <= inst.created_at]
    return NOTICE_DECISIONS.get(before[-1].kind, before[-1].kind) if before else "unknown"


def _disagreements(f: _CaseFacts) -> dict[str, tuple[bool, bool]]:
    """topic -> (mediation held, appeal registered), over every disagreement on the case."""
    out: dict[str, tuple[bool, bool]] = {}
    for inst in f.disagreements:
        topic = DISAGREEMENT_TOPICS.get(_decision(f, inst), "plan")
        mediated = any(d.instance_id == inst.id and d.status == "met" for d in f.deadlines["mediation_held"])
        appealed = any(d.instance_id == inst.id for d in f.deadlines["tribunal_response"])
        held, registered = out.get(topic, (False, False))
        out[topic] = (held or mediated, registered or appealed)
    return out


def sen2_rows(session: Session, la_id: int | None = None, year: int | None = None) -> list[list[str]]:
    """The rows (without the header), cells neutralised; `year` keeps the cases with something in that calendar year
    (see docs/reports.md) and counts only that year's reviews."""
    query = (select(Case.id, Case.reference, Case.child_first_name, Case.child_last_name, Case.date_of_birth,
                    Organisation.name).join(Organisation, Organisation.id == Case.la_id).order_by(Case.reference))
    if la_id is not None:
        query = query.where(Case.la_id == la_id)
    cases = session.execute(query).all()
    facts = _facts(session, la_id)
    rows = []
    for case in cases:
        row = _row(case, case.name, facts[case.id], year)
        if row is not None:
            rows.append([neutralise(v) for v in row])
    return rows


def _row(case: Any, la_name: str, f: _CaseFacts, year: int | None) -> list[object] | None:
    decide = f.deadlines["decide_whether_to_assess"][-1] if f.deadlines["decide_whether_to_assess"] else None
    plans = [d for d in f.deadlines["final_plan_20w"] if d.status != "cancelled"]
    plan = plans[-1] if plans else None
    request_start = f.assessments[-1].created_at if f.assessments else None
    if decide is not None:
        request_date: date | None = decide.due_date - timedelta(weeks=WEEKS_TO_DECIDE)
    elif plan is not None:
        request_date = plan.due_date - timedelta(weeks=WEEKS_TO_PLAN)
    else:
        request_date = _day(request_start)
    request_doc = _latest_doc(f.documents, REQUEST_OUTCOMES, request_start)
    assessment_doc = _latest_doc(f.documents, ASSESSMENT_OUTCOMES, request_start)
    plan_issued = _day(plan.met_at) if plan else None
    # A plan issued answers both questions, even where the notices were not made here (a plan drafted straight away).
    if assessment_doc:
        assessment_outcome = ASSESSMENT_OUTCOMES[assessment_doc.kind]
    else:
        assessment_outcome = "issue" if plan_issued else ""
    if request_doc:
        request_outcome = REQUEST_OUTCOMES[request_doc.kind]
    elif assessment_outcome:
        request_outcome = "assess"
    else:
        request_outcome = "pending" if decide is not None or f.assessments else ""
    if request_outcome == "assess" and not assessment_outcome:
        assessment_outcome = "pending"
    ceased = _latest_doc(f.documents, {CEASED_KIND: ""}, None)
    ceased_on = _day(ceased.issued_at) if ceased else None
    reviews = [d for d in f.deadlines["annual_review"] if d.met_at is not None and d.status != "cancelled"]
    if year is not None:
        reviews = [d for d in reviews if _day(d.met_at).year == year]  # type: ignore[union-attr]
    last_review = max((_day(d.met_at) for d in reviews), default=None)  # type: ignore[type-var]
    if year is not None and not _in_year(year, f, request_date, decide, request_doc, assessment_doc, plan_issued,
                                         reviews, ceased_on):
        return None
    topics = _disagreements(f)
    no = (False, False)
    return [
        case.reference, la_name, _iso(case.date_of_birth), _iso(request_date),
        _iso(decide.due_date) if decide else "", _iso(_day(decide.met_at)) if decide else "",
        _yes_no(not decide.missed) if decide and decide.met_at else "",
        _iso(plan_issued), _yes_no(not plan.missed) if plan and plan.met_at else "",
        case.child_first_name, case.child_last_name, request_outcome,
        (decide.exception_reason or "") if decide else "", assessment_outcome,
        _iso(_day(assessment_doc.issued_at)) if assessment_doc else "", _iso(plan.due_date) if plan else "",
        (plan.exception_reason or "") if plan else "",
        round((plan_issued - request_date).days / 7, 1) if plan_issued and request_date else "",
        len(reviews), sum(1 for d in reviews if not d.missed), _iso(last_review),
        *(_yes_no(flag) for topic in ("request", "assessment", "plan") for flag in topics.get(topic, no)),
        _yes_no(ceased is not None), _iso(ceased_on),
        ";".join(_decision(f, inst) for inst in f.disagreements),
    ]


def _in_year(year: int, f: _CaseFacts, request_date: date | None, decide: Any,
             request_doc: Any, assessment_doc: Any, plan_issued: date | None,
             reviews: list[Any], ceased_on: date | None) -> bool:
    """Something happened in the year, a plan was in force in it, or the request was being worked on in it."""
    start, end = date(year, 1, 1), date(year, 12, 31)
    dated = [request_date, _day(decide.met_at) if decide else None, plan_issued, ceased_on,
             _day(request_doc.issued_at) if request_doc else None,
             _day(assessment_doc.issued_at) if assessment_doc else None]
    if reviews or any(d is not None and d.year == year for d in dated):
        return True
    plan_from = _day(f.has_issued_plan_by)
    if plan_from is not None and plan_from <= end and (ceased_on is None or ceased_on >= start):
        return True
    finished = [d for d in (plan_issued, _day(assessment_doc.issued_at) if assessment_doc else None) if d]
    if request_doc is not None and request_doc.kind != "decision_to_assess":
        finished.append(_day(request_doc.issued_at))  # type: ignore[arg-type]
    return request_date is not None and request_date <= end and (not finished or max(finished) >= start)


def sen2_csv(session: Session, la_id: int | None = None, year: int | None = None) -> str:
    """Per-case data for the annual SEN2 return (see docs/reports.md for each column)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(SEN2_COLUMNS)
    writer.writerows(sen2_rows(session, la_id=la_id, year=year))
    return out.getvalue()


FIRST_YEAR = 2014  # EHC plans began on 1 September 2014


def sen2_years(today: date) -> list[int]:
    """The years an export can be asked for, latest first."""
    return list(range(today.year, FIRST_YEAR - 1, -1))
