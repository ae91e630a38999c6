"""Temporary passwords (issue 15, class 5): a password an administrator set must be replaced by the person's own at
first sign-in (nothing else opens until then), and stops signing in after ``EHCFLOW_TEMP_PASSWORD_DAYS`` (7 by
default)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bs4 import BeautifulSoup
from click.testing import CliRunner
from sqlalchemy import select

from engine.people.passwords import verify_password
from engine.people.roles import Role
from engine.people.users import create_user
from engine.runtime.services import Services
from engine.statutory.clock import FrozenClock
from engine.store.models import Membership, User
from engine.store.sign_in import WebSession
from tests.conftest import PASSWORD, World
from tests.web.conftest import Client, make_app, soup, text_of
from tests.web.test_admin_users import confirm

NEW = "my-own-long-password"


def shown_password(response: Any) -> str:
    return BeautifulSoup(response.get_data(as_text=True), "html.parser").select_one("#temporary-password").text


def user(services: Services, email: str) -> User:
    with services.session_factory() as s:
        found = s.scalar(select(User).where(User.email == email))
        assert found is not None
        return found


def add_person(admin: Client, world: World, email: str = "nina@test.example") -> str:
    admin.get("/admin/users/new")
    created = admin.post("/admin/users/new", {"name": "Nina New", "email": email, "organisation": str(world.la.id),
                                              "role": Role.CASEWORKER.value}, status=200)
    assert "choose their own" in text_of(soup(created)) and "7 days" in text_of(soup(created))
    return shown_password(created)


def test_a_new_person_must_choose_their_own_password_before_anything_else(as_user: Any, client: Client,
                                                                          world: World, services: Services) -> None:
    temporary = add_person(as_user("admin"), world)
    assert user(services, "nina@test.example").temporary_password_set_at is not None
    signed_in = client.sign_in("nina@test.example", temporary)
    assert signed_in.headers["Location"] in ("/tasks/", "/account/choose-password")
    # Every page but this one (and signing out) sends them to choose a password.
    for url in ("/tasks/", "/account", "/account/password", f"/cases/{world.case_id}", "/admin/"):
        response = client.get(url, status=302)
        assert response.headers["Location"] == "/account/choose-password", url
    page = client.page("/account/choose-password")
    assert page.select_one("h1").get_text(strip=True) == "Choose a new password"
    # The temporary password again, a short one, two that differ: refused on their fields, nothing saved.
    same = soup(client.post("/account/choose-password", {"new_password": temporary, "confirm_password": temporary},
                            status=200))
    assert "must be different from the temporary one" in text_of(same.select_one(".govuk-error-summary"))
    short = soup(client.post("/account/choose-password", {"new_password": "short", "confirm_password": "short"},
                             status=200))
    assert "at least 10 characters" in text_of(short)
    differ = soup(client.post("/account/choose-password", {"new_password": NEW, "confirm_password": NEW + "x"},
                              status=200))
    assert "The passwords do not match" in text_of(differ)
    assert verify_password(user(services, "nina@test.example").password_hash, temporary)
    done = client.post("/account/choose-password", {"new_password": NEW, "confirm_password": NEW}, status=302)
    assert done.headers["Location"] == "/tasks/"
    client.get("/tasks/", status=200)
    nina = user(services, "nina@test.example")
    assert nina.temporary_password_set_at is None and verify_password(nina.password_hash, NEW)
    # Done once: the page now just sends them home.
    assert client.get("/account/choose-password", status=302).headers["Location"] == "/tasks/"
    other = Client(client.app)
    other.sign_in("nina@test.example", temporary, expect=200)
    other.sign_in("nina@test.example", NEW)


def test_choosing_ends_the_other_sessions_of_the_temporary_password(as_user: Any, world: World, app: Any,
                                                                     services: Services) -> None:
    temporary = add_person(as_user("admin"), world)
    first, second = Client(app), Client(app)
    first.sign_in("nina@test.example", temporary)
    second.sign_in("nina@test.example", temporary)
    first.get("/account/choose-password")
    first.post("/account/choose-password", {"new_password": NEW, "confirm_password": NEW}, status=302)
    assert second.get("/account/choose-password", status=302).headers["Location"].startswith("/sign-in")
    with services.session_factory() as s:
        live = s.scalars(select(WebSession).where(WebSession.user_id == user(services, "nina@test.example").id,
                                                  WebSession.ended_at.is_(None))).all()
    assert len(live) == 1


def test_a_temporary_password_stops_working_after_seven_days(as_user: Any, client: Client, world: World,
                                                            services: Services, clock: FrozenClock) -> None:
    """Set at the world's clock time; 7 days later to the minute it still signs in, a minute after that it does not
    (whether the password is right or not is still the first thing checked: a wrong one gets the usual answer)."""
    admin = as_user("admin")
    reset = confirm(admin, f"/admin/users/{world.users['caseworker'].id}/reset-password", {"reason": "forgot it"})
    temporary = shown_password(reset)
    assert user(services, world.users["caseworker"].email).temporary_password_set_at == clock.now()
    clock.advance(days=7)
    Client(client.app).sign_in(world.users["caseworker"].email, temporary)
    clock.advance(minutes=1)
    refused = text_of(soup(client.sign_in(world.users["caseworker"].email, temporary, expect=200)))
    assert "Your temporary password has expired" in refused and "Ask an administrator" in refused
    wrong = text_of(soup(client.sign_in(world.users["caseworker"].email, "not-the-password", expect=200)))
    assert "Enter a correct email address and password" in wrong and "expired" not in wrong
    # A new one from an administrator works again.
    temporary = shown_password(confirm(as_user("admin"), f"/admin/users/{world.users['caseworker'].id}/reset-password",
                                       {"reason": "expired"}))
    client.sign_in(world.users["caseworker"].email, temporary)


def test_the_number_of_days_is_a_setting(services: Services, tmp_path: Path, world: World,
                                         clock: FrozenClock) -> None:
    app = make_app(services, tmp_path, TEMP_PASSWORD_DAYS=2)
    with services.session_factory() as s:
        create_user(s, "temp@test.example", "Temp", PASSWORD, clock, [(s.merge(world.la), Role.CASEWORKER)],
                    temporary=True)
        s.commit()
    clock.advance(days=2, seconds=1)
    page = soup(Client(app).sign_in("temp@test.example", PASSWORD, expect=200))
    assert "temporary passwords work for 2 days" in text_of(page)


def test_a_password_the_person_chose_never_expires(client: Client, world: World, clock: FrozenClock) -> None:
    clock.advance(days=400)
    client.sign_in(world.users["caseworker"].email)
    client.get("/tasks/", status=200)


def test_ehcflow_users_create_makes_a_temporary_password_unless_permanent(services: Services, world: World,
                                                                          monkeypatch: Any) -> None:
    from webui.cli import setup
    from webui.cli.group import main

    monkeypatch.setattr(setup, "build_services", lambda: services)
    runner = CliRunner()
    made = runner.invoke(main, ["users", "create", "--email", "t@test.example", "--name", "T", "--role",
                                "la_caseworker", "--org", "TST"], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert made.exit_code == 0, made.output
    assert "temporary password" in made.output
    own = runner.invoke(main, ["users", "create", "--email", "me@test.example", "--name", "Me", "--role", "admin",
                               "--org", "TST", "--permanent"], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert own.exit_code == 0, own.output
    assert user(services, "t@test.example").temporary_password_set_at is not None
    assert user(services, "me@test.example").temporary_password_set_at is None


def test_ehcflow_organisations_create_adds_the_first_organisation(services: Services, world: World,
                                                                  monkeypatch: Any) -> None:
    """A new deployment has nobody to sign in: the council is added at the server, then its first user."""
    from webui.cli import organisations, setup
    from webui.cli.group import main

    monkeypatch.setattr(organisations, "build_services", lambda: services)
    monkeypatch.setattr(setup, "build_services", lambda: services)
    runner = CliRunner()
    made = runner.invoke(main, ["organisations", "create", "--name", "Northshire Council", "--code", "NSH"])
    assert made.exit_code == 0, made.output
    assert "Added Northshire Council (local_authority, code NSH)." in made.output
    again = runner.invoke(main, ["organisations", "create", "--name", "northshire council"])
    assert again.exit_code == 1 and "already exists" in again.output
    odd = runner.invoke(main, ["organisations", "create", "--name", "X", "--kind", "castle"])
    assert odd.exit_code == 2 and "castle" in odd.output
    first = runner.invoke(main, ["users", "create", "--email", "a@nsh.example", "--name", "A", "--role", "admin",
                                 "--role", "system_admin", "--org", "NSH"], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert first.exit_code == 0, first.output
    with services.session_factory() as s:
        held = s.scalars(select(Membership.role).where(Membership.user_id == user(services, "a@nsh.example").id))
        assert sorted(held) == ["admin", "system_admin"]  # an administrator who may also add authorities
    mixed = runner.invoke(main, ["users", "create", "--email", "p@nsh.example", "--name", "P", "--role", "family",
                                 "--role", "admin", "--org", "NSH"], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert mixed.exit_code == 2 and "no other role" in mixed.output
    listed = runner.invoke(main, ["organisations", "list"])
    assert "NSH" in listed.output and "Northshire Council" in listed.output
