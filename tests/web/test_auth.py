"""Signing in and out, session expiry, throttling, CSRF, cookies and security headers."""

from __future__ import annotations

import os
import stat
from datetime import timedelta
from pathlib import Path

from flask import Flask
from sqlalchemy import select

from engine.runtime.services import Services
from engine.statutory.clock import FrozenClock
from engine.store.models import User
from engine.store.sign_in import WebSession
from tests.conftest import PASSWORD, World
from tests.web.conftest import Client, make_app, soup, text_of


def test_sign_in_page_is_govuk_with_the_councils_own_header(client: Client) -> None:
    page = client.page("/sign-in")
    assert page.select_one("h1").get_text(strip=True) == "Sign in to EHC Flow"
    assert page.select_one("a.govuk-skip-link")["href"] == "#main-content"
    assert page.select_one(".govuk-phase-banner")
    html = str(page)
    # A council service: no GOV.UK crown, no GOV.UK header or footer logo, no GDS Transport.
    assert "govuk-header__logotype" not in html and "govuk-footer__crown" not in html
    assert "Crown copyright" not in html
    assert page.select_one(".ehc-header__organisation")
    # No inline script: every script is a file of this app.
    for script in page.select("script"):
        assert script.get("src", "").startswith("/static/"), script
        assert not script.get_text(strip=True)


def test_caseworker_signs_in_and_lands_on_their_tasks(client: Client, world: World) -> None:
    response = client.sign_in(world.users["caseworker"].email)
    assert response.headers["Location"] == "/tasks/"
    page = client.page("/tasks/")
    assert "Testshire Council" in page.select_one(".ehc-header__organisation").get_text()
    assert page.select_one("title").get_text().startswith("My tasks")


def test_family_member_lands_on_their_cases(client: Client, world: World) -> None:
    response = client.sign_in(world.users["parent"].email)
    assert response.headers["Location"] == "/family/"


def test_email_is_not_case_sensitive(client: Client, world: World) -> None:
    client.sign_in(world.users["caseworker"].email.upper())


def test_wrong_password_shows_a_govuk_error(client: Client, world: World) -> None:
    response = client.sign_in(world.users["caseworker"].email, "not-the-password", expect=200)
    page = soup(response)
    assert page.select_one("title").get_text().startswith("Error: Sign in")
    summary = page.select_one(".govuk-error-summary")
    assert "Enter a correct email address and password" in summary.get_text()
    assert summary.select_one("a")["href"] == "#email"
    assert page.select_one("#email")["value"] == world.users["caseworker"].email


def test_empty_fields_are_named(client: Client) -> None:
    response = client.post("/sign-in", {"email": "", "password": ""}, status=200)
    errors = [a.get_text(strip=True) for a in soup(response).select(".govuk-error-summary a")]
    assert errors == ["Enter your email address", "Enter your password"]


def test_next_takes_you_back_but_never_to_another_site(client: Client, world: World) -> None:
    response = client.get(f"/cases/{world.case_id}", status=302)
    assert response.headers["Location"].startswith("/sign-in?next=/cases/")
    client.get("/sign-in", status=None)
    ok = client.post(f"/sign-in?next=/cases/{world.case_id}",
                     {"email": world.users["caseworker"].email, "password": PASSWORD}, status=302)
    assert ok.headers["Location"] == f"/cases/{world.case_id}"
    other = Client(client.app)
    other.get("/sign-in", status=None)
    for evil in ("https://evil.example/", "//evil.example/x", "/\\evil.example"):
        response = other.post("/sign-in", {"email": world.users["manager"].email, "password": PASSWORD,
                                           "next": evil}, status=302)
        assert response.headers["Location"] == "/tasks/", evil
        other.sign_out()


def test_account_is_locked_after_five_failures(client: Client, world: World, services: Services,
                                                clock: FrozenClock) -> None:
    email = world.users["caseworker"].email
    for _ in range(4):
        page = soup(client.sign_in(email, "wrong-password-1", expect=200))
        assert "Enter a correct email address and password" in text_of(page)
    page = soup(client.sign_in(email, "wrong-password-1", expect=200))
    assert "You have tried to sign in too many times" in text_of(page)
    # Even the right password is refused while the account is locked.
    page = soup(client.sign_in(email, PASSWORD, expect=200))
    assert "You have tried to sign in too many times" in text_of(page)
    with services.session_factory() as s:
        user = s.scalar(select(User).where(User.email == email))
        assert user is not None and user.locked_until is not None
    clock.advance(minutes=16)
    client.sign_in(email, PASSWORD)
    with services.session_factory() as s:
        user = s.scalar(select(User).where(User.email == email))
        assert user is not None and user.failed_sign_ins == 0 and user.locked_until is None


def test_an_unknown_email_gets_the_same_answers_as_a_real_account(client: Client) -> None:
    for _ in range(4):
        page = soup(client.sign_in("nobody@test.example", "whatever-password", expect=200))
        assert "Enter a correct email address and password" in text_of(page)
    page = soup(client.sign_in("nobody@test.example", "whatever-password", expect=200))
    assert "You have tried to sign in too many times" in text_of(page)


def test_one_address_may_only_fail_so_often(services: Services, tmp_path: Path, world: World) -> None:
    app = make_app(services, tmp_path, SIGN_IN_IP_MAX_FAILURES=3)
    client = Client(app)
    for n in range(3):
        client.sign_in(f"someone{n}@test.example", "wrong-password", expect=200)
    response = client.sign_in(world.users["caseworker"].email, PASSWORD, expect=429)
    assert "Too many sign-in attempts" in text_of(soup(response))


def test_inactive_user_cannot_sign_in(client: Client, world: World, services: Services) -> None:
    with services.session_factory() as s:
        user = s.get(User, world.users["school"].id)
        assert user is not None
        user.active = False
        s.commit()
    page = soup(client.sign_in(world.users["school"].email, expect=200))
    assert "Enter a correct email address and password" in text_of(page)


def test_sign_out_ends_the_session_on_the_server(client: Client, world: World) -> None:
    client.sign_in(world.users["caseworker"].email)
    client.get("/tasks/")
    stolen = client.http.get_cookie("ehcflow_session")
    assert stolen is not None
    response = client.sign_out()
    assert response.headers["Location"] == "/sign-in"
    assert "You have signed out" in text_of(client.page("/sign-in"))
    # Replaying the cookie from before signing out does not work: the server ended that session.
    replay = Client(client.app)
    replay.http.set_cookie("ehcflow_session", stolen.value)
    assert replay.get("/tasks/", status=302).headers["Location"].startswith("/sign-in")


def test_sign_out_needs_a_post_with_a_token(client: Client, world: World) -> None:
    client.sign_in(world.users["caseworker"].email)
    page = client.page("/sign-out")  # a page with the button, for links
    assert page.select_one("form[action='/sign-out'] button")
    client.post("/sign-out", {}, token=False, status=400)
    client.get("/tasks/")  # still signed in


def test_session_ends_after_30_minutes_idle(client: Client, world: World, clock: FrozenClock) -> None:
    client.sign_in(world.users["caseworker"].email)
    clock.advance(minutes=29)
    client.get("/tasks/")
    clock.advance(minutes=29)
    client.get("/tasks/")  # activity keeps it alive
    clock.advance(minutes=31)
    response = client.get("/tasks/", status=302)
    assert response.headers["Location"].startswith("/sign-in")
    assert "you did nothing for 30 minutes" in text_of(client.page("/sign-in"))


def test_session_ends_after_8_hours_whatever_you_do(client: Client, world: World, clock: FrozenClock,
                                                    services: Services) -> None:
    client.sign_in(world.users["caseworker"].email)
    for _ in range(16):  # 7 hours 44 minutes, never idle for 30 minutes
        clock.advance(minutes=29)
        client.get("/tasks/")
    clock.advance(minutes=29)
    assert client.get("/tasks/", status=302).headers["Location"].startswith("/sign-in")
    with services.session_factory() as s:
        ended = s.scalars(select(WebSession.ended_reason)).all()
    assert "expired" in ended


def test_a_page_that_changes_nothing_in_the_session_sends_no_cookie(client: Client, world: World) -> None:
    """The cookie lasts as long as the server-side session may (8 hours from signing in), so it is sent again only
    when the session changes (a message to show, a sign-out), not with every page."""
    client.sign_in(world.users["caseworker"].email)
    client.get("/tasks/")  # the first page may still store what a page keeps (the form token)
    page = client.get("/tasks/")
    assert "Set-Cookie" not in page.headers
    assert world.users["caseworker"].name in text_of(soup(page))  # still signed in
    signed_out = client.post("/sign-out", {}, status=302)
    assert "ehcflow_session" in signed_out.headers.get("Set-Cookie", "")


def test_deactivating_a_user_ends_their_sessions(client: Client, world: World, services: Services) -> None:
    client.sign_in(world.users["caseworker"].email)
    with services.session_factory() as s:
        user = s.get(User, world.users["caseworker"].id)
        assert user is not None
        user.active = False
        s.commit()
    assert client.get("/tasks/", status=302).headers["Location"].startswith("/sign-in")


def test_a_form_posted_without_its_csrf_token_is_refused(client: Client, world: World, started: int,
                                                         services: Services) -> None:
    from tests.web.conftest import open_task

    task = open_task(services, world.case_id, "UT_record")
    client.sign_in(world.users["caseworker"].email)
    response = client.post(f"/tasks/{task.id}/claim", {}, token=False, status=400)
    assert "This form has expired" in text_of(soup(response))
    response = client.post(f"/tasks/{task.id}/claim", {"csrf_token": "forged"}, token=False, status=400)
    assert open_task(services, world.case_id, "UT_record").assignee_id is None
    # The sign-in form is protected too.
    Client(client.app).post("/sign-in", {"email": world.users["caseworker"].email, "password": PASSWORD},
                            token=False, status=400)


def test_session_cookie_is_httponly_lax_and_secure_outside_tests(services: Services, tmp_path: Path,
                                                                 world: World) -> None:
    app = make_app(services, tmp_path, TESTING=False)
    assert app.config["SESSION_COOKIE_SECURE"] is True
    client = Client(app)
    client.get("/sign-in", status=None, base_url="https://localhost")
    response = client.post("/sign-in", {"email": world.users["caseworker"].email, "password": PASSWORD},
                           status=302, base_url="https://localhost", headers={"Referer": "https://localhost/sign-in"})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie
    assert "Strict-Transport-Security" in response.headers


def test_every_response_has_the_security_headers(client: Client, world: World) -> None:
    for url in ("/sign-in", "/static/css/ehcflow.css", "/no-such-page"):
        response = client.get(url, status=None)
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "default-src 'self'" in csp
        assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "same-origin"
    assert client.get("/sign-in").headers["Cache-Control"] == "no-store"


def test_a_secret_key_is_generated_once_in_the_instance_folder(services: Services, tmp_path: Path,
                                                               monkeypatch: object) -> None:
    import pytest

    mp: pytest.MonkeyPatch = monkeypatch  # type: ignore[assignment]
    mp.delenv("EHCFLOW_SECRET_KEY", raising=False)
    first = make_app(services, tmp_path, SECRET_KEY=None)
    key_file = tmp_path / "instance" / "secret_key"
    assert key_file.is_file()
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    second = make_app(services, tmp_path, SECRET_KEY=None)
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"] == key_file.read_text().strip()
    assert len(first.config["SECRET_KEY"]) >= 64
    mp.setenv("EHCFLOW_SECRET_KEY", "from-the-environment")
    assert make_app(services, tmp_path, SECRET_KEY=None).config["SECRET_KEY"] == "from-the-environment"


def test_account_page_lists_roles(client: Client, world: World) -> None:
    client.sign_in(world.users["manager"].email)
    page = client.page("/account")
    assert "LA manager or decision panel, Testshire Council" in text_of(page)


def test_signed_in_user_visiting_sign_in_goes_home(client: Client, world: World) -> None:
    client.sign_in(world.users["parent"].email)
    assert client.get("/sign-in", status=302).headers["Location"] == "/family/"
    assert client.get("/", status=302).headers["Location"] == "/family/"


def test_anonymous_home_is_the_front_door_with_sign_in(client: Client) -> None:
    assert client.page("/").find("a", href="/sign-in") is not None  # tests/web/test_local_offer.py: the rest


def test_errors_are_govuk_pages(client: Client, world: World, app: Flask) -> None:
    page = client.page("/no-such-page", status=404)
    assert page.select_one("h1").get_text(strip=True) == "Page not found"
    client.sign_in(world.users["parent"].email)
    page = client.page("/tasks/", status=403)
    assert page.select_one("h1").get_text(strip=True) == "You do not have permission to see this page"


def test_sign_in_is_audited(client: Client, world: World, services: Services) -> None:
    from engine.store.models import AuditEvent

    client.sign_in(world.users["caseworker"].email)
    with services.session_factory() as s:
        actions = s.scalars(select(AuditEvent.action).where(AuditEvent.actor_id == world.users["caseworker"].id)).all()
    assert "signed_in" in actions


def test_last_seen_is_touched_at_most_once_a_minute(client: Client, world: World, clock: FrozenClock,
                                                    services: Services) -> None:
    client.sign_in(world.users["caseworker"].email)
    with services.session_factory() as s:
        first = s.scalars(select(WebSession.last_seen_at)).one()
    clock.advance(seconds=20)
    client.get("/tasks/")
    with services.session_factory() as s:
        assert s.scalars(select(WebSession.last_seen_at)).one() == first
    clock.advance(seconds=50)
    client.get("/tasks/")
    with services.session_factory() as s:
        assert s.scalars(select(WebSession.last_seen_at)).one() == first + timedelta(seconds=70)
