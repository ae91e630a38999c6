"""Starting a route by hand from the case pages: the links staff and families see, the confirmation page with the
route's start form, the start itself, and what is refused (another family's case, a route that is not theirs, a post
without its CSRF token)."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from engine.library.registry import ProcessRegistry
from engine.runtime.services import Services
from engine.store.models import HumanTask, ProcessInstance
from tests.conftest import World, real_routes
from tests.engine.test_route_starts import give_plan
from tests.web.conftest import text_of


@pytest.fixture(scope="module")
def registry() -> ProcessRegistry:
    return real_routes()


@pytest.fixture
def routes(services: Services, world: World, registry: ProcessRegistry) -> World:
    services.engine.deploy(registry)
    return world


def start_links(page: Any, prefix: str) -> dict[str, str]:
    return {a["href"].rsplit("/", 1)[-1]: a.get_text(strip=True) for a in page.select(f'a[href^="{prefix}"]')}


def count(services: Services, case_id: int, process_id: str) -> int:
    with services.session_factory() as s:
        return s.scalar(select(func.count()).select_from(ProcessInstance).where(
            ProcessInstance.case_id == case_id, ProcessInstance.process_id == process_id)) or 0


def test_the_caseworker_sees_what_may_start_and_starts_an_early_review(services: Services, routes: World,
                                                                       as_user: Any) -> None:
    give_plan(services, routes)
    caseworker = as_user("caseworker")
    prefix = f"/cases/{routes.case_id}/start/"

    links = start_links(caseworker.page(f"/cases/{routes.case_id}"), prefix)
    confirm = caseworker.page(prefix + "annual_review")
    response = caseworker.post(prefix + "annual_review", {"_action": "start"}, status=302)
    after = caseworker.page(response.headers["Location"])

    assert links == {"annual_review": "Start an early review", "plan_amendment": "Propose an amendment to the plan",
                     "cease_plan": "Consider ceasing the plan", "reassessment": "Record a request for a re-assessment",
                     "plan_transfer": "Transfer to another authority", "complaint": "Record a complaint",
                     "tribunal_order": "Carry out a tribunal order"}
    assert confirm.h1.get_text(strip=True) == "Start an early review"
    assert "This starts the route “Review of an EHC plan” on this case" in text_of(confirm)
    assert confirm.select_one('button[name="_action"][value="start"]') is not None
    assert response.headers["Location"] == f"/cases/{routes.case_id}#routes"
    assert "“Review of an EHC plan” has started" in text_of(after)
    assert "annual_review" not in start_links(after, prefix)
    assert count(services, routes.case_id, "annual_review") == 1
    # The page is stale now: starting again says why, and starts nothing.
    again = caseworker.page(prefix + "annual_review")
    assert "already under way on this case" in text_of(again)
    assert again.select_one('button[value="start"]') is None
    caseworker.post(prefix + "annual_review", {"_action": "start"}, status=200)
    assert count(services, routes.case_id, "annual_review") == 1


def test_a_start_form_is_drawn_checked_and_its_answers_given_to_the_route(services: Services, routes: World,
                                                                          as_user: Any) -> None:
    caseworker = as_user("caseworker")
    url = f"/cases/{routes.case_id}/start/ehc_needs_assessment"

    form = caseworker.page(url)
    invalid = caseworker.post(url, {"_action": "start", "requester_type": "parent", "requester_name": "",
                                    "received_at": "2026-02-27 17:30"}, status=200)
    bad_moment = caseworker.post(url, {"_action": "start", "requester_type": "parent", "requester_name": "Sam",
                                       "received_at": "Friday"}, status=200)
    done = caseworker.post(url, {"_action": "start", "requester_type": "parent", "requester_name": "Sam Taylor",
                                 "received_at": "2026-02-27 17:30"}, status=302)

    assert {i["name"] for i in form.select("input[name]")} >= {"requester_type", "requester_name", "received_at"}
    assert "Enter the name of the person who asked" in invalid.get_data(as_text=True)
    assert 'value="2026-02-27 17:30"' in invalid.get_data(as_text=True)  # what was typed is kept
    assert "Enter the date and time the request was received" in bad_moment.get_data(as_text=True)
    assert done.headers["Location"].endswith("#routes")
    with services.session_factory() as s:
        instance = s.scalars(select(ProcessInstance).where(ProcessInstance.process_id == "ehc_needs_assessment")).one()
        task = s.scalars(select(HumanTask).where(HumanTask.instance_id == instance.id,
                                                 HumanTask.bpmn_id == "UT_register")).one()
        wf = services.engine.load_workflow(instance)
        data = next(t.data for t in wf.get_tasks() if t.task_spec.bpmn_id == "UT_register")
    assert task.status == "open"
    assert (data["received_at"], data["decide_by"], data["case_id"]) == (
        "2026-02-27T17:30:00+00:00", "2026-04-13", routes.case_id)


def test_the_family_asks_for_what_is_theirs_from_their_case_page(services: Services, routes: World,
                                                                 as_user: Any) -> None:
    give_plan(services, routes)
    parent = as_user("parent")
    prefix = f"/family/cases/{routes.case_id}/start/"

    links = start_links(parent.page(f"/family/cases/{routes.case_id}"), prefix)
    confirm = parent.page(prefix + "reassessment")
    response = parent.post(prefix + "reassessment", {"_action": "start"}, status=302)
    after = parent.page(response.headers["Location"])

    assert links == {"reassessment": "Ask for a re-assessment", "plan_amendment": "Ask for an amendment to the plan",
                     "complaint": "Make a complaint"}
    assert confirm.h1.get_text(strip=True) == "Ask for a re-assessment"
    assert "must tell you within 15 days whether it will re-assess" in text_of(confirm)
    assert routes.la.name not in (confirm.select_one(".govuk-caption-l").get_text() or "")
    assert response.headers["Location"] == f"/family/cases/{routes.case_id}#progress"
    assert "Your request has been sent to the local authority" in text_of(after)
    assert count(services, routes.case_id, "reassessment") == 1
    # The re-assessment closes the door on an amendment while it runs.
    assert start_links(after, prefix) == {"complaint": "Make a complaint"}
    again = parent.page(prefix + "reassessment")
    assert "“Ask for a re-assessment” is already being dealt with on this case" in text_of(again)
    assert again.select_one('button[value="start"]') is None


def test_what_is_not_theirs_is_refused_and_starts_nothing(services: Services, routes: World, as_user: Any) -> None:
    give_plan(services, routes)
    parent, other_parent, school = as_user("parent"), as_user("other_parent"), as_user("school")
    family_url = f"/family/cases/{routes.case_id}/start/"
    staff_url = f"/cases/{routes.case_id}/start/"

    other_parent.get(family_url + "reassessment", status=404)
    other_parent.post(family_url + "reassessment", {"_action": "start"}, status=404)
    parent.get(family_url + "cease_plan", status=403)
    parent.post(family_url + "cease_plan", {"_action": "start"}, status=403)
    parent.get(staff_url + "complaint", status=403)  # the staff pages are not the family's
    parent.get(family_url + "mediation", status=404)  # never started by hand
    parent.get(family_url + "no_such_route", status=404)
    school.get(staff_url + "complaint", status=403)
    assert start_links(school.page(f"/cases/{routes.case_id}"), staff_url) == {}
    with services.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(ProcessInstance)) == 0


def test_a_route_that_cannot_start_now_says_why(services: Services, routes: World, as_user: Any) -> None:
    page = as_user("caseworker").page(f"/cases/{routes.case_id}/start/annual_review")

    assert "is not possible on this case at the moment: the case has no EHC plan in force" in text_of(page)
    assert page.select_one('button[value="start"]') is None


def test_starting_needs_the_csrf_token(services: Services, routes: World, as_user: Any) -> None:
    caseworker, parent = as_user("caseworker"), as_user("parent")

    caseworker.post(f"/cases/{routes.case_id}/start/complaint", {"_action": "start"}, token=False, status=400)
    parent.post(f"/family/cases/{routes.case_id}/start/complaint", {"_action": "start"}, token=False, status=400)

    assert count(services, routes.case_id, "complaint") == 0
