"""The child's details on a case (names, date of birth, address, postcode, UPN, sex, ethnicity): corrected by the
responsible authority's caseworkers and managers, every change audited, every bad value refused with its GOV.UK
message and nothing saved; and the SEN2 export's "what to fix" leads here."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select

from engine.intake.child_details import check_upn, upn_check_letter
from engine.reports.sen2 import sen2_export
from engine.runtime.services import Services
from engine.store.models import AuditEvent, Case
from tests.conftest import World
from tests.web.conftest import Client, soup, text_of

# The world's case: Alex Taylor, born 14 May 2015; the clock stands at 2 March 2026, 10:00 UTC (10:00 in London).
GOOD = {"first_name": "Alexandra", "last_name": "Taylor-Jones", "date_of_birth-day": "4",
        "date_of_birth-month": "05", "date_of_birth-year": "2015", "address": "12 Mill Lane\r\n  Northtown  ",
        "postcode": "ns1  4ab", "upn": "b801200005001", "sex": "F", "ethnicity": "MWBA"}


def _details(services: Services, case_id: int) -> dict[str, Any]:
    with services.session_factory() as s:
        c = s.get(Case, case_id)
        return {"first": c.child_first_name, "last": c.child_last_name, "born": c.date_of_birth,
                "address": c.address, "postcode": c.postcode, "upn": c.upn, "sex": c.sex, "ethnicity": c.ethnicity}


def _audits(services: Services, case_id: int) -> list[AuditEvent]:
    with services.session_factory() as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.case_id == case_id,
                                                       AuditEvent.action == "child_details_changed")))


def test_upn_check_letters_worked_out_by_hand() -> None:
    """B801200005001: 8x2 + 0x3 + 1x4 + 2x5 + 0x6..0x9 + 5x10 + 0x11 + 0x12 + 1x13 = 93; 93 - 4x23 = 1, which is B.
    The temporary M80120000500A: its last letter A counts 0, so 16 + 4 + 10 + 50 = 80; 80 - 3x23 = 11, which is M
    (A to H are 0 to 7, I is skipped, J is 8 ... M is 11)."""
    assert upn_check_letter("B801200005001") == "B"
    assert upn_check_letter("X80120000500A") == "M"
    assert check_upn("B801200005001") is None and check_upn("M80120000500A") is None
    assert check_upn("A801200005001") is not None  # the wrong check letter
    assert check_upn("M80120000500O") == "A temporary unique pupil number cannot end in I, O or S"


def test_a_caseworker_corrects_the_details_and_each_change_is_audited(as_user: Any, world: World,
                                                                      services: Services) -> None:
    client = as_user("caseworker")
    change = soup(client.get(f"/cases/{world.case_id}")).select_one(f"a[href='/cases/{world.case_id}/details']")
    assert change is not None and text_of(change).startswith("Change")
    form = client.page(f"/cases/{world.case_id}/details")
    assert [form.select_one(f"#{name}")["value"] for name in ("first_name", "last_name")] == ["Alex", "Taylor"]
    assert [form.select_one(f"#date_of_birth-{p}")["value"] for p in ("day", "month", "year")] == ["14", "5", "2015"]
    assert form.select_one("#sex option[selected]").get_text() == "Not recorded"
    assert len(form.select("#ethnicity option")) == 21  # not recorded, then the DfE's 20 main codes
    assert form.select_one("form input[name=csrf_token]") is not None

    response = client.post(f"/cases/{world.case_id}/details", GOOD, status=302)
    assert response.headers["Location"] == f"/cases/{world.case_id}"
    assert _details(services, world.case_id) == {
        "first": "Alexandra", "last": "Taylor-Jones", "born": date(2015, 5, 4), "address": "12 Mill Lane\nNorthtown",
        "postcode": "NS1 4AB", "upn": "B801200005001", "sex": "F", "ethnicity": "MWBA"}
    (event,) = _audits(services, world.case_id)
    assert event.actor_id == world.users["caseworker"].id
    assert event.detail == {"first_name": {"from": "Alex", "to": "Alexandra"},
                            "last_name": {"from": "Taylor", "to": "Taylor-Jones"},
                            "date_of_birth": {"from": "2015-05-14", "to": "2015-05-04"},
                            "address": {"from": None, "to": "12 Mill Lane\nNorthtown"},
                            "postcode": {"from": None, "to": "NS1 4AB"}, "upn": {"from": None, "to": "B801200005001"},
                            "sex": {"from": None, "to": "F"}, "ethnicity": {"from": None, "to": "MWBA"}}
    assert "First name: Alex → Alexandra" in event.summary and "Sex: not recorded → F" in event.summary
    page = client.page(f"/cases/{world.case_id}")
    assert "Alexandra Taylor-Jones" in text_of(page) and "4 May 2015" in text_of(page)

    # The same answers again change nothing and add nothing to the history; a manager can clear the optional ones.
    client.post(f"/cases/{world.case_id}/details", GOOD, status=302)
    assert "Nothing changed." in text_of(client.page(f"/cases/{world.case_id}"))
    assert len(_audits(services, world.case_id)) == 1
    as_user("manager").post(f"/cases/{world.case_id}/details",
                            {**GOOD, "address": "", "postcode": "", "upn": "", "sex": "U", "ethnicity": "REFU"},
                            status=302)
    after = _details(services, world.case_id)
    assert (after["address"], after["postcode"], after["upn"], after["sex"], after["ethnicity"]) == \
        (None, None, None, "U", "REFU")
    assert _audits(services, world.case_id)[-1].detail["upn"] == {"from": "B801200005001", "to": None}


BAD = [
    ({"first_name": ""}, "#first_name", "Enter the child's first name"),
    ({"last_name": "   "}, "#last_name", "Enter the child's last name"),
    ({"first_name": "A" * 101}, "#first_name", "First name must be 100 characters or fewer"),
    ({"date_of_birth-day": "", "date_of_birth-month": "", "date_of_birth-year": ""}, "#date_of_birth-day",
     "Enter the child's date of birth"),
    ({"date_of_birth-month": ""}, "#date_of_birth-month", "Date of birth must include a month"),
    ({"date_of_birth-day": "", "date_of_birth-year": ""}, "#date_of_birth-day",
     "Date of birth must include a day and a year"),
    ({"date_of_birth-day": "29", "date_of_birth-month": "2", "date_of_birth-year": "2015"}, "#date_of_birth-day",
     "Date of birth must be a real date"),  # 2015 was not a leap year
    ({"date_of_birth-year": "15"}, "#date_of_birth-day", "Date of birth must be a real date"),
    ({"date_of_birth-day": "x"}, "#date_of_birth-day", "Date of birth must be a real date"),
    # The clock stands at 10:00 on Monday 2 March 2026 in London: the 3rd is tomorrow.
    ({"date_of_birth-day": "3", "date_of_birth-month": "3", "date_of_birth-year": "2026"}, "#date_of_birth-day",
     "Date of birth must be today or in the past"),
    ({"address": "x" * 501}, "#address", "Address must be 500 characters or fewer"),
    ({"postcode": "12345"}, "#postcode", "Enter a real postcode, like SW1A 1AA"),
    ({"upn": "B80120000500"}, "#upn",
     "Enter a unique pupil number of 13 characters: a letter, 11 digits, then a digit or letter"),
    ({"upn": "A801200005001"}, "#upn",
     "Enter the unique pupil number exactly as the school has it: its first letter does not match the rest"),
    ({"upn": "M80120000500S"}, "#upn", "A temporary unique pupil number cannot end in I, O or S"),
    ({"sex": "X"}, "#sex", "Select the child's sex from the list"),
    ({"ethnicity": "WHITE"}, "#ethnicity", "Select the child's ethnicity from the list"),
]


@pytest.mark.parametrize(("wrong", "anchor", "message"), BAD, ids=[b[2][:40] for b in BAD])
def test_every_bad_value_gives_its_govuk_error_and_saves_nothing(as_user: Any, world: World, services: Services,
                                                                 wrong: dict[str, str], anchor: str,
                                                                 message: str) -> None:
    before = _details(services, world.case_id)
    client = as_user("caseworker")
    page = soup(client.post(f"/cases/{world.case_id}/details", {**GOOD, **wrong}, status=400))
    assert page.title.get_text().startswith("Error:")
    links = [(a["href"], text_of(a)) for a in page.select(".govuk-error-summary a")]
    assert links == [(anchor, message)]
    assert message in text_of(page.select_one(".govuk-error-message"))
    assert page.select_one(anchor) is not None  # the summary's link leads to the field
    assert _details(services, world.case_id) == before and _audits(services, world.case_id) == []
    # What was typed is kept, so that only the mistake needs typing again.
    field = anchor[1:]
    if field in ("first_name", "last_name", "postcode", "upn") or field.startswith("date_of_birth"):
        assert page.select_one(anchor)["value"] == {**GOOD, **wrong}[field]


def test_several_mistakes_are_listed_in_the_pages_order_and_a_shared_upn_is_refused(
        as_user: Any, world: World, services: Services) -> None:
    with services.session_factory() as s:
        s.add(Case(reference="EHC-2026-09999", child_first_name="Twin", child_last_name="Taylor", la_id=world.la.id,
                   upn="B801200005001", status="open", created_at=datetime(2026, 1, 5, tzinfo=UTC)))
        s.commit()
    page = soup(as_user("manager").post(f"/cases/{world.case_id}/details",
                                        {**GOOD, "sex": "Q", "last_name": "", "postcode": "N1"}, status=400))
    assert [text_of(a) for a in page.select(".govuk-error-summary a")] == [
        "Enter the child's last name", "Enter a real postcode, like SW1A 1AA",
        "Case EHC-2026-09999 already has this unique pupil number: check which child it belongs to",
        "Select the child's sex from the list"]
    assert _audits(services, world.case_id) == []


def test_a_name_with_markup_is_saved_and_shown_as_text(as_user: Any, world: World, services: Services) -> None:
    client = as_user("caseworker")
    client.post(f"/cases/{world.case_id}/details", {**GOOD, "first_name": "<script>alert(1)</script>"}, status=302)
    assert _details(services, world.case_id)["first"] == "<script>alert(1)</script>"
    for url in (f"/cases/{world.case_id}", f"/cases/{world.case_id}/details", f"/cases/{world.case_id}/timeline"):
        html = client.get(url).get_data(as_text=True)
        assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html, url
    # Refused with another mistake, the markup typed comes back as text in the field too.
    response = client.post(f"/cases/{world.case_id}/details",
                           {**GOOD, "first_name": "<b>x</b>", "sex": "?"}, status=400)
    assert "<b>x</b>" not in response.get_data(as_text=True)
    assert soup(response).select_one("#first_name")["value"] == "<b>x</b>"


def test_a_form_without_its_csrf_token_is_refused(as_user: Any, world: World, services: Services) -> None:
    before = _details(services, world.case_id)
    client = as_user("caseworker")
    client.post(f"/cases/{world.case_id}/details", GOOD, token=False, status=400)
    client.post(f"/cases/{world.case_id}/details", {**GOOD, "csrf_token": "forged"}, status=400)
    assert _details(services, world.case_id) == before and _audits(services, world.case_id) == []


def test_only_the_responsible_authoritys_caseworkers_and_managers(as_user: Any, client: Client, world: World,
                                                                  services: Services) -> None:
    before = _details(services, world.case_id)
    url = f"/cases/{world.case_id}/details"
    for user, status in (("health", 403), ("school", 403), ("ep", 403), ("socialcare", 403), ("admin", 403),
                         ("other_caseworker", 404), ("other_manager", 404), ("parent", 403)):
        as_user(user).get(url, status=status)
        as_user(user).post(url, GOOD, status=status)
    assert client.get(url, status=302).headers["Location"].startswith("/sign-in")
    assert _details(services, world.case_id) == before
    # The case page shows the link only to those who may use it.
    assert soup(as_user("ep").get(f"/cases/{world.case_id}")).select_one(f"a[href='{url}']") is None
    # The other authority's caseworker corrects their own case.
    as_user("other_caseworker").post(f"/cases/{world.other_case_id}/details", GOOD, status=302)
    assert _details(services, world.other_case_id)["sex"] == "F"


def test_sen2_what_to_fix_links_to_the_details_and_fixing_them_exports_the_record(as_user: Any, world: World,
                                                                                  services: Services) -> None:
    from tests.engine.test_sen2 import _request

    with services.session_factory() as s:
        case = s.get(Case, world.case_id)
        case.postcode, case.upn = "TS1 1AA", "B801200005001"
        _request(s, world, world.case_id, datetime(2026, 2, 2, 10, tzinfo=UTC))
        s.commit()
    manager = as_user("manager")
    page = manager.page("/reports/sen2?year=2026")
    links = {text_of(a): a["href"] for a in page.select("#refused ~ table tbody td a")}
    assert links == {"Sex: record the child's sex on the case": f"/cases/{world.case_id}/details#sex",
                     "Ethnicity: record the child's ethnicity on the case":
                         f"/cases/{world.case_id}/details#ethnicity"}
    form = manager.page(links["Sex: record the child's sex on the case"].split("#")[0])
    assert form.select_one("#sex") is not None and form.select_one("#ethnicity") is not None
    manager.post(f"/cases/{world.case_id}/details",
                 {**GOOD, "first_name": "Alex", "last_name": "Taylor", "date_of_birth-day": "14",
                  "postcode": "TS1 1AA", "sex": "M", "ethnicity": "NOBT"}, status=302)
    with services.session_factory() as s:
        export = sen2_export(s, world.la.id, 2026)
    assert export.refused == []
    (row,) = export.rows
    assert (row["Forename"], row["Sex"], row["Ethnicity"], row["UPN"], row["PersonBirthDate"]) == \
        ("Alex", "M", "NOBT", "B801200005001", "2015-05-14")
    assert "None: every record can be exported (1 record)." in text_of(manager.page("/reports/sen2?year=2026"))


@pytest.mark.parametrize(("typed", "marked"), [
    ({"date_of_birth-day": "4", "date_of_birth-month": "", "date_of_birth-year": ""}, {"month", "year"}),
    ({"date_of_birth-day": "", "date_of_birth-month": "", "date_of_birth-year": ""}, {"day", "month", "year"}),
    ({"date_of_birth-day": "31", "date_of_birth-month": "2", "date_of_birth-year": "2015"}, {"day", "month", "year"}),
])
def test_a_date_of_birth_in_error_marks_the_parts_left_empty_or_all(as_user: Any, world: World, typed: dict[str, str],
                                                                   marked: set[str]) -> None:
    page = soup(as_user("caseworker").post(f"/cases/{world.case_id}/details", {**GOOD, **typed}, status=400))
    assert {p for p in ("day", "month", "year")
            if "govuk-input--error" in page.select_one(f"#date_of_birth-{p}")["class"]} == marked
