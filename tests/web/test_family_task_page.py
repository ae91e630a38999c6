"""The family's task page in plain English (issue 17, point 7): no staff words, one introduction, questions as
yes/no questions rather than "Tick this if...", and the follow-up question inside the answer that asks for it."""

from __future__ import annotations

from typing import Any

import pytest

from engine.runtime.services import Services
from engine.runtime.workflow_engine import WorkflowEngine
from tests.conftest import ROOT, World, deploy_files
from tests.web.conftest import DATA, open_task, text_of

STAFF_WORDS = ("Route", "Assigned to", "Not assigned to anyone yet", "Real forms test route", "Tick this")


@pytest.fixture
def family_task(engine: WorkflowEngine, world: World, services: Services) -> int:
    deploy_files(engine, [DATA / "reveal_route.bpmn"], ROOT / "forms")
    engine.start(world.case_id, "reveal_route")
    return open_task(services, world.case_id, "UT_family_response").id


def test_the_family_page_speaks_to_the_parent(as_user: Any, family_task: int) -> None:
    """The clock stands at Monday 2 March 2026; the task is due 14 days later, Monday 16 March 2026."""
    page = as_user("parent").page(f"/tasks/{family_task}")
    main = page.select_one("main")
    words = text_of(main)
    for staff_word in STAFF_WORDS:
        assert staff_word not in words, staff_word
    assert page.select_one(".govuk-summary-list") is None
    assert "Send this by 16 March 2026" in words
    # One introduction: the form's, not the route's documentation as well.
    assert words.count("Tell us what you think of the draft plan.") == 1
    assert "Tell the local authority what you think" not in words
    assert page.select_one(".govuk-inset-text") is None
    # Questions a parent answers yes or no to, each a question.
    legends = [text_of(legend) for legend in page.select("legend")]
    for question in ("Would you like a meeting with us to talk about it?",
                     "Do you want to ask us to name a school or college in the plan?",
                     "Do you want to ask for a personal budget?", "Have you finished commenting?"):
        assert question in legends, question
    assert [r["value"] for r in page.select("input[name=no_further_comments]")] == ["yes", "no"]
    # The school or college is asked for inside "Yes" to naming one.
    yes = page.select_one("input[name=request_setting][value=yes]")
    assert page.select_one("#" + yes["data-aria-controls"]).select_one("[name=requested_setting_id]") is not None
    assert "We sign you out after" in words


def test_staff_still_see_the_route_and_who_it_is_assigned_to(as_user: Any, world: World, services: Services,
                                                              family_task: int) -> None:
    staff_task = open_task(services, world.case_id, "UT_decide_assess")
    words = text_of(as_user("caseworker").page(f"/tasks/{staff_task.id}").select_one("main"))
    assert "Route" in words and "Not assigned to anyone yet" in words
