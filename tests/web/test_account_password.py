"""Changing your own password: every mistake on its field, the other sessions end, and the new password works."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import select

from engine.runtime.services import Services
from engine.store.models import AuditEvent
from tests.conftest import PASSWORD, World
from tests.web.conftest import Client, soup, text_of

NEW = "a new long passphrase"


def errors_of(response: Any) -> dict[str, str]:
    return {a.get_text(strip=True): a["href"] for a in soup(response).select(".govuk-error-summary a")}


def test_a_person_changes_their_password_and_is_signed_out_elsewhere(app: Flask, world: World,
                                                                     services: Services) -> None:
    email = world.users["caseworker"].email
    laptop, phone = Client(app), Client(app)
    laptop.sign_in(email)
    phone.sign_in(email)
    page = laptop.page("/account")
    assert page.select_one("a[href='/account/password']") is not None

    wrong = laptop.post("/account/password", {"current_password": "not it", "new_password": "short",
                                              "confirm_password": "short"}, status=200)
    assert errors_of(wrong) == {"Enter your current password correctly": "#current_password",
                                "Your new password must be at least 10 characters long": "#new_password"}
    mismatch = laptop.post("/account/password", {"current_password": PASSWORD, "new_password": NEW,
                                                 "confirm_password": NEW + "!"}, status=200)
    assert errors_of(mismatch) == {"The passwords do not match: type your new password again": "#confirm_password"}
    same = laptop.post("/account/password", {"current_password": PASSWORD, "new_password": PASSWORD,
                                             "confirm_password": PASSWORD}, status=200)
    assert "Your new password must be different from your current one" in errors_of(same)

    done = laptop.post("/account/password", {"current_password": PASSWORD, "new_password": NEW,
                                             "confirm_password": NEW}, status=302)
    assert done.headers["Location"] == "/account"
    assert "Your password has been changed" in text_of(laptop.page("/account"))  # this session goes on
    assert phone.get("/account", status=None).status_code == 302  # the other one has ended
    fresh = Client(app)
    fresh.sign_in(email, PASSWORD, expect=200)  # the old password no longer works
    fresh.sign_in(email, NEW)
    with services.session_factory() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.action == "password_changed")).one()
    assert event.actor_id == world.users["caseworker"].id and NEW not in str(event.detail) + event.summary


def test_the_form_needs_its_csrf_token_and_a_family_can_use_it_too(app: Flask, as_user: Any) -> None:
    client = as_user("caseworker")
    assert client.post("/account/password", {"current_password": PASSWORD, "new_password": NEW,
                                             "confirm_password": NEW}, token=False).status_code == 400
    parent = as_user("parent")
    parent.post("/account/password", {"current_password": PASSWORD, "new_password": NEW, "confirm_password": NEW},
                status=302)
