"""A driver for every route on one case at once, for tests in which one route starts the next (the front door's
chain: a request, its needs assessment, plan drafting, the first annual review).

It goes through the engine's commands only, as the scenario tests of each route do (tests/workflows/
test_needs_assessment.py and friends), and after every step it restores every instance on the case from its saved
state and serializes it again, which must give the same document.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import select

from engine.people.roles import Role
from engine.runtime.services import Services
from engine.runtime.workflow_engine import WorkflowEngine
from engine.statutory.clock import FrozenClock
from engine.store.models import CaseParty, Deadline, HumanTask, ProcessInstance, User
from tests.workflows.flow_coverage import FlowCoverage

#: Who does the tasks of each role, as keys of the ``world`` fixture's users (the family is the case's own).
ACTOR_FOR_ROLE = {
    Role.CASEWORKER.value: "caseworker", Role.MANAGER.value: "manager", Role.SCHOOL.value: "school",
    Role.EDUCATIONAL_PSYCHOLOGIST.value: "ep", Role.HEALTH.value: "health", Role.SOCIAL_CARE.value: "socialcare",
}
#: The call activity whose tasks are told apart by the advice they ask for.
ADVICE_REQUEST = "ehc_advice_request"

# A plan's contributions and draft, in the shapes of plan drafting's forms (tests/workflows/test_plan_drafting.py),
# with provision to prepare for adulthood in F and G so that the same plan is valid from Year 9 (reg 12(1)(g)).
PLAN_HEALTH = {"section_c": {"needs": [{"description": "Glue ear affecting hearing"}]},
               "section_g": {"provision": [{"description": "Audiology review", "amount": "every 6 months",
                                            "provided_by": "Paediatric audiology", "needs": ["C1"],
                                            "preparing_for_adulthood": True}]}}
PLAN_SOCIAL_CARE = {"section_d": {"needs": []}, "section_h1": {"provision": []}, "section_h2": {"provision": []}}
PLAN_DRAFT = {
    "section_a": {"views": "Likes football and drawing.", "aspirations": "To read a book on their own."},
    "section_b": {"needs": [{"area": "cognition_and_learning", "description": "Difficulty decoding words"}]},
    "section_e": {"outcomes": [{"description": "Reads a book for their age with support", "by_when": "July 2030",
                                "needs": ["B1"]}]},
    "section_f": {"provision": [{"description": "Structured phonics programme", "amount": "20 minutes daily",
                                 "provided_by": "Trained teaching assistant", "needs": ["B1"]},
                                {"description": "Travel training", "amount": "1 hour a week",
                                 "provided_by": "Independence coach", "needs": ["B1"],
                                 "preparing_for_adulthood": True}]},
}


class CaseDriver:
    """Drives the routes of one case through the engine, checking every saved state after every step."""

    def __init__(self, services: Services, users: Mapping[str, User], case_id: int) -> None:
        self.services = services
        self.engine: WorkflowEngine = services.engine
        assert isinstance(self.engine.clock, FrozenClock)
        self.clock: FrozenClock = self.engine.clock
        self.users = users
        self.case_id = case_id
        #: Flow coverages (tests/workflows/flow_coverage.py) to record every saved state into, after every step.
        self.coverage: list[FlowCoverage] = []
        self._recorded_finished: set[int] = set()

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
                 key: str | None = None, who: str | None = None) -> HumanTask:
        """Completes the open task as the user of its role (``who``: a ``world`` user's key, for another
        organisation's staff, such as the new authority's after a transfer)."""
        if when is not None:
            self.at(when)
        task = self.task(bpmn_id, key)
        done = self.engine.complete_task(task.id, data, self.users[who] if who else self.actor(task))
        self.check()
        return done

    def start(self, process_id: str, data: dict[str, Any] | None = None, when: datetime | None = None) -> int:
        """Starts a route on the case as a caseworker would by hand (or as the start data of another route says)."""
        if when is not None:
            self.at(when)
        instance_id = self.engine.start(self.case_id, process_id, data, self.users["caseworker"])
        self.check()
        return instance_id

    def issue_final_plan(self, on: datetime, setting_id: int | None, start_date: str | None = None) -> int:
        """Runs the real plan drafting route (workflows/ehc_plan_drafting.bpmn, deployed by the caller) from start to
        the final plan, every step at ``on`` (minutes apart): the family has no further comments, so nothing waits
        for their 15 days, and the LA names ``setting_id`` after consulting it (None: only a type of provision, for a
        child not in a school or college). The plan is issued on ``on``'s day,
        which opens the first review (``annual_review``, 12 months later). ``start_date`` is the assessment's
        statutory start (default: 12 weeks before, well inside the 20 weeks). Returns the drafting instance's id."""
        day = on.date().isoformat()
        start = start_date or (on.date() - timedelta(weeks=12)).isoformat()
        steps = iter(range(1, 100))

        def then() -> datetime:
            return on + timedelta(minutes=next(steps))

        advice = [{"provider": "Dr Eleanor Park", "kind": "psychological", "received_on": start,
                   "title": "Educational psychology report"}]
        instance_id = self.start("ehc_plan_drafting", {"start_date": start, "advice_received": advice}, on)
        self.complete("UT_health_provision", PLAN_HEALTH, then())
        self.complete("UT_social_care_provision", PLAN_SOCIAL_CARE, then())
        self.complete("UT_draft_plan", PLAN_DRAFT, then())
        self.complete("UT_serve_draft", {"served_on": day, "service_method": "email",
                                         "settings_information": "The Local Offer"}, then())
        self.complete("UT_family_response", {"wants_meeting": False, "request_setting": False,
                                             "request_personal_budget": False, "no_further_comments": True}, then())
        if setting_id is None:
            self.complete("UT_choose_setting", {"naming_choice": "type_only", "named_type": "Education otherwise "
                                                "than at a school", "choice_reasons": "Not in a school"}, then())
        else:
            self.complete("UT_choose_setting", {"naming_choice": "setting", "proposed_setting_id": setting_id,
                                                "choice_reasons": "The local school can meet the needs"}, then())
            self.complete("UT_send_consultation", {"consultation_sent_on": day, "consult_other_la": False}, then())
            self.complete("UT_setting_response", {"setting_can_meet_needs": "yes",
                                                  "setting_response": "We can meet the needs"}, then())
            self.complete("UT_confirm_la_setting", {"name_proposed_setting": True,
                                                    "confirm_reasons": "Can meet them"}, then())
        self.complete("UT_issue_final_plan", {"sections_checked": True}, then())
        return instance_id

    def actor(self, task: HumanTask) -> User:
        if task.role == Role.FAMILY.value:
            return self.family()
        return self.users[ACTOR_FOR_ROLE[task.role or ""]]

    # ---- the saved state -----------------------------------------------------------------------------------------
    def check(self) -> None:
        """Every instance on the case restores from its saved state and serializes to the same document (compared as
        JSON: the order of a call activity's entries may differ); none has failed."""
        test = os.environ.get("PYTEST_CURRENT_TEST", "").split(" ")[0]
        with self.services.session_factory() as s:
            for instance in s.scalars(select(ProcessInstance).where(ProcessInstance.case_id == self.case_id)):
                wf = self._restored(instance)
                if self.coverage and instance.id not in self._recorded_finished:
                    for coverage in self.coverage:
                        coverage.record(wf, test)
                    if instance.status in ("completed", "terminated"):
                        self._recorded_finished.add(instance.id)  # its whole history is kept: record it once

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

    def rows(self, key: str) -> list[Deadline]:
        """Every row with this key on the case's statutory clock, oldest first."""
        with self.services.session_factory() as s:
            rows = list(s.scalars(select(Deadline).where(Deadline.case_id == self.case_id, Deadline.key == key)
                                  .order_by(Deadline.id)))
            for row in rows:
                s.expunge(row)
            return rows

    def task_data(self, bpmn_id: str, key: str | None = None) -> dict[str, Any]:
        """The process data an open task sees (inside a call activity: the called route's data)."""
        task = self.task(bpmn_id, key)
        with self.services.session_factory() as s:
            instance = s.get(ProcessInstance, task.instance_id)
            assert instance is not None
            spiff = self._restored(instance).get_task_from_id(UUID(task.task_guid))
        assert spiff is not None
        return dict(spiff.data)

    def deadline(self, key: str) -> Deadline:
        with self.services.session_factory() as s:
            return s.scalars(select(Deadline).where(Deadline.case_id == self.case_id, Deadline.key == key)).one()


__all__ = ["ACTOR_FOR_ROLE", "PLAN_DRAFT", "PLAN_HEALTH", "PLAN_SOCIAL_CARE", "CaseDriver"]
