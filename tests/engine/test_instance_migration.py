"""Moving running instances to a newer version of their route, refusing when a completed step would change, and back."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.admin.instance_migration import migrate_instance, plan_migration
from engine.errors import InvalidState
from engine.library.registry import ProcessRegistry
from engine.runtime.services import Services
from engine.store.models import Deadline, HumanTask, ProcessInstance, ProcessVersion
from tests.conftest import World
from tests.engine.test_runtime import DATA, open_task, restore_roundtrip

V1 = (DATA / "runtime_demo.bpmn").read_text()


def deploy(services: Services, text: str) -> int:
    services.engine.deploy(ProcessRegistry.from_texts({"workflows/runtime_demo.bpmn": text}, DATA / "forms"))
    with services.session_factory() as s:
        return s.scalars(select(ProcessVersion.id).where(ProcessVersion.is_current.is_(True))).one()


def test_migrate_to_new_version_and_back(services: Services, world: World) -> None:
    engine = services.engine
    v1 = deploy(services, V1)
    iid = engine.start(world.case_id, "runtime_demo", {"explode": False})
    engine.complete_task(open_task(services, "UT_register").id, {"concern": "x"})
    # v2 renames the waiting task and gives it a later deadline: only steps not yet done change.
    v2 = deploy(services, V1.replace('name="Decide"', 'name="Decide (revised)"')
                .replace("deadline_at(decision_due)", "deadline_at(add_weeks(decision_due, 1))"))
    check = plan_migration(engine, iid, v2)
    assert check.allowed and "Decide [UT_decide]" in check.reset_steps
    migrate_instance(engine, iid, v2, world.users["admin"], "new wording")
    restore_roundtrip(services, iid)
    decide = open_task(services, "UT_decide")
    assert decide.name == "Decide (revised)"
    with services.session_factory() as s:
        assert s.get(ProcessInstance, iid).process_version_id == v2
        assert len(s.scalars(select(HumanTask).where(HumanTask.bpmn_id == "UT_decide")).all()) == 1
    # the later deadline of v2 applies from now on: 13 April + 1 week
    assert decide.due_date.isoformat() == "2026-04-20"
    with services.session_factory() as s:
        assert [d.due_date.isoformat() for d in s.scalars(select(Deadline))] == ["2026-04-20"]
    migrate_instance(engine, iid, v1, world.users["admin"], "undo")  # reversible
    restore_roundtrip(services, iid)
    assert open_task(services, "UT_decide").name == "Decide"
    engine.complete_task(open_task(services, "UT_decide").id, {"decision": "no"})
    with services.session_factory() as s:
        assert s.get(ProcessInstance, iid).status == "completed"


def test_refused_when_a_completed_step_would_change(services: Services, world: World) -> None:
    engine = services.engine
    deploy(services, V1)
    iid = engine.start(world.case_id, "runtime_demo", {"explode": False})
    engine.complete_task(open_task(services, "UT_register").id, {"concern": "x"})
    v2 = deploy(services, V1.replace('name="Register the request"', 'name="Register the referral"'))
    check = plan_migration(engine, iid, v2)
    assert not check.allowed
    assert check.problems == ["completed step Register the request [UT_register] is different in the target version"]
    with pytest.raises(InvalidState, match="cannot move"):
        migrate_instance(engine, iid, v2, None)
    with services.session_factory() as s:
        assert s.get(ProcessInstance, iid).process_version_id != v2


def test_refused_for_other_processes_and_same_version(services: Services, world: World) -> None:
    engine = services.engine
    v1 = deploy(services, V1)
    iid = engine.start(world.case_id, "runtime_demo", {"explode": False})
    with pytest.raises(InvalidState, match="already runs"):
        migrate_instance(engine, iid, v1, None)


def test_version_diff_lists_changes_and_which_instances_could_move(services: Services, world: World) -> None:
    from engine.authoring.version_diff import diff_versions

    engine = services.engine
    v1 = deploy(services, V1)
    waiting = engine.start(world.case_id, "runtime_demo", {"explode": False})  # at UT_register
    moved_on = engine.start(world.case_id, "runtime_demo", {"explode": False})
    with services.session_factory() as s:
        task_id = s.scalars(select(HumanTask.id).where(HumanTask.instance_id == moved_on)).one()
    engine.complete_task(task_id, {"concern": "x"})  # UT_register completed
    v2 = deploy(services, V1.replace('name="Register the request"', 'name="Register the referral"')
                .replace("deadline_at(decision_due)", "deadline_at(add_weeks(decision_due, 1))"))
    with services.session_factory() as s:
        diff = diff_versions(engine, s, v1, v2)
    assert diff.added == [] and diff.removed == []
    # Elements are labelled by their name in the old version.
    assert sorted(diff.changed) == ["Decision due (6 weeks) [TE_decide_due]", "Register the request [UT_register]"]
    assert diff.timers_changed == {"TE_decide_due": ("deadline_at(decision_due)",
                                                     "deadline_at(add_weeks(decision_due, 1))")}
    assert diff.can_migrate == [waiting]
    assert list(diff.cannot_migrate) == [moved_on]
