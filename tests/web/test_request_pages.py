"""The public pages to request an EHC needs assessment: a parent without an account from the start page to the
confirmation, each page's checks (nothing typed is lost), the setting's reports, changing an answer, a SENCO asking from
their account, the throttles and the CSRF protection."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from engine.runtime.services import Services
from engine.statutory.clock import FrozenClock
from engine.store.models import Membership, User
from engine.store.outbox import OutboxEmail
from engine.store.requests import AssessmentRequest
from tests.conftest import World
from tests.web.conftest import Client, make_app, soup, text_of
from webui import uploads

START = "/request-an-assessment/"
CHECK = "/request-an-assessment/check-your-answers"
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"

# What a parent types on each page, in the order the pages come.
PARENT: list[tuple[str, dict[str, str]]] = [
    ("who", {"requester_type": "parent"}),
    ("about-you", {"requester_name": "Sam Rivers", "relationship_to_child": "Mother",
                   "requester_email": "Sam.Rivers@Example.com", "requester_phone": "01234 567890"}),
    ("child", {"child_first_name": "Robin", "child_last_name": "Rivers", "child_date_of_birth-day": "12",
               "child_date_of_birth-month": "7", "child_date_of_birth-year": "2016"}),
    ("address", {"child_address": "1 Mill Lane\nTestbury", "child_postcode": "te1 2ab"}),
    ("setting", {"setting_name": "Test Primary School", "child_upn": ""}),
    ("views", {"parent_views": "Robin finds reading very hard.", "young_person_views": "I like maths."}),
    ("support", {"sen_support": "Two terms of small-group phonics."}),
    ("urgent", {"urgent": "no", "urgent_details": ""}),
    ("consent", {"consent_to_share": "yes"}),
]


def page_url(slug: str) -> str:
    return f"/request-an-assessment/{slug}"


def begin(client: Client, world: World, la: Any = None) -> None:
    """The start page, then "Start now" for the world's LA: the draft's first page."""
    client.get(START)
    response = client.post(START, {"la": str((la or world.la).id)}, status=302)
    assert response.headers["Location"] == page_url("who")


def answer(client: Client, slug: str, data: dict[str, str], expect: str | None = None) -> Any:
    response = client.post(page_url(slug), data, status=302)
    if expect is not None:
        assert response.headers["Location"] == expect
    return response


def fill(client: Client, answers: list[tuple[str, dict[str, str]]]) -> None:
    """Every page as a person would go through them: each page opened, answered, and its "Continue" followed."""
    url = page_url(answers[0][0])
    for slug, data in answers:
        assert client.get(url).status_code == 200
        assert url == page_url(slug), (url, slug)
        url = answer(client, slug, data).headers["Location"]
        if slug == "support":
            assert url == page_url("reports")
            url = client.post(url, {"_action": "continue"}, status=302).headers["Location"]
    assert url == CHECK


def the_request(services: Services, **where: Any) -> AssessmentRequest:
    with services.session_factory() as s:
        query = select(AssessmentRequest)
        for name, value in where.items():
            query = query.where(getattr(AssessmentRequest, name) == value)
        row = s.scalars(query.order_by(AssessmentRequest.id.desc())).first()
        assert row is not None
        s.expunge(row)
        return row


def input_value(page: Any, name: str) -> str:
    field = page.find(attrs={"name": name})
    assert field is not None, name
    return field.text if field.name == "textarea" else field.get("value", "")


def errors_of(page: Any) -> list[str]:
    summary = page.select_one(".govuk-error-summary")
    return [" ".join(a.get_text(" ").split()) for a in summary.select("li")] if summary else []


def test_a_parent_without_an_account_requests_an_assessment(client: Client, world: World, services: Services,
                                                            clock: FrozenClock) -> None:
    # Friday 6 March 2026 at 17:30 in London (GMT): after 17:00, so the request counts from Monday 9 March; six
    # weeks from Monday 9 March is Monday 20 April 2026 (no bank holiday moves a week count).
    clock.set(datetime(2026, 3, 6, 17, 30, tzinfo=UTC))
    start = client.page(START)
    assert "Request an EHC needs assessment" in text_of(start)
    assert {r["value"] for r in start.select("input[name=la]")} == {str(world.la.id), str(world.other_la.id)}
    begin(client, world)
    fill(client, PARENT)
    start = client.page(START)
    assert [a["href"] for a in start.select(".govuk-inset-text a")] == [page_url("who")]  # continue the draft

    check = text_of(client.page(CHECK))
    for shown in ("A parent or carer of the child", "Sam Rivers", "sam.rivers@example.com", "Robin", "12 July 2016",
                  "TE1 2AB", "Robin finds reading very hard.", "Two terms of small-group phonics.", "None"):
        assert shown in check, shown
    assert "The child's parents" not in check  # a parent is not asked about "the parents"

    response = client.post(CHECK, {}, status=302)
    assert response.headers["Location"] == "/request-an-assessment/confirmation"
    row = the_request(services, requester_email="sam.rivers@example.com")
    assert (row.status, row.channel, row.received_at, row.la_id) == ("new", "online", clock.now(), world.la.id)
    assert (row.child_first_name, row.child_date_of_birth.isoformat(), row.child_postcode) == \
        ("Robin", "2016-07-12", "TE1 2AB")
    assert row.reference and row.draft_token_hash is None

    confirmation = text_of(client.page("/request-an-assessment/confirmation"))
    assert row.reference in confirmation
    assert "received your request on 6 March 2026 at 5:30pm" in confirmation
    assert "Testshire Council must decide whether to carry out an assessment by 20 April 2026" in confirmation
    assert "We have sent an email to sam.rivers@example.com to set up your account" in confirmation

    with services.session_factory() as s:
        emails = s.scalars(select(OutboxEmail).where(OutboxEmail.to_address == "sam.rivers@example.com")).all()
        assert {e.kind for e in emails} == {"set_password", "request_received"}
        account = s.scalar(select(User).where(User.email == "sam.rivers@example.com"))
        assert account is not None and account.password_hash is None and row.requester_user_id == account.id

    # The draft has gone from the session: its pages start again; the confirmation is this session's only.
    assert client.get(CHECK, status=302).headers["Location"] == START
    assert Client(client.app).get("/request-an-assessment/confirmation", status=302).headers["Location"] == START


def test_the_local_offer_link_chooses_the_authority(client: Client, world: World) -> None:
    page = client.page(START + "?la=oth")
    checked = [r["value"] for r in page.select("input[name=la]") if r.has_attr("checked")]
    assert checked == [str(world.other_la.id)]
    assert errors_of(soup(client.post(START, {}, status=200))) == ["Select the local authority you are asking"]


def test_each_page_keeps_what_was_typed_and_says_what_is_wrong(client: Client, world: World,
                                                               clock: FrozenClock) -> None:
    begin(client, world)
    answer(client, "who", {"requester_type": "parent"}, page_url("about-you"))

    page = soup(client.post(page_url("about-you"), {"requester_name": "", "relationship_to_child": "Father",
                                                    "requester_email": "not-an-email", "requester_phone": ""},
                            status=200))
    assert errors_of(page) == ["Enter your full name",
                               "Enter an email address in the correct format, like name@example.com"]
    assert page.select_one("title").text.startswith("Error: ")
    assert (input_value(page, "relationship_to_child"), input_value(page, "requester_email")) == \
        ("Father", "not-an-email")
    assert page.select_one("#requester_name-error") is not None

    child = {"child_first_name": "Robin", "child_last_name": "Rivers", "child_date_of_birth-day": "31",
             "child_date_of_birth-month": "2", "child_date_of_birth-year": "2016"}
    page = soup(client.post(page_url("child"), child, status=200))
    assert errors_of(page) == ["Date of birth must be a real date"]
    assert [input_value(page, f"child_date_of_birth-{p}") for p in ("day", "month", "year")] == ["31", "2", "2016"]
    assert input_value(page, "child_first_name") == "Robin"
    assert page.select_one(".govuk-error-summary a")["href"] == "#child_date_of_birth-day"

    tomorrow = clock.today().replace(day=clock.today().day + 1)
    future = {**child, "child_date_of_birth-day": str(tomorrow.day), "child_date_of_birth-month": str(tomorrow.month),
              "child_date_of_birth-year": str(tomorrow.year)}
    page = soup(client.post(page_url("child"), future, status=200))
    assert errors_of(page) == ["Date of birth must be in the past"]
    assert input_value(page, "child_date_of_birth-day") == str(tomorrow.day)

    page = soup(client.post(page_url("child"), {**child, "child_date_of_birth-month": ""}, status=200))
    assert errors_of(page) == ["Date of birth must include a month"]

    # A missing radio answer; then the urgent details only needed when something is urgent.
    page = soup(client.post(page_url("urgent"), {"urgent_details": "Excluded twice this term"}, status=200))
    assert errors_of(page) == ["Select an answer"]
    assert input_value(page, "urgent_details") == "Excluded twice this term"
    page = soup(client.post(page_url("urgent"), {"urgent": "yes", "urgent_details": " "}, status=200))
    assert errors_of(page) == ["Enter what is urgent"]

    # A parent must give their own views online.
    page = soup(client.post(page_url("views"), {"parent_views": "", "young_person_views": "Robin's words"},
                            status=200))
    assert errors_of(page) == ["Enter your views as the child's parent"]
    assert input_value(page, "young_person_views") == "Robin's words"

    # Nothing of a refused page was saved; a good page is.
    answer(client, "child", {**child, "child_date_of_birth-day": "28"}, page_url("address"))
    page = client.page(page_url("child"))
    assert [input_value(page, f"child_date_of_birth-{p}") for p in ("day", "month", "year")] == ["28", "2", "2016"]
    assert client.get(page_url("nonsense"), status=404)
    assert client.get(page_url("family"), status=404)  # a parent is not asked about "the parents"


def test_a_setting_cannot_ask_without_the_familys_knowledge(client: Client, world: World) -> None:
    begin(client, world)
    answer(client, "who", {"requester_type": "setting"}, page_url("about-you"))
    assert client.get(page_url("family")).status_code == 200
    page = soup(client.post(page_url("family"), {"parent_name": "Sam Rivers", "parent_email": "sam@example.com",
                                                 "family_knows": "no"}, status=200))
    assert errors_of(page) == ["A school, college or setting asks for an assessment with the family's knowledge: "
                               "talk to them first (SEND Code of Practice, 9.9)"]
    assert input_value(page, "parent_name") == "Sam Rivers"
    answer(client, "family", {"parent_name": "Sam Rivers", "parent_email": "", "family_knows": "yes"},
           page_url("views"))


def _upload(client: Client, files: list[tuple[bytes, str]], action: str = "upload") -> Any:
    data = [("_action", action)] + [("reports", (io.BytesIO(content), name)) for content, name in files]
    return client.post(page_url("reports"), data, content_type="multipart/form-data")


def test_the_settings_reports_are_checked_kept_and_removed(client: Client, world: World, services: Services,
                                                           app: Flask) -> None:
    begin(client, world)
    answer(client, "who", {"requester_type": "parent"})
    assert client.get(page_url("reports")).status_code == 200

    refused = soup(_upload(client, [(b"MZ\x90\x00", "tool.exe")]))
    assert client.last.status_code == 200
    assert errors_of(refused) == ["tool.exe: The selected file must be a PDF, Word document, OpenDocument text, "
                                  "rich text, text file, JPG or PNG"]
    refused = soup(_upload(client, [(b"not really a pdf", "report.pdf")]))
    assert errors_of(refused) == ["report.pdf: The selected file must be a PDF, Word document, OpenDocument text, "
                                  "rich text, text file, JPG or PNG"]
    assert the_request(services).attachments == []

    assert _upload(client, [(PDF, "SEN support plan.pdf"), (b"Notes from the SENCO", "notes.txt")]).status_code == 302
    row = the_request(services)
    assert [(a["filename"], a["size"]) for a in row.attachments] == [("SEN support plan.pdf", len(PDF)),
                                                                     ("notes.txt", 20)]
    base = uploads.folder(app.instance_path)
    stored = uploads.load(base, row.attachments[0]["token"])
    assert stored is not None and (stored.case_id, stored.task_id, stored.uploaded_by, stored.request_id) == \
        (None, None, None, row.id)
    page = client.page(page_url("reports"))
    assert "SEN support plan.pdf" in text_of(page) and "notes.txt" in text_of(page)

    # At most five.
    too_many = soup(_upload(client, [(PDF, f"{n}.pdf") for n in range(4)]))
    assert errors_of(too_many) == ["You can attach up to 5 files: choose 3 or fewer"]
    assert len(the_request(services).attachments) == 2

    token = row.attachments[0]["token"]
    client.post(page_url("reports"), {"_action": f"remove:{token}"}, status=302)
    assert [a["filename"] for a in the_request(services).attachments] == ["notes.txt"]
    assert uploads.load(base, token) is None and not (base / token).exists()
    # Another draft's file cannot be removed through this one.
    other = Client(client.app)
    begin(other, world)
    other.post(page_url("reports"), {"_action": f"remove:{row.attachments[1]['token']}"}, status=302)
    assert [a["filename"] for a in the_request(services, id=row.id).attachments] == ["notes.txt"]

    response = _upload(client, [], action="continue")
    assert response.headers["Location"] == page_url("urgent")


def test_change_links_come_back_to_check_your_answers(client: Client, world: World, services: Services) -> None:
    begin(client, world)
    fill(client, PARENT)
    check = client.page(CHECK)
    change = [a["href"] for a in check.select(".govuk-summary-list__actions a") if "child?" in a["href"]]
    assert change and all(href == "/request-an-assessment/child?change=1" for href in change)

    page = client.page(change[0])
    assert page.select_one(".govuk-back-link")["href"] == CHECK
    assert page.select_one("input[name=change]")["value"] == "1"
    response = client.post("/request-an-assessment/child", {
        "change": "1", "child_first_name": "Robyn", "child_last_name": "Rivers", "child_date_of_birth-day": "12",
        "child_date_of_birth-month": "7", "child_date_of_birth-year": "2016"}, status=302)
    assert response.headers["Location"] == CHECK
    assert "Robyn" in text_of(client.page(CHECK))

    # Changing who asks brings the new questions first (a setting is asked about the parents).
    response = answer(client, "who", {"change": "1", "requester_type": "setting"})
    assert response.headers["Location"] == "/request-an-assessment/family?change=1"
    # Sending before answering them goes back to that page with its problem shown.
    response = client.post(CHECK, {}, status=302)
    assert response.headers["Location"] == "/request-an-assessment/family?change=1&check=1"
    assert errors_of(client.page(response.headers["Location"])) == ["Select an answer"]
    assert the_request(services).status == "draft"
    answer(client, "family", {"change": "1", "parent_name": "Sam Rivers", "family_knows": "yes"}, CHECK)
    client.post(CHECK, {}, status=302)
    assert the_request(services).status == "new"


def test_a_senco_asks_from_their_account_for_their_setting(app: Flask, as_user: Any, world: World,
                                                           services: Services) -> None:
    senco = as_user("school")
    tasks = senco.page("/tasks/")
    link = [a for a in tasks.select(".govuk-service-navigation a") if a.get_text(strip=True).startswith("Request")]
    assert [(a.get_text(strip=True), a["href"]) for a in link] == [("Request an EHC needs assessment", START)]
    start = senco.page(START)
    assert "You are asking as Test Primary School" in text_of(start)
    assert [r["value"] for r in start.select("input[name=la]") if r.has_attr("checked")] == [str(world.la.id)]
    senco.post(START, {"la": str(world.la.id)}, status=302)

    who = senco.page(page_url("who"))
    assert [r["value"] for r in who.select("input[name=requester_type]") if r.has_attr("checked")] == ["setting"]
    about = senco.page(page_url("about-you"))
    assert (input_value(about, "requester_name"), input_value(about, "requester_email")) == \
        ("School", "school@test.example")
    assert input_value(senco.page(page_url("setting")), "setting_name") == "Test Primary School"

    answers = dict(PARENT)
    fill(senco, [
        ("who", {"requester_type": "setting"}),
        ("about-you", {"requester_name": "School", "relationship_to_child": "SENCO",
                       "requester_email": "school@test.example"}),
        ("child", answers["child"]), ("address", answers["address"]),
        ("setting", {"setting_name": "Test Primary School", "child_upn": "A123456789012"}),
        ("family", {"parent_name": "Sam Rivers", "parent_email": "sam@example.com", "family_knows": "yes"}),
        ("views", {"parent_views": "", "young_person_views": ""}),
        ("support", answers["support"]), ("urgent", answers["urgent"]), ("consent", answers["consent"]),
    ])
    senco.post(CHECK, {}, status=302)
    row = the_request(services)
    school = world.users["school"]
    assert (row.status, row.requester_type, row.requester_user_id, row.requester_org_id, row.setting_org_id,
            row.child_upn) == ("new", "setting", school.id, world.school.id, world.school.id, "A123456789012")
    confirmation = text_of(senco.page("/request-an-assessment/confirmation"))
    assert "set up your account" not in confirmation
    with services.session_factory() as s:
        assert s.scalars(select(OutboxEmail).where(OutboxEmail.kind == "set_password")).all() == []


def test_a_senco_at_two_settings_says_which_one(app: Flask, world: World, services: Services, clock: FrozenClock,
                                               as_user: Any) -> None:
    from engine.people.users import create_organisation

    with services.session_factory() as s:
        second = create_organisation(s, "Test Nursery", "setting", clock, setting_type="early_years",
                                     maintaining_la_id=world.other_la.id)
        s.add(Membership(user_id=world.users["school"].id, organisation_id=second.id, role="school"))
        s.commit()
        second_id = second.id
    senco = as_user("school")
    start = senco.page(START)
    assert {r["value"] for r in start.select("input[name=setting]")} == {str(world.school.id), str(second_id)}
    page = soup(senco.post(START, {"la": str(world.other_la.id)}, status=200))
    assert errors_of(page) == ["Select the school or setting you are asking for"]
    senco.post(START, {"la": str(world.other_la.id), "setting": str(second_id)}, status=302)
    row = the_request(services)
    assert (row.la_id, row.requester_org_id, row.setting_org_id, row.answers["setting_name"]) == \
        (world.other_la.id, second_id, second_id, "Test Nursery")


def test_starting_and_sending_are_throttled_per_client_address(services: Services, tmp_path: Path,
                                                              world: World) -> None:
    app = make_app(services, tmp_path, REQUEST_SENDS_PER_HOUR=2)
    client = Client(app)
    for _ in range(10):
        begin(client, world)
    client.get(START)
    response = client.post(START, {"la": str(world.la.id)}, status=429)
    assert "Too many requests from your connection: try again later" in response.get_data(as_text=True)
    # Another address is not held back.
    other = Client(app)
    other.get(START, environ_base={"REMOTE_ADDR": "10.0.0.2"})
    other.post(START, {"la": str(world.la.id)}, status=302, environ_base={"REMOTE_ADDR": "10.0.0.2"})

    # Sending: the draft is not finished, so each attempt comes back to a page; the third is refused.
    for _ in range(2):
        assert client.post(CHECK, {}, status=302).headers["Location"].startswith(page_url("who"))
    assert "Too many requests" in client.post(CHECK, {}, status=429).get_data(as_text=True)


def test_every_form_needs_its_csrf_token(client: Client, world: World, app: Flask) -> None:
    client.get(START)
    assert client.post(START, {"la": str(world.la.id)}, token=False).status_code == 400
    begin(client, world)
    assert client.post(page_url("who"), {"requester_type": "parent"}, token=False).status_code == 400
    assert client.post(page_url("reports"), {"_action": "continue"}, token=False).status_code == 400
    assert client.post(CHECK, {}, token=False).status_code == 400
    from webui.extensions import csrf

    assert not [v for v in csrf._exempt_views if v.startswith(("webui.request", "webui.auth"))]
    assert not {"request", "auth"} & set(csrf._exempt_blueprints)


@pytest.mark.parametrize("url", [CHECK, page_url("who"), page_url("reports")])
def test_the_pages_need_a_draft_started_in_this_session(client: Client, url: str) -> None:
    assert client.get(url, status=302).headers["Location"] == START


def test_a_young_person_asks_for_themselves(client: Client, world: World) -> None:
    begin(client, world)
    answer(client, "who", {"requester_type": "young_person"}, page_url("about-you"))
    about = client.page(page_url("about-you"))
    assert "Your relationship to the child or young person (optional)" in text_of(about)
    answer(client, "about-you", {"requester_name": "Jo Young", "relationship_to_child": "",
                                 "requester_email": "jo@example.com"}, page_url("child"))
    views = client.page(page_url("views"))
    assert "The child or young person's own views (optional)" not in text_of(views)
    assert "The parents' views (optional)" in text_of(views)
    page = soup(client.post(page_url("views"), {"parent_views": "", "young_person_views": ""}, status=200))
    assert errors_of(page) == ["Enter your views"]
    # The back link of the setting page skips "the parents", which a young person is not asked about.
    assert client.page(page_url("views")).select_one(".govuk-back-link")["href"] == page_url("setting")


def test_a_senco_asking_as_a_parent_does_not_ask_for_their_setting(as_user: Any, world: World,
                                                                   services: Services) -> None:
    senco = as_user("school")
    senco.get(START)
    senco.post(START, {"la": str(world.la.id)}, status=302)
    fill(senco, PARENT)
    senco.post(CHECK, {}, status=302)
    row = the_request(services)
    assert (row.status, row.requester_type, row.requester_org_id, row.setting_org_id) == ("new", "parent", None, None)


def test_the_sign_in_page_shows_the_way_to_request_an_assessment_without_an_account(app: Flask) -> None:
    page = Client(app).page("/sign-in")
    link = page.select_one("a[href='/request-an-assessment/']")
    assert link is not None and link.get_text() == "request an EHC needs assessment"
    assert Client(app).get(link["href"]).status_code == 200


def test_the_hourly_limit_holds_across_web_processes(services: Services, tmp_path: Path, world: World) -> None:
    """Two apps on one database stand for two web processes: the starts made through one count in the other."""
    first = Client(make_app(services, tmp_path / "one", REQUEST_DRAFTS_PER_HOUR=3))
    second = Client(make_app(services, tmp_path / "two", REQUEST_DRAFTS_PER_HOUR=3))
    for _ in range(3):
        begin(first, world)
    second.get(START)
    second.post(START, {"la": str(world.la.id)}, status=429)
