"""Moving a case to another local authority (regulations 15 and 16), the transfer package, and links between routes.

The steps of ``workflows/plan_transfer.bpmn`` that change more than process data run here, in the transaction of
the command that completes them (BPMN scripts are sandboxed and cannot touch the database). The element property
``transferCase`` names the action (see docs/bpmn-conventions.md, "Actions the engine performs"):

``check``
    On the step that records the move: checks the new authority (and the new health body) against the directory of
    organisations and refuses the form with a message per field when something is wrong; then looks up, for the
    gateways further on, whether the new authority uses EHC Flow, whether the case has a plan in force, whether an
    assessment is running, and the date of the plan's last review (see ``FACT_KEYS``).
``apply``
    Moves the case: ``Case.la_id`` becomes the new authority, the old one is kept only as an inactive party (so its
    staff no longer see the case, ``engine.access.can_see_case``), open tasks it held pass to the new authority, and
    every other route on the case is sent ``child_moved_la`` (an EHC needs assessment in progress ends on it).
``export``
    The new authority does not use EHC Flow: the plan and its versions, the documents, the advice and the case
    history become a transfer package (a JSON document stored on the case, downloadable as a file with
    ``write_transfer_package``) and the case is closed here with the reason.
``health``
    The old health body has told the new one: the new body becomes the case's health body (the old one no longer sees
    the case).

The second half of the module lets a step start another route on the case, or send a message to the case's other
routes, in the same transaction (the ``startsRoute`` and ``sendsMessage`` element properties, used by the transfer,
the disagreement routes and tribunal orders). A hook runs inside a command, so it cannot call ``WorkflowEngine``'s
commands (each opens its own transaction); ``_Runner.advance`` below saves one more instance with
``projection.save_instance``, as a command saves its own, inside a savepoint so that a fault in the other route does
not undo this step.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any

from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine import calendar
from engine.clock import FrozenClock
from engine.errors import FormInvalid, NotFound
from engine.messages import accepts
from engine.models import (
    ACTIVE_STATUSES,
    AuditEvent,
    Case,
    CaseParty,
    Deadline,
    Document,
    HumanTask,
    Incident,
    Message,
    Organisation,
    PlanVersion,
    ProcessInstance,
    ProcessVersion,
    User,
)
from engine.plans import current_plan
from engine.sandbox import make_script_engine
from engine.script_functions import script_globals
from engine.serializer import StateSerializer

if TYPE_CHECKING:
    from SpiffWorkflow.task import Task

    from engine.projection import Projector


#: The message every other route on the case receives when the case moves (payload: the ``move`` fact of ``check``).
CHILD_MOVED_MESSAGE = "child_moved_la"
#: The route whose running instance ends when the child moves during an assessment.
ASSESSMENT_PROCESS = "ehc_needs_assessment"
#: The deadline row the review scheduler (engine.reviews) reads; its start day is the last review.
REVIEW_DEADLINE_KEY = "annual_review"

PACKAGE_FORMAT = "ehcflow-transfer-package"
PACKAGE_VERSION = 1
PACKAGE_KIND = "transfer_package"
_PACKAGE_SCRIPT_ID = "ehc-transfer-package"

#: What the ``check`` action adds to the route's data, for the gateways and documents further on.
FACT_KEYS = ("old_la_id", "old_la_name", "new_la_name", "new_la_uses_ehcflow", "has_plan", "assessment_in_progress",
             "last_review_on", "old_health_body_name", "new_health_body_name", "new_health_body_uses_ehcflow", "move")


class TransferError(RuntimeError):
    """A transfer step found the case in a state the route did not expect: the command fails and an incident is
    recorded for an administrator (not a message to the person, who did nothing wrong)."""


# ---- the routes' documents ------------------------------------------------------------------------------------------

# The notices, certificates and responses of plan_transfer, disagreement_resolution, mediation, tribunal_order,
# disagreement_resolution_service and complaint (engine/templates/documents/{tr,dr,to,co}_*.html): title, recipient
# rules, and whether the notice is of an appealable decision (then _letter.html adds the appeal-rights bundle).
DOCUMENTS: dict[str, tuple[str, tuple[str, ...], bool]] = {
    "tr_transfer_notice": ("{{ child.name }}'s EHC plan is transferring to {{ data.move.new_la }}",
                           ("family", "new_la", "copy:health", "copy:setting"), False),
    "tr_new_la_notice": ("{{ child.name }}'s EHC plan has transferred to {{ la.name }}",
                         ("family", "copy:setting", "copy:health"), False),
    "tr_health_notification": ("EHC plan for {{ child.name }}: you are now the responsible health body",
                               ("new_health_body",), False),
    "dr_mediation_certificate": ("Mediation certificate for {{ child.name }}", ("family", "copy:la"), False),
    "dr_mediation_arrangements": ("Mediation about {{ child.name }}: {{ data.mediation_on | long_date }}",
                                  ("family", "copy:mediation_service"), False),
    "dr_mediation_agreement": ("What was agreed at mediation about {{ child.name }}", ("family", "copy:la"), False),
    "dr_la_response": ("Response of {{ la.name }} to the appeal about {{ child.name }}", ("tribunal", "copy:family"),
                       False),
    "dr_tribunal_decision": ("The Tribunal's decision on your appeal about {{ child.name }}", ("family",), False),
    "dr_drs_outcome": ("Disagreement resolution about {{ child.name }}: the outcome", ("family",), False),
    "to_compliance_notice": ("What we will do to carry out the decision about {{ child.name }}",
                             ("family", "copy:setting", "copy:health"), False),
    "to_health_response": ("Response to the Tribunal's health recommendations for {{ child.name }}",
                           ("family", "copy:la"), False),
    "to_social_care_response": ("Response to the Tribunal's social care recommendations for {{ child.name }}",
                                ("family",), False),
    "co_acknowledgement": ("We have received your complaint", ("complainant",), False),
    "co_response": ("Our response to your complaint", ("complainant",), False),
    "co_ombudsman_decision": ("The Ombudsman's decision on your complaint", ("complainant",), False),
}

# Recipient rules these documents need besides engine.documents' own.
RECIPIENT_RULES: tuple[str, ...] = ("new_health_body", "la", "tribunal", "mediation_service", "complainant")

TRIBUNAL = "First-tier Tribunal (Special Educational Needs and Disability)"


def document_templates(factory: Any) -> dict[str, Any]:
    """The routes' document templates built with engine.documents.DocumentTemplate (passed in: no import cycle)."""
    return {name: factory(title, recipients, appealable) for name, (title, recipients, appealable) in DOCUMENTS.items()}


def recipients(rule: str, case: Case, data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The recipients for one of RECIPIENT_RULES, in engine.documents' recipient shape."""
    from sqlalchemy.orm import object_session

    session = object_session(case)
    if session is None:
        raise ValueError("The case must be loaded in a session to find the recipients")
    if rule == "new_health_body":
        org = _organisation(session, data.get("new_health_body_id"), "health_body")
        if org is not None:
            return [{"name": org.name, "role": "health_body", "organisation_id": org.id, "email": org.email,
                     "address": org.address}]
        return [{"name": str(data.get("new_health_body_name") or "The new responsible commissioning body"),
                 "role": "health_body", "organisation_id": None}]
    if rule == "la":
        la = session.get(Organisation, case.la_id)
        assert la is not None
        return [{"name": la.name, "role": "local_authority", "organisation_id": la.id, "email": la.email,
                 "address": la.address}]
    if rule == "mediation_service":
        party = next(iter(_party_orgs(session, case.id, "mediation_service")), None)
        if party is None or party.organisation is None:
            return [{"name": "The mediation service", "role": "mediation_service", "organisation_id": None}]
        org = party.organisation
        return [{"name": org.name, "role": "mediation_service", "organisation_id": org.id, "email": org.email,
                 "address": org.address}]
    if rule == "tribunal":
        return [{"name": TRIBUNAL, "role": "tribunal", "organisation_id": None}]
    if rule == "complainant":
        return [{"name": str(data.get("complainant_name") or "The complainant"),
                 "role": str(data.get("complainant") or "complainant"), "organisation_id": None}]
    raise KeyError(f"No recipient rule {rule!r} in engine.transfer")


# ---- the transferCase hook -------------------------------------------------------------------------------------------

def apply_transfer(projector: Projector, task: Task, value: str = "apply") -> None:
    """The ``transferCase`` completion hook (engine.projection.COMPLETION_HOOKS)."""
    action = (value or "apply").strip()
    handlers = {"check": check_move, "apply": move_case, "export": export_and_close, "health": change_health_body}
    handler = handlers.get(action)
    if handler is None:
        raise ValueError(f"transferCase must be one of {', '.join(handlers)}, not {action!r}")
    handler(projector, task)


def _case(projector: Projector) -> Case:
    case = projector.session.get(Case, projector.instance.case_id)
    if case is None:
        raise NotFound("The case of this route no longer exists")
    return case


def _organisation(session: Session, value: Any, kind: str) -> Organisation | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    org = session.get(Organisation, value)
    return org if org is not None and org.kind == kind else None


def _date_or_none(value: Any) -> date | None:
    try:
        return calendar.as_date(value) if value not in (None, "") else None
    except ValueError:
        return None


def _party_orgs(session: Session, case_id: int, role: str) -> list[CaseParty]:
    return list(session.scalars(select(CaseParty).where(CaseParty.case_id == case_id, CaseParty.role == role,
                                                        CaseParty.active.is_(True)).order_by(CaseParty.id)))


def _running(session: Session, case_id: int, process_id: str, exclude: int | None = None) -> list[ProcessInstance]:
    query = select(ProcessInstance).where(ProcessInstance.case_id == case_id, ProcessInstance.process_id == process_id,
                                          ProcessInstance.status.in_(ACTIVE_STATUSES))
    if exclude is not None:
        query = query.where(ProcessInstance.id != exclude)
    return list(session.scalars(query.order_by(ProcessInstance.id)))


def last_review_date(session: Session, case_id: int) -> date | None:
    """The day the plan was last reviewed, or issued if it has not been: the start of the open review deadline
    (plan drafting and each review open it on that day), else the day the plan in force was issued."""
    row = session.scalars(select(Deadline).where(Deadline.case_id == case_id, Deadline.key == REVIEW_DEADLINE_KEY,
                                                 Deadline.status == "open").order_by(Deadline.id.desc())).first()
    if row is not None and row.started_on is not None:
        return row.started_on
    plan = current_plan(session, case_id)
    if plan is not None and plan.issued_at is not None:
        return calendar.to_london_date(plan.issued_at)
    return None


def check_move(projector: Projector, task: Task) -> dict[str, Any]:
    """``transferCase: check``: validates the recorded move against the directory and shares what it found."""
    session = projector.session
    case = _case(projector)
    data = task.data
    today = calendar.to_london_date(projector.now)
    errors: dict[str, str] = {}
    new_la = _organisation(session, data.get("new_la_id"), "local_authority")
    if new_la is None:
        errors["new_la_id"] = "Choose the local authority the family is moving to"
    elif new_la.id == case.la_id:
        errors["new_la_id"] = f"Choose another local authority: the case is already with {new_la.name}"
    move_date = _date_or_none(data.get("move_date"))
    aware_date = _date_or_none(data.get("aware_date"))
    if move_date is None:
        errors["move_date"] = "Enter the date of the move"
    if aware_date is None:
        errors["aware_date"] = "Enter the date we became aware of the move"
    elif aware_date > today:
        errors["aware_date"] = "The date we became aware of the move cannot be in the future"
    new_health: Organisation | None = None
    new_health_name = str(data.get("new_health_body_name") or "").strip()
    if data.get("health_body_changes") == "yes":
        new_health = _organisation(session, data.get("new_health_body_id"), "health_body")
        current = {p.organisation_id for p in _party_orgs(session, case.id, "health_body")}
        if data.get("new_health_body_id") not in (None, "") and new_health is None:
            errors["new_health_body_id"] = "Choose the new health body from the list, or type its name instead"
        elif new_health is not None and new_health.id in current:
            errors["new_health_body_id"] = f"{new_health.name} is already the child's health body"
        elif new_health is None and not new_health_name:
            errors["new_health_body_id"] = "Choose the new health body, or type its name if it is not in the list"
        if new_health is not None:
            new_health_name = new_health.name
    has_plan = current_plan(session, case.id) is not None
    last_review = _date_or_none(data.get("last_review_on")) or (last_review_date(session, case.id) if has_plan
                                                                  else None)
    if has_plan and last_review is None:
        errors["last_review_on"] = "Enter the date of the plan's last review (or the date it was issued)"
    if errors:
        raise FormInvalid(errors)
    assert new_la is not None and move_date is not None
    old_la = case.la
    old_health = [p.organisation.name for p in _party_orgs(session, case.id, "health_body") if p.organisation]
    facts: dict[str, Any] = {
        "old_la_id": case.la_id,
        "old_la_name": old_la.name,
        "new_la_name": new_la.name,
        "new_la_uses_ehcflow": bool(new_la.uses_ehcflow and new_la.active),
        "has_plan": has_plan,
        "assessment_in_progress": bool(_running(session, case.id, ASSESSMENT_PROCESS)),
        "last_review_on": last_review.isoformat() if last_review else None,
        "old_health_body_name": ", ".join(old_health) or None,
        "new_health_body_name": new_health_name or None,
        "new_health_body_uses_ehcflow": bool(new_health is not None and new_health.uses_ehcflow and new_health.active),
        # The shape the documents' "new_la" recipient rule and the assessment's child_moved_la handler read.
        "move": {"new_la": new_la.name, "new_la_id": new_la.id, "moved_on": move_date.isoformat(),
                 "aware_on": aware_date.isoformat() if aware_date else None, "old_la": old_la.name,
                 "old_la_id": old_la.id, "note": str(data.get("notes_for_new_la") or "")},
    }
    share_with_route(projector, task, facts)
    projector.events.append(("move_recorded", f"Move to {new_la.name} on {move_date.isoformat()} recorded",
                             {"new_la_id": new_la.id, "move_date": move_date.isoformat(),
                              "uses_ehcflow": facts["new_la_uses_ehcflow"]}))
    return facts


def share_with_route(projector: Projector, task: Task, facts: Mapping[str, Any]) -> None:
    """Adds facts to the data of the step that completed and of every step of its route now ready or waiting.

    The hook runs after SpiffWorkflow has moved the route on, so the steps that follow already hold their copy of
    the data; they carry these facts forward to the gateways that read them.
    """
    task.data.update(facts)
    for other in projector.wf.get_tasks(state=TaskState.READY | TaskState.WAITING):
        other.data.update(facts)


def move_case(projector: Projector, task: Task) -> None:
    """``transferCase: apply``: the new authority becomes responsible for the case."""
    session = projector.session
    case = _case(projector)
    data = task.data
    new_la = _organisation(session, data.get("new_la_id"), "local_authority")
    if new_la is None:
        raise TransferError("The authority the case is moving to is no longer in the directory")
    if case.la_id == new_la.id:
        return  # already moved (a retried step)
    if not new_la.uses_ehcflow:
        raise TransferError(f"{new_la.name} does not use EHC Flow: export a transfer package instead")
    old_la_id = case.la_id
    old_la_name = case.la.name
    case.la_id = new_la.id
    # Who was responsible before stays on the case's record, inactive, so it gives the old staff no access.
    for party in session.scalars(select(CaseParty).where(CaseParty.case_id == case.id,
                                                         CaseParty.organisation_id == old_la_id,
                                                         CaseParty.active.is_(True))):
        party.active = False
    session.add(CaseParty(case_id=case.id, role="previous_local_authority", organisation_id=old_la_id, active=False))
    # Work the old authority still held on any route of the case passes to the new one, unassigned.
    handed_over = 0
    for row in session.scalars(select(HumanTask).where(HumanTask.case_id == case.id, HumanTask.status == "open",
                                                       HumanTask.organisation_id == old_la_id)):
        row.organisation_id = new_la.id
        row.assignee_id = None
        handed_over += 1
    session.flush()
    session.expire(case, ["la"])
    move = dict(data.get("move") or {})
    told = tell_other_routes(projector, CHILD_MOVED_MESSAGE, {**move, "transferred_on": _today(projector)},
                             everyone=True)
    projector.events.append(("case_transferred", f"Case transferred from {old_la_name} to {new_la.name}",
                             {"from_la_id": old_la_id, "to_la_id": new_la.id, "tasks_handed_over": handed_over,
                              "routes_told": told}))


def export_and_close(projector: Projector, task: Task) -> Document:
    """``transferCase: export``: the transfer package for an authority not on EHC Flow, and the case closed here."""
    session = projector.session
    case = _case(projector)
    data = task.data
    new_la = _organisation(session, data.get("new_la_id"), "local_authority")
    destination = new_la.name if new_la is not None else str((data.get("move") or {}).get("new_la") or "")
    move_date = str(data.get("move_date") or "")
    reason = (f"Moved to {destination or 'another local authority'}"
              f"{' on ' + long_date(move_date) if move_date else ''}. {destination or 'The new authority'} does "
              "not use EHC Flow, so the plan, its versions, the documents, the advice and the case history were "
              "sent to it as a transfer package (regulation 15).")
    package = build_transfer_package(session, case.id, generated_at=projector.now, reason=reason,
                                     destination=new_la, move=data.get("move"))
    document = Document(case_id=case.id, instance_id=projector.instance.id, kind=PACKAGE_KIND,
                        title=f"Transfer package for {case.child_name}: moving to {destination}"[:300],
                        body_html=package_html(package),
                        recipients=[{"name": destination, "role": "local_authority",
                                     "organisation_id": new_la.id if new_la is not None else None, "copy": False}],
                        appealable=False, issued_at=projector.now, issued_by_id=projector.actor_id)
    session.add(document)
    session.flush()
    # Other routes learn of the move before the case closes (an assessment in progress ends).
    told = tell_other_routes(projector, CHILD_MOVED_MESSAGE, {**dict(data.get("move") or {}),
                                                              "transferred_on": _today(projector)}, everyone=True)
    case.status = "closed"
    case.closed_at = projector.now
    case.closed_reason = reason
    projector.events.append(("transfer_package_exported", f"Transfer package exported for {destination}",
                             {"document_id": document.id, "routes_told": told}))
    projector.events.append(("case_closed", f"Case closed: {reason}", {"reason": "moved_to_la_not_on_ehcflow"}))
    return document


def change_health_body(projector: Projector, task: Task) -> None:
    """``transferCase: health``: the new health body takes over on the case (regulation 16)."""
    session = projector.session
    case = _case(projector)
    new_health = _organisation(session, task.data.get("new_health_body_id"), "health_body")
    old_names = []
    for party in _party_orgs(session, case.id, "health_body"):
        if new_health is not None and party.organisation_id == new_health.id:
            continue
        party.active = False
        if party.organisation is not None:
            old_names.append(party.organisation.name)
    if new_health is not None and not _party_orgs(session, case.id, "health_body"):
        session.add(CaseParty(case_id=case.id, role="health_body", organisation_id=new_health.id, active=True))
    session.flush()
    name = new_health.name if new_health is not None else str(task.data.get("new_health_body_name") or "")
    projector.events.append(("health_body_changed",
                             f"Health body changed from {', '.join(old_names) or 'none'} to {name or 'unknown'}",
                             {"new_health_body_id": new_health.id if new_health is not None else None}))


def _today(projector: Projector) -> str:
    return calendar.to_london_date(projector.now).isoformat()


def long_date(value: Any) -> str:
    day = _date_or_none(value)
    return f"{day.day} {day:%B %Y}" if day else str(value or "")


# ---- the transfer package -----------------------------------------------------------------------------------------

def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def build_transfer_package(session: Session, case_id: int, *, generated_at: datetime, reason: str = "",
                           destination: Organisation | None = None, move: Mapping[str, Any] | None = None
                           ) -> dict[str, Any]:
    """Everything the new authority needs to carry on: the plan and its versions, the advice, the documents, the
    statutory clock and the case history, as JSON-ready data."""
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound("No such case")
    plan = current_plan(session, case_id)
    versions = list(session.scalars(select(PlanVersion).where(PlanVersion.case_id == case_id)
                                    .order_by(PlanVersion.number)))
    parties = []
    for party in session.scalars(select(CaseParty).where(CaseParty.case_id == case_id).order_by(CaseParty.id)):
        entry: dict[str, Any] = {"role": party.role, "active": party.active,
                                 "relationship_to_child": party.relationship_to_child}
        if party.organisation is not None:
            entry["organisation"] = {"name": party.organisation.name, "code": party.organisation.code,
                                     "kind": party.organisation.kind, "email": party.organisation.email}
        if party.user is not None:
            entry["person"] = {"name": party.user.name, "email": party.user.email}
        parties.append(entry)
    # The advice: section K of the plan in force, and every form the advisers returned on the case's routes.
    advice: list[dict[str, Any]] = []
    if plan is not None:
        for item in (plan.sections.get("K") or {}).get("advice", []):
            advice.append({"source": "section K of the plan", **item})
    for row in session.scalars(select(HumanTask).where(
            HumanTask.case_id == case_id, HumanTask.status == "completed",
            HumanTask.role.in_(("educational_psychologist", "health", "social_care", "school")))
            .order_by(HumanTask.completed_at, HumanTask.id)):
        advice.append({"source": row.name, "role": row.role, "given_on": _iso(row.completed_at),
                       "answers": row.submitted_data or {}})
    documents = [{"kind": d.kind, "title": d.title, "issued_at": _iso(d.issued_at), "recipients": d.recipients,
                  "appealable": d.appealable, "body_html": d.body_html}
                 for d in session.scalars(select(Document).where(Document.case_id == case_id,
                                                                 Document.kind != PACKAGE_KIND)
                                          .order_by(Document.issued_at, Document.id))]
    deadlines = [{"key": d.key, "name": d.name, "due_date": _iso(d.due_date), "started_on": _iso(d.started_on),
                  "status": d.status, "met_at": _iso(d.met_at), "missed": d.missed,
                  "exception_reason": d.exception_reason, "exception_detail": d.exception_detail}
                 for d in session.scalars(select(Deadline).where(Deadline.case_id == case_id)
                                          .order_by(Deadline.due_date, Deadline.id))]
    history = []
    for event in session.scalars(select(AuditEvent).where(AuditEvent.case_id == case_id)
                                 .order_by(AuditEvent.at, AuditEvent.id)):
        actor = session.get(User, event.actor_id) if event.actor_id else None
        history.append({"at": _iso(event.at), "action": event.action, "summary": event.summary,
                        "by": actor.name if actor else None})
    la = case.la
    return {
        "format": PACKAGE_FORMAT,
        "version": PACKAGE_VERSION,
        "generated_at": _iso(generated_at),
        "reason": reason,
        "from_local_authority": {"name": la.name, "code": la.code, "email": la.email},
        "to_local_authority": ({"name": destination.name, "code": destination.code, "email": destination.email}
                               if destination is not None else None),
        "move": dict(move or {}),
        "child": {"reference": case.reference, "first_name": case.child_first_name,
                  "last_name": case.child_last_name, "date_of_birth": _iso(case.date_of_birth)},
        "parties": parties,
        "plan": {
            "in_force": plan.number if plan is not None else None,
            "versions": [{"number": v.number, "kind": v.kind, "label": v.label, "sections": v.sections,
                          "created_at": _iso(v.created_at), "issued_at": _iso(v.issued_at)} for v in versions],
        },
        "advice": advice,
        "documents": documents,
        "deadlines": deadlines,
        "history": history,
    }


def _json_in_html(package: Mapping[str, Any]) -> str:
    # Inside <script>, "</script>" or "<!--" in a document body would end or confuse the element: escape <, > and &
    # as JSON unicode escapes, which a JSON parser reads back unchanged.
    text = json.dumps(package, ensure_ascii=False, indent=1, sort_keys=False)
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def package_html(package: Mapping[str, Any]) -> str:
    """The stored document: a readable summary, with the whole package as JSON inside it (the file's content)."""
    child = package["child"]
    to = (package.get("to_local_authority") or {}).get("name") or "the new local authority"
    versions = package["plan"]["versions"]
    rows = "".join(
        f"<tr><td>{escape(str(v['label']))}</td><td>{escape(str(v['kind']))}</td>"
        f"<td>{escape(long_date((v['issued_at'] or v['created_at'] or '')[:10]))}</td></tr>" for v in versions)
    return (
        '<article class="ehc-document ehc-document--transfer-package">\n'
        f"  <h1 class=\"ehc-document__title\">Transfer package: {escape(child['first_name'])} "
        f"{escape(child['last_name'])} ({escape(child['reference'])})</h1>\n"
        f"  <p>From {escape(package['from_local_authority']['name'])} to {escape(to)}, made on "
        f"{escape(long_date(package['generated_at'][:10]))}.</p>\n"
        f"  <p>{escape(package['reason'])}</p>\n"
        "  <h2>What the package holds</h2>\n"
        "  <ul>\n"
        f"    <li>{len(versions)} version(s) of the EHC plan</li>\n"
        f"    <li>{len(package['advice'])} item(s) of advice</li>\n"
        f"    <li>{len(package['documents'])} document(s) issued on the case</li>\n"
        f"    <li>{len(package['deadlines'])} statutory deadline(s) and {len(package['history'])} history entries</li>\n"
        "  </ul>\n"
        + (f"  <table class=\"govuk-table\"><thead><tr><th>Version</th><th>Kind</th><th>Date</th></tr></thead>"
           f"<tbody>{rows}</tbody></table>\n" if versions else "")
        + f'  <script type="application/json" id="{_PACKAGE_SCRIPT_ID}">\n{_json_in_html(package)}\n  </script>\n'
        "</article>\n"
    )


_PACKAGE_RE = re.compile(rf'<script type="application/json" id="{_PACKAGE_SCRIPT_ID}">\n(.*)\n  </script>', re.S)


def package_from_document(document: Document) -> dict[str, Any]:
    """The package stored in a transfer-package document."""
    if document.kind != PACKAGE_KIND:
        raise NotFound("This document is not a transfer package")
    found = _PACKAGE_RE.search(document.body_html)
    if found is None:
        raise NotFound("The transfer package could not be read from this document")
    package: dict[str, Any] = json.loads(found.group(1))
    return package


def transfer_package_filename(package: Mapping[str, Any]) -> str:
    reference = re.sub(r"[^A-Za-z0-9-]+", "-", str(package["child"]["reference"]))
    return f"{reference}-transfer-package-{str(package['generated_at'])[:10]}.json"


def write_transfer_package(session: Session, document_id: int, directory: Path) -> Path:
    """Writes the package of a transfer-package document to a JSON file in ``directory``; returns its path."""
    document = session.get(Document, document_id)
    if document is None:
        raise NotFound("No such document")
    package = package_from_document(document)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / transfer_package_filename(package)
    path.write_text(json.dumps(package, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path


# ---- routes acting on the case's other routes -------------------------------------------------------------------------

_SERIALIZER = StateSerializer()
# Parsed specs by process and version hash: the hash names the files, so the same key always means the same spec,
# whichever database the version row came from.
_SPECS: dict[tuple[str, str], tuple[Any, dict[str, Any]]] = {}


def _specs(version: ProcessVersion) -> tuple[Any, dict[str, Any]]:
    key = (version.process_id, version.version_hash)
    specs = _SPECS.get(key)
    if specs is None:
        specs = _SPECS[key] = _SERIALIZER.load_specs(version.spec_json)
    return specs


@dataclass
class _Runner:
    """Runs one more instance inside the command of ``projector`` (same session, same moment, same actor)."""

    projector: Projector

    def __post_init__(self) -> None:
        # Scripts of the other route see the command's moment as "now", as the command's own route does.
        self.script_engine = make_script_engine(script_globals(FrozenClock(self.projector.now)))

    def evaluate(self, task: Any, expression: str) -> Any:
        return self.script_engine.evaluate(task, expression)

    def load(self, instance: ProcessInstance) -> BpmnWorkflow:
        spec, subs = _specs(instance.version)
        wf = _SERIALIZER.loads(instance.state, spec, subs)
        wf.script_engine = self.script_engine
        return wf

    def advance(self, instance: ProcessInstance, wf: BpmnWorkflow, before: Any, action: str, summary: str,
                detail: dict[str, Any]) -> None:
        """Projects and saves the other instance exactly as a command saves its own."""
        from engine.projection import Projector, save_instance

        child = Projector(self.projector.session, instance, wf, self.projector.now, self.projector.actor_id,
                          self.evaluate)
        save_instance(child, _SERIALIZER, before, action, summary, detail)


def _mark_failed(projector: Projector, instance: ProcessInstance, name: str, payload: Mapping[str, Any],
                 exc: Exception) -> None:
    """The other route could not take the message: it is left as it was, marked failed with an incident."""
    from engine.incidents import describe_failure

    where = describe_failure(exc)
    previous = instance.status
    instance.status = "failed"
    instance.last_error = {"file": where.file, "element_id": where.element_id, "line": where.line,
                           "message": where.message, "command": "send_message", "previous_status": previous}
    projector.session.add(Incident(instance_id=instance.id, at=projector.now, command="send_message",
                                   command_args={"name": name, "payload": dict(payload),
                                                 "actor_id": projector.actor_id},
                                   file=where.file, element_id=where.element_id, line=where.line,
                                   message=where.message))
    projector.events.append(("route_failed", f"{instance.process_id} could not take {name}: {where.message}",
                             {"instance_id": instance.id, "name": name}))


def _message_event(name: str, payload: Mapping[str, Any]) -> BpmnEvent:
    return BpmnEvent(MessageEventDefinition(name), payload=dict(payload))


def _record_message(projector: Projector, name: str, payload: Mapping[str, Any], instance_id: int | None,
                    status: str) -> None:
    projector.session.add(Message(case_id=projector.instance.case_id, name=name, payload=dict(payload),
                                  sent_at=projector.now, sent_by_id=projector.actor_id, instance_id=instance_id,
                                  status=status))


def tell_other_routes(projector: Projector, name: str, payload: Mapping[str, Any], *, everyone: bool = False,
                      start_if_none: bool = False) -> list[int]:
    """Delivers a message to the case's other running routes that are waiting for it.

    ``everyone``: to each of them (a move concerns every route); otherwise to the first, as
    ``WorkflowEngine.send_message`` does. ``start_if_none``: when none takes it, start the route whose message start
    event has that name. Returns the ids of the instances that received it.
    """
    session = projector.session
    runner = _Runner(projector)
    event_payload = dict(payload)
    delivered: list[int] = []
    others = session.scalars(select(ProcessInstance).where(ProcessInstance.case_id == projector.instance.case_id,
                                                           ProcessInstance.id != projector.instance.id,
                                                           ProcessInstance.status.in_(ACTIVE_STATUSES))
                             .order_by(ProcessInstance.id))
    for instance in list(others):
        wf = runner.load(instance)
        event = _message_event(name, event_payload)
        if not accepts(wf, event):
            continue
        from engine.projection import Snapshot

        before = Snapshot.of(wf)
        try:
            # A savepoint: a failure in the other route undoes only its part, and that route is marked failed
            # for an administrator, as a failed command would be; this step goes on.
            with session.begin_nested():
                wf.send_event(event)
                wf.refresh_timers()
                wf.do_engine_steps()
                runner.advance(instance, wf, before, "message_received", f"Message received: {name}",
                               {"name": name, "from_instance_id": projector.instance.id})
        except Exception as exc:  # noqa: BLE001 - recorded as an incident on the other route
            _mark_failed(projector, instance, name, event_payload, exc)
            _record_message(projector, name, event_payload, instance.id, "undeliverable")
            continue
        _record_message(projector, name, event_payload, instance.id, "delivered")
        delivered.append(instance.id)
        if not everyone:
            break
    if not delivered and start_if_none:
        process_id = process_started_by(session, name)
        if process_id is not None:
            started = start_route(projector, process_id, {"message": name, name: event_payload},
                                  message=(name, event_payload))
            if started is not None:
                _record_message(projector, name, event_payload, started, "delivered")
                delivered.append(started)
    if not delivered:
        # Often nothing needs to hear it (most appeals are not about ceasing a plan): kept as a message, as the
        # engine keeps an undeliverable one, without filling the case's history.
        _record_message(projector, name, event_payload, None, "undeliverable")
    return delivered


def process_started_by(session: Session, message_name: str) -> str | None:
    """The deployed route that a message of this name starts (its message start event), if any."""
    for version in session.scalars(select(ProcessVersion).where(ProcessVersion.is_current.is_(True))
                                   .order_by(ProcessVersion.process_id)):
        spec, _ = _specs(version)
        for ts in spec.task_specs.values():
            definition = getattr(ts, "event_definition", None)
            if type(ts).__name__ == "StartEvent" and isinstance(definition, MessageEventDefinition) \
                    and definition.name == message_name:
                return version.process_id
    return None


def start_route(projector: Projector, process_id: str, data: Mapping[str, Any] | None = None, *,
                message: tuple[str, Mapping[str, Any]] | None = None) -> int | None:
    """Starts a route on the projector's case in the same transaction; returns its instance id.

    Not deployed: nothing starts, and the case's history says so (the route can be started by hand once it is).
    ``message``: the route begins with a message start event, which receives it.
    """
    session = projector.session
    version = session.scalars(select(ProcessVersion).where(ProcessVersion.process_id == process_id,
                                                           ProcessVersion.is_current.is_(True))).first()
    if version is None:
        projector.events.append(("route_not_started", f"{process_id} is not deployed, so it was not started: "
                                 "start it by hand when it is", {"process_id": process_id}))
        return None
    case = _case(projector)
    runner = _Runner(projector)
    spec, subs = _specs(version)
    wf = BpmnWorkflow(spec, subs, script_engine=runner.script_engine)
    start_data: dict[str, Any] = {
        "case_id": case.id, "case_reference": case.reference, "child_name": case.child_name,
        "date_of_birth": case.date_of_birth.isoformat() if case.date_of_birth else None, "la_id": case.la_id,
        "started_on": _today(projector),
    }
    start_data.update(data or {})
    wf.get_next_task(spec_name="Start").set_data(**start_data)
    instance = ProcessInstance(case_id=case.id, process_version_id=version.id, process_id=process_id,
                               status="running", state="", serializer_version=_SERIALIZER.version,
                               created_at=projector.now, updated_at=projector.now, started_by_id=projector.actor_id,
                               parent_instance_id=projector.instance.id)
    from engine.projection import Snapshot

    try:
        # A savepoint: a route that cannot start (a fault in its model, data it needs and did not get) leaves
        # nothing behind, and this step goes on; the case's history says what went wrong.
        with session.begin_nested():
            session.add(instance)
            session.flush()
            wf.do_engine_steps()
            if message is not None:
                wf.send_event(_message_event(message[0], message[1]))
                wf.refresh_timers()
                wf.do_engine_steps()
            runner.advance(instance, wf, Snapshot(), "started", f"Started {version.name or process_id}",
                           {"process_id": process_id, "version": version.version_hash,
                            "started_by_instance_id": projector.instance.id})
    except Exception as exc:  # noqa: BLE001 - recorded on the case; the route can be started by hand
        from engine.incidents import describe_failure

        where = describe_failure(exc)
        projector.events.append(("route_start_failed", f"{process_id} could not start: {where.message}",
                                 {"process_id": process_id, "element_id": where.element_id, "line": where.line}))
        return None
    projector.events.append(("route_started", f"Started {version.name or process_id}",
                             {"process_id": process_id, "instance_id": instance.id}))
    return instance.id


def _expression_data(projector: Projector, task: Task, property_name: str) -> dict[str, Any]:
    from engine.registry import properties_of

    expression = properties_of(task.task_spec).get(property_name)
    if not expression:
        return {}
    value = projector.evaluate(task, expression)
    if not isinstance(value, dict):
        raise ValueError(f"{property_name} must give a dictionary, not {type(value).__name__}")
    return value


def starts_route_hook(projector: Projector, task: Task, process_id: str) -> int | None:
    """The ``startsRoute`` completion hook: starts that route on the case with the data of ``startsRouteData``.

    A route of that kind already running on the case is left to carry on, and nothing new starts.
    """
    process_id = process_id.strip()
    if _running(projector.session, projector.instance.case_id, process_id, exclude=projector.instance.id):
        projector.events.append(("route_already_running", f"{process_id} is already running on this case",
                                 {"process_id": process_id}))
        return None
    return start_route(projector, process_id, _expression_data(projector, task, "startsRouteData"))


def sends_message_hook(projector: Projector, task: Task, name: str) -> list[int]:
    """The ``sendsMessage`` completion hook: the message (payload from ``messagePayload``) goes to the case's
    other route waiting for it, or starts the route it starts."""
    return tell_other_routes(projector, name.strip(), _expression_data(projector, task, "messagePayload"),
                             start_if_none=True)


__all__ = [
    "CHILD_MOVED_MESSAGE", "FACT_KEYS", "PACKAGE_KIND", "TransferError", "accepts", "apply_transfer",
    "build_transfer_package", "change_health_body", "check_move", "export_and_close", "last_review_date",
    "move_case", "package_from_document", "package_html", "process_started_by", "sends_message_hook",
    "share_with_route", "start_route", "starts_route_hook", "tell_other_routes", "transfer_package_filename",
    "write_transfer_package",
]
