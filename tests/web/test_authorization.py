"""The authorization matrix: every endpoint, tried by nobody, by every role, by another organisation's staff and by
another family, on one case's objects. Each is refused (403, 404, or a redirect to sign in) unless the table below
allows it. A fitness test keeps the table complete: a new endpoint fails it until its row is written.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update
from werkzeug.datastructures import FileStorage
from werkzeug.routing import Rule

from engine.runtime.services import Services
from engine.runtime.workflow_engine import WorkflowEngine
from engine.statutory.clock import FrozenClock
from engine.store.models import Deadline, HumanTask
from tests.conftest import ROOT, World, deploy_files

# The admin and process-owner areas keep their rows and URL targets in their own modules (tests/web/matrix_*.py),
# each with EXTRA_MATRIX and make_extra_targets(services, engine, app, world, case_id, clock) -> dict.
from tests.web import (  # noqa: E402
    matrix_admin,
    matrix_api,
    matrix_case_details,
    matrix_case_notes,
    matrix_exports,
    matrix_intake,
    matrix_local_offer,
    matrix_owner,
    matrix_reports,
    matrix_request,
    matrix_routes,
    matrix_sen_support,
    matrix_sso,
)
from tests.web.conftest import ROUTE, Client, make_app, open_task
from tests.web.test_cases import ADVICE, DRAFT, add_document
from tests.web.test_document_audience import audience_documents
from tests.web.test_notices import add_notice
from tests.web.test_transfer_package import add_package
from webui import uploads
from webui.access import ACCESS_LEVELS, access_of
from webui.api.auth import API_ACCESS_LEVELS  # the API's token-only views (tests/web/test_api_matrix.py tries them)

AREAS = (matrix_admin, matrix_owner, matrix_reports, matrix_intake, matrix_request, matrix_routes,
         matrix_case_details, matrix_local_offer, matrix_sen_support, matrix_case_notes, matrix_exports,
         matrix_sso, matrix_api)

LA = {"caseworker", "manager", "ep", "socialcare", "admin", "processowner"}
LA_SEN = LA - {"ep", "socialcare"}  # the authority's own services read what is meant for them, like health
PARTY_ORGS = {"health", "school", "mediation"}  # organisations acting on both cases
CASE_STAFF = LA | PARTY_ORGS
OTHER_LA = {"other_caseworker", "other_manager", "other_admin"}
ALL_STAFF = CASE_STAFF | OTHER_LA
FAMILIES = {"parent", "other_parent"}
SIGNED_IN = ALL_STAFF | FAMILIES
ACTORS = ["anonymous", *sorted(SIGNED_IN)]
PUBLIC = "public"
# A document's page and download are tried on one document of each audience (tests/web/test_document_audience.py).
DOCUMENT_ENDPOINTS = {"cases.document", "cases.document_file", "family.document", "family.document_file"}
DOCUMENT_VARIANTS = ("letter", "advice", "to_school")

# (endpoint, method, variant) -> who may use it on the first case's objects (or PUBLIC).
MATRIX: dict[tuple[str, str, str], Any] = {
    ("common.home", "GET", ""): PUBLIC,
    ("common.cookies", "GET", ""): PUBLIC,
    ("common.accessibility", "GET", ""): PUBLIC,
    ("auth.sign_in", "GET", ""): PUBLIC,
    ("auth.sign_in", "POST", ""): PUBLIC,
    ("auth.sign_out", "GET", ""): PUBLIC,
    ("auth.sign_out", "POST", ""): PUBLIC,
    ("auth.account", "GET", ""): SIGNED_IN,
    ("auth.change_password", "GET", ""): SIGNED_IN,
    ("auth.change_password", "POST", ""): SIGNED_IN,  # an empty form: every field is refused, nothing changes
    # Only someone signed in with a temporary password chooses one here; anyone else is sent home (not refused).
    ("auth.choose_password", "GET", ""): SIGNED_IN,
    ("auth.choose_password", "POST", ""): SIGNED_IN,
    ("tasks.my_tasks", "GET", ""): ALL_STAFF,
    ("tasks.team_tasks", "GET", ""): ALL_STAFF,
    ("tasks.claim", "POST", ""): {"caseworker", "manager"},
    ("tasks.release", "POST", ""): {"caseworker", "manager"},
    ("tasks.reassign", "GET", ""): {"manager", "admin"},
    ("tasks.reassign", "POST", ""): {"manager", "admin"},
    ("tasks.task_page", "GET", "staff"): {"caseworker", "manager"},
    ("tasks.task_page", "POST", "staff"): {"caseworker", "manager"},
    ("tasks.task_page", "GET", "family"): {"parent"},
    ("tasks.task_page", "POST", "family"): {"parent"},
    # A caseworker's task: its answers and files are the authority's (need to know, as for documents).
    ("tasks.task_file", "GET", ""): LA_SEN,
    ("cases.index", "GET", ""): ALL_STAFF,
    ("cases.case", "GET", ""): CASE_STAFF,
    ("cases.timeline", "GET", ""): CASE_STAFF,
    # Need to know (tests/web/test_document_audience.py): the responsible authority reads every document; the others
    # what was sent to them, and advice the family agreed to share (here social care's advice, shared with health).
    ("cases.document", "GET", "letter"): LA_SEN,
    ("cases.document_file", "GET", "letter"): LA_SEN,
    ("cases.document", "GET", "advice"): LA_SEN | {"socialcare", "health"},
    ("cases.document_file", "GET", "advice"): LA_SEN | {"socialcare", "health"},
    ("cases.document", "GET", "to_school"): LA_SEN | {"school"},
    ("cases.document_file", "GET", "to_school"): LA_SEN | {"school"},
    ("cases.plan", "GET", ""): CASE_STAFF,
    ("cases.plan_pdf", "GET", ""): CASE_STAFF,
    ("cases.plan_changes", "GET", ""): CASE_STAFF,
    ("cases.diagram", "GET", ""): CASE_STAFF,
    ("cases.exception", "GET", ""): {"caseworker", "manager"},
    ("cases.exception", "POST", ""): {"caseworker", "manager"},
    ("cases.message", "GET", ""): {"caseworker", "manager"},
    ("cases.message", "POST", ""): {"caseworker", "manager"},
    ("cases.transfer_package", "GET", ""): {"caseworker", "manager"},
    ("family.index", "GET", ""): FAMILIES,
    ("family.case", "GET", ""): {"parent"},
    ("family.document", "GET", "letter"): {"parent"},
    ("family.document_file", "GET", "letter"): {"parent"},
    ("family.document", "GET", "advice"): {"parent"},  # advice about their child: the family always reads it
    ("family.document_file", "GET", "advice"): {"parent"},
    ("family.document", "GET", "to_school"): set(),
    ("family.document_file", "GET", "to_school"): set(),
    ("family.plan", "GET", ""): {"parent"},
    ("family.plan_pdf", "GET", ""): {"parent"},
    ("family.named_parent", "GET", ""): set(),  # the young person only: the world's children are under 16
    ("family.named_parent", "POST", ""): set(),
    ("cases.named_parent", "GET", ""): {"caseworker", "manager"},
    ("cases.named_parent", "POST", ""): {"caseworker", "manager"},
    ("cases.organisations", "GET", ""): {"caseworker", "manager"},
    ("cases.organisations", "POST", ""): {"caseworker", "manager"},  # an empty form: refused, nothing changes
    ("notices.index", "GET", ""): ALL_STAFF,
    ("notices.notice", "GET", ""): {"school"},  # a notice to the case's school
    ("family.disagreement_resolution", "GET", ""): {"parent"},
    ("family.disagreement_resolution", "POST", ""): {"parent"},
}
for _area in AREAS:
    assert not set(_area.EXTRA_MATRIX) & set(MATRIX), f"{_area.__name__} repeats rows of the matrix"
    MATRIX.update(_area.EXTRA_MATRIX)

# What is posted: enough to reach the authorization checks, never enough to change a route.
POST_DATA: dict[str, dict[str, str]] = {
    "tasks.task_page": {"_action": "remove-file:nothing"},
    "auth.sign_in": {},
    # "Change your answers" draws the form again: it never sends the message.
    "cases.message": {"_action": "change"},
    "family.disagreement_resolution": {"_action": "change"},
}
for _area in AREAS:
    POST_DATA.update(getattr(_area, "EXTRA_POST_DATA", {}))


@dataclass
class Targets:
    case_id: int
    task_id: int
    family_task_id: int
    document_id: int
    version_id: int
    deadline_id: int
    instance_id: int
    token: str
    message_name: str  # a message the case's routes take (disagreement resolution starts its own route)
    package_id: int  # a transfer package on the case
    documents: dict[str, int] = field(default_factory=dict)  # variant of the document rows -> a document by audience
    extra: dict[str, Any] = field(default_factory=dict)  # URL values of the admin and process-owner areas


def _make_targets(services: Services, engine: WorkflowEngine, app: Flask, world: World, case_id: int,
                  clock: FrozenClock) -> Targets:
    from engine.casework import plans

    deploy_files(engine, [ROOT / "workflows" / "disagreement_resolution_service.bpmn"], ROOT / "forms")
    family_route = engine.start(case_id, ROUTE)
    record = open_task(services, case_id, "UT_record")
    engine.complete_task(record.id, {"concern": "x", "received_on": "2026-03-02", "request_from": "parent",
                                     "urgent": False})
    views = open_task(services, case_id, "UT_views")
    engine.start(case_id, ROUTE)
    with services.session_factory() as s:
        staff_task = s.scalars(select(HumanTask).where(HumanTask.case_id == case_id, HumanTask.bpmn_id == "UT_record",
                                                       HumanTask.status == "open")).first()
        assert staff_task is not None
        first = plans.create_draft(s, case_id, DRAFT, now=clock.now(), advice=ADVICE, instance_id=family_route)
        second = plans.new_draft_version(s, case_id, {"section_a": {"views": "More"}}, now=clock.now(),
                                         instance_id=family_route)
        deadline = Deadline(case_id=case_id, key="advice:test", name="Advice due", due_date=clock.today(),
                            status="open", missed=False)
        s.add(deadline)
        s.commit()
        version_id, deadline_id, staff_task_id = second.id, deadline.id, staff_task.id
        assert first.id
    clock.advance(seconds=1)
    document_id = add_document(services, case_id, "A notice", [{"role": "parent"}], instance_id=family_route)
    stored = uploads.store(FileStorage(io.BytesIO(b"evidence"), "evidence.txt"), uploads.folder(app.instance_path),
                           extensions=(".txt",), max_bytes=1000, scanner=uploads.eicar_scanner, case_id=case_id,
                           task_id=staff_task_id, user_id=world.users["caseworker"].id, now=clock.now())
    package_id = add_package(services, case_id, clock)
    extra: dict[str, Any] = {"notice_id": add_notice(services, world.school.id, f"<p>For case {case_id}</p>")}
    for area in AREAS:
        extra.update(area.make_extra_targets(services, engine, app, world, case_id, clock))
    documents = audience_documents(services, world, case_id)
    return Targets(case_id, staff_task_id, views.id, document_id, version_id, deadline_id, family_route,
                   stored.token, "drs_requested", package_id, documents, extra)


@pytest.fixture
def matrix_app(services: Services, tmp_path: Path) -> Flask:
    # Only here is CSRF protection turned off: the matrix tests who may do what, not whether a token was sent.
    return make_app(services, tmp_path, WTF_CSRF_ENABLED=False)


@pytest.fixture
def targets(services: Services, engine: WorkflowEngine, matrix_app: Flask, world: World, web_route: str,
            clock: FrozenClock) -> tuple[Targets, Targets]:
    own = _make_targets(services, engine, matrix_app, world, world.case_id, clock)
    other = _make_targets(services, engine, matrix_app, world, world.other_case_id, clock)
    return own, other


def _rules(app: Flask) -> list[Rule]:
    return [r for r in app.url_map.iter_rules() if r.endpoint != "static"]


def _url(app: Flask, rule: Rule, t: Targets, variant: str) -> str:
    values: dict[str, Any] = {}
    for name in rule.arguments:
        if name == "task_id":
            values[name] = t.family_task_id if variant == "family" else t.task_id
        elif name == "document_id" and variant in t.documents:
            values[name] = t.documents[variant]
        elif name in t.extra:
            values[name] = t.extra[name]
        else:
            values[name] = getattr(t, name)
    with app.test_request_context():
        from flask import url_for

        return url_for(rule.endpoint, **values)


def _refused(response: Any) -> bool:
    if response.status_code in (401, 403, 404):
        return True
    return response.status_code == 302 and response.headers["Location"].startswith("/sign-in")


def _reset(services: Services) -> None:
    with services.session_factory() as s:
        s.execute(update(HumanTask).values(assignee_id=None, draft_data=None))
        s.commit()


def _cases(app: Flask) -> list[tuple[Rule, str, str]]:
    out = []
    for rule in _rules(app):
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            variants = ["staff", "family"] if rule.endpoint == "tasks.task_page" else \
                list(DOCUMENT_VARIANTS) if rule.endpoint in DOCUMENT_ENDPOINTS else [""]
            for variant in variants:
                out.append((rule, method, variant))
    # Signing out last, so that it does not end the session the other requests use.
    return sorted(out, key=lambda c: c[0].endpoint == "auth.sign_out")


def _request(client: Client, method: str, url: str, endpoint: str) -> Any:
    if method == "GET":
        return client.get(url, status=None)
    return client.post(url, POST_DATA.get(endpoint, {}), token=False, status=None)


def test_every_endpoint_refuses_everyone_it_should(matrix_app: Flask, targets: tuple[Targets, Targets],
                                                   world: World, services: Services) -> None:
    own, _ = targets
    failures: list[str] = []
    for actor in ACTORS:
        client = Client(matrix_app)
        if actor != "anonymous":
            client.sign_in(world.users[actor].email)
        for rule, method, variant in _cases(matrix_app):
            allowed = MATRIX[(rule.endpoint, method, variant)]
            url = _url(matrix_app, rule, own, variant)
            response = _request(client, method, url, rule.endpoint)
            if response.status_code >= 500:
                failures.append(f"{actor} {method} {url}: {response.status_code}")
            elif allowed == PUBLIC:
                if response.status_code in (403, 404):
                    failures.append(f"{actor} {method} {url}: public page refused ({response.status_code})")
            elif actor in allowed and _refused(response):
                failures.append(f"{actor} {method} {url}: refused ({response.status_code}) but should be allowed")
            elif actor not in allowed and not _refused(response):
                failures.append(f"{actor} {method} {url}: allowed ({response.status_code}) but should be refused")
            if method == "POST":
                _reset(services)
    assert failures == []


def test_a_family_cannot_reach_another_familys_case_task_or_documents(matrix_app: Flask,
                                                                      targets: tuple[Targets, Targets],
                                                                      world: World) -> None:
    _, other = targets
    client = Client(matrix_app)
    client.sign_in(world.users["parent"].email)
    for rule, method, variant in _cases(matrix_app):
        if rule.endpoint.startswith(("family.", "tasks.task", "cases.")) and rule.arguments:
            url = _url(matrix_app, rule, other, variant)
            response = _request(client, method, url, rule.endpoint)
            assert _refused(response), (method, url, response.status_code)


def test_another_authoritys_staff_reach_their_own_case(matrix_app: Flask, targets: tuple[Targets, Targets],
                                                       world: World) -> None:
    """The same pages open for the other authority on its own case: the refusals above are about the case."""
    _, other = targets
    client = Client(matrix_app)
    client.sign_in(world.users["other_caseworker"].email)
    for endpoint in ("cases.case", "cases.diagram", "cases.document", "tasks.task_page"):
        rule = next(r for r in _rules(matrix_app) if r.endpoint == endpoint)
        assert client.get(_url(matrix_app, rule, other, "staff"), status=None).status_code == 200, endpoint


def test_the_matrix_covers_every_endpoint_and_every_view_declares_its_access(matrix_app: Flask) -> None:
    seen = {(rule.endpoint, method, variant) for rule, method, variant in _cases(matrix_app)}
    assert seen == set(MATRIX), f"endpoints missing from the matrix: {sorted(seen - set(MATRIX))}; " \
                                f"rows for endpoints that do not exist: {sorted(set(MATRIX) - seen)}"
    for rule in _rules(matrix_app):
        view = matrix_app.view_functions[rule.endpoint]
        assert access_of(view) in (*ACCESS_LEVELS, *API_ACCESS_LEVELS), f"{rule.endpoint} does not declare who may use it"
        if access_of(view) == "public":
            assert MATRIX.get((rule.endpoint, sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})[0], "")) == PUBLIC


def test_urls_are_kebab_case_and_their_variables_typed(matrix_app: Flask) -> None:
    for rule in _rules(matrix_app):
        static_parts = re.sub(r"<[^>]+>", "", rule.rule)
        assert re.fullmatch(r"[a-z0-9/.\-]*", static_parts), rule.rule
        for converter in re.findall(r"<([^>]+)>", rule.rule):
            assert ":" in converter, f"{rule.rule}: type every URL variable"
