"""Messages between routes: whether a workflow would take one now, and the event that delivers it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.util.task import TaskState


def accepts(wf: BpmnWorkflow, event: BpmnEvent) -> bool:
    """A waiting catch event takes it, or an event sub-process it starts (such as "disagreement resolution asked
    for at any time"): those are not waiting tasks, SpiffWorkflow starts them from the spec when the message arrives.
    Predicted (future) catch events take nothing yet.
    """
    if wf.get_tasks(state=TaskState.WAITING, catches_event=event):
        return True
    for name in getattr(wf.spec.start, "trigger_specs", []):
        sub = wf.subprocess_specs.get(name)
        if sub is not None and any(ts.event_definition == event.event_definition for ts in sub.bpmn_start_events):
            return True
    return False


def message_event(name: str, payload: Mapping[str, Any]) -> BpmnEvent:
    """The event that delivers a message of this name with its payload."""
    return BpmnEvent(MessageEventDefinition(name), payload=dict(payload))


def start_step(message: Mapping[str, Any] | None) -> Callable[..., None]:
    """The step that runs a route that was created but did not start (kept failed for an administrator's retry):
    the engine runs it to its first wait and, when it was started by a message, delivers that message."""

    def step(session: Any, instance: Any, wf: BpmnWorkflow, projector: Any) -> None:
        wf.do_engine_steps()
        if message:
            wf.send_event(message_event(message["name"], message.get("payload") or {}))
            wf.refresh_timers()
            wf.do_engine_steps()

    return step
