"""The setting's notional SEN budget on the SENCO's SEN support page, set against the provision map (issue 19):
recorded by the setting's own SENCO for this financial year, in whole pounds as people type them, audited; refused
for another setting, and to anyone but a SENCO."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from sqlalchemy import select

from engine.casework import sen_support_budget as budget
from engine.errors import FormInvalid
from engine.store.models import AuditEvent
from engine.store.sen_budget import SenBudget
from tests.conftest import World
from tests.web.conftest import soup, text_of
from tests.web.test_sen_support_pages import PROVISION, School, planned, school, signed_in, utc  # noqa: F401


@pytest.mark.parametrize(("day", "year"), [(date(2026, 3, 31), 2025), (date(2026, 4, 1), 2026),
                                           (date(2027, 1, 15), 2026)])
def test_the_financial_year_starts_on_1_april(day: date, year: int) -> None:
    assert budget.financial_year(day) == year


@pytest.mark.parametrize(("typed", "amount"), [("24500", 24500), ("£24,500", 24500), (" £ 24,500.00 ", 24500),
                                               ("0", 0), ("50,000,000", 50_000_000)])
def test_amounts_are_read_as_people_type_them(typed: str, amount: int) -> None:
    assert budget.parse_amount(typed) == amount


@pytest.mark.parametrize("typed", ["", "lots", "24.5k", "-100", "2,45,00", "24500.50", "50000001", "1e6"])
def test_anything_else_is_refused_on_the_field(typed: str) -> None:
    with pytest.raises(FormInvalid) as refused:
        budget.parse_amount(typed)
    assert set(refused.value.errors) == {"amount"}


def test_the_senco_records_the_budget_and_sees_the_provision_map_against_it(app, school: School,  # noqa: F811
                                                                            world: World, services) -> None:
    """Alex's plan costs £1,200 a year (tests/workflows/test_sen_support.py PROVISION); a budget of £1,000 leaves
    £200 over. On 14 September 2026 the financial year is 2026 to 2027."""
    alex = school.start(world.case_id, utc(2026, 9, 7))
    planned(alex, utc(2026, 9, 14), "2026-12-07")
    senco = signed_in(app, world.users["school"])
    page = senco.page("/sen-support/")
    assert "Not recorded" in text_of(page.select_one("#budget"))
    school_id = world.school.id
    senco.post("/sen-support/budget", {"organisation_id": str(school_id), "amount": "£1,000"}, status=302)
    row = text_of(senco.page("/sen-support/").select_one("#budget"))
    assert "2026 to 2027" in row and "£1,200" in row and "£1,000" in row and "£200 over" in row
    senco.post("/sen-support/budget", {"organisation_id": str(school_id), "amount": "5000"}, status=302)
    assert "£3,800" in text_of(senco.page("/sen-support/").select_one("#budget"))
    with services.session_factory() as s:
        [kept] = s.scalars(select(SenBudget)).all()
        assert (kept.organisation_id, kept.year_from, kept.amount) == (school_id, 2026, 5000)
        audited = s.scalars(select(AuditEvent).where(AuditEvent.action == "sen_budget_recorded")
                            .order_by(AuditEvent.id)).all()
        assert [e.detail["before"] for e in audited] == [None, 1000]

    refused = senco.post("/sen-support/budget", {"organisation_id": str(school_id), "amount": "lots"}, status=400)
    page = soup(refused)
    assert "Enter the budget in whole pounds" in text_of(page.select_one(".govuk-error-summary"))
    assert page.select_one(f"#amount-{school_id}")["value"] == "lots"  # what was typed is kept
    assert "£5,000" in text_of(page.select_one("#budget"))  # and nothing changed


def test_only_the_settings_own_senco_records_its_budget(app, school: School, world: World,  # noqa: F811
                                                        services) -> None:
    theirs = signed_in(app, school.other_senco)
    theirs.post("/sen-support/budget", {"organisation_id": str(world.school.id), "amount": "100"}, status=404)
    theirs.post("/sen-support/budget", {"organisation_id": "not a number", "amount": "100"}, status=404)
    signed_in(app, world.users["caseworker"]).post(
        "/sen-support/budget", {"organisation_id": str(world.school.id), "amount": "100"}, status=403)
    with services.session_factory() as s:
        assert s.scalars(select(SenBudget)).all() == []


def test_a_senco_of_one_setting_need_not_say_which(app, school: School, world: World, services) -> None:  # noqa: F811
    senco = signed_in(app, world.users["school"])
    senco.post("/sen-support/budget", {"amount": "12000"}, status=302)
    with services.session_factory() as s:
        assert [(b.organisation_id, b.amount) for b in s.scalars(select(SenBudget))] == [(world.school.id, 12000)]


def test_the_provision_map_csv_ends_each_setting_with_its_budget_and_what_is_left(app, school: School,  # noqa: F811
                                                                                  world: World) -> None:
    alex = school.start(world.case_id, utc(2026, 9, 7))
    planned(alex, utc(2026, 9, 14), "2026-12-07")
    senco = signed_in(app, world.users["school"])
    senco.post("/sen-support/budget", {"amount": "1000"}, status=302)
    rows = list(csv.reader(io.StringIO(senco.get("/sen-support/provision-map.csv").get_data(as_text=True))))
    assert rows[-3:] == [["Test Primary School", "Total", "", "", "1.5", "1200.00"],
                         ["Test Primary School", "Notional SEN budget 2026 to 2027", "", "", "", "1000.00"],
                         ["Test Primary School", "Left of the budget", "", "", "", "-200.00"]]
