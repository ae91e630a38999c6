"""Repairing an instance whose saved state can no longer be read, by editing the data it stores.

Such a state is still JSON: what cannot be read is a value inside it that SpiffWorkflow's serializer takes for one
of its own objects (a dict with a ``typename`` key, engine/library/plain_data.py explains), put there before the
plain-data rule existed or by writing the state directly. Every command on the instance then fails, retry too, and
the pages that read the state cannot show its data; only this repair works on the stored JSON itself:

* what is shown is the data the route carries forward (that of its ready and waiting tasks), worked out from the
  stored tasks as SpiffWorkflow would (each task stores the changes against its parent), each value as the route
  would read it, or as stored when it cannot be read;
* the administrator sends the corrected data, which must be plain data like any edit; it replaces the live data of
  every ready and waiting task (the keys changed are set, those left out removed, as "Change the instance data"
  does), and any value that cannot be read in a finished step's data, the route's own data or an event waiting to
  be delivered is replaced by null (finished steps are history, and each one cleared is named in the audit);
* the corrected state must then be readable, or nothing is changed and the admin is told why; if it is, it is read
  and saved again as in every command (projections, timers set for a date worked out again, audit with the
  reason, the old and new values and what was cleared), under the revision the admin saw.

Previous states are not kept, so restoring an earlier revision is not offered: the audit trail keeps what each
change did, and this repair reaches every value that can make a state unreadable.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy.orm import Session

from engine.admin.instance_repair import _instance_for, _reason, _recompute_date_timers, _repair, checked_data
from engine.errors import ConcurrentUpdate, FormInvalid, InvalidState
from engine.runtime.projection import Projector
from engine.statutory.clock import active_clock
from engine.store.models import ProcessInstance, User

LIVE = TaskState.READY | TaskState.WAITING


@dataclass
class StoredView:
    """What an administrator sees of a saved state: whether it can be read, and if not, what it holds."""

    revision: int
    status: str
    error: str | None  # why the state cannot be read; None when it can
    data: dict[str, Any] = field(default_factory=dict)  # the live data as the route would read it (or as stored)
    unreadable: list[str] = field(default_factory=list)  # where the values that cannot be read are
    is_json: bool = True

    @property
    def readable(self) -> bool:
        return self.error is None


def _load_error(engine: Any, instance: ProcessInstance | SimpleNamespace) -> str | None:
    try:
        with active_clock(engine.clock):
            engine.load_workflow(instance)
    except Exception as exc:  # noqa: BLE001 - any failure to read the state is what this module is about
        return f"{type(exc).__name__}: {exc}"
    return None


def _workflows(state: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The top-level workflow and its sub-processes (call activities), each with the name its paths start with."""
    found = [("", state)]
    for key, sub in (state.get("subprocesses") or {}).items():
        if isinstance(sub, dict):
            found.append((f"subprocess {sub.get('spec') or key}", sub))
    return found


def _full_data(workflow: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each stored task's whole data, as SpiffWorkflow's TaskConverter.from_dict rebuilds it: a task with a delta
    whose parent was restored before it starts from the parent's data; any other task has its data stored whole."""
    full: dict[str, dict[str, Any]] = {}
    for tid, task in (workflow.get("tasks") or {}).items():
        delta = task.get("delta")
        if delta and task.get("parent") in full:
            data = copy.deepcopy(full[task["parent"]])
            data.update(copy.deepcopy(delta.get("updates") or {}))
            for key in delta.get("deletions") or []:
                data.pop(key, None)
        else:
            data = copy.deepcopy(task.get("data") or {})
        full[tid] = data
    return full


def _task_label(prefix: str, workflow: dict[str, Any], tid: str) -> str:
    task = workflow["tasks"][tid]
    where = f"{prefix}, " if prefix else ""
    return f"{where}task {task.get('task_spec')} ({TaskState.get_name(task.get('state', 0)).lower()})"


def _readable(engine: Any, value: Any) -> bool:
    try:
        engine.serializer.restore_value(value)
    except Exception:  # noqa: BLE001 - whatever restoring raises, the route could not read it
        return False
    return True


def _clear(engine: Any, value: Any, path: str, cleared: list[str]) -> Any:
    """The value with every part the route cannot read replaced by None; each place is added to ``cleared``."""
    if isinstance(value, dict):
        if "typename" in value and not _readable(engine, value):
            cleared.append(path)
            return None
        return {k: _clear(engine, v, f"{path}.{k}", cleared) for k, v in value.items()}
    if isinstance(value, list):
        return [_clear(engine, v, f"{path}[{i}]", cleared) for i, v in enumerate(value)]
    return value


def _shown(engine: Any, value: Any) -> Any:
    """A stored value as the route reads it, in JSON (a date as text); as stored if it cannot be read."""
    try:
        return json.loads(json.dumps(engine.serializer.restore_value(value), default=str))
    except Exception:  # noqa: BLE001 - shown as stored, for the admin to correct
        return value


def _live(engine: Any, state: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The live data as stored (merged over the ready and waiting tasks, as "Change the instance data" shows it),
    and where every value that cannot be read is, anywhere in the task data."""
    data: dict[str, Any] = {}
    unreadable: list[str] = []
    for prefix, workflow in _workflows(state):
        for tid, task_data in _full_data(workflow).items():
            _clear(engine, task_data, f"{_task_label(prefix, workflow, tid)}: data", unreadable)
            if workflow["tasks"][tid].get("state", 0) & LIVE:
                data.update(task_data)
        _clear(engine, workflow.get("data") or {}, f"{prefix or 'route'}: data", unreadable)
    for index, event in enumerate(state.get("bpmn_events") or []):
        if isinstance(event, dict):
            _clear(engine, event.get("payload"), f"event {index + 1}: payload", unreadable)
    return data, sorted(set(unreadable))


def _parsed(instance: ProcessInstance) -> dict[str, Any] | None:
    try:
        state = json.loads(instance.state)
    except ValueError:
        return None
    return state if isinstance(state, dict) and isinstance(state.get("tasks"), dict) else None


def stored_view(engine: Any, instance_id: int, actor: User | None = None) -> StoredView:
    """Whether the instance's saved state can be read and, if not, the data it stores and what in it cannot be read."""
    with engine.session_factory() as session:
        instance = _instance_for(session, instance_id, actor)
        view = StoredView(instance.revision, instance.status, _load_error(engine, instance))
        if view.readable:
            return view
        state = _parsed(instance)
        if state is None:
            view.is_json = False
            return view
        live, view.unreadable = _live(engine, state)
        view.data = {k: _shown(engine, v) for k, v in live.items()}
        return view


def _rewritten(engine: Any, state: dict[str, Any], old: dict[str, Any], new_data: dict[str, Any],
               changes: dict[str, Any]) -> str:
    changed = sorted(k for k in new_data if k not in old or old[k] != new_data[k])
    removed = sorted(k for k in old if k not in new_data)
    cleared: list[str] = []
    for prefix, workflow in _workflows(state):
        full = _full_data(workflow)
        for tid, task in workflow["tasks"].items():
            data = full[tid]
            if task.get("state", 0) & LIVE:
                for key in removed:
                    data.pop(key, None)
                data.update({k: copy.deepcopy(new_data[k]) for k in changed})
            # Stored whole, so that no task depends on a parent's value that has just been cleared.
            task["data"] = _clear(engine, data, f"{_task_label(prefix, workflow, tid)}: data", cleared)
            task["delta"] = {}
        workflow["data"] = _clear(engine, workflow.get("data") or {}, f"{prefix or 'route'}: data", cleared)
    for index, event in enumerate(state.get("bpmn_events") or []):
        if isinstance(event, dict):
            event["payload"] = _clear(engine, event.get("payload"), f"event {index + 1}: payload", cleared)
    if not changed and not removed and not cleared:
        raise InvalidState("Nothing was changed: the data is the same as before")
    changes.update(old={k: old[k] for k in changed + removed if k in old}, new={k: new_data[k] for k in changed},
                   removed=removed, cleared=cleared)
    return json.dumps(state)


def repair_stored_data(engine: Any, instance_id: int, new_data: dict[str, Any], actor: User | None, reason: str,
                       expected_revision: int | None = None) -> dict[str, Any]:
    """Replaces the live data of an instance whose state cannot be read (see the module docstring); returns the
    changes kept in the audit: old and new values, keys removed, and the places cleared."""
    new_data = checked_data(new_data)
    reason = _reason(reason, "repairing the saved data")
    with engine.session_factory() as session:
        instance = _instance_for(session, instance_id, actor)
        if _load_error(engine, instance) is None:
            raise InvalidState("The saved state of this instance can be read: change its data with "
                               "“Change the instance data” instead")
        if expected_revision is not None and instance.revision != expected_revision:
            raise ConcurrentUpdate("Someone else has changed this instance since you opened it. Reload and try "
                                   "again.")
        revision = instance.revision
        state = _parsed(instance)
        if state is None:
            raise InvalidState("The saved state is not even JSON, so its data cannot be edited: move the instance "
                               "to another version of its route, or end it")
        live, _ = _live(engine, state)
        old = {k: _shown(engine, v) for k, v in live.items()}
        changes: dict[str, Any] = {}
        text = _rewritten(engine, state, old, new_data, changes)
        # Tried on a stand-in (load_workflow reads only these two), so that the session never holds the trial.
        problem = _load_error(engine, SimpleNamespace(version=instance.version, state=text))
        if problem:
            raise FormInvalid({"data": f"The saved state still could not be read with this data ({problem}). "
                                       "Nothing was changed."})
    detail: dict[str, Any] = {"reason": reason, **_auditable(changes)}

    def step(session: Session, instance: ProcessInstance, wf: BpmnWorkflow, projector: Projector) -> None:
        moved = _recompute_date_timers(session, instance, wf, engine)
        if moved:
            detail["timers"] = moved

    _repair(engine, instance_id, "state_repaired", f"Saved data repaired by an administrator: {reason}", detail,
            step, actor, revision, keep_failed=True, stored_state=text)
    return changes


def _auditable(changes: dict[str, Any]) -> dict[str, Any]:
    """The changes as the audit trail can keep them: an old value that is not strict JSON is kept as its text."""
    try:
        json.dumps(changes, allow_nan=False)
        return changes
    except ValueError:
        return {**changes, "old": json.dumps(changes["old"], default=str)}


__all__ = ["StoredView", "repair_stored_data", "stored_view"]
