"""The SEN2 export: an authority's person-level records for the DfE's annual SEN2 return, as CSV, read from the
projections (engine/reports/sen2_facts.py for the requests, the plans and who was responsible when), never from
workflow state. The columns are in engine/reports/sen2_columns.py and docs/sen2.md.

One record per request for an assessment (and, for an authority a case was transferred to, one for the plan it took
over). A record that misses an item the DfE requires is not exported: ``sen2_export`` lists it with what to fix, and
the pages and the ``ehcflow reports sen2`` command show that list. An authority's export holds its own records only.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from engine.reports import sen2_facts as facts
from engine.reports.sen2_columns import NAMES
from engine.statutory import calendar
from engine.store.models import Case, Deadline, Document, Message, Organisation, PlanVersion, ProcessInstance

SEN2_COLUMNS = list(NAMES)

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
CEASE_TRANSFERRED = "5"  # the DfE's CeaseReason for a plan transferred to another LA in England
# The DfE's RequestSource for the front door's requester types.
REQUEST_SOURCES = {"parent": "1", "young_person": "1", "setting": "2", "school": "2", "health": "3",
                   "social_care": "4", "other": "5"}
# Which decision a disagreement is about: the `decision` of the message that started it (the routes send
# `appealable_decision_notified` with every appealable notice), else the kind of the last appealable notice before it.
DISAGREEMENT_TOPICS = {"refuse_assess": "request", "refuse_issue": "assessment"}
NOTICE_DECISIONS = {
    "decision_not_to_assess": "refuse_assess", "decline_recent_assessment": "refuse_assess",
    "decision_not_to_issue": "refuse_issue", "pd_final_plan_notice": "final_plan", "am_amended_plan": "amended_plan",
    "ra_final_plan": "amended_plan", "am_decision_not_to_amend": "refuse_amend", "cp_decision_cease": "cease",
    "ra_decision_declined": "refuse_reassess",
}
# The person module's mandatory items, in the file's order, with what to record (on the case's "Child's details"
# page, engine/intake/child_details.py) and the case column each comes from.
PERSON_ITEMS = {"Surname": "the child's surname", "Forename": "the child's forename",
                "PersonBirthDate": "the child's date of birth", "Sex": "the child's sex",
                "Ethnicity": "the child's ethnicity", "PostCode": "the child's home postcode",
                "UPN": "the child's unique pupil number (UPN)"}
PERSON_SOURCES = {"Surname": "child_last_name", "Forename": "child_first_name", "PersonBirthDate": "date_of_birth",
                  "Sex": "sex", "Ethnicity": "ethnicity", "PostCode": "postcode", "UPN": "upn"}
DETAIL_FIELDS = {"Surname": "last_name", "Forename": "first_name", "PersonBirthDate": "date_of_birth", "Sex": "sex",
                 "Ethnicity": "ethnicity", "PostCode": "postcode", "UPN": "upn"}
DISAGREEMENT_ROUTE = "disagreement_resolution"
DISAGREEMENT_MESSAGE = "appealable_decision_notified"

# A spreadsheet runs a cell starting with one of these as a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> str:
    """A cell a spreadsheet shows as text: a leading quote before anything that would start a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


@dataclass
class Refusal:
    """A record not exported, and what to fix (on its case) so that it can be."""

    case_id: int
    case_reference: str
    child_name: str
    problems: list[str]
    # problem -> the field of the case's "Child's details" page that fixes it (engine/intake/child_details.py FIELDS)
    detail_fields: dict[str, str] = field(default_factory=dict)


@dataclass
class Sen2Export:
    la_id: int
    year: int | None
    rows: list[dict[str, str]] = field(default_factory=list)  # the records exported, cells neutralised
    refused: list[Refusal] = field(default_factory=list)

    def csv(self) -> str:
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=SEN2_COLUMNS)
        writer.writeheader()
        writer.writerows(self.rows)
        return out.getvalue()


def _day(value: datetime | None) -> date | None:
    return calendar.to_london_date(value) if value is not None else None


def _iso(value: date | None) -> str:
    return value.isoformat() if value else ""


def _flag(value: bool | None) -> str:
    return "" if value is None else ("1" if value else "0")


@dataclass
class _CaseData:
    documents: list[Any] = field(default_factory=list)
    disagreements: list[Any] = field(default_factory=list)
    decisions: dict[int, str] = field(default_factory=dict)
    side_deadlines: dict[str, list[Any]] = field(default_factory=lambda: defaultdict(list))
    reviews: list[Any] = field(default_factory=list)
    named: dict[str, Any] = field(default_factory=dict)  # section I of the latest issued plan


def _case_data(session: Session, where: Any) -> dict[int, _CaseData]:
    """Documents, disagreements, reviews and the named setting, in one query per table, for the cases in scope."""
    data: dict[int, _CaseData] = defaultdict(_CaseData)
    kinds = {*REQUEST_OUTCOMES, *ASSESSMENT_OUTCOMES, CEASED_KIND}
    for doc in session.execute(facts.scoped(
            select(Document.id, Document.case_id, Document.kind, Document.issued_at, Document.appealable)
            .where(or_(Document.kind.in_(kinds), Document.appealable.is_(True))), Document.case_id, where)
            .order_by(Document.issued_at, Document.id)):
        data[doc.case_id].documents.append(doc)
    for inst in session.execute(facts.scoped(
            select(ProcessInstance.id, ProcessInstance.case_id, ProcessInstance.created_at)
            .where(ProcessInstance.process_id == DISAGREEMENT_ROUTE), ProcessInstance.case_id, where)
            .order_by(ProcessInstance.created_at, ProcessInstance.id)):
        data[inst.case_id].disagreements.append(inst)
    for case_id, instance_id, payload in session.execute(facts.scoped(
            select(Message.case_id, Message.instance_id, Message.payload)
            .where(Message.name == DISAGREEMENT_MESSAGE, Message.instance_id.is_not(None)), Message.case_id, where)):
        decision = (payload or {}).get("decision")
        if isinstance(decision, str):
            data[case_id].decisions[instance_id] = decision
    for d in session.execute(facts.scoped(
            select(Deadline.case_id, Deadline.key, Deadline.status, Deadline.instance_id, Deadline.met_at,
                   Deadline.missed)
            .where(or_(Deadline.key.in_(("mediation_held", "tribunal_response", "annual_review")),
                       Deadline.key.like("annual_review:%"))), Deadline.case_id, where).order_by(Deadline.id)):
        base = d.key.split(":", 1)[0]
        if base == "annual_review":
            if d.met_at is not None and d.status != "cancelled":
                data[d.case_id].reviews.append(d)
        else:
            data[d.case_id].side_deadlines[base].append(d)
    for case_id, sections in session.execute(facts.scoped(
            select(PlanVersion.case_id, PlanVersion.sections).where(PlanVersion.issued_at.is_not(None)),
            PlanVersion.case_id, where).order_by(PlanVersion.issued_at, PlanVersion.id)):
        data[case_id].named = dict((sections or {}).get("I") or {})
    return data


def _decision(d: _CaseData, inst: Any) -> str:
    if inst.id in d.decisions:
        return d.decisions[inst.id]
    before = [doc for doc in d.documents if doc.appealable and doc.issued_at <= inst.created_at]
    return NOTICE_DECISIONS.get(before[-1].kind, before[-1].kind) if before else "unknown"


def _disagreements(d: _CaseData, since: datetime | None, until: datetime | None) -> dict[str, tuple[bool, bool]]:
    """topic -> (mediation held, appeal registered), over the disagreements started in the window."""
    out: dict[str, tuple[bool, bool]] = {}
    for inst in d.disagreements:
        if (since is not None and inst.created_at < since) or (until is not None and inst.created_at >= until):
            continue
        topic = DISAGREEMENT_TOPICS.get(_decision(d, inst), "plan")
        mediated = any(x.instance_id == inst.id and x.status == "met" for x in d.side_deadlines["mediation_held"])
        appealed = any(x.instance_id == inst.id for x in d.side_deadlines["tribunal_response"])
        held, registered = out.get(topic, (False, False))
        out[topic] = (held or mediated, registered or appealed)
    return out


def _latest(docs: list[Any], kinds: dict[str, str], since: datetime | None, until: datetime | None) -> Any:
    found = [d for d in docs if d.kind in kinds and (since is None or d.issued_at >= since)
             and (until is None or d.issued_at < until)]
    return found[-1] if found else None


def sen2_export(session: Session, la_id: int, year: int | None = None) -> Sen2Export:
    """The authority's SEN2 records (with a calendar year, those with something in that year; see docs/sen2.md),
    and the records refused for a missing mandatory item, with what to fix."""
    where = facts.case_filter(session, la_id)
    histories = facts.la_histories(session, where)
    by_case = facts.requests(session, where, histories)
    data = _case_data(session, where)
    codes = {o.id: (o.code or o.name) for o in session.execute(
        select(Organisation.id, Organisation.code, Organisation.name)
        .where(Organisation.kind.in_(("local_authority", "setting"))))}
    export = Sen2Export(la_id, year)
    for case in session.scalars(select(Case).where(where).order_by(Case.reference)):
        history = histories.get(case.id) or facts.LaHistory(case.la_id)
        builder = _Builder(case, history, by_case.get(case.id, []), data[case.id], la_id, year, codes)
        problems: list[str] = []
        for row, missing in builder.records():
            if missing:
                problems += [p for p in missing if p not in problems]
            else:
                export.rows.append({k: neutralise(row.get(k, "")) for k in SEN2_COLUMNS})
        if problems:
            export.refused.append(Refusal(case.id, case.reference, case.child_name, problems, {
                p: DETAIL_FIELDS[p.split(":", 1)[0]] for p in problems if p.split(":", 1)[0] in DETAIL_FIELDS}))
    return export


def sen2_csv(session: Session, la_id: int, year: int | None = None) -> str:
    """The exported records as CSV (the refused ones are left out: see sen2_export)."""
    return sen2_export(session, la_id, year).csv()


class _Builder:
    """The records of one case for one authority."""

    def __init__(self, case: Case, history: facts.LaHistory, reqs: list[facts.Request], data: _CaseData, la_id: int,
                 year: int | None, codes: dict[int, str]) -> None:
        self.case, self.history, self.reqs, self.data = case, history, reqs, data
        self.la_id, self.year, self.codes = la_id, year, codes
        self.start = date(year, 1, 1) if year else None
        self.end = date(year, 12, 31) if year else None

    def _in_year(self, day: date | None) -> bool:
        return day is not None and (self.year is None or day.year == self.year)

    def records(self) -> list[tuple[dict[str, Any], list[str]]]:
        own = [r for r in self.reqs if (r.plan_la_id if r.issued_on is not None else r.la_id) == self.la_id]
        issued = [r for r in own if r.issued_on is not None]
        holder = issued[-1] if issued else None
        out = []
        moved_in = self.history.moved_in(self.la_id)
        plan_before_move = [r for r in self.reqs if r.issued_on is not None and moved_in is not None
                            and r.plan.met_at < moved_in[1]]
        if moved_in is not None and plan_before_move and (holder is None or holder.plan.met_at < moved_in[1]):
            row, problems = self._transfer_row(plan_before_move[-1], moved_in)
            if self.year is None or row.get("ReviewsCompleted") or self._in_force(row):
                out.append((row, problems))
            holder = None
        for r in own:
            row = self._request_row(r, holder=r is holder)
            if row is not None:
                out.append(row)
        return out

    def _person(self) -> tuple[dict[str, Any], list[str]]:
        c = self.case
        problems = []
        for item, fix in PERSON_ITEMS.items():
            value = getattr(c, PERSON_SOURCES[item])
            if not (value.strip() if isinstance(value, str) else value):
                problems.append(f"{item}: record {fix} on the case")
        return {"LA": self.codes.get(self.la_id, ""), "CaseReference": c.reference, "Surname": c.child_last_name,
                "Forename": c.child_first_name, "PersonBirthDate": _iso(c.date_of_birth), "Sex": c.sex or "",
                "Ethnicity": c.ethnicity or "", "PostCode": c.postcode or "", "UPN": c.upn or ""}, problems

    def _plan_columns(self, r: facts.Request | None, since: datetime | None) -> dict[str, Any]:
        """The named plan and active plan columns of the plan the record holds; with a transfer out, ceased then."""
        row: dict[str, Any] = {}
        if r is None or r.issued_on is None:
            return row
        named = self.data.named
        setting = named.get("setting_id")
        urn = self.codes.get(setting, "") if isinstance(setting, int) else ""
        row.update({"StartDate": _iso(r.issued_on), "URN": urn if urn.isdigit() and len(urn) == 6 else "",
                    "SettingName": named.get("name") or ""})
        ceased = _latest(self.data.documents, {CEASED_KIND: ""}, since, None)
        left = next(((when, to) for when, frm, to in self.history.moves if frm == self.la_id
                     and when > r.plan.met_at), None)
        if left is not None and (ceased is None or ceased.issued_at > left[0]):
            row.update({"CeaseDate": _iso(_day(left[0])), "CeaseReason": CEASE_TRANSFERRED})
        elif ceased is not None:
            row["CeaseDate"] = _iso(_day(ceased.issued_at))
        reviews = [d for d in self.data.reviews if self.history.at(d.met_at) == self.la_id
                   and (since is None or d.met_at >= since) and self._in_year(_day(d.met_at))]
        row.update({"ReviewsCompleted": len(reviews), "ReviewsOnTime": sum(1 for d in reviews if not d.missed),
                    "LastReview": _iso(max((_day(d.met_at) for d in reviews), default=None))})  # type: ignore[type-var]
        return row

    def _in_force(self, row: dict[str, Any]) -> bool:
        """The plan was in force during the year while this authority was responsible."""
        if not row.get("StartDate") or self.start is None or self.end is None:
            return False
        begun = date.fromisoformat(row["StartDate"])
        ended = date.fromisoformat(row["CeaseDate"]) if row.get("CeaseDate") else None
        return begun <= self.end and (ended is None or ended >= self.start) \
            and self.history.held_during(self.la_id, self.start, self.end)

    def _transfer_row(self, r: facts.Request, moved_in: tuple[int, datetime]) \
            -> tuple[dict[str, Any], list[str]]:
        person, problems = self._person()
        row = {**person, **self._plan_columns(r, moved_in[1]), "TransferLA": self.codes.get(moved_in[0], "")}
        return row, problems

    def _request_row(self, r: facts.Request, holder: bool) -> tuple[dict[str, Any], list[str]] | None:
        person, problems = self._person()
        since, until = r.started_at, r.ended_at
        docs = self.data.documents if r.instance_id is not None else []
        request_doc = _latest(docs, REQUEST_OUTCOMES, since, until)
        assessment_doc = _latest(docs, ASSESSMENT_OUTCOMES, since, until)
        outcome = ASSESSMENT_OUTCOMES[assessment_doc.kind] if assessment_doc else ("issue" if r.issued_on else "")
        if request_doc:
            request_outcome = REQUEST_OUTCOMES[request_doc.kind]
        else:
            request_outcome = "assess" if outcome else ("pending" if r.instance_id is not None else "")
        if request_outcome == "assess" and not outcome:
            outcome = "pending"
        decided = _day(r.decide.met_at) if r.decide is not None else None
        request_on = _day(request_doc.issued_at) if request_doc else decided
        topics = _disagreements(self.data, since, until)
        no = (False, False)
        row: dict[str, Any] = {
            **person,
            "ReceivedDate": _iso(r.received_on),
            "RequestSource": REQUEST_SOURCES.get(r.requester_type or "", ""),
            "RequestOutcomeDate": _iso(request_on), "RequestOutcome": request_outcome,
            "RequestMediation": _flag(topics.get("request", no)[0]),
            "RequestTribunal": _flag(topics.get("request", no)[1]),
            "Exported": _flag(request_outcome == "moved_away"),
            "AssessmentOutcome": outcome,
            "AssessmentOutcomeDate": _iso(_day(assessment_doc.issued_at)) if assessment_doc else "",
            "AssessmentMediation": _flag(topics.get("assessment", no)[0]),
            "AssessmentTribunal": _flag(topics.get("assessment", no)[1]),
            "OtherMediation": _flag(topics.get("plan", no)[0]), "OtherTribunal": _flag(topics.get("plan", no)[1]),
            "Week20": _flag(bool(r.exception)) if r.plan is not None else "",
            "StartDate": _iso(r.issued_on),
            "Within20Weeks": _flag(r.within_20_weeks),
            "LocalStatutoryStartDate": _iso(r.statutory_start),
            "LocalPlanDue": _iso(r.plan.due_date) if r.plan is not None else "",
            "LocalWithin20Weeks": _flag(r.within_20_weeks_local), "PlanExceptionReason": r.exception,
        }
        if holder:
            row.update(self._plan_columns(r, r.plan.met_at))
        if self.year is not None and not self._touches_year(row, r, request_doc, assessment_doc, holder):
            return None
        if r.received_on is None:
            problems.append("ReceivedDate: the request for this plan is not recorded in EHC Flow (the plan was "
                            "drafted without an assessment here): record the request and the date it was received")
        return row, problems

    def _touches_year(self, row: dict[str, Any], r: facts.Request, request_doc: Any, assessment_doc: Any,
                      holder: bool) -> bool:
        """Something of the record happened in the year, its plan was in force then, or it was being worked on."""
        assert self.start is not None and self.end is not None
        days = [r.received_on, r.issued_on, _day(r.decide.met_at) if r.decide is not None else None,
                _day(request_doc.issued_at) if request_doc else None,
                _day(assessment_doc.issued_at) if assessment_doc else None,
                date.fromisoformat(row["CeaseDate"]) if row.get("CeaseDate") else None]
        if any(self._in_year(d) for d in days) or row.get("ReviewsCompleted") or (holder and self._in_force(row)):
            return True
        finished = [d for d in (r.issued_on, _day(assessment_doc.issued_at) if assessment_doc else None) if d]
        if request_doc is not None and request_doc.kind != "decision_to_assess":
            finished.append(_day(request_doc.issued_at))  # type: ignore[arg-type]
        begun = r.received_on or r.statutory_start
        return begun is not None and begun <= self.end and (not finished or max(finished) >= self.start)


FIRST_YEAR = 2014  # EHC plans began on 1 September 2014


def sen2_years(today: date) -> list[int]:
    """The years an export can be asked for, latest first."""
    return list(range(today.year, FIRST_YEAR - 1, -1))


__all__ = ["FIRST_YEAR", "Refusal", "SEN2_COLUMNS", "Sen2Export", "neutralise", "sen2_csv", "sen2_export",
           "sen2_years"]
