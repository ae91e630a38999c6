"""The workflow engine: every command is one transaction.

A command loads the instance, runs SpiffWorkflow, saves the state, updates the projections and appends the audit
event, then commits. If anything fails, the transaction is rolled back, so the instance is exactly as it was, and an
incident (file, element id, line, message) is recorded in a separate transaction for an admin to read and retry.
Concurrency is optimistic: the instance row carries a revision, and the loser of a race gets a clear error.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from datetime import datetime
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import inspect, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from engine.errors import (
    ConcurrentUpdate,
    FormInvalid,
    InstanceFailed,
    InvalidState,
    MessageNotDelivered,
    NotAllowed,
    NotFound,
    TaskAlreadyCompleted,
)
from engine.library.forms import validate_form
from engine.library.registry import ParsedProcess
from engine.library.sandbox import make_script_engine
from engine.library.script_functions import script_globals
from engine.people.access import can_act_on_task
from engine.runtime.admin_commands import FINISHED_STATUSES, AdminCommands
from engine.runtime.command_reads import CASE_FOR_START, TASK_WITH_INSTANCE, CaseAuthority
from engine.runtime.incidents import describe_failure
from engine.runtime.process_versions import LoadedVersion, ProcessVersions
from engine.runtime.projection import Projector, Snapshot, save_instance
from engine.runtime.serializer import StateSerializer
from engine.runtime.timer_batch import BATCH_SIZE, claim_of, fire_batch
from engine.runtime.timer_pass import TimerPass
from engine.statutory import calendar
from engine.statutory.clock import Clock, active_clock
from engine.store.db import lost_to_contention, reserve_id
from engine.store.models import (
    ACTIVE_STATUSES,
    AuditEvent,
    Case,
    HumanTask,
    Incident,
    Message,
    ProcessInstance,
    User,
    full_name,
)

log = logging.getLogger(__name__)


def _case_reference(opened: datetime, case_id: int) -> str:
    """A new case's reference, made from the year it was opened and its id."""
    return f"EHC-{opened.year}-{case_id:05d}"


class WorkflowEngine(ProcessVersions, AdminCommands):
    """The engine's surface. The web UI, the CLI and the timer worker all go through it.

    Deploying and loading versions is in engine/runtime/process_versions.py; the commands that manage tasks and
    instances rather than run them (claim, reassign, suspend, terminate, retry...) are in engine/runtime/admin_commands.py.
    """

    def __init__(self, session_factory: sessionmaker[Session], clock: Clock | None = None) -> None:
        self.session_factory = session_factory
        self.clock = clock or Clock()
        self.serializer = StateSerializer()
        self.script_engine = make_script_engine(script_globals(self.clock))
        self._versions: dict[int, LoadedVersion] = {}

    # ---- cases ---------------------------------------------------------------------------------------------------
    def open_case(self, session: Session, la_id: int, first_name: str, last_name: str, date_of_birth: Any = None,
                  actor: User | None = None, reference: str | None = None) -> Case:
        """Creates a case in the caller's session (committed by the caller)."""
        now = self.clock.now()
        if not first_name.strip() or not last_name.strip():
            raise FormInvalid({"child_name": "Enter the child's first and last name"})
        case = Case(reference=reference or "", child_first_name=first_name.strip(), child_last_name=last_name.strip(),
                    date_of_birth=calendar.as_date(date_of_birth) if date_of_birth else None, la_id=la_id,
                    status="open", created_at=now)
        reserved = None if reference else reserve_id(session, Case.__tablename__)
        if reserved is not None:  # PostgreSQL: the id known now, so the row is written once (see reserve_id)
            case.id, case.reference = reserved, _case_reference(now, reserved)
        session.add(case)
        session.flush()
        if not case.reference:  # SQLite: the id came with the insert
            case.reference = _case_reference(now, case.id)
        session.add(AuditEvent(at=now, case_id=case.id, actor_id=actor.id if actor else None, action="case_opened",
                               summary=f"Case {case.reference} opened"))
        return case

    # ---- commands ------------------------------------------------------------------------------------------------
    def start(self, case_id: int, process_id: str, data: dict[str, Any] | None = None, actor: User | None = None,
              parent_instance_id: int | None = None, message: BpmnEvent | None = None) -> int:
        """Starts a route on a case and runs it until it waits; returns the instance id.

        With a message, the route is one that a message starts: its message start event receives it straight away.
        """
        with self.session_factory() as session, active_clock(self.clock):
            case = session.execute(CASE_FOR_START, {"case_id": case_id}).first()  # columns: no object to build
            if case is None:
                raise NotFound("No such case")
            loaded, version_name, version_hash = self.current_loaded_version(session, process_id)
            now = self.clock.now()
            wf = BpmnWorkflow(loaded.spec, loaded.subprocess_specs, script_engine=self.script_engine)
            start_data = self._start_data(case)
            start_data.update(data or {})
            wf.get_next_task(spec_name="Start").set_data(**start_data)
            instance = ProcessInstance(
                case_id=case.id, process_version_id=loaded.version_id, process_id=process_id, status="running",
                state="", serializer_version=self.serializer.version, created_at=now, updated_at=now,
                started_by_id=actor.id if actor else None, parent_instance_id=parent_instance_id,
            )
            session.add(instance)
            session.flush()
            before = Snapshot()
            try:
                wf.do_engine_steps()
                if message is not None:
                    wf.send_event(message)
                    wf.refresh_timers()
                    wf.do_engine_steps()
                projector = Projector(session, instance, wf, now, actor.id if actor else None, self._evaluate, case)
                self._save(session, instance, wf, before, actor, "started", f"Started {version_name or process_id}",
                           {"process_id": process_id, "version": version_hash}, projector=projector)
                session.commit()
            except Exception as exc:  # noqa: BLE001 - every failure is recorded, then re-raised as InstanceFailed
                session.rollback()
                raise self._failed_start(case_id, process_id, exc, actor) from exc
            return instance.id

    def complete_task(self, task_id: int, form_data: dict[str, Any], actor: User | None = None,
                      expected_revision: int | None = None) -> HumanTask:
        """Validates the form against the task's schema, completes the task and runs on until the route waits.

        The checks and the command share one session, so the task, the instance and the version are read once."""
        with self.session_factory() as session:
            found = session.execute(TASK_WITH_INSTANCE, {"task_id": task_id}).first()  # one read, not three
            if found is None:
                raise NotFound("No such task")
            task, instance, la_id = found
            self._check_task_open(session, task, actor)
            schema = self.form_schema(session, task, instance)
            if schema is not None:
                validate_form(schema, form_data)
            elif form_data:
                raise FormInvalid({"form": "This task has no form to fill in"})
            guid = UUID(task.task_guid)

            def step(session: Session, instance: ProcessInstance, wf: BpmnWorkflow, projector: Projector) -> None:
                row = task  # read in this session and transaction; the instance's revision guards against a race
                if row.status != "open":
                    raise TaskAlreadyCompleted(self._already_done(session, row))
                spiff_task = wf.get_task_from_id(guid)
                if spiff_task is None or spiff_task.state != TaskState.READY:
                    raise TaskAlreadyCompleted("This task is no longer waiting to be done")
                if form_data:  # a plain or manual task has no form (and no add_data_from_form): it is only marked done
                    spiff_task.task_spec.add_data_from_form(spiff_task, form_data)
                spiff_task.run()
                wf.refresh_timers()
                wf.do_engine_steps()
                row.status = "completed"
                row.completed_at = self.clock.now()
                row.completed_by_id = actor.id if actor else None
                row.submitted_data = form_data
                row.draft_data = None
                projector.audit("task_completed", f"Completed: {row.name}", {"task_id": row.id, "bpmn_id": row.bpmn_id})

            try:
                self._command(task.instance_id, "complete_task", step, actor, expected_revision,
                              args={"task_id": task_id, "form_data": form_data}, completed_user_task=guid,
                              session=session, case=CaseAuthority(instance.case_id, la_id))
            except (ConcurrentUpdate, InvalidState) as exc:
                # Lost a race in another way than on the instance's revision (the winner ended the route, or a row
                # it wrote first): when the task is done now, that is what the person is told. Read again in this
                # session, its transaction ended first: a second session here would hold a second connection, and
                # with many people refused at once every connection would wait for another (the pool runs dry).
                session.rollback()
                session.refresh(task)
                if task.status != "open":
                    raise TaskAlreadyCompleted(self._already_done(session, task)) from exc
                raise
            if not inspect(task).expired_attributes:
                return task  # as committed (the sessions do not expire what they loaded), without reading it again
        with self.session_factory() as session:
            done = session.get(HumanTask, task_id)
            assert done is not None
            return done

    def send_message(self, case_id: int, name: str, payload: dict[str, Any] | None = None,
                     actor: User | None = None) -> int:
        """Delivers a message to the case's instance waiting for it, or starts the route it starts; returns the id."""
        payload = payload or {}
        with self.session_factory() as session:
            instance_ids = list(session.scalars(
                select(ProcessInstance.id).where(ProcessInstance.case_id == case_id,
                                                 ProcessInstance.status.in_(ACTIVE_STATUSES))
                .order_by(ProcessInstance.id)
            ))
        event = BpmnEvent(MessageEventDefinition(name), payload=payload)
        for instance_id in instance_ids:
            if not self._waits_for(instance_id, event):
                continue

            def step(session: Session, instance: ProcessInstance, wf: BpmnWorkflow, projector: Projector) -> None:
                wf.send_event(event)
                wf.refresh_timers()
                wf.do_engine_steps()
                projector.audit("message_received", f"Message received: {name}", {"name": name})

            self._command(instance_id, "send_message", step, actor, args={"name": name, "payload": payload})
            self._record_message(case_id, name, payload, actor, instance_id, "delivered")
            return instance_id
        with self.session_factory() as session:
            registry_process = self._process_started_by(session, name)
        if registry_process is not None:
            instance_id = self.start(case_id, registry_process, {"message": name}, actor, message=event)
            self._record_message(case_id, name, payload, actor, instance_id, "delivered")
            return instance_id
        self._record_message(case_id, name, payload, actor, None, "undeliverable")
        raise MessageNotDelivered(f"Nothing on this case is waiting for the message {name!r}")

    def fire_due_timers(self, now: datetime | None = None, limit: int = 20) -> int:
        """Fires the timers that are due on up to `limit` instances; returns how many instances were advanced."""
        return len(self.fire_due(now, limit).fired)

    def fire_due(self, now: datetime | None = None, limit: int = 20, skip: Collection[int] = ()) -> TimerPass:
        """Fires the timers that are due on up to `limit` instances (leaving out those in ``skip``), saying what
        happened to each.

        The due instances are listed earliest first (one index range and one sort per listing, not per instance),
        then claimed and fired up to ``BATCH_SIZE`` in one transaction (engine/runtime/timer_batch.py; a batch in
        which anything fails is undone and fired one instance per transaction). A claim checks that the instance is
        still due: with SELECT ... FOR UPDATE SKIP LOCKED on PostgreSQL, so several workers can run at once; on any
        database the revision check makes a second firing of the same timers impossible.
        """
        now = now or self.clock.now()
        result = TimerPass()
        seen: list[int] = list(skip)  # never pick the same instance twice in one call, whatever happened to it
        passed: list[int] = []  # listed, but fired, ended or held by another worker by the time it was claimed
        while result.examined < limit:
            with self.session_factory() as session:
                # Strictly before now: SpiffWorkflow fires a timer only once its moment has passed.
                listed = list(session.scalars(
                    select(ProcessInstance.id)
                    .where(ProcessInstance.next_timer_due < now, ProcessInstance.status.in_(ACTIVE_STATUSES),
                           ProcessInstance.id.not_in(seen + passed))
                    .order_by(ProcessInstance.next_timer_due, ProcessInstance.id)
                    .limit(limit - result.examined)
                ))
            if not listed:
                return result
            for start in range(0, len(listed), BATCH_SIZE):
                batch = listed[start:start + BATCH_SIZE]
                fired = fire_batch(self, batch, now, self._fire_timers_step, projector_summary("fire_timers")) \
                    if len(batch) > 1 else None
                if fired is None:  # one alone, or a batch that was undone: one transaction each
                    for instance_id in batch:
                        self._fire_one(instance_id, now, seen, passed, result)
                    continue
                seen += fired
                passed += [instance_id for instance_id in batch if instance_id not in fired]
                result.fired += fired
        return result

    def _fire_one(self, instance_id: int, now: datetime, seen: list[int], passed: list[int],
                  result: TimerPass) -> None:
        """Claims one listed instance if it is still due, and fires its timers (one transaction)."""
        with self.session_factory() as session:
            found = session.execute(claim_of(session), {"ids": [instance_id], "now": now}).first()
            instance = found[0] if found is not None else None
            if instance is None:
                passed.append(instance_id)
                return
            seen.append(instance_id)
            try:
                self._run(session, instance, "fire_timers", self._fire_timers_step, actor=None, expected_revision=None,
                          args={}, completed_user_task=None)
                result.fired.append(instance_id)
            except (ConcurrentUpdate, InvalidState):
                result.conflicts.append(instance_id)  # another worker got there first, or it ended meanwhile
            except InstanceFailed:
                result.failed.append(instance_id)  # recorded as an incident; it is failed and leaves the queue

    # ---- internals -------------------------------------------------------------------------------------------------
    def _start_data(self, case: Any) -> dict[str, Any]:
        """``case``: the case, or a row of the columns ``CASE_FOR_START`` reads."""
        return {
            "case_id": case.id,
            "case_reference": case.reference,
            "child_name": full_name(case.child_first_name, case.child_last_name),
            "date_of_birth": case.date_of_birth.isoformat() if case.date_of_birth else None,
            "la_id": case.la_id,
            "started_on": self.clock.today().isoformat(),
        }

    def _evaluate(self, task: Any, expression: str) -> Any:
        return self.script_engine.evaluate(task, expression)

    def _save(self, session: Session, instance: ProcessInstance, wf: BpmnWorkflow, before: Snapshot,
              actor: User | None, action: str, summary: str, detail: dict[str, Any] | None,
              completed_user_task: UUID | None = None, projector: Projector | None = None) -> None:
        projector = projector or Projector(session, instance, wf, self.clock.now(), actor.id if actor else None,
                                           self._evaluate)
        save_instance(projector, self.serializer, before, action, summary, detail, completed_user_task)

    def _command(self, instance_id: int, command: str,
                 step: Callable[[Session, ProcessInstance, BpmnWorkflow, Projector], None], actor: User | None,
                 expected_revision: int | None = None, args: dict[str, Any] | None = None,
                 completed_user_task: UUID | None = None, session: Session | None = None,
                 case: CaseAuthority | None = None) -> None:
        """Runs ``step`` on the instance as one command, in a session of its own, or in ``session`` when the caller
        has already read the instance there (it is not read again), with its case's authority if read with it."""
        if session is not None:
            self._command_in(session, instance_id, command, step, actor, expected_revision, args, completed_user_task,
                             case)
            return
        with self.session_factory() as own:
            self._command_in(own, instance_id, command, step, actor, expected_revision, args, completed_user_task,
                             case)

    def _command_in(self, session: Session, instance_id: int, command: str,
                    step: Callable[[Session, ProcessInstance, BpmnWorkflow, Projector], None], actor: User | None,
                    expected_revision: int | None, args: dict[str, Any] | None,
                    completed_user_task: UUID | None, case: CaseAuthority | None = None) -> None:
        instance = session.get(ProcessInstance, instance_id)
        if instance is None:
            raise NotFound("No such process instance")
        self._run(session, instance, command, step, actor, expected_revision, args or {}, completed_user_task, case)

    def _run(self, session: Session, instance: ProcessInstance, command: str,
             step: Callable[[Session, ProcessInstance, BpmnWorkflow, Projector], None], actor: User | None,
             expected_revision: int | None, args: dict[str, Any], completed_user_task: UUID | None,
             case: CaseAuthority | None = None) -> None:
        if instance.status in FINISHED_STATUSES:
            raise InvalidState("This route has already ended")
        if instance.status == "suspended":
            raise InvalidState("This route is suspended by an administrator; try again later")
        if instance.status == "failed":
            # Running on would stack a second failure on the first; an administrator's retry resets the status first.
            raise InvalidState("This route has stopped after a fault and an administrator has been told; nothing was "
                               "saved. Try again once it has been put right.")
        if expected_revision is not None and instance.revision != expected_revision:
            raise ConcurrentUpdate("Someone else has changed this case since you opened it. Reload and try again.")
        instance_id, loaded_revision = instance.id, instance.revision
        with active_clock(self.clock):
            try:
                self.apply_step(session, instance, step, actor, command, projector_summary(command), None,
                                completed_user_task, case)
                session.commit()
            except StaleDataError as exc:
                session.rollback()
                if completed_user_task is not None:
                    raise TaskAlreadyCompleted(self._already_done_by_guid(instance_id, completed_user_task)) from exc
                raise ConcurrentUpdate("Someone else changed this route at the same moment; nothing was saved. "
                                       "Reload and try again.") from exc
            except (TaskAlreadyCompleted, NotAllowed, FormInvalid, InvalidState, ConcurrentUpdate):
                session.rollback()
                raise
            except DBAPIError as exc:
                session.rollback()
                if not lost_to_contention(exc):
                    raise self._record_incident(instance_id, command, args, exc, actor, loaded_revision) from exc
                # Another transaction held a row this one needed (two routes of one case meeting the same deadline,
                # say): nothing is wrong with the route, so no incident; the person or the worker tries again.
                raise ConcurrentUpdate("Someone else changed this case at the same moment; nothing was saved. "
                                       "Try again.") from exc
            except Exception as exc:  # noqa: BLE001 - any failure inside the workflow becomes an incident
                session.rollback()
                raise self._record_incident(instance_id, command, args, exc, actor, loaded_revision) from exc

    def apply_step(self, session: Session, instance: ProcessInstance,
                   step: Callable[[Session, ProcessInstance, BpmnWorkflow, Projector], None], actor: User | None,
                   action: str, summary: str, detail: dict[str, Any] | None,
                   completed_user_task: UUID | None = None, case: CaseAuthority | None = None) -> None:
        """Loads the instance, runs ``step`` on it and saves it with its projections, in the caller's transaction.

        The caller commits, and decides what a failure means: a command records an incident (``_run``), an
        administrator's repair changes nothing and says why (engine/admin/instance_repair.py). ``case``: the
        instance's case (its id and la_id) when the caller has read it already.
        """
        wf = self.load_workflow(instance)
        before = Snapshot.of(wf)
        projector = Projector(session, instance, wf, self.clock.now(), actor.id if actor else None, self._evaluate,
                              case)
        step(session, instance, wf, projector)
        self._save(session, instance, wf, before, actor, action, summary, detail, completed_user_task, projector)

    def _record_incident(self, instance_id: int, command: str, args: dict[str, Any], exc: Exception,
                         actor: User | None, loaded_revision: int) -> InstanceFailed:
        """Marks the instance failed with an incident, unless someone changed it since the failed command loaded it:
        then the failure was met on a state that is gone (two workers firing the same timers, say), and it is a
        conflict, not an incident."""
        where = describe_failure(exc)
        log.warning("instance %s failed in %s: %s", instance_id, command, where.message)
        args = {**args, "actor_id": actor.id if actor else None}
        with self.session_factory() as session:
            instance = session.get(ProcessInstance, instance_id)
            assert instance is not None
            if instance.revision != loaded_revision:
                raise ConcurrentUpdate("Someone else changed this route at the same moment; nothing was saved. "
                                       "Reload and try again.")
            incident = Incident(instance_id=instance_id, at=self.clock.now(), command=command, command_args=args,
                                file=where.file, element_id=where.element_id, line=where.line, message=where.message)
            session.add(incident)
            previous = instance.status if instance.status != "failed" else (instance.last_error or {}).get(
                "previous_status", "running")
            instance.status = "failed"
            instance.last_error = {"file": where.file, "element_id": where.element_id, "line": where.line,
                                   "message": where.message, "command": command, "previous_status": previous}
            session.add(AuditEvent(at=self.clock.now(), case_id=instance.case_id, instance_id=instance_id,
                                   actor_id=actor.id if actor else None, action="failed",
                                   summary=f"A step failed: {where.message}", detail=instance.last_error))
            try:
                session.commit()
            except StaleDataError as stale:
                raise ConcurrentUpdate("Someone else changed this route at the same moment; nothing was saved. "
                                       "Reload and try again.") from stale
            return InstanceFailed(
                "Something went wrong in this route and nothing was saved. An administrator has been told "
                f"(incident {incident.id}).", incident.id)

    def _failed_start(self, case_id: int, process_id: str, exc: Exception, actor: User | None) -> InstanceFailed:
        where = describe_failure(exc)
        with self.session_factory() as session:
            session.add(AuditEvent(at=self.clock.now(), case_id=case_id, actor_id=actor.id if actor else None,
                                   action="start_failed", summary=f"Could not start {process_id}: {where.message}",
                                   detail={"file": where.file, "element_id": where.element_id, "line": where.line}))
            session.commit()
        return InstanceFailed(f"The route {process_id} could not start: {where.message}")

    def _record_message(self, case_id: int, name: str, payload: dict[str, Any], actor: User | None,
                        instance_id: int | None, status: str) -> None:
        with self.session_factory() as session:
            session.add(Message(case_id=case_id, name=name, payload=payload, sent_at=self.clock.now(),
                                sent_by_id=actor.id if actor else None, instance_id=instance_id, status=status))
            session.commit()

    def _check_task_open(self, session: Session, task: HumanTask, actor: User | None) -> None:
        if task.status != "open":
            raise TaskAlreadyCompleted(self._already_done(session, task))
        if actor is not None and not can_act_on_task(session, actor, task):
            raise NotAllowed("You cannot work on this task")

    def _already_done(self, session: Session, task: HumanTask) -> str:
        if task.status == "cancelled":
            return "This task is no longer needed: the route has moved on"
        who = session.get(User, task.completed_by_id) if task.completed_by_id else None
        when = task.completed_at.astimezone(calendar.LONDON).strftime("%-d %B %Y at %H:%M") if task.completed_at else ""
        return f"This task was already completed{' by ' + who.name if who else ''}{' on ' + when if when else ''}"

    def _already_done_by_guid(self, instance_id: int, guid: UUID) -> str:
        with self.session_factory() as session:
            row = session.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id,
                                                          HumanTask.task_guid == str(guid))).first()
            if row is None or row.status == "open":
                return "Someone else changed this case at the same moment; nothing was saved. Try again."
            return self._already_done(session, row)

    @staticmethod
    def _fire_timers_step(session: Session, instance: ProcessInstance, wf: BpmnWorkflow, projector: Projector) -> None:
        wf.refresh_timers()
        wf.do_engine_steps()


def projector_summary(command: str) -> str:
    return {
        "complete_task": "Task completed; route moved on",
        "send_message": "Message delivered",
        "fire_timers": "Timers fired",
    }.get(command, command)


__all__ = ["WorkflowEngine", "ParsedProcess", "WorkflowException"]
