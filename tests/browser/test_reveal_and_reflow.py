"""In a real browser: a follow-up question is revealed by its answer with JavaScript and shown without it (issue 17,
point 4), and the task list, admin instances and case pages do not scroll sideways at 320 px (point 8)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import DATA, ROOT, LiveServer
from tests.browser.test_journey import fast_password_hashing, sign_in  # noqa: F401 - fixture used by every test
from tests.conftest import deploy_files

pytestmark = pytest.mark.browser

# The elements that reach past the right edge of the window, innermost first: what to fix when a page is too wide.
WIDEST = """[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > window.innerWidth + 1
  && ![...e.children].some(c => c.getBoundingClientRect().right > window.innerWidth + 1))
  .slice(0, 5).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + '.' + [...e.classList].join('.')
  + ' ' + Math.round(e.getBoundingClientRect().right))"""


def _decide_assess(server: LiveServer) -> int:
    from sqlalchemy import select

    from engine.store.models import HumanTask

    deploy_files(server.services.engine, [DATA / "reveal_route.bpmn"], ROOT / "forms")
    server.services.engine.start(server.world.case_id, "reveal_route")
    with server.services.session_factory() as s:
        return s.scalars(select(HumanTask.id).where(HumanTask.bpmn_id == "UT_decide_assess")).one()


def test_reasons_appear_only_when_the_answer_is_no(live_server: LiveServer, new_page: Any,
                                                   page_errors: list[str]) -> None:
    task_id = _decide_assess(live_server)
    page = new_page()
    sign_in(page, live_server, "caseworker")
    page.goto(f"{live_server.url}/tasks/{task_id}")
    reasons = page.locator("textarea[name=assess_decision_reasons]")
    assert not reasons.is_visible()
    page.get_by_label("Do not carry out an EHC needs assessment").check()
    assert reasons.is_visible()
    page.get_by_label("Carry out an EHC needs assessment", exact=True).check()
    assert not reasons.is_visible()
    assert page_errors == []


def test_without_javascript_every_follow_up_is_shown(live_server: LiveServer, new_page: Any) -> None:
    task_id = _decide_assess(live_server)
    page = new_page(java_script_enabled=False)
    sign_in(page, live_server, "caseworker")
    page.goto(f"{live_server.url}/tasks/{task_id}")
    assert page.locator("textarea[name=assess_decision_reasons]").is_visible()


@pytest.mark.parametrize("role", ["caseworker", "admin", "processowner", "parent"])
def test_nothing_scrolls_sideways_at_320_px(live_server: LiveServer, new_page: Any, role: str) -> None:
    case_id = live_server.world.case_id
    task_id = _decide_assess(live_server)
    live_server.services.engine.start(case_id, "web_route")
    page = new_page(viewport={"width": 320, "height": 640})
    sign_in(page, live_server, role)
    urls = {"caseworker": ["/tasks/", "/tasks/team", f"/cases/{case_id}", "/cases/", f"/tasks/{task_id}",
                           f"/cases/{case_id}/contact-log"],
            "admin": ["/admin/instances"], "processowner": ["/routes/"],
            "parent": [f"/family/cases/{case_id}"]}[role]
    for url in urls:
        response = page.goto(live_server.url + url)
        assert response is not None and response.status == 200, url
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 320, f"{url} is {width} px wide at 320 px: {page.evaluate(WIDEST)}"
