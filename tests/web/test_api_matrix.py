"""The web authorization matrix, run against the API: every API operation is tried with a token of each member of
staff of the world (the same organisation and role: the case's authority, the other authority, the organisations on
the case), and must be refused or allowed exactly as the web page it mirrors is for that person signed in, with the
same refusal (404 for a case the token may not see, 403 for what its role may not do there).

A fitness test keeps the table complete: a new API endpoint fails it until its row names the page it mirrors.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.routing import Rule

from engine.runtime.services import Services
from engine.runtime.workflow_engine import WorkflowEngine
from engine.statutory.clock import FrozenClock
from tests.conftest import World
from tests.web.conftest import Client, make_app
from tests.web.matrix_api import bearer, token_for
from tests.web.test_authorization import DOCUMENT_VARIANTS, MATRIX, POST_DATA, Targets, _make_targets, _url

PUBLIC = "public"


@pytest.fixture
def matrix_app(services: Services, tmp_path: Path) -> Flask:
    return make_app(services, tmp_path, WTF_CSRF_ENABLED=False)  # as the web matrix: it tests who, not CSRF


@pytest.fixture
def targets(services: Services, engine: WorkflowEngine, matrix_app: Flask, world: World, web_route: str,
            clock: FrozenClock) -> tuple[Targets, Targets]:
    """The web matrix's objects on both cases (a staff task, a family task, a document of each audience, …)."""
    return (_make_targets(services, engine, matrix_app, world, world.case_id, clock),
            _make_targets(services, engine, matrix_app, world, world.other_case_id, clock))


# Every member of staff of the world, but the process owner: a token never gets a deployment-wide role
# (engine/people/api_tokens.py: token_roles). Tokens are never the family's.
TOKEN_ACTORS = sorted({"caseworker", "manager", "ep", "socialcare", "admin", "health", "school", "mediation",
                       "other_caseworker", "other_manager", "other_admin"})

# (API endpoint, method, variant) -> the web page's row it mirrors (test_authorization.MATRIX), or PUBLIC.
API_MATRIX: dict[tuple[str, str, str], Any] = {
    ("api.openapi_json", "GET", ""): PUBLIC,
    ("api.docs", "GET", ""): PUBLIC,
    ("api.cases", "GET", ""): ("cases.index", "GET", ""),
    ("api.case", "GET", ""): ("cases.case", "GET", ""),
    ("api.deadlines", "GET", ""): ("cases.case", "GET", ""),  # the case page's clock
    ("api.documents", "GET", ""): ("cases.case", "GET", ""),  # the case page's list, filtered (need to know)
    **{("api.document", "GET", v): ("cases.document", "GET", v) for v in DOCUMENT_VARIANTS},
    **{("api.document_file", "GET", v): ("cases.document_file", "GET", v) for v in DOCUMENT_VARIANTS},
    ("api.tasks", "GET", ""): ("tasks.my_tasks", "GET", ""),
    ("api.task", "GET", "staff"): ("tasks.task_page", "GET", "staff"),
    ("api.task", "GET", "family"): ("tasks.task_page", "GET", "family"),
    ("api.complete", "POST", "staff"): ("tasks.task_page", "POST", "staff"),
    ("api.complete", "POST", "family"): ("tasks.task_page", "POST", "family"),
    ("api.startable", "GET", ""): ("cases.case", "GET", ""),  # the case page's "Start something on this case"
    ("api.start", "POST", ""): ("cases.start_route", "POST", ""),
    ("api.offered", "GET", ""): ("cases.message", "GET", ""),
    ("api.send", "POST", ""): ("cases.message", "POST", ""),
    ("api.timeliness", "GET", ""): ("reports.timeliness", "GET", ""),
    ("api.work_in_progress", "GET", ""): ("reports.work_in_progress", "GET", ""),
}
TASK_ENDPOINTS = {"api.task", "api.complete"}
DOCUMENT_ENDPOINTS = {"api.document", "api.document_file"}
# A body that passes no operation's checks (an unknown field): allowed callers get 400, nothing changes.
NOTHING = {"nothing": True}


def _api_cases(app: Flask) -> list[tuple[Rule, str, str]]:
    out = []
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("api."):
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            variants = ["staff", "family"] if rule.endpoint in TASK_ENDPOINTS else \
                list(DOCUMENT_VARIANTS) if rule.endpoint in DOCUMENT_ENDPOINTS else [""]
            out.extend((rule, method, v) for v in variants)
    return out


def _web_rule(app: Flask, endpoint: str) -> Rule:
    return next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)


def _call_api(client: Any, method: str, url: str, token: str | None) -> Any:
    headers = bearer(token) if token else {}
    if method == "GET":
        return client.get(url, headers=headers)
    return client.post(url, json=NOTHING, headers=headers)


def _web_status(client: Client, app: Flask, row: tuple[str, str, str], t: Targets) -> int:
    endpoint, method, variant = row
    url = _url(app, _web_rule(app, endpoint), t, variant)
    if method == "GET":
        response = client.get(url, status=None)
    else:
        response = client.post(url, POST_DATA.get(endpoint, {}), token=False, status=None)
    if response.status_code == 302 and response.headers["Location"].startswith("/sign-in"):
        return 401
    return int(response.status_code)


def _kind(status: int) -> str:
    return {401: "401", 403: "403", 404: "404"}.get(status, "allowed")


def test_every_api_operation_decides_as_the_web_page_it_mirrors(matrix_app: Flask, targets: tuple[Targets, Targets],
                                                                 world: World, services: Services) -> None:
    own, _ = targets
    clock = services.engine.clock
    failures: list[str] = []
    for actor in ["anonymous", *TOKEN_ACTORS]:
        token = None if actor == "anonymous" else token_for(services, world, actor, "write", clock)[1]
        web = Client(matrix_app)
        if actor != "anonymous":
            web.sign_in(world.users[actor].email)
        api = matrix_app.test_client()
        for rule, method, variant in _api_cases(matrix_app):
            mirrored = API_MATRIX[(rule.endpoint, method, variant)]
            url = _url(matrix_app, rule, own, variant)
            got = _call_api(api, method, url, token)
            if got.status_code >= 500:
                failures.append(f"{actor} {method} {url}: {got.status_code}")
                continue
            if mirrored == PUBLIC:
                if got.status_code != 200:
                    failures.append(f"{actor} {method} {url}: public, answered {got.status_code}")
                continue
            expected = "401" if actor == "anonymous" else _kind(_web_status(web, matrix_app, mirrored, own))
            if _kind(got.status_code) != expected:
                failures.append(f"{actor} {method} {url}: {got.status_code}, but the web page {mirrored} "
                                f"answers {expected}")
            if _kind(got.status_code) != "allowed":
                assert got.mimetype == "application/problem+json", (actor, url, got.mimetype)
    assert failures == []


def test_the_web_rows_mirrored_say_the_same_as_the_api_tokens_get(matrix_app: Flask) -> None:
    """The table's own check: each mirrored row exists in the web matrix, so a change there reaches the API."""
    for mirrored in API_MATRIX.values():
        assert mirrored == PUBLIC or mirrored in MATRIX, mirrored


def test_the_api_matrix_covers_every_api_endpoint(matrix_app: Flask) -> None:
    seen = {(rule.endpoint, method, variant) for rule, method, variant in _api_cases(matrix_app)}
    assert seen == set(API_MATRIX), f"API endpoints missing from the matrix: {sorted(seen - set(API_MATRIX))}; " \
                                    f"rows for endpoints that do not exist: {sorted(set(API_MATRIX) - seen)}"


def test_another_authoritys_token_reaches_its_own_case(matrix_app: Flask, targets: tuple[Targets, Targets],
                                                      world: World, services: Services) -> None:
    """The refusals above are about the case: the other authority's token opens its own case and documents."""
    _, other = targets
    _, token = token_for(services, world, "other_caseworker", "read", services.engine.clock)
    api = matrix_app.test_client()
    for endpoint in ("api.case", "api.documents", "api.deadlines"):
        url = _url(matrix_app, _web_rule(matrix_app, endpoint), other, "")
        assert api.get(url, headers=bearer(token)).status_code == 200, endpoint
    url = _url(matrix_app, _web_rule(matrix_app, "api.document"), other, "letter")
    assert api.get(url, headers=bearer(token)).status_code == 200
