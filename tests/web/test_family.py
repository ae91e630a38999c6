"""The family's view: only their own cases, where each route is and what is next, their tasks and documents."""

from __future__ import annotations

from typing import Any

from engine.runtime.services import Services
from engine.runtime.workflow_engine import WorkflowEngine
from engine.statutory.clock import FrozenClock
from engine.store.models import CaseParty
from tests.conftest import World
from tests.web.conftest import ROUTE, open_task, text_of
from tests.web.test_cases import ADVICE, DRAFT, add_document, section
from tests.web.test_task_lists import to_decide


def test_a_parent_sees_only_their_own_cases(as_user: Any, world: World) -> None:
    page = as_user("parent").page("/family/")
    assert [a.get_text() for a in page.select("h2 a")] == ["Alex Taylor"]
    assert page.select_one("h2 a")["href"] == f"/family/cases/{world.case_id}"
    assert [a.get_text() for a in as_user("other_parent").page("/family/").select("h2 a")] == ["Bo Other"]
    as_user("parent").get(f"/family/cases/{world.other_case_id}", status=404)
    as_user("parent").get(f"/cases/{world.case_id}", status=403)  # the staff case page is not for families


def test_where_things_are_and_what_is_next(as_user: Any, world: World, started: int, services: Services,
                                           engine: WorkflowEngine) -> None:
    page = as_user("parent").page(f"/family/cases/{world.case_id}")
    assert page.select_one("h1").get_text() == "Alex Taylor"
    assert "There is nothing for you to do at the moment" in section(page, "to-do")
    assert "Testshire Council: Record the request (by 5 March 2026)" in section(page, "progress")
    to_decide(engine, services, world, world.case_id)
    page = as_user("parent").page(f"/family/cases/{world.case_id}")
    assert "Testshire Council: Decide" in section(page, "progress")
    assert "Decision due (6 weeks) By 13 April 2026 42 days left" in section(page, "dates")
    # No staff details: no case timeline, no internal names of staff.
    assert "What happened" not in text_of(page)


def test_a_parents_task_is_listed_with_its_date(as_user: Any, world: World, started: int, services: Services,
                                                engine: WorkflowEngine) -> None:
    record = open_task(services, world.case_id, "UT_record")
    engine.complete_task(record.id, {"concern": "x", "received_on": "2026-03-02", "request_from": "parent",
                                     "urgent": False})
    views = open_task(services, world.case_id, "UT_views")
    page = as_user("parent").page(f"/family/cases/{world.case_id}")
    todo = section(page, "to-do")
    assert "Give your views Please do this by 16 March 2026 (14 days left)" in todo
    assert page.select_one(f"#to-do ~ ul a[href='/tasks/{views.id}']")
    assert "You: Give your views" in section(page, "progress")
    assert "1 thing for you to do" in text_of(as_user("parent").page("/family/"))
    # The other family cannot open it.
    as_user("other_parent").get(f"/tasks/{views.id}", status=404)


def test_documents_the_family_was_sent(as_user: Any, world: World, services: Services) -> None:
    to_family = add_document(services, world.case_id, "Decision to assess", [{"role": "parent", "copy": False}])
    copy = add_document(services, world.case_id, "Copy to you", [{"role": "health_body"},
                                                                 {"role": "parent", "copy": True}])
    internal = add_document(services, world.case_id, "Advice request to health", [{"role": "health_body"}])
    parent = as_user("parent")
    page = parent.page(f"/family/cases/{world.case_id}")
    titles = [a.get_text() for a in page.select("#documents ~ ul a")]
    assert sorted(titles) == ["Copy to you", "Decision to assess"]
    page = parent.page(f"/family/cases/{world.case_id}/documents/{to_family}")
    assert "Text" in text_of(page)
    assert page.select_one(f"a[href='/family/cases/{world.case_id}/documents/{to_family}/download']")
    parent.get(f"/family/cases/{world.case_id}/documents/{copy}/download")
    parent.get(f"/family/cases/{world.case_id}/documents/{internal}", status=404)
    other = add_document(services, world.other_case_id, "Other family's letter", [{"role": "parent"}])
    parent.get(f"/family/cases/{world.other_case_id}/documents/{other}", status=404)
    parent.get(f"/family/cases/{world.case_id}/documents/{other}", status=404)


def test_the_family_sees_issued_plans_and_drafts_they_were_sent(as_user: Any, world: World, services: Services,
                                                                 clock: FrozenClock, started: int) -> None:
    from engine.casework import plans

    with services.session_factory() as s:
        draft = plans.create_draft(s, world.case_id, DRAFT, now=clock.now(), advice=ADVICE, instance_id=started)
        s.commit()
        draft_id = draft.id
    parent = as_user("parent")
    parent.get(f"/family/cases/{world.case_id}/plans/{draft_id}", status=404)  # not sent yet
    clock.advance(minutes=5)
    add_document(services, world.case_id, "Your draft plan", [{"role": "parent"}], instance_id=started)
    page = parent.page(f"/family/cases/{world.case_id}")
    assert [a.get_text() for a in page.select("#plans ~ ul a")] == ["Draft 1"]
    page = parent.page(f"/family/cases/{world.case_id}/plans/{draft_id}")
    assert "Speech sound difficulties" in text_of(page)
    assert parent.get(f"/family/cases/{world.case_id}/plans/{draft_id}/pdf").data.startswith(b"%PDF")


def test_a_young_person_and_a_parent_of_two_children(as_user: Any, world: World, services: Services,
                                                     engine: WorkflowEngine, web_route: str) -> None:
    with services.session_factory() as s:
        second = engine.open_case(s, world.la.id, "Casey", "Taylor", "2012-01-01")
        s.add(CaseParty(case_id=second.id, role="family", user_id=world.users["parent"].id,
                        relationship_to_child="mother"))
        s.commit()
        second_id = second.id
    engine.start(second_id, ROUTE)
    page = as_user("parent").page("/family/")
    assert [a.get_text() for a in page.select("h2 a")] == ["Alex Taylor", "Casey Taylor"]
    page = as_user("parent").page(f"/family/cases/{second_id}")
    assert page.select_one(".govuk-back-link")["href"] == "/family/"


def test_family_pages_are_readable_on_a_phone(as_user: Any, world: World) -> None:
    page = as_user("parent").page(f"/family/cases/{world.case_id}")
    assert page.select_one("meta[name=viewport]")["content"].startswith("width=device-width")
    assert page.select_one(".govuk-grid-column-two-thirds")
