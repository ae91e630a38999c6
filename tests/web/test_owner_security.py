"""Attacks on the process owners' pages: hostile uploads, names and scenarios, and races between two owners."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from engine.authoring import route_uploads
from engine.library.registry import ProcessRegistry
from engine.runtime.services import Services
from engine.store.models import ProcessInstance, ProcessVersion
from tests.conftest import World
from tests.web.conftest import DATA, Client, open_task, soup, text_of
from tests.web.test_owner_pages import RECORD, V1, V2, step_rows, upload_files, upload_ok, versions


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
# A script that runs for hours: the checker refuses while loops and the sandbox's range() holds fewer than 1,000
# items, so it takes three nested loops (about a billion steps).
LONG_SCRIPT = ("n = 0\nfor a in range(999):\n    for b in range(999):\n        for c in range(999):\n"
               "            n = n + 1\n")


def _loop_route(script: str) -> bytes:
    from tests.engine.bpmn_builder import script_then_task

    return script_then_task("loop_route", script, form="web_ack.json").encode()


def test_a_script_that_runs_too_long_fails_its_step(owner: Client, services: Services) -> None:
    """The sandbox stops the script itself (engine/library/sandbox_limits.py) long before the scenario's limit."""
    review_url = upload_ok(owner, ("loop_route.bpmn", _loop_route(LONG_SCRIPT)))
    page = soup(owner.post(review_url + "/scenario", {"scenario": "process: loop_route\nsteps: [{start: {}}]"},
                           status=200))
    [(what, result, message)] = step_rows(page)
    assert (what, result) == ("start", "Failed") and "ran more than 200,000 lines" in message


@pytest.fixture
def no_script_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    """Lifts the sandbox's own limits on one script (the scenario's child process reads them from the
    environment), so that the scenario's limits are what stops it."""
    monkeypatch.setenv("EHCFLOW_SCRIPT_MAX_LINES", str(10 ** 12))
    monkeypatch.setenv("EHCFLOW_SCRIPT_MAX_SECONDS", "1000000")


def test_a_scenario_that_never_ends_is_stopped(owner: Client, services: Services, monkeypatch: pytest.MonkeyPatch,
                                               no_script_budget: None) -> None:
    from engine.authoring import route_scenarios

    monkeypatch.setattr(route_scenarios, "MAX_SECONDS", 3)
    review_url = upload_ok(owner, ("loop_route.bpmn", _loop_route(LONG_SCRIPT)))
    page = soup(owner.post(review_url + "/scenario", {"scenario": "process: loop_route\nsteps: [{start: {}}]"},
                           status=200))
    assert "the scenario was stopped after 3 seconds" in text_of(page.select_one(".govuk-error-summary"))
    assert "a run is stopped after 3 seconds" in text_of(page)
    owner.page(review_url)  # the worker is free again and the upload is still there


def test_huge_data_is_refused_at_upload_and_stopped_at_run_time(owner: Client, services: Services) -> None:
    """A constant too big to make is refused by the check; one worked out from data is stopped by the sandbox
    (engine/library/sandbox_limits.py): the step fails, nothing runs out of memory."""
    response = owner.post("/routes/upload", upload_files(
        ("loop_route.bpmn", _loop_route("big = 'x' * (3 * 1024 * 1024 * 1024)\n"))), status=200,
        content_type="multipart/form-data")
    assert ("workflows/loop_route.bpmn:17: ST_script: the sandbox refuses the script, line 1: repeating it "
            "3221225472 times makes more than 1,000,000 items") in text_of(soup(response))
    review_url = upload_ok(owner, ("loop_route.bpmn", _loop_route("n = 3 * 1024 * 1024\nbig = 'x' * (n * 1024)\n")))
    page = soup(owner.post(review_url + "/scenario", {"scenario": "process: loop_route\nsteps: [{start: {}}]"},
                           status=200))
    [(what, result, message)] = step_rows(page)
    assert (what, result) == ("start", "Failed") and "makes more than 1,000,000 items" in message


def test_a_scenario_has_at_most_so_many_steps(owner: Client, services: Services) -> None:
    from engine.authoring import route_scenarios

    [version] = versions(services)
    steps = "\n".join(["  - expect: {ended: false}"] * (route_scenarios.MAX_STEPS + 1))
    page = soup(owner.post(f"/routes/versions/{version.id}/scenario",
                           {"scenario": f"process: web_route\nsteps:\n{steps}\n"}, status=200))
    assert (f"a scenario may have at most {route_scenarios.MAX_STEPS} steps"
            in text_of(page.select_one(".govuk-error-summary")))


def test_a_scenario_run_leaves_no_temporary_folder(owner: Client, services: Services, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import tempfile

    from engine.authoring import route_scenarios

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(route_scenarios, "MAX_SECONDS", 3)
    review_url = upload_ok(owner, ("loop_route.bpmn", _loop_route(LONG_SCRIPT)))
    owner.post(review_url + "/scenario", {"scenario": "process: loop_route\nsteps: [{start: {}}]"}, status=200)
    assert list((tmp_path / "tmp").iterdir()) == []


# ---- deploying --------------------------------------------------------------------------------------------------------
def _second_owner(services: Services, world: World) -> Any:
    from engine.people.roles import Role
    from engine.people.users import create_user
    from tests.conftest import PASSWORD

    with services.session_factory() as s:
        user = create_user(s, "owner2@test.example", "Second Owner", PASSWORD, services.engine.clock,
                           [(world.la, Role.PROCESS_OWNER)])
        s.commit()
        s.refresh(user)
        s.expunge(user)
        return user


def test_two_owners_confirming_at_once_deploy_only_one_version(owner: Client, app: Flask, services: Services,
                                                                 world: World,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    engine = services.engine
    first, second = world.users["processowner"], _second_owner(services, world)
    now = engine.clock.now()
    uploads = {}
    for user, text in ((first, V2), (second, V2.replace('name="Decide now"', 'name="Decide at once"'))):
        upload = route_uploads.stage(app.instance_path, [("web_route.bpmn", text.encode())], user, now)
        with services.session_factory() as s:
            uploads[user.id] = (upload, route_uploads.check(s, upload).fingerprint)
    real_deploy, inside, go = engine.deploy, threading.Event(), threading.Event()

    def slow_deploy(*args: Any, **kwargs: Any) -> Any:
        if not inside.is_set():  # the first deploy waits, as a slow one would, while the other owner confirms
            inside.set()
            go.wait(30)
        return real_deploy(*args, **kwargs)

    monkeypatch.setattr(engine, "deploy", slow_deploy)
    outcomes: dict[int, Any] = {}

    def confirm(user: Any) -> None:
        upload, fingerprint = uploads[user.id]
        try:
            outcomes[user.id] = route_uploads.deploy(engine, upload, user, fingerprint)
        except route_uploads.DeployRefused as exc:
            outcomes[user.id] = exc

    one = threading.Thread(target=confirm, args=(first,))
    one.start()
    assert inside.wait(30)
    two = threading.Thread(target=confirm, args=(second,))
    two.start()
    two.join(2)  # without a lock the second deploy finishes here, before the first one
    go.set()
    one.join(30)
    two.join(30)
    assert isinstance(outcomes[first.id], list) and len(outcomes[first.id]) == 1
    assert isinstance(outcomes[second.id], route_uploads.DeployRefused)
    assert "changed after you checked these files" in str(outcomes[second.id])
    assert len(versions(services)) == 2


def test_a_file_that_renames_its_route_is_refused(owner: Client, services: Services) -> None:
    renamed = V1.replace('id="web_route"', 'id="web_route_renamed"').replace('processRef="web_route"',
                                                                           'processRef="web_route_renamed"')
    assert renamed.count("web_route_renamed") == 2
    page = soup(owner.post("/routes/upload", upload_files(("web_route.bpmn", renamed.encode())), status=200,
                           content_type="multipart/form-data"))
    assert ("workflows/web_route.bpmn: the deployed file of this name holds the route web_route, which this file "
            "does not define any more" in text_of(page.select_one(".govuk-error-summary")))
    assert len(versions(services)) == 1


def test_a_file_with_two_routes_deploys_both(owner: Client, services: Services) -> None:
    from tests.engine.bpmn_builder import script_then_task

    extra = script_then_task("second_route", "x = 1", form="web_ack.json")
    process = extra[extra.index("<bpmn:process"):extra.index("</bpmn:process>") + len("</bpmn:process>")]
    process = re.sub(r"\bF(\d)\b", r"G\1", process)  # ids are unique in a file
    both = V2.replace("</bpmn:process>", "</bpmn:process>\n" + process.replace("LaneSet_1", "LaneSet_2")
                      .replace("Lane_1", "Lane_2"), 1)
    review_url = upload_ok(owner, ("web_route.bpmn", both.encode()))
    page = owner.page(review_url)
    text = text_of(page)
    assert "A new route: version" in text and "Decide [UT_decide] (bpmn_name)" in text, text
    owner.post(review_url + "/deploy", {"fingerprint": page.select_one("input[name=fingerprint]")["value"]},
               status=302)
    with services.session_factory() as s:
        current = {v.process_id: v for v in s.scalars(select(ProcessVersion).where(ProcessVersion.is_current))}
    assert current["second_route"].files["workflows/web_route.bpmn"] == both
    assert current["web_route"].files["workflows/web_route.bpmn"] == both


def test_an_upload_whose_check_breaks_is_not_kept(owner: Client, app: Flask,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: Any) -> Any:
        raise RuntimeError("the checker broke")

    monkeypatch.setattr(route_uploads, "check", broken)
    owner.http.application.config["PROPAGATE_EXCEPTIONS"] = False
    response = owner.post("/routes/upload", upload_files(("web_route.bpmn", V2.encode())),
                          content_type="multipart/form-data")
    assert response.status_code == 500
    assert not any(route_uploads.root(app.instance_path).iterdir())


# ---- who may use an upload, and CSRF ----------------------------------------------------------------------------------
def test_another_owner_cannot_use_an_upload_in_any_way(owner: Client, app: Flask, services: Services,
                                                       world: World) -> None:
    review_url = upload_ok(owner, ("web_route.bpmn", V2.encode()))
    fingerprint = _fingerprint(owner, review_url)
    _second_owner(services, world)
    other = Client(app)
    other.sign_in("owner2@test.example")
    other.page("/routes/upload")  # for a CSRF token
    other.get(review_url + "/scenario", status=404)
    other.post(review_url + "/scenario", {"scenario": "process: web_route\nsteps: [{start: {}}]"}, status=404)
    other.post(review_url + "/deploy", {"fingerprint": fingerprint}, status=404)
    other.post(review_url + "/discard", {"discard": "yes"}, status=404)
    assert len(versions(services)) == 1
    owner.page(review_url)  # still there for its owner


def test_every_post_of_the_owner_pages_needs_the_csrf_token(owner: Client, app: Flask, services: Services,
                                                            world: World) -> None:
    engine = services.engine
    iid = engine.start(world.case_id, "web_route")
    review_url = upload_ok(owner, ("web_route.bpmn", V2.encode()))
    fingerprint = _fingerprint(owner, review_url)
    [v1] = versions(services)
    v2 = engine.deploy(ProcessRegistry.from_texts(
        {"workflows/web_route.bpmn": V2.replace('name="Decide now"', 'name="Decide soon"')}, DATA / "forms"))[0].id
    posts = [(f"/routes/versions/{v1.id}/compare/{v2}/migrate", {"instance_id": str(iid), "confirmed": "yes"}),
             (review_url + "/deploy", {"fingerprint": fingerprint}),
             (review_url + "/discard", {"discard": "yes"}),
             (review_url + "/scenario", {"scenario": "process: web_route\nsteps: [{start: {}}]"}),
             (f"/routes/versions/{v1.id}/scenario", {"scenario": "process: web_route\nsteps: [{start: {}}]"})]
    for url, data in posts:
        assert owner.post(url, data, token=False).status_code == 400, url
    assert len(versions(services)) == 2 and owner.page(review_url)
    with services.session_factory() as s:
        assert s.get(ProcessInstance, iid).process_version_id == v1.id


# ---- what an upload holds is shown as text --------------------------------------------------------------------------
HOSTILE = "&lt;script&gt;alert(1)&lt;/script&gt;"


def test_element_and_lane_names_from_an_upload_are_shown_as_text(owner: Client, services: Services,
                                                                 world: World) -> None:
    hostile = (V2.replace('name="Record the request"', f'name="Record {HOSTILE}"')
               .replace('name="Web test route"', f'name="Route {HOSTILE}"'))
    assert hostile.count(HOSTILE) >= 2
    review_url = upload_ok(owner, ("web_route.bpmn", hostile.encode()))
    pages = [owner.get(review_url)]
    owner.post(review_url + "/deploy", {"fingerprint": _fingerprint(owner, review_url)}, status=302)
    old, new = versions(services)
    services.engine.start(world.case_id, "web_route")  # its open step's name is shown when moving it back
    pages += [owner.get(f"/routes/versions/{new.id}"), owner.get(f"/routes/versions/{old.id}/compare/{new.id}"),
              owner.get(f"/routes/versions/{new.id}/compare/{old.id}")]
    for response in pages:
        html = response.get_data(as_text=True)
        assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html, response.request.path
    assert "Record &lt;script&gt;" in pages[-1].get_data(as_text=True), "the open step is listed"


def test_an_xml_bomb_is_refused_quickly(owner: Client, app: Flask, services: Services) -> None:
    entities = '<!ENTITY e0 "boom">' + "".join(f'<!ENTITY e{i} "{f"&e{i - 1};" * 10}">' for i in range(1, 12))
    bomb = V1.replace('<?xml version="1.0" encoding="UTF-8"?>',
                      f'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE bpmn:definitions [{entities}]>', 1)
    bomb = bomb.replace('name="Decide"', 'name="&e11;"')
    page = soup(owner.post("/routes/upload", upload_files(("web_route.bpmn", bomb.encode())), status=200,
                           content_type="multipart/form-data"))
    [error] = [text_of(a) for a in page.select(".govuk-error-summary a")]
    assert "malformed XML" in error or "declares a DOCTYPE" in error
    assert len(versions(services)) == 1


def test_a_scenario_whose_data_expands_without_end_is_stopped(owner: Client, services: Services,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.authoring import route_scenarios

    monkeypatch.setattr(route_scenarios, "MAX_SECONDS", 3)
    [version] = versions(services)
    levels = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    levels += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 10)]
    scenario = ("process: web_route\nanchors:\n" + "\n".join("  " + line for line in levels)
                + "\nsteps:\n  - start: {laughs: *a9}\n")
    assert len(scenario) < 2000
    page = soup(owner.post(f"/routes/versions/{version.id}/scenario", {"scenario": scenario}, status=200))
    errors = page.select_one(".govuk-error-summary")
    rows = step_rows(page)
    assert (errors is not None and ("stopped after 3 seconds" in text_of(errors) or "memory" in text_of(errors))) \
        or (rows and rows[0][1] == "Failed"), (text_of(errors) if errors else rows)


@pytest.mark.parametrize("sent", ["../../web_route.bpmn", "/etc/web_route.bpmn"])
def test_a_path_sent_as_a_file_name_keeps_only_its_last_part(owner: Client, app: Flask, sent: str) -> None:
    review_url = upload_ok(owner, (sent, V2.encode()))
    [folder] = route_uploads.root(app.instance_path).iterdir()
    written = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    assert written == ["upload.json", "uploaded/workflows/web_route.bpmn"]
    assert "workflows/web_route.bpmn" in text_of(owner.page(review_url))


# Backslashes never reach the view: the multipart parser reads them as escapes ("..\\x.bpmn" arrives as "..x.bpmn").
@pytest.mark.parametrize("sent", ["..bpmn", ".hidden.bpmn", "a\x00b.bpmn", "caf\u00e9.bpmn", "x" * 120 + ".bpmn",
                                  "..\\..\\web_route.bpmn", "C:\\x\\web_route.bpmn"])
def test_odd_file_names_are_refused(owner: Client, app: Flask, sent: str) -> None:
    page = soup(owner.post("/routes/upload", upload_files((sent, V2.encode())), status=200,
                           content_type="multipart/form-data"))
    assert "a file name may only use letters" in text_of(page.select_one(".govuk-error-summary"))
    assert not route_uploads.root(app.instance_path).exists() or not any(route_uploads.root(app.instance_path).iterdir())


# ---- moving instances -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("value", ["\u00b2", "9" * 5000, str(2**70), "-1", " 1"])
def test_an_odd_instance_id_is_ignored_not_an_error_page(owner: Client, services: Services, world: World,
                                                         value: str) -> None:
    engine = services.engine
    iid = engine.start(world.case_id, "web_route")
    [v1] = versions(services)
    v2 = engine.deploy(ProcessRegistry.from_texts({"workflows/web_route.bpmn": V2}, DATA / "forms"))[0].id
    url = f"/routes/versions/{v1.id}/compare/{v2}/migrate"
    page = soup(owner.post(url, [("instance_id", value)], status=200))
    assert "Select the instances to move" in text_of(page.select_one(".govuk-error-summary"))
    page = soup(owner.post(url, [("instance_id", value), ("instance_id", str(iid)), ("confirmed", "yes")],
                           status=200))
    assert "1 instance moved" in text_of(page)


def test_an_upload_older_than_a_day_cannot_be_deployed(owner: Client, services: Services) -> None:
    review_url = upload_ok(owner, ("web_route.bpmn", V2.encode()))
    fingerprint = _fingerprint(owner, review_url)
    services.engine.clock.advance(days=1, minutes=1)
    owner.sign_in("processowner@test.example")  # the session has ended too
    owner.get(review_url, status=404)
    owner.post(review_url + "/deploy", {"fingerprint": fingerprint}, status=404)
    assert len(versions(services)) == 1


@pytest.mark.parametrize(("name", "header"), [
    ('a"b.bpmn', 'attachment; filename="a_b.bpmn"'),
    ("a\r\nSet-Cookie: x=1.bpmn", 'attachment; filename="a__Set-Cookie__x_1.bpmn"'),
    ("caf\u00e9 route.zip", 'attachment; filename="caf__route.zip"'),
    ("x;filename=evil.exe", 'attachment; filename="x_filename_evil.exe"'),
])
def test_a_download_header_is_safe_for_any_name(name: str, header: str) -> None:
    from webui.owner.routes import _attachment

    assert _attachment(name) == header


def test_a_scenario_run_stops_itself_even_if_nobody_waits_for_it(owner: Client, services: Services,
                                                                  monkeypatch: pytest.MonkeyPatch,
                                                                  no_script_budget: None) -> None:
    from engine.authoring import route_scenarios

    # The web worker would wait longer than the run may use the processor: the run ends on its own.
    monkeypatch.setattr(route_scenarios, "MAX_SECONDS", 120)
    monkeypatch.setattr(route_scenarios, "MAX_CPU_SECONDS", 2)
    review_url = upload_ok(owner, ("loop_route.bpmn", _loop_route(LONG_SCRIPT)))
    page = soup(owner.post(review_url + "/scenario", {"scenario": "process: loop_route\nsteps: [{start: {}}]"},
                           status=200))
    assert "stopped without a result" in text_of(page.select_one(".govuk-error-summary"))


def test_only_so_many_scenarios_run_at_once(owner: Client, services: Services) -> None:
    from engine.authoring import route_scenarios

    [version] = versions(services)
    held = [route_scenarios._runs.acquire(blocking=False) for _ in range(route_scenarios.MAX_RUNS_AT_ONCE)]
    try:
        assert all(held)
        page = soup(owner.post(f"/routes/versions/{version.id}/scenario",
                               {"scenario": "process: web_route\nsteps: [{start: {}}]"}, status=200))
        assert "scenarios are running already; try again in a minute" in text_of(page.select_one(".govuk-error-summary"))
    finally:
        for _ in held:
            route_scenarios._runs.release()
    page = soup(owner.post(f"/routes/versions/{version.id}/scenario",
                           {"scenario": "process: web_route\nsteps: [{start: {}}]"}, status=200))
    assert text_of(page.select_one("#result")).startswith("Passed")


@pytest.mark.parametrize("name", ["..%2f..%2fupload.json", "..", "%2e%2e", "web_route.bpmn%00.json", "..%5cweb_route.bpmn"])
def test_a_file_of_a_version_is_only_one_it_holds(owner: Client, services: Services, name: str) -> None:
    [version] = versions(services)
    response = owner.http.get(f"/routes/versions/{version.id}/files/workflows/{name}")
    assert response.status_code == 404
