"""The admin console's instance pages: the home counts, the list and its filters, one instance's page, and every
repair action with its confirmation, its refusals and its audit event. CSRF protection stays on."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from bs4 import BeautifulSoup
from sqlalchemy import select

from engine.errors import InstanceFailed
from engine.library.registry import ProcessRegistry
from engine.runtime.services import Services
from engine.runtime.workflow_engine import WorkflowEngine
from engine.store.models import AuditEvent, HumanTask, Incident, ProcessInstance, ProcessVersion
from tests.conftest import World
from tests.engine.test_runtime import DATA as ENGINE_DATA
from tests.web.conftest import Client, open_task, text_of

DEMO = (ENGINE_DATA / "runtime_demo.bpmn").read_text()


def deploy_demo(engine: WorkflowEngine, text: str = DEMO) -> int:
    engine.deploy(ProcessRegistry.from_texts({"workflows/runtime_demo.bpmn": text}, ENGINE_DATA / "forms"))
    with engine.session_factory() as s:
        return s.scalars(select(ProcessVersion.id).where(ProcessVersion.process_id == "runtime_demo",
                                                         ProcessVersion.is_current.is_(True))).one()


@pytest.fixture
def running(engine: WorkflowEngine, world: World) -> int:
    """The demo route on the world's case, waiting at its first task."""
    deploy_demo(engine)
    return engine.start(world.case_id, "runtime_demo", {"explode": False, "note": "<script>alert(1)</script>"},
                        world.users["caseworker"])


@pytest.fixture
def failed(engine: WorkflowEngine, services: Services, world: World) -> int:
    """The demo route failed in its script (ST_init divides by zero) after the first task was submitted."""
    deploy_demo(engine)
    iid = engine.start(world.case_id, "runtime_demo", {"explode": True}, world.users["caseworker"])
    with pytest.raises(InstanceFailed):
        engine.complete_task(task_of(services, iid, "UT_register").id, {"concern": "x"}, world.users["caseworker"])
    return iid


def task_of(services: Services, iid: int, bpmn_id: str) -> HumanTask:
    with services.session_factory() as s:
        return s.scalars(select(HumanTask).where(HumanTask.instance_id == iid, HumanTask.bpmn_id == bpmn_id,
                                                 HumanTask.status == "open")).one()


def status_of(services: Services, iid: int) -> str:
    with services.session_factory() as s:
        instance = s.get(ProcessInstance, iid)
        assert instance is not None
        return instance.status


def last_event(services: Services, action: str) -> AuditEvent | None:
    with services.session_factory() as s:
        return s.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id.desc())).first()


def confirm(admin: Client, url: str, data: dict[str, Any]) -> Any:
    """Opens the confirmation page (as a person would), then posts it."""
    admin.get(url)
    return admin.post(url, data)


# ---- home and list ---------------------------------------------------------------------------------------------------

def test_home_counts_failed_and_overdue_and_links_into_the_list(as_user: Any, engine: WorkflowEngine,
                                                                services: Services, world: World, failed: int) -> None:
    second = engine.start(world.case_id, "runtime_demo", {"explode": False})
    engine.complete_task(task_of(services, second, "UT_register").id, {"concern": "y"})
    engine.clock.set(datetime(2026, 4, 14, 9, 0, tzinfo=UTC))  # the decision deadline (13 April) has passed
    engine.fire_due_timers()
    admin = as_user("admin")
    page = admin.page("/admin/")
    assert text_of(page.select_one("#count-failed")).startswith("1 failed instance")
    assert text_of(page.select_one("#count-overdue")).startswith("1 overdue deadline")
    assert page.select_one("#count-failed a")["href"] == "/admin/instances?status=failed"
    listed = admin.page("/admin/instances?status=failed")
    assert "1 instance." in text_of(listed.select_one("#instance-count"))
    assert [a.get_text(" ", strip=True).split()[0] for a in listed.select("tbody td:first-child a")] == [str(failed)]
    overdue = admin.page("/admin/instances?overdue=1")
    assert [a.get_text(" ", strip=True).split()[0] for a in overdue.select("tbody td:first-child a")] == [str(second)]
    assert text_of(overdue.select_one("#instance-order")) == "The longest overdue first."
    assert text_of(overdue.select_one("td[data-label=Overdue]")) == "2 since 13 Apr 2026"  # the missed deadline and its task
    assert admin.page("/admin/instances").select_one("#instance-order") is None
    # Another authority's admin sees none of it, and nobody else gets in.
    other = as_user("other_admin").page("/admin/")
    assert text_of(other.select_one("#count-failed")).startswith("0 failed")
    as_user("other_admin").get(f"/admin/instances/{failed}", status=404)
    as_user("manager").get("/admin/", status=403)
    assert "Admin" in text_of(admin.page("/tasks/").select_one("nav"))


def test_list_filters_by_route_status_and_age_and_pages(as_user: Any, engine: WorkflowEngine, services: Services,
                                                       world: World, running: int, web_route: str) -> None:
    for _ in range(26):
        engine.start(world.case_id, web_route)
    admin = as_user("admin")
    first = admin.page("/admin/instances")
    assert "Showing 1 to 25 of 27 instances." in text_of(first)
    second = admin.page("/admin/instances?page=2")
    assert "Showing 26 to 27 of 27 instances." in text_of(second)
    demo_only = admin.page("/admin/instances?route=runtime_demo")
    assert "1 instance." in text_of(demo_only.select_one("#instance-count"))
    status_option = admin.page("/admin/instances").select_one("#status option[value=waiting_person]")
    assert status_option.get_text(strip=True).endswith("(27)")
    assert "No instances match" in text_of(admin.page("/admin/instances?status=completed"))
    assert "No instances match" in text_of(admin.page("/admin/instances?age=30"))
    engine.clock.set(datetime(2026, 5, 1, 9, 0, tzinfo=UTC))
    admin = as_user("admin")  # the old session ended while the clock moved on
    assert "Showing 1 to 25 of 27" in text_of(admin.page("/admin/instances?age=30"))
    assert "1 instance." in text_of(admin.page("/admin/instances?age=30&route=runtime_demo&status=waiting_person"))


# ---- the instance page ---------------------------------------------------------------------------------------------

def test_instance_page_shows_the_failure_data_escaped_tasks_and_audit(as_user: Any, services: Services,
                                                                     world: World, failed: int) -> None:
    admin = as_user("admin")
    response = admin.get(f"/admin/instances/{failed}")
    page = admin.page(f"/admin/instances/{failed}")
    assert text_of(page.select_one("#failure-element")) == "ST_init"
    assert text_of(page.select_one("#failure-line")) == "2"
    assert "runtime_demo.bpmn" in text_of(page.select_one("#failure-file"))
    assert "ZeroDivisionError" in text_of(page.select_one("#failure-message")) \
        or "division" in text_of(page.select_one("#failure-message"))
    data = json.loads(page.select_one("#instance-data").get_text())
    assert data["explode"] is True
    assert "Register the request" in text_of(page.select_one("#where ~ table"))
    assert page.select_one(f"a[href='/cases/{world.case_id}']") is not None  # a link, not escaped markup
    assert "A step failed" in text_of(page.select_one("#audit ~ table"))
    diagram = admin.get(f"/admin/instances/{failed}/diagram.json").get_json()
    assert diagram["failed"] == ["ST_init"] and diagram["current"] == ["UT_register"]
    assert "runtime_demo" in diagram["diagrams"][0]["xml"]
    assert b"<script>alert" not in response.data


def test_typed_values_are_escaped_on_the_instance_page(as_user: Any, running: int) -> None:
    admin = as_user("admin")
    assert confirm(admin, f"/admin/instances/{running}/suspend",
                   {"reason": "<b>bold</b><script>alert(2)</script>"}).status_code == 302
    body = admin.get(f"/admin/instances/{running}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in body and "<script>alert(2)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body  # the instance data
    assert "&lt;b&gt;bold&lt;/b&gt;" in body  # the reason, in the audit trail
    listed = admin.get("/admin/instances").get_data(as_text=True)
    assert "<b>bold" not in listed


# ---- actions -------------------------------------------------------------------------------------------------------

def test_suspend_and_resume_with_reasons_and_refusals(as_user: Any, services: Services, world: World,
                                                      running: int) -> None:
    admin = as_user("admin")
    resume = admin.page(f"/admin/instances/{running}/resume")
    assert "not suspended, so there is nothing to resume" in text_of(resume.select_one("#refusal"))
    assert resume.select_one("#reason") is None  # refused: no form to confirm
    refused = admin.post(f"/admin/instances/{running}/resume", {"reason": "x"}, status=200)
    assert "nothing to resume" in refused.get_data(as_text=True) and status_of(services, running) == "waiting_person"
    missing = confirm(admin, f"/admin/instances/{running}/suspend", {"reason": ""})
    assert missing.status_code == 200 and "Enter the reason" in missing.get_data(as_text=True)
    assert status_of(services, running) == "waiting_person"
    done = confirm(admin, f"/admin/instances/{running}/suspend", {"reason": "family asked to pause"})
    assert done.status_code == 302 and status_of(services, running) == "suspended"
    event = last_event(services, "suspended")
    assert event is not None and event.actor_id == world.users["admin"].id and "family asked" in event.summary
    # While suspended, the repairs that move the route are refused with the reason why.
    assert "resume it first" in text_of(admin.page(f"/admin/instances/{running}/skip").select_one("#refusal"))
    done = confirm(admin, f"/admin/instances/{running}/resume", {"reason": "family ready"})
    assert done.status_code == 302 and status_of(services, running) == "waiting_person"
    assert last_event(services, "resumed").detail["reason"] == "family ready"


def test_terminate_needs_a_reason_then_ends_the_instance(as_user: Any, services: Services, running: int) -> None:
    admin = as_user("admin")
    missing = confirm(admin, f"/admin/instances/{running}/terminate", {"reason": "  "})
    assert "Enter the reason" in missing.get_data(as_text=True) and status_of(services, running) == "waiting_person"
    assert confirm(admin, f"/admin/instances/{running}/terminate",
                   {"reason": "opened on the wrong child"}).status_code == 302
    assert status_of(services, running) == "terminated"
    assert "already ended" in text_of(admin.page(f"/admin/instances/{running}/terminate").select_one("#refusal"))
    assert "opened on the wrong child" in last_event(services, "terminated").summary
    ended = admin.page(f"/admin/instances/{running}")
    assert json.loads(ended.select_one("#instance-data").get_text())["explode"] is False  # still readable
    assert ended.select_one("a[href$='/terminate']") is None and ended.select_one("a[href$='/skip']") is None


def test_retry_is_refused_unless_failed_and_runs_the_step_again(as_user: Any, engine: WorkflowEngine,
                                                                services: Services, world: World, running: int,
                                                                failed: int) -> None:
    admin = as_user("admin")
    assert "not failed" in text_of(admin.page(f"/admin/instances/{running}/retry").select_one("#refusal"))
    # Still failing: the retry fails again and says so; the instance stays failed.
    again = confirm(admin, f"/admin/instances/{failed}/retry", {"reason": "try again"})
    assert again.status_code == 200 and "Something went wrong" in again.get_data(as_text=True)
    assert status_of(services, failed) == "failed"
    # Fix the data (typed JSON that is wrong first: refused, and what was typed is kept), then retry.
    url = f"/admin/instances/{failed}/data"
    page = admin.page(url)
    current = json.loads(page.select_one("#data").get_text())
    bad = confirm(admin, url, {"data": '{"explode": fals', "reason": "fix the flag"})
    body = bad.get_data(as_text=True)
    assert bad.status_code == 200 and "not valid JSON" in body and "{&#34;explode&#34;: fals" in body
    good = json.dumps({**current, "explode": False})
    assert confirm(admin, url, {"data": good, "reason": "fix the flag"}).status_code == 302
    event = last_event(services, "data_edited")
    assert event.detail["old"] == {"explode": True} and event.detail["new"] == {"explode": False}
    assert status_of(services, failed) == "failed"
    assert confirm(admin, f"/admin/instances/{failed}/retry", {"reason": "data fixed"}).status_code == 302
    assert status_of(services, failed) == "waiting_person"
    with services.session_factory() as s:
        assert all(i.resolved_at is not None for i in s.scalars(select(Incident)))


def test_skip_a_step_and_move_back(as_user: Any, engine: WorkflowEngine, services: Services, world: World,
                                   running: int) -> None:
    admin = as_user("admin")
    register = open_task(services, world.case_id, "UT_register")
    skip_url = f"/admin/instances/{running}/skip"
    page = admin.page(skip_url)
    assert [i["value"] for i in page.select("input[name=choice]")] == [register.task_guid]
    no_choice = confirm(admin, skip_url, {"reason": "stuck"})
    assert "Select the step to skip" in no_choice.get_data(as_text=True)
    assert confirm(admin, skip_url, {"choice": register.task_guid, "reason": "done on paper"}).status_code == 302
    decide = open_task(services, world.case_id, "UT_decide")
    assert last_event(services, "step_skipped").detail["bpmn_id"] == "UT_register"
    back_url = f"/admin/instances/{running}/move-back"
    choices = [i["value"] for i in admin.page(back_url).select("input[name=choice]")]
    assert choices == [register.task_guid]
    stale = confirm(admin, back_url, {"choice": register.task_guid, "reason": "redo", "revision": "1"})
    assert "Someone else has changed" in stale.get_data(as_text=True)
    assert confirm(admin, back_url, {"choice": register.task_guid, "reason": "record it properly"}).status_code == 302
    with services.session_factory() as s:
        assert s.get(HumanTask, register.id).status == "open"
        assert s.get(HumanTask, decide.id).status == "cancelled"


def test_reassign_an_open_task(as_user: Any, services: Services, world: World, running: int) -> None:
    admin = as_user("admin")
    task = open_task(services, world.case_id, "UT_register")
    url = f"/admin/tasks/{task.id}/reassign"
    assert confirm(admin, url, {"choice": str(world.users["manager"].id), "reason": "x"}).status_code == 200
    assert confirm(admin, url, {"choice": str(world.users["caseworker"].id), "reason": "covering"}).status_code == 302
    with services.session_factory() as s:
        assert s.get(HumanTask, task.id).assignee_id == world.users["caseworker"].id
    assert last_event(services, "task_reassigned").detail["reason"] == "covering"
    as_user("other_admin").get(url, status=404)


def test_migrate_to_another_version_and_back_showing_refusals(as_user: Any, engine: WorkflowEngine,
                                                              services: Services, world: World, running: int) -> None:
    admin = as_user("admin")
    with services.session_factory() as s:
        v1 = s.get(ProcessInstance, running).process_version_id
    assert "no other version" in text_of(admin.page(f"/admin/instances/{running}/migrate").select_one("#refusal"))
    v2 = deploy_demo(engine, DEMO.replace('name="Register the request"', 'name="Register the request (new)"'))
    url = f"/admin/instances/{running}/migrate"
    page = admin.page(url)
    assert "Can move" in text_of(page.select_one("form[novalidate]"))
    assert confirm(admin, url, {"choice": str(v2), "reason": "new wording"}).status_code == 302
    with services.session_factory() as s:
        assert s.get(ProcessInstance, running).process_version_id == v2
    assert open_task(services, world.case_id, "UT_register").name == "Register the request (new)"
    assert confirm(admin, url, {"choice": str(v1), "reason": "back again"}).status_code == 302
    # Once the first task is done, a version that changes it cannot take the instance: the reason is shown.
    engine.complete_task(open_task(services, world.case_id, "UT_register").id, {"concern": "x"})
    refused = admin.page(url)
    assert "Cannot move: completed step Register the request" in text_of(refused.select_one("form[novalidate]"))
    response = admin.post(url, {"choice": str(v2), "reason": "try"})
    assert response.status_code == 200 and "cannot move to that version" in response.get_data(as_text=True)


def test_actions_need_the_csrf_token_and_an_admin_of_the_instances_authority(as_user: Any, services: Services,
                                                                            running: int) -> None:
    admin = as_user("admin")
    admin.get(f"/admin/instances/{running}/suspend")
    assert admin.post(f"/admin/instances/{running}/suspend", {"reason": "x"}, token=False).status_code == 400
    assert status_of(services, running) == "waiting_person"
    other = as_user("other_admin")
    other.get("/admin/")
    assert other.post(f"/admin/instances/{running}/suspend", {"reason": "x"}).status_code == 404
    assert as_user("caseworker").get(f"/admin/instances/{running}", status=None).status_code == 403
    assert status_of(services, running) == "waiting_person"


def test_an_unreadable_saved_state_still_shows_the_page(as_user: Any, services: Services, running: int) -> None:
    with services.session_factory() as s:
        instance = s.get(ProcessInstance, running)
        instance.state = "{not json"
        s.commit()
    page = as_user("admin").page(f"/admin/instances/{running}")
    assert "The saved state could not be read" in text_of(page.select_one("#data-error"))
    assert page.select_one("#audit") is not None
    for action in ("skip", "move-back", "data"):
        refused = as_user("admin").page(f"/admin/instances/{running}/{action}")
        assert "could not be read" in text_of(refused.select_one("#refusal")), action


def test_a_reason_too_long_is_refused_and_kept_not_cut_short(as_user: Any, services: Services, running: int) -> None:
    """A reason over the limit used to be cut to 2,000 characters without a word, and the action done."""
    admin = as_user("admin")
    reason = "the family asked for a pause " * 80 + "END"
    response = confirm(admin, f"/admin/instances/{running}/suspend", {"reason": reason})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "2,000 characters or fewer" in body
    assert BeautifulSoup(body, "html.parser").select_one("#reason").get_text() == reason
    assert status_of(services, running) == "waiting_person"


@pytest.mark.parametrize("action", ["suspend", "terminate"])
def test_a_form_opened_before_someone_else_changed_the_instance_is_refused(as_user: Any, engine: WorkflowEngine,
                                                                          services: Services, world: World,
                                                                          running: int, action: str) -> None:
    """Every action, not only the three workflow repairs: the admin decided on what the page showed them."""
    admin = as_user("admin")
    url = f"/admin/instances/{running}/{action}"
    revision = admin.page(url).select_one("input[name=revision]")["value"]
    engine.complete_task(task_of(services, running, "UT_register").id, {"concern": "x"}, world.users["caseworker"])
    stale = admin.post(url, {"revision": revision, "reason": "as I saw it"})
    body = stale.get_data(as_text=True)
    assert stale.status_code == 200 and "Someone else has changed this instance" in body
    assert "as I saw it" in body and status_of(services, running) == "waiting_person"
    # The page shown again is up to date: sending it again does it.
    fresh = BeautifulSoup(body, "html.parser").select_one("input[name=revision]")["value"]
    assert admin.post(url, {"revision": fresh, "reason": "as I saw it"}).status_code == 302


def test_forged_choices_are_refused_and_change_nothing(as_user: Any, engine: WorkflowEngine, services: Services,
                                                       world: World, running: int, web_route: str) -> None:
    """Ids an admin could type into the form instead of choosing: a step that is not waiting, a task that never ran,
    a version of another route, a person of another authority, another authority's task."""
    admin = as_user("admin")
    register = task_of(services, running, "UT_register")
    with services.session_factory() as s:
        other_route_version = s.scalars(select(ProcessVersion.id).where(ProcessVersion.process_id == web_route)).one()
        revision = s.get(ProcessInstance, running).revision
    other_instance = engine.start(world.other_case_id, "runtime_demo", {"explode": False})
    deploy_demo(engine, DEMO.replace('name="Register the request"', 'name="Register it"'))  # a version to offer
    other_task = task_of(services, other_instance, "UT_register")
    attempts = {
        f"/admin/instances/{running}/move-back": register.task_guid,  # open now: it never ran
        f"/admin/instances/{running}/skip": "not-a-guid",
        f"/admin/instances/{running}/migrate": str(other_route_version),
        f"/admin/tasks/{register.id}/reassign": str(world.users["other_caseworker"].id),
    }
    for url, choice in attempts.items():
        response = confirm(admin, url, {"choice": choice, "reason": "forged"})
        body = response.get_data(as_text=True)
        assert response.status_code == 200 and ("Select" in body or "cannot be gone back to" in body
                                                or "No earlier task" in body), url
    assert admin.post(f"/admin/tasks/{other_task.id}/reassign",
                      {"choice": str(world.users["other_caseworker"].id), "reason": "forged"}).status_code == 404
    with services.session_factory() as s:
        assert s.get(ProcessInstance, running).revision == revision
        assert s.get(HumanTask, register.id).assignee_id is None
        assert s.get(HumanTask, other_task.id).assignee_id is None
    assert last_event(services, "task_reassigned") is None


def test_a_page_shown_again_after_a_failed_action_carries_the_instance_as_it_is_now(as_user: Any,
                                                                                     services: Services,
                                                                                     failed: int) -> None:
    """A retry that fails again records the new failure (a new revision): the page shown with the error must not
    then refuse the next try as a stale form."""
    admin = as_user("admin")
    again = confirm(admin, f"/admin/instances/{failed}/retry", {"reason": "try again"})
    assert "Something went wrong" in again.get_data(as_text=True)
    shown = BeautifulSoup(again.get_data(as_text=True), "html.parser").select_one("input[name=revision]")["value"]
    with services.session_factory() as s:
        assert int(shown) == s.get(ProcessInstance, failed).revision


def test_element_names_from_the_bpmn_are_escaped_on_every_admin_page(as_user: Any, engine: WorkflowEngine,
                                                                     services: Services, world: World) -> None:
    """A process owner types the names in the modeler; an administrator's pages show them as text."""
    evil = "&lt;img src=x onerror=alert(7)&gt;"  # as written in the BPMN's XML: the name is <img ...>
    deploy_demo(engine, DEMO.replace('name="Register the request"', f'name="{evil}"'))
    iid = engine.start(world.case_id, "runtime_demo", {"explode": False}, world.users["caseworker"])
    task = task_of(services, iid, "UT_register")
    admin = as_user("admin")
    for url in (f"/admin/instances/{iid}", f"/admin/instances/{iid}/skip", f"/admin/tasks/{task.id}/reassign",
                "/admin/instances"):
        body = admin.get(url).get_data(as_text=True)
        assert "<img src=x" not in body, url
    assert confirm(admin, f"/admin/tasks/{task.id}/reassign",
                   {"choice": str(world.users["caseworker"].id), "reason": "cover"}).status_code == 302
    flashed = admin.get(f"/admin/instances/{iid}").get_data(as_text=True)
    assert "<img src=x" not in flashed and "&lt;img src=x" in flashed


def test_an_admin_elsewhere_who_is_a_caseworker_here_cannot_repair_here(app: Any, services: Services,
                                                                        world: World, running: int) -> None:
    """Administering one organisation gives nothing at another where one is only a caseworker."""
    from engine.people.roles import Role
    from engine.people.users import create_user
    from engine.store.models import Organisation
    from tests.conftest import PASSWORD

    with services.session_factory() as s:
        service = Organisation(name="Helper Service", kind="service")
        s.add(service)
        s.flush()
        create_user(s, "helper@test.example", "Helper", PASSWORD, services.engine.clock,
                    [(service, Role.ADMIN), (s.merge(world.la), Role.CASEWORKER)])
        s.commit()
    helper = Client(app)
    helper.sign_in("helper@test.example")
    assert not helper.page("/admin/instances").select("tbody tr")
    helper.get(f"/admin/instances/{running}", status=404)
    helper.get(f"/admin/instances/{running}/diagram.json", status=404)
    assert helper.post(f"/admin/instances/{running}/suspend", {"reason": "x"}).status_code == 404
    task = task_of(services, running, "UT_register")
    assert helper.post(f"/admin/tasks/{task.id}/reassign", {"reason": "x"}).status_code == 404
    assert status_of(services, running) == "waiting_person"


def test_an_action_refused_when_sent_keeps_the_reason_typed(as_user: Any, engine: WorkflowEngine,
                                                            services: Services, world: World, running: int) -> None:
    """Another administrator ended the instance while this one was typing: the action is refused, and the reason
    they typed is shown back rather than lost."""
    admin = as_user("admin")
    admin.get(f"/admin/instances/{running}/suspend")
    engine.terminate(running, world.users["admin"], "opened twice")
    reason = "The family asked to pause until the <b>tribunal</b> decides"
    page = BeautifulSoup(admin.post(f"/admin/instances/{running}/suspend", {"reason": reason}).get_data(as_text=True),
                         "html.parser")
    assert "cannot be suspended" in text_of(page.select_one("#refusal"))
    assert page.select_one("#typed-reason").get_text() == reason  # as text: escaped
