"""Administrators' queries and repair commands on a real small route (runtime_demo), each through the engine: the
state is saved and restored between steps, and the refusals leave the instance exactly as it was."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from engine.admin import instance_repair as repair
from engine.admin.instance_admin import (
    InstanceFilters,
    admin_counts,
    administered_org_ids,
    diagram_marks,
    instance_for_admin,
    instance_list,
)
from engine.errors import ConcurrentUpdate, FormInvalid, InstanceFailed, InvalidState, NotAllowed
from engine.runtime.services import Services
from engine.store.models import AuditEvent, Deadline, HumanTask, Incident, ProcessInstance, Timer, User
from tests.conftest import World
from tests.engine.test_runtime import deploy_demo, open_task, restore_roundtrip


@pytest.fixture
def demo(services: Services, world: World) -> int:
    deploy_demo(services.engine)
    return services.engine.start(world.case_id, "runtime_demo", {"explode": False}, world.users["caseworker"])


def _instance(services: Services, iid: int) -> ProcessInstance:
    return restore_roundtrip(services, iid)


def _events(services: Services, action: str) -> list[AuditEvent]:
    with services.session_factory() as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def test_list_and_counts_are_scoped_to_the_administrators_organisations(services: Services, world: World,
                                                                        demo: int) -> None:
    engine = services.engine
    other = engine.start(world.other_case_id, "runtime_demo", {"explode": False})
    with services.session_factory() as s:
        mine = administered_org_ids(s, world.users["admin"].id)
        theirs = administered_org_ids(s, world.users["other_admin"].id)
        assert mine == [world.la.id] and theirs == [world.other_la.id]
        listed = instance_list(s, mine, InstanceFilters(), engine.clock.today(), engine.clock.now())
        assert [r.id for r in listed.page.rows] == [demo]
        assert listed.status_counts == {"waiting_person": 1}
        assert instance_for_admin(s, mine, other) is None and instance_for_admin(s, theirs, other) is not None
        assert instance_list(s, mine, InstanceFilters(status="failed"), engine.clock.today(),
                             engine.clock.now()).page.total == 0
        assert instance_list(s, mine, InstanceFilters(age_days=7), engine.clock.today(),
                             engine.clock.now()).page.total == 0
        version_id = s.get(ProcessInstance, demo).process_version_id
        by_version = instance_list(s, mine, InstanceFilters(route="runtime_demo", version_id=version_id),
                                   engine.clock.today(), engine.clock.now())
        assert by_version.page.total == 1
        assert instance_list(s, mine, InstanceFilters(version_id=version_id + 1000), engine.clock.today(),
                             engine.clock.now()).page.total == 0


def test_overdue_and_failed_counts_follow_the_projections(services: Services, world: World, demo: int) -> None:
    engine = services.engine
    engine.complete_task(open_task(services, "UT_register").id, {"concern": "x"})
    engine.clock.set(datetime(2026, 4, 14, 9, 0, tzinfo=UTC))  # the 6-week deadline (13 April) has passed
    assert engine.fire_due_timers() == 1
    with services.session_factory() as s:
        counts = admin_counts(s, [world.la.id], engine.clock.today())
        assert (counts.failed, counts.overdue_deadlines, counts.live) == (0, 1, 1)
        late = instance_list(s, [world.la.id], InstanceFilters(overdue=True, age_days=30), engine.clock.today(),
                             engine.clock.now())
        assert [r.id for r in late.page.rows] == [demo] and late.page.rows[0].overdue >= 1
        assert admin_counts(s, [world.other_la.id], engine.clock.today()).overdue_deadlines == 0


def test_suspend_resume_and_refusals(services: Services, world: World, demo: int) -> None:
    engine, admin = services.engine, world.users["admin"]
    with pytest.raises(InvalidState, match="Only a suspended"):
        repair.resume(engine, demo, admin, "no reason to")
    with pytest.raises(FormInvalid):
        repair.suspend(engine, demo, admin, "  ")
    repair.suspend(engine, demo, admin, "waiting for the family's solicitor")
    assert _instance(services, demo).status == "suspended"
    with pytest.raises(InvalidState):
        repair.suspend(engine, demo, admin, "again")
    with pytest.raises(InvalidState, match="resume it first"):
        repair.skip_step(engine, demo, open_task(services, "UT_register").task_guid, admin, "stuck")
    repair.resume(engine, demo, admin, "solicitor replied")
    assert _instance(services, demo).status == "waiting_person"
    resumed = _events(services, "resumed")
    assert resumed[-1].actor_id == admin.id and resumed[-1].detail["reason"] == "solicitor replied"
    assert "solicitor" in _events(services, "suspended")[-1].summary


def test_terminate_needs_a_reason_and_ends_the_instance(services: Services, world: World, demo: int) -> None:
    engine, admin = services.engine, world.users["admin"]
    with pytest.raises(FormInvalid):
        repair.terminate(engine, demo, admin, "")
    repair.terminate(engine, demo, admin, "opened by mistake")
    with services.session_factory() as s:
        assert s.get(ProcessInstance, demo).status == "terminated"
        assert s.scalars(select(HumanTask).where(HumanTask.instance_id == demo)).one().status == "cancelled"
    with pytest.raises(InvalidState, match="already ended"):
        repair.terminate(engine, demo, admin, "again")
    with pytest.raises(InvalidState, match="already ended"):
        repair.move_back(engine, demo, "x", admin, "x")


def test_edit_data_of_a_failed_instance_then_retry(services: Services, world: World) -> None:
    engine, admin = services.engine, world.users["admin"]
    deploy_demo(engine)
    iid = engine.start(world.case_id, "runtime_demo", {"explode": True}, world.users["caseworker"])
    task = open_task(services, "UT_register")
    with pytest.raises(InstanceFailed):
        engine.complete_task(task.id, {"concern": "x"}, world.users["caseworker"])
    with pytest.raises(InvalidState, match="Only a failed"):
        repair.retry(engine, demo_id_not_failed(services, world), admin, "try")
    data = repair.instance_data(engine, iid)
    assert data["explode"] is True
    with pytest.raises(FormInvalid, match="not valid JSON"):
        repair.parse_data('{"explode": fals}')
    with pytest.raises(FormInvalid, match="JSON object"):
        repair.parse_data("[1, 2]")
    revision = _instance(services, iid).revision
    with pytest.raises(ConcurrentUpdate):
        repair.edit_data(engine, iid, {**data, "explode": False}, admin, "fix", expected_revision=revision - 1)
    with pytest.raises(InvalidState, match="Nothing was changed"):
        repair.edit_data(engine, iid, data, admin, "no change")
    changes = repair.edit_data(engine, iid, {**data, "explode": False}, admin, "the flag was set by mistake",
                               expected_revision=revision)
    assert changes["old"] == {"explode": True} and changes["new"] == {"explode": False}
    instance = _instance(services, iid)
    assert instance.status == "failed" and instance.last_error["element_id"] == "ST_init"  # still to be retried
    event = _events(services, "data_edited")[-1]
    assert event.actor_id == admin.id and event.detail["old"] == {"explode": True}
    assert event.detail["reason"] == "the flag was set by mistake"
    repair.retry(engine, iid, admin, "data fixed")
    assert _instance(services, iid).status == "waiting_person"
    assert open_task(services, "UT_decide").instance_id == iid
    with services.session_factory() as s:
        assert s.scalars(select(Incident)).one().resolved_by_id == admin.id


def demo_id_not_failed(services: Services, world: World) -> int:
    return services.engine.start(world.case_id, "runtime_demo", {"explode": False})


def test_diagram_marks_the_failed_element(services: Services, world: World) -> None:
    engine = services.engine
    deploy_demo(engine)
    iid = engine.start(world.case_id, "runtime_demo", {"explode": True})
    with pytest.raises(InstanceFailed):
        engine.complete_task(open_task(services, "UT_register").id, {"concern": "x"})
    with services.session_factory() as s:
        marks = diagram_marks(s, s.get(ProcessInstance, iid))
    assert marks["failed"] == ["ST_init"] and marks["current"] == ["UT_register"]


def test_skip_a_ready_task_and_a_waiting_timer(services: Services, world: World, demo: int) -> None:
    engine, admin = services.engine, world.users["admin"]
    register = open_task(services, "UT_register")
    steps = repair.skippable_steps(engine, demo)
    assert [(s.bpmn_id, s.kind) for s in steps] == [("UT_register", "task")]
    with pytest.raises(InvalidState, match="not waiting"):
        repair.skip_step(engine, demo, "00000000-0000-0000-0000-000000000000", admin, "stuck")
    with pytest.raises(FormInvalid):
        repair.skip_step(engine, demo, register.task_guid, admin, "")
    repair.skip_step(engine, demo, register.task_guid, admin, "recorded on paper")
    _instance(services, demo)
    decide = open_task(services, "UT_decide")
    with services.session_factory() as s:
        assert s.get(HumanTask, register.id).status == "cancelled"
    timer = next(s for s in repair.skippable_steps(engine, demo) if s.kind == "timer")
    assert timer.bpmn_id == "TE_decide_due"
    repair.skip_step(engine, demo, timer.guid, admin, "the deadline was waived")
    _instance(services, demo)
    assert open_task(services, "UT_escalation").instance_id == demo  # the timer's path ran
    with services.session_factory() as s:
        assert s.get(HumanTask, decide.id).status == "open"
        assert s.scalars(select(Timer).where(Timer.instance_id == demo)).one().status == "fired"
    assert _events(services, "step_skipped")[-1].detail["bpmn_id"] == "TE_decide_due"


def test_move_back_to_an_earlier_task_reopens_it_with_the_answers_as_draft(services: Services, world: World,
                                                                           demo: int) -> None:
    engine, admin = services.engine, world.users["admin"]
    register = open_task(services, "UT_register")
    engine.complete_task(register.id, {"concern": "speech"}, world.users["caseworker"])
    decide = open_task(services, "UT_decide")
    earlier = repair.earlier_tasks(engine, demo)
    assert [s.bpmn_id for s in earlier] == ["UT_register"]
    with pytest.raises(InvalidState, match="cannot be gone back to"):
        repair.move_back(engine, demo, decide.task_guid, admin, "wrong")
    repair.move_back(engine, demo, earlier[0].guid, admin, "the concern was recorded on the wrong case")
    _instance(services, demo)
    with services.session_factory() as s:
        reopened = s.get(HumanTask, register.id)
        assert reopened.status == "open" and reopened.draft_data == {"concern": "speech"}
        assert reopened.assignee_id == world.users["caseworker"].id  # back with whoever did it
        assert s.get(HumanTask, decide.id).status == "cancelled"
        assert s.scalars(select(Timer).where(Timer.instance_id == demo)).one().status == "cancelled"
        assert s.get(ProcessInstance, demo).status == "waiting_person"
    # The reopened task is done again; the route runs on as the first time, with a fresh deadline timer.
    engine.complete_task(register.id, {"concern": "speech and language"}, world.users["caseworker"])
    _instance(services, demo)
    assert open_task(services, "UT_decide").id != decide.id
    with services.session_factory() as s:
        assert s.scalars(select(Timer).where(Timer.instance_id == demo, Timer.status == "waiting")).one()
        assert len(s.scalars(select(Deadline).where(Deadline.status == "open")).all()) == 1
    assert _events(services, "moved_back")[-1].actor_id == admin.id


def test_reassign_and_migrate_keep_the_reason(services: Services, world: World, demo: int) -> None:
    engine, admin = services.engine, world.users["admin"]
    task = open_task(services, "UT_register")
    with pytest.raises(FormInvalid):
        repair.reassign(engine, task.id, world.users["caseworker"].id, admin, "")
    repair.reassign(engine, task.id, world.users["caseworker"].id, admin, "covering leave")
    assert _events(services, "task_reassigned")[-1].detail["reason"] == "covering leave"
    with services.session_factory() as s:
        version_id = s.get(ProcessInstance, demo).process_version_id
    with pytest.raises(InvalidState, match="already runs on"):
        repair.migrate(engine, demo, version_id, admin, "no change")


def test_correcting_the_data_a_statutory_timer_reads_moves_the_deadline(services: Services, world: World,
                                                                       demo: int) -> None:
    engine, admin = services.engine, world.users["admin"]
    engine.complete_task(open_task(services, "UT_register").id, {"concern": "x"})
    data = repair.instance_data(engine, demo)
    assert data["decision_due"] == "2026-04-13"
    changes = repair.edit_data(engine, demo, {**data, "decision_due": "2026-04-20"}, admin, "request received later")
    assert changes["timers"]["TE_decide_due"][1] != changes["timers"]["TE_decide_due"][0]
    instance = _instance(services, demo)
    assert instance.next_timer_due == datetime(2026, 4, 20, 23, 0, tzinfo=UTC)  # end of 20 April in BST
    with services.session_factory() as s:
        assert s.scalars(select(Timer)).one().due_at == datetime(2026, 4, 20, 23, 0, tzinfo=UTC)
        assert s.scalars(select(Deadline)).one().due_date.isoformat() == "2026-04-20"
    engine.clock.set(datetime(2026, 4, 14, 9, 0, tzinfo=UTC))
    assert engine.fire_due_timers() == 0  # the old moment no longer fires
    engine.clock.set(datetime(2026, 4, 21, 9, 0, tzinfo=UTC))
    assert engine.fire_due_timers() == 1
    assert open_task(services, "UT_escalation").instance_id == demo


@pytest.mark.parametrize(("text", "message"), [
    ('{"a": ' + "[" * 5000 + "]" * 5000 + "}", "nested"),
    ('{"a": ' + "1" * 5000 + "}", "number"),
    ('{"a": NaN}', "NaN"),
    ('{"a": -Infinity}', "Infinity"),
    ('{"a": 1e999}', "number"),
    ('{"a": "\\ud800"}', "character"),
    ("[1, 2]", "JSON object"),
    ('{"\\udc00": 1}', "character"),
    ('{"a": 1', "not valid JSON"),
])
def test_data_that_json_would_accept_but_the_engine_cannot_keep_is_refused_with_a_message(text: str,
                                                                                        message: str) -> None:
    """Each of these once reached the database or the workflow state (or raised something other than a form error,
    a server error on the page): deep nesting, digits beyond Python's limit, NaN and Infinity (not JSON, refused by
    PostgreSQL), numbers too large for a float, and lone surrogates (not encodable)."""
    with pytest.raises(FormInvalid) as refused:
        repair.parse_data(text)
    assert message in refused.value.errors["data"]


def test_ordinary_data_still_parses() -> None:
    value = repair.parse_data('{"a": [1, 2.5, {"b": null}], "c": "café ✓", "d": true, "e": ' + "9" * 300 + "}")
    assert value["a"][2] == {"b": None} and value["c"] == "café ✓" and value["e"] == int("9" * 300)


def test_the_repair_commands_refuse_an_administrator_of_another_authority(services: Services, world: World,
                                                                          demo: int) -> None:
    """The pages only offer an admin their own authority's instances; the commands check again, as every engine
    command does, so that no other caller (a script, a future page) can repair someone else's instance."""
    engine, other = services.engine, world.users["other_admin"]
    caseworker = world.users["caseworker"]
    guid = open_task(services, "UT_register").task_guid
    data = repair.instance_data(engine, demo)
    attempts = [
        lambda who: repair.suspend(engine, demo, who, "mine now"),
        lambda who: repair.terminate(engine, demo, who, "mine now"),
        lambda who: repair.skip_step(engine, demo, guid, who, "mine now"),
        lambda who: repair.edit_data(engine, demo, {**data, "explode": True}, who, "mine now"),
        lambda who: repair.migrate(engine, demo, _instance(services, demo).process_version_id, who, "mine now"),
    ]
    for attempt in attempts:
        for who in (other, caseworker):
            with pytest.raises(NotAllowed, match="administrator of Testshire Council"):
                attempt(who)
    assert _instance(services, demo).status == "waiting_person"
    assert repair.instance_data(engine, demo)["explode"] is False
    repair.suspend(engine, demo, world.users["admin"], "the right admin")  # and theirs still works
    with pytest.raises(NotAllowed):
        repair.resume(engine, demo, other, "mine now")
    with pytest.raises(NotAllowed):
        repair.retry(engine, demo, other, "mine now")


def test_moving_back_to_a_task_someone_cannot_do_any_more_leaves_it_for_the_role(services: Services, world: World,
                                                                                 demo: int) -> None:
    """A skipped task was "completed" by the administrator, who does not hold its role; a task done by someone who
    has since been deactivated or lost the role cannot be done by them either. Given back to them, the reopened
    task would sit with someone who cannot do it, hidden from everyone with the role."""
    engine, admin = services.engine, world.users["admin"]
    register = open_task(services, "UT_register")
    repair.skip_step(engine, demo, register.task_guid, admin, "done on paper")
    repair.move_back(engine, demo, register.task_guid, admin, "record it properly")
    with services.session_factory() as s:
        assert s.get(HumanTask, register.id).status == "open"
        assert s.get(HumanTask, register.id).assignee_id is None
    engine.complete_task(register.id, {"concern": "speech"}, world.users["caseworker"])
    with services.session_factory() as s:
        s.get(User, world.users["caseworker"].id).active = False
        s.commit()
    repair.move_back(engine, demo, register.task_guid, admin, "again")
    with services.session_factory() as s:
        assert s.get(HumanTask, register.id).assignee_id is None


def test_a_concurrent_change_during_a_runtime_command_is_reported_not_a_crash(services: Services, world: World,
                                                                              demo: int,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The revision check (SQLAlchemy's StaleDataError at commit) fires inside the runtime's own commands too; the
    administrator is told someone else changed the instance, as for the repairs."""
    from sqlalchemy.orm.exc import StaleDataError

    def collide(*args: object, **kwargs: object) -> None:
        raise StaleDataError("UPDATE statement on table 'process_instance' expected to update 1 row(s); 0 were matched")

    engine, admin = services.engine, world.users["admin"]
    monkeypatch.setattr(engine, "suspend", collide)
    monkeypatch.setattr(repair, "migrate_instance", collide)
    with pytest.raises(ConcurrentUpdate, match="Someone else changed this instance"):
        repair.suspend(engine, demo, admin, "pause")
    with pytest.raises(ConcurrentUpdate, match="Someone else changed this instance"):
        repair.migrate(engine, demo, 1, admin, "move")
