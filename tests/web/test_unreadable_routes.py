"""A route whose saved state cannot be restored never breaks its case page (issue 15, class 4): the page shows what
it can, says which route cannot be read, and the route is flagged (failed, with an open incident) for the admin
overview, which counts it. A broken instance is made by writing garbage into ``ProcessInstance.state``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from engine.admin.instance_admin import admin_counts
from engine.admin.unreadable_routes import READ_STATE
from engine.runtime.services import Services
from engine.runtime.workflow_engine import WorkflowEngine
from engine.store.models import AuditEvent, Incident, ProcessInstance
from tests.conftest import World
from tests.web.conftest import text_of
from tests.web.test_cases import section

CANNOT_BE_READ = "This route cannot be read: an administrator has been told"


def break_state(services: Services, instance_id: int) -> str:
    """Writes garbage over the instance's saved state; returns the state it had."""
    with services.session_factory() as s:
        instance = s.get(ProcessInstance, instance_id)
        assert instance is not None
        good = instance.state
        instance.state = '{"not a workflow": '
        s.commit()
        return good


def incidents(services: Services, instance_id: int) -> list[Incident]:
    with services.session_factory() as s:
        return list(s.scalars(select(Incident).where(Incident.instance_id == instance_id)))


def test_the_case_page_shows_what_it_can_and_names_the_route_that_cannot_be_read(
        as_user: Any, world: World, started: int, engine: WorkflowEngine, services: Services,
        web_route: str) -> None:
    second = engine.start(world.case_id, web_route)
    break_state(services, started)
    caseworker = as_user("caseworker")
    page = caseworker.page(f"/cases/{world.case_id}")  # was a 500
    assert page.select_one("h1").get_text(strip=True) == "Alex Taylor"
    assert "Testshire ICB (Health body)" in text_of(page)
    broken = page.select_one(f'section[aria-labelledby="route-{started}"]')
    healthy = page.select_one(f'section[aria-labelledby="route-{second}"]')
    assert CANNOT_BE_READ in text_of(broken)
    assert "Stopped by a problem" in text_of(broken)
    assert CANNOT_BE_READ not in text_of(healthy) and "Waiting for someone to act" in text_of(healthy)
    assert "Current step: Record the request" in text_of(healthy)
    # Flagged once for an administrator: failed, with one open incident that says why.
    with services.session_factory() as s:
        instance = s.get(ProcessInstance, started)
        assert instance is not None and instance.status == "failed"
        assert instance.last_error["previous_status"] == "waiting_person"
        assert s.get(ProcessInstance, second).status == "waiting_person"
        assert s.scalar(select(AuditEvent).where(AuditEvent.instance_id == started, AuditEvent.action == "failed"))
    found = incidents(services, started)
    assert [(i.command, i.resolved_at) for i in found] == [(READ_STATE, None)]
    assert "cannot be read" in found[0].message and "JSONDecodeError" in found[0].message
    # Seen again: still shown, not flagged twice.
    assert CANNOT_BE_READ in section(caseworker.page(f"/cases/{world.case_id}"), "routes")
    assert len(incidents(services, started)) == 1


def test_the_familys_case_page_survives_a_broken_route(as_user: Any, world: World, started: int,
                                                       services: Services) -> None:
    break_state(services, started)
    page = as_user("parent").page(f"/family/cases/{world.case_id}")  # was a 500 (the messages it may send)
    assert page.select_one("h1")


def test_the_admin_overview_counts_and_flags_unreadable_routes(as_user: Any, world: World, started: int,
                                                               services: Services, engine: WorkflowEngine) -> None:
    admin = as_user("admin")
    assert admin.page("/admin/").select_one("#unreadable-routes") is None
    good = break_state(services, started)
    as_user("caseworker").get(f"/cases/{world.case_id}")
    page = admin.page("/admin/")
    warning = page.select_one("#unreadable-routes")
    assert warning is not None and "1 route cannot be read" in text_of(warning)
    assert "1 failed instance" in text_of(page.select_one("#count-failed"))
    with services.session_factory() as s:
        today = engine.clock.today()
        assert admin_counts(s, [world.la.id], today).unreadable == 1
        assert admin_counts(s, [world.other_la.id], today).unreadable == 0  # another authority's admin
    assert as_user("other_admin").page("/admin/").select_one("#unreadable-routes") is None
    # Repaired and retried: the flag clears, the route is back where it was.
    with services.session_factory() as s:
        instance = s.get(ProcessInstance, started)
        assert instance is not None
        instance.state = good
        s.commit()
    engine.retry(started, world.users["admin"], "state restored from the backup")
    with services.session_factory() as s:
        assert s.get(ProcessInstance, started).status == "waiting_person"
        assert admin_counts(s, [world.la.id], engine.clock.today()).unreadable == 0
    assert admin.page("/admin/").select_one("#unreadable-routes") is None
    assert CANNOT_BE_READ not in text_of(as_user("caseworker").page(f"/cases/{world.case_id}"))
