"""Issue 15 in the admin console: the data edit page refuses what is not plain data, and an instance damaged the way
the issue describes (a nested ``typename`` in its saved data) still has a page that opens and is repaired from its
"Repair the saved data" page (GET shows, POST with the CSRF token acts, audited with the reason), then runs on."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import select

from engine.errors import InstanceFailed
from engine.runtime.services import Services
from engine.runtime.workflow_engine import WorkflowEngine
from engine.store.models import HumanTask, ProcessInstance
from tests.conftest import World
from tests.web.conftest import soup, text_of
from tests.web.test_admin_instances import confirm, deploy_demo, last_event, status_of, task_of

BROKEN = {"summary": "ok", "by": {"typename": "NoSuchThing", "name": "EP"}}


@pytest.fixture
def damaged(engine: WorkflowEngine, services: Services, world: World) -> int:
    """The demo route waiting at UT_decide with a value the serializer cannot read written into its saved state
    (bypassing the guards), after which the manager's completion of the task failed: the instance is failed."""
    deploy_demo(engine)
    iid = engine.start(world.case_id, "runtime_demo", {"explode": False}, world.users["caseworker"])
    engine.complete_task(task_of(services, iid, "UT_register").id, {"concern": "x"}, world.users["caseworker"])
    with services.session_factory() as s:
        instance = s.get(ProcessInstance, iid)
        assert instance is not None
        wf = engine.load_workflow(instance)
        wf.get_next_task(spec_name="UT_decide").data["advice"] = BROKEN
        instance.state = engine.serializer.dumps(wf)
        s.commit()
    with pytest.raises(InstanceFailed):
        engine.complete_task(task_of(services, iid, "UT_decide").id, {"decision": "no"}, world.users["manager"])
    return iid


def test_the_data_edit_page_refuses_the_serializers_own_shapes(as_user: Any, engine: WorkflowEngine,
                                                               services: Services, world: World) -> None:
    deploy_demo(engine)
    iid = engine.start(world.case_id, "runtime_demo", {"explode": False}, world.users["caseworker"])
    admin = as_user("admin")
    url = f"/admin/instances/{iid}/data"
    current = json.loads(admin.page(url).select_one("#data").get_text())
    for bad in (BROKEN, [{"typename": "UUID"}], {"typename": "datetime", "value": "2026-01-01T00:00:00"}):
        refused = confirm(admin, url, {"data": json.dumps({**current, "advice": bad}), "reason": "typed"})
        assert refused.status_code == 200
        assert "reserved by the workflow engine" in text_of(soup(refused))
    assert last_event(services, "data_edited") is None
    assert status_of(services, iid) == "waiting_person"


def test_a_damaged_instance_shows_its_page_and_is_repaired_from_the_console(as_user: Any, services: Services,
                                                                           world: World, damaged: int) -> None:
    admin = as_user("admin")
    page = admin.page(f"/admin/instances/{damaged}")
    assert "The saved state could not be read" in text_of(page.select_one("#data-error"))
    assert page.select_one("#failure") is not None and page.select_one("#incidents") is not None
    assert page.select_one("#audit") is not None
    url = page.select_one("#repair-data")["href"]
    assert url == f"/admin/instances/{damaged}/repair-data"

    shown = admin.page(url)
    assert "task UT_decide (ready): data.advice.by" in text_of(shown)
    stored = json.loads(shown.select_one("#data").get_text())
    assert stored["advice"] == BROKEN and stored["concern"] == "x"
    # Without the CSRF token, or by another authority's admin: refused, nothing changes.
    assert admin.post(url, {"data": "{}", "reason": "x"}, token=False).status_code == 400
    other = as_user("other_admin")
    other.get("/admin/")
    assert other.post(url, {"data": json.dumps(stored), "reason": "x"}).status_code == 404
    # Sent back as stored: refused like any data that is not plain.
    refused = confirm(admin, url, {"data": json.dumps(stored), "reason": "repair"})
    assert refused.status_code == 200 and "reserved by the workflow engine" in text_of(soup(refused))
    no_reason = confirm(admin, url, {"data": json.dumps({**stored, "advice": {"summary": "ok"}}), "reason": ""})
    assert no_reason.status_code == 200 and "Enter the reason" in text_of(soup(no_reason))
    assert last_event(services, "state_repaired") is None

    fixed = {**stored, "advice": {"summary": "ok", "by": {"name": "EP"}}}
    done = confirm(admin, url, {"data": json.dumps(fixed), "reason": "the EP's name had the wrong shape"})
    assert done.status_code == 302
    event = last_event(services, "state_repaired")
    assert event is not None and event.actor_id == world.users["admin"].id
    assert event.detail["reason"] == "the EP's name had the wrong shape"
    assert event.detail["new"] == {"advice": {"summary": "ok", "by": {"name": "EP"}}}
    repaired = admin.page(f"/admin/instances/{damaged}")
    assert repaired.select_one("#data-error") is None
    assert json.loads(repaired.select_one("#instance-data").get_text())["advice"]["by"] == {"name": "EP"}
    assert "nothing to repair" in text_of(admin.page(url).select_one("#refusal"))

    # Still failed until the failed step is retried; the retry completes the manager's task and the route ends.
    assert status_of(services, damaged) == "failed"
    assert confirm(admin, f"/admin/instances/{damaged}/retry", {"reason": "data repaired"}).status_code == 302
    assert status_of(services, damaged) == "completed"
    with services.session_factory() as s:
        decide = s.scalars(select(HumanTask).where(HumanTask.instance_id == damaged,
                                                   HumanTask.bpmn_id == "UT_decide")).one()
        assert decide.status == "completed" and decide.completed_by_id == world.users["manager"].id


def test_a_state_that_is_not_json_is_refused_with_what_can_still_be_done(as_user: Any, services: Services,
                                                                        damaged: int) -> None:
    with services.session_factory() as s:
        instance = s.get(ProcessInstance, damaged)
        assert instance is not None
        instance.state = "{not json"
        s.commit()
    refusal = text_of(as_user("admin").page(f"/admin/instances/{damaged}/repair-data").select_one("#refusal"))
    assert "not even JSON" in refusal and "end it" in refusal
