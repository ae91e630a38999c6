"""Fixtures for the web tests: the app over a fresh database, a small route, and a client that signs in as anyone.

CSRF protection stays on (the client reads each form's token, as a browser would); only the authorization matrix
turns it off, in its own fixture, so that it tests who may do what rather than whether a token was sent.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from engine.people import sso
from engine.runtime.services import Services
from engine.runtime.workflow_engine import WorkflowEngine
from engine.statutory.clock import FrozenClock
from engine.store.models import HumanTask, User
from tests.conftest import PASSWORD, World, deploy_files
from tests.fixtures.oidc_provider import CLIENT_SECRET, OidcProvider
from webui.app import create_app

#: The app's secret key in tests: identity providers' client secrets are encrypted under a key derived from it.
APP_KEY = "test-secret-key"
DATA = Path(__file__).resolve().parent / "data"
ROUTE = "web_route"


def make_app(services: Services, tmp_path: Path, **config: Any) -> Flask:
    settings = {"TESTING": True, "SECRET_KEY": APP_KEY, "INSTANCE_PATH": tmp_path / "instance"}
    settings.update(config)
    return create_app(settings, services=services)


@pytest.fixture
def app(services: Services, tmp_path: Path) -> Flask:
    return make_app(services, tmp_path)


@pytest.fixture
def web_route(engine: WorkflowEngine) -> str:
    deploy_files(engine, [DATA / "web_route.bpmn"], DATA / "forms")
    return ROUTE


@pytest.fixture
def started(engine: WorkflowEngine, world: World, web_route: str) -> int:
    """The web test route started on the world's case; returns the instance id."""
    return engine.start(world.case_id, web_route)


def open_task(services: Services, case_id: int, bpmn_id: str) -> HumanTask:
    with services.session_factory() as s:
        task = s.scalars(select(HumanTask).where(HumanTask.case_id == case_id, HumanTask.bpmn_id == bpmn_id,
                                                 HumanTask.status == "open")).first()
        assert task is not None, f"no open task {bpmn_id} on case {case_id}"
        return task


class Client:
    """A test client that behaves like a browser: it reads CSRF tokens from the pages it gets."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.http: FlaskClient = app.test_client()
        self.token: str | None = None
        self.last: TestResponse | None = None

    # ---- requests ----
    def get(self, url: str, status: int | None = 200, **kwargs: Any) -> TestResponse:
        response = self.http.get(url, **kwargs)
        response.get_data()
        response.close()  # a file sent by send_file stays open until the response is closed
        self.last = response
        if status is not None:
            assert response.status_code == status, (url, response.status_code, response.headers.get("Location"))
        self._remember_token(response)
        return response

    def page(self, url: str, status: int | None = 200, **kwargs: Any) -> BeautifulSoup:
        return soup(self.get(url, status, **kwargs))

    def post(self, url: str, data: dict[str, Any] | list[tuple[str, Any]] | None = None, status: int | None = None,
             token: bool = True, **kwargs: Any) -> TestResponse:
        fields: list[tuple[str, Any]] = list(data.items()) if isinstance(data, dict) else list(data or [])
        if token and not any(name == "csrf_token" for name, _ in fields):
            fields.append(("csrf_token", self.csrf_token()))
        from werkzeug.datastructures import MultiDict

        response = self.http.post(url, data=MultiDict(fields), **kwargs)
        response.get_data()
        response.close()
        self.last = response
        if url.split("?")[0] in ("/sign-in", "/sign-out"):
            self.token = None  # signing in or out starts a new session, with a new CSRF secret
        if status is not None:
            assert response.status_code == status, (url, response.status_code, response.headers.get("Location"),
                                                    response.get_data(as_text=True)[:2000])
        self._remember_token(response)
        return response

    def csrf_token(self) -> str:
        if self.token is None:
            self.get("/sign-in", status=None)
            if self.token is None:
                self.get("/account", status=None)
        assert self.token, "no page gave a CSRF token"
        return self.token

    def _remember_token(self, response: TestResponse) -> None:
        if response.mimetype == "text/html":
            match = re.search(r'name="csrf_token" value="([^"]+)"', response.get_data(as_text=True))
            if match:
                self.token = match.group(1)

    # ---- signing in ----
    def sign_in(self, email: str, password: str = PASSWORD, expect: int = 302) -> TestResponse:
        self.token = None
        self.get("/sign-in", status=None)
        response = self.post("/sign-in", {"email": email, "password": password}, status=expect)
        self.token = None
        return response

    def sign_out(self) -> TestResponse:
        response = self.post("/sign-out", {}, status=302)
        self.token = None
        return response


def soup(response: TestResponse) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def text_of(page: BeautifulSoup) -> str:
    return " ".join(page.get_text(" ").split())


@pytest.fixture
def client(app: Flask) -> Client:
    return Client(app)


@pytest.fixture
def oidc(clock: FrozenClock) -> Iterator[OidcProvider]:
    """A real OpenID provider on a local port (tests/fixtures/oidc_provider.py)."""
    provider = OidcProvider(clock.now).start()
    yield provider
    provider.stop()


@pytest.fixture
def provider_id(services: Services, world: World, oidc: OidcProvider, clock: FrozenClock) -> int:
    """Testshire Council's identity provider, set up by its administrator."""
    with services.session_factory() as s:
        row = sso.save_provider(s, s.get(User, world.users["admin"].id), world.la.id, issuer=oidc.issuer,
                                client_id=oidc.client_id, client_secret=CLIENT_SECRET, display_name="",
                                enabled=True, app_secret_key=APP_KEY, clock=clock, allow_http_loopback=True)
        s.commit()
        return row.id


@pytest.fixture
def as_user(app: Flask, world: World) -> Iterator[Any]:
    """as_user("caseworker") -> a Client signed in as that World user."""
    clients: list[Client] = []

    def make(key: str) -> Client:
        c = Client(app)
        c.sign_in(world.users[key].email)
        clients.append(c)
        return c

    return make
