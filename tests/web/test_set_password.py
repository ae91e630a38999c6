"""Setting the password of an account a request created, from the link in the emailed outbox: it works once, then
the person is signed in on their home page; a used or expired link is refused; attempts are throttled per address."""

from __future__ import annotations

from sqlalchemy import select

from engine.intake.accounts import family_account, send_set_password_link
from engine.people.passwords import verify_password
from engine.runtime.services import Services
from engine.statutory.clock import FrozenClock
from engine.store.models import AuditEvent, User
from engine.store.outbox import OutboxEmail
from tests.conftest import World
from tests.web.conftest import Client, soup, text_of
from tests.web.test_request_pages import CHECK, PARENT, begin, fill

GOOD = "correct horse battery staple"


def new_account(services: Services, clock: FrozenClock, email: str = "robin.parent@example.com") -> str:
    """A family account without a password and the path of its emailed link."""
    with services.session_factory() as s:
        user, created = family_account(s, email, "Robin Parent", clock.now())
        assert created
        token = send_set_password_link(s, user, clock.now(), "A request made this account.")
        s.commit()
    return f"/account/set-password/{token}"


def test_the_emailed_link_sets_the_password_once_and_signs_the_parent_in(client: Client, world: World,
                                                                         services: Services) -> None:
    # The link is the one the request's email carries.
    begin(client, world)
    fill(client, PARENT)
    client.post(CHECK, {}, status=302)
    with services.session_factory() as s:
        email = s.scalar(select(OutboxEmail).where(OutboxEmail.kind == "set_password"))
        assert email is not None and email.to_address == "sam.rivers@example.com"
        link = email.link_path
        assert link in email.body.replace("{base_url}", "")

    parent = Client(client.app)
    page = parent.page(link)
    assert "sam.rivers@example.com" in text_of(page)
    page = soup(parent.post(link, {"password": GOOD, "confirm_password": "something else"}, status=200))
    assert page.select_one("#confirm_password-error") is not None
    assert "The passwords do not match" in text_of(page.select_one(".govuk-error-summary"))
    page = soup(parent.post(link, {"password": "short", "confirm_password": "short"}, status=200))
    assert "Your password must be at least 10 characters long" in text_of(page)

    response = parent.post(link, {"password": GOOD, "confirm_password": GOOD}, status=302)
    assert response.headers["Location"] == "/family/"
    home = parent.page("/family/")
    assert "Your password has been set and you are signed in." in text_of(home)
    with services.session_factory() as s:
        user = s.scalar(select(User).where(User.email == "sam.rivers@example.com"))
        assert user is not None and verify_password(user.password_hash, GOOD)
        assert s.scalar(select(AuditEvent).where(AuditEvent.action == "password_set", AuditEvent.actor_id == user.id))
    parent.sign_out()
    parent.sign_in("sam.rivers@example.com", GOOD)

    # Used: refused, and the password stays the one set.
    again = Client(client.app)
    response = again.get(link, status=410)
    assert "contact your local authority" in response.get_data(as_text=True).lower()
    again.get("/sign-in")
    assert again.post(link, {"password": "another password!", "confirm_password": "another password!"},
                      status=410)


def test_an_expired_or_unknown_link_is_refused(client: Client, world: World, services: Services,
                                               clock: FrozenClock) -> None:
    link = new_account(services, clock)
    clock.advance(days=7, seconds=1)
    assert "has expired" in text_of(client.page(link, status=410))
    assert client.get("/account/set-password/not-a-real-token", status=410)


def test_a_link_still_in_date_works_on_its_last_day(client: Client, world: World, services: Services,
                                                   clock: FrozenClock) -> None:
    link = new_account(services, clock)
    clock.advance(days=7, seconds=-1)
    assert client.post(link, {"password": GOOD, "confirm_password": GOOD}, status=302)


def test_attempts_are_throttled_per_client_address(client: Client, world: World, services: Services,
                                                   clock: FrozenClock) -> None:
    link = new_account(services, clock)
    client.get(link)
    for _ in range(10):
        client.post(link, {"password": "x", "confirm_password": "x"}, status=200)
    response = client.post(link, {"password": GOOD, "confirm_password": GOOD}, status=429)
    assert "Too many attempts" in response.get_data(as_text=True)
    # Guessing links counts too, from another address.
    other = Client(client.app)
    for n in range(10):
        other.get(f"/account/set-password/guess-{n}", status=410, environ_base={"REMOTE_ADDR": "10.0.0.9"})
    other.get(link, status=429, environ_base={"REMOTE_ADDR": "10.0.0.9"})
    clock.advance(minutes=16)
    assert client.post(link, {"password": GOOD, "confirm_password": GOOD}, status=302)


def test_the_form_needs_its_csrf_token(client: Client, world: World, services: Services,
                                       clock: FrozenClock) -> None:
    link = new_account(services, clock)
    client.get(link)
    assert client.post(link, {"password": GOOD, "confirm_password": GOOD}, token=False).status_code == 400
    with services.session_factory() as s:
        user = s.scalar(select(User).where(User.email == "robin.parent@example.com"))
        assert user is not None and user.password_hash is None
