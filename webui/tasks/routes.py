"""Task lists ("My tasks", "Team tasks"), and claiming, releasing and reassigning tasks."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from engine.errors import InvalidState, NotAllowed, NotFound, TaskAlreadyCompleted
from engine.lists.names import route_names
from engine.lists.tasks import (
    TASK_SORTS,
    TASK_STATUSES,
    AfterTask,
    NextStep,
    TaskFilters,
    after_task,
    reassign_candidates,
    task_list,
)
from engine.people.access import can_act_on_task
from engine.people.roles import Role
from engine.store.models import Case, HumanTask, Organisation
from webui.access import staff
from webui.context import db, engine, today
from webui.numbers import cursor, page_number, whole_number
from webui.security import safe_next
from webui.tasks.blueprint import bp

DUE_FILTERS: dict[str, str] = {
    "today": "Due today",
    "7": "Due in the next 7 days",
    "14": "Due in the next 14 days",
    "30": "Due in the next 30 days",
    "later": "Due in more than 30 days",
}
#: The session key under which the task page leaves the task just sent, for the list to say what happens next.
DONE_KEY = "task_done"


def _filters(view: str) -> tuple[TaskFilters, dict[str, str]]:
    args = request.args
    chosen = {
        "route": (args.get("route") or "").strip()[:100],
        "status": args.get("status") if args.get("status") in TASK_STATUSES else "",
        "due": args.get("due") if args.get("due") in DUE_FILTERS else "",
        "q": " ".join((args.get("q") or "").split())[:100],
        "sort": args.get("sort") if args.get("sort") in TASK_SORTS else "due",
        "order": "desc" if args.get("order") == "desc" else "asc",
    }
    page = args.get("page", "1")
    filters = TaskFilters(view=view, route=chosen["route"] or None, status=chosen["status"] or None,
                          q=chosen["q"] or None, sort=chosen["sort"], descending=chosen["order"] == "desc",
                          page=min(page_number(page), 100_000), after=cursor(args.get("after")),
                          before=cursor(args.get("before")))
    day = today()
    if chosen["due"] == "today":
        filters.due_from = filters.due_to = day
    elif chosen["due"] in ("7", "14", "30"):
        filters.due_from, filters.due_to = day, day + timedelta(days=int(chosen["due"]))
    elif chosen["due"] == "later":
        filters.due_from = day + timedelta(days=31)
    return filters, chosen


def _list_page(view: str) -> ResponseReturnValue:
    filters, chosen = _filters(view)
    filters.per_page = current_app.config["TASKS_PER_PAGE"]
    page = task_list(db(), current_user.id, filters, today())
    if page.total and filters.page > page.pages and not page.beyond:
        return redirect(_url(view, chosen, page=page.pages))
    return render_template("tasks/list.html", view=view, page=page, chosen=chosen, routes=route_names(db()),
                           after=_just_done(), who_has=who_has,
                           statuses=TASK_STATUSES, dues=DUE_FILTERS, sorts=TASK_SORTS, today=today(),
                           url_for_list=lambda **changes: _url(view, chosen, **changes),
                           filtered=any(chosen[k] for k in ("route", "status", "due", "q")),
                           is_manager=any(role == Role.MANAGER.value for _, role in current_user.holder.roles))


def _just_done() -> AfterTask | None:
    """The task this person has just sent (said once): what happens next, for the confirmation."""
    task_id = session.pop(DONE_KEY, None)
    if not isinstance(task_id, int):
        return None
    after = after_task(db(), task_id)
    return after if after is not None and after.task.completed_by_id == current_user.id else None


def who_has(step: NextStep) -> str:
    """"School or setting, Test Primary School (assigned to Sam Lee)": who has a next step."""
    label = Role(step.role).label if step.role in Role._value2member_map_ else (step.role or "Someone")
    text = f"{label}, {step.organisation_name}" if step.organisation_name else label
    return f"{text} (assigned to {step.assignee_name})" if step.assignee_name else text


def _url(view: str, chosen: dict[str, str], **changes: Any) -> str:
    params = {k: v for k, v in {**chosen, **changes}.items() if v not in ("", None)}
    if params.get("sort") == "due" and params.get("order") == "asc":
        params.pop("sort")
        params.pop("order")
    if params.get("page") in (1, "1"):
        params.pop("page")
    return url_for("tasks.my_tasks" if view == "mine" else "tasks.team_tasks", **params)


@bp.get("/")
@staff
def my_tasks() -> ResponseReturnValue:
    """Tasks assigned to you, and tasks waiting for someone with your role to take them."""
    return _list_page("mine")


@bp.get("/team")
@staff
def team_tasks() -> ResponseReturnValue:
    """Every open task for your roles in your organisation (and, for a manager, every task of the team)."""
    return _list_page("team")


def _back(default: str) -> str:
    return safe_next(request.form.get("next")) or default


@bp.post("/<int:task_id>/claim")
@staff
def claim(task_id: int) -> ResponseReturnValue:
    """Take an unassigned task."""
    task = _open_task_or_404(task_id)
    if not can_act_on_task(db(), current_user.record, task):
        if task.assignee_id is not None and (task.organisation_id, task.role) in current_user.holder.roles:
            flash("Someone else has already taken this task.", "error")  # two people clicked at the same time
            return redirect(_back(url_for("tasks.my_tasks")))
        abort(403)
    try:
        engine().claim(task.id, current_user.record)
    except (NotAllowed, InvalidState, TaskAlreadyCompleted, NotFound) as exc:
        flash(str(exc), "error")
        return redirect(_back(url_for("tasks.my_tasks")))
    flash(f"You have taken the task: {task.name}", "success")
    return redirect(_back(url_for("tasks.my_tasks")))


@bp.post("/<int:task_id>/release")
@staff
def release(task_id: int) -> ResponseReturnValue:
    """Give a task back to the team."""
    task = _open_task_or_404(task_id)
    if task.assignee_id != current_user.id and not can_act_on_task(db(), current_user.record, task):
        abort(403)
    try:
        engine().release(task.id, current_user.record)
    except (NotAllowed, InvalidState, TaskAlreadyCompleted, NotFound) as exc:
        flash(str(exc), "error")
        return redirect(_back(url_for("tasks.my_tasks")))
    flash(f"You have released the task: {task.name}. Anyone in your team can take it now.", "success")
    return redirect(_back(url_for("tasks.my_tasks")))


def _open_task_or_404(task_id: int) -> HumanTask:
    """An open task the user could act on or manage; anything else is not found (ids cannot be probed)."""
    task = db().get(HumanTask, task_id)
    if task is None or task.status != "open":
        abort(404)
    who = current_user.holder
    if (task.organisation_id, task.role) not in who.roles and not who.manages(task.organisation_id) \
            and not who.administers(task.organisation_id) and task.assignee_id != current_user.id:
        abort(404)
    return task


@bp.route("/<int:task_id>/reassign", methods=["GET", "POST"])
@staff
def reassign(task_id: int) -> ResponseReturnValue:
    """A manager (or the organisation's administrator) gives a task to someone with its role."""
    task = _open_task_or_404(task_id)
    who = current_user.holder
    if task.role == Role.FAMILY.value or not (who.manages(task.organisation_id) or who.administers(task.organisation_id)):
        abort(403)
    candidates = reassign_candidates(db(), task)
    errors: dict[str, str] = {}
    if request.method == "POST":
        chosen = whole_number(request.form.get("user_id"))
        if chosen is None or chosen not in {u.id for u in candidates}:
            errors["user_id"] = "Select who should do this task"
        else:
            try:
                engine().reassign(task.id, chosen, current_user.record)
            except (NotAllowed, NotFound, TaskAlreadyCompleted) as exc:
                errors["user_id"] = str(exc)
            else:
                person = next(u for u in candidates if u.id == int(chosen))
                flash(f"The task {task.name} is now assigned to {person.name}.", "success")
                return redirect(_back(url_for("tasks.team_tasks")))
    case = db().get(Case, task.case_id)
    organisation = db().get(Organisation, task.organisation_id) if task.organisation_id else None
    role_label = Role(task.role).label if task.role in Role._value2member_map_ else (task.role or "")
    return render_template("tasks/reassign.html", task=task, case=case, candidates=candidates, errors=errors,
                           organisation=organisation, role_label=role_label,
                           next_url=safe_next(request.values.get("next")) or "")

