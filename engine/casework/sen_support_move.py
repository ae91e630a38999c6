"""A child on SEN support who moves setting keeps the record, with the family's consent (issue 19).

Three steps, each one transaction:

1. The current setting's SENCO, or the responsible authority's caseworker or manager, proposes the move to another
   setting (``propose_move``): the message ``sen_support_move_proposed`` reaches the SEN support route, whose event
   sub-process ``ESP_move`` gives the family the task *Agree to the SEN support record moving* (``UT_move_consent``).
2. The family answers that task (yes or no).
3. Once the family has agreed, the same people move the record (``move_record``): the case's ``setting`` party moves
   to the new setting (the old row kept, inactive) and the setting's open tasks on the case with it, so the new
   setting's SENCOs see and act on the record and its tasks from then on and the old setting no longer does (the
   access rules follow the active party and the task's organisation).

The state of a proposal is read from projections only: the message row and the consent task's answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import InvalidState, NotAllowed, NotFound
from engine.people.access import roles_in
from engine.people.roles import Role
from engine.store.models import (
    ACTIVE_STATUSES,
    AuditEvent,
    Case,
    CaseParty,
    HumanTask,
    Message,
    Organisation,
    ProcessInstance,
    User,
)

MESSAGE = "sen_support_move_proposed"
PROCESS_ID = "sen_support"
CONSENT_TASK = "UT_move_consent"
LA_ROLES = (Role.CASEWORKER.value, Role.MANAGER.value)


@dataclass
class MoveStatus:
    proposed_at: datetime
    to_setting: Organisation | None
    consent: str  # "pending" (the family has not answered), "yes" or "no"
    moved: bool  # the record is at the new setting

    @property
    def ready_to_move(self) -> bool:
        return self.consent == "yes" and not self.moved and self.to_setting is not None


def current_settings(session: Session, case_id: int) -> list[CaseParty]:
    return list(session.scalars(select(CaseParty).where(CaseParty.case_id == case_id, CaseParty.role == "setting",
                                                        CaseParty.active.is_(True)).order_by(CaseParty.id)))


def may_manage_move(session: Session, user: User, case: Case) -> bool:
    """The current setting's SENCOs (the school role there) and the responsible authority's caseworkers and
    managers."""
    if not user.active:
        return False
    held = roles_in(session, user)
    if any((case.la_id, role) in held for role in LA_ROLES):
        return True
    return any((party.organisation_id, Role.SCHOOL.value) in held for party in current_settings(session, case.id))


def running_route(session: Session, case_id: int) -> ProcessInstance | None:
    return session.scalars(select(ProcessInstance).where(
        ProcessInstance.case_id == case_id, ProcessInstance.process_id == PROCESS_ID,
        ProcessInstance.status.in_(ACTIVE_STATUSES)).order_by(ProcessInstance.id.desc())).first()


def move_status(session: Session, case_id: int) -> MoveStatus | None:
    """The latest proposal on the case and where it stands (None when no move was ever proposed)."""
    proposal = session.scalars(select(Message).where(Message.case_id == case_id, Message.name == MESSAGE,
                                                     Message.status == "delivered")
                               .order_by(Message.id.desc())).first()
    if proposal is None:
        return None
    setting_id = (proposal.payload or {}).get("setting_id")
    target = session.get(Organisation, setting_id) if isinstance(setting_id, int) else None
    task = session.scalars(select(HumanTask).where(
        HumanTask.instance_id == proposal.instance_id, HumanTask.bpmn_id == CONSENT_TASK,
        HumanTask.created_at >= proposal.sent_at).order_by(HumanTask.id)).first()
    consent = "pending"
    if task is not None and task.status == "completed":
        consent = "yes" if (task.submitted_data or {}).get("move_consent") == "yes" else "no"
    moved = target is not None and [p.organisation_id for p in current_settings(session, case_id)] == [target.id]
    return MoveStatus(proposal.sent_at, target, consent, moved)


def settings_to_move_to(session: Session, case_id: int) -> list[Organisation]:
    """Every setting but the case's current one, by name."""
    current = {p.organisation_id for p in current_settings(session, case_id)}
    return [org for org in session.scalars(select(Organisation).where(Organisation.kind == "setting")
                                           .order_by(Organisation.name)) if org.id not in current]


def propose_move(engine: Any, case_id: int, setting_id: int, actor: User) -> int:
    """Asks the family to agree to the record moving to the setting; returns the SEN support route's id."""
    with engine.session_factory() as session:
        case = session.get(Case, case_id)
        if case is None:
            raise NotFound("No such case")
        if not may_manage_move(session, actor, case):
            raise NotAllowed("Only the child's setting or the local authority can propose a move")
        if running_route(session, case_id) is None:
            raise InvalidState("This child has no SEN support under way to move")
        target = session.get(Organisation, setting_id)
        if target is None or target.kind != "setting":
            raise NotFound("Choose a school, college or early years setting")
        if target.id in {p.organisation_id for p in current_settings(session, case_id)}:
            raise InvalidState(f"{target.name} is already the child's setting")
        status = move_status(session, case_id)
        if status is not None and (status.consent == "pending" or status.ready_to_move):
            raise InvalidState("A move is already waiting: the family's answer, or the move itself")
        payload = {"setting_id": target.id, "setting_name": target.name, "proposed_by": actor.name}
    instance_id: int = engine.send_message(case_id, MESSAGE, payload, actor)
    return instance_id


def move_record(session: Session, case: Case, actor: User, now: datetime) -> Organisation:
    """Moves the record to the setting the family agreed to; the caller commits. InvalidState when the family has
    not agreed, or the record is already there."""
    if not may_manage_move(session, actor, case):
        raise NotAllowed("Only the child's setting or the local authority can move the record")
    status = move_status(session, case.id)
    if status is None or not status.ready_to_move or status.to_setting is None:
        raise InvalidState("The record moves only to a setting the family has agreed to")
    target = status.to_setting
    old = current_settings(session, case.id)
    for party in old:
        party.active = False
    session.add(CaseParty(case_id=case.id, role="setting", organisation_id=target.id, active=True))
    # The setting's open tasks on the case go with the child: a task is for the organisation it names.
    for task in session.scalars(select(HumanTask).where(
            HumanTask.case_id == case.id, HumanTask.status == "open", HumanTask.role == Role.SCHOOL.value,
            HumanTask.organisation_id.in_([party.organisation_id for party in old]))):
        task.organisation_id = target.id
    session.add(AuditEvent(at=now, case_id=case.id, actor_id=actor.id, action="setting_changed",
                           summary=f"SEN support record moved, with the family's consent, to {target.name}",
                           detail={"organisation_id": target.id,
                                   "previous": [party.organisation_id for party in old]}))
    session.flush()
    return target


__all__ = ["MESSAGE", "MoveStatus", "current_settings", "may_manage_move", "move_record", "move_status",
           "propose_move", "running_route", "settings_to_move_to"]
