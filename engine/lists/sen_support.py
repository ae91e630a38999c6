"""SEN support in a setting (workflows/sen_support.bpmn, issue 19), as the setting and the authority read it: the
SENCO's list of pupils on SEN support with their next review date, a pupil's record on one page, and the setting's
provision map.

The list and the provision map read projections only (running instances, their review rows
``sen_support_review:<cycle>`` on the case's clock, open tasks, and the answers of completed tasks kept in
``HumanTask.submitted_data``), so that no list deserializes a workflow. The one-pupil record reads the route's data;
the caller passes the engine's ``load_workflow`` (``engine.lists`` sits beside ``engine.runtime`` and does not import
it).

Who sees what: a setting's SENCOs (the school role at the organisation that is the case's active ``setting`` party)
see their own pupils; the responsible authority's caseworkers and managers see the record of any pupil on its cases.
A child who moves setting goes with the case's ``setting`` party: the new setting sees them, the old one no longer.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.lists.holder import Holder
from engine.lists.tasks import DUE_SOON_DAYS
from engine.people.access import document_reader
from engine.people.roles import Role
from engine.store.models import (
    Case,
    CaseParty,
    Deadline,
    Document,
    HumanTask,
    Organisation,
    ProcessInstance,
    ProcessVersion,
    User,
)

PROCESS_ID = "sen_support"
REVIEW_KEY = "sen_support_review"
ACTIVE_STATUSES = ("running", "waiting_person", "waiting_timer", "failed", "suspended")
#: Who at the responsible authority reads a pupil's record (the need to know: its SEN casework).
LA_READERS = frozenset({Role.CASEWORKER.value, Role.MANAGER.value})

#: The words of each answer, as the route's forms give them (forms/ss_*.json). The pages read them from the forms of
#: the deployed version (``labels_from_files``), so that a form's wording changed by a process owner shows at once;
#: these are the fallback for a version without that form.
PRIMARY_NEEDS = {
    "SPLD": "Specific learning difficulty", "MLD": "Moderate learning difficulty", "SLD": "Severe learning difficulty",
    "PMLD": "Profound and multiple learning difficulty", "SEMH": "Social, emotional and mental health",
    "SLCN": "Speech, language and communication needs", "HI": "Hearing impairment", "VI": "Vision impairment",
    "MSI": "Multi-sensory impairment", "PD": "Physical disability", "ASD": "Autistic spectrum disorder",
    "OTH": "Other difficulty", "NSA": "SEN support but no specialist assessment of the type of need",
}
AREAS_OF_NEED = {
    "communication_and_interaction": "Communication and interaction", "cognition_and_learning": "Cognition and learning",
    "social_emotional_mental_health": "Social, emotional and mental health",
    "sensory_and_physical": "Sensory and/or physical needs",
}
PROGRESS = {"met": "Met", "good": "Good progress", "some": "Some progress", "little": "Little or no progress"}
NEXT_STEPS = {
    "continue": "Continue: the same plan, a new review date", "change": "Change the support: assess and plan again",
    "specialist": "Involve a specialist: ask for their advice",
    "request_assessment": "Ask the local authority for an EHC needs assessment",
    "stop": "Stop SEN support: the child no longer needs special educational provision",
}
TOLD_HOW = {"meeting": "At a meeting", "phone": "By phone", "letter": "By letter", "email": "By email"}
SPECIALISTS = {
    "educational_psychologist": "The local authority's educational psychology service",
    "speech_and_language": "Speech and language therapy (the NHS)",
    "advisory_teacher": "A local authority advisory teacher",
    "other": "Another specialist (for example an occupational therapist)",
}
#: label set -> (its fallback, the form, the path to the question within the form's properties)
CHOICES: dict[str, tuple[dict[str, str], str, tuple[str, ...]]] = {
    "needs": (PRIMARY_NEEDS, "ss_assess.json", ("primary_need",)),
    "areas": (AREAS_OF_NEED, "ss_assess.json", ("areas_of_need", "items")),
    "progress": (PROGRESS, "ss_review.json", ("outcome_progress", "items", "properties", "progress")),
    "next_steps": (NEXT_STEPS, "ss_review.json", ("next_step",)),
    "told_how": (TOLD_HOW, "ss_identify.json", ("parents_told_how",)),
    "specialists": (SPECIALISTS, "ss_specialist_request.json", ("specialist_kind",)),
}
ADVICE_TASKS = ("UT_advice_ep", "UT_advice_health", "UT_advice_other")
#: Open once the review meeting of the cycle under way is arranged.
ARRANGED_TASKS = ("UT_family_views", "UT_review")

#: Review statuses in the list, in the order it is sorted.
REVIEW_STATUSES = {"overdue": "Overdue", "due_soon": "Due soon", "due": "Due", "no_date": "Not set yet"}


# ---- the words of the answers ----------------------------------------------------------------------------------------
def labels_from_files(files: Mapping[str, str] | None,
                      choices: Mapping[str, tuple[dict[str, str], str, tuple[str, ...]]] | None = None,
                      ) -> dict[str, dict[str, str]]:
    """label set -> value -> words, from the forms among a process version's files (``ProcessVersion.files``), each
    falling back to the given words (this module's ``CHOICES`` by default) for a form or question the version does
    not have."""
    out: dict[str, dict[str, str]] = {}
    for name, (fallback, form, path) in (CHOICES if choices is None else choices).items():
        labels = dict(fallback)
        try:
            node: Any = json.loads((files or {})[f"forms/{form}"])["properties"]
            for step in path:
                node = node[step]
            labels.update({str(o["const"]): str(o["title"]) for o in node.get("oneOf") or []})
        except (KeyError, TypeError, ValueError, AttributeError):
            pass
        out[name] = labels
    return out


def current_labels(session: Session) -> dict[str, dict[str, str]]:
    """The words of the route's current version's forms."""
    files = session.scalars(select(ProcessVersion.files).where(ProcessVersion.process_id == PROCESS_ID,
                                                               ProcessVersion.is_current.is_(True))
                            .order_by(ProcessVersion.id.desc())).first()
    return labels_from_files(files)


# ---- who ------------------------------------------------------------------------------------------------------------
def senco_settings(who: Holder) -> set[int]:
    """The settings at which the user holds the school role (a SENCO, a headteacher)."""
    return {org for org, role in who.roles if org is not None and role == Role.SCHOOL.value}


def setting_of(session: Session, case_id: int) -> Organisation | None:
    """The case's current setting (its active ``setting`` party)."""
    return session.scalars(select(Organisation).join(CaseParty, CaseParty.organisation_id == Organisation.id)
                           .where(CaseParty.case_id == case_id, CaseParty.role == "setting",
                                  CaseParty.active.is_(True)).order_by(CaseParty.id)).first()


def may_read_record(session: Session, who: Holder, case: Case) -> bool:
    """The case's current setting's SENCOs, and the responsible authority's caseworkers and managers."""
    if any(org == case.la_id and role in LA_READERS for org, role in who.roles):
        return True
    setting = setting_of(session, case.id)
    return setting is not None and setting.id in senco_settings(who)


# ---- the SENCO's list -----------------------------------------------------------------------------------------------
@dataclass
class PupilRow:
    case_id: int
    reference: str
    child_name: str
    date_of_birth: date | None
    setting_id: int
    setting_name: str
    instance_id: int
    cycle: int | None  # the cycle whose review is next (or was last reviewed)
    review_due: date | None  # None: the next review date is not set yet
    status: str  # a key of REVIEW_STATUSES
    primary_need: str = ""  # the words of the form, not the census code
    stage: list[str] = field(default_factory=list)  # the names of the route's open tasks

    @property
    def status_label(self) -> str:
        return REVIEW_STATUSES[self.status]


def _cycle_of(key: str) -> int | None:
    _, _, number = key.partition(":")
    return int(number) if number.isdigit() else None


def review_status(row: Deadline | None, today: date) -> tuple[date | None, str]:
    """The next review date and its status, from the latest review row of a cycle: a review not held after its date
    (the row missed and not yet met, or open and past while the timer waits for the worker) is overdue; a review
    held leaves no date until the next cycle's plan sets one."""
    if row is None or row.status == "cancelled" or row.met_at is not None:
        return None, "no_date"
    if row.status == "missed" or row.due_date < today:
        return row.due_date, "overdue"
    if row.due_date <= today + timedelta(days=DUE_SOON_DAYS):
        return row.due_date, "due_soon"
    return row.due_date, "due"


def pupils_on_sen_support(session: Session, who: Holder, today: date) -> list[PupilRow]:
    """The pupils of the user's settings on SEN support (a running route), overdue reviews first, then by date."""
    settings = senco_settings(who)
    if not settings:
        return []
    found = session.execute(
        select(ProcessInstance.id, Case, Organisation.id, Organisation.name)
        .join(Case, Case.id == ProcessInstance.case_id)
        .join(CaseParty, (CaseParty.case_id == Case.id) & (CaseParty.role == "setting") & CaseParty.active.is_(True))
        .join(Organisation, Organisation.id == CaseParty.organisation_id)
        .where(ProcessInstance.process_id == PROCESS_ID, ProcessInstance.status.in_(ACTIVE_STATUSES),
               CaseParty.organisation_id.in_(sorted(settings)))
        .order_by(ProcessInstance.id)).all()
    ids = [instance_id for instance_id, *_ in found]
    latest: dict[int, Deadline] = {}
    for row in session.scalars(select(Deadline).where(Deadline.instance_id.in_(ids),
                                                      Deadline.key.startswith(REVIEW_KEY + ":"))
                               .order_by(Deadline.id)):
        assert row.instance_id is not None
        if row.status != "cancelled":
            latest[row.instance_id] = row
    needs: dict[int, str] = {}
    stages: dict[int, list[str]] = {}
    for task in session.scalars(select(HumanTask).where(HumanTask.instance_id.in_(ids), HumanTask.status == "open")
                                .order_by(HumanTask.id)):
        stages.setdefault(task.instance_id, []).append(task.name)
    for task in session.scalars(select(HumanTask).where(HumanTask.instance_id.in_(ids), HumanTask.bpmn_id == "UT_assess",
                                                        HumanTask.status == "completed")
                                .order_by(HumanTask.completed_at, HumanTask.id)):
        needs[task.instance_id] = str((task.submitted_data or {}).get("primary_need") or "")  # the latest wins
    words = current_labels(session)["needs"]
    rows = []
    for instance_id, case, setting_id, setting_name in found:
        deadline = latest.get(instance_id)
        due, status = review_status(deadline, today)
        rows.append(PupilRow(case.id, case.reference, case.child_name, case.date_of_birth, setting_id, setting_name,
                             instance_id, _cycle_of(deadline.key) if deadline else None, due, status,
                             words.get(needs.get(instance_id, ""), needs.get(instance_id, "")),
                             stages.get(instance_id, [])))
    order = list(REVIEW_STATUSES)
    return sorted(rows, key=lambda r: (order.index(r.status), r.review_due or date.max, r.child_name.lower(),
                                       r.case_id))


# ---- the provision map ----------------------------------------------------------------------------------------------
@dataclass
class ProvisionLine:
    setting_name: str
    description: str
    delivered_by: str
    pupils: int = 0
    hours_per_week: float = 0.0
    cost_per_year: float = 0.0


PROVISION_COLUMNS = ("Setting", "Provision", "Delivered by", "Pupils", "Staff hours a week", "Cost a year (GBP)")
# A spreadsheet runs a cell starting with one of these as a formula (as engine/reports/sen2.py).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _number(value: Any) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def provision_map(session: Session, who: Holder) -> list[ProvisionLine]:
    """The provision each of the user's settings runs for its pupils on SEN support, from each pupil's current plan
    (the last plan agreed: a review that continues the plan keeps it): one line per provision and who delivers it
    (the same words, ignoring case and spaces), with how many pupils have it and the staff hours and cost it adds
    up to. A setting's notional SEN budget is not recorded anywhere, so the map does not compare against it."""
    settings = senco_settings(who)
    if not settings:
        return []
    found = session.execute(
        select(ProcessInstance.id, Organisation.name)
        .join(CaseParty, (CaseParty.case_id == ProcessInstance.case_id) & (CaseParty.role == "setting")
              & CaseParty.active.is_(True))
        .join(Organisation, Organisation.id == CaseParty.organisation_id)
        .where(ProcessInstance.process_id == PROCESS_ID, ProcessInstance.status.in_(ACTIVE_STATUSES),
               CaseParty.organisation_id.in_(sorted(settings)))).all()
    setting_of_instance = dict(found)
    plans: dict[int, dict[str, Any]] = {}
    for task in session.scalars(select(HumanTask).where(HumanTask.instance_id.in_(list(setting_of_instance)),
                                                        HumanTask.bpmn_id == "UT_plan",
                                                        HumanTask.status == "completed")
                                .order_by(HumanTask.completed_at, HumanTask.id)):
        plans[task.instance_id] = task.submitted_data or {}
    lines: dict[tuple[str, str, str], ProvisionLine] = {}
    for instance_id, plan in plans.items():
        setting = setting_of_instance[instance_id]
        seen: set[tuple[str, str, str]] = set()
        for item in plan.get("provision") or []:
            if not isinstance(item, dict):
                continue
            description = " ".join(str(item.get("description") or "").split())
            delivered_by = " ".join(str(item.get("delivered_by") or "").split())
            key = (setting, description.lower(), delivered_by.lower())
            line = lines.setdefault(key, ProvisionLine(setting, description, delivered_by))
            if key not in seen:  # a pupil counted once per line, even if the plan lists it twice
                line.pupils += 1
                seen.add(key)
            line.hours_per_week += _number(item.get("hours_per_week"))
            line.cost_per_year += _number(item.get("cost_per_year"))
    return sorted(lines.values(), key=lambda line: (line.setting_name, line.description.lower(), line.delivered_by.lower()))


def provision_map_csv(lines: list[ProvisionLine], budgets: dict[str, int] | None = None, year: str = "") -> str:
    """The provision map as CSV, with a total line per setting and, where the setting recorded its notional SEN
    budget for the year (setting name -> whole pounds; engine/casework/sen_support_budget.py), the budget and what is
    left of it; every cell safe to open in a spreadsheet."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(PROVISION_COLUMNS)
    for setting in sorted({line.setting_name for line in lines} | set(budgets or {})):
        mine = [line for line in lines if line.setting_name == setting]
        for line in mine:
            writer.writerow([_cell(line.setting_name), _cell(line.description), _cell(line.delivered_by), line.pupils,
                             f"{line.hours_per_week:g}", f"{line.cost_per_year:.2f}"])
        cost = sum(line.cost_per_year for line in mine)
        writer.writerow([_cell(setting), "Total", "", "", f"{sum(line.hours_per_week for line in mine):g}",
                         f"{cost:.2f}"])
        if budgets and setting in budgets:
            writer.writerow([_cell(setting), f"Notional SEN budget {year}".strip(), "", "", "",
                             f"{budgets[setting]:.2f}"])
            writer.writerow([_cell(setting), "Left of the budget", "", "", "", f"{budgets[setting] - cost:.2f}"])
    return out.getvalue()


# ---- a pupil's record -----------------------------------------------------------------------------------------------
@dataclass
class SenSupportRecord:
    case: Case
    setting: Organisation | None
    instance: ProcessInstance
    data: dict[str, Any]
    cycles: list[dict[str, Any]]  # the cycles reviewed, then the one under way (``in_progress`` True)
    reviews: dict[int, Deadline]  # cycle -> its review row on the case's clock
    advice: list[dict[str, Any]]
    advice_pending: dict[str, Any] | None
    open_tasks: list[HumanTask]
    documents: list[Document]
    labels: dict[str, dict[str, str]]  # the words of the answers, from the forms of the route's version
    earlier: int = 0  # earlier SEN support routes on the case (ended)

    @property
    def running(self) -> bool:
        return self.instance.status in ACTIVE_STATUSES


def route_data(wf: Any) -> dict[str, Any]:
    """The data a route carries now: that of the tasks it waits at, the most recently changed last (a timer waiting
    since the plan holds older answers than the review task that opened after it); for a route that ended, the data
    it ended with."""
    if wf.is_completed():
        return dict(wf.data)
    data: dict[str, Any] = {}
    waiting = wf.get_tasks(state=TaskState.READY | TaskState.WAITING)
    for task in sorted(waiting, key=lambda t: t.last_state_change):
        data.update(task.data)
    return data


def sen_support_record(session: Session, user: User, case: Case,
                       load_workflow: Callable[[ProcessInstance], Any]) -> SenSupportRecord | None:
    """The latest SEN support route on the case, as one record (None when the case never had one). The caller checks
    ``may_read_record`` first; the documents are those of the route the user may read (need to know)."""
    instances = list(session.scalars(select(ProcessInstance).where(ProcessInstance.case_id == case.id,
                                                                  ProcessInstance.process_id == PROCESS_ID)
                                      .order_by(ProcessInstance.id)))
    if not instances:
        return None
    instance = instances[-1]
    data = route_data(load_workflow(instance))
    reviews: dict[int, Deadline] = {}
    for row in session.scalars(select(Deadline).where(Deadline.instance_id == instance.id,
                                                      Deadline.key.startswith(REVIEW_KEY + ":"))
                               .order_by(Deadline.id)):
        number = _cycle_of(row.key)
        if number is not None and row.status != "cancelled":
            reviews[number] = row
    open_tasks = list(session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                              HumanTask.status == "open").order_by(HumanTask.id)))
    cycles = [dict(c) for c in data.get("cycles") or [] if isinstance(c, dict)]
    number = data.get("cycle_number")
    done = {c.get("number") for c in cycles}
    if instance.status in ACTIVE_STATUSES and number in reviews and number not in done:
        # The cycle under way: planned (its review row is open), not reviewed yet. The plan's dates reset the
        # answers of the do and review, except the meeting's date, which is this cycle's only once arranged.
        current = {"number": number, "in_progress": True, **{
            key: data.get(key) for key in ("areas_of_need", "primary_need", "assessment_summary", "outcomes",
                                           "provision", "planned_on", "review_due", "provision_started_on",
                                           "family_views_before_review", "child_views_before_review")}}
        if any(task.bpmn_id in ARRANGED_TASKS for task in open_tasks):
            current["review_meeting_on"] = data.get("review_meeting_on")
        cycles.append(current)
    pending = None
    if any(task.bpmn_id in ADVICE_TASKS for task in open_tasks):
        pending = {key: data.get(key) for key in ("specialist_kind", "specialist_name", "advice_question",
                                                  "advice_requested_on", "advice_due")}
    reader = document_reader(session, user, case)
    documents = [d for d in session.scalars(select(Document).where(Document.case_id == case.id,
                                                                   Document.instance_id == instance.id)
                                            .order_by(Document.issued_at, Document.id))
                 if reader.may_see(d, case.la_id)]
    advice = [dict(a) for a in data.get("specialist_advice") or [] if isinstance(a, dict)]
    return SenSupportRecord(case, setting_of(session, case.id), instance, data, cycles, reviews, advice, pending,
                            open_tasks, documents, labels_from_files(instance.version.files),
                            earlier=len(instances) - 1)


__all__ = [
    "AREAS_OF_NEED", "CHOICES", "NEXT_STEPS", "PRIMARY_NEEDS", "PROGRESS", "PROVISION_COLUMNS", "PupilRow",
    "ProvisionLine", "REVIEW_STATUSES", "SPECIALISTS", "SenSupportRecord", "TOLD_HOW", "current_labels",
    "labels_from_files", "may_read_record", "provision_map", "provision_map_csv", "pupils_on_sen_support",
    "review_status", "route_data", "sen_support_record", "senco_settings", "setting_of",
]
