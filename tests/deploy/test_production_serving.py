"""Production serving on PostgreSQL: ``ehcflow serve`` (gunicorn, three web processes) and two timer workers as
separate processes behave as one system (issue 16).

A session signed in on one process is signed in on every other (one secret key, sessions in the database); a form
completes its task once whichever process takes the POST, and refuses a POST without its CSRF token; two workers
started at the same moment fire every due timer exactly once between them. ``serve`` refuses a database that is
behind its migrations rather than let several processes race to migrate it.

The route is the engine tests' small route (tests/engine/data/runtime_demo.bpmn): this test is about serving, not
about a statutory route.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from http.cookiejar import CookieJar
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from engine.runtime.services import Services
from engine.runtime.workflow_engine import WorkflowEngine
from engine.statutory.clock import FrozenClock
from engine.store.db import make_engine, make_session_factory
from engine.store.models import AuditEvent, HumanTask
from tests.conftest import PASSWORD, ROOT, World, require_postgres
from tests.engine.test_runtime import deploy_demo

pytestmark = pytest.mark.postgres
EHCFLOW = str(Path(sys.executable).with_name("ehcflow"))
DATABASE = "ehcflow_serving_test"
INSTANCES = 12


@pytest.fixture
def database(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """A database of its own (the web processes and workers connect to it by URL), and the processes' settings."""
    url = require_postgres()
    admin = make_engine(url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {DATABASE}"))
    own = make_url(url).set(database=DATABASE).render_as_string(hide_password=False)
    env = {**os.environ, "DATABASE_URL": own, "EHCFLOW_INSTANCE_DIR": str(tmp_path), "EHCFLOW_SECURE_COOKIES": "0"}
    env.pop("EHCFLOW_SECRET_KEY", None)  # serve makes one key for every process
    yield own, env
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)"))
    admin.dispose()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Browser:
    """Cookies and CSRF tokens, as a browser keeps them."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))

    def get(self, path: str) -> tuple[int, str]:
        with self.opener.open(self.base + path, timeout=30) as response:
            return response.status, response.read().decode()

    def post(self, path: str, fields: dict[str, str]) -> tuple[int, str]:
        body = urllib.parse.urlencode(fields).encode()
        try:
            with self.opener.open(self.base + path, data=body, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def form(self, path: str, fields: dict[str, str]) -> tuple[int, str]:
        """Opens the page and posts its form with its CSRF token."""
        _, page = self.get(path)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert token, page[:500]
        return self.post(path, {"csrf_token": token.group(1), **fields})


def _wait_until_up(base: str, server: subprocess.Popen[bytes], log: Path) -> None:
    for _ in range(100):
        if server.poll() is not None:
            raise AssertionError(f"serve stopped: {log.read_text()}")
        try:
            with urllib.request.urlopen(base + "/sign-in", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("serve did not answer within 20 seconds")


def test_several_web_processes_and_two_workers_on_one_postgresql_database(
        database: tuple[str, dict[str, str]]) -> None:
    url, env = database
    refused = subprocess.run([EHCFLOW, "serve"], env=env, capture_output=True, text=True, timeout=60)
    assert refused.returncode != 0 and "ehcflow db upgrade" in refused.stderr
    subprocess.run([EHCFLOW, "db", "upgrade"], env=env, check=True, capture_output=True, timeout=120)

    # The people and the routes, made in this process in January; their decision timers fall due in February, so
    # the workers (on the real clock) find them all due.
    db = make_engine(url)
    services = Services(db=db, session_factory=make_session_factory(db),
                        engine=WorkflowEngine(make_session_factory(db), FrozenClock(datetime(2026, 1, 5, 10,
                                                                                         tzinfo=UTC))),
                        workflows_dir=ROOT / "workflows", forms_dir=ROOT / "forms")
    world = World(services)
    deploy_demo(services.engine)
    for _ in range(INSTANCES):
        services.engine.start(world.case_id, "runtime_demo", {"explode": False})
    with services.session_factory() as s:
        task_ids = list(s.scalars(select(HumanTask.id).where(HumanTask.bpmn_id == "UT_register")
                                  .order_by(HumanTask.id)))
    for task_id in task_ids[1:]:
        services.engine.complete_task(task_id, {"concern": "in-process"})

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = Path(env["EHCFLOW_INSTANCE_DIR"]) / "serve.log"
    with log.open("w") as out:
        server = subprocess.Popen([EHCFLOW, "serve", "--bind", f"127.0.0.1:{port}", "--workers", "3", "--threads",
                                   "2"], env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_until_up(base, server, log)
        browser = Browser(base)
        status, _ = browser.form("/sign-in", {"email": "caseworker@test.example", "password": PASSWORD})
        assert status == 200
        # Many requests, spread over the three processes: each one knows the session.
        for _ in range(15):
            status, page = browser.get(f"/tasks/{task_ids[0]}")
            assert status == 200 and "Register the request" in page
        status, _ = browser.post(f"/tasks/{task_ids[0]}", {"concern": "no token"})
        assert status == 400
        status, page = browser.form(f"/tasks/{task_ids[0]}", {"concern": "over the web"})
        assert status == 200 and "Sign in" not in page
    finally:
        server.terminate()
        server.wait(30)
    with services.session_factory() as s:
        done = s.get(HumanTask, task_ids[0])
        assert done is not None and done.status == "completed"
        assert done.submitted_data == {"concern": "over the web"}
        assert done.completed_by_id == world.users["caseworker"].id

    workers = [subprocess.Popen([EHCFLOW, "worker", "--once", "--batch", "3"], env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True) for _ in range(2)]
    outputs = [w.communicate(timeout=120)[0] for w in workers]
    for w in workers:
        assert w.stdout is not None
        w.stdout.close()
    assert [w.returncode for w in workers] == [0, 0], outputs
    with services.session_factory() as s:
        fired = list(s.scalars(select(AuditEvent.instance_id).where(AuditEvent.action == "timer_fired")))
        escalated = list(s.scalars(select(HumanTask.instance_id).where(HumanTask.bpmn_id == "UT_escalation")))
    # The route completed over the web met its overdue timer in that same command (on the real clock it was long
    # past); the two workers fired the other eleven between them, each once.
    reported = sum(int(re.search(r"on (\d+) instance", out).group(1)) for out in outputs)  # type: ignore[union-attr]
    assert len(fired) == len(set(fired)) == reported == INSTANCES - 1, outputs
    assert sorted(escalated) == sorted(set(escalated)) and len(escalated) == INSTANCES
    db.dispose()
