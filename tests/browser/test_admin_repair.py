"""An administrator finds a failed instance, sees where it failed on its diagram, corrects its data and retries
the step, in a real browser, without touching the database."""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from engine.errors import InstanceFailed
from engine.library.registry import ProcessRegistry
from engine.store.models import HumanTask, ProcessInstance
from tests.browser.conftest import ROOT, LiveServer, screenshot
from tests.browser.test_journey import fast_password_hashing, sign_in  # noqa: F401  (the fixture is used)

pytestmark = pytest.mark.browser
DATA = ROOT / "tests" / "engine" / "data"


def test_an_admin_repairs_a_failed_instance(live_server: LiveServer, new_page: Any, page_errors: list[str]) -> None:
    server, world = live_server, live_server.world
    engine = server.services.engine
    engine.deploy(ProcessRegistry.from_texts(
        {"workflows/runtime_demo.bpmn": (DATA / "runtime_demo.bpmn").read_text()}, DATA / "forms"))
    iid = engine.start(world.case_id, "runtime_demo", {"explode": True}, world.users["caseworker"])
    with server.services.session_factory() as s:
        task_id = s.scalars(select(HumanTask.id).where(HumanTask.instance_id == iid)).one()
    with pytest.raises(InstanceFailed):
        engine.complete_task(task_id, {"concern": "speech"}, world.users["caseworker"])

    page = new_page()
    sign_in(page, server, "admin")
    page.get_by_role("link", name="Admin").first.click()
    assert page.locator("#count-failed").inner_text().startswith("1")
    page.locator("#count-failed a").click()
    page.locator(f"a[href='/admin/instances/{iid}']").first.click()
    page.wait_for_url(f"**/admin/instances/{iid}")
    # The diagram is drawn by bpmn-js (served by the app) with the failed element marked.
    page.wait_for_selector(".ehc-diagram .ehc-failed", state="attached")
    assert "division by zero" in page.inner_text("main")
    screenshot(page, "admin-failed-instance")

    page.get_by_role("link", name="Change the instance data").click()
    data = json.loads(page.locator("#data").input_value())
    assert data["explode"] is True
    data["explode"] = False
    page.locator("#data").fill("{ not json")
    page.locator("#reason").fill("The request was sent with a test flag")
    page.get_by_role("button", name="Save the data").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()  # waits for the page the form posts back
    assert page.locator("#data").input_value() == "{ not json"  # what was typed is kept
    page.locator("#data").fill(json.dumps(data, indent=2))
    page.get_by_role("button", name="Save the data").click()

    page.get_by_role("link", name="Retry the failed step").click()
    page.locator("#reason").fill("Data corrected")
    page.get_by_role("button", name="Retry the step").click()
    page.wait_for_load_state()
    with server.services.session_factory() as s:
        assert s.get(ProcessInstance, iid).status == "waiting_person"  # on to the decision, with its deadline
    assert page_errors == []
