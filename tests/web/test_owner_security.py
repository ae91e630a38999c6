"""Attacks on the process owners' pages: hostile uploads, names and scenarios, and races between two owners."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

from engine import route_uploads
from engine.services import Services
from tests.conftest import World
from tests.web.conftest import Client, open_task, soup, text_of
from tests.web.test_owner_pages import RECORD, V2, step_rows, upload_files, upload_ok, versions


@pytest.fixture
def owner(as_user: Any, web_route: str) -> Client:
    return as_user("processowner")


def _fingerprint(client: Client, review_url: str) -> str:
    return client.page(review_url).select_one("input[name=fingerprint]")["value"]


def test_a_deeply_nested_form_is_refused_not_an_error_page(owner: Client, app: Flask) -> None:
    deep = ('{"type": "object", "properties": {"a": ' + "[" * 100_000 + "]" * 100_000 + "}}").encode()
    page = soup(owner.post("/routes/upload", upload_files(("web_views.json", deep)), status=200,
                           content_type="multipart/form-data"))
    assert "RecursionError" in text_of(page.select_one(".govuk-error-summary"))
    assert not any(route_uploads.root(app.instance_path).iterdir())


def test_instances_running_on_the_old_version_go_on_after_an_upload_is_deployed(
        owner: Client, services: Services, world: World) -> None:
    engine = services.engine
    iid = engine.start(world.case_id, "web_route")
    review_url = upload_ok(owner, ("web_route.bpmn", V2.encode()))
    owner.post(review_url + "/deploy", {"fingerprint": _fingerprint(owner, review_url)}, status=302)
    engine.complete_task(open_task(services, world.case_id, "UT_record").id, RECORD)
    assert open_task(services, world.case_id, "UT_views").instance_id == iid


def test_the_zip_holds_only_the_versions_files_under_plain_names(owner: Client, services: Services) -> None:
    [version] = versions(services)
    response = owner.get(f"/routes/versions/{version.id}/files.zip")
    archive = zipfile.ZipFile(io.BytesIO(response.get_data()))
    assert sorted(archive.namelist()) == sorted(version.files)
    assert response.headers["Content-Disposition"] == f'attachment; filename="web_route-{version.short_hash}.zip"'


# ---- scenarios are bounded ---------------------------------------------------------------------------------------------
def _loop_route(script: str) -> bytes:
    from tests.engine.bpmn_builder import script_then_task

    return script_then_task("loop_route", script, form="web_ack.json").encode()


def test_a_scenario_that_never_ends_is_stopped(owner: Client, services: Services,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from engine import route_scenarios

    monkeypatch.setattr(route_scenarios, "MAX_SECONDS", 3)
    review_url = upload_ok(owner, ("loop_route.bpmn", _loop_route("n = 0\nwhile True:\n    n = n + 1\n")))
    page = soup(owner.post(review_url + "/scenario", {"scenario": "process: loop_route\nsteps: [{start: {}}]"},
                           status=200))
    assert "the scenario was stopped after 3 seconds" in text_of(page.select_one(".govuk-error-summary"))
    owner.page(review_url)  # the worker is free again and the upload is still there


def test_a_scenario_that_makes_huge_data_is_stopped(owner: Client, services: Services) -> None:
    review_url = upload_ok(owner, ("loop_route.bpmn", _loop_route("big = 'x' * (3 * 1024 * 1024 * 1024)\n")))
    page = soup(owner.post(review_url + "/scenario", {"scenario": "process: loop_route\nsteps: [{start: {}}]"},
                           status=200))
    [(what, result, message)] = step_rows(page)
    assert (what, result) == ("start", "Failed") and "MemoryError" in message


def test_a_scenario_has_at_most_so_many_steps(owner: Client, services: Services) -> None:
    from engine import route_scenarios

    [version] = versions(services)
    steps = "\n".join(["  - expect: {ended: false}"] * (route_scenarios.MAX_STEPS + 1))
    page = soup(owner.post(f"/routes/versions/{version.id}/scenario",
                           {"scenario": f"process: web_route\nsteps:\n{steps}\n"}, status=200))
    assert (f"a scenario may have at most {route_scenarios.MAX_STEPS} steps"
            in text_of(page.select_one(".govuk-error-summary")))


def test_a_scenario_run_leaves_no_temporary_folder(owner: Client, services: Services, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import tempfile

    from engine import route_scenarios

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(route_scenarios, "MAX_SECONDS", 3)
    review_url = upload_ok(owner, ("loop_route.bpmn", _loop_route("n = 0\nwhile True:\n    n = n + 1\n")))
    owner.post(review_url + "/scenario", {"scenario": "process: loop_route\nsteps: [{start: {}}]"}, status=200)
    assert list((tmp_path / "tmp").iterdir()) == []
