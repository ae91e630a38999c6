"""Small leaks (issue 15, class 6): a locked account answers like an unknown one; an id too large for the database
is "not found"; the database and uploads are private to the service's user; only a system administrator adds a local
authority; the Server header names no versions; the sign-in throttle holds across web processes."""

from __future__ import annotations

import io
import os
import stat
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask import Flask
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import NotFound
from werkzeug.serving import make_server

from engine.people.roles import Role
from engine.people.users import create_organisation_as_admin, grant_role
from engine.runtime.services import Services
from engine.statutory.clock import FrozenClock
from engine.store.db import make_engine
from engine.store.models import Membership, Organisation
from tests.conftest import PASSWORD, World
from tests.web.conftest import Client, make_app, soup, text_of
from webui import uploads
from webui.app import GenericServerRequestHandler
from webui.auth import routes as auth_routes


@pytest.fixture
def umask_022() -> Iterator[None]:
    """The usual umask, under which a file is made readable by every user unless the code says otherwise."""
    old = os.umask(0o022)
    yield
    os.umask(old)


# ---- a locked account answers like an unknown one ------------------------------------------------------------------

def test_a_locked_account_checks_a_password_hash_like_an_unknown_one(client: Client, world: World, services: Services,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The time an answer takes is the time of one Argon2 check, whichever the answer: the locked answer used to
    skip it, and so came back in a fraction of the time of an unknown address's (which checks a dummy hash)."""
    checks: list[str] = []
    real = auth_routes.verify_password

    def counting(stored: str | None, password: str) -> bool:
        checks.append(password)
        return real(stored, password)

    monkeypatch.setattr(auth_routes, "verify_password", counting)
    email = world.users["caseworker"].email
    for _ in range(5):
        client.sign_in(email, "wrong-password-1", expect=200)
    checks.clear()
    page = soup(client.sign_in(email, PASSWORD, expect=200))
    assert "You have tried to sign in too many times" in text_of(page)
    assert checks == [PASSWORD]
    checks.clear()
    client.sign_in("nobody@test.example", "whatever-password", expect=200)
    assert checks == ["whatever-password"]


# ---- ids too large for the database ---------------------------------------------------------------------------------

@pytest.mark.parametrize("case_id", [str(2**31), str(2**63), "9" * 5000])
def test_an_id_too_large_for_the_database_is_not_found(as_user: Any, world: World, case_id: str) -> None:
    caseworker = as_user("caseworker")
    caseworker.get(f"/cases/{case_id}", status=404)  # 2**63 and longer were a 500
    caseworker.get(f"/cases/{case_id}/timeline", status=404)
    caseworker.get(f"/cases/{world.case_id}/documents/{case_id}", status=404)


def test_no_route_takes_an_id_beyond_a_32_bit_column(app: Flask) -> None:
    """PostgreSQL's integer columns stop at 2**31 - 1: a larger id would fail the query there (a 500), so it matches
    no route at all."""
    urls = app.url_map.bind("localhost")
    assert urls.match(f"/cases/{2**31 - 1}")[1] == {"case_id": 2**31 - 1}
    with pytest.raises(NotFound):
        urls.match(f"/cases/{2**31}")


# ---- files private to the service's user ----------------------------------------------------------------------------

def test_the_sqlite_database_is_created_private(tmp_path: Path, umask_022: None) -> None:
    path = tmp_path / "new" / "ehcflow.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    with engine.connect() as connection:
        connection.exec_driver_sql("CREATE TABLE t (x INTEGER)")
        connection.commit()
    engine.dispose()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_uploads_are_stored_private(tmp_path: Path, umask_022: None, clock: FrozenClock) -> None:
    base = uploads.folder(tmp_path / "instance")
    assert stat.S_IMODE(base.stat().st_mode) == 0o700
    stored = uploads.store(FileStorage(io.BytesIO(b"a report"), "report.txt"), base, extensions=(".txt",),
                           max_bytes=1000, scanner=lambda path, name: None, case_id=None, task_id=None, user_id=None,
                           now=clock.now())
    for name in (stored.token, f"{stored.token}.json"):
        assert stat.S_IMODE((base / name).stat().st_mode) == 0o600, name


# ---- only a system administrator adds a local authority -------------------------------------------------------------

def test_an_administrator_cannot_add_a_local_authority(as_user: Any, services: Services, world: World) -> None:
    admin = as_user("admin")
    page = admin.page("/admin/organisations/new")
    assert not page.select('input[name="kind"][value="local_authority"]')
    assert page.select('input[name="kind"][value="setting"]')
    refused = soup(admin.post("/admin/organisations/new", {"name": "Newtown Council", "kind": "local_authority"},
                              status=200))
    assert "Only a system administrator can add a local authority" in text_of(refused)
    with services.session_factory() as s:
        assert s.scalar(select(Organisation).where(Organisation.name == "Newtown Council")) is None
        with pytest.raises(PermissionError, match="system administrator"):
            create_organisation_as_admin(s, s.merge(world.users["admin"]), "Newtown Council", "local_authority",
                                         services.engine.clock)


def test_a_system_administrator_adds_one_and_administers_it(as_user: Any, services: Services, world: World) -> None:
    with services.session_factory() as s:
        s.add(Membership(user_id=world.users["admin"].id, organisation_id=world.la.id, role=Role.SYSTEM_ADMIN.value))
        s.commit()
    admin = as_user("admin")
    assert admin.page("/admin/organisations/new").select('input[name="kind"][value="local_authority"]')
    made = admin.post("/admin/organisations/new", {"name": "Newtown Council", "kind": "local_authority"}, status=302)
    with services.session_factory() as s:
        town = s.scalar(select(Organisation).where(Organisation.name == "Newtown Council"))
        assert town is not None and made.headers["Location"] == f"/admin/organisations/{town.id}"
        assert s.scalar(select(Membership).where(Membership.user_id == world.users["admin"].id,
                                                 Membership.organisation_id == town.id,
                                                 Membership.role == Role.ADMIN.value))
        # The role reaches the whole deployment: only a holder passes it on.
        other_admin = s.merge(world.users["other_admin"])
        with pytest.raises(PermissionError):
            grant_role(s, other_admin, s.merge(world.users["other_manager"]), s.merge(world.other_la),
                       Role.SYSTEM_ADMIN, services.engine.clock)


# ---- the Server header -----------------------------------------------------------------------------------------------

def test_responses_name_no_server_or_python_version(client: Client, services: Services, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    assert client.get("/sign-in").headers["Server"] == "EHC Flow"
    # `ehcflow run` serves with Werkzeug's server and the handler that leaves its versions out.
    from webui.cli import serve
    from webui.cli.group import main

    ran: list[dict[str, Any]] = []
    monkeypatch.setattr(serve, "build_services", lambda: services)
    monkeypatch.setattr("werkzeug.serving.run_simple", lambda *args, **kwargs: ran.append(kwargs))
    assert CliRunner().invoke(main, ["run", "--no-worker"]).exit_code == 0
    assert ran[0]["request_handler"] is GenericServerRequestHandler
    app = make_app(services, tmp_path)
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=GenericServerRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.server_port}/sign-in") as response:
            headers = response.headers.get_all("Server")
    finally:
        server.shutdown()
    assert headers == ["EHC Flow"]  # Werkzeug's own was "Werkzeug/3.x Python/3.x"


def test_under_gunicorn_the_server_header_is_the_same_generic_one(monkeypatch: pytest.MonkeyPatch) -> None:
    import gunicorn.http.wsgi

    from webui.cli import production

    made: list[dict[str, Any]] = []
    monkeypatch.setattr("webui.app.create_app", lambda config=None: made.append(config or {}) or "the app")
    monkeypatch.setattr(gunicorn.http.wsgi, "SERVER", gunicorn.http.wsgi.SERVER)  # restored after the test
    assert production._gunicorn_app({"workers": 1}).load() == "the app"
    assert gunicorn.http.wsgi.SERVER == "EHC Flow"  # gunicorn writes it into every response's Server header
    assert made == [{"SERVER_HEADER": False}]  # and the app does not add a second one


# ---- the sign-in throttle holds across web processes ----------------------------------------------------------------

def test_the_client_address_limit_holds_across_processes(services: Services, tmp_path: Path, world: World) -> None:
    """Two apps over one database stand for two gunicorn processes: failures on either count against the address."""
    first = Client(make_app(services, tmp_path / "a", SIGN_IN_IP_MAX_FAILURES=3))
    second = Client(make_app(services, tmp_path / "b", SIGN_IN_IP_MAX_FAILURES=3))
    first.sign_in("someone0@test.example", "wrong-password", expect=200)
    second.sign_in("someone1@test.example", "wrong-password", expect=200)
    first.sign_in("someone2@test.example", "wrong-password", expect=200)
    response = second.sign_in(world.users["caseworker"].email, PASSWORD, expect=429)
    assert "Too many sign-in attempts" in text_of(soup(response))


def test_an_unknown_address_is_locked_across_processes(services: Services, tmp_path: Path, world: World,
                                                       clock: FrozenClock) -> None:
    apps = [Client(make_app(services, tmp_path / str(n))) for n in range(5)]
    for client in apps[:4]:
        assert "Enter a correct email" in text_of(soup(client.sign_in("nobody@test.example", "whatever-pw",
                                                                      expect=200)))
    assert "too many times" in text_of(soup(apps[4].sign_in("nobody@test.example", "whatever-pw", expect=200)))
    clock.advance(minutes=16)
    assert "Enter a correct email" in text_of(soup(apps[0].sign_in("nobody@test.example", "whatever-pw",
                                                                   expect=200)))


def test_failures_are_kept_as_digests_and_forgotten_after_the_window(services: Services, client: Client,
                                                                     clock: FrozenClock) -> None:
    from engine.store.sign_in import SignInFailure

    client.sign_in("nobody@test.example", "whatever-pw", expect=200)
    with services.session_factory() as s:
        rows = s.scalars(select(SignInFailure)).all()
        assert {r.kind for r in rows} == {"ip", "email"}
        assert all("nobody" not in r.key and len(r.key) == 64 for r in rows)
    clock.advance(minutes=16)
    client.sign_in("other@test.example", "whatever-pw", expect=200)
    with services.session_factory() as s:
        assert len(s.scalars(select(SignInFailure)).all()) == 2  # the older two were deleted


@pytest.mark.parametrize("value", ["123456789012", "²", "9" * 400])
def test_an_admin_number_that_cannot_be_an_id_is_ignored_not_a_500(as_user: Any, value: str) -> None:
    """``int()`` takes twelve digits (beyond PostgreSQL's integer) and "²"; the admin pages read ids as at most nine
    ASCII digits (webui/numbers.py), so such a value is as if none was given."""
    admin = as_user("admin")
    admin.get(f"/admin/users?organisation={value}&page={value}", status=200)
    admin.get(f"/admin/instances?page={value}", status=200)
