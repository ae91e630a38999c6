"""A route that another route fails to start is kept for an administrator as a failed instance with an incident,
not only as a line in the case's history; fixing its data and retrying starts it (issue 14).

The routes here are stand-ins on purpose: the test is about the mechanism (``startsRoute`` in
engine/casework/route_links.py), not about a hand-off between the shipped routes (tests/workflows/test_handoffs_*).
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.admin import instance_repair as repair
from engine.admin.instance_admin import InstanceFilters, administered_org_ids, instance_list
from engine.admin.instance_repair import live_data
from engine.library.registry import ProcessRegistry
from engine.runtime.services import Services
from engine.store.models import AuditEvent, HumanTask, Incident, ProcessInstance
from tests.conftest import World
from tests.engine.bpmn_builder import script_then_task
from tests.engine.test_runtime import DATA, restore_roundtrip


@pytest.fixture
def parent_id(services: Services, world: World) -> int:
    """``parent`` starts ``child`` with ``{"given": 1}``; the child's first script needs ``needed`` as well."""
    texts = {
        "workflows/parent.bpmn": script_then_task("parent", "asked = True", properties={
            "startsRoute": "child", "startsRouteData": '{"given": 1}'}),
        "workflows/child.bpmn": script_then_task("child", "total = given + needed"),
    }
    services.engine.deploy(ProcessRegistry.from_texts(texts, DATA / "forms"))
    return services.engine.start(world.case_id, "parent", {}, world.users["caseworker"])


def _child(services: Services) -> ProcessInstance:
    with services.session_factory() as s:
        return s.scalars(select(ProcessInstance).where(ProcessInstance.process_id == "child")).one()


def test_the_route_that_could_not_start_is_a_failed_instance_with_an_incident(services: Services, world: World,
                                                                               parent_id: int) -> None:
    child = _child(services)
    assert child.status == "failed" and child.parent_instance_id == parent_id
    assert child.last_error is not None and child.last_error["element_id"] == "ST_script"
    assert "needed" in child.last_error["message"]
    restore_roundtrip(services, child.id)
    with services.session_factory() as s:
        incident = s.scalars(select(Incident).where(Incident.instance_id == child.id)).one()
        assert incident.command == "start" and incident.resolved_at is None
        assert incident.element_id == "ST_script"
        # The starting route carried on to its own next task.
        assert s.scalars(select(HumanTask).where(HumanTask.instance_id == parent_id)).one().bpmn_id == "UT_next"
        history = {e.action for e in s.scalars(select(AuditEvent).where(AuditEvent.case_id == world.case_id))}
        assert "route_start_failed" in history
        # The administrator of the case's LA finds it among the failed instances.
        mine = administered_org_ids(s, world.users["admin"].id)
        failed = instance_list(s, mine, InstanceFilters(status="failed"), services.engine.clock.today(),
                               services.engine.clock.now())
        assert [r.id for r in failed.page.rows] == [child.id]


def test_retry_after_the_data_is_corrected_starts_the_route(services: Services, world: World,
                                                            parent_id: int) -> None:
    engine = services.engine
    child = _child(services)
    admin = world.users["admin"]
    with services.session_factory() as s:
        data = live_data(engine.load_workflow(s.get(ProcessInstance, child.id)))
    # The failed instance keeps the data it was started with, for the administrator to correct.
    assert data["given"] == 1 and data["case_id"] == world.case_id and "needed" not in data
    changes = repair.edit_data(engine, child.id, {**data, "needed": 2}, admin, "the order left out the number")
    assert changes["new"] == {"needed": 2} and changes["removed"] == []
    engine.retry(child.id, admin, "data corrected")
    child = restore_roundtrip(services, child.id)
    assert child.status == "waiting_person" and child.last_error is None
    with services.session_factory() as s:
        task = s.scalars(select(HumanTask).where(HumanTask.instance_id == child.id)).one()
        assert task.bpmn_id == "UT_next" and task.status == "open"
        assert s.scalars(select(Incident).where(Incident.instance_id == child.id)).one().resolved_at is not None


def test_retry_without_a_fix_fails_again_and_keeps_the_instance_failed(services: Services, world: World,
                                                                       parent_id: int) -> None:
    child = _child(services)
    with pytest.raises(Exception, match="could not|went wrong"):
        services.engine.retry(child.id, world.users["admin"], "try again")
    assert restore_roundtrip(services, child.id).status == "failed"
