"""The case's contact log (calls, emails, meetings: who, when, what): added and read by the responsible authority's
caseworkers and managers only, audited without its content, escaped, protected by CSRF; and the case search by date
of birth, postcode and unique pupil number."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select

from engine.runtime.services import Services
from engine.store.case_notes import CaseNote
from engine.store.models import AuditEvent, Base, Case
from tests.conftest import World
from tests.web.conftest import soup, text_of

# The clock stands at Monday 2 March 2026, 10:00 UTC (10:00 in London).
NOTE = {"kind": "call", "happened_on-day": "27", "happened_on-month": "2", "happened_on-year": "2026",
        "with_whom": "Sam Taylor (mother)", "summary": "Asked when the draft plan is due.\nTold her 16 March."}


def _notes(services: Services, case_id: int) -> list[CaseNote]:
    with services.session_factory() as s:
        return list(s.scalars(select(CaseNote).where(CaseNote.case_id == case_id)))


def test_a_caseworker_logs_a_call_and_sees_it_on_the_case(as_user: Any, world: World, services: Services) -> None:
    client = as_user("caseworker")
    case_page = client.page(f"/cases/{world.case_id}")
    assert "No contacts recorded yet." in text_of(case_page.select_one("#contact-log").find_parent("section"))
    form = client.page(f"/cases/{world.case_id}/contact-log")
    assert form.select_one("form input[name=csrf_token]") is not None
    # A new entry is a contact made today.
    assert [form.select_one(f"#happened_on-{p}")["value"] for p in ("day", "month", "year")] == ["2", "3", "2026"]
    response = client.post(f"/cases/{world.case_id}/contact-log", NOTE, status=302)
    assert response.headers["Location"].endswith(f"/cases/{world.case_id}/contact-log")
    [note] = _notes(services, world.case_id)
    assert (note.kind, note.happened_on.isoformat(), note.with_whom) == ("call", "2026-02-27", "Sam Taylor (mother)")
    assert note.recorded_by_id == world.users["caseworker"].id
    log = text_of(client.page(f"/cases/{world.case_id}/contact-log").select_one("main"))
    assert "Phone call with Sam Taylor (mother)" in log and "27 February 2026" in log
    assert "Recorded by Caseworker" in log
    section = client.page(f"/cases/{world.case_id}").select_one("#contact-log").find_parent("section")
    assert "Told her 16 March." in text_of(section)
    # Audited, without what was said (the timeline is read more widely than the log).
    with services.session_factory() as s:
        [event] = s.scalars(select(AuditEvent).where(AuditEvent.case_id == world.case_id,
                                                     AuditEvent.action == "case_note_added")).all()
        assert event.summary == "Contact log: phone call recorded"
        assert event.actor_id == world.users["caseworker"].id
        assert "draft plan" not in str(event.detail) and "Sam" not in str(event.detail)


def test_each_bad_field_is_refused_with_its_message_and_nothing_is_saved(as_user: Any, world: World,
                                                                        services: Services) -> None:
    client = as_user("manager")
    page = soup(client.post(f"/cases/{world.case_id}/contact-log", {"happened_on-day": "", "happened_on-month": "",
                                                                     "happened_on-year": ""}, status=400))
    assert [text_of(a) for a in page.select(".govuk-error-summary a")] == [
        "Select the kind of contact", "Enter the date of the contact", "Enter who the contact was with",
        "Enter what was said or agreed"]
    tomorrow = {**NOTE, "happened_on-day": "3", "happened_on-month": "3"}  # Tuesday 3 March 2026
    page = soup(client.post(f"/cases/{world.case_id}/contact-log", tomorrow, status=400))
    assert "Date of the contact must be today or in the past" in text_of(page.select_one(".govuk-error-summary"))
    page = soup(client.post(f"/cases/{world.case_id}/contact-log", {**NOTE, "happened_on-day": "30"}, status=400))
    assert "Date of the contact must be a real date" in text_of(page.select_one(".govuk-error-summary"))  # 30 Feb
    assert _notes(services, world.case_id) == []


def test_only_the_authoritys_caseworkers_and_managers_have_need_to_know(as_user: Any, world: World,
                                                                        services: Services) -> None:
    as_user("caseworker").post(f"/cases/{world.case_id}/contact-log", NOTE, status=302)
    for who in ("ep", "socialcare", "admin", "processowner", "school", "health", "mediation"):
        client = as_user(who)
        client.get(f"/cases/{world.case_id}/contact-log", status=403)
        client.post(f"/cases/{world.case_id}/contact-log", NOTE, status=403)
        case_page = client.get(f"/cases/{world.case_id}", status=None)
        if case_page.status_code == 200:
            assert soup(case_page).select_one("#contact-log") is None, who
            assert "Sam Taylor (mother)" not in case_page.get_data(as_text=True), who
    as_user("other_caseworker").get(f"/cases/{world.case_id}/contact-log", status=404)
    as_user("parent").get(f"/cases/{world.case_id}/contact-log", status=None)
    assert len(_notes(services, world.case_id)) == 1


def test_a_note_without_its_csrf_token_is_refused(as_user: Any, world: World, services: Services) -> None:
    client = as_user("caseworker")
    client.post(f"/cases/{world.case_id}/contact-log", NOTE, token=False, status=400)
    client.post(f"/cases/{world.case_id}/contact-log", {**NOTE, "csrf_token": "forged"}, status=400)
    assert _notes(services, world.case_id) == []


def test_a_note_with_html_is_shown_as_text(as_user: Any, world: World) -> None:
    client = as_user("caseworker")
    client.post(f"/cases/{world.case_id}/contact-log",
                {**NOTE, "with_whom": "<i>Evil</i> Parent", "summary": "<script>alert('x')</script> & more"},
                status=302)
    for url in (f"/cases/{world.case_id}/contact-log", f"/cases/{world.case_id}"):
        html = client.get(url).get_data(as_text=True)
        assert "<script>alert('x')" not in html and "<i>Evil</i>" not in html, url
        assert "<script>alert('x')</script> & more" in text_of(soup(client.get(url))), url


def test_the_contact_log_table_is_migrated_as_modelled(services: Services) -> None:
    with services.db.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert [d for d in differences if "case_note" in repr(d)] == []


# ---- search ----------------------------------------------------------------------------------------------------------

def test_cases_are_found_by_date_of_birth_postcode_and_upn(as_user: Any, world: World, services: Services) -> None:
    """Alex Taylor was born on 14 May 2015 (the world's case); Bo Other, of another authority, on 1 January 2016."""
    with services.session_factory() as s:
        case = s.get(Case, world.case_id)
        assert case is not None
        case.postcode, case.upn = "NS1 4AB", "B801200005001"
        s.commit()
    client = as_user("caseworker")

    def found(q: str) -> list[str]:
        return [a.get_text() for a in client.page("/cases/", query_string={"q": q}).select("tbody a")]

    for q in ("14/05/2015", "14/5/2015", "14-05-2015", "14 May 2015", "14 may 2015", "2015-05-14",
              "NS1 4AB", "ns14ab", "NS1", "b801200005001", "B801200005001 ", "taylor"):
        assert found(q) == ["Alex Taylor"], q
    for q in ("15/05/2015", "05/14/2015", "31/02/2015", "NS12", "NS1 4AC", "B801200005002", "01/01/2016"):
        assert found(q) == [], q
