"""Logging in JSON lines (``EHCFLOW_LOG_FORMAT=json``): the web server's access log, the app's own lines and the timer
worker's, each one JSON object per line, with the request's id, method, path, status, duration and the user's id, and
never a name, an email or a query string.

The web server and the worker run as the processes a council runs (``ehcflow serve``, ``ehcflow worker``), on a
SQLite database in the test's folder.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from engine.runtime.services import build
from engine.statutory.clock import FrozenClock
from engine.store.migrate import upgrade
from engine.store.models import HumanTask
from tests.conftest import PASSWORD, World
from tests.deploy.test_production_serving import Browser, _free_port, _wait_until_up
from tests.engine.test_runtime import deploy_demo
from tests.web.conftest import Client, make_app
from webui.log_format import JsonFormatter, RequestContext, configure_logging

EHCFLOW = str(Path(sys.executable).with_name("ehcflow"))


def json_lines(text: str) -> list[dict[str, Any]]:
    """Every line parsed; a line that is not one JSON object fails the test with the line."""
    parsed = []
    for line in text.splitlines():
        try:
            value = json.loads(line)
        except ValueError:
            pytest.fail(f"not a JSON line: {line!r}")
        assert isinstance(value, dict), line
        parsed.append(value)
    return parsed


def test_a_record_is_one_json_line_with_its_exception() -> None:
    try:
        raise ValueError("bad\nvalue")
    except ValueError:
        record = logging.getLogger("ehcflow.test").makeRecord(
            "ehcflow.test", logging.ERROR, __file__, 1, "failed on %s", ("line one\nline two",), sys.exc_info())
    text = JsonFormatter().format(record)
    assert "\n" not in text
    line = json.loads(text)
    assert line["level"] == "ERROR" and line["logger"] == "ehcflow.test"
    assert line["message"] == "failed on line one\nline two"
    assert "ValueError: bad" in line["exception"]
    assert datetime.fromisoformat(line["time"]).utcoffset() is not None


def test_a_bad_setting_stops_the_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EHCFLOW_LOG_FORMAT", "xml")
    done = subprocess.run([EHCFLOW, "db", "--help"], env={**os.environ, "EHCFLOW_LOG_FORMAT": "xml"},
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0 and "EHCFLOW_LOG_FORMAT must be text or json" in done.stderr
    from engine.errors import SettingInvalid

    with pytest.raises(SettingInvalid):
        configure_logging()


def test_lines_logged_in_a_request_carry_its_id(services: Any, world: World, tmp_path: Path) -> None:
    app = make_app(services, tmp_path)
    captured = StringIO()
    handler = logging.StreamHandler(captured)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestContext())
    logger = logging.getLogger("webui.common.routes")
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        client = Client(app)
        client.sign_in(world.users["caseworker"].email)
        refused = client.post("/sign-out", {}, status=400, token=False)
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
    # The web server's access log reads the request id and the signed-in user's id from the request's environ, once
    # the app has answered: a middleware in its place sees what it would.
    environs: list[dict[str, Any]] = []
    inner = app.wsgi_app

    def server(environ: dict[str, Any], start_response: Any) -> Any:
        answer = inner(environ, start_response)
        environs.append(environ)
        return answer

    app.wsgi_app = server  # type: ignore[method-assign]
    seen = client.get("/tasks/")
    assert environs[-1]["ehcflow.user_id"] == world.users["caseworker"].id
    assert environs[-1]["ehcflow.request_id"] == seen.headers["X-Request-Id"]
    [line] = [item for item in json_lines(captured.getvalue()) if "CSRF" in item["message"]]
    assert line["request_id"] == refused.headers["X-Request-Id"]
    assert line["method"] == "POST" and line["path"] == "/sign-out"
    # A proxy's request id is taken only from a trusted proxy.
    assert Client(app).get("/sign-in", headers={"X-Request-Id": "from-the-client-123"}).headers["X-Request-Id"] != \
        "from-the-client-123"
    trusting = Client(make_app(services, tmp_path, TRUST_PROXY=True))
    assert trusting.get("/sign-in", headers={"X-Request-Id": "0123456789abcdef"}).headers["X-Request-Id"] == \
        "0123456789abcdef"
    assert trusting.get("/sign-in", headers={"X-Request-Id": "bad id \"quoted\""}).headers["X-Request-Id"] != \
        "bad id \"quoted\""


@pytest.fixture
def service(tmp_path: Path) -> tuple[dict[str, str], World]:
    """A migrated SQLite database with the test world, the engine tests' small route started in March with its first
    task done (its decision timer is long due on the real clock), and the processes' settings."""
    url = f"sqlite:///{tmp_path / 'service.sqlite3'}"
    services = build(url, clock=FrozenClock(datetime(2026, 3, 2, 10, tzinfo=UTC)))
    upgrade(services.db)
    world = World(services)
    deploy_demo(services.engine)
    instance = services.engine.start(world.case_id, "runtime_demo", {"explode": False})
    with services.session_factory() as s:
        task = s.scalars(select(HumanTask.id).where(HumanTask.instance_id == instance)).one()
    services.engine.complete_task(task, {"concern": "in March"})
    services.db.dispose()
    env = {**os.environ, "DATABASE_URL": url, "EHCFLOW_INSTANCE_DIR": str(tmp_path / "instance"),
           "EHCFLOW_SECURE_COOKIES": "0", "EHCFLOW_LOG_FORMAT": "json", "EHCFLOW_LOG_LEVEL": "INFO"}
    env.pop("EHCFLOW_SECRET_KEY", None)
    return env, world


def test_the_web_server_logs_json_lines(service: tuple[dict[str, str], World], tmp_path: Path) -> None:
    env, world = service
    caseworker = world.users["caseworker"]
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    out, err = tmp_path / "serve.out", tmp_path / "serve.err"
    with out.open("w") as stdout, err.open("w") as stderr:
        server = subprocess.Popen([EHCFLOW, "serve", "--bind", f"127.0.0.1:{port}", "--workers", "1"], env=env,
                                  stdout=stdout, stderr=stderr)
    try:
        _wait_until_up(base, server, err)
        browser = Browser(base)
        status, _ = browser.form("/sign-in", {"email": caseworker.email, "password": PASSWORD})
        assert status == 200
        with browser.opener.open(base + "/cases/?q=Taylor", timeout=30) as response:
            assert response.status == 200
            search_id = response.headers["X-Request-Id"]
        status, _ = browser.post("/sign-out", {"no": "token"})
        assert status == 400
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(30)
    access = json_lines(out.read_text())
    own = json_lines(err.read_text())
    [search] = [line for line in access if line.get("request_id") == search_id]
    assert search["logger"] == "gunicorn.access" and search["level"] == "INFO"
    assert (search["method"], search["path"], search["status"]) == ("GET", "/cases/", 200)
    assert search["user_id"] == caseworker.id and isinstance(search["duration_ms"], float)
    [refused] = [line for line in access if line["path"] == "/sign-out" and line["method"] == "POST"]
    assert refused["status"] == 400
    [csrf] = [line for line in own if line["logger"] == "webui.common.routes"]
    assert csrf["request_id"] == refused["request_id"] and "CSRF" in csrf["message"]
    assert any(line["logger"] == "gunicorn.error" and "Booting worker" in line["message"] for line in own)
    assert any(line["logger"] == "ehcflow.serve" for line in own)  # where it listens, as JSON too
    everything = out.read_text() + err.read_text()
    for secret in (caseworker.email, caseworker.name, "Taylor", PASSWORD):
        assert secret not in everything


def test_the_timer_worker_logs_json_lines(service: tuple[dict[str, str], World], tmp_path: Path) -> None:
    env, _ = service
    err = tmp_path / "worker.err"
    with err.open("w") as stderr:
        worker = subprocess.Popen([EHCFLOW, "worker", "--recheck", "0.5"], env=env, stdout=subprocess.DEVNULL,
                                  stderr=stderr)
    try:
        deadline = time.monotonic() + 60
        while "fired timers" not in err.read_text():
            assert worker.poll() is None, err.read_text()
            assert time.monotonic() < deadline, err.read_text()
            time.sleep(0.2)
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(30)
    lines = json_lines(err.read_text())
    messages = [(line["logger"], line["message"]) for line in lines]
    assert ("engine.runtime.worker", "timer worker started") in messages
    assert ("engine.runtime.worker", "fired timers on 1 instance(s)") in messages
    assert messages[-1] == ("engine.runtime.worker", "timer worker stopped")
