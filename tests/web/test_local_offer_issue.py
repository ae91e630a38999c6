"""Issue 18's remaining points, checked on the pages: the directory and an entry print without their search form,
navigation or links to the JSON, and are laid out for a phone; an education entry is the very setting record plan
drafting names in section I (engine/casework/setting_directory.py), not a second list."""

from __future__ import annotations

from flask import Flask

from engine.casework.setting_directory import describe_setting, settings_directory
from engine.local_offer import entries
from engine.runtime.services import Services
from engine.statutory.clock import FrozenClock
from tests.conftest import World
from tests.web.conftest import Client
from tests.web.test_local_offer import add_entry

HIDDEN_IN_PRINT = "govuk-!-display-none-print"


def test_the_public_pages_print_without_forms_or_navigation_and_fit_a_phone(client: Client, services: Services,
                                                                            world: World, clock: FrozenClock) -> None:
    entry_id = add_entry(services, world, clock)
    for url in ("/local-offer/TST/", f"/local-offer/TST/entries/{entry_id}"):
        page = client.page(url)
        assert page.find("meta", attrs={"name": "viewport"})["content"].startswith("width=device-width"), url
        for form in page.select("main form"):
            assert form.find_parent(class_=HIDDEN_IN_PRINT) or HIDDEN_IN_PRINT in form.get("class", []), url
    directory = client.page("/local-offer/TST/")
    assert directory.select("main form[role=search]")  # the search form is there on screen
    json_link = directory.find("a", string="These results as JSON")
    assert json_link is not None and json_link.find_parent(class_=HIDDEN_IN_PRINT) is not None
    back = client.page(f"/local-offer/TST/entries/{entry_id}").select_one(".govuk-back-link")
    assert back is not None and back.find_parent(class_=HIDDEN_IN_PRINT) is not None


def test_an_education_entry_is_the_setting_plan_drafting_names(app: Flask, services: Services, world: World,
                                                               clock: FrozenClock, client: Client) -> None:
    entry_id = add_entry(services, world, clock, title="Test Primary School", category="primary",
                         organisation_id=str(world.school.id))
    with services.session_factory() as s:
        row = entries.entry_of(s, world.la.id, entry_id, published_only=True)
        named = [org.id for org in settings_directory(s, maintaining_la_id=world.la.id)]
        assert row.organisation_id in named and describe_setting(s, row.organisation_id)["name"] == row.title
    assert client.get(f"/local-offer/TST/entries/{entry_id}.json").get_json()["setting"]["id"] == world.school.id
