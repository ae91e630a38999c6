"""Providers keep their own Local Offer entries up to date (issue 18): a school's SENCO, a health body's staff and a
charity's staff propose changes to their own entries only; each change is reviewed on the route
workflows/local_offer_review.bpmn (the editor's task on /local-offer-editor/changes), and the provider is told of the
outcome by a notice and an email through the outbox. The route itself, step by step, is in
tests/workflows/test_local_offer_review.py."""

from __future__ import annotations

from datetime import date

from flask import Flask
from sqlalchemy import select

from engine.local_offer import proposals
from engine.people.roles import Role
from engine.people.users import ORGANISATION_KIND_LABELS, create_organisation, create_user
from engine.runtime.services import Services
from engine.statutory.clock import FrozenClock
from engine.store.local_offer import LocalOfferProposal
from engine.store.models import Organisation
from engine.store.outbox import OrganisationNotice, OutboxEmail
from tests.conftest import PASSWORD, World, real_routes
from tests.web.conftest import Client, text_of
from tests.web.test_local_offer import EVIL, add_entry


def signed_in(app: Flask, email: str) -> Client:
    c = Client(app)
    c.sign_in(email)
    return c


def pending_id(services: Services) -> int:
    with services.session_factory() as s:
        return s.scalars(select(LocalOfferProposal.id).where(LocalOfferProposal.status == "pending")).one()


def test_a_provider_proposes_and_the_la_reviews_it_on_the_route(app: Flask, world: World, services: Services,
                                                               clock: FrozenClock, client: Client) -> None:
    """The health body's entry stays as published until the editor publishes the change on the review task; the
    school cannot open it, and the health body cannot open the school's entry; the provider is told each time."""
    services.engine.deploy(real_routes())  # as `ehcflow setup` does
    health_entry = add_entry(services, world, clock, provider_id=str(world.health.id))
    school_entry = add_entry(services, world, clock, title="Test Primary School", category="primary",
                             organisation_id=str(world.school.id))
    health = signed_in(app, world.users["health"].email)
    listing = text_of(health.page("/local-offer-provider/"))
    assert "Speech and language therapy" in listing and "Test Primary School" not in listing
    health.get(f"/local-offer-provider/entries/{school_entry}", status=404)
    school = signed_in(app, world.users["school"].email)
    school.get(f"/local-offer-provider/entries/{health_entry}", status=404)
    assert "Test Primary School" in text_of(school.page("/local-offer-provider/"))
    for key in ("caseworker", "manager", "parent"):
        assert signed_in(app, world.users[key].email).get("/local-offer-provider/", status=None).status_code == 403

    form = health.page(f"/local-offer-provider/entries/{health_entry}")
    assert form.find("input", attrs={"name": "title"})["value"] == "Speech and language therapy"
    assert form.find(attrs={"name": "category"}) is None and form.find(attrs={"name": "status"}) is None
    values = {"title": "Speech and language therapy", "age_from": "0", "age_to": "18", "area": "North",
              "offers": "Therapy and groups for children who stammer", "cost": "Free"}
    health.post(f"/local-offer-provider/entries/{health_entry}", values, status=302)
    assert "groups" not in text_of(client.page(f"/local-offer/TST/entries/{health_entry}"))
    assert "Waiting for the council" in text_of(health.page("/local-offer-provider/"))

    manager = signed_in(app, world.users["manager"].email)
    proposal_id = pending_id(services)
    # The editor's list is the route's task list: sent Monday 2 March 2026, due in 10 working days (16 March).
    changes = text_of(manager.page("/local-offer-editor/changes"))
    assert "Speech and language therapy" in changes and "16 Mar 2026" in changes
    other = signed_in(app, world.users["other_manager"].email)
    other.get(f"/local-offer-editor/changes/{proposal_id}", status=404)
    assert "Speech and language" not in text_of(other.page("/local-offer-editor/changes"))
    compare = text_of(manager.page(f"/local-offer-editor/changes/{proposal_id}"))
    assert "Therapy for children who stammer" in compare and "Therapy and groups for children who stammer" in compare
    assert "Review the provider's change" in compare and "Due by 16 March 2026" in compare
    refused = manager.post(f"/local-offer-editor/changes/{proposal_id}", {"review_decision": "changes"}, status=200)
    assert "Enter why, so the provider can put it right" in refused.get_data(as_text=True)
    manager.post(f"/local-offer-editor/changes/{proposal_id}",
                 {"review_decision": "changes", "review_reason": "Name the groups"}, status=302)
    assert "Returned by the council to change: Name the groups" in text_of(health.page("/local-offer-provider/"))
    assert "Name the groups" in text_of(health.page(f"/local-offer-provider/entries/{health_entry}"))
    # Told: a notice to the health body with the reason, and an email (a link only) to its staff.
    notices = health.page("/notices/")
    assert "has asked you to change what you proposed" in text_of(notices)
    with services.session_factory() as s:
        notice = s.scalars(select(OrganisationNotice).where(OrganisationNotice.organisation_id == world.health.id)).one()
        email = s.scalars(select(OutboxEmail).where(OutboxEmail.to_user_id == world.users["health"].id)).one()
        assert email.link_path == f"/notices/{notice.id}" and "Name the groups" not in email.subject + email.body
    notice_page = health.page(f"/notices/{notice.id}")
    assert "Name the groups" in text_of(notice_page) and notice_page.find("a", href="/local-offer-provider/")
    school.get(f"/notices/{notice.id}", status=404)
    # Decided once: a second decision on the same change is refused.
    again = manager.post(f"/local-offer-editor/changes/{proposal_id}", {"review_decision": "approve"}, status=200)
    assert "This change has already been reviewed" in again.get_data(as_text=True)

    health.post(f"/local-offer-provider/entries/{health_entry}",
                {**values, "offers": "Therapy and the Chatterbox group for children who stammer"}, status=302)
    manager.post(f"/local-offer-editor/changes/{pending_id(services)}", {"review_decision": "approve"}, status=302)
    assert "Chatterbox group" in text_of(client.page(f"/local-offer/TST/entries/{health_entry}"))
    assert "is published in the Local Offer" in text_of(health.page("/notices/"))


def test_a_rejected_change_leaves_the_entry_as_it_was(app: Flask, world: World, services: Services,
                                                     clock: FrozenClock, client: Client) -> None:
    services.engine.deploy(real_routes())
    entry_id = add_entry(services, world, clock, provider_id=str(world.health.id))
    health = signed_in(app, world.users["health"].email)
    health.post(f"/local-offer-provider/entries/{entry_id}", {"title": "Cheapest therapy in town", "age_from": "0",
                                                              "age_to": "18"}, status=302)
    manager = signed_in(app, world.users["manager"].email)
    manager.post(f"/local-offer-editor/changes/{pending_id(services)}",
                 {"review_decision": "reject", "review_reason": "An advert, not a service description"}, status=302)
    assert "Speech and language therapy" in text_of(client.page(f"/local-offer/TST/entries/{entry_id}"))
    assert "Not published by the council: An advert" in text_of(health.page("/local-offer-provider/"))
    assert "did not publish your change" in text_of(health.page("/notices/"))


def test_a_charity_with_an_account_keeps_only_its_own_entries(app: Flask, world: World, services: Services,
                                                             clock: FrozenClock, client: Client) -> None:
    """A charity is an organisation of kind voluntary_provider; its staff hold the Local Offer provider role, which
    opens no case, and propose changes to the entries naming the charity as provider, and to no other."""
    services.engine.deploy(real_routes())
    assert ORGANISATION_KIND_LABELS["voluntary_provider"] == "Charity or voluntary provider"
    with services.session_factory() as s:
        charity = create_organisation(s, "Testshire Parent Carers", "voluntary_provider", clock)
        other = create_organisation(s, "Another Charity", "voluntary_provider", clock)
        create_user(s, "volunteer@charity.example", "Vic Volunteer", PASSWORD, clock,
                    [(s.get(Organisation, charity.id), Role.LOCAL_OFFER_PROVIDER)])
        s.commit()
        charity_id, other_id = charity.id, other.id
    own = add_entry(services, world, clock, title="Parent carer forum", category="information_advice",
                    provider_id=str(charity_id))
    theirs = add_entry(services, world, clock, title="Another group", category="leisure", provider_id=str(other_id))
    volunteer = signed_in(app, "volunteer@charity.example")
    page = volunteer.page("/local-offer-provider/")
    listing = text_of(page)
    assert "Parent carer forum" in listing and "Another group" not in listing
    assert "Your Local Offer entries" in [a.get_text(strip=True) for a in page.select("nav a")]  # in their menu
    volunteer.get(f"/local-offer-provider/entries/{theirs}", status=404)
    health_entry = add_entry(services, world, clock, provider_id=str(world.health.id))
    volunteer.get(f"/local-offer-provider/entries/{health_entry}", status=404)
    # The role opens no case, task list of the authority or editor's page.
    assert volunteer.get(f"/cases/{world.case_id}", status=None).status_code in (403, 404)
    assert volunteer.get("/local-offer-editor/", status=None).status_code == 403
    volunteer.post(f"/local-offer-provider/entries/{own}", {"title": "Parent carer forum", "age_from": "0",
                                                            "age_to": "25", "offers": "Coffee mornings each Friday"},
                   status=302)
    manager = signed_in(app, world.users["manager"].email)
    manager.post(f"/local-offer-editor/changes/{pending_id(services)}", {"review_decision": "approve"}, status=302)
    assert "Coffee mornings each Friday" in text_of(client.page(f"/local-offer/TST/entries/{own}"))
    assert "is published in the Local Offer" in text_of(volunteer.page("/notices/"))
    with services.session_factory() as s:
        assert s.scalars(select(OutboxEmail.to_address)).all() == ["volunteer@charity.example"]


def test_a_change_sent_before_the_route_existed_is_reviewed_on_it(app: Flask, world: World, services: Services,
                                                                  clock: FrozenClock, client: Client) -> None:
    """A proposal kept before migration 0018 has no route: opening it starts the route, so it is decided on the
    task like the others."""
    services.engine.deploy(real_routes())
    entry_id = add_entry(services, world, clock, provider_id=str(world.health.id))
    with services.session_factory() as s:
        entry = s.get(proposals.LocalOfferEntry, entry_id)
        row = proposals.propose(s, entry, world.health.id, {**proposals.entry_values(entry), "cost": "£5 a session"},
                                clock.now(), None)
        s.commit()
        assert row.route_state is None
    manager = signed_in(app, world.users["manager"].email)
    assert "Review the provider's change" in text_of(manager.page(f"/local-offer-editor/changes/{row.id}"))
    manager.post(f"/local-offer-editor/changes/{row.id}", {"review_decision": "approve"}, status=302)
    assert "£5 a session" in text_of(client.page(f"/local-offer/TST/entries/{entry_id}"))
    with services.session_factory() as s:
        entry = s.get(proposals.LocalOfferEntry, entry_id)
        assert entry is not None and entry.last_checked_on == date(2026, 3, 2)


def test_a_providers_change_is_escaped_everywhere(app: Flask, world: World, services: Services,
                                                  clock: FrozenClock) -> None:
    services.engine.deploy(real_routes())
    entry_id = add_entry(services, world, clock, provider_id=str(world.health.id))
    health = signed_in(app, world.users["health"].email)
    health.post(f"/local-offer-provider/entries/{entry_id}", {"title": EVIL, "offers": EVIL, "age_from": "0",
                                                              "age_to": "25"}, status=302)
    manager = signed_in(app, world.users["manager"].email)
    proposal_id = pending_id(services)
    pages = [manager.get(f"/local-offer-editor/changes/{proposal_id}"), manager.get("/local-offer-editor/changes"),
             health.get(f"/local-offer-provider/entries/{entry_id}")]
    manager.post(f"/local-offer-editor/changes/{proposal_id}", {"review_decision": "changes", "review_reason": EVIL},
                 status=302)
    with services.session_factory() as s:
        notice_id = s.scalars(select(OrganisationNotice.id)).one()
    pages += [health.get("/local-offer-provider/"), health.get(f"/notices/{notice_id}"), health.get("/notices/")]
    for response in pages:
        assert "<script>alert" not in response.get_data(as_text=True), response.request.path
