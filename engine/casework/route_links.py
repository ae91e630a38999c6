"""Running the case's other routes inside a command: starting one (``startsRoute``) or telling them (``sendsMessage``).

Used by the transfer, the disagreement routes and tribunal orders. A hook runs inside a command, so it cannot call
``WorkflowEngine``'s commands (each opens its own transaction); ``_Runner.advance`` below saves one more instance with
``projection.save_instance``, as a command saves its own, inside a savepoint so that a fault in the other route does
not undo this step.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import NotFound
from engine.library.registry import properties_of
from engine.library.sandbox import make_script_engine
from engine.library.script_functions import script_globals
from engine.runtime.incidents import describe_failure
from engine.runtime.messages import accepts, message_event
from engine.runtime.projection import Projector, Snapshot, save_instance
from engine.runtime.serializer import StateSerializer
from engine.statutory import calendar
from engine.statutory.clock import FrozenClock
from engine.store.models import (
    ACTIVE_STATUSES,
    AuditEvent,
    Case,
    Incident,
    Message,
    ProcessInstance,
    ProcessVersion,
)

if TYPE_CHECKING:
    from SpiffWorkflow.task import Task


def case_of(projector: Projector) -> Case:
    """The case of the route the command is running."""
    case = projector.session.get(Case, projector.instance.case_id)
    if case is None:
        raise NotFound("The case of this route no longer exists")
    return case


def today_of(projector: Projector) -> str:
    """The command's day in England, as an ISO date."""
    return calendar.to_london_date(projector.now).isoformat()


def running_routes(session: Session, case_id: int, process_id: str,
                   exclude: int | None = None) -> list[ProcessInstance]:
    """The case's active instances of a route, oldest first (``exclude``: an instance left out)."""
    query = select(ProcessInstance).where(ProcessInstance.case_id == case_id, ProcessInstance.process_id == process_id,
                                          ProcessInstance.status.in_(ACTIVE_STATUSES))
    if exclude is not None:
        query = query.where(ProcessInstance.id != exclude)
    return list(session.scalars(query.order_by(ProcessInstance.id)))


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
        child = Projector(self.projector.session, instance, wf, self.projector.now, self.projector.actor_id,
                          self.evaluate)
        save_instance(child, _SERIALIZER, before, action, summary, detail)
def _mark_failed(projector: Projector, instance: ProcessInstance, name: str, payload: Mapping[str, Any],
                 exc: Exception) -> None:
    """The other route could not take the message: it is left as it was, marked failed with an incident."""
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
        event = message_event(name, event_payload)
        if not accepts(wf, event):
            continue
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
    A route that fails as it starts is kept as a failed instance with an incident (``_keep_failed_start``).
    ``message``: the route begins with a message start event, which receives it.
    """
    session = projector.session
    version = session.scalars(select(ProcessVersion).where(ProcessVersion.process_id == process_id,
                                                           ProcessVersion.is_current.is_(True))).first()
    if version is None:
        projector.events.append(("route_not_started", f"{process_id} is not deployed, so it was not started: "
                                 "start it by hand when it is", {"process_id": process_id}))
        return None
    case = case_of(projector)
    runner = _Runner(projector)
    spec, subs = _specs(version)
    wf = BpmnWorkflow(spec, subs, script_engine=runner.script_engine)
    start_data: dict[str, Any] = {
        "case_id": case.id, "case_reference": case.reference, "child_name": case.child_name,
        "date_of_birth": case.date_of_birth.isoformat() if case.date_of_birth else None, "la_id": case.la_id,
        "started_on": today_of(projector),
    }
    start_data.update(data or {})
    wf.get_next_task(spec_name="Start").set_data(**start_data)
    instance = ProcessInstance(case_id=case.id, process_version_id=version.id, process_id=process_id,
                               status="running", state="", serializer_version=_SERIALIZER.version,
                               created_at=projector.now, updated_at=projector.now, started_by_id=projector.actor_id,
                               parent_instance_id=projector.instance.id)
    try:
        # A savepoint: a route that cannot start (a fault in its model, data it needs and did not get) leaves
        # nothing behind, and this step goes on; the case's history says what went wrong.
        with session.begin_nested():
            session.add(instance)
            session.flush()
            wf.do_engine_steps()
            if message is not None:
                wf.send_event(message_event(message[0], message[1]))
                wf.refresh_timers()
                wf.do_engine_steps()
            runner.advance(instance, wf, Snapshot(), "started", f"Started {version.name or process_id}",
                           {"process_id": process_id, "version": version.version_hash,
                            "started_by_instance_id": projector.instance.id})
    except Exception as exc:  # noqa: BLE001 - kept as a failed instance with an incident for an administrator
        where = describe_failure(exc)
        failed_id = _keep_failed_start(projector, version, start_data, message, exc)
        projector.events.append(("route_start_failed", f"{process_id} could not start: {where.message}",
                                 {"process_id": process_id, "element_id": where.element_id, "line": where.line,
                                  "instance_id": failed_id}))
        return None
    projector.events.append(("route_started", f"Started {version.name or process_id}",
                             {"process_id": process_id, "instance_id": instance.id}))
    return instance.id


def _keep_failed_start(projector: Projector, version: ProcessVersion, start_data: Mapping[str, Any],
                       message: tuple[str, Mapping[str, Any]] | None, exc: Exception) -> int:
    """A route that could not start is kept, not started, as a failed instance with an open incident.

    An administrator then sees it in the failed instances (a line in the case's history alone would go unnoticed),
    can correct its data or move it to a fixed version, and retry: retrying runs the start again (and gives it the
    message it was started with).
    """
    where = describe_failure(exc)
    runner = _Runner(projector)
    spec, subs = _specs(version)
    wf = BpmnWorkflow(spec, subs, script_engine=runner.script_engine)
    wf.get_next_task(spec_name="Start").set_data(**start_data)
    session = projector.session
    error = {"file": where.file, "element_id": where.element_id, "line": where.line, "message": where.message,
             "command": "start", "previous_status": "running"}
    instance = ProcessInstance(case_id=projector.instance.case_id, process_version_id=version.id,
                               process_id=version.process_id, status="failed", state=_SERIALIZER.dumps(wf),
                               serializer_version=_SERIALIZER.version, created_at=projector.now,
                               updated_at=projector.now, started_by_id=projector.actor_id,
                               parent_instance_id=projector.instance.id, last_error=error)
    session.add(instance)
    session.flush()
    args: dict[str, Any] = {"actor_id": projector.actor_id, "started_by_instance_id": projector.instance.id}
    if message is not None:
        args["message"] = {"name": message[0], "payload": dict(message[1])}
    session.add(Incident(instance_id=instance.id, at=projector.now, command="start", command_args=args,
                         file=where.file, element_id=where.element_id, line=where.line, message=where.message))
    session.add(AuditEvent(at=projector.now, case_id=instance.case_id, instance_id=instance.id,
                           actor_id=projector.actor_id, action="failed",
                           summary=f"Could not start: {where.message}", detail=error))
    return instance.id


def _expression_data(projector: Projector, task: Task, property_name: str) -> dict[str, Any]:
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
    if running_routes(projector.session, projector.instance.case_id, process_id, exclude=projector.instance.id):
        projector.events.append(("route_already_running", f"{process_id} is already running on this case",
                                 {"process_id": process_id}))
        return None
    return start_route(projector, process_id, _expression_data(projector, task, "startsRouteData"))


def sends_message_hook(projector: Projector, task: Task, name: str) -> list[int]:
    """The ``sendsMessage`` completion hook: the message (payload from ``messagePayload``) goes to the case's
    other route waiting for it, or starts the route it starts. With ``sendsMessageWhen``, only when that expression
    is true (an appeal's outcome concerns a ceasing route only when the appeal is about ceasing)."""
    condition = properties_of(task.task_spec).get("sendsMessageWhen")
    if condition and not projector.evaluate(task, condition):
        return []
    return tell_other_routes(projector, name.strip(), _expression_data(projector, task, "messagePayload"),
                             start_if_none=True)


__all__ = [
    "case_of", "process_started_by", "running_routes", "sends_message_hook", "start_route", "starts_route_hook",
    "tell_other_routes", "today_of",
]
