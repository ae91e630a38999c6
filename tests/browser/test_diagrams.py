"""Readable diagrams (issue 17, point 9): a route's diagram opens at a readable zoom centred on the current step, with
zoom buttons, its timers labelled with the deadline they watch and its call activities captioned with the route they
start. Two page loads: an instance's admin page (current step and timer) and a route version's page (call activities).
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from engine.library.registry import ProcessRegistry
from engine.store.models import HumanTask, ProcessVersion
from tests.browser.conftest import ROOT, LiveServer
from tests.browser.test_journey import fast_password_hashing, sign_in  # noqa: F401  (the fixture is used)
from tests.conftest import real_routes

pytestmark = pytest.mark.browser
DATA = ROOT / "tests" / "engine" / "data"
DEADLINE_NAME = "Decision made (6 weeks from the request)"


def zoom(page: Any) -> float:
    return float(page.locator("#diagram").get_attribute("data-zoom"))


def test_a_diagram_opens_readable_on_the_current_step_with_captions(live_server: LiveServer, new_page: Any,
                                                                      page_errors: list[str]) -> None:
    server, world = live_server, live_server.world
    engine = server.services.engine
    # The demo route's timer, given the name of the deadline it watches (as the shipped routes do).
    text = (DATA / "runtime_demo.bpmn").read_text().replace(
        '<spiffworkflow:property name="deadline" value="decide" />',
        '<spiffworkflow:property name="deadline" value="decide" />'
        f'<spiffworkflow:property name="deadlineName" value="{DEADLINE_NAME}" />')
    assert DEADLINE_NAME in text
    engine.deploy(ProcessRegistry.from_texts({"workflows/runtime_demo.bpmn": text}, DATA / "forms"))
    engine.deploy(real_routes())
    iid = engine.start(world.case_id, "runtime_demo", {"explode": False}, world.users["caseworker"])
    with server.services.session_factory() as s:
        task_id = s.scalars(select(HumanTask.id).where(HumanTask.instance_id == iid)).one()
    engine.complete_task(task_id, {"concern": "speech"}, world.users["caseworker"])  # on to "Decide", timer running
    with server.services.session_factory() as s:
        review_version = s.scalars(select(ProcessVersion.id).where(ProcessVersion.process_id == "annual_review",
                                                                   ProcessVersion.is_current)).one()

    page = new_page()
    sign_in(page, server, "admin")
    page.goto(f"{server.url}/admin/instances/{iid}")
    page.wait_for_selector("#diagram[data-diagram-ready='true']", state="attached")
    assert page.locator("#diagram").get_attribute("data-current") == "UT_decide"
    # Readable, not shrunk to fit: the demo fits its 1200px frame only below 1.0, so "fit" must change the zoom.
    assert zoom(page) == 1.0
    frame = page.locator("#diagram").bounding_box()
    step = page.locator("#diagram .djs-element.ehc-current[data-element-id='UT_decide']").bounding_box()
    centre_x, centre_y = step["x"] + step["width"] / 2, step["y"] + step["height"] / 2
    assert frame["x"] + frame["width"] * 0.3 < centre_x < frame["x"] + frame["width"] * 0.7
    assert frame["y"] + frame["height"] * 0.3 < centre_y < frame["y"] + frame["height"] * 0.7
    assert step["width"] >= 90  # a 100-unit task drawn at full size, so its name can be read

    # The timer says which deadline it watches.
    assert page.locator(".ehc-diagram-note--deadline").inner_text() == f"Deadline: {DEADLINE_NAME}"

    # The zoom buttons, by their accessible names, and from the keyboard.
    page.get_by_role("button", name="Zoom in on the diagram of runtime_demo.bpmn").click()
    assert zoom(page) == 1.25
    page.get_by_role("button", name="Zoom out of the diagram of runtime_demo.bpmn").focus()
    page.keyboard.press("Enter")
    assert zoom(page) == 1.0
    page.get_by_role("button", name="Show the whole diagram of runtime_demo.bpmn").click()
    assert zoom(page) < 1.0

    # A version's page: each call activity is captioned with the name of the route it starts.
    page.goto(f"{server.url}/routes/versions/{review_version}")
    page.wait_for_selector("#diagram[data-diagram-ready='true']", state="attached")
    assert zoom(page) == 1.0
    captions = page.locator(".ehc-diagram-note--route").all_inner_texts()
    assert "Starts the route: Amending an EHC plan" in captions
    assert "Starts the route: Ceasing to maintain an EHC plan" in captions
    assert any(t.startswith("Deadline: Phase transfer") for t in page.locator(".ehc-diagram-note--deadline")
               .all_inner_texts())
    assert page_errors == []
