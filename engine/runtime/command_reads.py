"""The reads every command makes, built once with bound parameters.

A statement built for each command costs the building of every comparison in it (SQLAlchemy's operator and coercion
machinery), several times the database's own work for these one-index reads; these are built at import and only
their parameters change. Each is what the code that uses it says it reads.
"""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import bindparam, literal, null, select, union_all

from engine.store.models import Case, Deadline, HumanTask, ProcessInstance, ProcessVersion, Timer

#: The deadlines completed tasks may fire or meet: timed by them (case_id, attached) or theirs as timers (timers);
#: and every deadline of the case still open or missed, which the same command may take over or meet by its key.
DEADLINES_OF_TASKS = select(Deadline).where(
    ((Deadline.case_id == bindparam("case_id"))
     & (Deadline.attached_task_guid.in_(bindparam("attached", expanding=True))
        | Deadline.status.in_(("open", "missed"))))
    | Deadline.timer_guid.in_(bindparam("timers", expanding=True)))

#: A case's deadlines of one key (case_id, key) that are still open or missed: those a task may take over or meet.
UNFINISHED_DEADLINES = select(Deadline).where(Deadline.case_id == bindparam("case_id"),
                                              Deadline.key == bindparam("key"),
                                              Deadline.status.in_(("open", "missed"))).order_by(Deadline.id)

#: An instance's waiting timers and open tasks (instance_id), in one read: the columns the projection compares, each
#: row marked "timer" or "task" (a task has no name or element id here).
WAITING_ROWS = union_all(
    select(literal("timer").label("kind"), Timer.task_guid, Timer.id, Timer.name, Timer.bpmn_id).where(
        Timer.instance_id == bindparam("instance_id"), Timer.status == "waiting"),
    select(literal("task"), HumanTask.task_guid, HumanTask.id, null(), null()).where(
        HumanTask.instance_id == bindparam("instance_id"), HumanTask.status == "open"))

#: What a new task's organisation needs of its case (case_id).
CASE_LA = select(Case.id, Case.la_id).where(Case.id == bindparam("case_id"))


class CaseAuthority(NamedTuple):
    """What the projection needs of an instance's case to place the tasks it opens (CASE_LA's columns), when the
    command has read it with its first read."""

    id: int
    la_id: int


def due_instances(statuses: tuple[str, ...], lock: bool) -> object:
    """Those of some instances (ids) whose timers are still due (now) and that are still running, each with its
    case's id and authority (what a new task's organisation needs): the timer worker's claim, of a batch or of one.
    ``lock``: FOR UPDATE SKIP LOCKED (PostgreSQL), so that two workers never claim one instance; only the instances
    are locked, not their cases."""
    query = select(ProcessInstance, Case.id, Case.la_id).join(Case, Case.id == ProcessInstance.case_id).where(
        ProcessInstance.id.in_(bindparam("ids", expanding=True)), ProcessInstance.next_timer_due < bindparam("now"),
        ProcessInstance.status.in_(statuses)).order_by(ProcessInstance.id)
    return query.with_for_update(skip_locked=True, of=ProcessInstance) if lock else query


#: What a start needs of its case (case_id): its data for the route, and its authority for the tasks.
CASE_FOR_START = select(Case.id, Case.reference, Case.child_first_name, Case.child_last_name, Case.date_of_birth,
                        Case.la_id).where(Case.id == bindparam("case_id"))

#: A route's current version (process_id), its small columns only.
CURRENT_VERSION = select(ProcessVersion.id, ProcessVersion.name, ProcessVersion.version_hash).where(
    ProcessVersion.process_id == bindparam("process_id"), ProcessVersion.is_current.is_(True)).limit(1)

#: A task with its instance and its case's authority (task_id): what a command on the task reads first.
TASK_WITH_INSTANCE = select(HumanTask, ProcessInstance, Case.la_id).join(
    ProcessInstance, ProcessInstance.id == HumanTask.instance_id).join(Case, Case.id == ProcessInstance.case_id).where(
    HumanTask.id == bindparam("task_id"))

__all__ = ["CASE_FOR_START", "CASE_LA", "CaseAuthority", "CURRENT_VERSION", "DEADLINES_OF_TASKS", "TASK_WITH_INSTANCE",
           "UNFINISHED_DEADLINES", "WAITING_ROWS", "due_instances"]
