"""Browser tests: the app runs in a thread on 127.0.0.1 over a temporary SQLite database, and Debian's Chromium is
driven by Playwright. Without Chromium (or Playwright) the tests are skipped, with the reason printed."""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from werkzeug.serving import make_server

from engine.runtime.services import Services
from engine.runtime.workflow_engine import WorkflowEngine
from engine.statutory.clock import Clock
from engine.store.db import make_engine, make_session_factory
from engine.store.migrate import upgrade
from tests.conftest import World, deploy_files
from webui.app import create_app

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "web" / "data"
SCREENSHOTS = ROOT / "docs" / "screenshots"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def chromium_path() -> str | None:
    for candidate in ("/usr/bin/chromium", "/usr/bin/chromium-browser"):
        if Path(candidate).exists():
            return candidate
    return shutil.which("chromium")


def _skip(reason: str) -> None:
    print(f"SKIP browser tests: {reason}")
    pytest.skip(reason)


@dataclass
class LiveServer:
    url: str
    services: Services
    world: World


@pytest.fixture
def server_clock() -> Clock:
    """The server's clock: the real one; a test module that checks statutory dates overrides it with a FrozenClock."""
    return Clock()


@pytest.fixture
def live_server(tmp_path: Path, server_clock: Clock) -> Iterator[LiveServer]:
    db = make_engine(f"sqlite:///{tmp_path / 'browser.sqlite3'}")
    upgrade(db)
    factory = make_session_factory(db)
    services = Services(db=db, session_factory=factory, engine=WorkflowEngine(factory, server_clock),
                        workflows_dir=ROOT / "workflows", forms_dir=ROOT / "forms")
    world = World(services)
    deploy_files(services.engine, [DATA / "web_route.bpmn"], DATA / "forms")
    # The real configuration (secure cookies and all), as a browser meets it; only the key and folder are given.
    app = create_app({"SECRET_KEY": "browser-test-key", "INSTANCE_PATH": tmp_path / "instance"}, services=services)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(f"http://127.0.0.1:{server.server_port}", services, world)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        db.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    path = chromium_path()
    if path is None:
        _skip("Chromium is not installed (run scripts/install-browser.sh, or apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _skip("Playwright for Python is not installed")
    with sync_playwright() as playwright:
        try:
            chromium = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS, headless=True)
        except Exception as exc:  # noqa: BLE001 - any failure to start the browser is a reason to skip
            _skip(f"Chromium at {path} did not start: {exc}")
        yield chromium
        chromium.close()


@pytest.fixture
def page_errors() -> list[str]:
    return []


@pytest.fixture
def new_page(browser: Any, page_errors: list[str]) -> Iterator[Any]:
    """new_page(**context options) -> a page whose console errors (CSP violations, script errors) are collected."""
    contexts: list[Any] = []

    def make(**options: Any) -> Any:
        context = browser.new_context(**{"viewport": {"width": 1200, "height": 900}, **options})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15000)
        page.on("console", lambda m: page_errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: page_errors.append(str(e)))
        page.on("response", lambda r: page_errors.append(f"{r.status} {r.url}") if r.status == 404 else None)
        return page

    yield make
    for context in contexts:
        context.close()


def screenshot(page: Any, name: str, full_page: bool = True) -> None:
    """Takes the screenshot every run (so a page that cannot render fails here); it replaces the one in docs/ only
    with EHCFLOW_SCREENSHOTS=1, so that an ordinary test run leaves the work tree as it was."""
    if os.environ.get("EHCFLOW_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
    else:
        path = Path(tempfile.gettempdir()) / f"ehcflow-screenshot-{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
