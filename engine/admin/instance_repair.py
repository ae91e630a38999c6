"""Repairing a stuck or failed instance: skip a step, go back to an earlier task, edit the instance data, and the
administrator's versions of suspend, resume, terminate, retry, reassign and migrate (each with a reason).

The three workflow repairs run like every engine command: one transaction in which ``WorkflowEngine.apply_step``
loads the state, changes it and saves it (projections, status, next timer, audit), committed under the optimistic
revision check. They differ in two ways, on purpose: a repair that fails is rolled back and reported
to the administrator without turning the instance into a new incident (a failed repair attempt is not a failure of
the route), and editing the data of a failed instance leaves it failed so that the failed step can then be retried.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import delete, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from engine.admin.instance_migration import MigrationCheck, migrate_instance, plan_migration
from engine.errors import (
    ConcurrentUpdate,
    EngineError,
    FormInvalid,
    InvalidState,
    NotAllowed,
    NotFound,
    TaskAlreadyCompleted,
)
from engine.library.plain_data import MAX_DEPTH as MAX_DATA_DEPTH
from engine.library.plain_data import plain_data_problem
from engine.people.roles import Role
from engine.runtime.incidents import describe_failure
from engine.runtime.projection import Projector
from engine.runtime.task_tree import is_timer, timer_due
from engine.statutory import calendar
from engine.statutory.clock import active_clock
from engine.store.models import Case, Deadline, HumanTask, Incident, Membership, Organisation, ProcessInstance, Timer, User

FINISHED = ("completed", "terminated")
MAX_DATA_CHARS = 200_000


class RepairFailed(EngineError):
    """The repair ran into an error inside the route; nothing was changed."""


@dataclass
class Step:
    guid: str
    bpmn_id: str
    name: str
    kind: str  # "task" (a person's task), "timer", "message" or "event"
    state: str


def _name(task: Task) -> str:
    spec = task.task_spec
    return spec.bpmn_name or spec.bpmn_id or spec.name


def _kind(task: Task) -> str:
    if task.task_spec.manual:
        return "task"
    if is_timer(task):
        return "timer"
    definition = getattr(task.task_spec, "event_definition", None)
    return "message" if type(definition).__name__ == "MessageEventDefinition" else "event"


def _skippable(wf: BpmnWorkflow) -> list[Task]:
    """Where the route is waiting: people's tasks that are ready, and events (timers, messages) it waits for."""
    out = [t for t in wf.get_tasks(state=TaskState.READY) if t.task_spec.manual]
    out += [t for t in wf.get_tasks(state=TaskState.WAITING)
            if getattr(t.task_spec, "event_definition", None) is not None and t.task_spec.bpmn_id]
    return out


def _earlier(wf: BpmnWorkflow) -> list[Task]:
    """People's tasks already done that are still in the saved state (older history is pruned when saved)."""
    return [t for t in wf.get_tasks(state=TaskState.COMPLETED) if t.task_spec.manual and t.task_spec.bpmn_id]


def _steps(tasks: list[Task]) -> list[Step]:
    return [Step(str(t.id), t.task_spec.bpmn_id or t.task_spec.name, _name(t), _kind(t),
                 TaskState.get_name(t.state).lower()) for t in tasks]


def _load(engine: Any, instance_id: int) -> tuple[ProcessInstance, BpmnWorkflow]:
    with engine.session_factory() as session:
        instance = session.get(ProcessInstance, instance_id)
        if instance is None:
            raise NotFound("No such process instance")
        with active_clock(engine.clock):
            return instance, engine.load_workflow(instance)


def skippable_steps(engine: Any, instance_id: int) -> list[Step]:
    return _steps(_skippable(_load(engine, instance_id)[1]))


def earlier_tasks(engine: Any, instance_id: int) -> list[Step]:
    return _steps(_earlier(_load(engine, instance_id)[1]))


def live_data(wf: BpmnWorkflow) -> dict[str, Any]:
    """The data the route carries forward: that of the tasks it waits at (one copy per branch, merged)."""
    data: dict[str, Any] = {}
    for task in wf.get_tasks(state=TaskState.READY | TaskState.WAITING):
        data.update(task.data)
    return data


def instance_data(engine: Any, instance_id: int) -> dict[str, Any]:
    """The live data, or for a finished route the data it finished with (that of its last completed task)."""
    _, wf = _load(engine, instance_id)
    data = live_data(wf)
    if not data:
        done = wf.get_tasks(state=TaskState.COMPLETED)
        if done:
            data = dict(max(done, key=lambda t: t.last_state_change).data)
    return data


# ---- who may repair ------------------------------------------------------------------------------------------------

def _check_actor(session: Session, actor: User | None, instance: ProcessInstance) -> None:
    """Only an administrator of the case's responsible authority repairs its instances (no actor: the system, as in
    the CLI). The admin pages ask first; this is the engine checking again, as every command does."""
    if actor is None:
        return
    la_id = session.scalar(select(Case.la_id).where(Case.id == instance.case_id))
    if not session.scalar(select(Membership.id).where(Membership.user_id == actor.id, Membership.role == Role.ADMIN.value,
                                                      Membership.organisation_id == la_id).limit(1)):
        name = session.scalar(select(Organisation.name).where(Organisation.id == la_id))
        raise NotAllowed(f"Only an administrator of {name} can repair its instances")


def _instance_for(session: Session, instance_id: int, actor: User | None) -> ProcessInstance:
    instance = session.get(ProcessInstance, instance_id)
    if instance is None:
        raise NotFound("No such process instance")
    _check_actor(session, actor, instance)
    return instance


# ---- the transaction -----------------------------------------------------------------------------------------------

def _repair(engine: Any, instance_id: int, action: str, summary: str, detail: dict[str, Any],
            step: Callable[[Session, ProcessInstance, BpmnWorkflow, Projector], None], actor: User | None,
            expected_revision: int | None, keep_failed: bool = False, stored_state: str | None = None) -> None:
    """Runs ``step`` on the instance in one transaction. ``stored_state``, if given, replaces the saved state first
    (a repair of a state that cannot be read, engine/admin/stored_state.py): it is read and saved again as usual."""
    with engine.session_factory() as session:
        instance = _instance_for(session, instance_id, actor)
        if instance.status in FINISHED:
            raise InvalidState("This instance has already ended")
        if instance.status == "suspended":
            raise InvalidState("This instance is suspended: resume it first")
        if expected_revision is not None and instance.revision != expected_revision:
            raise ConcurrentUpdate("Someone else has changed this instance since you opened it. Reload and try again.")
        was_failed, last_error = instance.status == "failed", instance.last_error
        actor_id = actor.id if actor else None
        with active_clock(engine.clock):
            try:
                if stored_state is not None:
                    instance.state = stored_state
                engine.apply_step(session, instance, step, actor, action, summary, detail)
                if was_failed and keep_failed:
                    instance.status, instance.last_error = "failed", last_error
                elif was_failed:
                    for incident in session.scalars(select(Incident).where(Incident.instance_id == instance_id,
                                                                           Incident.resolved_at.is_(None))):
                        incident.resolved_at = engine.clock.now()
                        incident.resolved_by_id = actor_id
                session.commit()
            except StaleDataError as exc:
                session.rollback()
                raise ConcurrentUpdate(SAME_MOMENT) from exc
            except (TaskAlreadyCompleted, NotAllowed, FormInvalid, InvalidState, ConcurrentUpdate, NotFound):
                session.rollback()
                raise
            except Exception as exc:  # noqa: BLE001 - any failure inside the route: nothing is kept
                session.rollback()
                where = describe_failure(exc)
                place = ", ".join(p for p in (where.file, where.element_id,
                                              f"line {where.line}" if where.line else None) if p)
                raise RepairFailed(f"The route stopped with an error ({place or 'no element'}): {where.message}. "
                                   "Nothing was changed.") from exc


def _reason(reason: str, what: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise FormInvalid({"reason": f"Enter why you are {what}"})
    if len(reason) > 2000:
        raise FormInvalid({"reason": "The reason must be 2,000 characters or fewer"})
    return reason


def _find(tasks: list[Task], guid: str, refusal: str) -> Task:
    chosen = next((t for t in tasks if str(t.id) == guid), None)
    if chosen is None:
        raise InvalidState(refusal)
    return chosen


# ---- skip a stuck step ---------------------------------------------------------------------------------------------

def skip_step(engine: Any, instance_id: int, task_guid: str, actor: User | None, reason: str,
              expected_revision: int | None = None) -> None:
    """Completes a ready task or a waited-for event without running it (no form, no timer), then runs on."""
    reason = _reason(reason, "skipping this step")
    found: dict[str, str] = {}

    def step(session: Session, instance: ProcessInstance, wf: BpmnWorkflow, projector: Projector) -> None:
        task = _find(_skippable(wf), task_guid, "That step is not waiting: only a ready task or an event the route "
                                                "is waiting for can be skipped")
        found.update(name=_name(task), bpmn_id=task.task_spec.bpmn_id or "")
        if task.state == TaskState.WAITING:
            # An event is skipped by marking it as having happened: it then runs as if the timer had fired or the
            # message had come, taking its own path (completing it directly would leave it registered as waiting).
            task._set_internal_data(event_fired=True)
            task.task_spec._update(task)
        else:
            task.complete()
        wf.refresh_timers()
        wf.do_engine_steps()
        detail.update(found)

    detail: dict[str, Any] = {"reason": reason, "task_guid": task_guid}
    _repair(engine, instance_id, "step_skipped", f"Step skipped by an administrator: {reason}", detail, step, actor,
            expected_revision)


# ---- go back to an earlier task ------------------------------------------------------------------------------------

def move_back(engine: Any, instance_id: int, task_guid: str, actor: User | None, reason: str,
              expected_revision: int | None = None) -> None:
    """Resets the route to a task already done: everything after it is undone and the task is open again, with the
    answers given last time as a draft."""
    reason = _reason(reason, "moving the instance back")
    detail: dict[str, Any] = {"reason": reason, "task_guid": task_guid}

    def step(session: Session, instance: ProcessInstance, wf: BpmnWorkflow, projector: Projector) -> None:
        task = _find(_earlier(wf), task_guid, "That task cannot be gone back to: it is not a completed task of this "
                                              "instance that is still in its saved state")
        detail.update(name=_name(task), bpmn_id=task.task_spec.bpmn_id)
        removed = wf.reset_from_task_id(task.id)
        # SpiffWorkflow drops the undone tasks from the tree but not from the list of events being waited for.
        for gone in removed:
            wf.event_manager.remove_task(gone)
        wf.refresh_timers()
        wf.do_engine_steps()
        _reopen_projections(session, instance, wf)

    _repair(engine, instance_id, "moved_back", f"Moved back to an earlier task by an administrator: {reason}", detail,
            step, actor, expected_revision)


def _can_still_do(session: Session, row: HumanTask) -> bool:
    if row.completed_by_id is None:
        return False
    return session.scalar(select(Membership.id).join(User, User.id == Membership.user_id).where(
        Membership.user_id == row.completed_by_id, User.active.is_(True), Membership.role == row.role,
        Membership.organisation_id == row.organisation_id).limit(1)) is not None


def _reopen_projections(session: Session, instance: ProcessInstance, wf: BpmnWorkflow) -> None:
    """A reset task keeps its id, so its old projection rows are reopened instead of being added again."""
    ready = {str(t.id) for t in wf.get_tasks(state=TaskState.READY) if t.task_spec.manual}
    for row in session.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                       HumanTask.task_guid.in_(ready), HumanTask.status != "open")):
        row.status = "open"
        row.draft_data = row.submitted_data
        row.submitted_data = None
        # Whoever did it last time has it back, if they still can do it (a family task is the family's whatever its
        # assignee); otherwise it waits for anyone with its role, rather than sitting with someone who cannot act.
        row.assignee_id = row.completed_by_id if row.role != "family" and _can_still_do(session, row) else None
        row.completed_at = None
        row.completed_by_id = None
    waiting = {str(t.id) for t in wf.get_tasks(state=TaskState.WAITING) if is_timer(t)}
    if not waiting:
        return
    session.execute(delete(Timer).where(Timer.instance_id == instance.id, Timer.task_guid.in_(waiting),
                                        Timer.status != "waiting"))
    # A deadline met by work that is now undone is open again (a missed one stays missed: that is history).
    for row in session.scalars(select(Deadline).where(Deadline.timer_guid.in_(waiting), Deadline.status == "met")):
        row.status = "open"
        row.met_at = None


# ---- edit the instance data ----------------------------------------------------------------------------------------

def _not_json(constant: str) -> Any:
    raise FormInvalid({"data": f"{constant} is not a JSON value: use a number, or null"})


def parse_data(text: str) -> dict[str, Any]:
    """The JSON an administrator typed, or FormInvalid saying what is wrong with it."""
    if len(text) > MAX_DATA_CHARS:
        raise FormInvalid({"data": f"The data must be {MAX_DATA_CHARS:,} characters or fewer"})
    try:
        value = json.loads(text, parse_constant=_not_json)
    except json.JSONDecodeError as exc:
        raise FormInvalid({"data": f"The data is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"}) \
            from exc
    except RecursionError as exc:
        raise FormInvalid({"data": f"The data is nested too deeply: at most {MAX_DATA_DEPTH} levels of lists and "
                                   "objects"}) from exc
    except ValueError as exc:  # an integer with more digits than Python converts
        raise FormInvalid({"data": f"A number in the data is too long: {exc}"}) from exc
    return checked_data(value)


def checked_data(value: Any) -> dict[str, Any]:
    """The data, if an administrator may put it into a route: a JSON object of plain data (the rule every form
    follows too, engine/library/plain_data.py), whose top-level names do not start with _ (the engine's own)."""
    if not isinstance(value, dict):
        raise FormInvalid({"data": "The data must be a JSON object, in curly brackets { }"})
    problem = plain_data_problem(value)
    if problem:
        raise FormInvalid({"data": problem})
    bad = [k for k in value if k.startswith("_")]
    if bad:
        raise FormInvalid({"data": f"Names starting with _ are not allowed: {', '.join(sorted(bad))}"})
    return value


def edit_data(engine: Any, instance_id: int, new_data: dict[str, Any], actor: User | None, reason: str,
              expected_revision: int | None = None) -> dict[str, Any]:
    """Replaces the data the route carries forward; returns the changes (old and new values), kept in the audit.

    The data is checked here, not only where it was typed: whatever calls this, nothing that is not plain data
    reaches the saved state (a nested ``typename`` once made an instance unreadable for good)."""
    new_data = checked_data(new_data)
    reason = _reason(reason, "changing the data")
    changes: dict[str, Any] = {}

    def step(session: Session, instance: ProcessInstance, wf: BpmnWorkflow, projector: Projector) -> None:
        old = live_data(wf)
        changed = sorted(k for k in new_data if k not in old or old[k] != new_data[k])
        removed = sorted(k for k in old if k not in new_data)
        if not changed and not removed:
            raise InvalidState("Nothing was changed: the data is the same as before")
        changes.update(old={k: old[k] for k in changed + removed if k in old},
                       new={k: new_data[k] for k in changed}, removed=removed)
        for task in wf.get_tasks(state=TaskState.READY | TaskState.WAITING):
            for key in removed:
                task.data.pop(key, None)
            task.data.update({k: new_data[k] for k in changed})
        moved = _recompute_date_timers(session, instance, wf, engine)
        if moved:
            changes["timers"] = moved
        detail.update(changes)

    detail: dict[str, Any] = {"reason": reason}
    _repair(engine, instance_id, "data_edited", f"Instance data changed by an administrator: {reason}", detail, step,
            actor, expected_revision, keep_failed=True)
    return changes


def _recompute_date_timers(session: Session, instance: ProcessInstance, wf: BpmnWorkflow,
                           engine: Any) -> dict[str, list[str]]:
    """Works out again the waiting timers set for a date (their expression may read the data just corrected, as a
    statutory deadline reads the date a request was received). Timers set for a duration keep their moment: worked
    out now they would start again from today. A moment that is now past is fired by the worker, as after downtime.
    Open tasks keep their due dates (their expressions may read today's date)."""
    moved: dict[str, list[str]] = {}
    for task in wf.get_tasks(state=TaskState.WAITING):
        definition = getattr(task.task_spec, "event_definition", None)
        if type(definition).__name__ != "TimeDateEventDefinition":
            continue
        old = task.internal_data.get("event_value")
        new = engine._evaluate(task, definition.expression)
        if new == old:
            continue
        task._set_internal_data(event_value=new)
        moved[task.task_spec.bpmn_id or task.task_spec.name] = [str(old), str(new)]
        due = timer_due(task)
        if due is None:
            continue
        for row in session.scalars(select(Timer).where(Timer.instance_id == instance.id,
                                                       Timer.task_guid == str(task.id), Timer.status == "waiting")):
            row.due_at = due
        for deadline in session.scalars(select(Deadline).where(Deadline.timer_guid == str(task.id),
                                                               Deadline.status == "open")):
            deadline.due_date = calendar.to_london_date(due - timedelta(seconds=1))
    return moved


# ---- the engine's admin commands, with the administrator's reason ---------------------------------------------------

SAME_MOMENT = "Someone else changed this instance at the same moment; nothing was saved. Reload and try again."


@contextmanager
def _same_moment_refused() -> Iterator[None]:
    """The commands the runtime runs itself commit under the revision check too: a collision is the admin's to
    hear about, not a server error."""
    try:
        yield
    except StaleDataError as exc:
        raise ConcurrentUpdate(SAME_MOMENT) from exc


def _status_checked(engine: Any, instance_id: int, actor: User | None) -> str:
    """The instance's status, once the actor may repair it (for the commands the runtime runs itself)."""
    with engine.session_factory() as session:
        return _instance_for(session, instance_id, actor).status


def suspend(engine: Any, instance_id: int, actor: User | None, reason: str) -> None:
    reason = _reason(reason, "suspending this instance")
    _status_checked(engine, instance_id, actor)
    with _same_moment_refused():
        engine.suspend(instance_id, actor, reason)


def resume(engine: Any, instance_id: int, actor: User | None, reason: str) -> None:
    reason = _reason(reason, "resuming this instance")
    _status_checked(engine, instance_id, actor)
    with _same_moment_refused():
        engine.resume(instance_id, actor, reason)


def terminate(engine: Any, instance_id: int, actor: User | None, reason: str) -> None:
    reason = _reason(reason, "ending this instance")
    _status_checked(engine, instance_id, actor)
    with _same_moment_refused():
        engine.terminate(instance_id, actor, reason)


def retry(engine: Any, instance_id: int, actor: User | None, reason: str) -> None:
    reason = _reason(reason, "retrying the failed step")
    with engine.session_factory() as session:
        instance = _instance_for(session, instance_id, actor)
        if instance.status != "failed":
            raise InvalidState("Only a failed instance can be retried: this one is "
                               + instance.status.replace("_", " "))
    with _same_moment_refused():
        engine.retry(instance_id, actor, reason)


def reassign(engine: Any, task_id: int, user_id: int, actor: User | None, reason: str) -> None:
    reason = _reason(reason, "reassigning this task")
    with _same_moment_refused():
        engine.reassign(task_id, user_id, actor, reason)


def check_migration(engine: Any, instance_id: int, version_id: int) -> MigrationCheck:
    return plan_migration(engine, instance_id, version_id)


def migrate(engine: Any, instance_id: int, version_id: int, actor: User | None, reason: str) -> MigrationCheck:
    reason = _reason(reason, "moving this instance to another version")
    if _status_checked(engine, instance_id, actor) == "suspended":
        raise InvalidState("This instance is suspended: resume it first")
    with _same_moment_refused():
        return migrate_instance(engine, instance_id, version_id, actor, reason)


__all__ = [
    "RepairFailed", "Step", "check_migration", "earlier_tasks", "edit_data", "instance_data", "live_data",
    "migrate", "move_back", "parse_data", "reassign", "resume", "retry", "skip_step", "skippable_steps", "suspend",
    "terminate",
]
