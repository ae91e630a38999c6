"""Intake for caseworkers: the list of new requests, recording one that came by post with its real moment of receipt,
registering it on a known child or a new one (the needs assessment starts with the right 6-week date), refusing a
second open assessment, closing with a reason, and who may do any of it."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from engine.intake.accounts import set_password_with_token
from engine.intake.requests import record_request
from engine.people.roles import Role
from engine.runtime.services import Services
from engine.statutory.clock import FrozenClock
from engine.store.models import Case, CaseParty, HumanTask, Membership, ProcessInstance, User
from engine.store.outbox import OutboxEmail
from engine.store.requests import AssessmentRequest
from tests.conftest import World, real_routes
from tests.web.conftest import Client, soup, text_of
from webui import uploads
from webui.intake.record import parse_time, received_moment

ANSWERS = {
    "requester_type": "parent", "requester_name": "Sam Rivers", "relationship_to_child": "mother",
    "requester_email": "sam.rivers@example.com", "requester_phone": "",
    "child_first_name": "Robin", "child_last_name": "Rivers", "child_date_of_birth": "2016-07-12",
    "child_address": "1 Mill Lane\nTestbury", "child_postcode": "TE1 2AB",
    "setting_name": "Test Primary School", "child_upn": "L12345678901B",
    "parent_views": "Robin finds reading very hard.", "young_person_views": "",
    "sen_support": "Two terms of small-group phonics.", "urgent": "no", "urgent_details": "",
    "consent_to_share": "yes", "family_knows": "yes",
}
# The world's case: Alex Taylor, born 14 May 2015.
ALEX = {**ANSWERS, "child_first_name": "Alex", "child_last_name": "Taylor", "child_date_of_birth": "2015-05-14",
        "child_upn": "", "child_postcode": "TE9 9ZZ", "requester_email": "parent@test.example",
        "requester_name": "Parent"}
# Tuesday 10 March 2026, 9am in London (GMT until the 29th).
NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


@pytest.fixture
def intake(services: Services, world: World, clock: FrozenClock) -> World:
    services.engine.deploy(real_routes())
    clock.set(NOW)
    return world


def add_request(services: Services, world: World, answers: dict[str, str], received: datetime,
                la_id: int | None = None, channel: str = "email") -> int:
    with services.session_factory() as s:
        row = record_request(s, la_id or world.la.id, answers, channel, received, world.users["caseworker"],
                             services.engine.clock.now())
        s.commit()
        return row.id


def form(answers: dict[str, str], day: str = "6", month: str = "3", year: str = "2026", at: str = "17:30",
         channel: str = "post") -> dict[str, str]:
    """The record page's fields for these answers, as a browser sends them (dates in three boxes)."""
    data = {k: v for k, v in answers.items() if k != "child_date_of_birth"}
    born = answers.get("child_date_of_birth", "")
    if born:
        y, m, d = born.split("-")
        data.update({"child_date_of_birth-day": d, "child_date_of_birth-month": m, "child_date_of_birth-year": y})
    data.update({"channel": channel, "received_on-day": day, "received_on-month": month, "received_on-year": year,
                 "received_time": at})
    return data


def the_request(services: Services, request_id: int) -> AssessmentRequest:
    with services.session_factory() as s:
        row = s.get(AssessmentRequest, request_id)
        assert row is not None
        s.expunge(row)
        return row


def flash_text(client: Client, url: str) -> str:
    return " ".join(t.get_text(" ", strip=True) for t in client.page(url).select(".govuk-notification-banner"))


def test_the_list_shows_the_authoritys_new_requests_oldest_first(as_user: Any, intake: World,
                                                                 services: Services) -> None:
    later = add_request(services, intake, ANSWERS, datetime(2026, 3, 9, 11, 0, tzinfo=UTC))
    urgent = add_request(services, intake, {**ALEX, "urgent": "yes", "urgent_details": "Excluded from school"},
                         datetime(2026, 3, 6, 17, 30, tzinfo=UTC), channel="phone")
    theirs = add_request(services, intake, ANSWERS, datetime(2026, 3, 9, 12, 0, tzinfo=UTC), la_id=intake.other_la.id)
    caseworker = as_user("caseworker")
    page = caseworker.page("/intake/")
    rows = [[" ".join(td.get_text(" ").split()) for td in tr.select("td")] for tr in page.select("#new-requests tbody tr")]
    ref = {rid: the_request(services, rid).reference for rid in (later, urgent, theirs)}
    assert rows == [
        [ref[urgent], "Alex Taylor Born 14 May 2015", "Parent A parent or carer of the child",
         "6 March 2026 at 5:30pm Phone", "20 April 2026", "Urgent"],
        [ref[later], "Robin Rivers Born 12 July 2016", "Sam Rivers A parent or carer of the child",
         "9 March 2026 at 11am Email", "20 April 2026", ""],
    ]
    assert page.select_one(f"#new-requests a[href='/intake/{urgent}']")
    assert page.select_one("a[href='/intake/record']").get_text() == "Record a request that came by email, post or phone"
    nav = [a.get_text(" ", strip=True) for a in page.select(".govuk-service-navigation__link")]
    assert "New requests (2)" in nav
    # The other authority's caseworker sees only theirs, and none of ours even by id.
    other = as_user("other_caseworker")
    their_rows = other.page("/intake/").select("#new-requests tbody tr")
    assert [tr.select_one("a").get_text() for tr in their_rows] == [ref[theirs]]
    other.get(f"/intake/{urgent}", status=404)
    other.get(f"/intake/{later}/close", status=404)
    caseworker.get(f"/intake/{theirs}", status=404)
    # Staff who do not register requests are not shown the link.
    nav = [a.get_text(" ", strip=True) for a in as_user("ep").page("/cases/").select(".govuk-service-navigation__link")]
    assert not any(text.startswith("New requests") for text in nav)


def test_a_posted_request_keeps_its_london_moment_and_a_new_child_starts_the_assessment_from_it(
        as_user: Any, intake: World, services: Services, app: Any) -> None:
    caseworker = as_user("caseworker")
    page = caseworker.page("/intake/record")
    assert [i["value"] for i in page.select("input[name=channel]")] == ["email", "post", "phone", "in_person"]
    assert page.select_one("input[name=la_id]") is None  # one authority: nothing to choose
    response = caseworker.post("/intake/record", form(ANSWERS), status=302)
    request_id = int(response.headers["Location"].rsplit("/", 1)[1])
    row = the_request(services, request_id)
    # Friday 6 March 2026 at 17:30 in London is 17:30 UTC (GMT), kept exactly.
    assert (row.status, row.channel, row.received_at) == ("new", "post", datetime(2026, 3, 6, 17, 30, tzinfo=UTC))
    assert (row.child_postcode, row.child_upn, row.child_date_of_birth) == ("TE1 2AB", "L12345678901B",
                                                                             date(2016, 7, 12))
    page = caseworker.page(response.headers["Location"])
    assert f"Request {row.reference} recorded" in text_of(page)
    receipt = text_of(page.select_one("#receipt"))
    assert "Received 6 March 2026 at 5:30pm (post)" in receipt
    assert "Decide whether to assess by 20 April 2026" in receipt
    assert "Robin finds reading very hard." in text_of(page)
    assert page.select_one("#matches") is None

    response = caseworker.post(f"/intake/{request_id}/register", {"case_id": ""}, status=302)
    case_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert response.headers["Location"] == f"/cases/{case_id}"
    assert (f"Request {row.reference} registered: the needs assessment has started; the LA must decide by "
            "20 April 2026.") in flash_text(caseworker, f"/cases/{case_id}")
    with services.session_factory() as s:
        case = s.get(Case, case_id)
        assert (case.child_name, case.postcode, case.upn, case.la_id) == ("Robin Rivers", "TE1 2AB", "L12345678901B",
                                                                        intake.la.id)
        registered = s.get(AssessmentRequest, request_id)
        assert (registered.status, registered.case_id) == ("registered", case_id)
        instance = s.get(ProcessInstance, registered.instance_id)
        assert (instance.process_id, instance.case_id) == ("ehc_needs_assessment", case_id)
        register = s.scalar(select(HumanTask.name).where(HumanTask.case_id == case_id, HumanTask.status == "open"))
        assert register == "Check and register the request"
        parent = s.scalar(select(User).where(User.email == "sam.rivers@example.com"))
        party = s.scalars(select(CaseParty).where(CaseParty.case_id == case_id, CaseParty.role == "family")).one()
        assert (party.user_id, party.relationship_to_child) == (parent.id, "mother")
        link = s.scalar(select(OutboxEmail.link_path).where(OutboxEmail.kind == "set_password",
                                                            OutboxEmail.to_user_id == parent.id))
        data = dict(services.engine.load_workflow(instance).last_task.data)  # type: ignore[union-attr]
    # Received after 5pm on a Friday: it counts from Monday 9 March, so the decision is due Monday 20 April.
    assert (data["received_at"], data["start_date"], data["decide_by"]) == (
        "2026-03-06T17:30:00+00:00", "2026-03-09", "2026-04-20")
    # The parent sets a password from the emailed link and sees the case.
    with services.session_factory() as s:
        set_password_with_token(s, link.rsplit("/", 1)[1], "a-long-enough-password", "a-long-enough-password",
                                services.engine.clock.now())
        s.commit()
    parent_client = Client(app)
    parent_client.sign_in("sam.rivers@example.com", "a-long-enough-password")
    family = parent_client.page("/family/")
    assert [a.get_text() for a in family.select("h2 a")] == ["Robin Rivers"]
    # Registered requests leave the list and appear under "recently registered".
    listing = caseworker.page("/intake/")
    assert listing.select("#new-requests tbody tr") == []
    assert f"{row.reference} Robin Rivers Registered on {case.reference}" in text_of(listing.select_one("#recent-requests"))


def test_a_request_for_a_known_child_is_registered_on_their_case_and_a_second_is_refused(
        as_user: Any, intake: World, services: Services) -> None:
    first = add_request(services, intake, ALEX, datetime(2026, 3, 9, 10, 0, tzinfo=UTC))
    second = add_request(services, intake, ALEX, datetime(2026, 3, 9, 11, 0, tzinfo=UTC))
    caseworker = as_user("caseworker")
    page = caseworker.page(f"/intake/{first}")
    matches = page.select("#matches tbody tr")
    assert len(matches) == 1
    assert matches[0].select_one(f"a[href='/cases/{intake.case_id}']").get_text() == "Alex Taylor"
    assert matches[0].select_one("[data-label=Same]").get_text(strip=True) == "date of birth and last name"
    assert matches[0].select_one("input[name=case_id]")["value"] == str(intake.case_id)
    assert page.select_one("#register-new input[name=case_id]")["value"] == ""
    with services.session_factory() as s:
        cases_before = len(s.scalars(select(Case.id)).all())

    response = caseworker.post(f"/intake/{first}/register", {"case_id": str(intake.case_id)}, status=302)
    assert response.headers["Location"] == f"/cases/{intake.case_id}"
    with services.session_factory() as s:
        assert (s.get(AssessmentRequest, first).status, s.get(AssessmentRequest, first).case_id) == (
            "registered", intake.case_id)
        assert len(s.scalars(select(Case.id)).all()) == cases_before  # no second child

    response = caseworker.post(f"/intake/{second}/register", {"case_id": str(intake.case_id)}, status=200)
    page = soup(response)
    problem = page.select_one("#register-problem").get_text()
    assert "Alex Taylor" in problem and "already has an open assessment" in problem
    assert page.select_one("title").get_text().startswith("Error:")
    with services.session_factory() as s:
        assert s.get(AssessmentRequest, second).status == "new"
        assessments = s.scalars(select(ProcessInstance).where(ProcessInstance.case_id == intake.case_id,
                                                              ProcessInstance.process_id == "ehc_needs_assessment"))
        assert len(assessments.all()) == 1
    # A case id that is not a number is refused on the page; another authority's case is not found.
    assert "could not be found" in text_of(soup(caseworker.post(f"/intake/{second}/register", {"case_id": "x"},
                                                                 status=200)))
    assert "No such case" in text_of(soup(caseworker.post(f"/intake/{second}/register",
                                                          {"case_id": str(intake.other_case_id)}, status=200)))
    assert the_request(services, second).status == "new"


def test_closing_needs_a_reason_and_tells_the_requester(as_user: Any, intake: World, services: Services) -> None:
    request_id = add_request(services, intake, ANSWERS, datetime(2026, 3, 9, 10, 0, tzinfo=UTC))
    reference = the_request(services, request_id).reference
    caseworker = as_user("manager")
    page = caseworker.page(f"/intake/{request_id}/close")
    assert "We email this reason to sam.rivers@example.com" in text_of(page)
    page = soup(caseworker.post(f"/intake/{request_id}/close", {"reason": "   "}, status=200))
    assert page.select_one(".govuk-error-summary a[href='#reason']").get_text() == \
        "Enter why the request is not being taken forward"
    assert the_request(services, request_id).status == "new"
    response = caseworker.post(f"/intake/{request_id}/close", {"reason": "Robin lives in Otherham."}, status=302)
    assert response.headers["Location"] == "/intake/"
    assert f"Request {reference} closed. We have emailed the reason to sam.rivers@example.com." in \
        flash_text(caseworker, "/intake/")
    row = the_request(services, request_id)
    assert (row.status, row.closed_reason, row.closed_by_id) == ("closed", "Robin lives in Otherham.",
                                                                 intake.users["manager"].id)
    with services.session_factory() as s:
        email = s.scalar(select(OutboxEmail).where(OutboxEmail.kind == "request_closed"))
        assert email.to_address == "sam.rivers@example.com" and "Robin lives in Otherham." in email.body
        assert email.status == "pending"
    page = caseworker.page(f"/intake/{request_id}")
    assert "Reason it was closed Robin lives in Otherham." in text_of(page)
    assert page.select_one("#register-new") is None
    # Closed is final: neither closing again nor registering changes it.
    caseworker.get(f"/intake/{request_id}/close", status=302)
    assert "already been registered or closed" in text_of(soup(caseworker.post(f"/intake/{request_id}/register",
                                                                                {"case_id": ""}, status=200)))
    assert the_request(services, request_id).status == "closed"


def test_a_form_with_problems_shows_each_and_keeps_everything_typed(as_user: Any, intake: World,
                                                                      services: Services) -> None:
    caseworker = as_user("caseworker")
    data = {**form({**ANSWERS, "child_postcode": "nowhere", "requester_email": "sam"}, day="", at="25:00",
                   channel=""),
            "child_date_of_birth-month": "", "urgent": "yes"}
    page = soup(caseworker.post("/intake/record", data, status=200))
    summary = [(a.get_text(), a["href"]) for a in page.select(".govuk-error-summary a")]
    assert summary == [
        ("Select how the request arrived", "#channel"),
        ("The date the request was received must include a day", "#received_on-day"),
        ("Enter the time the request was received like 9:15 or 17:30", "#received_time"),
        ("Enter an email address in the correct format, like name@example.com", "#requester_email"),
        ("Date of birth must include a month", "#child_date_of_birth-day"),
        ("Enter a real postcode, like SW1A 1AA", "#child_postcode"),
        ("Enter what is urgent", "#urgent_details"),
    ]
    # Each link leads to a field that is on the page.
    assert all(page.select_one(href) is not None for _, href in summary)
    assert page.select_one("title").get_text().startswith("Error:")
    assert page.select_one("#child_postcode")["value"] == "nowhere"
    assert page.select_one("#child_date_of_birth-year")["value"] == "2016"
    assert page.select_one("#received_time")["value"] == "25:00"
    assert page.select_one("#parent_views").get_text().strip() == "Robin finds reading very hard."
    assert page.select_one("input[name=urgent][value=yes]").has_attr("checked")
    # A moment in the future is refused too, on the date.
    page = soup(caseworker.post("/intake/record", form(ANSWERS, day="10", at="9:30"), status=200))
    assert [a.get_text() for a in page.select(".govuk-error-summary a")] == [
        "The date and time the request was received must be in the past"]
    # The engine's wording speaks to the requester; the caseworker reads about them.
    page = soup(caseworker.post("/intake/record", form({**ANSWERS, "requester_name": ""}), status=200))
    assert [a.get_text() for a in page.select(".govuk-error-summary a")] == ["Enter their full name"]
    with services.session_factory() as s:
        assert s.scalar(select(AssessmentRequest.id)) is None


def test_a_caseworker_of_two_authorities_chooses_the_authority(as_user: Any, intake: World,
                                                               services: Services) -> None:
    with services.session_factory() as s:
        s.add(Membership(user_id=intake.users["caseworker"].id, organisation_id=intake.other_la.id,
                         role=Role.CASEWORKER.value))
        s.commit()
    caseworker = as_user("caseworker")
    page = caseworker.page("/intake/record")
    assert [i["value"] for i in page.select("input[name=la_id]")] == [str(intake.other_la.id), str(intake.la.id)]
    page = soup(caseworker.post("/intake/record", form(ANSWERS), status=200))
    assert [(a.get_text(), a["href"]) for a in page.select(".govuk-error-summary a")] == [
        ("Select the local authority the request was made to", "#la_id")]
    caseworker.post("/intake/record", {**form(ANSWERS), "la_id": str(intake.other_la.id)}, status=302)
    with services.session_factory() as s:
        assert s.scalars(select(AssessmentRequest.la_id)).all() == [intake.other_la.id]


def test_reports_sent_with_a_request_go_only_to_its_authority(as_user: Any, intake: World, services: Services,
                                                              app: Any) -> None:
    request_id = add_request(services, intake, ANSWERS, datetime(2026, 3, 9, 10, 0, tzinfo=UTC))
    base = uploads.folder(app.instance_path)
    stored = uploads.store(FileStorage(io.BytesIO(b"%PDF-1.4 report"), "school report.pdf"), base,
                           extensions=(".pdf",), max_bytes=10_000, scanner=uploads.eicar_scanner, case_id=0, task_id=0,
                           user_id=intake.users["caseworker"].id, now=services.engine.clock.now())
    other = uploads.store(FileStorage(io.BytesIO(b"%PDF-1.4 other"), "other.pdf"), base, extensions=(".pdf",),
                          max_bytes=10_000, scanner=uploads.eicar_scanner, case_id=0, task_id=0,
                          user_id=intake.users["caseworker"].id, now=services.engine.clock.now())
    with services.session_factory() as s:
        s.get(AssessmentRequest, request_id).attachments = [
            {"token": stored.token, "filename": stored.filename, "size": stored.size}]
        s.commit()
    caseworker = as_user("caseworker")
    link = caseworker.page(f"/intake/{request_id}").select_one("#attachments a")
    assert link.get_text() == "school report.pdf"
    response = caseworker.get(link["href"])
    assert response.get_data() == b"%PDF-1.4 report"
    assert 'filename="school report.pdf"' in response.headers["Content-Disposition"]
    caseworker.get(f"/intake/{request_id}/attachments/{other.token}", status=404)  # not this request's
    for key in ("other_caseworker", "school", "ep"):
        assert as_user(key).get(link["href"], status=None).status_code == 404, key
    assert as_user("parent").get(link["href"], status=None).status_code == 403


def test_families_schools_and_other_authorities_are_refused_everywhere(as_user: Any, intake: World,
                                                                       services: Services, client: Client) -> None:
    request_id = add_request(services, intake, ANSWERS, datetime(2026, 3, 9, 10, 0, tzinfo=UTC))
    gets = ["/intake/", "/intake/record", f"/intake/{request_id}", f"/intake/{request_id}/close"]
    posts = [("/intake/record", form(ANSWERS)), (f"/intake/{request_id}/register", {"case_id": ""}),
             (f"/intake/{request_id}/close", {"reason": "Not ours"})]
    for key in ("parent", "school", "health", "ep", "admin", "other_caseworker", "other_manager"):
        user = as_user(key)
        other_la = key.startswith("other_")
        for url in gets:
            expected = 200 if other_la and url in ("/intake/", "/intake/record") else None
            status = user.get(url, status=None).status_code
            assert status == expected if expected else status in (403, 404), (key, url, status)
        for url, data in posts:
            response = user.post(url, data, status=None)
            if other_la and url == "/intake/record":
                assert response.status_code == 302  # recorded for their own authority
                continue
            assert response.status_code in (403, 404), (key, url, response.status_code)
    assert client.get("/intake/", status=302).headers["Location"].startswith("/sign-in")
    row = the_request(services, request_id)
    assert (row.status, row.case_id) == ("new", None)
    with services.session_factory() as s:
        assert s.scalars(select(AssessmentRequest.la_id).order_by(AssessmentRequest.id)).all() == [
            intake.la.id, intake.other_la.id, intake.other_la.id]


def test_every_form_needs_its_csrf_token(as_user: Any, intake: World, services: Services) -> None:
    request_id = add_request(services, intake, ANSWERS, datetime(2026, 3, 9, 10, 0, tzinfo=UTC))
    caseworker = as_user("caseworker")
    for url, data in (("/intake/record", form(ANSWERS)), (f"/intake/{request_id}/register", {"case_id": ""}),
                      (f"/intake/{request_id}/close", {"reason": "Not ours"})):
        assert caseworker.post(url, data, token=False, status=None).status_code == 400, url
        assert caseworker.post(url, {**data, "csrf_token": "forged"}, status=None).status_code == 400, url
    with services.session_factory() as s:
        assert s.scalars(select(AssessmentRequest.status)).all() == ["new"]
        assert s.scalar(select(ProcessInstance.id).where(ProcessInstance.process_id == "ehc_needs_assessment")) is None


@pytest.mark.parametrize(("day", "at", "expected"), [
    ((6, 3, 2026), "17:30", datetime(2026, 3, 6, 17, 30, tzinfo=UTC)),    # GMT
    ((2, 4, 2026), "4.59pm", datetime(2026, 4, 2, 15, 59, tzinfo=UTC)),   # BST: an hour behind in UTC
    ((25, 10, 2026), "12am", datetime(2026, 10, 24, 23, 0, tzinfo=UTC)),  # midnight, the day BST ends
])
def test_the_moment_of_receipt_is_read_as_london_time(day: tuple[int, int, int], at: str, expected: datetime) -> None:
    values = {"received_on-day": str(day[0]), "received_on-month": str(day[1]), "received_on-year": str(day[2]),
              "received_time": at}
    assert received_moment(values) == (expected, {})


def test_times_are_read_as_people_write_them() -> None:
    assert [parse_time(t) for t in ("9", "09:05", "12pm", "12.15am", "23:59")] == [
        datetime(2026, 1, 1, h, m).time() for h, m in ((9, 0), (9, 5), (12, 0), (0, 15), (23, 59))]
    assert [parse_time(t) for t in ("24:00", "13pm", "9:60", "nine", "")] == [None] * 5
