"""A driver for every route on one case at once, for tests in which one route starts the next (the front door's
chain: a request, its needs assessment, plan drafting, the first annual review).

It goes through the engine's commands only, as the scenario tests of each route do (tests/workflows/
test_needs_assessment.py and friends), and after every step it restores every instance on the case from its saved
state and serializes it again, which must give the same document.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import select

from engine.people.roles import Role
from engine.runtime.services import Services
from engine.runtime.workflow_engine import WorkflowEngine
from engine.statutory.clock import FrozenClock
from engine.store.models import CaseParty, Deadline, HumanTask, ProcessInstance, User

#: Who does the tasks of each role, as keys of the ``world`` fixture's users (the family is the case's own).
ACTOR_FOR_ROLE = {
    Role.CASEWORKER.value: "caseworker", Role.MANAGER.value: "manager", Role.SCHOOL.value: "school",
    Role.EDUCATIONAL_PSYCHOLOGIST.value: "ep", Role.HEALTH.value: "health", Role.SOCIAL_CARE.value: "socialcare",
}
#: The call activity whose tasks are told apart by the advice they ask for.
ADVICE_REQUEST = "ehc_advice_request"


class CaseDriver:
    """Drives the routes of one case through the engine, checking every saved state after every step."""

    def __init__(self, services: Services, users: Mapping[str, User], case_id: int) -> None:
        self.services = services
        self.engine: WorkflowEngine = services.engine
        assert isinstance(self.engine.clock, FrozenClock)
        self.clock: FrozenClock = self.engine.clock
        self.users = users
        self.case_id = case_id

    # ---- commands ------------------------------------------------------------------------------------------------
    def at(self, when: datetime) -> int:
        """Moves the clock and lets the timer worker fire whatever is due; returns how many instances advanced."""
        self.clock.set(when)
        fired = 0
        while advanced := self.engine.fire_due_timers():
            fired += advanced
        self.check()
        return fired

    def complete(self, bpmn_id: str, data: dict[str, Any], when: datetime | None = None,
                 key: str | None = None) -> HumanTask:
        if when is not None:
            self.at(when)
        task = self.task(bpmn_id, key)
        done = self.engine.complete_task(task.id, data, self.actor(task))
        self.check()
        return done

    def actor(self, task: HumanTask) -> User:
        if task.role == Role.FAMILY.value:
            return self.family()
        return self.users[ACTOR_FOR_ROLE[task.role or ""]]

    # ---- the saved state -----------------------------------------------------------------------------------------
    def check(self) -> None:
        """Every instance on the case restores from its saved state and serializes to the same document (compared as
        JSON: the order of a call activity's entries may differ); none has failed."""
        with self.services.session_factory() as s:
            for instance in s.scalars(select(ProcessInstance).where(ProcessInstance.case_id == self.case_id)):
                self._restored(instance)

    def _restored(self, instance: ProcessInstance) -> Any:
        assert instance.status != "failed", f"{instance.process_id}: {instance.last_error}"
        wf = self.engine.load_workflow(instance)
        assert json.loads(self.engine.serializer.dumps(wf)) == json.loads(instance.state), (
            f"{instance.process_id} (instance {instance.id}) changed on restore")
        return wf

    def data(self, process_id: str) -> dict[str, Any]:
        """The route's data: that of the last task that ran, or the whole route's once it has ended."""
        with self.services.session_factory() as s:
            wf = self._restored(self.instance(process_id, s))
            return dict(wf.data) if wf.is_completed() else dict(wf.last_task.data)

    # ---- reading -------------------------------------------------------------------------------------------------
    def instances(self, process_id: str) -> list[ProcessInstance]:
        with self.services.session_factory() as s:
            return list(s.scalars(select(ProcessInstance).where(ProcessInstance.case_id == self.case_id,
                                                                ProcessInstance.process_id == process_id)
                                  .order_by(ProcessInstance.id)))

    def instance(self, process_id: str, session: Any = None) -> ProcessInstance:
        if session is None:
            rows = self.instances(process_id)
        else:
            rows = list(session.scalars(select(ProcessInstance).where(ProcessInstance.case_id == self.case_id,
                                                                      ProcessInstance.process_id == process_id)))
        assert len(rows) == 1, f"{process_id}: {len(rows)} instances on the case"
        return rows[0]

    def family(self) -> User:
        with self.services.session_factory() as s:
            user = s.scalars(select(User).join(CaseParty, CaseParty.user_id == User.id).where(
                CaseParty.case_id == self.case_id, CaseParty.role == "family", CaseParty.active.is_(True))).one()
            s.expunge(user)
            return user

    def open_tasks(self) -> list[HumanTask]:
        with self.services.session_factory() as s:
            return list(s.scalars(select(HumanTask).where(HumanTask.case_id == self.case_id,
                                                          HumanTask.status == "open").order_by(HumanTask.id)))

    def _key_of(self, task: HumanTask) -> str | None:
        if task.process_id != ADVICE_REQUEST:
            return None
        with self.services.session_factory() as s:
            instance = s.get(ProcessInstance, task.instance_id)
            assert instance is not None
            spiff = self.engine.load_workflow(instance).get_task_from_id(UUID(task.task_guid))
        request = spiff.data.get("advice_request") if spiff is not None else None
        return request.get("key") if isinstance(request, dict) else None

    def open(self) -> list[str]:
        """The case's open tasks, as 'bpmn_id', or 'bpmn_id:advice key' for those of an advice request; sorted."""
        names = []
        for task in self.open_tasks():
            key = self._key_of(task)
            names.append(f"{task.bpmn_id}:{key}" if key else task.bpmn_id)
        return sorted(names)

    def task(self, bpmn_id: str, key: str | None = None) -> HumanTask:
        found = [t for t in self.open_tasks() if t.bpmn_id == bpmn_id and (key is None or self._key_of(t) == key)]
        assert len(found) == 1, f"{bpmn_id} {key or ''}: found {len(found)}; open: {self.open()}"
        return found[0]

    def deadlines(self) -> dict[str, tuple[str, str]]:
        """key -> (due date, status), for every row on the case's statutory clock."""
        with self.services.session_factory() as s:
            rows = s.scalars(select(Deadline).where(Deadline.case_id == self.case_id).order_by(Deadline.id))
            return {row.key: (row.due_date.isoformat(), row.status) for row in rows}

    def deadline(self, key: str) -> Deadline:
        with self.services.session_factory() as s:
            return s.scalars(select(Deadline).where(Deadline.case_id == self.case_id, Deadline.key == key)).one()


__all__ = ["ACTOR_FOR_ROLE", "CaseDriver"]
