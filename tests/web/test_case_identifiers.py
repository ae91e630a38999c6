"""The child's optional identifiers (issue 17, point 10): an NHS number (with its check digit) and a unique learner
number, recorded on the child's details page, audited, and shown on the case page with the UPN."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select

from engine.intake.child_details import check_nhs_number, check_uln, update_child_details
from engine.runtime.services import Services
from engine.store.models import AuditEvent, Case
from tests.conftest import World
from tests.web.conftest import soup, text_of
from tests.web.test_case_details import GOOD


def test_nhs_number_check_digits_worked_out_by_hand() -> None:
    """943 476 5919: 9x10 + 4x9 + 3x8 + 4x7 + 7x6 + 6x5 + 5x4 + 9x3 + 1x2 = 299; 299 = 27x11 + 2; 11 - 2 = 9, the
    last digit. 401 023 2137: 4x10 + 0 + 1x8 + 0 + 2x6 + 3x5 + 2x4 + 1x3 + 3x2 = 92 = 8x11 + 4; 11 - 4 = 7."""
    assert check_nhs_number("9434765919") is None
    assert check_nhs_number("4010232137") is None
    assert check_nhs_number("9434765918") == "Enter a real NHS number: check each digit"
    assert check_nhs_number("943476591") == "Enter an NHS number with 10 digits, like 943 476 5919"
    # 000 000 0060: 6x2 = 12 = 11 + 1; 11 - 1 = 10, a check digit never issued: refused whatever the last digit.
    assert check_nhs_number("0000000060") is not None
    assert check_uln("1234567890") is None and check_uln("12345") is not None


def test_a_caseworker_records_the_nhs_number_and_uln(as_user: Any, world: World, services: Services) -> None:
    client = as_user("caseworker")
    page = soup(client.post(f"/cases/{world.case_id}/details", {**GOOD, "nhs_number": "943 476 5918", "uln": "12"},
                            status=400))
    assert [text_of(a) for a in page.select(".govuk-error-summary a")] == [
        "Enter a real NHS number: check each digit", "Enter a unique learner number with 10 digits"]
    client.post(f"/cases/{world.case_id}/details", {**GOOD, "nhs_number": "943 476 5919", "uln": "1234567890"},
                status=302)
    with services.session_factory() as s:
        case = s.get(Case, world.case_id)
        assert case is not None and (case.nhs_number, case.uln) == ("9434765919", "1234567890")
        event = s.scalars(select(AuditEvent).where(AuditEvent.case_id == world.case_id,
                                                   AuditEvent.action == "child_details_changed")).one()
        assert event.detail["nhs_number"] == {"from": None, "to": "9434765919"}
    rows = {text_of(r.select_one("dt")): text_of(r.select_one("dd"))
            for r in client.page(f"/cases/{world.case_id}").select(".govuk-summary-list__row")}
    assert rows["Identifiers"] == "UPN: B801200005001, NHS number: 9434765919, ULN: 1234567890"
    # A caller that does not ask for them (the demo data) keeps them; the page, which always sends them, can clear them.
    with services.session_factory() as s:
        case = s.get(Case, world.case_id)
        assert case is not None
        raw = {"first_name": "Alexandra", "last_name": "Taylor-Jones", "date_of_birth": "2015-05-04"}
        update_child_details(s, case, raw, None, datetime(2026, 3, 2, 10, tzinfo=UTC), date(2026, 3, 2))
        assert case.nhs_number == "9434765919"
