"""Email notifications: queued in the outbox for tasks and documents, sent by SMTP or written as .eml files, and
never carrying anything personal beyond a link."""

from __future__ import annotations

import email
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from engine.casework.notifications import (
    FAMILY_DOCUMENT_PATH,
    STAFF_DOCUMENT_PATH,
    TASK_PATH,
    NotificationSettings,
    Transport,
    deliver_outbox,
    queue_notifications,
    run_notifications,
)
from engine.runtime.services import Services
from engine.runtime.workflow_engine import WorkflowEngine
from engine.statutory.clock import FrozenClock
from engine.store.models import User
from engine.store.outbox import OutboxEmail
from tests.conftest import World
from tests.web.conftest import open_task
from tests.web.test_cases import add_document


@pytest.fixture
def settings(tmp_path: Path) -> NotificationSettings:
    return NotificationSettings(base_url="https://ehcflow.example.gov.uk", outbox_dir=tmp_path / "outbox")


def outbox(services: Services) -> list[OutboxEmail]:
    with services.session_factory() as s:
        return list(s.scalars(select(OutboxEmail).order_by(OutboxEmail.id)))


def recipients(services: Services, kind: str) -> list[str]:
    return sorted(row.to_address for row in outbox(services) if row.kind == kind)


def test_a_new_task_is_announced_to_the_team_and_sent_as_eml_in_development(
        services: Services, world: World, started: int, clock: FrozenClock, settings: NotificationSettings) -> None:
    assert queue_notifications(services.session_factory, clock, settings) == 1
    assert recipients(services, "task_opened") == ["caseworker@test.example"]
    assert queue_notifications(services.session_factory, clock, settings) == 0  # idempotent
    assert deliver_outbox(services.session_factory, settings, clock) == 1
    files = list((settings.outbox_dir).glob("*.eml"))
    assert len(files) == 1
    message = email.message_from_bytes(files[0].read_bytes())
    task = open_task(services, world.case_id, "UT_record")
    assert message["To"] == "caseworker@test.example"
    assert message["Subject"] == "A task is waiting for you in EHC Flow"
    body = message.get_payload(decode=True).decode()
    assert f"https://ehcflow.example.gov.uk/tasks/{task.id}" in body
    # Nothing personal: no child's name, case reference, date of birth or task name.
    for personal in ("Alex", "Taylor", "EHC-2026", "2015", "Record the request"):
        assert personal not in body and personal not in message["Subject"]
    row = outbox(services)[0]
    assert row.status == "sent" and row.sent_at == clock.now() and row.attempts == 1
    assert deliver_outbox(services.session_factory, settings, clock) == 0


def test_reassigning_tells_the_new_assignee_but_taking_it_yourself_does_not(
        services: Services, world: World, started: int, clock: FrozenClock, engine: WorkflowEngine,
        settings: NotificationSettings) -> None:
    task = open_task(services, world.case_id, "UT_record")
    with services.session_factory() as s:
        caseworker = s.get(User, world.users["caseworker"].id)
        manager = s.get(User, world.users["manager"].id)
    assert caseworker is not None and manager is not None
    engine.claim(task.id, caseworker)
    queue_notifications(services.session_factory, clock, settings)
    assert recipients(services, "task_assigned") == []
    engine.release(task.id, caseworker)
    engine.reassign(task.id, caseworker.id, manager)
    queue_notifications(services.session_factory, clock, settings)
    assert recipients(services, "task_assigned") == ["caseworker@test.example"]


def test_due_soon_and_overdue_reminders(services: Services, world: World, started: int, clock: FrozenClock,
                                        settings: NotificationSettings) -> None:
    queue_notifications(services.session_factory, clock, settings)
    assert recipients(services, "task_due_soon") == []  # just announced as new
    clock.advance(days=1, minutes=1)
    queue_notifications(services.session_factory, clock, settings)
    assert recipients(services, "task_due_soon") == ["caseworker@test.example"]
    clock.advance(days=3)
    queue_notifications(services.session_factory, clock, settings)
    assert recipients(services, "task_overdue") == ["caseworker@test.example"]
    queue_notifications(services.session_factory, clock, settings)
    assert len(outbox(services)) == 3


def test_the_familys_task_and_documents_reach_the_family(services: Services, world: World, started: int,
                                                         clock: FrozenClock, engine: WorkflowEngine,
                                                         settings: NotificationSettings) -> None:
    record = open_task(services, world.case_id, "UT_record")
    engine.complete_task(record.id, {"concern": "x", "received_on": "2026-03-02", "request_from": "parent",
                                     "urgent": False})
    views = open_task(services, world.case_id, "UT_views")
    family_doc = add_document(services, world.case_id, "Decision", [
        {"role": "parent", "user_id": world.users["parent"].id, "copy": False},
        {"role": "health_body", "organisation_id": world.health.id, "copy": True}])
    queue_notifications(services.session_factory, clock, settings)
    by_kind = {(row.kind, row.to_address): row.link_path for row in outbox(services)}
    assert by_kind[("task_opened", "parent@test.example")] == TASK_PATH.format(task_id=views.id)
    assert by_kind[("document_issued", "parent@test.example")] == FAMILY_DOCUMENT_PATH.format(
        case_id=world.case_id, document_id=family_doc)
    assert by_kind[("document_issued", "health@test.example")] == STAFF_DOCUMENT_PATH.format(
        case_id=world.case_id, document_id=family_doc)
    assert ("task_opened", "other_parent@test.example") not in by_kind


def test_the_links_in_emails_are_pages_of_the_app(app: Flask) -> None:
    adapter = app.url_map.bind("localhost")
    assert adapter.match(TASK_PATH.format(task_id=1))[0] == "tasks.task_page"
    assert adapter.match(STAFF_DOCUMENT_PATH.format(case_id=1, document_id=2))[0] == "cases.document"
    assert adapter.match(FAMILY_DOCUMENT_PATH.format(case_id=1, document_id=2))[0] == "family.document"


def test_smtp_delivery_and_retries(services: Services, world: World, started: int, clock: FrozenClock,
                                   monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    sent: list[EmailMessage] = []
    failing = {"on": True}

    class FakeSMTP:
        def __init__(self, host: str, port: int, timeout: float) -> None:
            assert (host, port) == ("smtp.example", 2525)

        def starttls(self, context: Any) -> None:
            pass

        def login(self, user: str, password: str) -> None:
            assert (user, password) == ("mailer", "secret")

        def send_message(self, message: EmailMessage) -> None:
            if failing["on"]:
                raise OSError("connection refused")
            sent.append(message)

        def quit(self) -> None:
            pass

    monkeypatch.setattr("engine.casework.notifications.smtplib.SMTP", FakeSMTP)
    settings = NotificationSettings.from_env({
        "EHCFLOW_SMTP_HOST": "smtp.example", "EHCFLOW_SMTP_PORT": "2525", "EHCFLOW_SMTP_USER": "mailer",
        "EHCFLOW_SMTP_PASSWORD": "secret", "EHCFLOW_MAIL_FROM": "SEND team <send@council.example>",
        "EHCFLOW_BASE_URL": "https://flow.council.example/", "EHCFLOW_OUTBOX_DIR": str(tmp_path / "unused")})
    settings.max_attempts = 2
    queue_notifications(services.session_factory, clock, settings)
    assert deliver_outbox(services.session_factory, settings, clock) == 0
    row = outbox(services)[0]
    assert row.status == "pending" and row.attempts == 1 and "connection refused" in (row.last_error or "")
    assert deliver_outbox(services.session_factory, settings, clock) == 0  # waits before trying again
    clock.advance(minutes=6)
    failing["on"] = False
    assert deliver_outbox(services.session_factory, settings, clock) == 1
    assert sent[0]["From"] == "SEND team <send@council.example>"
    assert "https://flow.council.example/tasks/" in sent[0].get_content()
    assert not (tmp_path / "unused").exists()


def test_a_message_that_never_goes_is_given_up(services: Services, world: World, started: int, clock: FrozenClock,
                                               settings: NotificationSettings) -> None:
    class Broken(Transport):
        def send(self, message: EmailMessage, row: OutboxEmail) -> None:
            raise OSError("disk full")

    settings.max_attempts = 2
    queue_notifications(services.session_factory, clock, settings)
    deliver_outbox(services.session_factory, settings, clock, transport=Broken)
    clock.advance(hours=1)
    deliver_outbox(services.session_factory, settings, clock, transport=Broken)
    assert outbox(services)[0].status == "failed"


def test_run_notifications_never_raises(services: Services, clock: FrozenClock, settings: NotificationSettings,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: Any, **kwargs: Any) -> int:
        raise RuntimeError("database went away")

    monkeypatch.setattr("engine.casework.notifications.queue_notifications", boom)
    assert run_notifications(services.session_factory, clock, settings) == (0, 0)


def test_inactive_users_are_not_emailed(services: Services, world: World, started: int, clock: FrozenClock,
                                        settings: NotificationSettings) -> None:
    with services.session_factory() as s:
        user = s.get(User, world.users["caseworker"].id)
        assert user is not None
        user.active = False
        s.commit()
    assert queue_notifications(services.session_factory, clock, settings) == 0
