"""The API's errors are application/problem+json (RFC 9457) for every refusal and failure; lists come in pages with
a next link; each token's requests are limited, with 429 and Retry-After over the limit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from engine.runtime.services import Services
from engine.statutory.clock import FrozenClock
from engine.store.models import AuditEvent, User
from tests.conftest import World
from tests.web.conftest import make_app, open_task
from tests.web.matrix_api import bearer, token_for
from webui.api import ratelimit
from webui.api.problems import MEDIA_TYPE

RFC_9457 = {"type", "title", "status", "detail"}


def problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == MEDIA_TYPE
    body: dict[str, Any] = response.get_json(force=True)
    assert RFC_9457 <= set(body) and body["status"] == status
    assert all(isinstance(body[k], str) and body[k] for k in ("type", "title", "detail"))
    return body


def test_each_refusal_is_a_problem(app: Flask, services: Services, world: World, clock: FrozenClock,
                                   started: int) -> None:
    _, token = token_for(services, world, "caseworker", "write", clock)
    api, auth = app.test_client(), bearer(token)
    task = open_task(services, world.case_id, "UT_record")
    problem(api.get("/api/v1/cases"), 401)
    bad = problem(api.get("/api/v1/cases?limit=1000&colour=red", headers=auth), 400)
    assert set(bad["errors"]) == {"limit", "colour"}
    problem(api.get(f"/api/v1/cases/{world.other_case_id}", headers=auth), 404)
    problem(api.get("/api/v1/reports/timeliness", headers=auth), 403)
    problem(api.post(f"/api/v1/tasks/{task.id}/complete", headers=auth, data="data=1"), 415)
    problem(api.post(f"/api/v1/tasks/{task.id}/complete", headers=auth, data="{not json",
                     content_type="application/json"), 400)
    problem(api.post(f"/api/v1/tasks/{task.id}/complete", headers=auth, json=[1]), 400)
    assert "data" in problem(api.post(f"/api/v1/tasks/{task.id}/complete", headers=auth, json={}), 400)["errors"]
    invalid = problem(api.post(f"/api/v1/tasks/{task.id}/complete", headers=auth, json={"data": {}}), 422)
    assert "concern" in invalid["errors"]
    record = {"concern": "x", "received_on": "2026-03-02", "request_from": "parent", "urgent": False}
    assert api.post(f"/api/v1/tasks/{task.id}/complete", headers=auth, json={"data": record}).status_code == 200
    problem(api.post(f"/api/v1/tasks/{task.id}/complete", headers=auth, json={"data": record}), 409)


def test_an_unexpected_error_is_a_problem_that_says_nothing_of_it(app: Flask, services: Services, world: World,
                                                                   clock: FrozenClock,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from webui.api import cases

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("secret detail of the database")

    monkeypatch.setattr(cases, "case_list", broken)
    _, token = token_for(services, world, "caseworker", "read", clock)
    body = problem(app.test_client().get("/api/v1/cases", headers=bearer(token)), 500)
    assert "secret" not in body["detail"]


def test_lists_come_in_pages_with_a_next_link(app: Flask, services: Services, world: World,
                                              clock: FrozenClock) -> None:
    with services.session_factory() as s:
        for n in range(4):
            services.engine.open_case(s, world.la.id, f"Child{n}", "Taylor", "2015-05-14")
        s.commit()
    _, token = token_for(services, world, "caseworker", "read", clock)
    api = app.test_client()
    url: str | None = "/api/v1/cases?q=taylor&limit=2"
    seen: list[int] = []
    pages = 0
    while url:
        response = api.get(url, headers=bearer(token))
        body = response.get_json()
        assert body["total"] == 5 and body["limit"] == 2 and len(body["items"]) <= 2
        seen += [c["id"] for c in body["items"]]
        if body["next"]:
            assert response.headers["Link"] == f'<{body["next"]}>; rel="next"'
        url, pages = body["next"], pages + 1
    assert pages == 3 and len(seen) == len(set(seen)) == 5
    past = api.get("/api/v1/cases?q=taylor&limit=2&page=50", headers=bearer(token)).get_json()
    assert (past["page"], past["next"], past["total_is_at_least"], len(past["items"])) == (3, None, False, 1)


def test_each_token_is_rate_limited_with_retry_after(services: Services, world: World, clock: FrozenClock,
                                                     tmp_path: Path) -> None:
    app = make_app(services, tmp_path, API_RATE_LIMIT=3, API_RATE_WINDOW=60)
    _, token = token_for(services, world, "caseworker", "read", clock)
    _, other = token_for(services, world, "manager", "read", clock)
    api = app.test_client()
    answers = [api.get("/api/v1/cases", headers=bearer(token)) for _ in range(3)]
    assert [r.headers["RateLimit-Remaining"] for r in answers] == ["2", "1", "0"]
    over = api.get("/api/v1/cases", headers=bearer(token))
    problem(over, 429)
    assert 1 <= int(over.headers["Retry-After"]) <= 60
    assert api.get("/api/v1/cases", headers=bearer(other)).status_code == 200  # each token counts on its own
    with services.session_factory() as s:
        statuses = [e.detail["status"] for e in s.scalars(select(AuditEvent).where(AuditEvent.action == "api_call"))]
    assert statuses.count(429) == 1


def test_the_window_starts_again_after_it_ends() -> None:
    now = [0.0]
    limiter = ratelimit.RateLimiter(2, 10, now=lambda: now[0])
    assert [limiter.hit(1).allowed for _ in range(3)] == [True, True, False]
    now[0] = 4.2
    assert limiter.hit(1).retry_after == 6
    now[0] = 10.0
    assert limiter.hit(1).allowed


def test_a_url_under_the_api_that_matches_no_view_is_a_problem_too(app: Flask, services: Services, world: World,
                                                                   clock: FrozenClock) -> None:
    """Refused by the router before any API view runs (webui/common/routes.py), still answered as the API does."""
    _, token = token_for(services, world, "caseworker", "read", clock)
    api, auth = app.test_client(), bearer(token)
    problem(api.get("/api/v1/no-such-thing", headers=auth), 404)
    problem(api.get("/api/v1/cases/not-a-number", headers=auth), 404)
    problem(api.delete(f"/api/v1/cases/{world.case_id}", headers=auth), 405)
    page = app.test_client().get("/no-such-page")  # the web pages keep their HTML error page
    assert page.status_code == 404 and page.mimetype == "text/html"


def test_a_browser_that_must_choose_a_password_does_not_turn_api_calls_into_redirects(
        app: Flask, services: Services, world: World, clock: FrozenClock, as_user: Any) -> None:
    with services.session_factory() as s:
        s.get(User, world.users["caseworker"].id).temporary_password_set_at = clock.now()
        s.commit()
    browser = as_user("caseworker")
    assert browser.get("/tasks/", status=302).headers["Location"].endswith("/account/choose-password")
    _, token = token_for(services, world, "caseworker", "read", clock)
    answered = browser.http.get(f"/api/v1/cases/{world.case_id}", headers=bearer(token))
    assert answered.status_code == 200
    problem(browser.http.get("/api/v1/cases"), 401)  # and the cookie alone still authenticates nothing


def test_the_rate_limit_is_an_operators_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    from webui import config

    assert (config.defaults()["API_RATE_LIMIT"], config.defaults()["API_RATE_WINDOW"]) == (120, 60)
    monkeypatch.setenv("EHCFLOW_API_RATE_LIMIT", "3")
    monkeypatch.setenv("EHCFLOW_API_RATE_WINDOW", "30")
    assert (config.defaults()["API_RATE_LIMIT"], config.defaults()["API_RATE_WINDOW"]) == (3, 30)
