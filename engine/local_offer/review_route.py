"""The LA's review of a provider's change runs ``workflows/local_offer_review.bpmn``.

The route is about an entry, not a child, so it does not run as a case's process instance (every instance, task and
deadline row belongs to a case): its state is kept on the ``LocalOfferProposal`` with the deployed version it started
on, and it is run here with the engine's deployed specs, serializer, sandboxed script engine and clock. The BPMN
decides which outcome a decision leads to and when the editor's task is due; this module carries the outcome out
(``outcome`` in the route's data at its end): ``published`` puts the change into the entry, ``returned`` and
``rejected`` keep the entry as it is; every outcome tells the provider (engine/local_offer/provider_notices.py).

Each command loads the state, runs the step, and saves the state only if nobody saved another since it was loaded
(compare-and-set on ``route_state``), so two editors deciding at once never both win.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import update
from sqlalchemy.orm import Session

from engine.errors import FormInvalid, InvalidState, TaskAlreadyCompleted
from engine.library.forms import validate_form
from engine.library.registry import form_of, properties_of
from engine.local_offer import proposals
from engine.local_offer.provider_notices import tell_provider
from engine.statutory import calendar
from engine.statutory.clock import active_clock
from engine.store.local_offer import LocalOfferProposal
from engine.store.models import AuditEvent, ProcessVersion

if TYPE_CHECKING:
    from engine.runtime.workflow_engine import WorkflowEngine

PROCESS_ID = "local_offer_review"
#: What each end of the route does to the proposal (proposals.decide's decisions).
OUTCOME_DECISIONS = {"published": "publish", "returned": "return", "rejected": "reject"}
#: The form's field names, read when the outcome is carried out.
REASON_FIELD = "review_reason"


@dataclass(frozen=True)
class ReviewTask:
    """The editor's open task on a proposal: its name and instructions from the BPMN, and its form."""

    bpmn_id: str
    name: str
    instructions: str
    form: str | None
    schema: dict[str, Any]
    due_on: date | None


def _loaded(engine: WorkflowEngine, session: Session, proposal: LocalOfferProposal) -> Any:
    version = session.get(ProcessVersion, proposal.route_version_id)
    if version is None:
        raise InvalidState("The review route of this change is missing; an administrator has to look at it")
    return engine.load_version(version)


def _workflow(engine: WorkflowEngine, session: Session, proposal: LocalOfferProposal) -> BpmnWorkflow:
    loaded = _loaded(engine, session, proposal)
    wf = engine.serializer.loads(proposal.route_state or "", loaded.spec, loaded.subprocess_specs)
    wf.script_engine = engine.script_engine  # not part of the saved state
    return wf


def _ready(wf: BpmnWorkflow) -> Task | None:
    return next(iter(wf.get_tasks(state=TaskState.READY, manual=True)), None)


def _due_on(engine: WorkflowEngine, task: Task | None) -> date | None:
    expression = properties_of(task.task_spec).get("dueDate") if task is not None else None
    value = engine.script_engine.evaluate(task, expression) if expression else None
    return calendar.as_date(value) if value else None


def _save(engine: WorkflowEngine, session: Session, proposal: LocalOfferProposal, wf: BpmnWorkflow,
          loaded_state: str | None) -> None:
    """Stores the state unless another command stored one since ``loaded_state`` was read."""
    condition = (LocalOfferProposal.route_state.is_(None) if loaded_state is None
                 else LocalOfferProposal.route_state == loaded_state)
    result = session.execute(
        update(LocalOfferProposal).where(LocalOfferProposal.id == proposal.id, condition)
        .values(route_state=engine.serializer.dumps(wf), review_due_on=_due_on(engine, _ready(wf)))
        .execution_options(synchronize_session="fetch"))
    if getattr(result, "rowcount", 1) != 1:
        raise TaskAlreadyCompleted("Someone else reviewed this change at the same moment; nothing was saved")


def start_review(engine: WorkflowEngine, session: Session, proposal: LocalOfferProposal,
                 user_id: int | None = None) -> None:
    """Starts the route for a pending proposal, in the caller's transaction; a proposal whose route is already
    running (the provider sent the change again while it waited) keeps it."""
    if proposal.route_state is not None or proposal.status != "pending":
        return
    version = engine.current_version(session, PROCESS_ID)
    loaded = engine.load_version(version)
    with active_clock(engine.clock):
        wf = BpmnWorkflow(loaded.spec, loaded.subprocess_specs, script_engine=engine.script_engine)
        proposed_on = calendar.to_london_date(proposal.proposed_at)
        wf.get_next_task(spec_name="Start").set_data(proposal_id=proposal.id, proposed_on=proposed_on.isoformat())
        wf.do_engine_steps()
        proposal.route_version_id = version.id
        session.flush()
        _save(engine, session, proposal, wf, None)
    session.add(AuditEvent(at=engine.clock.now(), actor_id=user_id, action="local_offer_review_started",
                           summary=f"Review of a change to the Local Offer entry {proposal.entry.title!r} started",
                           detail={"proposal_id": proposal.id, "version": version.version_hash}))


def review_task(engine: WorkflowEngine, session: Session, proposal: LocalOfferProposal) -> ReviewTask | None:
    """The editor's open task, or None when the review is over (or the proposal was made before the route)."""
    if proposal.route_state is None or proposal.status != "pending":
        return None
    loaded = _loaded(engine, session, proposal)
    with active_clock(engine.clock):
        task = _ready(_workflow(engine, session, proposal))
        if task is None:
            return None
        form = form_of(task.task_spec)
        return ReviewTask(task.task_spec.bpmn_id or "", task.task_spec.bpmn_name or "",
                          task.task_spec.documentation or "", form, loaded.forms.get(form or "", {}),
                          _due_on(engine, task))


def complete_review(engine: WorkflowEngine, session: Session, proposal: LocalOfferProposal, form_data: dict[str, Any],
                    now: datetime, today: date, user_id: int | None) -> str:
    """The editor's decision on the review task, as one step in the caller's transaction: the form is checked
    against its schema, the route runs on, and its outcome is carried out. Returns the outcome."""
    if proposal.status != "pending":
        raise TaskAlreadyCompleted("This change has already been reviewed")
    start_review(engine, session, proposal, user_id)  # a change sent before the route existed starts it now
    task = review_task(engine, session, proposal)
    if task is None:
        raise InvalidState("This change is not waiting for a review")
    validate_form(task.schema, form_data)
    loaded_state = proposal.route_state
    with active_clock(engine.clock):
        wf = _workflow(engine, session, proposal)
        ready = _ready(wf)
        assert ready is not None
        ready.task_spec.add_data_from_form(ready, form_data)
        ready.run()
        wf.refresh_timers()
        wf.do_engine_steps()
        outcome = str(wf.data.get("outcome") or "") if wf.is_completed() else ""
        if outcome not in OUTCOME_DECISIONS:
            raise InvalidState(f"The review route ended without a known outcome ({outcome or 'none'})")
        _save(engine, session, proposal, wf, loaded_state)
    try:
        proposals.decide(session, proposal, OUTCOME_DECISIONS[outcome], str(form_data.get(REASON_FIELD) or ""),
                         now, today, user_id)
    except FormInvalid as e:  # the form's schema asks the same; this says it in the form's own field names
        raise FormInvalid({REASON_FIELD if k == "reason" else "review_decision": v for k, v in e.errors.items()}) from e
    tell_provider(session, proposal, now)
    session.add(AuditEvent(at=now, actor_id=user_id, action="local_offer_review_completed",
                           summary=f"Change to the Local Offer entry {proposal.entry.title!r}: {outcome}",
                           detail={"proposal_id": proposal.id, "outcome": outcome}))
    return outcome


__all__ = ["OUTCOME_DECISIONS", "PROCESS_ID", "ReviewTask", "complete_review", "review_task", "start_review"]
