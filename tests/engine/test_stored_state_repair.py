"""Plain data only (issue 15): every value an administrator or a form sends is refused unless it is plain data, and an
instance damaged the way the issue describes (a nested ``typename`` in its data, which SpiffWorkflow's serializer
takes for one of its own objects) can be repaired from its stored data, then runs on."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select

from engine.admin import instance_repair as repair
from engine.admin.stored_state import repair_stored_data, stored_view
from engine.errors import ConcurrentUpdate, FormInvalid, InstanceFailed, InvalidState, NotAllowed
from engine.library.forms import validate_form
from engine.library.plain_data import plain_data_problems
from engine.runtime.services import Services
from engine.store.models import AuditEvent, HumanTask, Incident, ProcessInstance
from tests.conftest import World
from tests.engine.test_runtime import deploy_demo, open_task, restore_roundtrip

# The serializer's own shapes: an unknown name, a known name without its fields, and a known one that would silently
# turn into an object.
EVIL = [{"typename": "NoSuchThing"}, {"typename": "UUID"}, {"typename": "datetime", "value": "2026-01-01T00:00:00"}]


@pytest.mark.parametrize(("value", "path", "words"), [
    ({"a": {"b": [1, {"typename": "x"}]}}, "a.b[1].typename", "reserved"),
    ({"typename": "BpmnWorkflow"}, "typename", "reserved"),
    ({"a": float("inf")}, "a", "number"),
    ({"a": float("nan")}, "a", "number"),
    ({"a": "\ud800"}, "a", "character"),
    ({"\udc00": 1}, "\udc00", "character"),
    ({"a": datetime(2026, 1, 1, tzinfo=UTC)}, "a", "datetime is not"),
    ({"a": date(2026, 1, 1)}, "a", "date is not"),
    ({"a": (1, 2)}, "a", "tuple is not"),
    ({"a": {1, 2}}, "a", "set is not"),
    ({"a": b"x"}, "a", "bytes is not"),
    ({"a": {1: "x"}}, "a", "not text"),
])
def test_what_is_not_plain_data_is_named_with_where_it_is(value: Any, path: str, words: str) -> None:
    problems = plain_data_problems(value)
    assert list(problems) == [path]
    assert words in problems[path]


def test_plain_data_passes_and_deep_nesting_is_reported_not_a_recursion_error() -> None:
    assert plain_data_problems({"a": [1, 2.5, None, True, "café ✓", {"b": []}], "type": "x", "name": "typename"}) == {}
    deep: Any = 1
    for _ in range(5000):
        deep = [deep]
    assert "nested too deeply" in next(iter(plain_data_problems({"a": deep}).values()))


OPEN_SCHEMA = {"type": "object", "properties": {
    "concern": {"type": "string"},
    "extra": {"type": "object", "additionalProperties": True},
    "anything": {},
}}


@pytest.mark.parametrize("sent", [
    {"concern": "x", "extra": {"typename": "NoSuchThing"}},
    {"concern": "x", "extra": {"inner": [{"typename": "UUID"}]}},
    {"concern": "x", "anything": {"typename": "datetime", "value": "2026-01-01T00:00:00"}},
    {"concern": "x", "anything": float("inf")},
    {"concern": "x", "anything": datetime(2026, 1, 1, tzinfo=UTC)},
])
def test_a_form_whose_schema_allows_open_objects_still_refuses_what_is_not_plain_data(sent: dict[str, Any]) -> None:
    with pytest.raises(FormInvalid) as refused:
        validate_form(OPEN_SCHEMA, sent)
    assert all(key.startswith(("extra", "anything")) for key in refused.value.errors), refused.value.errors
    validate_form(OPEN_SCHEMA, {"concern": "x", "extra": {"type": "a"}, "anything": [1, {"b": None}]})


@pytest.mark.parametrize("bad", EVIL)
def test_the_admin_data_edit_refuses_the_serializers_shapes_whether_typed_or_sent(services: Services, world: World,
                                                                                 bad: dict[str, Any]) -> None:
    engine, admin = services.engine, world.users["admin"]
    deploy_demo(engine)
    iid = engine.start(world.case_id, "runtime_demo", {"explode": False}, world.users["caseworker"])
    data = repair.instance_data(engine, iid)
    revision = restore_roundtrip(services, iid).revision
    with pytest.raises(FormInvalid, match="reserved"):
        repair.parse_data(json.dumps({**data, "advice": {"reports": [bad]}}))
    with pytest.raises(FormInvalid, match="reserved"):  # the engine's own API checks too, not only the page
        repair.edit_data(engine, iid, {**data, "advice": bad}, admin, "typed")
    with pytest.raises(FormInvalid, match="plain data"):
        repair.edit_data(engine, iid, {**data, "when": datetime(2026, 1, 1, tzinfo=UTC)}, admin, "typed")
    assert repair.instance_data(engine, iid) == data
    assert restore_roundtrip(services, iid).revision == revision  # nothing was saved


def damage(services: Services, iid: int, ready: Any = None, completed: Any = None, route: Any = None) -> None:
    """Writes a value the serializer cannot read into the saved state, bypassing every guard (as a script, an edit
    made before the guard existed, or a hand edit of the database could): into the ready task's data, a finished
    task's data, the route's own data."""
    with services.session_factory() as s:
        instance = s.get(ProcessInstance, iid)
        assert instance is not None
        wf = services.engine.load_workflow(instance)
        for task in wf.get_tasks():
            if ready is not None and task.task_spec.name == "UT_decide":
                task.data["advice"] = ready
            if completed is not None and task.task_spec.name == "UT_register":
                task.data["old_note"] = completed
        if route is not None:
            wf.data["route_note"] = route
        instance.state = services.engine.serializer.dumps(wf)
        s.commit()


def _decide_open(services: Services, world: World) -> int:
    engine = services.engine
    deploy_demo(engine)
    iid = engine.start(world.case_id, "runtime_demo", {"explode": False}, world.users["caseworker"])
    engine.complete_task(open_task(services, "UT_register").id, {"concern": "x"}, world.users["caseworker"])
    return iid


def test_a_damaged_instance_is_repaired_from_its_stored_data_and_runs_on(services: Services, world: World) -> None:
    engine, admin, manager = services.engine, world.users["admin"], world.users["manager"]
    iid = _decide_open(services, world)
    damage(services, iid, ready={"summary": "ok", "by": {"typename": "NoSuchThing", "name": "EP"}})
    decide = open_task(services, "UT_decide")
    with pytest.raises(InstanceFailed):  # the damage as the issue found it: nothing can read the state
        engine.complete_task(decide.id, {"decision": "no"}, manager)
    with pytest.raises(InstanceFailed):
        repair.retry(engine, iid, admin, "try again")
    with pytest.raises(Exception):  # noqa: B017 - whatever the serializer raises
        repair.instance_data(engine, iid)

    view = stored_view(engine, iid, admin)
    assert not view.readable and "TypeError" in (view.error or "")
    assert view.data["advice"] == {"summary": "ok", "by": {"typename": "NoSuchThing", "name": "EP"}}
    assert view.data["concern"] == "x" and view.data["decision_due"] == "2026-04-13"
    assert view.unreadable == ["task UT_decide (ready): data.advice.by"]

    fixed = {**view.data, "advice": {"summary": "ok", "by": {"name": "EP"}}}
    with pytest.raises(FormInvalid, match="reserved"):  # sent back as it is, it is refused like any edit
        repair_stored_data(engine, iid, view.data, admin, "repair")
    with pytest.raises(FormInvalid, match="reason"):
        repair_stored_data(engine, iid, fixed, admin, " ")
    with pytest.raises(ConcurrentUpdate):
        repair_stored_data(engine, iid, fixed, admin, "repair", expected_revision=view.revision - 1)
    with pytest.raises(NotAllowed):
        repair_stored_data(engine, iid, fixed, world.users["other_admin"], "repair")
    with pytest.raises(InvalidState, match="can be read"):  # a readable instance is edited the ordinary way
        repair_stored_data(engine, _decide_open(services, world), fixed, admin, "repair")

    changes = repair_stored_data(engine, iid, fixed, admin, "the EP's name was pasted in with the wrong shape",
                                 expected_revision=view.revision)
    assert changes["new"] == {"advice": {"summary": "ok", "by": {"name": "EP"}}} and changes["cleared"] == []
    instance = restore_roundtrip(services, iid)  # readable again, and saved in the ordinary form
    assert instance.status == "failed" and instance.revision > view.revision  # still to be retried
    assert stored_view(engine, iid, admin).readable
    assert repair.instance_data(engine, iid)["advice"] == {"summary": "ok", "by": {"name": "EP"}}
    with services.session_factory() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "state_repaired")).one()
        assert event.actor_id == admin.id and event.instance_id == iid
        assert event.detail["reason"] == "the EP's name was pasted in with the wrong shape"
        assert event.detail["old"] == {"advice": {"summary": "ok", "by": {"typename": "NoSuchThing", "name": "EP"}}}

    repair.retry(engine, iid, admin, "data repaired")  # the failed completion runs again, as the manager
    assert restore_roundtrip(services, iid).status == "completed"
    with services.session_factory() as s:
        done = s.get(HumanTask, decide.id)
        assert done is not None and done.status == "completed" and done.completed_by_id == manager.id
        assert all(i.resolved_at is not None for i in s.scalars(select(Incident).where(Incident.instance_id == iid)))


def test_damage_in_finished_steps_and_the_routes_own_data_is_cleared_and_named(services: Services,
                                                                                world: World) -> None:
    engine, admin = services.engine, world.users["admin"]
    iid = _decide_open(services, world)
    damage(services, iid, completed={"typename": "UUID"}, route=[{"typename": "NoSuchThing"}])
    view = stored_view(engine, iid, admin)
    assert not view.readable
    assert "task UT_register (completed): data.old_note" in view.unreadable
    assert "route: data.route_note[0]" in view.unreadable
    assert "old_note" not in view.data  # history: the tasks after it stored its removal
    # The live data is fine as it is: sending it unchanged clears what cannot be read, and names each place.
    changes = repair_stored_data(engine, iid, view.data, admin, "clear the broken notes")
    assert changes["new"] == {} and changes["removed"] == []
    assert changes["cleared"] == ["task UT_register (completed): data.old_note", "route: data.route_note[0]"]
    instance = restore_roundtrip(services, iid)
    assert instance.status == "waiting_person"  # it had not failed: it is simply readable again
    engine.complete_task(open_task(services, "UT_decide").id, {"decision": "no"}, world.users["manager"])
    assert restore_roundtrip(services, iid).status == "completed"


def test_a_repair_that_would_still_leave_the_state_unreadable_changes_nothing(services: Services,
                                                                              world: World) -> None:
    engine, admin = services.engine, world.users["admin"]
    iid = _decide_open(services, world)
    damage(services, iid, ready={"typename": "NoSuchThing"})
    with services.session_factory() as s:
        instance = s.get(ProcessInstance, iid)
        assert instance is not None
        spec_name = json.loads(instance.state)["spec"]
        broken = json.loads(instance.state)
        broken["spec"] = "another_route"  # a second fault the data repair cannot reach
        instance.state = json.dumps(broken)
        s.commit()
    view = stored_view(engine, iid, admin)
    with pytest.raises(FormInvalid, match="still could not be read"):
        repair_stored_data(engine, iid, {k: v for k, v in view.data.items() if k != "advice"}, admin, "repair")
    with services.session_factory() as s:
        instance = s.get(ProcessInstance, iid)
        assert instance is not None and json.loads(instance.state)["spec"] == "another_route" != spec_name
        assert instance.revision == view.revision
    not_json_iid = _decide_open(services, world)
    with services.session_factory() as s:
        instance = s.get(ProcessInstance, not_json_iid)
        assert instance is not None
        instance.state = "{not json"
        s.commit()
    assert stored_view(engine, not_json_iid, admin).is_json is False
    with pytest.raises(InvalidState, match="not even JSON"):
        repair_stored_data(engine, not_json_iid, {"a": 1}, admin, "repair")


def test_an_operator_repairs_a_damaged_instance_from_the_command_line(services: Services, world: World,
                                                                      monkeypatch: pytest.MonkeyPatch,
                                                                      tmp_path: Any) -> None:
    from click.testing import CliRunner

    from webui.cli import instances as instances_command
    from webui.cli import main

    monkeypatch.setattr(instances_command, "build_services", lambda: services)
    cli = CliRunner()
    iid = _decide_open(services, world)
    damage(services, iid, ready={"typename": "NoSuchThing"})
    with pytest.raises(InstanceFailed):
        services.engine.complete_task(open_task(services, "UT_decide").id, {"decision": "no"}, world.users["manager"])

    shown = cli.invoke(main, ["instances", "stored-data", str(iid)])
    assert shown.exit_code == 0
    data = json.loads(shown.stdout)
    assert data["advice"] == {"typename": "NoSuchThing"}
    assert "cannot be read: task UT_decide (ready): data.advice" in shown.stderr
    data_file = tmp_path / "data.json"
    data_file.write_text(json.dumps(data))
    refused = cli.invoke(main, ["instances", "repair-data", str(iid), "--data", str(data_file), "--reason", "fix"])
    assert refused.exit_code == 1 and "reserved by the workflow engine" in refused.stderr
    data["advice"] = None
    data_file.write_text(json.dumps(data))
    no_such = cli.invoke(main, ["instances", "repair-data", "999", "--data", str(data_file), "--reason", "fix"])
    assert no_such.exit_code == 1 and "No such process instance" in no_such.stderr
    done = cli.invoke(main, ["instances", "repair-data", str(iid), "--data", str(data_file), "--reason", "fix"])
    assert done.exit_code == 0, done.output
    assert "can be read again" in done.stdout
    with services.session_factory() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "state_repaired")).one()
        assert event.actor_id is None and event.detail["reason"] == "fix"
    retried = cli.invoke(main, ["instances", "retry", str(iid), "--reason", "repaired"])
    assert retried.exit_code == 0, retried.output
    assert restore_roundtrip(services, iid).status == "completed"
    assert "nothing to repair" in cli.invoke(main, ["instances", "stored-data", str(iid)]).stderr
