"""A plain or manual task (no form) on the task page: the lane's role marks it as done, through the usual command."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.runtime.workflow_engine import WorkflowEngine
from engine.store.models import HumanTask
from tests.conftest import World, deploy_files
from tests.web.conftest import open_task

OUTSIDE = Path(__file__).resolve().parent.parent / "fixtures" / "outside"
FORMS = Path(__file__).resolve().parent.parent / "fixtures" / "forms"


def start(engine: WorkflowEngine, world: World) -> int:
    deploy_files(engine, [OUTSIDE / "bpmnio_plain_and_manual_tasks.bpmn"], FORMS)
    return engine.start(world.case_id, "outside_plain_tasks")


def test_the_caseworker_marks_a_plain_task_as_done(as_user: Any, services: Any, engine: WorkflowEngine,
                                                   world: World) -> None:
    start(engine, world)
    task = open_task(services, world.case_id, "Activity_call")
    assert task.form is None and task.role == "la_caseworker"
    client = as_user("caseworker")

    page = client.page(f"/tasks/{task.id}")
    buttons = [b.get_text(strip=True) for b in page.select("form button.govuk-button")]
    assert buttons == ["Mark as done"]
    assert "Ring the parents to explain the next steps." in page.get_text()

    client.post(f"/tasks/{task.id}", {"_action": "submit"}, status=302)
    with services.session_factory() as s:
        done = s.get(HumanTask, task.id)
        assert done is not None and done.status == "completed"
        assert done.completed_by_id == world.users["caseworker"].id
    open_task(services, world.case_id, "Activity_post")  # the manual task comes next


def test_marking_as_done_needs_the_csrf_token_and_the_lanes_role(as_user: Any, services: Any,
                                                                 engine: WorkflowEngine, world: World) -> None:
    start(engine, world)
    task = open_task(services, world.case_id, "Activity_call")

    as_user("caseworker").post(f"/tasks/{task.id}", {"_action": "submit"}, token=False, status=400)
    assert as_user("school").post(f"/tasks/{task.id}", {"_action": "submit"}).status_code in (403, 404)
    assert as_user("parent").post(f"/tasks/{task.id}", {"_action": "submit"}).status_code == 404
    with services.session_factory() as s:
        assert s.get(HumanTask, task.id).status == "open"  # type: ignore[union-attr]
