"""Starting a route on a case by hand: which routes may start now, who may start them, and starting one.

What may be started, by whom and when is declared on each route's start event (docs/bpmn-conventions.md, "Routes
started by hand"; the property names are in ``engine.library.lint.hand_starts``), read here from the current deployed
version, so that a process owner's new route is offered without a change of code. Every start is checked again when
it is made: the page a person confirms on may be minutes old.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.casework.plans import current_plan
from engine.errors import FormInvalid, InvalidState, NotAllowed, NotFound
from engine.intake.registration import OPEN_ASSESSMENT_ROUTES
from engine.library.forms import validate_form
from engine.library.lint import hand_starts as props
from engine.library.registry import process_documentation, start_properties
from engine.library.sandbox import SandboxedEnvironment
from engine.lists.cases import ACTIVE_INSTANCE_STATUSES
from engine.people.access import is_family_of, roles_in
from engine.people.roles import ROLE_PARTY, Role, role_for_lane
from engine.store.models import AuditEvent, Case, CaseParty, Document, ProcessInstance, ProcessVersion, User

if TYPE_CHECKING:
    from engine.runtime.workflow_engine import WorkflowEngine

log = logging.getLogger(__name__)

FAMILY_LANE = "Family"
#: The document that says a plan has ceased (cease_plan's last step).
PLAN_CEASED_DOCUMENT = "cp_plan_ceased"
LONDON = ZoneInfo("Europe/London")
# Conditions see only the case's facts and the safe builtins: no clock, no script functions.
_CONDITIONS = SandboxedEnvironment()


@dataclass(frozen=True)
class Declaration:
    """What a route's start event says about starting it by hand."""

    process_id: str
    name: str
    lanes: tuple[str, ...]
    when: str | None
    alongside: bool
    label: str
    label_family: str
    help: str | None
    help_family: str | None
    form: str | None
    schema: dict[str, Any] | None
    version_id: int

    def label_for(self, as_family: bool) -> str:
        return self.label_family if as_family else self.label

    def help_for(self, as_family: bool) -> str | None:
        return (self.help_family or self.help) if as_family else self.help


@dataclass(frozen=True)
class StartOption:
    """A route that may be started on the case now, and whether this person may start it."""

    process_id: str
    name: str
    label: str
    help: str | None
    allowed: bool
    form_schema: dict[str, Any] | None
    lanes: tuple[str, ...]


# ---- reading the declarations -----------------------------------------------------------------------------------------

def declarations(engine: WorkflowEngine, session: Session) -> list[Declaration]:
    """Every deployed route that declares who may start it by hand, by name."""
    found = []
    for version in session.scalars(select(ProcessVersion).where(ProcessVersion.is_current.is_(True))):
        declaration = _declaration_of(engine, version)
        if declaration is not None:
            found.append(declaration)
    return sorted(found, key=lambda d: (d.label.lower(), d.process_id))


def declaration(engine: WorkflowEngine, session: Session, process_id: str) -> Declaration:
    """The declaration of one route; NotFound when it is not deployed, NotAllowed when it is never started by hand."""
    version = engine.current_version(session, process_id)
    found = _declaration_of(engine, version)
    if found is None:
        raise NotAllowed(f"The route “{version.name or process_id}” is not started by hand: another route or a "
                         "message starts it")
    return found


def documentation(engine: WorkflowEngine, session: Session, process_id: str) -> str | None:
    """The process's own documentation in its deployed file, for a confirmation page whose route has no startHelp."""
    version = engine.current_version(session, process_id)
    texts = (text for name, text in sorted((version.files or {}).items()) if name.startswith("workflows/"))
    return next((found for found in (process_documentation(text, process_id) for text in texts) if found), None)


def _declaration_of(engine: WorkflowEngine, version: ProcessVersion) -> Declaration | None:
    loaded = engine.load_version(version)
    values = start_properties(loaded.spec)
    lanes = tuple(props.lanes_of(values.get(props.STARTABLE_BY, "")))
    if not lanes:
        return None
    name = version.name or version.process_id
    label = (values.get(props.START_LABEL) or "").strip() or f"Start {name}"
    form = (values.get(props.START_FORM) or "").strip() or None
    return Declaration(
        process_id=version.process_id, name=name, lanes=lanes,
        when=(values.get(props.STARTABLE_WHEN) or "").strip() or None,
        alongside=(values.get(props.STARTABLE_ALONGSIDE) or "").strip().lower() == "true",
        label=label, label_family=(values.get(props.START_LABEL_FAMILY) or "").strip() or label,
        help=(values.get(props.START_HELP) or "").strip() or None,
        help_family=(values.get(props.START_HELP_FAMILY) or "").strip() or None,
        form=form, schema=loaded.forms.get(form) if form else None, version_id=version.id,
    )


# ---- the case, and who is asking --------------------------------------------------------------------------------------

def case_facts(session: Session, case: Case) -> dict[str, Any]:
    """What a startableWhen expression may read about the case."""
    running = sorted(set(session.scalars(select(ProcessInstance.process_id).where(
        ProcessInstance.case_id == case.id, ProcessInstance.status.in_(ACTIVE_INSTANCE_STATUSES)))))
    case_open = case.status == "open"
    plan = current_plan(session, case.id)
    ceased = plan is not None and session.scalar(
        select(Document.id).where(Document.case_id == case.id, Document.kind == PLAN_CEASED_DOCUMENT,
                                  Document.issued_at >= plan.issued_at).limit(1)) is not None
    return {
        "plan_in_force": plan is not None and not ceased and case_open,
        "open_assessment": any(route in OPEN_ASSESSMENT_ROUTES for route in running),
        "running": running,
        "case_open": case_open,
    }


def may_start(session: Session, user: User | None, case: Case, lanes: tuple[str, ...], *, as_family: bool) -> bool:
    """Whether the person holds a lane the route may be started by, on this case.

    LA lanes: the role at the case's responsible authority (its managers too, as for tasks); other organisations'
    lanes: the role at an organisation acting on the case; Family: a family member on the case, on their own pages.
    No user is the operator on the command line, acting for the authority.
    """
    if user is None:
        return not as_family
    if not user.active:
        return False
    if as_family:
        return FAMILY_LANE in lanes and is_family_of(session, user, case.id)
    held = roles_in(session, user)
    for lane in lanes:
        role = role_for_lane(lane)
        if role is None or role == Role.FAMILY:
            continue
        party = ROLE_PARTY.get(role)
        if party == "local_authority":
            if (case.la_id, role.value) in held or (case.la_id, Role.MANAGER.value) in held:
                return True
            continue
        orgs = session.scalars(select(CaseParty.organisation_id).where(
            CaseParty.case_id == case.id, CaseParty.role == party, CaseParty.active.is_(True)))
        if any((org, role.value) in held for org in orgs):
            return True
    return False


def why_not_now(found: Declaration, facts: dict[str, Any], *, as_family: bool = False) -> str | None:
    """Why the route cannot start on the case now, in words for the person asking; None when it can."""
    label = found.label_for(as_family)
    if not found.alongside and found.process_id in facts["running"]:
        if as_family:
            return f"“{label}” is already being dealt with on this case: you will hear from the local authority."
        return (f"“{found.name}” is already under way on this case (running, waiting, suspended or failed). "
                "Only one can be open at a time.")
    if found.when and not _holds(found, facts):
        return f"“{label}” is not possible on this case at the moment: {_describe(facts, found.when)}."
    return None


def _holds(found: Declaration, facts: dict[str, Any]) -> bool:
    try:
        return bool(_CONDITIONS.evaluate(found.when or "True", {**facts, "running": list(facts["running"])}))
    except Exception:  # noqa: BLE001 - a broken condition offers nothing rather than breaking the case page
        log.warning("startableWhen of %s failed: %r", found.process_id, found.when, exc_info=True)
        return False


_FACT_WORDS = {
    "plan_in_force": ("the case has an EHC plan in force", "the case has no EHC plan in force"),
    "open_assessment": ("an assessment or plan drafting is open", "no assessment or plan drafting is open"),
    "case_open": ("the case is open", "the case is closed"),
}


def _describe(facts: dict[str, Any], when: str) -> str:
    said = [yes if facts[name] else no for name, (yes, no) in _FACT_WORDS.items() if name in when]
    if "running" in when:
        said.append("routes under way: " + (", ".join(facts["running"]) or "none"))
    return "; ".join(said) or "the route's condition is not met"


# ---- what may be started, and starting it -----------------------------------------------------------------------------

def startable_routes(engine: WorkflowEngine, session: Session, case: Case, user: User | None, *,
                     as_family: bool = False) -> list[StartOption]:
    """The routes that may start on the case now, each saying whether this person may start it
    (``as_family``: as a family member, from their own pages)."""
    facts = case_facts(session, case)
    out = []
    for found in declarations(engine, session):
        if why_not_now(found, facts, as_family=as_family) is None:
            out.append(_option(found, may_start(session, user, case, found.lanes, as_family=as_family), as_family))
    return out


def start_option(engine: WorkflowEngine, session: Session, case: Case, process_id: str, user: User | None, *,
                 as_family: bool = False) -> StartOption:
    """One route this person may start on the case now; NotFound, NotAllowed or InvalidState (with the reason)."""
    found = declaration(engine, session, process_id)
    if not may_start(session, user, case, found.lanes, as_family=as_family):
        raise NotAllowed(f"You cannot start “{found.label_for(as_family)}” on this case")
    reason = why_not_now(found, case_facts(session, case), as_family=as_family)
    if reason:
        raise InvalidState(reason)
    return _option(found, True, as_family)


def _option(found: Declaration, allowed: bool, as_family: bool) -> StartOption:
    return StartOption(found.process_id, found.name, found.label_for(as_family), found.help_for(as_family), allowed,
                       found.schema, found.lanes)


def start_data(found: Declaration, data: dict[str, Any] | None) -> dict[str, Any]:
    """The start form's answers, checked; only the form's own fields, never the facts every route takes from its case."""
    data = dict(data or {})
    if found.schema is None:
        if data:
            raise FormInvalid({"data": f"“{found.label}” takes no details when it starts"})
        return {}
    facts = {key: "This comes from the case and cannot be given" for key in data if key in props.CASE_FACTS}
    if facts:
        raise FormInvalid(facts)
    data = _moments(found.schema, data)
    validate_form(found.schema, data)
    fields = found.schema.get("properties") or {}
    return {key: value for key, value in data.items() if key in fields and key not in props.CASE_FACTS}


def _moments(schema: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
    """A date-time answer as scripts need it: ISO with its offset; typed without one, it is London time."""
    out = dict(data)
    for key, field in (schema.get("properties") or {}).items():
        if not (isinstance(field, dict) and field.get("format") == "date-time" and isinstance(out.get(key), str)):
            continue
        text = " ".join(out[key].split())
        if not text:
            del out[key]
            continue
        try:
            moment = datetime.fromisoformat(text.replace(" ", "T", 1))
        except ValueError:
            raise FormInvalid({key: field.get("x-error") or "Enter a date and time, for example 2026-03-02 14:30"}) \
                from None
        out[key] = (moment.replace(tzinfo=LONDON) if moment.tzinfo is None else moment).isoformat()
    return out


def start_by_hand(engine: WorkflowEngine, case_id: int, process_id: str, data: dict[str, Any] | None,
                  actor: User | None, *, as_family: bool = False) -> int:
    """Starts the route on the case for this person after checking everything again; returns the instance id.

    Raises NotFound (no such case or route), NotAllowed (not theirs to start), InvalidState (not possible now, with
    the reason) or FormInvalid (the start form's answers); nothing is started then.
    """
    with engine.session_factory() as session:
        case = session.get(Case, case_id)
        if case is None:
            raise NotFound("No such case")
        if actor is not None:
            actor = session.get(User, actor.id) or actor
        option = start_option(engine, session, case, process_id, actor, as_family=as_family)
        found = declaration(engine, session, process_id)
        clean = start_data(found, data)
    instance_id = engine.start(case_id, process_id, clean, actor)
    with engine.session_factory() as session:
        who = "the family" if as_family else "the local authority"
        session.add(AuditEvent(at=engine.clock.now(), case_id=case_id, instance_id=instance_id,
                               actor_id=actor.id if actor else None, action="route_started_by_hand",
                               summary=f"{option.label}: {found.name} started by hand for {who}",
                               detail={"process_id": process_id, "as_family": as_family, "data": sorted(clean),
                                       # the SEN2 export's received date (engine/reports/sen2_facts.py)
                                       **({"received_at": clean["received_at"]} if "received_at" in clean else {})}))
        session.commit()
    return instance_id


__all__ = ["Declaration", "StartOption", "case_facts", "declaration", "declarations", "documentation", "may_start",
           "start_by_hand", "start_data", "start_option", "startable_routes", "why_not_now"]
