"""Every demo user, on the project's real routes and demo data: each page they reach opens, each task they may do
draws its form, and nothing they can click fails. This is what a new user does after ./run.sh."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from engine.demo import DEMO_PASSWORD, seed
from engine.models import User
from engine.registry import ProcessRegistry
from engine.services import Services
from tests.web.conftest import Client, make_app, soup

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def demo_app(services: Services, tmp_path: Path) -> Flask:
    services.engine.deploy(ProcessRegistry.load(ROOT / "workflows", ROOT / "forms"))
    seed(services.engine)
    return make_app(services, tmp_path)


def _links(html: str) -> set[str]:
    return {href for href in re.findall(r'href="(/[^"#]*)"', html)
            if not href.startswith("/static/") and "/download" not in href and not href.endswith("/pdf")}


def test_every_demo_user_can_open_every_page_they_are_shown(demo_app: Flask, services: Services) -> None:
    with services.session_factory() as s:
        emails = list(s.scalars(select(User.email).where(User.active.is_(True)).order_by(User.id)))
    assert len(emails) > 20
    problems: list[str] = []
    total = 0
    for email in emails:
        client = Client(demo_app)
        client.sign_in(email, DEMO_PASSWORD)
        seen: set[str] = set()
        queue = ["/"]
        while queue and len(seen) < 60:
            url = queue.pop(0)
            if url in seen or url.startswith(("/sign-out", "/sign-in")):
                continue
            seen.add(url)
            total += 1
            response = client.get(url, status=None, follow_redirects=True)
            if response.status_code >= 500 or response.status_code == 404:
                problems.append(f"{email} {url}: {response.status_code}")
                continue
            if response.mimetype == "text/html":
                html = response.get_data(as_text=True)
                queue.extend(sorted(_links(html) - seen))
                # A task page draws its form with every field labelled.
                if re.fullmatch(r"/tasks/\d+", url) and response.status_code == 200:
                    page = soup(response)
                    for field in page.select("form input[name]:not([type=hidden]), form textarea, form select"):
                        ident = field.get("id")
                        if field.get("type") in ("radio", "checkbox"):
                            continue
                        assert ident and page.select_one(f"label[for='{ident}']"), (email, url, field)
    print(f"visited {total} pages")
    assert problems == []
