"""Whether a workflow would take a message now."""

from __future__ import annotations

from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
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
