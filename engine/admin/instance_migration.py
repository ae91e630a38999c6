"""Moving running instances to another version of their route (and back).

An instance runs on the version it started with. An admin may move it to another version of the same process when
nothing it has already done would change: a completed step whose element was removed or changed in the target
version refuses the move. Waiting and ready steps are reset and predicted again from the target version, so a
changed form or timer applies from now on. Moving back is the same operation in the other direction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.util.diff import diff_workflow, migrate_workflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import InvalidState, NotFound
from engine.runtime.projection import Projector, Snapshot
from engine.runtime.task_tree import instance_status, next_timer_due
from engine.statutory.clock import active_clock
from engine.store.models import ProcessInstance, ProcessVersion, User


@dataclass
class MigrationCheck:
    instance_id: int
    from_version: str
    to_version: str
    problems: list[str] = field(default_factory=list)
    reset_steps: list[str] = field(default_factory=list)

    @property
    def allowed(self) -> bool:
        return not self.problems


def _label(task: Any) -> str:
    spec = task.task_spec
    return f"{spec.bpmn_name or spec.bpmn_id or spec.name} [{spec.bpmn_id or spec.name}]"


def check_workflow(engine: Any, wf: BpmnWorkflow, target: ProcessVersion) -> tuple[list[str], list[str], Any]:
    """Problems that refuse the move, the steps that will be reset, and the diffs to apply."""
    loaded = engine.load_version(target)
    registry = engine.serializer.spec_registry
    top_diff, sub_diffs = diff_workflow(registry, wf, loaded.spec, loaded.subprocess_specs)
    problems: list[str] = []
    for task in top_diff.removed:
        if task.has_state(TaskState.COMPLETED):
            problems.append(f"completed step {_label(task)} is not in the target version")
    for task in top_diff.changed:
        if task.has_state(TaskState.COMPLETED) and task.task_spec.bpmn_id:
            problems.append(f"completed step {_label(task)} is different in the target version")
    for sub_id, diff in sub_diffs.items():
        if diff is None:
            problems.append(f"a running sub-process ({wf.subprocesses[sub_id].spec.name}) is not in the target version")
            continue
        for task in diff.removed + diff.changed:
            if task.has_state(TaskState.COMPLETED) and task.task_spec.bpmn_id:
                problems.append(f"completed step {_label(task)} in {task.workflow.spec.name} would change")
    reset = [_label(t) for t in wf.get_tasks(state=TaskState.READY | TaskState.WAITING) if t.task_spec.bpmn_id]
    return problems, reset, (top_diff, sub_diffs, loaded)


def plan_migration(engine: Any, instance_id: int, target_version_id: int) -> MigrationCheck:
    with engine.session_factory() as session:
        instance, target = _load(session, instance_id, target_version_id)
        with active_clock(engine.clock):
            wf = engine.load_workflow(instance)
            problems, reset, _ = check_workflow(engine, wf, target)
        return MigrationCheck(instance_id, instance.version.short_hash, target.short_hash, problems, reset)


def migrate_instance(engine: Any, instance_id: int, target_version_id: int, actor: User | None,
                     reason: str = "") -> MigrationCheck:
    """Moves one instance to the target version in one transaction, or raises InvalidState saying why not."""
    with engine.session_factory() as session:
        instance, target = _load(session, instance_id, target_version_id)
        with active_clock(engine.clock):
            wf = engine.load_workflow(instance)
            before = Snapshot.of(wf)
            problems, reset, (top_diff, sub_diffs, loaded) = check_workflow(engine, wf, target)
            check = MigrationCheck(instance_id, instance.version.short_hash, target.short_hash, problems, reset)
            if problems:
                raise InvalidState("This instance cannot move to that version: " + "; ".join(problems))
            migrate_workflow(top_diff, wf, loaded.spec)
            for sub_id, diff in sub_diffs.items():
                sub = wf.subprocesses[sub_id]
                migrate_workflow(diff, sub, loaded.subprocess_specs[sub.spec.name])
            wf.subprocess_specs = loaded.subprocess_specs
            wf.refresh_timers()
            wf.do_engine_steps()
            now = engine.clock.now()
            projector = Projector(session, instance, wf, now, actor.id if actor else None, engine._evaluate)
            projector.apply(before)
            projector.refresh_open_tasks()
            old_hash = instance.version.short_hash
            instance.process_version_id = target.id
            instance.state = engine.serializer.dumps(wf)
            instance.status = instance_status(wf)
            instance.next_timer_due = next_timer_due(wf)
            instance.updated_at = now
            projector.audit("migrated", f"Moved from version {old_hash} to {target.short_hash}"
                            + (f": {reason}" if reason else ""),
                            {"from": old_hash, "to": target.short_hash, "reset": reset})
            projector.flush_events()
            session.commit()
        return check


def _load(session: Session, instance_id: int, target_version_id: int) -> tuple[ProcessInstance, ProcessVersion]:
    instance = session.get(ProcessInstance, instance_id)
    if instance is None:
        raise NotFound("No such process instance")
    target = session.get(ProcessVersion, target_version_id)
    if target is None:
        raise NotFound("No such version")
    if target.process_id != instance.process_id:
        raise InvalidState(f"That version is of {target.process_id}, not {instance.process_id}")
    if target.id == instance.process_version_id:
        raise InvalidState("The instance already runs on that version")
    if instance.status in ("completed", "terminated"):
        raise InvalidState("A finished instance cannot be moved")
    return instance, target


def running_on(session: Session, version_id: int) -> list[int]:
    return list(session.scalars(select(ProcessInstance.id).where(
        ProcessInstance.process_version_id == version_id,
        ProcessInstance.status.not_in(("completed", "terminated")))))


__all__ = ["MigrationCheck", "plan_migration", "migrate_instance", "running_on"]
