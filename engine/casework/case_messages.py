"""The messages a person can send to a case's routes from the case page: what the tribunal, the Ombudsman or the
family told the authority, which a route is waiting to hear.

``MESSAGES`` is the one table of them: each message's wording, the fields of its form (a JSON Schema, drawn and
checked as a task form is), who may send it and whether it can start a route. ``offered_messages`` says which of
them the case's running routes wait for now (reading only those few instances' state); ``send_message`` checks the
sender and the answers and hands the message to ``WorkflowEngine.send_message``, which delivers and audits it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from SpiffWorkflow.bpmn import BpmnEvent
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.casework.route_links import process_started_by
from engine.errors import FormInvalid, InvalidState, MessageNotDelivered, NotAllowed, NotFound
from engine.library.forms import validate_form
from engine.lists.names import route_names
from engine.people.access import is_family_of, roles_in
from engine.people.roles import Role
from engine.runtime.messages import accepts
from engine.statutory.clock import active_clock
from engine.store.models import ACTIVE_STATUSES, Case, ProcessInstance, User

_SENDER_ROLES = (Role.CASEWORKER.value, Role.MANAGER.value)


def _date(title: str, hint: str | None = None, *, not_future: bool = True) -> dict[str, Any]:
    field: dict[str, Any] = {"type": "string", "format": "date", "x-widget": "date", "title": title}
    if hint:
        field["description"] = hint
    if not_future:
        field["x-not-future"] = True
    return field


@dataclass(frozen=True)
class CaseMessage:
    name: str
    title: str  # the page heading and the link on the case page
    summary: str  # what sending it does, shown above the form
    schema: dict[str, Any]
    for_family: bool = False  # the family may send it from their own pages
    family_fields: tuple[str, ...] = ()  # the fields a family fills in; the rest come from family_defaults
    confirm: str = "Send"  # the button that sends it
    done: str = "Sent"  # said once it is sent


MESSAGES: dict[str, CaseMessage] = {m.name: m for m in (
    CaseMessage(
        "appeal_registered", "Record an appeal the tribunal has registered",
        "The First-tier Tribunal (SEND) has registered an appeal and sent it to us. The route goes straight to the "
        "authority's response (30 tribunal working days from the day it was sent to us); an appeal only about the "
        "school or college in section I needs no mediation certificate.",
        {"type": "object", "required": ["registered_on", "sent_to_la_on", "section_i_only"], "properties": {
            "registered_on": _date("Date the tribunal registered the appeal"),
            "sent_to_la_on": _date("Date the tribunal sent the appeal to the authority"),
            "section_i_only": {"type": "string", "enum": ["yes", "no"], "x-enum-titles": ["Yes", "No"],
                               "x-widget": "radios",
                               "title": "Is the appeal only about the school or college named in section I "
                                        "(or that none is named)?"},
            "tribunal_reference": {"type": "string", "maxLength": 100, "title": "Tribunal reference",
                                   "description": "For example, EH101/26/00077"},
        }}, confirm="Record the appeal", done="The appeal has been recorded"),
    CaseMessage(
        "appeal_withdrawn", "Record that the appeal has been withdrawn",
        "The family has withdrawn the appeal. The route closes it: the decision stands and the response deadline "
        "is cancelled.",
        {"type": "object", "required": ["withdrawn_on"], "properties": {
            "withdrawn_on": _date("Date the appeal was withdrawn"),
        }}, confirm="Record the withdrawal", done="The withdrawal has been recorded"),
    CaseMessage(
        "drs_requested", "Ask for disagreement resolution",
        "Disagreement resolution is voluntary, needs everyone's agreement, can be asked for at any time and never "
        "affects the right to appeal or any time limit. The local authority arranges it with an independent "
        "disagreement resolution service.",
        {"type": "object", "required": ["about", "requested_on", "requested_by"], "properties": {
            "about": {"type": "string", "minLength": 1, "maxLength": 2000, "x-widget": "textarea",
                      "title": "What the disagreement is about"},
            "requested_on": _date("Date it was asked for"),
            "requested_by": {"type": "string", "enum": ["family", "setting", "local_authority", "health", "other"],
                             "x-enum-titles": ["The child's parent or the young person", "The school or college",
                                               "The local authority", "Health services", "Someone else"],
                             "x-widget": "radios", "title": "Who asked for it?"},
        }}, for_family=True, family_fields=("about",), confirm="Ask for disagreement resolution",
        done="Disagreement resolution has been asked for"),
    CaseMessage(
        "ombudsman_complaint", "Record a complaint to the Ombudsman",
        "The complainant has gone to the Local Government and Social Care Ombudsman. The route opens a task to "
        "answer its enquiries by the date it set.",
        {"type": "object", "required": ["reply_by"], "properties": {
            "reply_by": _date("Date the Ombudsman asked for our reply by", not_future=False),
        }}, confirm="Record the complaint",
        done="The complaint to the Ombudsman has been recorded"),
)}


@dataclass(frozen=True)
class OfferedMessage:
    message: CaseMessage
    waiting: tuple[tuple[int, str], ...]  # (instance id, route name) of the running routes that wait for it
    starts: str | None  # when none waits: the name of the route it starts

    @property
    def name(self) -> str:
        return self.message.name


def may_send(session: Session, user: User, case: Case, message: CaseMessage) -> bool:
    """The responsible authority's caseworkers and managers; the family on the case for a family message."""
    if not user.active:
        return False
    held = roles_in(session, user)
    if any((case.la_id, role) in held for role in _SENDER_ROLES):
        return True
    return message.for_family and is_family_of(session, user, case.id)


def offered_messages(engine: Any, session: Session, case: Case, *, family: bool = False) -> list[OfferedMessage]:
    """The messages of ``MESSAGES`` that a running route on the case would take now, in table order; a message
    that starts a route is offered too while the case is open (``family``: only the family's messages)."""
    wanted = [m for m in MESSAGES.values() if m.for_family or not family]
    instances = list(session.scalars(select(ProcessInstance).where(ProcessInstance.case_id == case.id,
                                                                   ProcessInstance.status.in_(ACTIVE_STATUSES))
                                     .order_by(ProcessInstance.id)))
    names = route_names(session)
    waiting: dict[str, list[tuple[int, str]]] = {m.name: [] for m in wanted}
    with active_clock(engine.clock):
        for instance in instances:
            try:
                wf = engine.load_workflow(instance)
            except Exception:  # noqa: BLE001 - a damaged state: it waits for nothing (engine.admin.unreadable_routes)
                continue
            for message in wanted:
                if accepts(wf, BpmnEvent(MessageEventDefinition(message.name), payload={})):
                    waiting[message.name].append((instance.id, names.get(instance.process_id, instance.process_id)))
    out: list[OfferedMessage] = []
    for message in wanted:
        starts = None
        if not waiting[message.name] and case.status == "open":
            started = process_started_by(session, message.name)
            starts = names.get(started, started) if started else None
        if waiting[message.name] or starts:
            out.append(OfferedMessage(message, tuple(waiting[message.name]), starts))
    return out


def offered(engine: Any, session: Session, case: Case, name: str, *, family: bool = False) -> OfferedMessage:
    """One offered message, or NotFound when nothing on the case takes it now."""
    found = next((o for o in offered_messages(engine, session, case, family=family) if o.name == name), None)
    if found is None:
        raise NotFound("Nothing on this case is waiting for this")
    return found


def check_payload(message: CaseMessage, payload: Mapping[str, Any], today: date) -> dict[str, str]:
    """What is wrong with the answers, by field: the schema's rules, dates in the future where they cannot be,
    and an appeal sent to the authority before the tribunal registered it."""
    try:
        validate_form(message.schema, dict(payload))
        errors: dict[str, str] = {}
    except FormInvalid as exc:
        errors = dict(exc.errors)
    for name, field in message.schema["properties"].items():
        value = payload.get(name)
        if name in errors or not field.get("x-not-future") or not isinstance(value, str):
            continue
        try:
            if date.fromisoformat(value) > today:
                errors[name] = f"{field['title']} must be today or in the past"
        except ValueError:
            errors[name] = f"{field['title']} must be a real date"
    if message.name == "appeal_registered" and not {"registered_on", "sent_to_la_on"} & set(errors):
        registered, sent = payload.get("registered_on"), payload.get("sent_to_la_on")
        if isinstance(registered, str) and isinstance(sent, str) and sent < registered:
            errors["sent_to_la_on"] = ("Date the tribunal sent the appeal to the authority must be the same as or "
                                       "after the date it registered it")
    return errors


def family_schema(message: CaseMessage) -> dict[str, Any]:
    """The part of a message's form that a family fills in."""
    return {"type": "object", "required": [n for n in message.schema.get("required", []) if n in message.family_fields],
            "properties": {n: f for n, f in message.schema["properties"].items() if n in message.family_fields}}


def family_payload(message: CaseMessage, answers: Mapping[str, Any], today: date) -> dict[str, Any]:
    """A family's answers with what the family does not fill in: asked for today, by the family."""
    payload = {k: v for k, v in answers.items() if k in message.family_fields}
    if message.name == "drs_requested":
        payload.update({"requested_on": today.isoformat(), "requested_by": "family"})
    return payload


def send_message(engine: Any, case_id: int, name: str, payload: Mapping[str, Any], actor: User) -> int:
    """Checks who sends it and what it says, then delivers it (or starts its route); returns the instance id.

    Raises NotFound for an unknown message or case, NotAllowed for a sender who may not, FormInvalid with the
    errors by field, and InvalidState when nothing on the case takes the message any more."""
    message = MESSAGES.get(name)
    if message is None:
        raise NotFound(f"No such message {name!r}")
    with engine.session_factory() as session:
        case = session.get(Case, case_id)
        if case is None:
            raise NotFound("No such case")
        if not may_send(session, actor, case, message):
            raise NotAllowed("You cannot send this message on this case")
        errors = check_payload(message, payload, engine.clock.today())
        if errors:
            raise FormInvalid(errors)
        staff = any((case.la_id, role) in roles_in(session, actor) for role in _SENDER_ROLES)
        try:
            offered(engine, session, case, name, family=not staff)
        except NotFound as exc:
            raise InvalidState("Nothing on this case is waiting for this any more: the route has moved on. "
                               "Nothing was sent.") from exc
    try:
        instance_id: int = engine.send_message(case_id, name, dict(payload), actor)
    except MessageNotDelivered as exc:
        raise InvalidState("Nothing on this case is waiting for this any more. Nothing was sent.") from exc
    return instance_id


__all__ = ["MESSAGES", "CaseMessage", "OfferedMessage", "check_payload", "family_payload", "family_schema",
           "may_send", "offered", "offered_messages", "send_message"]
