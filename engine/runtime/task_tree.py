"""What a workflow's task tree says about the route's timers, its tasks waiting for a person and its status.

Read by the projection after every command, and by the administrators' repairs and migrations, which must judge a
workflow the same way.
"""

from __future__ import annotations

from datetime import datetime

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState


def is_timer(task: Task) -> bool:
    return isinstance(getattr(task.task_spec, "event_definition", None), TimerEventDefinition)


def is_gateway_timer(task: Task) -> bool:
    """An event-based gateway waiting on a timer among its events.

    SpiffWorkflow moves the events that follow an event-based gateway onto the gateway itself (one
    MultipleEventDefinition), so the timer waits on the gateway's task and ``waiting_events()`` does not report it
    as a timer. Its moment is kept in the gateway task's ``event_value`` like a plain timer's.
    """
    definition = getattr(task.task_spec, "event_definition", None)
    return isinstance(definition, MultipleEventDefinition) and any(
        isinstance(d, TimerEventDefinition) for d in definition.event_definitions)


def waits_on_timer(task: Task) -> bool:
    return is_timer(task) or is_gateway_timer(task)


def gateway_timer_fired(task: Task) -> bool:
    return any(isinstance(getattr(e, "event_definition", None), TimerEventDefinition)
               for e in task.internal_data.get("seen_events", []))


def timer_due(task: Task) -> datetime | None:
    value = task.internal_data.get("event_value")
    if isinstance(value, str):
        return TimerEventDefinition.get_datetime(value)
    return None


def next_timer_due(wf: BpmnWorkflow, tasks: list[Task] | None = None) -> datetime | None:
    """The next moment a timer of the workflow is due; ``tasks``, when given, are all its tasks as they are now (one
    walk of the tree shared by the projection instead of one per question)."""
    due = [
        TimerEventDefinition.get_datetime(e.value)
        for e in wf.waiting_events()
        if e.event_type in ("DurationTimerEventDefinition", "TimeDateEventDefinition") and isinstance(e.value, str)
    ]
    waiting = wf.get_tasks(state=TaskState.WAITING) if tasks is None else [
        task for task in tasks if task.state == TaskState.WAITING]
    due += [moment for task in waiting if is_gateway_timer(task) if (moment := timer_due(task)) is not None]
    return min(due, default=None)


def all_tasks(wf: BpmnWorkflow) -> list[Task]:
    """Every task of the workflow in the order ``wf.get_tasks()`` gives them (depth first; a call activity's own
    tree before the task's next tasks), by a plain walk: SpiffWorkflow's iterator, built for its filters, costs
    several times as much for the whole tree. (Its walk also stops at a depth of 1,000; this one does not.)"""
    subprocesses = wf.subprocesses
    found: list[Task] = []
    stack = [wf.task_tree]
    while stack:
        task = stack.pop()
        found.append(task)
        following = task.children
        sub = subprocesses.get(task.id)
        if sub is not None:
            following = [sub.task_tree, *following]
        stack.extend(reversed(following))
    return found


def ready_user_tasks(wf: BpmnWorkflow, tasks: list[Task] | None = None) -> list[Task]:
    if tasks is None:
        return list(wf.get_tasks(state=TaskState.READY, manual=True))
    return [task for task in tasks if task.state == TaskState.READY and task.task_spec.manual]


def attached_task(timer: Task) -> Task | None:
    """The activity a boundary timer is attached to (its sibling under the BoundaryEventSplit)."""
    parent = timer.parent
    if parent is None or not parent.task_spec.name.endswith(".BoundaryEventSplit"):
        return None
    name = parent.task_spec.name[: -len(".BoundaryEventSplit")]
    return next((child for child in parent.children if child.task_spec.name == name), None)


def instance_status(wf: BpmnWorkflow, tasks: list[Task] | None = None) -> str:
    if wf.is_completed():
        return "completed"
    if ready_user_tasks(wf, tasks):
        return "waiting_person"
    if next_timer_due(wf, tasks) is not None:
        return "waiting_timer"
    return "running"


__all__ = ["all_tasks", "attached_task", "gateway_timer_fired", "instance_status", "is_gateway_timer", "is_timer",
           "next_timer_due", "ready_user_tasks", "timer_due", "waits_on_timer"]
