"""Tasks: the token's list, one task, and completing it with the same checks as the task page
(webui/tasks/form_page.py): who may see and act on it, then the form's JSON Schema (engine/library/forms.py), then
the engine's command, which checks both again."""

from __future__ import annotations

from typing import Any

from flask.typing import ResponseReturnValue

import webui.api.schemas as schemas
from engine.library.forms import validate_form
from engine.lists.cases import staff_can_see_case
from engine.lists.tasks import TaskFilters, task_list
from engine.people.access import can_act_on_task, may_see_task_answers
from engine.store.models import Case, HumanTask, ProcessInstance
from webui.api.auth import operation, user, who
from webui.api.blueprint import bp
from webui.api.common import command_problems, engine_page, one
from webui.api.problems import ApiProblem
from webui.api.schemas import load_body, load_query
from webui.context import db, engine, today
from webui.tasks.form_page import EMPTY_FORM, ROUTE_STOPPED


@bp.get("/tasks")
@operation("read", "The open tasks of the token", "tasks", response=schemas.TaskRow, paged=True,
           query=schemas.TaskListArgs, errors=(400, 401, 429),
           description="As “My tasks” (view=mine) and “Team tasks” (view=team) on the web, most urgent first.")
def tasks() -> ResponseReturnValue:
    args = load_query(schemas.TaskListArgs)
    filters = TaskFilters(view=args["view"], route=args["route"] or None, q=" ".join(args["q"].split()) or None,
                          page=args["page"], per_page=args["limit"], after=args["after"])
    found = task_list(db(), user().id, filters, today())
    return engine_page(schemas.TaskRow, found)


def _task_or_404(task_id: int) -> tuple[HumanTask, Case]:
    """A task on a case the token may see (tokens are staff: a family member's own route never opens to them)."""
    task = db().get(HumanTask, task_id)
    case = db().get(Case, task.case_id) if task is not None else None
    if task is None or case is None or not staff_can_see_case(db(), who(), case):
        raise ApiProblem(404, "There is no task with this id that this token may see.")
    return task, case


def _readable(task: HumanTask, case: Case) -> None:
    """An open task: only whoever may act on it (the web shows others "not yours"); a done one: its answers are
    need to know."""
    if task.status == "open" and not can_act_on_task(db(), user(), task):
        raise ApiProblem(403, "This task is for another role or person.")
    if task.status != "open" and not may_see_task_answers(db(), user(), case, task):
        raise ApiProblem(403, "This task's answers are another organisation's (need to know).")


def _task(task: HumanTask) -> dict[str, Any]:
    instance = db().get(ProcessInstance, task.instance_id)
    fields = ("id", "name", "detail", "case_id", "instance_id", "status", "role", "organisation_id", "due_date",
              "created_at", "completed_at")
    return {**{k: getattr(task, k) for k in fields}, "route_id": instance.process_id if instance else task.process_id,
            "form": engine().form_schema(db(), task) or EMPTY_FORM,
            "answers": task.submitted_data if task.status != "open" else None}


@bp.get("/tasks/<int:task_id>")
@operation("read", "One task, with its form's JSON Schema (and its answers once done)", "tasks",
           response=schemas.Task, errors=(401, 403, 404, 429))
def task(task_id: int) -> ResponseReturnValue:
    found, case = _task_or_404(task_id)
    _readable(found, case)
    return one(schemas.Task, _task(found))


@bp.post("/tasks/<int:task_id>/complete")
@operation("write", "Complete a task with its answers", "tasks", body=schemas.TaskCompletion,
           response=schemas.Task, errors=(400, 401, 403, 404, 409, 415, 422, 429),
           description="The answers are checked against the task's form exactly as the web form's are (422 with the "
                       "errors by field); 409 when the task is already done or its route has stopped.")
def complete(task_id: int) -> ResponseReturnValue:
    found, case = _task_or_404(task_id)
    if found.status != "open":
        raise ApiProblem(409, "This task is already done.")
    if not can_act_on_task(db(), user(), found):
        raise ApiProblem(403, "This task is for another role or person.")
    data = load_body(schemas.TaskCompletion)["data"]
    instance = db().get(ProcessInstance, found.instance_id)
    if instance is not None and instance.status == "failed":
        raise ApiProblem(409, ROUTE_STOPPED)
    schema = engine().form_schema(db(), found) or EMPTY_FORM
    with command_problems("The answers do not meet the task's form."):
        validate_form(schema, data)
        engine().complete_task(found.id, data, user())
    db().expire_all()
    done = db().get(HumanTask, found.id)
    assert done is not None
    return one(schemas.Task, _task(done))
