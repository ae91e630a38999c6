"""The main journey in a real browser: a caseworker finds a task and completes its form (first with an error), the
parent of that case then sees the result, and the case's diagram shows the current step. Screenshots of the main
pages are kept in docs/screenshots/."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.conftest import LiveServer, screenshot
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    from argon2 import PasswordHasher

    import engine.people.passwords

    monkeypatch.setattr(engine.people.passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


def sign_in(page: Any, server: LiveServer, key: str) -> None:
    page.goto(server.url + "/sign-in")
    page.get_by_label("Email address").fill(server.world.users[key].email)
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()


def sign_out(page: Any) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(re.compile(r".*/sign-in$"))


def test_caseworker_completes_a_task_and_the_parent_sees_the_result(live_server: LiveServer, new_page: Any,
                                                                    page_errors: list[str]) -> None:
    server = live_server
    world = server.world
    server.services.engine.start(world.case_id, "web_route")
    page = new_page()

    page.goto(server.url + "/sign-in")
    screenshot(page, "sign-in")
    # A wrong password first: a clear message, and nothing about which part was wrong.
    page.get_by_label("Email address").fill(world.users["caseworker"].email)
    page.get_by_label("Password", exact=True).fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    assert page.locator(".govuk-error-summary").inner_text().count("Enter a correct email address and password")
    sign_in(page, server, "caseworker")
    assert page.url.endswith("/tasks/")
    assert page.locator(".ehc-header__organisation").inner_text().strip() == "Testshire Council"

    # Find the task by the child's name.
    page.get_by_label("Child's name or case reference").fill("taylor")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(re.compile(r".*q=taylor"))
    assert page.locator("tbody tr").count() == 1
    screenshot(page, "my-tasks")
    page.get_by_role("link", name="Record the request").click()
    page.wait_for_url(re.compile(r".*/tasks/\d+$"))
    screenshot(page, "task-form")

    # Submit with mistakes: GOV.UK error summary (focused), messages by the fields, "Error:" in the title.
    page.get_by_label("What the request is about").fill("Speech and language needs")
    page.locator("#field-received_on-day").fill("31")
    page.locator("#field-received_on-month").fill("2")
    page.locator("#field-received_on-year").fill("2026")
    page.get_by_role("button", name="Submit", exact=True).click()
    page.wait_for_load_state()
    assert page.title().startswith("Error: Record the request")
    summary = page.locator(".govuk-error-summary")
    assert summary.is_visible()
    assert "Date the request was received must be a real date" in summary.inner_text()
    assert "Select who made the request" in summary.inner_text()
    assert page.evaluate("document.activeElement.classList.contains('govuk-error-summary')")
    assert page.get_by_label("What the request is about").input_value() == "Speech and language needs"
    screenshot(page, "task-form-errors")
    # The summary's link takes you to the field.
    summary.get_by_role("link", name="Date the request was received must be a real date").click()
    assert page.evaluate("document.activeElement.id") == "field-received_on-day"

    # Then correctly.
    page.locator("#field-received_on-day").fill("2")
    page.locator("#field-received_on-month").fill("3")
    page.get_by_label("A parent").check()
    page.locator("#field-urgent-2").check()  # No
    page.get_by_label("Communication and interaction").check()
    page.locator("input[name='contacts[0].name']").fill("Dr Rivers")
    page.get_by_role("button", name="Add another contact").click()
    page.wait_for_load_state()
    assert page.locator("input[name='contacts[1].name']").count() == 1
    assert page.locator("input[name='contacts[0].name']").input_value() == "Dr Rivers"
    page.get_by_role("button", name="Submit", exact=True).click()
    page.wait_for_url(re.compile(r".*/tasks/$"))
    assert "Done: Record the request" in page.locator(".govuk-notification-banner").inner_text()

    # The case page: the diagram (bpmn-js, served by the app) highlights the current step, the family's task.
    page.goto(f"{server.url}/cases/{world.case_id}")
    diagram = page.locator(".ehc-diagram").first
    page.wait_for_selector(".ehc-diagram[data-diagram-ready]", timeout=20000)
    assert diagram.get_attribute("data-diagram-ready") == "true"
    assert diagram.get_attribute("data-current") == "UT_views"
    assert page.locator(".ehc-diagram .djs-element.ehc-current[data-element-id='UT_views']").count() == 1
    assert page.locator(".ehc-diagram .djs-element.ehc-done[data-element-id='UT_record']").count() == 1
    diagram.scroll_into_view_if_needed()
    screenshot(page, "case")
    sign_out(page)

    # The parent signs in and sees where things are: their turn now.
    sign_in(page, server, "parent")
    assert page.url.endswith("/family/")
    screenshot(page, "family-cases")
    page.get_by_role("link", name="Alex Taylor").click()
    todo = page.locator("#to-do + ul")
    assert "Give your views" in todo.inner_text()
    assert "You: Give your views" in page.locator(".ehc-route-card").first.inner_text()
    screenshot(page, "family-case")
    page.get_by_role("link", name="Give your views").click()
    page.get_by_label("Your views").fill("We agree that Alex needs an assessment.")
    page.get_by_role("button", name="Submit", exact=True).click()
    page.wait_for_url(re.compile(r".*/family/cases/\d+$"))
    assert "Done: Give your views" in page.locator(".govuk-notification-banner").inner_text()
    assert "Testshire Council: Decide" in page.locator(".ehc-route-card").first.inner_text()
    sign_out(page)

    # No script was refused by the content security policy, and none failed.
    assert page_errors == []


def test_family_view_on_a_phone(live_server: LiveServer, new_page: Any, page_errors: list[str]) -> None:
    server = live_server
    server.services.engine.start(server.world.case_id, "web_route")
    page = new_page(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True, device_scale_factor=2)
    sign_in(page, server, "parent")
    page.goto(f"{server.url}/family/cases/{server.world.case_id}")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, "the page must not scroll sideways on a phone"
    assert page.locator("h1").inner_text() == "Alex Taylor"
    screenshot(page, "family-case-phone")
    assert page_errors == []


def test_pages_work_without_javascript(live_server: LiveServer, new_page: Any) -> None:
    server = live_server
    server.services.engine.start(server.world.case_id, "web_route")
    page = new_page(java_script_enabled=False)
    sign_in(page, server, "caseworker")
    page.goto(f"{server.url}/cases/{server.world.case_id}")
    routes = page.locator("#routes ~ section").first.inner_text()
    assert "Current step:" in routes and "Record the request" in routes
    assert not page.locator(".ehc-diagram").first.is_visible()  # drawn only with JavaScript
    page.get_by_role("link", name="Record the request").first.click()
    page.get_by_role("button", name="Add another contact").click()
    assert page.locator("input[name='contacts[1].name']").count() == 1
    page.get_by_role("button", name="Submit", exact=True).click()
    assert page.title().startswith("Error:")


def test_team_tasks_and_an_exception_screens(live_server: LiveServer, new_page: Any,
                                             page_errors: list[str]) -> None:
    """Screenshots of the manager's team list and the statutory clock with an exception being recorded."""
    server = live_server
    engine = server.services.engine
    world = server.world
    engine.start(world.case_id, "web_route")
    from tests.web.conftest import open_task

    record = open_task(server.services, world.case_id, "UT_record")
    engine.complete_task(record.id, {"concern": "x", "received_on": "2026-03-02", "request_from": "parent",
                                     "urgent": False})
    engine.complete_task(open_task(server.services, world.case_id, "UT_views").id, {"views": "ok"})
    engine.start(world.case_id, "web_route")
    page = new_page()
    sign_in(page, server, "manager")
    page.goto(server.url + "/tasks/team")
    screenshot(page, "team-tasks")
    page.goto(f"{server.url}/cases/{world.case_id}")
    page.get_by_role("link", name=re.compile("Record an exception")).first.click()
    page.get_by_label(re.compile("The school or setting was closed")).check()
    page.get_by_label("Evidence").fill("The school was closed for five weeks after a flood.")
    screenshot(page, "record-exception")
    assert page_errors == []
