"""The process owners' pages: the routes and their versions, uploading and checking changed files, deploying only
after confirming, the differences between versions, scenario runs, and moving instances to a version and back."""

from __future__ import annotations

import io
import shutil
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from flask import Flask
from sqlalchemy import func, select

from engine.authoring import route_uploads
from engine.library.lint.checker import check_files
from engine.library.registry import ProcessRegistry
from engine.people.roles import Role
from engine.people.users import create_user
from engine.runtime.services import Services
from engine.runtime.workflow_engine import WorkflowEngine
from engine.store.models import AuditEvent, Case, ProcessInstance, ProcessVersion
from tests.conftest import PASSWORD, World
from tests.unit.test_lint import BROKEN, BROKEN_CASES
from tests.unit.test_lint import FORMS as FIXTURE_FORMS
from tests.web.conftest import DATA, ROUTE, Client, open_task, soup, text_of

BPMN = DATA / "web_route.bpmn"
WEB_FORMS = DATA / "forms"
V1 = BPMN.read_text()
# Version 2 gives the decision two more weeks and a new name; only steps not yet done change.
V2 = V1.replace("add_weeks(started_on, 6)", "add_weeks(started_on, 8)").replace('name="Decide"', 'name="Decide now"')
RECORD = {"concern": "x", "received_on": "2026-03-02", "request_from": "parent", "urgent": False}

SCENARIO = """\
process: web_route
clock: 2026-03-02T10:00:00+00:00
steps:
  - start: {}
  - complete: UT_record
    data: {concern: speech, received_on: "2026-03-02", request_from: parent, urgent: false}
  - expect:
      tasks_open: [UT_views]
  - complete: UT_views
    data: {views: fine}
  - expect:
      tasks_open: [UT_decide]
      deadlines: {web_decision: "DUE"}
"""
SIX_WEEKS, EIGHT_WEEKS = "2026-04-13", "2026-04-27"  # Monday 2 March 2026 + 42 and + 56 days


def upload_files(*items: tuple[str, bytes]) -> list[tuple[str, Any]]:
    return [("files", (io.BytesIO(data), name)) for name, data in items]


def file_item(path: Path, name: str | None = None) -> tuple[str, bytes]:
    return name or path.name, path.read_bytes()


def problem_rows(page: BeautifulSoup) -> list[tuple[str, int | None, str | None, str]]:
    rows = []
    for tr in page.select("#problems tbody tr"):
        cells = [td.get_text(" ", strip=True) for td in tr.find_all("td")]
        rows.append((cells[0], int(cells[1]) if cells[1] else None, cells[2] or None, " ".join(cells[3].split())))
    return rows


def versions(services: Services) -> list[ProcessVersion]:
    with services.session_factory() as s:
        return list(s.scalars(select(ProcessVersion).where(ProcessVersion.process_id == ROUTE)
                              .order_by(ProcessVersion.id)))


def deploy_text(services: Services, text: str) -> int:
    services.engine.deploy(ProcessRegistry.from_texts({"workflows/web_route.bpmn": text}, WEB_FORMS))
    return versions(services)[-1].id


@pytest.fixture
def owner(as_user: Any, web_route: str) -> Client:
    return as_user("processowner")


def upload_ok(client: Client, *items: tuple[str, bytes]) -> str:
    """Uploads files that pass the check; returns the review page's URL."""
    response = client.post("/routes/upload", upload_files(*items), status=302,
                           content_type="multipart/form-data")
    location = response.headers["Location"]
    assert location.startswith("/routes/uploads/")
    return location


# ---- the routes and their versions ----------------------------------------------------------------------------------
def test_routes_list_versions_who_deployed_them_and_instances_on_each(owner: Client, services: Services,
                                                                      world: World, engine: WorkflowEngine) -> None:
    engine.start(world.case_id, ROUTE)
    engine.start(world.case_id, ROUTE)
    with services.session_factory() as s:
        user = s.get(type(world.users["processowner"]), world.users["processowner"].id)
        engine.deploy(ProcessRegistry.from_texts({"workflows/web_route.bpmn": V2}, WEB_FORMS), user)
    engine.start(world.case_id, ROUTE)
    page = owner.page("/routes/")
    rows = [[td.get_text(" ", strip=True) for td in tr.find_all("td")]
            for tr in page.select("#route-web_route ~ table tbody tr")]
    old, new = versions(services)
    assert rows == [[f"{new.short_hash} of Web test route Current", "2 March 2026 at 10am", "Processowner", "1"],
                    [f"{old.short_hash} of Web test route", "2 March 2026 at 10am", "The command line", "2"]]
    assert "3 running instances" in text_of(page)
    # the nav link appears for process owners (and admins), not for others
    assert [a.get_text(strip=True) for a in page.select(".govuk-service-navigation__link")].count("Routes") == 1


def test_version_page_shows_tasks_timers_files_and_the_diagram(owner: Client, services: Services) -> None:
    [version] = versions(services)
    page = owner.page(f"/routes/versions/{version.id}")
    text = text_of(page)
    assert "LA manager" in text and "Decide UT_decide , form web_decide.json" in text
    assert "deadline_at(add_weeks(started_on, 6))" in text and "web_decision" in text
    links = [a["href"] for a in page.select("#files ~ ul a")]
    assert f"/routes/versions/{version.id}/files/workflows/web_route.bpmn" in links
    downloaded = owner.get(f"/routes/versions/{version.id}/files/workflows/web_route.bpmn")
    assert downloaded.get_data(as_text=True) == V1
    assert downloaded.headers["Content-Disposition"] == 'attachment; filename="web_route.bpmn"'
    owner.get(f"/routes/versions/{version.id}/files/forms/nothing.json", status=404)
    owner.get(f"/routes/versions/{version.id}/files.zip")
    diagram = owner.get(page.select_one("[data-diagram-url]")["data-diagram-url"]).get_json()
    assert diagram["diagrams"][0]["xml"] == V1
    # the route is not in workflows/, so the page says the files must be committed
    assert "not what the project's folders hold" in text


def test_admins_look_but_cannot_change(as_user: Any, web_route: str, services: Services) -> None:
    admin = as_user("admin")
    page = admin.page("/routes/")
    assert "only process owners can change them" in text_of(page)
    assert page.select_one("a[href='/routes/upload']") is None
    admin.get("/routes/upload", status=403)
    [version] = versions(services)
    admin.get(f"/routes/versions/{version.id}/scenario", status=403)
    as_user("caseworker").get("/routes/", status=403)


# ---- uploading and checking -------------------------------------------------------------------------------------------
def _expected_problems(tmp_path: Path, fixture: str, forms: list[Path]) -> list[tuple[str, int | None, str | None, str]]:
    """What `ehcflow workflows check` prints for the project's folders with the fixture added to them."""
    folder = tmp_path / "expected"
    (folder / "workflows").mkdir(parents=True)
    (folder / "forms").mkdir()
    shutil.copy(BPMN, folder / "workflows")
    shutil.copy(BROKEN / fixture, folder / "workflows")
    for form in [*WEB_FORMS.glob("*.json"), *forms]:
        shutil.copy(form, folder / "forms")
    problems = check_files(sorted((folder / "workflows").glob("*.bpmn")), folder / "forms")
    prefix = str(folder) + "/"
    return [(p.file.replace(prefix, ""), p.line, p.element_id, p.message.replace(prefix, "").replace(str(folder), "."))
            for p in problems]


@pytest.mark.parametrize(("fixture", "file", "line", "element_id", "message"), BROKEN_CASES,
                         ids=[case[0] for case in BROKEN_CASES])
def test_an_upload_is_refused_with_the_linters_problems(owner: Client, services: Services, app: Flask,
                                                        tmp_path: Path, fixture: str, file: str, line: int,
                                                        element_id: str | None, message: str) -> None:
    forms = sorted(FIXTURE_FORMS.glob("*.json"))
    page = soup(owner.post("/routes/upload", upload_files(file_item(BROKEN / fixture), *map(file_item, forms)),
                           status=200, content_type="multipart/form-data"))
    rows = problem_rows(page)
    assert rows == _expected_problems(tmp_path, fixture, forms)
    [(shown_file, shown_line, shown_id, shown_message)] = rows
    assert Path(shown_file).name == file and (shown_line, shown_id) == (line, element_id)
    assert message in shown_message
    summary = [a.get_text(" ", strip=True) for a in page.select(".govuk-error-summary a")]
    assert len(summary) == 1 and message in " ".join(summary[0].split())
    assert page.select_one("title").get_text().startswith("Error:")
    assert len(versions(services)) == 1
    assert not any(route_uploads.root(app.instance_path).glob("*")), "nothing is kept of a refused upload"


def test_a_valid_upload_is_deployed_only_after_confirming(owner: Client, services: Services, app: Flask,
                                                          world: World) -> None:
    form = (WEB_FORMS / "web_decide.json").read_text().replace('"title": "', '"title": "New: ', 1)
    review_url = upload_ok(owner, ("web_route.bpmn", V2.encode()), ("web_decide.json", form.encode()))
    assert len(versions(services)) == 1, "nothing is deployed before the confirmation"
    page = owner.page(review_url)
    text = text_of(page)
    assert "The check found no problems" in text and "Nothing has been deployed yet" in text
    assert "deadline_at(add_weeks(started_on, 6)) becomes deadline_at(add_weeks(started_on, 8))" in text
    assert "web_decide.json changed" in text and "Decide [UT_decide] (bpmn_name)" in text
    fingerprint = page.select_one("input[name=fingerprint]")["value"]
    owner.post(review_url + "/deploy", {}, status=200)  # no confirmation: nothing happens
    assert len(versions(services)) == 1
    response = owner.post(review_url + "/deploy", {"fingerprint": fingerprint}, status=302)
    old, new = versions(services)
    assert response.headers["Location"] == f"/routes/versions/{new.id}"
    assert new.is_current and not old.is_current
    assert new.files["workflows/web_route.bpmn"] == V2 and new.files["forms/web_decide.json"] == form
    assert new.deployed_by_id == world.users["processowner"].id
    with services.session_factory() as s:
        events = s.scalars(select(AuditEvent).where(AuditEvent.action == "routes_uploaded")).all()
    assert [(e.actor_id, e.detail["files"]) for e in events] == \
        [(world.users["processowner"].id, ["forms/web_decide.json", "workflows/web_route.bpmn"])]
    assert not any(route_uploads.root(app.instance_path).glob("*")), "the upload folder is removed"
    page = owner.page(response.headers["Location"])
    assert f"Deployed Web test route version {new.short_hash}" in text_of(page)
    owner.get(review_url, status=404)


def test_deploying_is_refused_when_the_routes_changed_since_the_check(owner: Client, services: Services) -> None:
    review_url = upload_ok(owner, ("web_route.bpmn", V2.encode()))
    fingerprint = owner.page(review_url).select_one("input[name=fingerprint]")["value"]
    deploy_text(services, V1.replace('name="Give your views"', 'name="Tell us"'))  # someone deploys meanwhile
    page = soup(owner.post(review_url + "/deploy", {"fingerprint": fingerprint}, status=200))
    assert "changed after you checked these files" in text_of(page.select_one(".govuk-error-summary"))
    assert len(versions(services)) == 2


def test_discarding_an_upload_removes_it(owner: Client, app: Flask, services: Services) -> None:
    review_url = upload_ok(owner, ("web_route.bpmn", V2.encode()))
    assert len(list(route_uploads.root(app.instance_path).iterdir())) == 1
    owner.post(review_url + "/discard", {"discard": "yes"}, status=302)
    assert not any(route_uploads.root(app.instance_path).iterdir())
    owner.get(review_url, status=404)
    assert len(versions(services)) == 1


def test_an_upload_belongs_to_whoever_made_it(owner: Client, app: Flask, services: Services, world: World) -> None:
    review_url = upload_ok(owner, ("web_route.bpmn", V2.encode()))
    with services.session_factory() as s:
        create_user(s, "owner2@test.example", "Second Owner", PASSWORD, services.engine.clock,
                    [(world.la, Role.PROCESS_OWNER)])
        s.commit()
    other = Client(app)
    other.sign_in("owner2@test.example")
    other.get(review_url, status=404)
    other.get("/routes/uploads/not-a-token", status=404)


def test_old_uploads_are_cleaned_up(owner: Client, app: Flask, services: Services) -> None:
    upload_ok(owner, ("web_route.bpmn", V2.encode()))
    upload_ok(owner, ("web_route.bpmn", V2.encode()))
    assert len(list(route_uploads.root(app.instance_path).iterdir())) == 2
    route_uploads.clean_old(app.instance_path, services.engine.clock.now() + route_uploads.KEEP_FOR / 2)
    assert len(list(route_uploads.root(app.instance_path).iterdir())) == 2
    route_uploads.clean_old(app.instance_path, services.engine.clock.now() + route_uploads.KEEP_FOR * 2)
    assert not any(route_uploads.root(app.instance_path).iterdir())


@pytest.mark.parametrize(("items", "message"), [
    ([], "Select at least one .bpmn or .json file"),
    ([("route.txt", b"x")], "route.txt: only .bpmn files (routes) and .json files (forms) can be uploaded"),
    ([("my route.bpmn", b"<x/>")], "my route.bpmn: a file name may only use letters"),
    ([("route.BPMN", b"<x/>")], "route.BPMN: a file name may only use letters"),
    ([("empty.bpmn", b"")], "empty.bpmn: the file is empty"),
    ([("latin.json", "{\"t\": \"caf\u00e9\"}".encode("latin-1"))], "latin.json: the file is not UTF-8 text"),
    ([("a.bpmn", b"<x/>"), ("a.bpmn", b"<y/>")], "a.bpmn: the file was selected twice"),
])
def test_files_that_cannot_be_taken_are_refused_clearly(owner: Client, app: Flask, items: list[tuple[str, bytes]],
                                                        message: str) -> None:
    page = soup(owner.post("/routes/upload", upload_files(*items), status=200, content_type="multipart/form-data"))
    assert message in text_of(page.select_one(".govuk-error-summary"))
    assert message in text_of(page.select_one("#files-error"))
    assert not route_uploads.root(app.instance_path).exists() or not any(route_uploads.root(app.instance_path).iterdir())


def test_size_limits(owner: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(route_uploads, "MAX_FILE_BYTES", 100)
    page = soup(owner.post("/routes/upload", upload_files(("web_route.bpmn", V1.encode())), status=200,
                           content_type="multipart/form-data"))
    assert "web_route.bpmn: the file is larger than" in text_of(page.select_one(".govuk-error-summary"))
    monkeypatch.setattr(route_uploads, "MAX_FILES", 1)
    page = soup(owner.post("/routes/upload", upload_files(("a.json", b"{}"), ("b.json", b"{}")), status=200,
                           content_type="multipart/form-data"))
    assert "Upload at most 1 files at once" in text_of(page)


def test_file_names_and_contents_are_shown_as_text(owner: Client) -> None:
    response = owner.post("/routes/upload", upload_files(("<img src=x onerror=alert(1)>.bpmn", b"<x/>")), status=200,
                          content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;.bpmn" in html
    broken = (BROKEN / "bad_condition.bpmn").read_text().replace('answer = "yes"',
                                                                  'answer = "&lt;script&gt;x&lt;/script&gt;"')
    assert broken != (BROKEN / "bad_condition.bpmn").read_text()
    forms = [file_item(p) for p in sorted(FIXTURE_FORMS.glob("*.json"))]
    response = owner.post("/routes/upload", upload_files(("bad_condition.bpmn", broken.encode()), *forms),
                          status=200, content_type="multipart/form-data")
    html = response.get_data(as_text=True)
    assert "<script>x</script>" not in html and "&lt;script&gt;x&lt;/script&gt;" in html


def test_csrf_protection_stays_on(owner: Client, app: Flask, services: Services) -> None:
    response = owner.post("/routes/upload", upload_files(("web_route.bpmn", V2.encode())), token=False,
                          content_type="multipart/form-data")
    assert response.status_code == 400
    assert not route_uploads.root(app.instance_path).exists() or not any(route_uploads.root(app.instance_path).iterdir())
    review_url = upload_ok(owner, ("web_route.bpmn", V2.encode()))
    fingerprint = owner.page(review_url).select_one("input[name=fingerprint]")["value"]
    assert owner.post(review_url + "/deploy", {"fingerprint": fingerprint}, token=False).status_code == 400
    assert len(versions(services)) == 1


# ---- differences and migration ----------------------------------------------------------------------------------------
def test_the_differences_between_two_versions(owner: Client, services: Services, world: World,
                                              engine: WorkflowEngine) -> None:
    v1 = versions(services)[0].id
    done = engine.start(world.case_id, ROUTE)
    engine.complete_task(open_task(services, world.case_id, "UT_record").id, RECORD)
    waiting = engine.start(world.case_id, ROUTE)  # at UT_record: can move
    v2 = deploy_text(services, V2.replace('name="Record the request"', 'name="Record it"'))
    page = owner.page(f"/routes/versions/{v1}/compare/{v2}")
    text = text_of(page)
    assert "Changed Record the request [UT_record] (bpmn_name) Decide [UT_decide] (bpmn_name)" in text
    assert "Record the request [UT_record] (bpmn_name)" in text
    assert "deadline_at(add_weeks(started_on, 6)) becomes deadline_at(add_weeks(started_on, 8))" in text
    assert [i["value"] for i in page.select("input[name=instance_id]")] == [str(waiting)]
    diagram = owner.get(page.select_one("[data-diagram-url]")["data-diagram-url"]).get_json()
    assert diagram["current"] == ["TE_decide_due", "UT_decide", "UT_record"]
    assert diagram["diagrams"][0]["xml"] == versions(services)[-1].files["workflows/web_route.bpmn"]
    cannot = text_of(page.select_one("table"))
    assert str(done) in cannot and "completed step Record the request [UT_record] is different" in cannot
    owner.get(f"/routes/versions/{v1}/compare/{v1}", status=404)


def test_migrating_instances_and_back(owner: Client, services: Services, world: World, engine: WorkflowEngine) -> None:
    v1 = versions(services)[0].id
    first, second = engine.start(world.case_id, ROUTE), engine.start(world.case_id, ROUTE)
    v2 = deploy_text(services, V2)
    url = f"/routes/versions/{v1}/compare/{v2}/migrate"
    page = soup(owner.post(url, {}, status=200))
    assert "Select the instances to move" in text_of(page.select_one(".govuk-error-summary"))
    confirm = soup(owner.post(url, [("instance_id", str(first)), ("instance_id", str(second))], status=200))
    assert "2 instances will move" in text_of(confirm)
    assert all(version_of(services, i) == v1 for i in (first, second)), "nothing moves before the confirmation"
    done = soup(owner.post(url, [("instance_id", str(first)), ("instance_id", str(second)), ("reason", "new timer"),
                                 ("confirmed", "yes")], status=200))
    assert "2 instances moved to version" in text_of(done)
    assert version_of(services, first) == version_of(services, second) == v2
    with services.session_factory() as s:
        moves = s.scalars(select(AuditEvent).where(AuditEvent.action == "migrated")).all()
    assert {(e.instance_id, e.actor_id) for e in moves} == {(first, world.users["processowner"].id),
                                                            (second, world.users["processowner"].id)}
    assert all("new timer" in e.summary for e in moves)
    back = soup(owner.post(f"/routes/versions/{v2}/compare/{v1}/migrate",
                           [("instance_id", str(first)), ("confirmed", "yes")], status=200))
    assert "1 instance moved" in text_of(back)
    assert version_of(services, first) == v1 and version_of(services, second) == v2


def test_a_move_is_refused_with_its_reason(owner: Client, services: Services, world: World,
                                           engine: WorkflowEngine) -> None:
    v1 = versions(services)[0].id
    iid = engine.start(world.case_id, ROUTE)
    engine.complete_task(open_task(services, world.case_id, "UT_record").id, RECORD)
    v2 = deploy_text(services, V1.replace('name="Record the request"', 'name="Record it"'))
    url = f"/routes/versions/{v1}/compare/{v2}/migrate"
    confirm = text_of(soup(owner.post(url, {"instance_id": str(iid)}, status=200)))
    assert "These will not move" in confirm and "completed step Record the request [UT_record]" in confirm
    done = text_of(soup(owner.post(url, {"instance_id": str(iid), "confirmed": "yes"}, status=200)))
    assert "No instance was moved" in done and "cannot move to that version" in done
    assert version_of(services, iid) == v1
    # an instance that does not run on the first version is refused too
    other = deploy_text(services, V1.replace('name="Give your views"', 'name="Tell us"'))
    done = text_of(soup(owner.post(f"/routes/versions/{other}/compare/{v1}/migrate",
                                   {"instance_id": str(iid), "confirmed": "yes"}, status=200)))
    assert f"Instance {iid}: it does not run on version" in done


def test_admins_see_differences_but_cannot_move_instances(as_user: Any, services: Services, world: World,
                                                          engine: WorkflowEngine, web_route: str) -> None:
    v1 = versions(services)[0].id
    iid = engine.start(world.case_id, ROUTE)
    v2 = deploy_text(services, V2)
    admin = as_user("admin")
    page = admin.page(f"/routes/versions/{v1}/compare/{v2}")
    assert page.select("input[name=instance_id]") == [] and "Only a process owner can move them" in text_of(page)
    admin.post(f"/routes/versions/{v1}/compare/{v2}/migrate", {"instance_id": str(iid), "confirmed": "yes"},
               status=403)
    assert version_of(services, iid) == v1


def version_of(services: Services, instance_id: int) -> int:
    with services.session_factory() as s:
        instance = s.get(ProcessInstance, instance_id)
        assert instance is not None
        return instance.process_version_id


# ---- scenarios --------------------------------------------------------------------------------------------------------
def counts(services: Services) -> tuple[int, int, int]:
    with services.session_factory() as s:
        return (s.scalar(select(func.count()).select_from(Case)) or 0,
                s.scalar(select(func.count()).select_from(ProcessInstance)) or 0,
                s.scalar(select(func.count()).select_from(AuditEvent)) or 0)


def step_rows(page: BeautifulSoup) -> list[tuple[str, str, str]]:
    return [tuple(td.get_text(" ", strip=True) for td in tr.find_all("td")[1:])  # type: ignore[misc]
            for tr in page.select("#steps tbody tr")]


def test_a_scenario_against_a_version_passes_or_says_what_differed(owner: Client, services: Services) -> None:
    [version] = versions(services)
    url = f"/routes/versions/{version.id}/scenario"
    before = counts(services)
    passed = owner.page(url) and soup(owner.post(url, {"scenario": SCENARIO.replace("DUE", SIX_WEEKS)}, status=200))
    assert text_of(passed.select_one("#result")).startswith("Passed")
    assert [r[1] for r in step_rows(passed)] == ["Passed"] * 5
    failed = soup(owner.post(url, {"scenario": SCENARIO.replace("DUE", EIGHT_WEEKS)}, status=200))
    assert text_of(failed.select_one("#result")).startswith("Failed")
    assert step_rows(failed)[-1] == ("expect deadlines, tasks_open", "Failed",
                                     f"deadline web_decision: expected {EIGHT_WEEKS}, found {SIX_WEEKS}")
    assert counts(services) == before, "a scenario never touches the real database"


def test_a_scenario_against_uploaded_files_before_deploying(owner: Client, services: Services) -> None:
    review_url = upload_ok(owner, ("web_route.bpmn", V2.encode()))
    page = soup(owner.post(review_url + "/scenario",
                           {"scenario_file": (io.BytesIO(SCENARIO.replace("DUE", EIGHT_WEEKS).encode()), "s.yaml")},
                           status=200, content_type="multipart/form-data"))
    assert text_of(page.select_one("#result")).startswith("Passed"), step_rows(page)
    assert len(versions(services)) == 1


@pytest.mark.parametrize(("data", "message"), [
    ({"scenario": ""}, "Paste a scenario or choose a scenario file"),
    ({"scenario": "process: ["}, "the scenario: not valid YAML at line 1"),
    ({"scenario": "steps: []"}, "a scenario needs 'process'"),
    ({"scenario_file": (io.BytesIO(b"x"), "s.exe")}, "s.exe: a scenario file must be a .yaml or .yml file"),
    ({"scenario": "process: nope\nsteps: [{start: {}}]"}, None),
])
def test_bad_scenarios_are_refused_clearly(owner: Client, services: Services, data: dict[str, Any],
                                           message: str | None) -> None:
    [version] = versions(services)
    page = soup(owner.post(f"/routes/versions/{version.id}/scenario", data, status=200,
                           content_type="multipart/form-data"))
    if message is None:  # a process the files do not hold: the run says so
        assert step_rows(page) == [("find the process", "Failed", "no process 'nope' in the files checked")]
    else:
        assert message in text_of(page.select_one(".govuk-error-summary"))


def test_a_step_of_the_wrong_shape_fails_with_its_number(owner: Client, services: Services) -> None:
    [version] = versions(services)
    page = soup(owner.post(f"/routes/versions/{version.id}/scenario",
                           {"scenario": "process: web_route\nsteps: [{start: {}}, {advance: {fortnights: 1}}]"},
                           status=200))
    step, result, message = step_rows(page)[-1]
    assert (step, result) == ("advance the clock 1 fortnights", "Failed")
    assert message.startswith("this step is not written as engine/authoring/scenarios.py describes:")
    assert "fortnights" in message


def test_scenario_text_is_shown_as_text(owner: Client, services: Services) -> None:
    [version] = versions(services)
    response = owner.post(f"/routes/versions/{version.id}/scenario",
                          {"scenario": "process: web_route\nsteps:\n  - complete: <script>x</script>\n"}, status=200)
    html = response.get_data(as_text=True)
    assert "<script>x</script>" not in html and "&lt;script&gt;x&lt;/script&gt;" in html


def test_upload_timestamps_use_the_engine_clock(owner: Client, app: Flask, services: Services) -> None:
    review_url = upload_ok(owner, ("web_route.bpmn", V2.encode()))
    [folder] = route_uploads.root(app.instance_path).iterdir()
    upload = route_uploads.find(app.instance_path, folder.name, owner_record(services))
    assert upload is not None and upload.created_at == services.engine.clock.now()
    assert review_url.endswith(folder.name)


def owner_record(services: Services) -> Any:
    from engine.store.models import User

    with services.session_factory() as s:
        return s.scalars(select(User).where(User.email == "processowner@test.example")).one()


# ---- a version deployed from the page is not undone by deploying the folders ----------------------------------------
def test_deploying_the_folders_keeps_a_version_deployed_from_the_page(owner: Client, services: Services,
                                                                      tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import dataclasses

    from click.testing import CliRunner

    from webui import cli
    from webui.cli import setup as setup_command
    from webui.cli import workflows as workflows_command

    review_url = upload_ok(owner, ("web_route.bpmn", V2.encode()))
    fingerprint = owner.page(review_url).select_one("input[name=fingerprint]")["value"]
    owner.post(review_url + "/deploy", {"fingerprint": fingerprint}, status=302)
    old, web = versions(services)
    folder = tmp_path / "workflows"
    folder.mkdir()
    (folder / "web_route.bpmn").write_text(V1)  # the project's folder was not updated
    def folder_services() -> Services:
        return dataclasses.replace(services, workflows_dir=folder, forms_dir=WEB_FORMS)

    for command in (setup_command, workflows_command):
        monkeypatch.setattr(command, "build_services", folder_services)
    runner = CliRunner()
    refused = runner.invoke(cli.main, ["workflows", "deploy", str(folder), "--forms", str(WEB_FORMS)])
    assert refused.exit_code == 1
    assert (f"web_route: version {web.short_hash} was deployed from the Routes page by Processowner on 2026-03-02; "
            "the files being deployed would go back to an older version") in refused.output
    assert [v.is_current for v in versions(services)] == [False, True]
    setup = runner.invoke(cli.main, ["setup", "--no-demo"])
    assert setup.exit_code == 0, setup.output
    assert f"Kept web_route version {web.short_hash} from the Routes page" in setup.output
    assert [v.is_current for v in versions(services)] == [False, True]
    # once the files are committed, deploying the folders changes nothing
    (folder / "web_route.bpmn").write_text(owner.get(f"/routes/versions/{web.id}/files/workflows/web_route.bpmn")
                                           .get_data(as_text=True))
    same = runner.invoke(cli.main, ["workflows", "deploy", str(folder), "--forms", str(WEB_FORMS)])
    assert same.exit_code == 0 and "Nothing changed" in same.output
    (folder / "web_route.bpmn").write_text(V1)
    forced = runner.invoke(cli.main, ["workflows", "deploy", str(folder), "--forms", str(WEB_FORMS), "--force"])
    assert forced.exit_code == 0, forced.output
    assert [v.is_current for v in versions(services)] == [True, False]


def test_a_renamed_file_replaces_the_deployed_file_of_its_processes(owner: Client, services: Services) -> None:
    review_url = upload_ok(owner, ("web_route_v2.bpmn", V2.encode()), ("unused.json", b'{"type": "object"}'))
    page = owner.page(review_url)
    text = text_of(page)
    assert "process id 'web_route' is also used" not in text and "The check found no problems" in text
    assert "No route uses forms/unused.json : it will not be deployed." in text
    fingerprint = page.select_one("input[name=fingerprint]")["value"]
    owner.post(review_url + "/deploy", {"fingerprint": fingerprint}, status=302)
    new = versions(services)[-1]
    assert sorted(new.files) == ["forms/web_ack.json", "forms/web_decide.json", "forms/web_record.json",
                                 "forms/web_views.json", "workflows/web_route_v2.bpmn"]


def test_a_new_route_calling_a_deployed_one_is_deployed_as_new(owner: Client, services: Services) -> None:
    caller = (BROKEN / "missing_called_process.bpmn").read_text().replace('calledElement="ehc_not_deployed"',
                                                                          'calledElement="web_route"')
    forms = [file_item(p) for p in sorted(FIXTURE_FORMS.glob("*.json")) if p.name != "invalid_form_schema.json"]
    review_url = upload_ok(owner, ("lint_missing_called_process.bpmn", caller.encode()), *forms)
    page = owner.page(review_url)
    assert "A new route: version" in text_of(page)
    fingerprint = page.select_one("input[name=fingerprint]")["value"]
    owner.post(review_url + "/deploy", {"fingerprint": fingerprint}, status=302)
    with services.session_factory() as s:
        caller_version = s.scalars(select(ProcessVersion).where(
            ProcessVersion.process_id == "lint_missing_called_process")).one()
    assert "workflows/web_route.bpmn" in caller_version.files, "the called route's deployed file is part of it"
    assert len(versions(services)) == 1, "the called route is unchanged"


def test_the_comparison_agrees_with_the_engines_and_checks_a_batch_at_a_time(
        owner: Client, services: Services, world: World, engine: WorkflowEngine,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.authoring import upload_changes
    from engine.authoring.version_diff import diff_versions

    v1 = versions(services)[0].id
    done = engine.start(world.case_id, ROUTE)
    engine.complete_task(open_task(services, world.case_id, "UT_record").id, RECORD)
    waiting = [engine.start(world.case_id, ROUTE) for _ in range(3)]
    v2 = deploy_text(services, V2.replace('name="Record the request"', 'name="Record it"'))
    with services.session_factory() as s:
        old, new = s.get(ProcessVersion, v1), s.get(ProcessVersion, v2)
        assert upload_changes.compare_versions(engine, s, old, new).diff == diff_versions(engine, s, v1, v2)
    monkeypatch.setattr(upload_changes, "CHECK_AT_MOST", 3)
    page = owner.page(f"/routes/versions/{v1}/compare/{v2}")
    assert "1 more instance runs on version" in text_of(page)
    assert [i["value"] for i in page.select("input[name=instance_id]")] == [str(i) for i in waiting[:2]]
    owner.post(f"/routes/versions/{v1}/compare/{v2}/migrate",
               [("instance_id", str(i)) for i in waiting[:2]] + [("confirmed", "yes")], status=200)
    page = owner.page(f"/routes/versions/{v1}/compare/{v2}")
    assert "more instance" not in text_of(page)
    assert [i["value"] for i in page.select("input[name=instance_id]")] == [str(waiting[2])]
    assert str(done) in text_of(page.select_one("table"))


def test_route_names_from_a_deployed_upload_are_shown_as_text(owner: Client, services: Services) -> None:
    hostile = V1.replace('name="Web test route"', 'name="&lt;script&gt;alert(1)&lt;/script&gt;"')
    review_url = upload_ok(owner, ("web_route.bpmn", hostile.encode()))
    fingerprint = owner.page(review_url).select_one("input[name=fingerprint]")["value"]
    owner.post(review_url + "/deploy", {"fingerprint": fingerprint}, status=302)
    new = versions(services)[-1]
    for url in ("/routes/", f"/routes/versions/{new.id}", f"/routes/versions/{versions(services)[0].id}/compare/{new.id}"):
        html = owner.get(url).get_data(as_text=True)
        assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html, url


def test_a_changed_form_alone_makes_a_new_version_of_the_routes_using_it(owner: Client, services: Services) -> None:
    form = (WEB_FORMS / "web_views.json").read_text().replace('"Your views"', '"What do you think?"')
    review_url = upload_ok(owner, ("web_views.json", form.encode()))
    page = owner.page(review_url)
    text = text_of(page)
    assert "web_views.json changed" in text and "Timers" not in text
    fingerprint = page.select_one("input[name=fingerprint]")["value"]
    owner.post(review_url + "/deploy", {"fingerprint": fingerprint}, status=302)
    old, new = versions(services)
    assert new.files["forms/web_views.json"] == form
    assert new.files["workflows/web_route.bpmn"] == old.files["workflows/web_route.bpmn"] == V1
