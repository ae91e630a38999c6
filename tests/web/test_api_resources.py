"""Each resource of the API with a token: cases (search, read), tasks (list, read, complete with the web form's
validation), routes (start), messages, documents (need to know), deadlines and the reports."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from engine.runtime.services import Services
from engine.statutory.clock import FrozenClock
from engine.store.models import AuditEvent, Case, Deadline, HumanTask, ProcessInstance
from tests.conftest import ROOT, World, deploy_files
from tests.web.conftest import open_task
from tests.web.matrix_api import bearer, token_for
from tests.web.test_document_audience import ADVICE, LETTER, TO_SCHOOL, audience_documents

RECORD = {"concern": "Speech and language", "received_on": "2026-03-02", "request_from": "parent", "urgent": False}


class Api:
    """A test client that sends one token with every request."""

    def __init__(self, app: Flask, token: str) -> None:
        self.http: FlaskClient = app.test_client()
        self.headers = bearer(token)

    def get(self, url: str, status: int = 200) -> Any:
        response = self.http.get(url, headers=self.headers)
        assert response.status_code == status, (url, response.status_code, response.get_data(as_text=True)[:500])
        return response.get_json(force=True) if response.is_json or "json" in response.mimetype else response

    def post(self, url: str, body: Any, status: int) -> Any:
        response = self.http.post(url, json=body, headers=self.headers)
        assert response.status_code == status, (url, response.status_code, response.get_data(as_text=True)[:500])
        return response.get_json(force=True)


def api_as(app: Flask, services: Services, world: World, actor: str, scope: str = "write") -> Api:
    return Api(app, token_for(services, world, actor, scope, services.engine.clock)[1])


def test_cases_are_searched_as_on_the_web_and_read_with_their_parties(app: Flask, services: Services,
                                                                      world: World) -> None:
    with services.session_factory() as s:
        case = s.get(Case, world.case_id)
        case.postcode, case.upn = "NS1 4AB", "A12345678901B"
        s.commit()
    api = api_as(app, services, world, "caseworker", "read")
    for q in ("alex", "Taylor Alex", "14/05/2015", "2015-05-14", "ns14ab", "NS1", "a12345678901b"):
        found = api.get(f"/api/v1/cases?q={q}")
        assert [c["id"] for c in found["items"]] == [world.case_id], q
    assert api.get("/api/v1/cases?q=Bo")["items"] == []  # the other authority's child
    one = api.get(f"/api/v1/cases/{world.case_id}")
    assert (one["child_first_name"], one["date_of_birth"], one["la_name"]) == ("Alex", "2015-05-14",
                                                                              "Testshire Council")
    assert {p["role"] for p in one["parties"]} == {"health_body", "setting", "mediation_service", "family"}
    api.get(f"/api/v1/cases/{world.other_case_id}", status=404)
    assert api.get("/api/v1/cases/999999", status=404)["status"] == 404


def test_a_task_is_listed_read_and_completed_with_the_web_forms_validation(app: Flask, services: Services,
                                                                           world: World, started: int) -> None:
    api = api_as(app, services, world, "caseworker")
    task = open_task(services, world.case_id, "UT_record")
    listed = api.get("/api/v1/tasks")["items"]
    assert [(t["id"], t["can_act"], t["case_id"]) for t in listed] == [(task.id, True, world.case_id)]
    read = api.get(f"/api/v1/tasks/{task.id}")
    assert read["status"] == "open" and set(read["form"]["required"]) == set(RECORD) and read["answers"] is None

    # The task form's JSON Schema, checked by the engine's validator exactly as for the web form.
    refused = api.post(f"/api/v1/tasks/{task.id}/complete", {"data": {**RECORD, "urgent": "maybe",
                                                                       "hours": -1, "extra": 1}}, 422)
    assert set(refused["errors"]) == {"urgent", "hours", "extra"}
    assert refused["title"] == "Unprocessable content"
    assert open_task(services, world.case_id, "UT_record").id == task.id

    done = api.post(f"/api/v1/tasks/{task.id}/complete", {"data": RECORD}, 200)
    assert done["status"] == "completed" and done["answers"] == RECORD
    views = open_task(services, world.case_id, "UT_views")  # the route moved on
    with services.session_factory() as s:
        row = s.get(HumanTask, task.id)
        assert row.completed_by_id is not None and row.completed_by_id != world.users["caseworker"].id
        assert s.scalars(select(AuditEvent).where(AuditEvent.action == "task_completed",
                                                  AuditEvent.actor_id == row.completed_by_id)).first()
    again = api.post(f"/api/v1/tasks/{task.id}/complete", {"data": RECORD}, 409)
    assert again["status"] == 409
    api.get(f"/api/v1/tasks/{views.id}", status=403)  # the family's task: not the token's to act on
    assert api.get(f"/api/v1/tasks/{task.id}")["answers"] == RECORD


def test_documents_are_need_to_know_and_download_as_html(app: Flask, services: Services, world: World) -> None:
    ids = audience_documents(services, world, world.case_id)
    titles = {"caseworker": {LETTER, ADVICE, TO_SCHOOL}, "health": {ADVICE}, "school": {TO_SCHOOL},
              "mediation": set()}
    for actor, expected in titles.items():
        api = api_as(app, services, world, actor, "read")
        listed = api.get(f"/api/v1/cases/{world.case_id}/documents")["items"]
        assert {d["title"] for d in listed} == expected, actor
        for variant, document_id in ids.items():
            status = 200 if {"letter": LETTER, "advice": ADVICE, "to_school": TO_SCHOOL}[variant] in expected else 403
            api.get(f"/api/v1/cases/{world.case_id}/documents/{document_id}", status=status)
    api = api_as(app, services, world, "health", "read")
    listed = api.get(f"/api/v1/cases/{world.case_id}/documents")["items"]
    download = api.get(listed[0]["download"])
    assert download.mimetype == "text/html" and ADVICE in download.get_data(as_text=True)
    assert download.headers["Content-Disposition"].startswith("attachment")


def test_deadlines_of_a_case(app: Flask, services: Services, world: World, clock: FrozenClock) -> None:
    with services.session_factory() as s:
        s.add(Deadline(case_id=world.case_id, key="decide:test", name="Decide whether to assess",
                       due_date=clock.today(), status="open", missed=False))
        s.commit()
    items = api_as(app, services, world, "school", "read").get(f"/api/v1/cases/{world.case_id}/deadlines")["items"]
    assert [(d["name"], d["due_date"], d["state"]) for d in items] == [("Decide whether to assess", "2026-03-02",
                                                                      "due soon")]


def test_a_route_is_started_where_the_route_allows(app: Flask, services: Services, world: World) -> None:
    deploy_files(services.engine, [ROOT / "workflows" / "complaint.bpmn"], ROOT / "forms")
    api = api_as(app, services, world, "caseworker")
    options = api.get(f"/api/v1/cases/{world.case_id}/routes")["items"]
    assert [(o["process_id"], o["allowed"]) for o in options] == [("complaint", True)]
    assert api_as(app, services, world, "health").get(f"/api/v1/cases/{world.case_id}/routes")["items"][0][
        "allowed"] is False
    api_as(app, services, world, "health").post(f"/api/v1/cases/{world.case_id}/routes/complaint", {}, 403)
    api.post(f"/api/v1/cases/{world.case_id}/routes/no_such_route", {}, 404)
    api.post(f"/api/v1/cases/{world.case_id}/routes/complaint", {"data": {"x": 1}}, 422)
    started = api.post(f"/api/v1/cases/{world.case_id}/routes/complaint", {}, 201)
    with services.session_factory() as s:
        instance = s.get(ProcessInstance, started["instance_id"])
        assert instance.process_id == "complaint" and instance.case_id == world.case_id


def test_a_message_is_sent_to_the_case_with_the_message_forms_checks(app: Flask, services: Services,
                                                                     world: World, clock: FrozenClock) -> None:
    deploy_files(services.engine, [ROOT / "workflows" / "disagreement_resolution_service.bpmn"], ROOT / "forms")
    api = api_as(app, services, world, "caseworker")
    offered = api.get(f"/api/v1/cases/{world.case_id}/messages")["items"]
    drs = next(m for m in offered if m["name"] == "drs_requested")
    assert drs["starts"] and drs["form"]["required"] == ["about", "requested_on", "requested_by"]
    url = f"/api/v1/cases/{world.case_id}/messages/drs_requested"
    refused = api.post(url, {"payload": {"about": "Placement", "requested_on": "2026-03-09",
                                         "requested_by": "family"}}, 422)
    assert "today or in the past" in refused["errors"]["requested_on"]
    api.post(f"/api/v1/cases/{world.case_id}/messages/no_such_message", {"payload": {}}, 404)
    api_as(app, services, world, "health").post(url, {"payload": {}}, 403)
    sent = api.post(url, {"payload": {"about": "Placement", "requested_on": "2026-03-02",
                                      "requested_by": "family"}}, 201)
    with services.session_factory() as s:
        assert s.get(ProcessInstance, sent["instance_id"]).case_id == world.case_id


def test_the_reports_for_an_authoritys_managers(app: Flask, services: Services, world: World) -> None:
    manager = api_as(app, services, world, "manager", "read")
    timeliness = manager.get("/api/v1/reports/timeliness?by=year")
    assert (timeliness["la_id"], timeliness["by"], timeliness["rows"]) == (world.la.id, "year", [])
    work = manager.get(f"/api/v1/reports/work-in-progress?la={world.la.id}")
    assert work["la_name"] == "Testshire Council" and "open_cases_by_stage" in work
    api_as(app, services, world, "caseworker", "read").get("/api/v1/reports/timeliness", status=403)
    api_as(app, services, world, "other_manager", "read").get(f"/api/v1/reports/timeliness?la={world.la.id}",
                                                              status=404)
    manager.get("/api/v1/reports/timeliness?by=week", status=400)
