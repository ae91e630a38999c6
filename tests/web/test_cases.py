"""The case page: the child and the people involved, the statutory clock and its exceptions, the routes with their
diagrams, documents and plans, and the timeline."""

from __future__ import annotations

from typing import Any

from bs4 import BeautifulSoup
from sqlalchemy import select

from engine.runtime.services import Services
from engine.runtime.workflow_engine import WorkflowEngine
from engine.statutory.clock import FrozenClock
from engine.store.models import AuditEvent, Deadline, Document, User
from tests.conftest import World
from tests.web.conftest import open_task, soup, text_of
from tests.web.test_task_lists import to_decide

DRAFT = {
    "section_a": {"views": "Alex enjoys trains.", "aspirations": "To read on his own."},
    "section_b": {"needs": [{"area": "communication_and_interaction", "description": "Speech sound difficulties"}]},
    "section_e": {"outcomes": [{"description": "Speaks in short sentences", "by_when": "July 2027", "needs": ["B1"]}]},
    "section_f": {"provision": [{"description": "Speech and language therapy", "amount": "3 sessions a week",
                                 "provided_by": "Speech and language therapist", "needs": ["B1"]}]},
}


ADVICE = [{"provider": "Dr Park", "kind": "educational_psychology", "received_on": "2026-02-01",
           "title": "Educational psychology advice"}]


def add_document(services: Services, case_id: int, title: str, recipients: list[dict[str, Any]] | None,
                 body: str = "<article><h1>Notice</h1><p>Text</p></article>", instance_id: int | None = None) -> int:
    with services.session_factory() as s:
        doc = Document(case_id=case_id, instance_id=instance_id, kind="test_notice", title=title, body_html=body,
                       recipients=recipients, appealable=False, issued_at=services.engine.clock.now())
        s.add(doc)
        s.commit()
        return doc.id


def section(page: BeautifulSoup, heading_id: str) -> str:
    """The text from a heading to the next h2."""
    heading = page.select_one(f"#{heading_id}")
    parts = []
    for sibling in heading.find_next_siblings():
        if sibling.name == "h2":
            break
        parts.append(sibling.get_text(" "))
    return " ".join(" ".join(parts).split())


def test_case_page_shows_child_la_parties_tasks_and_routes(as_user: Any, world: World, started: int) -> None:
    page = as_user("caseworker").page(f"/cases/{world.case_id}")
    assert page.select_one("h1").get_text(strip=True) == "Alex Taylor"
    text = text_of(page)
    assert "Date of birth 14 May 2015" in text
    assert "Responsible local authority Testshire Council" in text
    for party in ("Testshire ICB (Health body)", "Test Primary School (School or setting)",
                  "Test Mediation (Mediation service)", "Parent (Parent or young person, mother)"):
        assert party in text
    tasks = section(page, "tasks")
    assert "Record the request Web test route LA caseworker, Testshire Council 5 Mar 2026 3 days left" in tasks
    routes = section(page, "routes")
    assert "Web test route Waiting for someone to act" in routes
    assert "Current step: Record the request (LA caseworker, due 5 March 2026)" in routes
    diagram = page.select_one(".ehc-diagram")
    assert diagram["data-diagram-url"] == f"/cases/{world.case_id}/routes/{started}/diagram.json"
    assert "the current step is Record the request" in diagram["aria-label"]
    # The viewer is served by the app itself.
    scripts = [s["src"] for s in page.select("script[src]")]
    assert "/static/vendor/bpmn-js/bpmn-navigated-viewer.min.js" in scripts and "/static/js/diagram.js" in scripts


def test_diagram_json_has_the_versions_bpmn_and_the_current_step(as_user: Any, world: World, started: int,
                                                                 services: Services, engine: WorkflowEngine) -> None:
    to_decide(engine, services, world, world.case_id)
    response = as_user("manager").get(f"/cases/{world.case_id}/routes/{started}/diagram.json")
    data = response.get_json()
    assert data["process_id"] == "web_route"
    assert data["current"] == ["UT_decide"]
    assert data["waiting"] == ["TE_decide_due"]
    assert data["done"] == ["UT_record", "UT_views"]
    assert len(data["diagrams"]) == 1
    assert data["diagrams"][0]["name"] == "web_route.bpmn"
    assert 'bpmnElement="UT_decide"' in data["diagrams"][0]["xml"]


def test_statutory_clock_and_recording_an_exception(as_user: Any, world: World, started: int, services: Services,
                                                    engine: WorkflowEngine, clock: FrozenClock) -> None:
    decide = to_decide(engine, services, world, world.case_id)
    clock.advance(days=3)
    client = as_user("caseworker")
    page = client.page(f"/cases/{world.case_id}")
    clock_text = section(page, "clock")
    assert "Decision due (6 weeks) From 2 March 2026 13 April 2026 39 days left Due" in clock_text
    link = page.select_one("#clock ~ table a[href*='/exception']")
    assert link is not None
    url = link["href"]
    form = client.page(url)
    assert "Record a timescale exception" in text_of(form)
    # The missed-appointment reason is only for advice requests.
    reasons = [i["value"] for i in form.select("input[name=reason]")]
    assert "missed_appointment" not in reasons and "setting_closed" in reasons
    response = client.post(url, {"reason": "", "detail": "", "family_told_on-day": "40",
                                 "family_told_on-month": "1", "family_told_on-year": "2026"}, status=200)
    errors = {a.get_text(strip=True): a["href"] for a in soup(response).select(".govuk-error-summary a")}
    assert errors == {"Select the reason the timescale could not be met": "#reason",
                      "Enter the evidence for the exception": "#detail",
                      "The date the family was told must be a real date": "#family_told_on-day"}
    response = client.post(url, {"reason": "", "detail": "", "family_told_on-day": "4",
                                 "family_told_on-month": "3", "family_told_on-year": "2026"}, status=200)
    errors = {a.get_text(strip=True): a["href"] for a in soup(response).select(".govuk-error-summary a")}
    assert errors == {"Select the reason the timescale could not be met": "#reason",
                      "Enter the evidence for the exception": "#detail"}
    assert soup(response).select_one("#family_told_on-day")["value"] == "4"
    client.post(url, {"reason": "setting_closed", "detail": "School closed for 5 weeks (flood)",
                      "family_told_on-day": "4", "family_told_on-month": "3", "family_told_on-year": "2026"},
                status=302)
    page = client.page(f"/cases/{world.case_id}")
    clock_text = section(page, "clock")
    assert "The school or setting was closed for four weeks or more" in clock_text
    assert "Family told on 4 March 2026; recorded by Caseworker" in clock_text
    assert "School closed for 5 weeks (flood)" in clock_text
    with services.session_factory() as s:
        row = s.scalars(select(Deadline).where(Deadline.attached_task_guid == decide.task_guid)).one()
        assert row.exception_reason == "setting_closed"
    # Only the responsible LA's caseworkers and managers record exceptions.
    as_user("health").get(url, status=403)
    assert not as_user("health").page(f"/cases/{world.case_id}").select_one("a[href*='/exception']")


def test_documents_are_shown_safely_and_can_be_downloaded(as_user: Any, world: World, services: Services) -> None:
    body = ('<article class="ehc-document"><h1 class="ehc-document__title">Decision to assess</h1>'
            '<p onclick="steal()">We will assess.</p><script>alert(1)</script>'
            '<a href="javascript:alert(2)">bad link</a><img src=x onerror=alert(3)></article>')
    doc_id = add_document(services, world.case_id, "Decision to assess", [{"role": "parent"}], body)
    client = as_user("caseworker")
    page = client.page(f"/cases/{world.case_id}")
    assert page.select_one(f"a[href='/cases/{world.case_id}/documents/{doc_id}']").get_text() == "Decision to assess"
    page = client.page(f"/cases/{world.case_id}/documents/{doc_id}")
    article = page.select_one("article.ehc-document")
    assert article.select_one("h1").get_text() == "Decision to assess"
    html = str(article)
    assert "<script" not in html and "onclick" not in html and "javascript:" not in html and "<img" not in html
    assert "We will assess." in html
    download = client.get(f"/cases/{world.case_id}/documents/{doc_id}/download")
    assert download.mimetype == "text/html"
    assert 'attachment; filename="decision-to-assess-2026-03-02.html"' == download.headers["Content-Disposition"]
    assert "<script" not in download.get_data(as_text=True)
    # A document of another case is not found through this case.
    other = add_document(services, world.other_case_id, "Other", None)
    client.get(f"/cases/{world.case_id}/documents/{other}", status=404)


def test_plan_versions_read_as_pages_with_pdf_and_changes(as_user: Any, world: World, services: Services,
                                                          clock: FrozenClock) -> None:
    from engine.casework import plans

    with services.session_factory() as s:
        first = plans.create_draft(s, world.case_id, DRAFT, now=clock.now(), advice=ADVICE)
        changed = {**DRAFT, "section_a": {"views": "Alex loves trains and buses.", "aspirations": "To read."}}
        second = plans.new_draft_version(s, world.case_id, {"section_a": changed["section_a"]}, now=clock.now())
        s.commit()
        first_id, second_id = first.id, second.id
    client = as_user("caseworker")
    page = client.page(f"/cases/{world.case_id}")
    assert page.select_one(f"a[href='/cases/{world.case_id}/plans/{second_id}']").get_text() == "Draft 2"
    page = client.page(f"/cases/{world.case_id}/plans/{first_id}")
    assert "This is a draft" in text_of(page) and "Speech sound difficulties" in text_of(page)
    pdf = client.get(f"/cases/{world.case_id}/plans/{first_id}/pdf")
    assert pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    page = client.page(f"/cases/{world.case_id}/plans/{second_id}/changes")
    assert "Alex loves trains and buses." in text_of(page)
    client.get(f"/cases/{world.case_id}/plans/{first_id}/changes", status=404)  # nothing before the first


def test_timeline_shows_who_did_what_and_when(as_user: Any, world: World, started: int, services: Services,
                                              clock: FrozenClock) -> None:
    task = open_task(services, world.case_id, "UT_record")
    clock.advance(hours=3, minutes=15)
    client = as_user("caseworker")
    client.post(f"/tasks/{task.id}/claim", {}, status=302)
    page = client.page(f"/cases/{world.case_id}")
    first = page.select_one("#timeline ~ table tbody tr")
    assert [td.get_text(" ", strip=True) for td in first.select("td")] == [
        "2 March 2026 at 1:15pm", "Caseworker took the task: Record the request", "Caseworker"]
    with services.session_factory() as s:
        for n in range(60):
            s.add(AuditEvent(at=clock.now(), case_id=world.case_id, action="note", summary=f"Note {n}"))
        s.commit()
    page = client.page(f"/cases/{world.case_id}")
    assert page.select_one(f"a[href='/cases/{world.case_id}/timeline']")
    page = client.page(f"/cases/{world.case_id}/timeline")
    assert len(page.select("tbody tr")) == 50
    page = client.page(f"/cases/{world.case_id}/timeline?page=2")
    assert len(page.select("tbody tr")) == 14


def test_case_search(as_user: Any, world: World) -> None:
    client = as_user("caseworker")
    page = client.page("/cases/?q=taylor")
    assert [a.get_text() for a in page.select("tbody a")] == ["Alex Taylor"]
    assert client.page("/cases/?q=other").select("tbody a") == []  # another LA's child
    # A health body on both cases sees both.
    assert sorted(a.get_text() for a in as_user("health").page("/cases/").select("tbody a")) == [
        "Alex Taylor", "Bo Other"]


def test_exception_claimed_by_is_named(as_user: Any, world: World, services: Services, engine: WorkflowEngine,
                                       started: int) -> None:
    decide = to_decide(engine, services, world, world.case_id)
    with services.session_factory() as s:
        row = s.scalars(select(Deadline).where(Deadline.attached_task_guid == decide.task_guid)).one()
        manager = s.get(User, world.users["manager"].id)
    engine.claim_exception(row.id, "exceptional_personal_circumstances", "Family bereavement", "2026-03-02", manager)
    page = as_user("caseworker").page(f"/cases/{world.case_id}")
    assert "recorded by Manager" in section(page, "clock")
    assert not page.select_one("a[href*='/exception']")  # already recorded
