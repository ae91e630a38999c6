"""Escaping: a child's name, a person's name and form answers that contain HTML are shown as text on every page."""

from __future__ import annotations

from typing import Any

from markupsafe import escape

from engine.people.roles import Role
from engine.people.users import create_user
from engine.runtime.services import Services
from engine.runtime.workflow_engine import WorkflowEngine
from engine.store.models import CaseParty
from tests.conftest import PASSWORD, World
from tests.web.conftest import ROUTE, Client, open_task, soup
from tests.web.test_cases import add_document
from tests.web.test_task_forms import VALID

FIRST = "<script>alert('first')</script>"
LAST = '"><img src=x onerror=alert(2)>'
ANSWER = "<b>bold</b> & <script>alert('answer')</script>"
PERSON = "<i>Evil</i> Parent"
DANGEROUS = ("<script>alert", "<img src=x", "<b>bold</b>", "<i>Evil</i>", "onerror=alert(2)>")


def assert_text_not_markup(html: str, where: str, *expected: str) -> None:
    for fragment in DANGEROUS:
        assert fragment not in html, f"{where}: {fragment!r} reached the page as markup"
    text = soup_text(html)
    for value in expected:
        assert value in text, f"{where}: {value!r} is not shown as text"


def soup_text(html: str) -> str:
    from bs4 import BeautifulSoup

    return BeautifulSoup(html, "html.parser").get_text()


def test_names_and_answers_with_html_are_shown_as_text_everywhere(app: Any, world: World, services: Services,
                                                                  engine: WorkflowEngine, web_route: str) -> None:
    with services.session_factory() as s:
        case = engine.open_case(s, world.la.id, FIRST, LAST, "2015-01-01")
        parent = create_user(s, "evil.parent@test.example", PERSON, PASSWORD, engine.clock, [(None, Role.FAMILY)])
        s.add(CaseParty(case_id=case.id, role="family", user_id=parent.id, relationship_to_child="<u>mum</u>"))
        s.commit()
        case_id = case.id
    engine.start(case_id, ROUTE)
    record = open_task(services, case_id, "UT_record")
    caseworker = Client(app)
    caseworker.sign_in(world.users["caseworker"].email)
    answers = [(k, ANSWER if k in ("concern", "contacts[0].name") else v) for k, v in VALID]
    assert_text_not_markup(caseworker.get("/tasks/").get_data(as_text=True), "my tasks", FIRST)
    assert_text_not_markup(caseworker.get(f"/tasks/{record.id}").get_data(as_text=True), "task form", FIRST)

    # The form drawn again after an error keeps the answer as text inside the field.
    wrong = [(k, "x" if k == "hours" else v) for k, v in answers]
    response = caseworker.post(f"/tasks/{record.id}", wrong + [("_action", "submit")], status=200)
    html = response.get_data(as_text=True)
    assert_text_not_markup(html, "task form with errors", ANSWER, FIRST)
    assert soup(response).select_one("#field-concern").get_text() == ANSWER
    assert soup(response).select_one("input[name='contacts[0].name']")["value"] == ANSWER

    caseworker.post(f"/tasks/{record.id}", answers + [("_action", "submit")], status=302)
    doc = add_document(services, case_id, f"Decision for {FIRST} {LAST}", [{"role": "parent"}],
                       body=f"<article><h1>Notice</h1><p>{escape(ANSWER)}</p><script>alert(9)</script></article>")
    manager = Client(app)
    manager.sign_in(world.users["manager"].email)
    views = open_task(services, case_id, "UT_views")
    staff_pages = {
        "done task": (caseworker, f"/tasks/{record.id}"),
        "case list": (caseworker, "/cases/"),
        "case": (caseworker, f"/cases/{case_id}"),
        "timeline": (caseworker, f"/cases/{case_id}/timeline"),
        "document": (caseworker, f"/cases/{case_id}/documents/{doc}"),  # escaped by the engine; scripts dropped
        "family task seen by staff": (manager, f"/tasks/{views.id}"),
    }
    for where, (client, url) in staff_pages.items():
        response = client.get(url, status=None)
        assert response.status_code in (200, 403), (where, response.status_code)
        assert_text_not_markup(response.get_data(as_text=True), where, FIRST)
    assert_text_not_markup(caseworker.get(f"/tasks/{record.id}").get_data(as_text=True), "answers", ANSWER)
    assert PERSON in soup_text(caseworker.get(f"/cases/{case_id}").get_data(as_text=True))

    family = Client(app)
    family.sign_in("evil.parent@test.example")
    for where, url in {"family index": "/family/", "family case": f"/family/cases/{case_id}",
                       "family document": f"/family/cases/{case_id}/documents/{doc}",
                       "family task": f"/tasks/{views.id}", "account": "/account"}.items():
        response = family.get(url)
        assert_text_not_markup(response.get_data(as_text=True), where)
    assert PERSON in soup_text(family.get("/account").get_data(as_text=True))

    # The reassign page builds its heading from the child's name and the task's name.
    engine.start(case_id, ROUTE)
    second = open_task(services, case_id, "UT_record")
    assert_text_not_markup(manager.get("/tasks/team").get_data(as_text=True), "team tasks", FIRST)
    response = manager.get(f"/tasks/{second.id}/reassign")
    assert_text_not_markup(response.get_data(as_text=True), "reassign", FIRST)
    # The diagram's data is JSON, never HTML.
    instance = second.instance_id
    response = manager.get(f"/cases/{case_id}/routes/{instance}/diagram.json")
    assert response.mimetype == "application/json"


def test_odd_numbers_in_urls_and_forms_are_not_server_errors(as_user: Any) -> None:
    """Characters that str.isdigit accepts but int refuses ("²"), and ids too long for the database."""
    client = as_user("caseworker")
    for url in ("/cases/?page=²", "/tasks/?page=²", "/tasks/?page=99999999999999999999", "/cases/?page=٣"):
        assert client.get(url, status=None).status_code == 200, url
    manager = as_user("manager")
    assert manager.get("/reports/?la=²", status=None).status_code == 404
