"""The organisations working with a child on a case (setting, health body, mediation service): changed from the case
page by the responsible authority's caseworkers and managers, and by nobody else."""

from __future__ import annotations

from typing import Any

from engine.intake.parties import current_parties
from engine.people.users import create_organisation
from engine.runtime.services import Services
from tests.conftest import World
from tests.web.conftest import soup, text_of


def _parties(services: Services, case_id: int) -> dict[str, int | None]:
    with services.session_factory() as s:
        return {role: party.organisation_id for role, party in current_parties(s, case_id).items()}


def test_a_caseworker_changes_the_setting_and_removes_the_mediation_service(as_user: Any, world: World,
                                                                             services: Services) -> None:
    with services.session_factory() as s:
        academy = create_organisation(s, "Hill <Academy>", "setting", services.engine.clock)
        s.commit()
        academy_id = academy.id
    client = as_user("caseworker")
    case_page = soup(client.get(f"/cases/{world.case_id}"))
    assert case_page.select_one(f"a[href='/cases/{world.case_id}/organisations']") is not None
    form = client.page(f"/cases/{world.case_id}/organisations")
    assert form.select_one("#setting option[selected]").get_text() == "Test Primary School"
    assert "Hill <Academy>" in [o.get_text() for o in form.select("#setting option")]
    client.post(f"/cases/{world.case_id}/organisations",
                {"setting": str(academy_id), "health_body": str(world.health.id), "mediation_service": ""}, status=302)
    assert _parties(services, world.case_id) == {"setting": academy_id, "health_body": world.health.id}
    assert "Hill <Academy>" in text_of(client.page(f"/cases/{world.case_id}"))


def test_bad_choices_are_refused_and_change_nothing(as_user: Any, world: World, services: Services) -> None:
    before = _parties(services, world.case_id)
    client = as_user("manager")
    page = soup(client.post(f"/cases/{world.case_id}/organisations",
                            {"setting": str(world.health.id), "health_body": "x", "mediation_service": ""}, status=400))
    assert "Choose a health body from the list" in text_of(page)
    page = soup(client.post(f"/cases/{world.case_id}/organisations",
                            {"setting": str(world.health.id), "health_body": "", "mediation_service": ""}, status=400))
    assert "Choose a school, college or setting from the list" in text_of(page)
    client.post(f"/cases/{world.case_id}/organisations", {}, status=400)
    assert _parties(services, world.case_id) == before


def test_only_the_responsible_authoritys_caseworkers_and_managers(as_user: Any, world: World,
                                                                  services: Services) -> None:
    before = _parties(services, world.case_id)
    wanted = {"setting": "", "health_body": "", "mediation_service": ""}
    for user, status in (("health", 403), ("school", 403), ("ep", 403), ("other_caseworker", 404), ("parent", 403)):
        as_user(user).get(f"/cases/{world.case_id}/organisations", status=status)
        as_user(user).post(f"/cases/{world.case_id}/organisations", wanted, status=status)
    assert as_user("caseworker").post(f"/cases/{world.case_id}/organisations", wanted,
                                      token=False).status_code == 400
    assert _parties(services, world.case_id) == before


def test_the_request_page_says_which_organisations_a_new_childs_case_will_have(as_user: Any, world: World,
                                                                               services: Services) -> None:
    from engine.intake.requests import record_request
    from tests.engine.test_intake import ANSWERS

    clock = services.engine.clock
    with services.session_factory() as s:
        row = record_request(s, world.la.id, ANSWERS, "email", clock.now(), None, clock.now())
        s.commit()
        request_id = row.id
    listed = as_user("caseworker").page(f"/intake/{request_id}").select_one("#suggested-organisations")
    assert [li.get_text() for li in listed.select("li")] == [
        "School, college or setting: Test Primary School", "Health body: Testshire ICB",
        "Mediation service: Test Mediation"]
