"""Keeps the projection rows (human tasks, timers, statutory deadlines) in step with a workflow after a command.

Runs inside the command's transaction, after SpiffWorkflow has moved the workflow on. It compares the task states
before and after the command, so it sees every task that completed, was cancelled or started waiting, including tasks
inside call activities.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.library.registry import form_of, properties_of
from engine.people.roles import ROLE_PARTY, YOUNG_PERSON, Role, role_for_lane
from engine.runtime import audit_batch, lean_flush
from engine.runtime import command_reads as reads
from engine.runtime.task_tree import (
    all_tasks,
    attached_task,
    gateway_timer_fired,
    instance_status,
    is_gateway_timer,
    is_timer,
    next_timer_due,
    ready_user_tasks,
    timer_due,
    waits_on_timer,
)
from engine.statutory import calendar
from engine.store.models import Case, CaseParty, Deadline, HumanTask, ProcessInstance, Timer

_ONE_SECOND = timedelta(seconds=1)

# Element properties that make the engine do something in Python when the element completes (in the same
# transaction): things a sandboxed BPMN script must not do itself, such as writing documents or moving a case.
# Each target is called as target(projector, task, property_value); modules load only when a route uses them.
COMPLETION_HOOKS: dict[str, str] = {
    "document": "engine.casework.documents:issue_documents",
    "planVersion": "engine.casework.plan_hooks:record_plan_version",
    "transferCase": "engine.casework.transfer:apply_transfer",
    # Other routes on the case: started, or told, in the same transaction (isolated in a savepoint each).
    "startsRoute": "engine.casework.route_links:starts_route_hook",
    "sendsMessage": "engine.casework.route_links:sends_message_hook",
}


def _hook(target: str) -> Any:
    module_name, _, function = target.partition(":")
    return getattr(importlib.import_module(module_name), function)


@dataclass
class Snapshot:
    states: dict[UUID, int] = field(default_factory=dict)

    @classmethod
    def of(cls, wf: BpmnWorkflow) -> Snapshot:
        """Every task's state, read from the workflows' task maps: walking the tree (``get_tasks``) costs several
        times more, and its order does not matter here. The maps hold every task the walk would find, and may hold
        more (a finished call activity's), which ``Projector.apply`` never looks up."""
        states = {tid: task.state for tid, task in wf.tasks.items()}
        for sub in wf.subprocesses.values():
            states.update((tid, task.state) for tid, task in sub.tasks.items())
        return cls(states)


class Projector:
    """Writes the projections for one command on one instance."""

    def __init__(self, session: Session, instance: ProcessInstance, wf: BpmnWorkflow, now: datetime,
                 actor_id: int | None, evaluate: Any, case: Case | reads.CaseAuthority | None = None) -> None:
        self.session = session
        self.case = case  # the instance's case (id, la_id) when the caller holds it already, else read when needed
        self.instance = instance
        self.wf = wf
        self.now = now
        self.actor_id = actor_id
        self.evaluate = evaluate  # (task, expression) -> value, through the sandbox
        self.events: list[tuple[str, str, dict[str, Any]]] = []
        # Audit rows waiting to be written together by ``flush_events`` (one statement, not one per event): nothing
        # reads the audit trail inside a command, and the rows keep the order in which they were recorded.
        self._audit_rows: list[dict[str, Any]] = []
        # The deadlines this command read or wrote, held here because the session's identity map keeps only the
        # objects someone refers to, and ``_deadlines_by`` looks them up there.
        self._deadlines: list[Deadline] = []
        self._started = False  # set by apply: the command started this instance
        # Set once every deadline of the case still open or missed has been read into ``_deadlines``: ``_unfinished``
        # then finds them there rather than reading them again (cleared after a hook, which may have added some).
        self._unfinished_held = False
        self.tasks: list[Task] = []  # set by apply: every task of the workflow after the command, in tree order

    # ---- entry point -------------------------------------------------------------------------------------------
    def apply(self, before: Snapshot, completed_user_task: UUID | None = None) -> None:
        self.tasks = all_tasks(self.wf)
        after = {t.id: t for t in self.tasks}
        changed_to = {
            tid: task.state for tid, task in after.items() if before.states.get(tid) != task.state
        }
        completed = [after[tid] for tid, st in changed_to.items() if st == TaskState.COMPLETED]
        # A route that has just started (nothing before) has no rows yet: its task ids are new, so nothing in the
        # database can name them, and it has no timers or tasks; the reads that would find none are skipped.
        self._started = not before.states
        if not self._started:
            self._load_deadlines_of(completed)
        for task in completed:
            self._on_completed(task)
        timers, open_tasks = self._waiting_rows(completed_user_task)
        self._sync_timers(after, timers)
        self._sync_human_tasks(completed_user_task, open_tasks)

    # ---- deadlines -----------------------------------------------------------------------------------------------
    def _load_deadlines_of(self, tasks: list[Task]) -> None:
        """Reads, in one query, the deadlines that the completed tasks may fire or meet (by timer or by the task a
        deadline times), instead of a query per completed task. They stay in the session (held in ``_deadlines``),
        where ``_deadlines_by`` finds them along with the rows this command adds or changes."""
        guids = [str(task.id) for task in tasks]
        if not guids:
            return
        case_id = self.instance.case_id  # rows pending for other cases (a batch's other firings) cannot be found
        self._deadlines += list(lean_flush.execute(self.session, reads.DEADLINES_OF_TASKS, Deadline, params={
            "case_id": case_id, "attached": guids, "timers": guids},
            matters=lambda row: row.case_id == case_id or row.timer_guid in guids).scalars())
        self._unfinished_held = True

    def _deadlines_by(self, column: str, guid: str) -> list[Deadline]:
        """The deadlines whose ``column`` (timer_guid or attached_task_guid) is ``guid``: those read by
        ``_load_deadlines_of`` and those this command has added or changed (only ``_open`` sets these columns), as the
        session holds them now: what a query with autoflush would have found."""
        held = [row for row in self.session.identity_map.values() if isinstance(row, Deadline)]
        held += [row for row in self.session.new if isinstance(row, Deadline)]
        found = [row for row in held if getattr(row, column) == guid and row not in self.session.deleted]
        return sorted(found, key=lambda row: (row.id is None, row.id or 0))  # the order a query would give

    def _unfinished(self, key: str) -> list[Deadline]:
        """The case's deadlines of ``key`` still open or missed, as this command has left them, without a flush: the
        rows stored so, as the session holds them now, and the rows it has added. A command only moves a deadline on
        (open to missed, met or cancelled), never back, so no row it changed can have become one of these. Once
        ``_load_deadlines_of`` has read every such row of the case, they are found in the session instead."""
        stored: Any
        if self._unfinished_held:
            stored = sorted({row.id: row for row in self._deadlines if row.id is not None}.values(),
                            key=lambda row: row.id)
        else:
            stored = lean_flush.execute(self.session, reads.UNFINISHED_DEADLINES,
                                        params={"case_id": self.instance.case_id, "key": key}).scalars()
        added = [row for row in self.session.new if isinstance(row, Deadline)]
        return [row for row in [*stored, *added] if row.case_id == self.instance.case_id and row.key == key
                and row.status in ("open", "missed") and row not in self.session.deleted]

    def _open_deadlines(self, key: str) -> list[Deadline]:
        return [row for row in self._unfinished(key) if row.status == "open"]

    def _missed_unfinished(self, key: str) -> list[Deadline]:
        return [row for row in self._unfinished(key) if row.status == "missed" and row.met_at is None]

    def _deadline_key(self, task: Task, base: str) -> str:
        detail_expr = properties_of(task.task_spec).get("deadlineDetail")
        if not detail_expr:
            return base
        return f"{base}:{self.evaluate(task, detail_expr)}"

    def _on_completed(self, task: Task) -> None:
        props = properties_of(task.task_spec)
        if is_timer(task) and props.get("deadline"):
            if not self._deadlines_by("timer_guid", str(task.id)):
                # Armed after its moment had passed (e.g. a review started late): it fired in this very command
                # without ever being seen waiting, so the deadline is opened here and missed below.
                self._open_for_timer(task, props["deadline"])
            for row in self._deadlines_by("timer_guid", str(task.id)):
                if row.status == "open":
                    row.status = "missed"
                    row.missed = True
                    row.missed_at = self.now
                    self.events.append(("deadline_missed", f"Deadline missed: {row.name} (due {row.due_date})",
                                        {"deadline_id": row, "key": row.key}))
        # The work a boundary deadline timed is done: met, or done late if the deadline was already missed.
        for row in self._deadlines_by("attached_task_guid", str(task.id)):
            self._meet(row)
        if props.get("meetsDeadline"):
            for key in _keys(props["meetsDeadline"]):
                # A missed deadline still records when the work was finally done.
                for row in self._open_deadlines(key) + self._missed_unfinished(key):
                    self._meet(row)
        if props.get("cancelsDeadlines"):
            for key in _keys(props["cancelsDeadlines"]):
                for row in self.session.scalars(
                    select(Deadline).where(Deadline.case_id == self.instance.case_id, Deadline.status == "open",
                                           (Deadline.key == key) | Deadline.key.startswith(key + ":"))
                ):
                    row.status = "cancelled"
                    self.events.append(("deadline_cancelled", f"Deadline no longer applies: {row.name}",
                                        {"deadline_id": row}))
        if props.get("opensDeadline"):
            key, _, expression = props["opensDeadline"].partition(":")
            due = calendar.as_date(self.evaluate(task, expression.strip()))
            name = props.get("deadlineName") or task.task_spec.bpmn_name or key.strip()
            self._open(key.strip(), name, due, timer_guid=None, attached=None)
        for name, target in COMPLETION_HOOKS.items():
            if props.get(name):
                # A hook may read the trail or open a savepoint: a batch's held audit rows are written first.
                audit_batch.write(self.session)
                _hook(target)(self, task, props[name])
                self.case = None  # a hook may move the case to another authority: read it again when needed
                self._unfinished_held = False

    def _open_for_timer(self, task: Task, key: str) -> None:
        due = timer_due(task)
        if due is None:
            return
        # The deadline day is the last day before the timer's moment, in England.
        due_day = calendar.to_london_date(due - _ONE_SECOND)
        attached = attached_task(task)
        name = properties_of(task.task_spec).get("deadlineName") or task.task_spec.bpmn_name or key
        detail = self._detail(attached) if attached is not None else None
        if detail:
            name = f"{name}: {detail}"[:300]  # the deadline says what it is about, as the task it times does
        self._open(self._deadline_key(task, key), name, due_day, timer_guid=str(task.id),
                   attached=str(attached.id) if attached is not None else None)

    def _meet(self, row: Deadline) -> None:
        if row.met_at is not None or row.status == "cancelled":
            return
        row.met_at = self.now
        if row.status == "open":
            row.status = "met"
            self.events.append(("deadline_met", f"Deadline met: {row.name}", {"deadline_id": row}))
        else:
            self.events.append(("deadline_done_late", f"Done after its deadline: {row.name}",
                                {"deadline_id": row}))

    def _open(self, key: str, name: str, due: date, timer_guid: str | None, attached: str | None) -> Deadline:
        existing = self._open_deadlines(key)
        if existing:
            # The same statutory deadline seen again (e.g. the 20-week plan deadline taken over by plan drafting).
            row = existing[0]
            row.due_date = due
            row.timer_guid = timer_guid or row.timer_guid
            row.attached_task_guid = attached or row.attached_task_guid
            row.instance_id = self.instance.id
            self._deadlines.append(row)
            return row
        row = Deadline(case_id=self.instance.case_id, instance_id=self.instance.id, key=key, name=name,
                       process_id=self.instance.process_id, due_date=due, started_on=calendar.to_london_date(self.now),
                       timer_guid=timer_guid, attached_task_guid=attached, status="open", missed=False)
        self.session.add(row)  # flushed with the rest; the events name it by its id once it has one (flush_events)
        self._deadlines.append(row)
        self.events.append(("deadline_opened", f"Deadline set: {name} by {due.isoformat()}",
                            {"deadline_id": row, "key": key, "due": due.isoformat()}))
        return row

    def _waiting_rows(self, completed_user_task: UUID | None) -> tuple[dict[str, Any], dict[str, int]]:
        """The instance's waiting timers (by task guid, the row) and open tasks (by task guid, the id), in one read,
        as columns: loading each row as an object to change two columns cost more than the rest of the sync. Nothing
        between this read and the task sync changes a task of the instance. Neither the completed task's own row (the
        task sync leaves it out) nor other instances' rows need be flushed first."""
        if self._started:
            return {}, {}
        done, instance_id = str(completed_user_task) if completed_user_task else None, self.instance.id
        rows = lean_flush.rows(self.session, reads.WAITING_ROWS, Timer, HumanTask, params={
            "instance_id": instance_id}, matters=lambda row: row.instance_id == instance_id and (
                not isinstance(row, HumanTask) or row.task_guid != done)).all()
        return ({row.task_guid: row for row in rows if row.kind == "timer"},
                {row.task_guid: row.id for row in rows if row.kind == "task"})

    # ---- timers --------------------------------------------------------------------------------------------------
    def _sync_timers(self, after: dict[UUID, Task], rows: dict[str, Any]) -> None:
        """Adds the timers now waiting; marks ``rows`` (those that were) fired or cancelled, one statement each."""
        for tid, task in after.items():
            if not waits_on_timer(task) or task.state != TaskState.WAITING:
                continue
            due = timer_due(task)
            if due is None:
                continue
            guid = str(tid)
            if guid not in rows:
                self.session.add(Timer(instance_id=self.instance.id, case_id=self.instance.case_id, task_guid=guid,
                                       bpmn_id=task.task_spec.bpmn_id or task.task_spec.name,
                                       name=task.task_spec.bpmn_name, due_at=due, status="waiting"))
                key = properties_of(task.task_spec).get("deadline")
                if key:
                    self._open_for_timer(task, key)
        fired: list[int] = []
        cancelled: list[int] = []
        for guid, row in rows.items():
            task = after.get(UUID(guid))
            if task is not None and task.state == TaskState.WAITING:
                continue
            if task is not None and task.state == TaskState.COMPLETED and (
                    not is_gateway_timer(task) or gateway_timer_fired(task)):
                fired.append(row.id)
                self.events.append(("timer_fired", f"Timer fired: {row.name or row.bpmn_id}", {"timer": row.bpmn_id}))
            else:
                cancelled.append(row.id)
        for ids, values in ((fired, {"status": "fired", "fired_at": self.now}), (cancelled, {"status": "cancelled"})):
            if ids:
                lean_flush.update_by_id(self.session, Timer, ids, values)

    # ---- human tasks ---------------------------------------------------------------------------------------------
    def _sync_human_tasks(self, completed_user_task: UUID | None, open_rows: dict[str, int]) -> None:
        """Cancels, with one statement, the ``open_rows`` no longer waiting (but the completed task's own, which its
        command records) and adds the tasks now waiting for a person."""
        done = str(completed_user_task) if completed_user_task else None
        ready = {str(t.id): t for t in ready_user_tasks(self.wf, self.tasks)}
        gone = [row_id for guid, row_id in open_rows.items() if guid not in ready and guid != done]  # done: see caller
        if gone:
            lean_flush.update_by_id(self.session, HumanTask, gone, {"status": "cancelled", "completed_at": self.now},
                                    HumanTask.__table__.c.status == "open")
        case: Any = self.case
        for guid, task in ready.items():
            if guid in open_rows:
                continue
            if case is None:  # read only when a task opens, and only what _organisation_for needs
                case = lean_flush.rows(self.session, reads.CASE_LA, Case,
                                          params={"case_id": self.instance.case_id}).one()
            spec = task.task_spec
            role = role_for_lane(spec.lane)
            row = HumanTask(
                instance_id=self.instance.id, case_id=self.instance.case_id, task_guid=guid,
                process_id=task.workflow.spec.name, bpmn_id=spec.bpmn_id, name=spec.bpmn_name or spec.bpmn_id,
                lane=spec.lane, role=role.value if role else None,
                organisation_id=self._organisation_for(case, role, task), due_date=self._due_date(task),
                form=form_of(spec), documentation=spec.documentation, status="open", created_at=self.now,
                detail=self._detail(task), assignee_id=self._family_member(role, task),
            )
            self.session.add(row)
            about = f" ({row.detail})" if row.detail else ""
            self.events.append(("task_opened", f"Task ready: {row.name}{about}", {"bpmn_id": spec.bpmn_id}))

    def refresh_open_tasks(self) -> None:
        """Re-reads open tasks' names, forms and due dates from their (possibly new) specs, after a migration."""
        ready = {str(t.id): t for t in ready_user_tasks(self.wf)}
        case = self.session.get(Case, self.instance.case_id)
        for row in self.session.scalars(select(HumanTask).where(HumanTask.instance_id == self.instance.id,
                                                                 HumanTask.status == "open")):
            task = ready.get(row.task_guid)
            if task is None:
                continue
            spec = task.task_spec
            role = role_for_lane(spec.lane)
            row.name = spec.bpmn_name or spec.bpmn_id
            row.detail = self._detail(task)
            row.form = form_of(spec)
            row.documentation = spec.documentation
            row.lane = spec.lane
            row.role = role.value if role else None
            row.organisation_id = self._organisation_for(case, role, task)
            row.due_date = self._due_date(task)
        waiting = {str(t.id): t for t in self.wf.get_tasks(state=TaskState.WAITING) if waits_on_timer(t)}
        for timer in self.session.scalars(select(Timer).where(Timer.instance_id == self.instance.id,
                                                              Timer.status == "waiting")):
            task = waiting.get(timer.task_guid)
            due = timer_due(task) if task is not None else None
            if due is None or due == timer.due_at:
                continue
            timer.due_at = due
            for deadline in self.session.scalars(select(Deadline).where(Deadline.timer_guid == timer.task_guid,
                                                                        Deadline.status == "open")):
                deadline.due_date = calendar.to_london_date(due - _ONE_SECOND)

    def _organisation_for(self, case: Any, role: Role | None, task: Task) -> int | None:
        """``case``: the case, or a row of its id and la_id."""
        if case is None or role is None:
            return None
        explicit = properties_of(task.task_spec).get("organisation")
        if explicit:
            value = self.evaluate(task, explicit)
            if isinstance(value, int):
                return value
        party = ROLE_PARTY.get(role)
        if party == "local_authority":
            return case.la_id
        if party == "family":
            return None
        row = self.session.scalars(
            select(CaseParty).where(CaseParty.case_id == case.id, CaseParty.role == party, CaseParty.active.is_(True))
        ).first()
        return row.organisation_id if row else None

    def _family_member(self, role: Role | None, task: Task) -> int | None:
        """A family task the route gives to the young person (``familyMember: young_person``, e.g. a college's
        review, where the decisions are theirs: CFA 2014 s.19, the Code 7.14) is assigned to the young person's own
        account on the case; a parent they named to act for them may do it too (engine/people/access.py). Without
        such an account it stays the family's, as every other family task is."""
        if role != Role.FAMILY or properties_of(task.task_spec).get("familyMember") != YOUNG_PERSON:
            return None
        return self.session.scalar(select(CaseParty.user_id).where(
            CaseParty.case_id == self.instance.case_id, CaseParty.role == "family", CaseParty.active.is_(True),
            CaseParty.user_id.is_not(None), func.lower(CaseParty.relationship_to_child) == "young person")
            .order_by(CaseParty.id).limit(1))

    def _detail(self, task: Task) -> str | None:
        """What the task is about, from the route's data (the ``taskDetail`` expression): the adviser, the setting,
        the review. Declared in the BPMN so that five advice requests give five tasks that say from whom."""
        expression = properties_of(task.task_spec).get("taskDetail")
        if not expression:
            return None
        value = self.evaluate(task, expression)
        text = " ".join(str(value).split()) if value is not None else ""
        return text[:300] or None

    def _due_date(self, task: Task) -> date | None:
        expression = properties_of(task.task_spec).get("dueDate")
        if expression:
            value = self.evaluate(task, expression)
            return calendar.as_date(value) if value else None
        # Otherwise the earliest deadline timer attached to this task.
        dues: list[date] = []
        for sibling in (task.parent.children if task.parent is not None else []):
            if sibling is not task and is_timer(sibling) and properties_of(sibling.task_spec).get("deadline"):
                moment = timer_due(sibling)
                if moment is not None:
                    dues.append(calendar.to_london_date(moment - _ONE_SECOND))
        return min(dues, default=None)

    def audit(self, action: str, summary: str, detail: dict[str, Any] | None = None) -> None:
        self._audit_rows.append({"at": self.now, "case_id": self.instance.case_id, "instance_id": self.instance.id,
                                 "actor_id": self.actor_id, "action": action, "summary": summary, "detail": detail})

    def flush_events(self) -> None:
        if any(isinstance(value, Deadline) and value.id is None
               for _, _, detail in self.events for value in (detail or {}).values()):
            self.session.flush()  # once, for the ids of the deadlines this command opened
        for action, summary, detail in self.events:
            self.audit(action, summary, {key: value.id if isinstance(value, Deadline) else value
                                         for key, value in detail.items()} if detail else detail)
        self.events.clear()
        if self._audit_rows:
            # Core on the command's connection: the ORM's bulk insert costs more than the statement itself.
            audit_batch.record(self.session, self._audit_rows)
            self._audit_rows = []


def _keys(value: str) -> list[str]:
    return [k.strip() for k in value.split(",") if k.strip()]



def save_instance(projector: Projector, serializer: Any, before: Snapshot, action: str, summary: str,
                  detail: dict[str, Any] | None, completed_user_task: UUID | None = None) -> None:
    """Projects a command's effect on one instance and stores its state, status and next timer, with the audit.

    The one place that does it, for the command's own instance and for the other routes a step starts or tells in
    the same transaction, so that both are saved alike.
    """
    instance, wf, now = projector.instance, projector.wf, projector.now
    projector.apply(before, completed_user_task)
    instance.state = serializer.dumps(wf)
    instance.serializer_version = serializer.version
    instance.status = instance_status(wf, projector.tasks)
    instance.next_timer_due = None if instance.status == "completed" else next_timer_due(wf, projector.tasks)
    instance.updated_at = now
    instance.last_error = None
    if instance.status == "completed":
        instance.completed_at = now
        projector.events.append(("completed", "Route finished", {}))
    projector.audit(action, summary, detail)
    projector.flush_events()
