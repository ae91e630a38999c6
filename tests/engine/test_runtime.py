"""The engine's commands: start, complete, message, timer, failure and rollback, retry.

Every command is a database round trip (load the state, run, save), and after every step the saved state is also
restored and re-serialized here, so each test saves and restores the instance between steps.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.errors import (
    FormInvalid,
    InstanceFailed,
    InvalidState,
    MessageNotDelivered,
    NotAllowed,
    TaskAlreadyCompleted,
)
from engine.library.registry import ProcessRegistry
from engine.runtime.services import Services
from engine.runtime.workflow_engine import WorkflowEngine
from engine.store.models import AuditEvent, Deadline, HumanTask, Incident, ProcessInstance, ProcessVersion, Timer
from tests.conftest import World
from tests.engine.bpmn_builder import script_then_task

DATA = Path(__file__).parent / "data"


def deploy_demo(engine: WorkflowEngine) -> None:
    registry = ProcessRegistry.from_texts(
        {"workflows/runtime_demo.bpmn": (DATA / "runtime_demo.bpmn").read_text()}, DATA / "forms")
    engine.deploy(registry)


def deploy_script(engine: WorkflowEngine, process_id: str, script: str) -> None:
    registry = ProcessRegistry.from_texts({f"workflows/{process_id}.bpmn": script_then_task(process_id, script)},
                                          DATA / "forms")
    engine.deploy(registry)


def restore_roundtrip(services: Services, instance_id: int) -> ProcessInstance:
    """Restores the saved state and checks that serializing it again gives the same document."""
    with services.session_factory() as s:
        instance = s.get(ProcessInstance, instance_id)
        assert instance is not None
        if instance.status != "completed":
            wf = services.engine.load_workflow(instance)
            assert services.engine.serializer.dumps(wf) == instance.state
        return instance


def open_task(services: Services, bpmn_id: str) -> HumanTask:
    with services.session_factory() as s:
        return s.scalars(select(HumanTask).where(HumanTask.bpmn_id == bpmn_id, HumanTask.status == "open")).one()


@pytest.fixture
def started(services: Services, world: World) -> int:
    deploy_demo(services.engine)
    iid = services.engine.start(world.case_id, "runtime_demo", {"explode": False}, world.users["caseworker"])
    restore_roundtrip(services, iid)
    return iid


def test_start_opens_the_first_task_for_the_lane_role_in_the_case_la(services: Services, world: World,
                                                                      started: int) -> None:
    task = open_task(services, "UT_register")
    assert (task.role, task.organisation_id, task.case_id) == ("la_caseworker", world.la.id, world.case_id)
    assert task.form == "register.json"
    assert task.documentation == "Check the request and record what it is about."
    instance = restore_roundtrip(services, started)
    assert instance.status == "waiting_person"
    # The state is stored without the spec: the spec lives once on the process version.
    assert '"spec": "runtime_demo"' in instance.state
    assert "task_specs" not in instance.state


def test_deadline_timer_met_when_task_done_in_time(services: Services, world: World, started: int) -> None:
    engine = services.engine
    engine.complete_task(open_task(services, "UT_register").id, {"concern": "speech"}, world.users["caseworker"])
    restore_roundtrip(services, started)
    decide = open_task(services, "UT_decide")
    # Started Monday 2 March 2026; 6 weeks later is Monday 13 April 2026 (after Easter Monday 6 April).
    assert decide.due_date == date(2026, 4, 13)
    with services.session_factory() as s:
        deadline = s.scalars(select(Deadline)).one()
        assert (deadline.key, deadline.due_date, deadline.status) == ("decide", date(2026, 4, 13), "open")
        instance = s.get(ProcessInstance, started)
        # 13 April is in BST: the day is over at 23:00 UTC.
        assert instance.next_timer_due == datetime(2026, 4, 13, 23, 0, tzinfo=UTC)
    engine.clock.set(datetime(2026, 4, 13, 16, 0, tzinfo=UTC))
    assert engine.fire_due_timers() == 0
    engine.complete_task(decide.id, {"decision": "no"}, world.users["manager"])
    restore_roundtrip(services, started)
    with services.session_factory() as s:
        deadline = s.scalars(select(Deadline)).one()
        assert deadline.status == "met" and not deadline.missed
        assert s.get(ProcessInstance, started).status == "completed"
        assert s.scalars(select(Timer)).one().status == "cancelled"


def test_deadline_missed_escalates_and_work_carries_on(services: Services, world: World, started: int) -> None:
    engine = services.engine
    engine.complete_task(open_task(services, "UT_register").id, {"concern": "speech"}, world.users["caseworker"])
    engine.clock.set(datetime(2026, 4, 13, 22, 59, tzinfo=UTC))
    assert engine.fire_due_timers() == 0
    engine.clock.set(datetime(2026, 4, 13, 23, 0, 1, tzinfo=UTC))  # 00:00:01 BST on 14 April
    assert engine.fire_due_timers() == 1
    restore_roundtrip(services, started)
    assert engine.fire_due_timers() == 0  # fired exactly once
    escalation = open_task(services, "UT_escalation")
    assert escalation.role == "la_manager"
    decide = open_task(services, "UT_decide")  # the missed deadline did not cancel the work
    with services.session_factory() as s:
        deadline = s.scalars(select(Deadline)).one()
        assert deadline.status == "missed" and deadline.missed and deadline.met_at is None
    engine.complete_task(decide.id, {"decision": "yes"}, world.users["manager"])
    restore_roundtrip(services, started)
    with services.session_factory() as s:
        deadline = s.scalars(select(Deadline)).one()
        assert deadline.status == "missed" and deadline.met_at is not None  # done, but late
    family = open_task(services, "UT_family")
    # dueDate property: today + 14 days = 28 April 2026 (clock is 13 April 23:00 UTC = 14 April 00:00 BST).
    assert family.due_date == date(2026, 4, 28)


def test_form_is_validated_on_the_server(services: Services, world: World, started: int) -> None:
    task_id = open_task(services, "UT_register").id
    caseworker = world.users["caseworker"]
    with pytest.raises(FormInvalid) as bad:
        services.engine.complete_task(task_id, {"concern": "x", "sneaky": 1}, caseworker)
    assert bad.value.errors == {"sneaky": "This field is not part of the form"}
    with pytest.raises(FormInvalid) as bad:
        services.engine.complete_task(task_id, {"concern": 42}, caseworker)
    assert set(bad.value.errors) == {"concern"}
    with pytest.raises(FormInvalid) as bad:
        services.engine.complete_task(task_id, {}, caseworker)
    assert bad.value.errors == {"concern": "Enter what the request is about"}
    with pytest.raises(FormInvalid) as bad:
        services.engine.complete_task(task_id, {"concern": "x", "typename": "BpmnWorkflow"}, caseworker)
    assert "typename" in bad.value.errors
    assert open_task(services, "UT_register").status == "open"


def test_only_the_right_people_can_complete_a_task(services: Services, world: World, started: int) -> None:
    task_id = open_task(services, "UT_register").id
    for who in ("parent", "school", "health", "other_caseworker"):
        with pytest.raises(NotAllowed):
            services.engine.complete_task(task_id, {"concern": "x"}, world.users[who])


def test_second_completion_is_told_the_task_was_already_completed(services: Services, world: World,
                                                                   started: int) -> None:
    task_id = open_task(services, "UT_register").id
    services.engine.complete_task(task_id, {"concern": "x"}, world.users["caseworker"])
    with pytest.raises(TaskAlreadyCompleted, match="already completed by Caseworker"):
        services.engine.complete_task(task_id, {"concern": "y"}, world.users["manager"])


def test_message_delivered_to_the_waiting_instance(services: Services, world: World, started: int) -> None:
    engine = services.engine
    with pytest.raises(MessageNotDelivered):
        engine.send_message(world.case_id, "family_replied", {"ok": True})
    engine.complete_task(open_task(services, "UT_register").id, {"concern": "x"}, world.users["caseworker"])
    engine.complete_task(open_task(services, "UT_decide").id, {"decision": "yes"}, world.users["manager"])
    engine.complete_task(open_task(services, "UT_family").id, {"note": "thanks"}, world.users["parent"])
    restore_roundtrip(services, started)
    assert engine.send_message(world.case_id, "family_replied", {"ok": True}) == started
    with services.session_factory() as s:
        instance = restore_roundtrip(services, started)
        assert instance.status == "completed"
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "message_received")) == 1


def test_failure_rolls_back_and_records_an_incident(services: Services, world: World, started: int) -> None:
    engine = services.engine
    task_id = open_task(services, "UT_register").id
    with services.session_factory() as s:
        before = s.get(ProcessInstance, started)
        state_before, revision_before = before.state, before.revision
    with pytest.raises(InstanceFailed):
        engine.complete_task(task_id, {"concern": "x", "explode": True}, world.users["caseworker"])
    with services.session_factory() as s:
        instance = s.get(ProcessInstance, started)
        assert instance.state == state_before  # nothing of the failed step was saved
        assert instance.status == "failed"
        assert instance.last_error["element_id"] == "ST_init"
        assert "ZeroDivisionError" in instance.last_error["message"] or "division" in instance.last_error["message"]
        assert s.get(HumanTask, task_id).status == "open"
        incident = s.scalars(select(Incident)).one()
        assert (incident.command, incident.element_id, incident.line) == ("complete_task", "ST_init", 2)
        assert instance.revision == revision_before + 1  # only the failure marker was written
    restore_roundtrip(services, started)


def test_retry_runs_the_failed_command_again(services: Services, world: World, started: int,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    engine = services.engine
    task_id = open_task(services, "UT_register").id
    real_dumps = engine.serializer.dumps
    calls = {"n": 0}

    def flaky(wf):  # a transient failure while saving, e.g. a lost connection
        calls["n"] += 1
        if calls["n"] == 1:
            raise OSError("disk went away")
        return real_dumps(wf)

    monkeypatch.setattr(engine.serializer, "dumps", flaky)
    with pytest.raises(InstanceFailed):
        engine.complete_task(task_id, {"concern": "x"}, world.users["caseworker"])
    with pytest.raises(InvalidState):
        engine.resume(started, world.users["admin"])
    engine.retry(started, world.users["admin"])
    restore_roundtrip(services, started)
    with services.session_factory() as s:
        instance = s.get(ProcessInstance, started)
        assert instance.status == "waiting_person" and instance.last_error is None
        assert s.get(HumanTask, task_id).status == "completed"
        assert s.scalars(select(Incident)).one().resolved_at is not None
    with pytest.raises(InvalidState):
        engine.retry(started, world.users["admin"])


def test_failed_instance_leaves_the_timer_queue_until_retried(services: Services, world: World) -> None:
    engine = services.engine
    deploy_demo(engine)
    iid = engine.start(world.case_id, "runtime_demo", {"explode": False})
    engine.complete_task(open_task(services, "UT_register").id, {"concern": "x"})
    with services.session_factory() as s:
        instance = s.get(ProcessInstance, iid)
        instance.status = "failed"
        instance.last_error = {"previous_status": "waiting_person", "message": "test"}
        s.commit()
    engine.clock.set(datetime(2026, 6, 1, tzinfo=UTC))
    assert engine.fire_due_timers() == 0
    engine.retry(iid)
    assert open_task(services, "UT_escalation").role == "la_manager"


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("import os\nx = os.getpid()", "__import__"),
        ("x = open('/etc/passwd').read()", "open"),
        ("x = __import__('os')", "__import__"),
        ("x = ().__class__.__base__.__subclasses__()", "invalid attribute name"),
    ],
)
def test_sandbox_refuses_escapes_naming_the_element(services: Services, world: World, script: str,
                                                    expected: str) -> None:
    deploy_script(services.engine, "escape", script)
    with pytest.raises(InstanceFailed, match="could not start"):
        services.engine.start(world.case_id, "escape")
    with services.session_factory() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "start_failed")).one()
        assert event.detail["element_id"] == "ST_script"
        assert expected in event.summary
        assert s.scalar(select(func.count()).select_from(ProcessInstance)) == 0


def test_scripts_can_use_the_statutory_calendar(services: Services, world: World) -> None:
    deploy_script(services.engine, "calendar_use",
                  "due = add_working_days('2026-12-22', 3)\nlater = later_of(add_months('2026-01-31', 1), '2026-02-27')")
    iid = services.engine.start(world.case_id, "calendar_use")
    with services.session_factory() as s:
        wf = services.engine.load_workflow(s.get(ProcessInstance, iid))
        data = wf.get_next_task(spec_name="UT_next").data
    # 22 Dec 2026 (Tue) + 3 working days: 23 Dec, 24 Dec, (25 Fri, 28 Mon substitute Boxing Day are holidays) 29 Dec.
    assert data["due"] == "2026-12-29"
    # 31 Jan + 1 month = 28 Feb 2026 (not a leap year), later than 27 Feb.
    assert data["later"] == "2026-02-28"


def test_deploy_stores_each_version_once(services: Services) -> None:
    deploy_demo(services.engine)
    deploy_demo(services.engine)
    with services.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(ProcessVersion)) == 1
    changed = (DATA / "runtime_demo.bpmn").read_text().replace("Register the request", "Register the referral")
    services.engine.deploy(ProcessRegistry.from_texts({"workflows/runtime_demo.bpmn": changed}, DATA / "forms"))
    with services.session_factory() as s:
        versions = s.scalars(select(ProcessVersion).order_by(ProcessVersion.id)).all()
        assert [v.is_current for v in versions] == [False, True]
        assert versions[0].version_hash != versions[1].version_hash


def test_instance_keeps_running_on_its_own_version(services: Services, world: World, started: int) -> None:
    changed = (DATA / "runtime_demo.bpmn").read_text().replace('name="Decide"', 'name="Decide (v2)"')
    services.engine.deploy(ProcessRegistry.from_texts({"workflows/runtime_demo.bpmn": changed}, DATA / "forms"))
    services.engine.complete_task(open_task(services, "UT_register").id, {"concern": "x"})
    assert open_task(services, "UT_decide").name == "Decide"


def test_claim_release_and_reassign(services: Services, world: World, started: int) -> None:
    engine = services.engine
    task_id = open_task(services, "UT_register").id
    engine.claim(task_id, world.users["caseworker"])
    assert open_task(services, "UT_register").assignee_id == world.users["caseworker"].id
    with pytest.raises(NotAllowed):
        engine.claim(task_id, world.users["school"])
    engine.release(task_id, world.users["caseworker"])
    assert open_task(services, "UT_register").assignee_id is None
    with pytest.raises(NotAllowed):
        engine.reassign(task_id, world.users["caseworker"].id, world.users["caseworker"])
    with pytest.raises(NotAllowed):
        engine.reassign(task_id, world.users["school"].id, world.users["manager"])
    engine.reassign(task_id, world.users["caseworker"].id, world.users["manager"])
    assert open_task(services, "UT_register").assignee_id == world.users["caseworker"].id


@pytest.fixture
def one_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    """A pool of one connection that gives up after a second (set before ``services`` makes the pool)."""
    monkeypatch.setenv("EHCFLOW_DB_POOL_SIZE", "1")
    monkeypatch.setenv("EHCFLOW_DB_MAX_OVERFLOW", "0")
    monkeypatch.setenv("EHCFLOW_DB_POOL_TIMEOUT", "1")


def test_a_refused_completion_holds_one_connection(one_connection: None, services: Services, world: World,
                                                   started: int) -> None:
    """Refused on the route's state, the completion reads the task again to say why in the session it has: a second
    session would wait for the pool's only connection, as fifty people refused at once would wait for each other's."""
    assert services.db.pool.size() == 1  # type: ignore[attr-defined]
    engine = services.engine
    task_id = open_task(services, "UT_register").id
    engine.suspend(started, world.users["admin"], "checking data")
    with pytest.raises(InvalidState, match="suspended"):
        engine.complete_task(task_id, {"concern": "x"})
    engine.resume(started, world.users["admin"])
    assert engine.complete_task(task_id, {"concern": "x"}).status == "completed"


def test_suspend_resume_terminate(services: Services, world: World, started: int) -> None:
    engine = services.engine
    admin = world.users["admin"]
    engine.suspend(started, admin, "checking data")
    with pytest.raises(InvalidState, match="suspended"):
        engine.complete_task(open_task(services, "UT_register").id, {"concern": "x"})
    engine.resume(started, admin)
    with pytest.raises(FormInvalid):
        engine.terminate(started, admin, " ")
    engine.terminate(started, admin, "opened by mistake")
    with services.session_factory() as s:
        assert s.get(ProcessInstance, started).status == "terminated"
        assert s.scalars(select(HumanTask)).one().status == "cancelled"
    with pytest.raises(InvalidState):
        engine.terminate(started, admin, "again")


def test_audit_trail_is_append_only(services: Services, world: World, started: int) -> None:
    from sqlalchemy import text

    with services.session_factory() as s:
        event = s.scalars(select(AuditEvent)).first()
        event.summary = "rewritten"
        with pytest.raises(PermissionError):
            s.flush()
    with services.db.connect() as conn, pytest.raises(Exception, match="append-only"):
        conn.execute(text("DELETE FROM audit_event"))
