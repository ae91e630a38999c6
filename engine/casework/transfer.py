"""Moving a case to another local authority (regulations 15 and 16), and the notices of the routes around a plan.

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
    staff no longer see the case, ``engine.people.access.can_see_case``), open tasks it held pass to the new authority, and
    every other route on the case is sent ``child_moved_la`` (an EHC needs assessment in progress ends on it).
``export``
    The new authority does not use EHC Flow: the plan and its versions, the documents, the advice and the case
    history become a transfer package (a JSON document stored on the case, downloadable as a file with
    ``transfer_package.write_transfer_package``) and the case is closed here with the reason.
``health``
    The old health body has told the new one: the new body becomes the case's health body (the old one no longer sees
    the case).

The notices of the transfer, disagreement, tribunal-order and complaint routes are declared here too (``DOCUMENTS``,
loaded by engine.casework.documents). The package itself is built in engine.casework.transfer_package; the other
routes are told or started through engine.casework.route_links.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from engine.casework.plans import current_plan
from engine.casework.route_links import case_of, running_routes, tell_other_routes, today_of
from engine.casework.transfer_package import PACKAGE_KIND, build_transfer_package, date_or_none, long_date, package_html
from engine.errors import FormInvalid
from engine.statutory import calendar
from engine.store.models import Case, CaseParty, Deadline, Document, HumanTask, Organisation

if TYPE_CHECKING:
    from SpiffWorkflow.task import Task

    from engine.runtime.projection import Projector


#: The message every other route on the case receives when the case moves (payload: the ``move`` fact of ``check``).
CHILD_MOVED_MESSAGE = "child_moved_la"
#: The route whose running instance ends when the child moves during an assessment.
ASSESSMENT_PROCESS = "ehc_needs_assessment"
#: The deadline row the review scheduler (engine.casework.review_scheduler) reads; its start day is the last review.
REVIEW_DEADLINE_KEY = "annual_review"


#: What the ``check`` action adds to the route's data, for the gateways and documents further on.
FACT_KEYS = ("old_la_id", "old_la_name", "new_la_name", "new_la_uses_ehcflow", "has_plan", "assessment_in_progress",
             "last_review_on", "old_health_body_name", "new_health_body_name", "new_health_body_uses_ehcflow", "move")


class TransferError(RuntimeError):
    """A transfer step found the case in a state the route did not expect: the command fails and an incident is
    recorded for an administrator (not a message to the person, who did nothing wrong)."""


# ---- the routes' documents ------------------------------------------------------------------------------------------

# The notices, certificates and responses of plan_transfer, disagreement_resolution, mediation, tribunal_order,
# disagreement_resolution_service and complaint (engine/casework/templates/documents/{tr,dr,to,co}_*.html): title, recipient
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

# Recipient rules these documents need besides engine.casework.documents' own.
RECIPIENT_RULES: tuple[str, ...] = ("new_health_body", "la", "tribunal", "mediation_service", "complainant")

TRIBUNAL = "First-tier Tribunal (Special Educational Needs and Disability)"


def document_templates(factory: Any) -> dict[str, Any]:
    """The routes' document templates built with engine.casework.documents.DocumentTemplate (passed in: no import cycle)."""
    return {name: factory(title, recipients, appealable) for name, (title, recipients, appealable) in DOCUMENTS.items()}


def recipients(rule: str, case: Case, data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The recipients for one of RECIPIENT_RULES, in engine.casework.documents' recipient shape."""
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
    raise KeyError(f"No recipient rule {rule!r} in engine.casework.transfer")


# ---- the transferCase hook -------------------------------------------------------------------------------------------

def apply_transfer(projector: Projector, task: Task, value: str = "apply") -> None:
    """The ``transferCase`` completion hook (engine.runtime.projection.COMPLETION_HOOKS)."""
    action = (value or "apply").strip()
    handlers = {"check": check_move, "apply": move_case, "export": export_and_close, "health": change_health_body}
    handler = handlers.get(action)
    if handler is None:
        raise ValueError(f"transferCase must be one of {', '.join(handlers)}, not {action!r}")
    handler(projector, task)


def _organisation(session: Session, value: Any, kind: str) -> Organisation | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    org = session.get(Organisation, value)
    return org if org is not None and org.kind == kind else None


def _party_orgs(session: Session, case_id: int, role: str) -> list[CaseParty]:
    return list(session.scalars(select(CaseParty).where(CaseParty.case_id == case_id, CaseParty.role == role,
                                                        CaseParty.active.is_(True)).order_by(CaseParty.id)))


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
    case = case_of(projector)
    data = task.data
    today = calendar.to_london_date(projector.now)
    errors: dict[str, str] = {}
    new_la = _organisation(session, data.get("new_la_id"), "local_authority")
    if new_la is None:
        errors["new_la_id"] = "Choose the local authority the family is moving to"
    elif new_la.id == case.la_id:
        errors["new_la_id"] = f"Choose another local authority: the case is already with {new_la.name}"
    move_date = date_or_none(data.get("move_date"))
    aware_date = date_or_none(data.get("aware_date"))
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
    last_review = date_or_none(data.get("last_review_on")) or (last_review_date(session, case.id) if has_plan
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
        "assessment_in_progress": bool(running_routes(session, case.id, ASSESSMENT_PROCESS)),
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
    case = case_of(projector)
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
    told = tell_other_routes(projector, CHILD_MOVED_MESSAGE, {**move, "transferred_on": today_of(projector)},
                             everyone=True)
    projector.events.append(("case_transferred", f"Case transferred from {old_la_name} to {new_la.name}",
                             {"from_la_id": old_la_id, "to_la_id": new_la.id, "tasks_handed_over": handed_over,
                              "routes_told": told}))


def export_and_close(projector: Projector, task: Task) -> Document:
    """``transferCase: export``: the transfer package for an authority not on EHC Flow, and the case closed here."""
    session = projector.session
    case = case_of(projector)
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
                                                              "transferred_on": today_of(projector)}, everyone=True)
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
    case = case_of(projector)
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


__all__ = [
    "CHILD_MOVED_MESSAGE", "FACT_KEYS", "TransferError", "apply_transfer", "change_health_body", "check_move",
    "document_templates", "export_and_close", "last_review_date", "move_case", "recipients", "share_with_route",
]
