"""The commands that manage tasks and instances rather than run them: claim, reassign, suspend, terminate, retry."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from engine.errors import EngineError, FormInvalid, InstanceFailed, InvalidState, NotAllowed, NotFound, TaskAlreadyCompleted
from engine.people.access import can_act_on_task, roles_in
from engine.people.roles import Role
from engine.runtime.deadlines import claim_exception
from engine.runtime.messages import start_step
from engine.statutory.clock import Clock
from engine.store.models import ACTIVE_STATUSES, AuditEvent, Deadline, HumanTask, Incident, ProcessInstance, Timer, User

# An instance in one of these statuses has ended: no command runs on it any more.
FINISHED_STATUSES = ("completed", "terminated")


class AdminCommands:
    """Mixed into WorkflowEngine (engine/runtime/workflow_engine.py), whose clock, sessions and commands these use."""

    session_factory: sessionmaker[Session]
    clock: Clock

    # ---- task assignment -----------------------------------------------------------------------------------------
    def claim(self, task_id: int, actor: User) -> None:
        with self.session_factory() as session:
            task = self._open_task(session, task_id)
            if not can_act_on_task(session, actor, task):
                raise NotAllowed("You cannot claim this task")
            if task.assignee_id not in (None, actor.id):
                raise NotAllowed("This task is already assigned to someone else")
            task.assignee_id = actor.id
            self._task_audit(session, task, actor, "task_claimed", f"{actor.name} took the task: {task.name}")
            session.commit()

    def release(self, task_id: int, actor: User) -> None:
        with self.session_factory() as session:
            task = self._open_task(session, task_id)
            if task.assignee_id != actor.id and not can_act_on_task(session, actor, task):
                raise NotAllowed("You cannot release this task")
            if task.assignee_id is None:
                raise InvalidState("This task is not assigned to anyone")
            task.assignee_id = None
            self._task_audit(session, task, actor, "task_released", f"{actor.name} released the task: {task.name}")
            session.commit()

    def reassign(self, task_id: int, user_id: int, actor: User | None, reason: str = "") -> None:
        with self.session_factory() as session:
            task = self._open_task(session, task_id)
            if actor is not None and (task.organisation_id, Role.MANAGER.value) not in roles_in(session, actor) \
                    and (task.organisation_id, Role.ADMIN.value) not in roles_in(session, actor):
                raise NotAllowed("Only a manager of the organisation can reassign its tasks")
            target = session.get(User, user_id)
            if target is None or not target.active:
                raise NotFound("No such active user")
            if (task.organisation_id, task.role) not in roles_in(session, target):
                raise NotAllowed(f"{target.name} does not have the role this task needs")
            task.assignee_id = target.id
            self._task_audit(session, task, actor, "task_reassigned",
                             f"Task {task.name} assigned to {target.name}{_because(reason)}", reason)
            session.commit()

    def save_draft(self, task_id: int, form_data: dict[str, Any], actor: User) -> None:
        with self.session_factory() as session:
            task = self._open_task(session, task_id)
            if not can_act_on_task(session, actor, task):
                raise NotAllowed("You cannot work on this task")
            task.draft_data = form_data
            session.commit()

    def claim_exception(self, deadline_id: int, reason: str, detail: str, family_told_on: Any,
                        actor: User | None = None) -> None:
        """Records a timescale exception on a deadline (reason, evidence, the date the family was told)."""
        with self.session_factory() as session:
            claim_exception(session, self.clock, deadline_id, reason, detail, family_told_on, actor)
            session.commit()

    # ---- admin -----------------------------------------------------------------------------------------------------
    def suspend(self, instance_id: int, actor: User | None, reason: str = "") -> None:
        self._set_status(instance_id, actor, "suspended", ACTIVE_STATUSES + ("failed",), "suspended",
                         f"Suspended{_because(reason)}", {"reason": reason} if reason else None)

    def resume(self, instance_id: int, actor: User | None, reason: str = "") -> None:
        with self.session_factory() as session:
            instance = session.get(ProcessInstance, instance_id)
            if instance is None:
                raise NotFound("No such process instance")
            if instance.status != "suspended":
                raise InvalidState("Only a suspended instance can be resumed")
            instance.status = instance.status_before_suspend or "running"
            instance.status_before_suspend = None
            instance.updated_at = self.clock.now()
            session.add(AuditEvent(at=self.clock.now(), case_id=instance.case_id, instance_id=instance.id,
                                   actor_id=actor.id if actor else None, action="resumed",
                                   summary=f"Resumed{_because(reason)}",
                                   detail={"reason": reason} if reason else None))
            session.commit()

    def terminate(self, instance_id: int, actor: User | None, reason: str) -> None:
        if not reason.strip():
            raise FormInvalid({"reason": "Enter why the instance is being ended"})
        with self.session_factory() as session:
            instance = session.get(ProcessInstance, instance_id)
            if instance is None:
                raise NotFound("No such process instance")
            if instance.status in FINISHED_STATUSES:
                raise InvalidState("This instance has already ended")
            instance.status = "terminated"
            instance.next_timer_due = None
            instance.completed_at = self.clock.now()
            now = self.clock.now()
            actor_id = actor.id if actor else None
            for task in session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                                HumanTask.status == "open")):
                task.status = "cancelled"
                task.completed_at = now
            # Nothing will fire its timers or meet its deadlines any more: left open, they would show as work due.
            for timer in session.scalars(select(Timer).where(Timer.instance_id == instance_id,
                                                             Timer.status == "waiting")):
                timer.status = "cancelled"
            for deadline in session.scalars(select(Deadline).where(Deadline.instance_id == instance_id,
                                                                   Deadline.status == "open")):
                deadline.status = "cancelled"
                session.add(AuditEvent(at=now, case_id=instance.case_id, instance_id=instance.id, actor_id=actor_id,
                                       action="deadline_cancelled",
                                       summary=f"Deadline no longer tracked (route ended): {deadline.name}",
                                       detail={"deadline_id": deadline.id}))
            session.add(AuditEvent(at=now, case_id=instance.case_id, instance_id=instance.id,
                                   actor_id=actor_id, action="terminated",
                                   summary=f"Ended by an administrator: {reason}", detail={"reason": reason}))
            session.commit()

    def retry(self, instance_id: int, actor: User | None = None, reason: str = "") -> None:
        """Runs the failed command of a failed instance again (after the cause was fixed).

        A re-run that is refused before the route runs (the person who gave the command has left, the task was
        done meanwhile) leaves the instance failed with its incident open, as it was.
        """
        with self.session_factory() as session:
            instance = session.get(ProcessInstance, instance_id)
            if instance is None:
                raise NotFound("No such process instance")
            if instance.status != "failed":
                raise InvalidState("Only a failed instance can be retried")
            incident = session.scalars(
                select(Incident).where(Incident.instance_id == instance_id, Incident.resolved_at.is_(None))
                .order_by(Incident.id.desc())
            ).first()
            command = incident.command if incident else "fire_timers"
            args = (incident.command_args if incident else None) or {}
            previous = (instance.last_error or {}).get("previous_status") or "running"
            instance.status = previous
            session.commit()
        # The command runs again as the person who gave it: an admin retrying a form does not become its author.
        with self.session_factory() as session:
            original = session.get(User, args["actor_id"]) if args.get("actor_id") else None
        try:
            if command == "complete_task":
                self.complete_task(args["task_id"], args.get("form_data") or {}, original)
            elif command == "send_message":
                self.send_message(instance.case_id, args["name"], args.get("payload"), original)
            elif command == "start":
                self._command(instance_id, "start", start_step(args.get("message")), original)
            else:
                self._command(instance_id, "fire_timers", self._fire_timers_step, actor)
        except InstanceFailed:
            raise  # it failed again: the new incident is recorded and the instance is failed
        except EngineError:
            with self.session_factory() as session:
                current = session.get(ProcessInstance, instance_id)
                assert current is not None
                current.status = "failed"
                session.commit()
            raise
        with self.session_factory() as session:
            for row in session.scalars(select(Incident).where(Incident.instance_id == instance_id,
                                                              Incident.resolved_at.is_(None))):
                row.resolved_at = self.clock.now()
                row.resolved_by_id = actor.id if actor else None
            current = session.get(ProcessInstance, instance_id)
            assert current is not None
            current.last_error = None
            session.add(AuditEvent(at=self.clock.now(), case_id=current.case_id, instance_id=instance_id,
                                   actor_id=actor.id if actor else None, action="retried",
                                   summary=f"Retried the failed step ({command}){_because(reason)}",
                                   detail={"command": command, "reason": reason} if reason else None))
            session.commit()

    # ---- internals -------------------------------------------------------------------------------------------------
    def _set_status(self, instance_id: int, actor: User | None, status: str, allowed_from: tuple[str, ...],
                    action: str, summary: str, detail: dict[str, Any] | None = None) -> None:
        with self.session_factory() as session:
            instance = session.get(ProcessInstance, instance_id)
            if instance is None:
                raise NotFound("No such process instance")
            if instance.status not in allowed_from:
                raise InvalidState(f"An instance that is {instance.status.replace('_', ' ')} cannot be {status}")
            instance.status_before_suspend = instance.status
            instance.status = status
            instance.updated_at = self.clock.now()
            session.add(AuditEvent(at=self.clock.now(), case_id=instance.case_id, instance_id=instance.id,
                                   actor_id=actor.id if actor else None, action=action, summary=summary,
                                   detail=detail))
            session.commit()

    def _open_task(self, session: Session, task_id: int) -> HumanTask:
        task = session.get(HumanTask, task_id)
        if task is None:
            raise NotFound("No such task")
        if task.status != "open":
            raise TaskAlreadyCompleted(self._already_done(session, task))
        return task

    def _task_audit(self, session: Session, task: HumanTask, actor: User | None, action: str, summary: str,
                    reason: str = "") -> None:
        detail: dict[str, Any] = {"task_id": task.id}
        if reason:
            detail["reason"] = reason
        session.add(AuditEvent(at=self.clock.now(), case_id=task.case_id, instance_id=task.instance_id,
                               actor_id=actor.id if actor else None, action=action, summary=summary, detail=detail))


def _because(reason: str) -> str:
    return f": {reason.strip()}" if reason and reason.strip() else ""
