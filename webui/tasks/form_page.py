"""The task page: a task's form drawn from its JSON Schema, saved as a draft, or submitted to the engine."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, send_file, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import bindparam, select

from engine.errors import (
    ConcurrentUpdate,
    FormInvalid,
    InstanceFailed,
    InvalidState,
    NotAllowed,
    NotFound,
    TaskAlreadyCompleted,
)
from engine.library.forms import validate_form
from engine.lists.cases import staff_can_see_case
from engine.lists.clock import assessment_clock
from engine.lists.names import route_name
from engine.lists.tasks import TASK_STATUSES, task_status
from engine.people.access import can_act_on_task, may_see_task_answers
from engine.people.roles import Role
from engine.store.models import Case, HumanTask, ProcessInstance, User
from webui import uploads
from webui.access import signed_in
from webui.context import db, engine, now, today
from webui.forms import options as form_options
from webui.forms.build import build_form
from webui.forms.conversion import from_raw, to_raw
from webui.forms.fields import kind_of
from webui.forms.raw_values import RawValues, add_item, clean_raw, remove_item, schema_at
from webui.forms.summary import summarise
from webui.tasks.blueprint import bp
from webui.tasks.routes import DONE_KEY

EMPTY_FORM: dict[str, Any] = {"type": "object", "properties": {}}
ROUTE_STOPPED = ("Route stopped: an administrator has been told. This task cannot be sent until the route is "
                 "repaired; come back to it then.")


#: A task with its case and its instance (task_id): what every task page reads first, in one statement.
_TASK_CASE_INSTANCE = select(HumanTask, Case, ProcessInstance).join(Case, Case.id == HumanTask.case_id).join(
    ProcessInstance, ProcessInstance.id == HumanTask.instance_id).where(HumanTask.id == bindparam("task_id"))


def _task_or_404(task_id: int) -> tuple[HumanTask, Case, ProcessInstance]:
    """The task, its case and its instance, if the user may know the task exists: staff who can see its case, or the
    family for their own tasks.

    Staff see a family task (read-only unless they can act on it); a family member never sees a staff task."""
    found = db().execute(_TASK_CASE_INSTANCE, {"task_id": task_id}).first()
    if found is None:
        abort(404)
    task, case, instance = found
    user = current_user
    if user.is_staff and staff_can_see_case(db(), user.holder, case):
        return task, case, instance
    if task.role == Role.FAMILY.value and task.case_id in user.family_cases():
        return task, case, instance
    abort(404)


def _uploads_dir() -> Path:
    return uploads.folder(current_app.instance_path)


def _page_context(task: HumanTask, case: Case) -> dict[str, Any]:
    instance = db().get(ProcessInstance, task.instance_id)
    assert instance is not None
    assignee = db().get(User, task.assignee_id) if task.assignee_id else None
    family_view = task.role == Role.FAMILY.value and task.case_id in current_user.family_cases()
    back = url_for("family.case", case_id=case.id) if family_view else url_for("tasks.my_tasks")
    status = task_status(db(), task, today()) if task.status == "open" else None
    return {
        # The route stopped on an error: the task cannot be sent until an administrator repairs it; say so first.
        "route_failed": task.status == "open" and instance.status == "failed",
        # Staff see where the case is in its 20 weeks beside the work (the family's page stays plain).
        "clock": None if family_view else assessment_clock(db(), case.id, today()),
        "task": task, "case": case, "route_name": route_name(db(), instance.process_id),
        "assignee": assignee, "family_view": family_view, "back_url": back, "status": status,
        "status_label": TASK_STATUSES.get(status or "", ""),
    }


@bp.route("/<int:task_id>", methods=["GET", "POST"])
@signed_in
def task_page(task_id: int) -> ResponseReturnValue:
    """Fill in and submit a task's form, save it as a draft, or see a task that is done."""
    # The instance is held for the whole request: the page's context reads it again from the session's identity map,
    # which keeps only the objects someone still refers to.
    task, case, instance = _task_or_404(task_id)
    if task.status != "open":
        if not may_see_task_answers(db(), current_user.record, case, task):
            abort(403)  # need to know: another organisation's answers (advice the family did not agree to share)
        # A post here lost a race (two people sent the same task): it says so, with what was saved instead.
        return _done_page(task, case, not_saved=request.method == "POST")
    if not can_act_on_task(db(), current_user.record, task):
        return render_template("tasks/not_yours.html", **_page_context(task, case)), 403
    schema = engine().form_schema(db(), task, instance) or EMPTY_FORM
    if request.method == "GET":
        draft = task.draft_data or {}
        raw = draft.get("raw") if isinstance(draft.get("raw"), dict) else to_raw(schema, {})
        return _render(task, case, schema, raw, {}, draft_saved_at=draft.get("saved_at"))
    if instance.status == "failed":
        # The page showed the form disabled; answers sent from an older page are kept on it, not sent.
        return _render(task, case, schema, clean_raw(schema, request.form.lists()), {}, problem=ROUTE_STOPPED)
    return _post(task, case, schema)


def _post(task: HumanTask, case: Case, schema: dict[str, Any]) -> ResponseReturnValue:
    raw = clean_raw(schema, request.form.lists())
    errors = _take_uploads(schema, task, case, raw)
    action = request.form.get("_action", "submit")
    if action.startswith("add:") and _is_repeat(schema, action[4:]):
        raw, index = add_item(raw, action[4:])
        return _render(task, case, schema, raw, errors, focus=f"{action[4:]}[{index}]")
    if action.startswith("remove:"):
        match = re.fullmatch(r"(.+)\[(\d+)\]", action[len("remove:"):])
        if match and _is_repeat(schema, match.group(1)):
            raw = remove_item(raw, match.group(1), int(match.group(2)))
        return _render(task, case, schema, raw, errors)
    if action.startswith("remove-file:"):
        name, _, token = action[len("remove-file:"):].partition("|")
        if token and name in raw:
            raw[name] = [t for t in raw[name] if t != token]
        else:
            raw.pop(name, None)
        return _render(task, case, schema, raw, errors)
    if action == "draft":
        try:
            engine().save_draft(task.id, {"raw": raw, "saved_at": now().isoformat()}, current_user.record)
        except TaskAlreadyCompleted as exc:
            return _lost(task, case, schema, raw, exc)
        except (NotAllowed, NotFound) as exc:
            flash(str(exc), "error")
            return redirect(_after_url(task, case))
        flash("Your answers have been saved as a draft. You can come back to this task and carry on later.", "success")
        return redirect(url_for("tasks.task_page", task_id=task.id))
    return _submit(task, case, schema, raw, errors)


def _submit(task: HumanTask, case: Case, schema: dict[str, Any], raw: RawValues,
            errors: dict[str, str]) -> ResponseReturnValue:
    converted = from_raw(schema, raw)
    errors = {**converted.errors, **errors}
    try:
        validate_form(schema, converted.data)
    except FormInvalid as exc:
        for key, message in exc.errors.items():
            errors.setdefault(key, message)
    if errors:
        return _render(task, case, schema, raw, errors)
    try:
        # No expected revision: parallel tasks of one route (advice from health, social care, the EP) each move the
        # instance on, and the engine already refuses a task that someone else has completed.
        engine().complete_task(task.id, converted.data, current_user.record)
    except FormInvalid as exc:
        return _render(task, case, schema, raw, exc.errors)
    except TaskAlreadyCompleted as exc:
        return _lost(task, case, schema, raw, exc)
    except NotAllowed:
        abort(403)
    except (ConcurrentUpdate, InstanceFailed, InvalidState) as exc:
        return _render(task, case, schema, raw, {}, problem=str(exc))
    if task.role == Role.FAMILY.value and task.case_id in current_user.family_cases():
        flash(f"Done: {task.name}. Thank you.", "success")
    else:
        session[DONE_KEY] = task.id  # the task list confirms it, saying who has the next step and by when
    return redirect(_after_url(task, case))


def _lost(task: HumanTask, case: Case, schema: dict[str, Any], raw: RawValues,
          exc: TaskAlreadyCompleted) -> ResponseReturnValue:
    """Someone else completed the task while this person filled it in: the done page, saying their answers were not
    saved. The task was read before the other person's commit, so it is read again to say who did it and when."""
    db().refresh(task)
    if task.status != "open":
        return _done_page(task, case, not_saved=True)
    return _render(task, case, schema, raw, {}, problem=str(exc))  # refused, but the task is open: try again


def _after_url(task: HumanTask, case: Case) -> str:
    if task.role == Role.FAMILY.value and task.case_id in current_user.family_cases():
        return url_for("family.case", case_id=case.id)
    return url_for("tasks.my_tasks")


def _is_repeat(schema: dict[str, Any], path: str) -> bool:
    sub = schema_at(schema, path)
    return sub is not None and kind_of(sub) == "repeat"


def _take_uploads(schema: dict[str, Any], task: HumanTask, case: Case, raw: RawValues) -> dict[str, str]:
    """Stores the files chosen with this post, and drops tokens that are not this task's files."""
    errors: dict[str, str] = {}
    base = _uploads_dir()
    for name, values in list(raw.items()):
        kind = _file_kind(schema, name)
        if kind is None:
            continue
        kept = [token for token in values if _belongs(base, token, task, case)]
        if kept:
            raw[name] = kept if kind == "files" else kept[:1]
        else:
            raw.pop(name)
    cfg = current_app.config
    for name in request.files:
        kind = _file_kind(schema, name)
        if kind is None:
            continue
        sub = schema_at(schema, name) or {}
        extensions = tuple(sub.get("x-accept") or cfg["UPLOAD_EXTENSIONS"])
        max_bytes = min(int(sub.get("x-max-bytes") or cfg["UPLOAD_MAX_BYTES"]), cfg["UPLOAD_MAX_BYTES"])
        for chosen in request.files.getlist(name):
            if not chosen.filename:
                continue
            try:
                stored = uploads.store(chosen, base, extensions=extensions, max_bytes=max_bytes,
                                       scanner=uploads.scanner_for(cfg), case_id=case.id, task_id=task.id,
                                       user_id=current_user.id, now=now())
            except uploads.UploadRejected as exc:
                errors[name] = f"{chosen.filename}: {exc}" if kind == "files" else str(exc)
                if kind == "file":
                    raw.pop(name, None)
                continue
            raw[name] = [*raw.get(name, []), stored.token] if kind == "files" else [stored.token]
    return errors


def _file_kind(schema: dict[str, Any], name: str) -> str | None:
    sub = schema_at(schema, name)
    kind = kind_of(sub) if sub is not None else None
    return kind if kind in ("file", "files") else None


def _belongs(base: Path, token: str, task: HumanTask, case: Case) -> bool:
    upload = uploads.load(base, token)
    return upload is not None and upload.task_id == task.id and upload.case_id == case.id


def _render(task: HumanTask, case: Case, schema: dict[str, Any], raw: RawValues, errors: dict[str, str],
            focus: str | None = None, problem: str | None = None, draft_saved_at: str | None = None) -> str:
    base = _uploads_dir()
    form = build_form(schema, raw, errors, form_options.provider(db()),
                      uploads=lambda token: uploads.load(base, token), focus=focus)
    return render_template("tasks/task.html", schema=schema, form=form, errors=form.error_list, problem=problem,
                           draft_saved_at=draft_saved_at, **_page_context(task, case))


def rescue_draft(user_id: int | None, task_id: int | None) -> bool:
    """Keeps what was typed when the session ended while the form was being filled in: the answers become the
    task's draft (never a submission), for the same person, who may still act on the task. Called for a POST whose
    CSRF token was valid for the session that has just ended."""
    if user_id is None or task_id is None:
        return False
    user = db().get(User, user_id)
    task = db().get(HumanTask, task_id)
    if user is None or task is None or task.status != "open" or not can_act_on_task(db(), user, task):
        return False
    schema = engine().form_schema(db(), task) or EMPTY_FORM
    raw = clean_raw(schema, request.form.lists())
    if not raw:
        return False
    try:
        engine().save_draft(task.id, {"raw": raw, "saved_at": now().isoformat()}, user)
    except (NotAllowed, TaskAlreadyCompleted, NotFound):
        return False
    return True


def _done_page(task: HumanTask, case: Case, not_saved: bool = False) -> ResponseReturnValue:
    """A task that is done (or no longer needed). ``not_saved``: this request sent answers for it, which were not
    saved; the page says so, with the 409 status (the post conflicted with the task's state)."""
    schema = engine().form_schema(db(), task) or EMPTY_FORM
    completed_by = db().get(User, task.completed_by_id) if task.completed_by_id else None
    rows = summarise(schema, task.submitted_data or {}, form_options.provider(db()))
    page = render_template("tasks/done.html", rows=rows, completed_by=completed_by, not_saved=not_saved,
                           **_page_context(task, case))
    return (page, 409) if not_saved else page


@bp.get("/<int:task_id>/files/<string:token>")
@signed_in
def task_file(task_id: int, token: str) -> ResponseReturnValue:
    """Download a file uploaded with this task (to check it before submitting)."""
    task, case, _ = _task_or_404(task_id)
    if not may_see_task_answers(db(), current_user.record, case, task):
        abort(403)
    upload = uploads.load(_uploads_dir(), token)
    if upload is None or upload.task_id != task.id or upload.case_id != case.id:
        abort(404)
    return send_file(uploads.path_of(_uploads_dir(), upload), mimetype=upload.content_type, as_attachment=True,
                     download_name=upload.filename, max_age=0)
