"""A process owner changes a timer in a route in a real browser: uploads the file, sees the check, deploys it, sees
the difference from the old version on its diagram, and moves the running instance to the new version."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from engine.store.models import ProcessInstance
from tests.browser.conftest import DATA, LiveServer, screenshot
from tests.browser.test_journey import fast_password_hashing, sign_in  # noqa: F401  (the fixture is used)

pytestmark = pytest.mark.browser
SIX_WEEKS = "deadline_at(add_weeks(started_on, 6))"


def test_a_process_owner_changes_a_timer_deploys_and_moves_a_running_instance(
        live_server: LiveServer, new_page: Any, page_errors: list[str], tmp_path: Path) -> None:
    server, world = live_server, live_server.world
    running = server.services.engine.start(world.case_id, "web_route")
    with server.services.session_factory() as s:
        old_version = s.get(ProcessInstance, running).process_version_id
    changed = tmp_path / "web_route.bpmn"
    text = (DATA / "web_route.bpmn").read_text()
    assert SIX_WEEKS in text
    changed.write_text(text.replace(SIX_WEEKS, "deadline_at(add_weeks(started_on, 8))"))

    page = new_page()
    sign_in(page, server, "processowner")
    page.get_by_role("link", name="Routes").first.click()
    page.goto(f"{server.url}/routes/upload")
    page.set_input_files("#files", str(changed))
    page.get_by_role("button", name="Upload and check").click()
    assert "The check found no problems" in page.inner_text("main")
    page.get_by_role("button", name="Deploy 1 new version").click()
    assert "New cases start on the new version" in page.inner_text("main")
    page.wait_for_selector(".ehc-diagram[data-diagram-ready='true']", state="attached")

    page.locator(f"a[href^='/routes/versions/{old_version}/compare/']").first.click()
    main = page.inner_text("main")
    assert "add_weeks(started_on, 8)" in main and "add_weeks(started_on, 6)" in main
    page.wait_for_selector(".ehc-diagram[data-diagram-ready='true']", state="attached")
    screenshot(page, "route-compare")
    page.locator(f"#instance-{running}").check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Move 1 instance").click()
    assert "1 instance moved to version" in page.inner_text("h1")
    with server.services.session_factory() as s:
        assert s.get(ProcessInstance, running).process_version_id != old_version
    assert page_errors == []
