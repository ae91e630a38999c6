"""The Local Offer's pages: the public directory without signing in (search, filters, no results, odd input),
entries with JSON and schema.org data, fixed pages, comments (CSRF, throttle, confirmation), moderation and "You
said, we did", the editor for the authority's managers and Local Offer editors only, the review list, the front
door, the council's branding, and every field escaped. Providers' changes and their review route:
test_local_offer_providers.py."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from engine.local_offer import comments, entries
from engine.people.roles import Role
from engine.people.users import create_user
from engine.runtime.services import Services
from engine.statutory.clock import FrozenClock
from engine.store.local_offer import LocalOfferComment, LocalOfferEntry
from engine.store.models import Organisation
from tests.conftest import PASSWORD, World
from tests.web.conftest import Client, make_app, text_of

EVIL = '<script>alert("x")</script>'


def add_entry(services: Services, world: World, clock: FrozenClock, la_id: int | None = None,
              checked: date | None = None, **changes: Any) -> int:
    data: dict[str, Any] = {
        "title": "Speech and language therapy", "category": "health", "needs": ["communication_interaction"],
        "age_from": "0", "age_to": "18", "area": "North", "offers": "Therapy for children who stammer",
        "who_for": "Children", "eligibility": "A referral", "how_to_access": "Ask your GP",
        "contact_name": "SLT team", "contact_email": "slt@nhs.example", "contact_phone": "01234 567890",
        "website": "https://slt.example", "opening_hours": "9 to 5", "cost": "Free", "status": "published",
    }
    data.update(changes)
    with services.session_factory() as s:
        row = entries.save_entry(s, la_id or world.la.id, data, clock.now(), checked or clock.today(), None)
        s.commit()
        return row.id


def test_anyone_finds_services_without_signing_in(client: Client, services: Services, world: World,
                                                  clock: FrozenClock) -> None:
    add_entry(services, world, clock)
    add_entry(services, world, clock, title="Holiday club", category="short_breaks", needs=[], age_from="5",
              age_to="11", area="South", offers="Play schemes in the holidays")
    add_entry(services, world, clock, title="Hidden draft", status="draft")
    add_entry(services, world, clock, la_id=world.other_la.id, title="Otherham swimming")
    picker = text_of(client.page("/local-offer/"))
    assert "Testshire Council" in picker and "Otherham Council" in picker
    page = text_of(client.page("/local-offer/tst/"))
    assert "2 services and settings" in page and "Holiday club" in page and "Speech and language therapy" in page
    assert "Hidden draft" not in page and "Otherham swimming" not in page
    assert "How to request an EHC needs assessment" in page
    assert "1 service or setting" in text_of(client.page("/local-offer/TST/?q=stammer"))
    assert "Holiday club" in text_of(client.page("/local-offer/TST/?category=short_breaks&age=7&area=South&need=semh"))
    assert "Holiday club" not in text_of(client.page("/local-offer/TST/?age=12"))
    empty = text_of(client.page("/local-offer/TST/?q=unicorns"))
    assert "0 services and settings" in empty and "Nothing matches your search" in empty
    odd = client.page("/local-offer/TST/?age=%3Cb%3E&category=%22%3E&need=x&area=%00&page=-1&q=%27%22%3C")
    assert "Enter an age from 0 to 25" in text_of(odd) and "0 services and settings" in text_of(odd)
    client.get("/local-offer/NOPE/", status=404)


def test_the_search_pages_keep_the_filters(client: Client, services: Services, world: World,
                                           clock: FrozenClock) -> None:
    for n in range(25):
        add_entry(services, world, clock, title=f"Club {n:02d}", category="leisure")
    page = client.page("/local-offer/TST/?category=leisure")
    links = [a["href"] for a in page.select(".govuk-pagination a")]
    assert any("page=2" in h and "category=leisure" in h for h in links)
    assert "Club 24" in text_of(client.page("/local-offer/TST/?category=leisure&page=2"))


def test_an_entry_page_has_its_details_schema_org_data_and_json(client: Client, services: Services, world: World,
                                                              clock: FrozenClock) -> None:
    entry_id = add_entry(services, world, clock, title="Test Primary School", category="primary",
                         organisation_id=str(world.school.id), sen_report_url="https://school.example/sen")
    page = client.page(f"/local-offer/TST/entries/{entry_id}")
    text = text_of(page)
    assert "Test Primary School" in text and "Therapy for children who stammer" in text and "Free" in text
    assert page.find("a", href="https://school.example/sen") is not None
    data = json.loads(page.find("script", type="application/ld+json").string)
    assert data["@type"] == "Service" and data["provider"]["@type"] == "EducationalOrganization"
    assert data["audience"]["suggestedMaxAge"] == 18
    as_json = client.get(f"/local-offer/TST/entries/{entry_id}.json").get_json()
    assert as_json["setting"]["id"] == world.school.id and as_json["sen_information_report"].endswith("/sen")
    assert as_json["local_authority"]["code"] == "TST" and as_json["last_checked_on"] == "2026-03-02"
    listing = client.get("/local-offer/TST/entries.json?category=primary").get_json()
    assert listing["total"] == 1 and listing["entries"][0]["id"] == entry_id
    # A draft, or another authority's entry, is not found.
    draft = add_entry(services, world, clock, status="draft")
    other = add_entry(services, world, clock, la_id=world.other_la.id)
    for url in (f"/local-offer/TST/entries/{draft}", f"/local-offer/TST/entries/{draft}.json",
                f"/local-offer/TST/entries/{other}", f"/local-offer/OTH/entries/{entry_id}.json"):
        client.get(url, status=404)


def test_fixed_pages_show_the_las_text_and_link_to_the_request(client: Client, services: Services,
                                                               world: World) -> None:
    page = client.page("/local-offer/TST/pages/request-an-assessment")
    assert page.find("a", href="/request-an-assessment/?la=TST") is not None
    client.get("/local-offer/TST/pages/nope", status=404)


def test_a_comment_is_moderated_then_published_with_the_response(client: Client, app: Flask, world: World,
                                                                 services: Services) -> None:
    client.get("/local-offer/TST/comment")
    # Without the CSRF token nothing is kept.
    assert client.post("/local-offer/TST/comment", {"text": "No token here at all"}, token=False).status_code == 400
    refused = client.post("/local-offer/TST/comment", {"text": "short"}, status=200)
    assert "Enter your comment" in refused.get_data(as_text=True)
    sent = client.post("/local-offer/TST/comment", {"text": "We need more short breaks in the north"}, status=302)
    assert sent.headers["Location"].endswith("/local-offer/TST/comment/sent")
    assert "Comment sent" in text_of(client.page("/local-offer/TST/comment/sent"))
    assert "more short breaks" not in text_of(client.page("/local-offer/TST/you-said-we-did"))

    manager = Client(app)
    manager.sign_in(world.users["manager"].email)
    with services.session_factory() as s:
        comment_id = s.scalars(select(LocalOfferComment.id)).one()
    assert "more short breaks" in text_of(manager.page("/local-offer-editor/comments"))
    manager.get(f"/local-offer-editor/comments/{comment_id}")
    refused = manager.post(f"/local-offer-editor/comments/{comment_id}", {"decision": "publish",
                                                                          "text": "More short breaks"}, status=200)
    assert "Enter the local authority" in refused.get_data(as_text=True)
    manager.post(f"/local-offer-editor/comments/{comment_id}", {
        "decision": "publish", "text": "We need more short breaks in the north",
        "response": "We agree and have funded two new clubs.", "action": "Two clubs open in Ashby from May."},
        status=302)
    shown = text_of(client.page("/local-offer/TST/you-said-we-did"))
    assert "2026" in shown and "more short breaks in the north" in shown and "Two clubs open in Ashby" in shown
    # Another authority's manager cannot see or moderate it.
    other = Client(app)
    other.sign_in(world.users["other_manager"].email)
    other.get(f"/local-offer-editor/comments/{comment_id}", status=404)
    assert "short breaks" not in text_of(other.page("/local-offer-editor/comments?status=all"))
    assert "short breaks" not in text_of(client.page("/local-offer/OTH/you-said-we-did"))


def test_comments_are_throttled_per_connection(services: Services, tmp_path: Path, world: World) -> None:
    app = make_app(services, tmp_path, LOCAL_OFFER_COMMENTS_PER_HOUR=2)
    client = Client(app)
    client.get("/local-offer/TST/comment")
    for n in range(2):
        client.post("/local-offer/TST/comment", {"text": f"A useful comment {n}"}, status=302)
    response = client.post("/local-offer/TST/comment", {"text": "One comment too many"}, status=429)
    assert "Too many comments" in response.get_data(as_text=True)
    with services.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(LocalOfferComment)) == 2
        # The connection's address is not kept, only a keyed hash of it.
        assert all(len(k) == 64 and "127.0.0.1" not in k for k in s.scalars(select(LocalOfferComment.client_key)))


def test_the_editor_is_for_the_authoritys_managers(app: Flask, world: World, services: Services,
                                                  clock: FrozenClock) -> None:
    entry_id = add_entry(services, world, clock)
    for key in ("caseworker", "admin", "school", "parent"):
        c = Client(app)
        c.sign_in(world.users[key].email)
        assert c.get("/local-offer-editor/", status=None).status_code == 403, key
    other = Client(app)
    other.sign_in(world.users["other_manager"].email)
    assert "Speech and language" not in text_of(other.page("/local-offer-editor/"))
    other.get(f"/local-offer-editor/entries/{entry_id}", status=404)
    Client(app).get("/local-offer-editor/", status=302)  # to sign in


def test_the_editor_creates_changes_and_publishes_entries(app: Flask, world: World, services: Services,
                                                          clock: FrozenClock, client: Client) -> None:
    manager = Client(app)
    manager.sign_in(world.users["manager"].email)
    assert manager.page("/local-offer-editor/entries/new").find("a", href="/local-offer-editor/") is not None  # menu
    refused = manager.post("/local-offer-editor/entries/new", {"title": "", "age_from": "9", "age_to": "3"},
                           status=200)
    assert "Enter the name of the service" in refused.get_data(as_text=True)
    manager.post("/local-offer-editor/entries/new", [
        ("title", "Ashby youth club"), ("category", "leisure"), ("needs", "semh"), ("needs", "sensory_physical"),
        ("age_from", "11"), ("age_to", "19"), ("area", "North"), ("offers", "Evenings out"),
        ("organisation_id", ""), ("status", "draft")], status=302)
    with services.session_factory() as s:
        row = s.scalars(select(LocalOfferEntry)).one()
        assert (row.needs, row.status, row.last_checked_on) == (["semh", "sensory_physical"], "draft", clock.today())
        entry_id = row.id
    client.get(f"/local-offer/TST/entries/{entry_id}", status=404)  # a draft is not public
    manager.get(f"/local-offer-editor/entries/{entry_id}")
    manager.post(f"/local-offer-editor/entries/{entry_id}", {
        "title": "Ashby youth club", "category": "leisure", "age_from": "11", "age_to": "19",
        "status": "published", "offers": "Evenings out"}, status=302)
    assert "Ashby youth club" in text_of(client.page(f"/local-offer/TST/entries/{entry_id}"))
    manager.get("/local-offer-editor/pages/personal-budgets")
    manager.post("/local-offer-editor/pages/personal-budgets", {"title": "Personal budgets",
                                                                "body": "## Ask us\nCall [us](mailto:pb@tst.example)"},
                 status=302)
    page = client.page("/local-offer/TST/pages/personal-budgets")
    assert page.find("a", href="mailto:pb@tst.example") is not None and page.find("h2", string="Ask us")


def test_the_review_list_shows_entries_unchecked_for_12_months(app: Flask, world: World, services: Services,
                                                              clock: FrozenClock) -> None:
    """Today is 2 March 2026, so the cut-off is 2 March 2025: an entry checked that day is listed, one checked on
    3 March 2025 is not."""
    add_entry(services, world, clock, checked=date(2025, 3, 2), title="Stale club")
    add_entry(services, world, clock, checked=date(2025, 3, 3), title="Fresh club")
    manager = Client(app)
    manager.sign_in(world.users["manager"].email)
    text = text_of(manager.page("/local-offer-editor/review"))
    assert "Stale club" in text and "Fresh club" not in text and "2 March 2025" in text


def test_every_field_is_escaped(client: Client, app: Flask, services: Services, world: World,
                                clock: FrozenClock) -> None:
    fields = ("title", "area", "offers", "who_for", "eligibility", "how_to_access", "contact_name", "contact_phone",
              "opening_hours", "cost")
    entry_id = add_entry(services, world, clock, **{f: EVIL[:40] if f == "contact_phone" else EVIL for f in fields},
                         contact_email='a"><script>@x.example')
    with services.session_factory() as s:
        c = comments.submit_comment(s, world.la.id, EVIL, "k", clock.now(), limit=5)
        comments.moderate(s, c, "publish", EVIL, EVIL, EVIL, clock.now(), None)
        s.commit()
    manager = Client(app)
    manager.sign_in(world.users["manager"].email)
    pages = [client.get("/local-offer/TST/"), client.get(f"/local-offer/TST/entries/{entry_id}"),
             client.get("/local-offer/TST/you-said-we-did"), manager.get("/local-offer-editor/"),
             manager.get(f"/local-offer-editor/entries/{entry_id}"), manager.get("/local-offer-editor/review"),
             manager.get("/local-offer-editor/comments?status=all")]
    for response in pages:
        body = response.get_data(as_text=True)
        assert "<script>alert" not in body and '"><script>' not in body, response.request.path
    # Inside the JSON-LD block too: tojson escapes the angle brackets.
    assert "\\u003cscript\\u003e" in pages[1].get_data(as_text=True)


# ---- the Local Offer editor role, providers' changes, the front door and the council's branding ---------------------

def local_offer_editor(services: Services, world: World, clock: FrozenClock) -> str:
    """An LA officer who edits the Local Offer and nothing else (made here: the shared World's users are counted)."""
    with services.session_factory() as s:
        user = create_user(s, "lo-editor@test.example", "Lo Editor", PASSWORD, clock,
                           [(s.get(Organisation, world.la.id), Role.LOCAL_OFFER_EDITOR)])
        s.commit()
        return user.email


def test_a_local_offer_editor_edits_their_authoritys_local_offer(app: Flask, world: World, services: Services,
                                                                 clock: FrozenClock) -> None:
    ours = add_entry(services, world, clock, title="Our club")
    theirs = add_entry(services, world, clock, la_id=world.other_la.id, title="Their club")
    editor = Client(app)
    editor.sign_in(local_offer_editor(services, world, clock))
    home = editor.page("/local-offer-editor/")
    assert "Our club" in text_of(home) and "Their club" not in text_of(home)
    assert home.find("a", href="/local-offer-editor/") is not None  # "Local Offer" in the menu
    editor.post(f"/local-offer-editor/entries/{ours}", {"title": "Our new club", "category": "leisure",
                                                        "age_from": "0", "age_to": "25", "status": "published"},
                status=302)
    editor.get(f"/local-offer-editor/entries/{theirs}", status=404)
    with services.session_factory() as s:
        assert s.get(LocalOfferEntry, ours).title == "Our new club"
    assert Role.LOCAL_OFFER_EDITOR.label == "Local Offer editor"
    # The role opens no case of the authority, nor its documents: it is for the public directory only.
    editor.get(f"/cases/{world.case_id}", status=404)
    assert editor.page("/cases/").find("a", href=f"/cases/{world.case_id}") is None
    manager = Client(app)
    manager.sign_in(world.users["manager"].email)
    assert manager.page("/cases/").find("a", href=f"/cases/{world.case_id}") is not None


def test_the_home_page_is_the_front_door_for_visitors(client: Client, world: World) -> None:
    page = client.page("/")
    assert page.find("a", href="/local-offer/") is not None
    assert page.find("a", href="/request-an-assessment/") is not None
    assert page.find("a", href="/sign-in") is not None


def test_the_local_offer_wears_the_councils_name_and_colour(services: Services, tmp_path: Path,
                                                           world: World) -> None:
    app = make_app(services, tmp_path, LOCAL_OFFER_COLOURS={"tst": "#00703c", "OTH": "red;}body{x"})
    client = Client(app)
    page = client.page("/local-offer/TST/")
    assert page.select_one(".ehc-header__organisation").get_text(strip=True) == "Testshire Council"
    assert page.find("link", href="/local-offer/TST/brand.css") is not None
    css = client.get("/local-offer/TST/brand.css")
    assert css.mimetype == "text/css" and "#00703c" in css.get_data(as_text=True)
    # A colour that is not a plain hex colour is never written into the stylesheet.
    other = client.get("/local-offer/OTH/brand.css").get_data(as_text=True)
    assert "red" not in other and "#1d70b8" in other
    assert "Otherham Council" in text_of(client.page("/local-offer/OTH/you-said-we-did"))
