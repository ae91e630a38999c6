"""The front door in a real browser (issue 13): a parent with no account asks for an EHC needs assessment through
the public pages and gets the confirmation with the date the local authority must decide by; a caseworker registers
the request on the child EHC Flow already knows and the needs assessment starts, counting its 6 weeks from the moment
the request was received; the parent sets a password from the emailed link and sees the case.

The server's clock is frozen (``server_clock``) at Thursday 2 April 2026, 16:30 UTC, which is 17:30 BST in England:
after 17:00, so the request counts as received on the next working day. Friday 3 April is Good Friday, then the
weekend, then Easter Monday 6 April (bank holidays), so the clock starts on Tuesday 7 April 2026, and 6 weeks
(42 days) later the decision is due on Tuesday 19 May 2026 (7 April + 23 days = 30 April, + 19 days = 19 May).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from engine.statutory.clock import FrozenClock
from engine.store.models import Case, CaseParty, ProcessInstance, User
from engine.store.outbox import OutboxEmail
from engine.store.requests import AssessmentRequest
from tests.browser.conftest import LiveServer, screenshot
from tests.browser.test_journey import fast_password_hashing, sign_in, sign_out  # noqa: F401  (the fixture is used)
from tests.conftest import real_routes

pytestmark = pytest.mark.browser

RECEIVED = datetime(2026, 4, 2, 16, 30, tzinfo=UTC)  # 17:30 BST, Thursday before Good Friday
DECIDE_BY = "19 May 2026"
PARENT_EMAIL = "sam.rivers@example.com"
NEW_PASSWORD = "a-long-family-password"


@pytest.fixture
def server_clock() -> FrozenClock:
    return FrozenClock(RECEIVED)


# ---- accessibility --------------------------------------------------------------------------------------------------
# The suite has no axe-core; these are the checks a page of the front door must pass, run once on each new page.
BASICS = """() => {
  const problems = [];
  if (document.documentElement.lang !== 'en') problems.push('html lang is not en');
  if (!document.title.trim()) problems.push('no title');
  const h1 = document.querySelectorAll('h1');
  if (h1.length !== 1) problems.push(h1.length + ' h1 elements');
  if (!document.querySelector('main#main-content')) problems.push('no main landmark with id main-content');
  const ids = {};
  for (const el of document.querySelectorAll('[id]')) {
    if (ids[el.id]) problems.push('duplicate id ' + el.id);
    ids[el.id] = true;
  }
  for (const el of document.querySelectorAll('input, select, textarea')) {
    if (el.type === 'hidden' || el.closest('[hidden]')) continue;  // not rendered: for password managers only
    const named = el.labels.length > 0 || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby');
    if (!named) problems.push('no label for ' + (el.id || el.name));
  }
  for (const el of document.querySelectorAll('a')) {
    if (!el.textContent.trim() && !el.getAttribute('aria-label')) problems.push('link without text: ' + el.href);
  }
  for (const el of document.querySelectorAll('button')) {
    if (!el.textContent.trim() && !el.getAttribute('aria-label')) problems.push('button without text');
  }
  for (const a of document.querySelectorAll('.govuk-error-summary a[href^="#"]')) {
    if (!document.getElementById(a.getAttribute('href').slice(1))) problems.push('error link to nothing: ' + a.href);
  }
  for (const el of document.querySelectorAll('[aria-describedby]')) {
    for (const id of el.getAttribute('aria-describedby').split(/\\s+/)) {
      if (id && !document.getElementById(id)) problems.push('aria-describedby to nothing: ' + id);
    }
  }
  return problems;
}"""


def accessible(page: Any, checked: set[str]) -> None:
    """Runs the checks on the page, once per path."""
    path = re.sub(r"\?.*$", "", page.url.split("://", 1)[1].split("/", 1)[1])
    path = re.sub(r"/\d+", "/N", path)
    if path in checked:
        return
    checked.add(path)
    problems = page.evaluate(BASICS)
    assert problems == [], f"{page.url}: {problems}"


def continue_(page: Any) -> None:
    page.get_by_role("button", name="Continue").click()
    page.wait_for_load_state()


def prepare_known_child(server: LiveServer) -> int:
    """Robin is known to the authority already (an earlier contact): a case without a family account on it."""
    services, world = server.services, server.world
    with services.session_factory() as s:
        case = services.engine.open_case(s, world.la.id, "Robin", "Rivers", "2017-10-20")
        case.postcode = "TE1 2AB"
        for role, org in (("setting", world.school), ("health_body", world.health),
                          ("mediation_service", world.mediation)):
            s.add(CaseParty(case_id=case.id, role=role, organisation_id=org.id, active=True))
        s.commit()
        return case.id


def test_a_parent_asks_the_caseworker_registers_and_the_parent_follows_the_case(
        live_server: LiveServer, new_page: Any, page_errors: list[str]) -> None:
    server = live_server
    services = server.services
    services.engine.deploy(real_routes())  # the real routes
    case_id = prepare_known_child(server)
    checked: set[str] = set()

    # ---- the parent, with no account, asks online ----------------------------------------------------------------
    page = new_page()
    page.goto(server.url + "/request-an-assessment/")
    accessible(page, checked)
    page.get_by_label("Testshire Council").check()  # two authorities take requests here: Testshire and Otherham
    page.get_by_role("button", name="Start now").click()
    page.wait_for_url(re.compile(r".*/request-an-assessment/who$"))
    accessible(page, checked)
    page.get_by_label("A parent or carer of the child").check()
    continue_(page)

    accessible(page, checked)
    page.get_by_label("Your full name").fill("Sam Rivers")
    page.get_by_label("Your relationship to the child or young person").fill("mother")
    page.get_by_label("Email address").fill("Sam.Rivers@Example.com")
    continue_(page)

    # The child's page, first with a date of birth in the future: the page comes back with what was typed.
    accessible(page, checked)
    page.get_by_label("First name").fill("Robin")
    page.get_by_label("Last name").fill("Rivers")
    page.locator("#child_date_of_birth-day").fill("20")
    page.locator("#child_date_of_birth-month").fill("10")
    page.locator("#child_date_of_birth-year").fill("2027")
    continue_(page)
    assert page.title().startswith("Error:")
    assert "Date of birth must be in the past" in page.locator(".govuk-error-summary").inner_text()
    assert page.get_by_label("First name").input_value() == "Robin"
    assert page.evaluate(BASICS) == []  # the page with its errors too
    page.locator("#child_date_of_birth-year").fill("2017")
    continue_(page)

    accessible(page, checked)
    page.get_by_label("Address").fill("1 Mill Lane\nTestbury")
    page.get_by_label("Postcode").fill("te1 2ab")
    continue_(page)
    accessible(page, checked)
    page.get_by_label("Name of the school, college or setting").fill("Test Primary School")
    continue_(page)
    accessible(page, checked)
    page.get_by_label("The parents' views").fill("Robin finds reading very hard and is unhappy at school.")
    continue_(page)
    accessible(page, checked)
    page.get_by_label(re.compile("What special educational provision")).fill("Two terms of small-group phonics.")
    continue_(page)
    # The setting's reports: none to attach.
    page.wait_for_url(re.compile(r".*/request-an-assessment/reports$"))
    accessible(page, checked)
    continue_(page)
    accessible(page, checked)
    page.locator("#urgent-2").check()  # No
    continue_(page)
    accessible(page, checked)
    page.locator("#consent_to_share").check()  # Yes
    continue_(page)

    page.wait_for_url(re.compile(r".*/request-an-assessment/check-your-answers$"))
    accessible(page, checked)
    answers = page.inner_text("main")
    for text in ("Sam Rivers", "sam.rivers@example.com", "20 October 2017", "TE1 2AB", "Test Primary School"):
        assert text in answers, text
    screenshot(page, "request-check-answers")
    page.get_by_role("button", name="Send request").click()
    page.wait_for_url(re.compile(r".*/request-an-assessment/confirmation$"))
    accessible(page, checked)
    with services.session_factory() as s:
        row = s.scalars(select(AssessmentRequest).where(AssessmentRequest.status == "new")).one()
        reference, request_id = row.reference, row.id
        # Received at the server's moment, exactly.
        assert row.received_at == RECEIVED and row.channel == "online"
    assert reference == f"REQ-2026-{request_id:05d}"
    confirmation = page.inner_text("main")
    assert reference in page.locator(".govuk-panel").inner_text()
    assert DECIDE_BY in confirmation and PARENT_EMAIL in confirmation
    assert "received your request on 2 April 2026 at 5:30pm" in confirmation  # London time: BST
    screenshot(page, "request-confirmation")

    # ---- the caseworker registers it on the child they already know ----------------------------------------------
    staff = new_page()
    sign_in(staff, server, "caseworker")
    staff.get_by_role("link", name=re.compile(r"^New requests")).first.click()
    staff.wait_for_url(re.compile(r".*/intake/$"))
    accessible(staff, checked)
    waiting = staff.locator("#new-requests").inner_text()
    assert "Robin Rivers" in waiting and DECIDE_BY in waiting
    staff.get_by_role("link", name=reference).click()
    staff.wait_for_url(re.compile(rf".*/intake/{request_id}$"))
    accessible(staff, checked)
    matches = staff.locator("#matches")
    with services.session_factory() as s:
        case_reference = s.get(Case, case_id).reference
    assert case_reference in matches.inner_text() and "date of birth and last name" in matches.inner_text()
    screenshot(staff, "intake-request")
    matches.get_by_role("button", name=re.compile("Register on this case")).click()
    staff.wait_for_url(re.compile(rf".*/cases/{case_id}$"))
    banner = staff.locator(".govuk-notification-banner").inner_text()
    assert reference in banner and DECIDE_BY in banner
    routes = staff.locator("#routes ~ section").first.inner_text()
    assert "Check and register the request" in routes
    with services.session_factory() as s:
        instance = s.scalars(select(ProcessInstance).where(ProcessInstance.case_id == case_id)).one()
        assert (instance.process_id, instance.status) == ("ehc_needs_assessment", "waiting_person")
        assert s.get(AssessmentRequest, request_id).case_id == case_id

    # The caseworker checks the request: the route sets the 6-week decision on the statutory clock, counted from the
    # day the request counts as received (7 April), not from the day it arrived (2 April + 42 days would be 14 May).
    staff.get_by_role("link", name="Check and register the request").first.click()
    staff.locator("#field-has_setting").check()  # Yes
    staff.locator("#field-assessed_in_last_six_months-2").check()  # No
    staff.get_by_role("button", name="Submit", exact=True).click()
    staff.wait_for_load_state()
    staff.goto(f"{server.url}/cases/{case_id}")
    clock_row = staff.locator("#deadlines tr", has_text="Decide whether to assess").inner_text()
    # Today is 2 April on the frozen clock: 28 days to 30 April, then 19 more to 19 May.
    assert DECIDE_BY in clock_row and "47 days left" in clock_row
    screenshot(staff, "case-after-intake")
    sign_out(staff)

    # ---- the parent sets a password from the email and sees the case ---------------------------------------------
    with services.session_factory() as s:
        parent = s.scalars(select(User).where(User.email == PARENT_EMAIL)).one()
        assert parent.password_hash is None
        (link,) = s.scalars(select(OutboxEmail.link_path).where(OutboxEmail.to_address == PARENT_EMAIL,
                                                                OutboxEmail.kind == "set_password"))
    page.goto(server.url + link)
    accessible(page, checked)
    assert PARENT_EMAIL in page.inner_text("main")
    page.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Type your password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set password and sign in").click()
    page.wait_for_url(re.compile(r".*/family/$"))
    page.get_by_role("link", name="Robin Rivers").click()
    page.wait_for_url(re.compile(rf".*/family/cases/{case_id}$"))
    assert page.locator("h1").inner_text() == "Robin Rivers"
    assert "Give your views" in page.inner_text("main")
    screenshot(page, "family-case-after-request")
    with services.session_factory() as s:
        assert s.get(User, parent.id).password_hash is not None
    # No script was refused by the content security policy, none failed, and nothing was missing.
    assert page_errors == []

    # The link works once.
    response = page.goto(server.url + link)
    assert response is not None and response.status == 410
    assert "expired or has already been used" in page.inner_text("main")
