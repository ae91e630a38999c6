"""The task page: a JSON Schema form as GOV.UK components, errors, drafts, repeating groups and file uploads."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from engine.runtime.services import Services
from engine.store.models import HumanTask
from tests.conftest import World
from tests.web.conftest import Client, make_app, open_task, soup, text_of
from webui.uploads import EICAR

VALID: list[tuple[str, str]] = [
    ("concern", "Speech and language"),
    ("received_on-day", "2"), ("received_on-month", "3"), ("received_on-year", "2026"),
    ("request_from", "parent"),
    ("urgent", "no"),
    ("hours", "5"),
    ("budget", "£1,250.50"),
    ("needs_areas", "communication"), ("needs_areas", "semh"),
    ("setting_type", "mainstream"),
    ("references", "EHC-1, EHC-2"),
    ("_count:contacts", "1"), ("contacts[0].name", "Dr Rivers"), ("contacts[0].role", "GP"),
    ("consent", "true"),
]


@pytest.fixture
def record_task(services: Services, world: World, started: int) -> HumanTask:
    return open_task(services, world.case_id, "UT_record")


def task_url(task: HumanTask) -> str:
    return f"/tasks/{task.id}"


def test_every_kind_of_field_is_a_govuk_component(as_user: Any, record_task: HumanTask) -> None:
    page = as_user("caseworker").page(task_url(record_task))
    form = page.select_one(f"form[action='{task_url(record_task)}']")
    assert form["enctype"] == "multipart/form-data"  # it has a file field
    # The BPMN documentation is shown above the form, as paragraphs.
    inset = page.select_one(".govuk-inset-text")
    assert [p.get_text() for p in inset.select("p")] == ["Check the request and record what it is about.",
                                                         "Upload the request letter if you have it."]
    assert page.select_one("textarea#field-concern[name=concern]")  # maxLength 2000: a textarea
    assert [i["name"] for i in page.select("#field-received_on input")] == [
        "received_on-day", "received_on-month", "received_on-year"]
    radios = page.select("input[type=radio][name=request_from]")
    assert [r["value"] for r in radios] == ["parent", "school", "young_person"]
    assert radios[0]["id"] == "field-request_from"
    assert page.select_one("label[for=field-request_from]").get_text(strip=True) == "A parent"
    assert [r["value"] for r in page.select("input[type=radio][name=urgent]")] == ["yes", "no"]
    assert page.select_one("input#field-hours")["inputmode"] == "numeric"
    assert page.select_one("input#field-budget")["inputmode"] == "decimal"
    assert [c["value"] for c in page.select("input[type=checkbox][name=needs_areas]")] == [
        "communication", "cognition", "semh", "sensory"]
    assert [o["value"] for o in page.select("select#field-setting_type option")] == [
        "", "mainstream", "special", "none"]
    assert page.select_one("input#field-references[name=references]")
    assert page.select_one("input[name='contacts[0].name']")
    assert page.select_one("button[value='add:contacts']").get_text(strip=True) == "Add another contact"
    upload = page.select_one("input[type=file][name=evidence]")
    assert upload["accept"] == ".pdf,.txt"
    assert page.select_one("input[type=checkbox][name=consent][value=true]")
    # Optional fields say so; required ones do not.
    assert "(optional)" in page.select_one("label[for=field-hours]").get_text()
    assert "(optional)" not in page.select_one("label[for=field-concern]").get_text()
    # Pressing Enter submits, rather than removing a contact.
    first_button = form.select("button")[0]
    assert first_button["value"] == "submit"


def test_a_failed_submission_shows_govuk_errors_and_keeps_everything_typed(as_user: Any,
                                                                            record_task: HumanTask) -> None:
    client = as_user("caseworker")
    data = [(k, v) for k, v in VALID if k not in ("concern", "request_from", "received_on-day", "hours")]
    data += [("received_on-day", "31"), ("received_on-month", "2"), ("hours", "five"), ("_action", "submit")]
    data = [(k, v) for k, v in data if not (k == "received_on-month" and v == "3")]
    response = client.post(task_url(record_task), data, status=200)
    page = soup(response)
    assert page.select_one("title").get_text().startswith("Error: Record the request")
    summary = page.select_one(".govuk-error-summary")
    links = {a.get_text(strip=True): a["href"] for a in summary.select("a")}
    assert links == {
        "Enter what the request is about": "#field-concern",
        "Date the request was received must be a real date": "#field-received_on-day",
        "Select who made the request": "#field-request_from",
        "Hours of support the child has now must be a whole number": "#field-hours",
    }
    # Each message is also next to its field, with the GOV.UK "Error:" prefix for screen readers.
    assert "Error: Enter what the request is about" in page.select_one("#field-concern-error").get_text(" ", strip=True)
    assert page.select_one("#field-received_on-day")["class"].count("govuk-input--error") == 1
    # Everything typed is still there, even the answers that were wrong.
    assert page.select_one("#field-received_on-day")["value"] == "31"
    assert page.select_one("#field-received_on-month")["value"] == "2"
    assert page.select_one("#field-hours")["value"] == "five"
    assert page.select_one("#field-budget")["value"] == "£1,250.50"
    assert page.select_one("input[name=urgent][value=no]").has_attr("checked")
    assert {c["value"] for c in page.select("input[name=needs_areas][checked]")} == {"communication", "semh"}
    assert page.select_one("select#field-setting_type option[selected]")["value"] == "mainstream"
    assert page.select_one("input[name='contacts[0].name']")["value"] == "Dr Rivers"
    assert page.select_one("input[name=consent]").has_attr("checked")


def test_a_date_missing_a_part_says_which(as_user: Any, record_task: HumanTask) -> None:
    data = [(k, v) for k, v in VALID if k != "received_on-month"] + [("_action", "submit")]
    page = soup(as_user("caseworker").post(task_url(record_task), data, status=200))
    assert "Date the request was received must include a month" in text_of(page)


def test_a_valid_submission_is_typed_and_moves_the_route_on(as_user: Any, record_task: HumanTask,
                                                             services: Services, world: World) -> None:
    client = as_user("caseworker")
    response = client.post(task_url(record_task), VALID + [("_action", "submit")], status=302)
    assert response.headers["Location"] == "/tasks/"
    assert "Done: Record the request" in text_of(client.page("/tasks/"))
    with services.session_factory() as s:
        done = s.get(HumanTask, record_task.id)
        assert done is not None and done.status == "completed"
        assert done.submitted_data == {
            "concern": "Speech and language", "received_on": "2026-03-02", "request_from": "parent", "urgent": False,
            "hours": 5, "budget": 1250.5, "needs_areas": ["communication", "semh"], "setting_type": "mainstream",
            "references": ["EHC-1", "EHC-2"], "contacts": [{"name": "Dr Rivers", "role": "GP"}], "consent": True,
        }
        assert done.completed_by_id == world.users["caseworker"].id
    open_task(services, world.case_id, "UT_views")  # the family's turn


def test_the_done_page_shows_the_answers_and_a_second_submission_is_refused(as_user: Any, record_task: HumanTask,
                                                                            world: World) -> None:
    client = as_user("caseworker")
    client.post(task_url(record_task), VALID + [("_action", "submit")], status=302)
    page = client.page(task_url(record_task))
    text = text_of(page)
    assert "This task was done by you" in text
    assert "Who made the request A parent" in text
    assert "Date the request was received 2 March 2026" in text
    assert "Areas of need Communication and interaction, Social, emotional and mental health" in text
    # A second submission (the same person's, from a second tab) is refused, saying the answers were not saved.
    response = client.post(task_url(record_task), VALID + [("_action", "submit")], status=409)
    assert "This task was done" in text_of(soup(response))
    assert text_of(soup(response).select_one("#not-saved")) == (
        "Your answers were not saved This task was already completed by you on 2 March 2026 at 10am, before your "
        "answers arrived.")
    manager = as_user("manager")
    page = manager.page(task_url(record_task))
    assert "This task was done by Caseworker" in text_of(page)


def test_save_as_draft_and_carry_on_later(as_user: Any, record_task: HumanTask, services: Services) -> None:
    client = as_user("caseworker")
    partial = [("concern", "Half written"), ("received_on-day", "40"), ("_action", "draft")]
    response = client.post(task_url(record_task), partial, status=302)
    assert response.headers["Location"] == task_url(record_task)
    with services.session_factory() as s:
        task = s.get(HumanTask, record_task.id)
        assert task is not None and task.status == "open" and task.draft_data is not None
        assert task.draft_data["raw"]["concern"] == ["Half written"]
    page = client.page(task_url(record_task))
    assert "Your answers have been saved as a draft" in text_of(page)
    assert "You are carrying on from a draft saved on 2 March 2026" in text_of(page)
    assert page.select_one("#field-concern").get_text() == "Half written"
    assert page.select_one("#field-received_on-day")["value"] == "40"  # kept as typed, even though it is wrong
    # Another member of the team (a manager) sees the same draft.
    assert as_user("manager").page(task_url(record_task)).select_one("#field-concern").get_text() == "Half written"
    client.post(task_url(record_task), VALID + [("_action", "submit")], status=302)
    with services.session_factory() as s:
        task = s.get(HumanTask, record_task.id)
        assert task is not None and task.draft_data is None


def test_a_draft_keeps_only_fields_of_the_form(as_user: Any, record_task: HumanTask, services: Services) -> None:
    as_user("caseworker").post(task_url(record_task), [("concern", "x"), ("typename", "evil"), ("other", "1"),
                                                        ("_action", "draft")], status=302)
    with services.session_factory() as s:
        task = s.get(HumanTask, record_task.id)
        assert task is not None and task.draft_data is not None
        assert set(task.draft_data["raw"]) == {"concern"}


def test_add_another_and_remove_work_without_javascript(as_user: Any, record_task: HumanTask) -> None:
    client = as_user("caseworker")
    page = soup(client.post(task_url(record_task), VALID + [("_action", "add:contacts")], status=200))
    assert page.select_one(".govuk-error-summary") is None  # adding is not submitting
    assert page.select_one("input[name='contacts[1].name']").has_attr("autofocus")
    assert page.select_one("input[name='_count:contacts']")["value"] == "2"
    data = [(k, v) for k, v in VALID if k != "_count:contacts"] + [
        ("_count:contacts", "3"), ("contacts[1].name", "Ms Second"), ("contacts[2].name", "Mr Third"),
        ("_action", "remove:contacts[0]")]
    page = soup(client.post(task_url(record_task), data, status=200))
    assert [i["value"] for i in page.select("input[name$='.name']")] == ["Ms Second", "Mr Third"]
    assert page.select_one("input[name='_count:contacts']")["value"] == "2"
    assert page.select_one("button[value='remove:contacts[1]']").get_text(" ", strip=True) == "Remove contact 2"
    # A blank contact is dropped; a contact with a role but no name is an error on that field.
    data = [(k, v) for k, v in VALID if not k.startswith(("contacts", "_count"))] + [
        ("_count:contacts", "2"), ("contacts[0].name", ""), ("contacts[1].role", "Teacher"), ("_action", "submit")]
    page = soup(client.post(task_url(record_task), data, status=200))
    assert {a.get_text(strip=True): a["href"] for a in page.select(".govuk-error-summary a")} == {
        "Enter the contact's name": "#field-contacts-0-name"}


def test_a_family_member_fills_in_their_task(as_user: Any, record_task: HumanTask, services: Services,
                                             world: World) -> None:
    as_user("caseworker").post(task_url(record_task), VALID + [("_action", "submit")], status=302)
    views = open_task(services, world.case_id, "UT_views")
    parent = as_user("parent")
    page = parent.page(f"/family/cases/{world.case_id}")
    link = page.select_one(f"a[href='/tasks/{views.id}']")
    assert link is not None and link.get_text(strip=True) == "Give your views"
    page = parent.page(f"/tasks/{views.id}")
    assert page.select_one(".govuk-back-link")["href"] == f"/family/cases/{world.case_id}"
    assert world.case_id and "EHC-" not in page.select_one(".govuk-caption-l").get_text()
    response = parent.post(f"/tasks/{views.id}", [("views", ""), ("_action", "submit")], status=200)
    assert "Tell us your views" in text_of(soup(response))
    response = parent.post(f"/tasks/{views.id}", [("views", "We agree"), ("wants_meeting", "yes"),
                                                  ("_action", "submit")], status=302)
    assert response.headers["Location"] == f"/family/cases/{world.case_id}"
    with services.session_factory() as s:
        task = s.get(HumanTask, views.id)
        assert task is not None and task.submitted_data == {"views": "We agree", "wants_meeting": True}
    open_task(services, world.case_id, "UT_decide")


def test_staff_cannot_fill_in_the_familys_task(as_user: Any, record_task: HumanTask, services: Services,
                                               world: World) -> None:
    as_user("caseworker").post(task_url(record_task), VALID + [("_action", "submit")], status=302)
    views = open_task(services, world.case_id, "UT_views")
    page = as_user("manager").page(f"/tasks/{views.id}", status=403)
    assert "You cannot work on this task" in text_of(page)


def test_a_suspended_route_keeps_what_was_typed(as_user: Any, record_task: HumanTask, services: Services,
                                                started: int) -> None:
    services.engine.suspend(started, None, "testing")
    page = soup(as_user("caseworker").post(task_url(record_task), VALID + [("_action", "submit")], status=200))
    assert "Your answers were not sent" in text_of(page)
    assert "suspended" in text_of(page)
    assert page.select_one("#field-concern").get_text() == "Speech and language"


# ---- file uploads ----------------------------------------------------------------------------------------------------

def upload(client: Client, task: HumanTask, name: str, content: bytes, action: str = "add:contacts") -> Any:
    data = [(k, v) for k, v in VALID] + [("_action", action), ("evidence", (io.BytesIO(content), name))]
    return client.post(task_url(task), data, content_type="multipart/form-data")


def test_an_uploaded_file_is_stored_safely_and_kept_through_the_form(as_user: Any, record_task: HumanTask,
                                                                     app: Flask, services: Services) -> None:
    client = as_user("caseworker")
    response = upload(client, record_task, "../../etc/request letter.txt", b"Dear SEN team,\nPlease assess.\n",
                      action="add:contacts")
    page = soup(response)
    token = page.select_one("input[type=hidden][name=evidence]")["value"]
    folder = Path(app.instance_path) / "uploads"
    stored = folder / token
    assert stored.read_bytes() == b"Dear SEN team,\nPlease assess.\n"
    assert sorted(p.name for p in folder.iterdir()) == sorted([token, f"{token}.json"])
    link = page.select_one(f"a[href='/tasks/{record_task.id}/files/{token}']")
    assert link.get_text(strip=True) == "request letter.txt"
    download = client.get(f"/tasks/{record_task.id}/files/{token}")
    assert download.data == b"Dear SEN team,\nPlease assess.\n"
    assert 'attachment; filename="request letter.txt"' in download.headers["Content-Disposition"]
    # Submitting keeps the file (sent again as the hidden token) and records its token as the answer.
    data = [(k, v) for k, v in VALID] + [("evidence", token), ("_action", "submit")]
    client.post(task_url(record_task), data, status=302)
    with services.session_factory() as s:
        task = s.get(HumanTask, record_task.id)
        assert task is not None and task.submitted_data is not None
        assert task.submitted_data["evidence"] == token
    page = client.page(task_url(record_task))
    assert page.select_one(f"a[href='/tasks/{record_task.id}/files/{token}']")


@pytest.mark.parametrize(("name", "content", "message"), [
    ("letter.exe", b"MZ\x90\x00", "The selected file must be a PDF or text file"),
    ("letter.pdf", b"this is not a pdf", "The selected file must be a PDF or text file"),
    ("letter.txt", b"", "The selected file is empty"),
    ("virus.txt", EICAR, "The selected file contains a virus"),
])
def test_a_bad_file_is_refused_with_a_govuk_message(as_user: Any, record_task: HumanTask, app: Flask, name: str,
                                                    content: bytes, message: str) -> None:
    page = soup(upload(as_user("caseworker"), record_task, name, content, action="submit"))
    assert page.select_one("title").get_text().startswith("Error:")
    assert message in page.select_one(".govuk-error-summary").get_text()
    assert page.select_one(".govuk-error-summary a")["href"] == "#field-evidence"
    folder = Path(app.instance_path) / "uploads"
    assert not folder.exists() or not any(folder.iterdir())


def test_file_size_is_limited_and_the_scan_hook_can_refuse(services: Services, tmp_path: Path, world: World,
                                                           started: int) -> None:
    seen: list[str] = []

    def scanner(path: Path, filename: str) -> str | None:
        seen.append(filename)
        return "The selected file could not be checked" if b"suspicious" in path.read_bytes() else None

    app = make_app(services, tmp_path, UPLOAD_MAX_BYTES=100, VIRUS_SCANNER=scanner)
    client = Client(app)
    client.sign_in(world.users["caseworker"].email)
    task = open_task(services, world.case_id, "UT_record")
    page = soup(upload(client, task, "big.txt", b"x" * 101))
    assert "The selected file must be smaller than 1KB" in text_of(page)
    page = soup(upload(client, task, "odd.txt", b"suspicious content"))
    assert "The selected file could not be checked" in text_of(page)
    page = soup(upload(client, task, "fine.txt", b"fine"))
    assert page.select_one("input[type=hidden][name=evidence]")
    assert seen == ["odd.txt", "fine.txt"]


def test_a_token_from_another_task_is_not_accepted(as_user: Any, record_task: HumanTask, services: Services,
                                                   world: World, engine: Any) -> None:
    client = as_user("caseworker")
    page = soup(upload(client, record_task, "a.txt", b"hello", action="add:contacts"))
    token = page.select_one("input[type=hidden][name=evidence]")["value"]
    engine.start(world.case_id, "web_route")
    with services.session_factory() as s:
        other = s.scalars(select(HumanTask).where(HumanTask.bpmn_id == "UT_record", HumanTask.status == "open",
                                                  HumanTask.id != record_task.id)).one()
    client.post(f"/tasks/{other.id}", VALID + [("evidence", token), ("_action", "submit")], status=302)
    with services.session_factory() as s:
        done = s.get(HumanTask, other.id)
        assert done is not None and done.submitted_data is not None and "evidence" not in done.submitted_data
    client.get(f"/tasks/{other.id}/files/{token}", status=404)


def test_several_files_for_one_answer(as_user: Any, record_task: HumanTask, services: Services) -> None:
    client = as_user("caseworker")
    data = [(k, v) for k, v in VALID] + [("_action", "add:contacts"),
                                         ("attachments", (io.BytesIO(b"one"), "one.txt")),
                                         ("attachments", (io.BytesIO(b"two"), "two.txt"))]
    page = soup(client.post(task_url(record_task), data, content_type="multipart/form-data", status=200))
    assert page.select_one("input[type=file][name=attachments]").has_attr("multiple")
    tokens = [i["value"] for i in page.select("input[type=hidden][name=attachments]")]
    assert len(tokens) == 2
    assert [a.get_text() for a in page.select(".ehc-uploaded a")] == ["one.txt", "two.txt"]
    # Remove the first; the second stays.
    data = [(k, v) for k, v in VALID] + [("attachments", t) for t in tokens] + [
        ("_action", f"remove-file:attachments|{tokens[0]}")]
    page = soup(client.post(task_url(record_task), data, status=200))
    assert [i["value"] for i in page.select("input[type=hidden][name=attachments]")] == [tokens[1]]
    data = [(k, v) for k, v in VALID] + [("attachments", tokens[1]), ("priority", "high"), ("_action", "submit")]
    client.post(task_url(record_task), data, status=302)
    with services.session_factory() as s:
        task = s.get(HumanTask, record_task.id)
        assert task is not None and task.submitted_data is not None
        assert task.submitted_data["attachments"] == [tokens[1]]
        assert task.submitted_data["priority"] == "high"
    page = client.page(task_url(record_task))
    assert page.select_one(f"a[href='/tasks/{record_task.id}/files/{tokens[1]}']")
    assert "Priority High" in text_of(page)


def test_answers_typed_when_the_session_runs_out_are_kept_as_a_draft(as_user: Any, record_task: HumanTask,
                                                                     services: Services, clock: Any) -> None:
    client = as_user("caseworker")
    client.page(task_url(record_task))
    clock.advance(minutes=45)  # a long think
    response = client.post(task_url(record_task), VALID + [("_action", "submit")], status=302)
    assert response.headers["Location"].startswith(f"/sign-in?next={task_url(record_task)}")
    page = client.page("/sign-in")
    assert "What you had typed has been saved as a draft" in text_of(page)
    with services.session_factory() as s:
        task = s.get(HumanTask, record_task.id)
        assert task is not None and task.status == "open"  # never submitted
        assert task.draft_data is not None and task.draft_data["raw"]["concern"] == ["Speech and language"]
    client.sign_in("caseworker@test.example")
    page = client.page(task_url(record_task))
    assert page.select_one("#field-concern").get_text() == "Speech and language"
