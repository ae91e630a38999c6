"""The Local Offer's engine: saving and checking entries, search with every filter (and odd input), the review list,
the fixed pages' safe rendering, comments with the throttle kept in the database, moderation and publication by
year."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import FormInvalid, NotFound
from engine.local_offer import comments, entries, pages, proposals
from engine.local_offer.authorities import authority, local_authorities
from engine.runtime.services import Services
from engine.store.local_offer import LocalOfferEntry
from tests.conftest import World, real_routes

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def entry_data(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": "Speech and language therapy", "category": "health", "needs": ["communication_interaction"],
        "age_from": "0", "age_to": "18", "area": "North", "offers": "Therapy for children who stammer",
        "who_for": "Children with speech, language and communication needs", "eligibility": "A GP referral",
        "how_to_access": "Ask your GP", "contact_name": "SLT team", "contact_email": "slt@nhs.example",
        "contact_phone": "01234 567890", "website": "https://slt.example", "opening_hours": "Mon-Fri 9-5",
        "cost": "Free", "sen_report_url": "", "status": "published", "organisation_id": "",
    }
    data.update(changes)
    return data


@pytest.fixture
def session(services: Services) -> Any:
    with services.session_factory() as s:
        yield s


def add(session: Session, world: World, today: date | None = None, **changes: Any) -> LocalOfferEntry:
    return entries.save_entry(session, world.la.id, entry_data(**changes), NOW, today or NOW.date(), None)


def test_saving_an_entry_checks_it_today_and_points_at_the_setting_record(session: Session, world: World) -> None:
    row = add(session, world, title="Test Primary School", category="primary", organisation_id=str(world.school.id),
              sen_report_url="https://school.example/sen-report")
    assert row.last_checked_on == NOW.date() and row.organisation_id == world.school.id
    assert entries.entry_json(row)["setting"] == {"id": world.school.id, "name": "Test Primary School",
                                                  "setting_type": "maintained_school"}


@pytest.mark.parametrize(("changes", "field"), [
    ({"title": " "}, "title"), ({"category": "cake"}, "category"), ({"needs": ["flying"]}, "needs"),
    ({"age_from": "x"}, "age_from"), ({"age_to": "26"}, "age_to"), ({"age_from": "12", "age_to": "5"}, "age_to"),
    ({"website": "javascript:alert(1)"}, "website"), ({"sen_report_url": "ftp://x"}, "sen_report_url"),
    ({"contact_email": "not an email"}, "contact_email"), ({"status": "live"}, "status"),
    ({"offers": "x" * 5001}, "offers"),
])
def test_an_entry_refuses_bad_values(session: Session, world: World, changes: dict[str, Any], field: str) -> None:
    with pytest.raises(FormInvalid) as caught:
        add(session, world, **changes)
    assert field in caught.value.errors


def test_an_entry_can_point_only_at_a_setting(session: Session, world: World) -> None:
    with pytest.raises(FormInvalid) as caught:
        add(session, world, organisation_id=str(world.health.id))
    assert "organisation_id" in caught.value.errors


def test_another_authoritys_entry_is_not_found(session: Session, world: World) -> None:
    row = add(session, world)
    with pytest.raises(NotFound):
        entries.entry_of(session, world.other_la.id, row.id, published_only=False)
    with pytest.raises(NotFound):
        entries.save_entry(session, world.other_la.id, entry_data(), NOW, NOW.date(), None, row)


def test_search_filters_by_words_category_need_age_and_area(session: Session, world: World) -> None:
    add(session, world)  # health, communication, 0-18, North
    add(session, world, title="Autism outreach", category="information_advice", needs=[], age_from="5",
        age_to="25", area="South", offers="Advice for 100% of schools")
    add(session, world, title="Draft service", status="draft")
    add(session, world, title="Elsewhere", offers="Swimming sessions")
    entries.save_entry(session, world.other_la.id, entry_data(title="Other LA therapy"), NOW, NOW.date(), None)
    areas = entries.areas_of(session, world.la.id)
    assert areas == ["North", "South"]

    def titles(**args: str) -> list[str]:
        return [e.title for e in entries.search(session, world.la.id, entries.parse_search(args, areas)).rows]

    assert titles() == ["Autism outreach", "Elsewhere", "Speech and language therapy"]  # no draft, no other LA
    assert titles(q="THERAPY stammer") == ["Speech and language therapy"]
    assert titles(q="therapy autism") == []  # every word must match
    assert titles(category="information_advice") == ["Autism outreach"]
    # An entry with no needs named is for every need.
    assert titles(need="semh") == ["Autism outreach"]
    assert titles(need="communication_interaction") == ["Autism outreach", "Elsewhere", "Speech and language therapy"]
    assert titles(age="19") == ["Autism outreach"]
    assert titles(age="4") == ["Elsewhere", "Speech and language therapy"]
    assert titles(area="South") == ["Autism outreach"]
    # LIKE wildcards are words, not patterns.
    assert titles(q="100%") == ["Autism outreach"]
    assert titles(q="%") == ["Autism outreach"]
    assert titles(q="_") == []


def test_odd_search_input_is_dropped_with_a_message_not_an_error(session: Session, world: World) -> None:
    s = entries.parse_search({"category": "<script>", "need": "x", "age": "-3", "area": "Mars", "page": "99999999999",
                              "q": "  lots   of\tspace "}, ["North"])
    assert (s.category, s.need, s.age, s.area, s.page, s.words) == ("", "", None, "", 1, "lots of space")
    assert len(s.problems) == 4
    assert entries.parse_search({"age": "abc"}, []).age is None
    assert entries.search(session, world.la.id, s).total == 0


def test_search_pages_twenty_at_a_time(session: Session, world: World) -> None:
    for n in range(45):
        add(session, world, title=f"Service {n:02d}")
    found = entries.search(session, world.la.id, entries.Search(page=3))
    assert (found.total, found.pages, found.page, [e.title for e in found.rows]) == (
        45, 3, 3, ["Service 40", "Service 41", "Service 42", "Service 43", "Service 44"])
    # A page past the end shows the last page.
    assert entries.search(session, world.la.id, entries.Search(page=9)).page == 3


def test_the_review_list_holds_entries_unchecked_for_12_months(session: Session, world: World) -> None:
    """Today is 2 March 2026: 12 months back is 2 March 2025. Checked that day: on the list; checked on 3 March 2025:
    not yet. An entry never checked is first. On 29 Feb 2028 the cut-off is 28 Feb 2027 (month-end rule)."""
    on_day = add(session, world, title="Checked 2 Mar 2025", today=date(2025, 3, 2))
    add(session, world, title="Checked 3 Mar 2025", today=date(2025, 3, 3))
    never = add(session, world, title="Never checked")
    never.last_checked_on = None
    old_draft = add(session, world, title="Old draft", status="draft", today=date(2024, 1, 1))
    session.flush()
    assert [e.title for e in entries.review_list(session, world.la.id, NOW.date())] == [
        "Never checked", "Old draft", "Checked 2 Mar 2025"]
    assert entries.review_cutoff(date(2028, 2, 29)) == date(2027, 2, 28)
    assert on_day.id and old_draft.id


def test_fixed_pages_render_to_safe_blocks(session: Session, world: World) -> None:
    shown = pages.page_of(session, world.la.id, "TST", "request-an-assessment")
    assert "/request-an-assessment/?la=TST" in shown.body and shown.updated_at is None
    pages.save_page(session, world.la.id, "request-an-assessment", "Ask for an assessment",
                    "## Step one\nRead [the guide](/guide) and [bad](javascript:alert(1)) "
                    "[proto](//evil.example)\n- [mail](mailto:send@la.example)\n- <b>two</b>\n\nEnd", NOW, None)
    shown = pages.page_of(session, world.la.id, "TST", "request-an-assessment")
    assert shown.title == "Ask for an assessment"
    assert pages.blocks(shown.body) == [
        {"kind": "h2", "parts": [{"text": "Step one"}]},
        {"kind": "p", "parts": [{"text": "Read "}, {"text": "the guide", "href": "/guide"},
                                {"text": " and [bad](javascript:alert(1)) [proto](//evil.example)"}]},
        {"kind": "ul", "items": [[{"text": "mail", "href": "mailto:send@la.example"}], [{"text": "<b>two</b>"}]]},
        {"kind": "p", "parts": [{"text": "End"}]},
    ]
    with pytest.raises(NotFound):
        pages.page_of(session, world.la.id, "TST", "nope")
    with pytest.raises(FormInvalid):
        pages.save_page(session, world.la.id, "personal-budgets", "", "", NOW, None)


def test_comments_are_throttled_per_connection_in_the_database(session: Session, world: World) -> None:
    for n in range(3):
        comments.submit_comment(session, world.la.id, f"Comment number {n}", "conn-a", NOW, limit=3)
    with pytest.raises(comments.TooManyComments):
        comments.submit_comment(session, world.la.id, "One comment too many", "conn-a", NOW, limit=3)
    comments.submit_comment(session, world.la.id, "Another connection", "conn-b", NOW, limit=3)
    # An hour later the first connection may comment again.
    comments.submit_comment(session, world.la.id, "An hour later", "conn-a", NOW + timedelta(hours=1), limit=3)
    with pytest.raises(FormInvalid):
        comments.submit_comment(session, world.la.id, "short", "conn-c", NOW, limit=3)
    with pytest.raises(FormInvalid):
        comments.submit_comment(session, world.la.id, "x" * 2001, "conn-c", NOW, limit=3)


def test_moderation_publishes_by_year_with_the_response(session: Session, world: World) -> None:
    old = comments.submit_comment(session, world.la.id, "My name is Jo Bloggs and transport is late", "k",
                                  NOW - timedelta(days=400), limit=5)
    new = comments.submit_comment(session, world.la.id, "More short breaks please", "k", NOW, limit=5)
    spam = comments.submit_comment(session, world.la.id, "Buy cheap things here", "k", NOW, limit=5)
    assert comments.published_by_year(session, world.la.id) == {}
    with pytest.raises(FormInvalid) as caught:
        comments.moderate(session, new, "publish", new.text, "", "", NOW, world.users["manager"].id)
    assert set(caught.value.errors) == {"response"}
    with pytest.raises(FormInvalid):
        comments.moderate(session, new, "maybe", new.text, "x", "", NOW, None)
    comments.moderate(session, old, "publish", "Transport is late", "We agree.", "New contract from April.", NOW,
                      world.users["manager"].id)
    comments.moderate(session, new, "publish", new.text, "Thank you.", "", NOW, None)
    comments.moderate(session, spam, "reject", "", "", "", NOW, None)
    by_year = comments.published_by_year(session, world.la.id)
    assert [(year, [c.text for c in rows]) for year, rows in by_year.items()] == [
        (2026, ["More short breaks please"]), (2025, ["Transport is late"])]
    assert spam.status == "rejected" and comments.published_by_year(session, world.other_la.id) == {}
    with pytest.raises(NotFound):
        comments.comment_of(session, world.other_la.id, old.id)


def test_authorities_are_found_by_code_in_any_case(session: Session, world: World) -> None:
    assert authority(session, "tst").id == world.la.id
    with pytest.raises(NotFound):
        authority(session, "nope")
    assert [la.code for la in local_authorities(session)] == ["OTH", "TST"]


def test_the_demo_local_offer_covers_every_category_for_each_authority(services: Services, world: World) -> None:
    from demo.driver import DemoContext
    from demo.local_offer import seed_local_offer
    from engine.local_offer.categories import CATEGORIES

    ctx = DemoContext()
    ctx.organisations.update({"NSH": world.la, "SBH": world.other_la, "ICB": world.health})
    services.engine.deploy(real_routes())  # as `ehcflow setup` does before seeding: the changes wait on their route
    seed_local_offer(services.engine, ctx)
    assert {c[:2] for c in ctx.credentials} == {("localoffer@testshire.example", "Local Offer editor"),
                                                ("localoffer@otherham.example", "Local Offer editor"),
                                                ("volunteer@shiresparentcarers.example", "Local Offer provider")}
    with services.session_factory() as s:
        for la in (world.la, world.other_la):
            rows = entries.entries_of(s, la.id)
            assert len(rows) >= 60
            assert {c.code for c in CATEGORIES} <= {r.category for r in rows}
            assert entries.review_list(s, la.id, NOW.date())
            assert len(comments.published_by_year(s, la.id)) == 2
            # The health services are the ICB's, and it has proposed a change to one for the council to review.
            assert all(r.provider_id == world.health.id for r in rows if r.category == "health")
            # The charity provides the parent carer groups, and has sent Northshire (here Testshire) a change too.
            charity = ctx.organisations["SPCN"]
            assert {r.title for r in rows if r.provider_id == charity.id} == {"Parent carer forum",
                                                                              "Autism parent support group"}
            waiting = proposals.pending_for(s, la.id)
            assert [(p.provider_id, proposals.differences(p)[0].label) for p in waiting] == (
                [(world.health.id, "What it offers")] + ([(charity.id, "Contact email")] if la == world.la else []))
            assert all(p.route_state is not None and p.review_due_on for p in waiting)
        school = s.scalars(select(LocalOfferEntry).where(LocalOfferEntry.organisation_id == world.school.id)).one()
        assert school.category == "primary" and school.sen_report_url


# ---- providers keep their own entries up to date; the LA reviews the change -----------------------------------------

def test_a_provider_proposes_a_change_beside_the_published_entry(session: Session, world: World) -> None:
    """The change waits beside the entry and never alters it; proposing again replaces it; publishing puts it in
    and marks the entry checked that day (2 March 2026 -> 9 March 2026), taking it off the review list."""
    row = add(session, world, today=date(2025, 1, 10), provider_id=str(world.health.id))
    assert row in entries.review_list(session, world.la.id, NOW.date())
    first = proposals.propose(session, row, world.health.id, {**entry_data(), "cost": "£5 a session"}, NOW, None)
    again = proposals.propose(session, row, world.health.id, entry_data(cost="£4 a session", needs=[]), NOW, None)
    assert first.id == again.id and proposals.pending_for(session, world.la.id) == [again]
    assert (row.cost, row.needs, row.last_checked_on) == ("Free", ["communication_interaction"], date(2025, 1, 10))
    assert [(d.label, d.published, d.proposed) for d in proposals.differences(again)] == [
        ("Needs it is for", "Communication and interaction", "All needs"), ("Cost", "Free", "£4 a session")]
    later = NOW + timedelta(days=7)
    proposals.decide(session, again, "publish", "", later, later.date(), None)
    assert (row.cost, row.needs, row.last_checked_on) == ("£4 a session", [], date(2026, 3, 9))
    assert again.status == "published" and row not in entries.review_list(session, world.la.id, later.date())
    assert proposals.pending_for(session, world.la.id) == []


def test_a_provider_cannot_change_the_las_fields_or_anothers_entry(session: Session, world: World) -> None:
    school_entry = add(session, world, title="Test Primary School", category="primary",
                       organisation_id=str(world.school.id))
    health_entry = add(session, world, provider_id=str(world.health.id))
    assert proposals.entries_of_providers(session, [world.school.id]) == [school_entry]
    assert proposals.entries_of_providers(session, [world.health.id]) == [health_entry]
    for orgs, entry_id in (([world.school.id], health_entry.id), ([world.health.id], school_entry.id)):
        with pytest.raises(NotFound):
            proposals.provider_entry(session, orgs, entry_id)
    with pytest.raises(NotFound):
        proposals.propose(session, health_entry, world.school.id, entry_data(), NOW, None)
    # The category, status, setting and provider stay as the LA set them, whatever the form says.
    p = proposals.propose(session, school_entry, world.school.id, entry_data(
        title="Test Primary", category="health", status="draft", organisation_id="", provider_id=str(world.health.id)),
        NOW, None)
    proposals.decide(session, p, "publish", "", NOW, NOW.date(), None)
    assert (school_entry.title, school_entry.category, school_entry.status, school_entry.organisation_id,
            school_entry.provider_id) == ("Test Primary", "primary", "published", world.school.id, None)
    with pytest.raises(FormInvalid) as refused:
        proposals.propose(session, school_entry, world.school.id, entry_data(website="javascript:x"), NOW, None)
    assert set(refused.value.errors) == {"website"}


def test_the_la_returns_a_change_with_a_reason(session: Session, world: World) -> None:
    row = add(session, world, provider_id=str(world.health.id))
    p = proposals.propose(session, row, world.health.id, entry_data(offers="Everything for everyone"), NOW, None)
    for decision, reason, field in (("", "", "decision"), ("return", "  ", "reason"), ("return", "x" * 2001, "reason")):
        with pytest.raises(FormInvalid) as refused:
            proposals.decide(session, p, decision, reason, NOW, NOW.date(), None)
        assert set(refused.value.errors) == {field}
    proposals.decide(session, p, "return", "Say which ages the groups are for", NOW, NOW.date(), None)
    assert (p.status, p.reason, row.offers) == ("returned", "Say which ages the groups are for",
                                                "Therapy for children who stammer")
    assert proposals.latest_of(session, row.id) == p and proposals.pending_of(session, row.id) is None
    with pytest.raises(FormInvalid):
        proposals.decide(session, p, "publish", "", NOW, NOW.date(), None)  # already reviewed
    with pytest.raises(NotFound):
        proposals.proposal_of(session, world.other_la.id, p.id)


def test_an_entry_names_only_a_provider_organisation(session: Session, world: World) -> None:
    with pytest.raises(FormInvalid) as refused:
        add(session, world, provider_id=str(world.la.id))
    assert set(refused.value.errors) == {"provider_id"}
    row = add(session, world, provider_id=str(world.health.id))
    assert entries.entry_json(row)["provider"] == {"id": world.health.id, "name": "Testshire ICB"}


def test_a_provider_says_an_entry_is_still_right(session: Session, world: World) -> None:
    """Proposing the entry as it is changes nothing; publishing it marks the entry checked (10 January 2025 -> 2 March
    2026), so it leaves the review list (cut-off 2 March 2025)."""
    row = add(session, world, today=date(2025, 1, 10), provider_id=str(world.health.id))
    p = proposals.propose(session, row, world.health.id, proposals.entry_values(row), NOW, None)
    assert proposals.differences(p) == []
    proposals.decide(session, p, "publish", "", NOW, NOW.date(), None)
    assert row.last_checked_on == date(2026, 3, 2) and entries.review_list(session, world.la.id, NOW.date()) == []


def test_the_providers_migration_matches_its_models_and_goes_down_and_up(services: Services) -> None:
    """0011 adds local_offer_entry.provider_id and local_offer_proposal as modelled; back to 0010 drops them and keeps
    the entries; forward again brings them back, empty. (No World: later migrations' downgrades rebuild case tables.)"""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import inspect, text

    from engine.store.migrate import downgrade, upgrade
    from engine.store.models import Base, Organisation

    def differences() -> list[Any]:
        with services.db.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return [d for d in compare_metadata(context, Base.metadata) if "local_offer" in repr(d)]

    assert differences() == []
    with services.session_factory() as s:
        la, health = Organisation(name="LA", kind="local_authority"), Organisation(name="ICB", kind="health_body")
        s.add_all([la, health])
        s.flush()
        entries.save_entry(s, la.id, entry_data(provider_id=str(health.id)), NOW, NOW.date(), None)
        s.commit()
    downgrade(services.db, "0010")
    assert "provider_id" not in {c["name"] for c in inspect(services.db).get_columns("local_offer_entry")}
    assert "local_offer_proposal" not in inspect(services.db).get_table_names()
    upgrade(services.db)
    assert differences() == []
    with services.db.connect() as connection:
        assert connection.execute(text("SELECT title, provider_id FROM local_offer_entry")).all() == [
            ("Speech and language therapy", None)]
