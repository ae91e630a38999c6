"""The repair actions on an instance. Each is a confirmation page (GET) and the action itself (POST), needs a
reason, is refused with a clear message when it makes no sense, and goes through the engine, which checks again."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from engine.admin import instance_repair as repair
from engine.admin.instance_admin import INSTANCE_STATUSES, LIVE_STATUSES, other_versions
from engine.admin.instance_migration import MigrationCheck
from engine.admin.stored_state import repair_stored_data, stored_view
from engine.errors import EngineError, FormInvalid
from engine.lists.tasks import reassign_candidates
from engine.people.roles import Role
from engine.store.models import Case, HumanTask, ProcessInstance
from webui.access import staff
from webui.admin.common import admin_orgs, bp, error_list, form_int, form_reason, form_text
from webui.admin.instances import instance_or_404, pretty_json
from webui.context import db, engine

Choice = dict[str, Any]  # {"value", "text", "hint"}

STALE = "Someone else has changed this instance since you opened this page. Check what it shows now and try again."


def _status_words(instance: ProcessInstance) -> str:
    return INSTANCE_STATUSES.get(instance.status, instance.status).lower()


def _confirm(instance: ProcessInstance, endpoint: str, *, heading: str, intro: list[str], button: str,
             refusal: str | None, perform: Callable[[dict[str, str]], str], choices: list[Choice] | None = None,
             choice_label: str = "", data_field: bool = False, initial_data: str = "", danger: bool = False,
             warning: str | None = None, url_values: dict[str, Any] | None = None) -> ResponseReturnValue:
    url_values = url_values or {"instance_id": instance.id}
    values = {"reason": "", "choice": "", "data": initial_data}
    errors: dict[str, str] = {}
    if request.method == "POST" and refusal is not None:
        values["reason"] = form_reason()[0]  # shown back with the refusal: the instance changed while it was typed
    if request.method == "POST" and refusal is None:
        reason, reason_error = form_reason()
        values = {"reason": reason, "choice": form_text("choice", 100),
                  "data": (request.form.get("data") or "") if data_field else ""}
        if choices is not None and values["choice"] not in {str(c["value"]) for c in choices}:
            errors["choice"] = f"Select {choice_label.lower()}"
        if reason_error:
            errors["reason"] = reason_error
        revision = _revision()
        if not errors and revision is not None and revision != instance.revision:
            # The admin decided on what the page showed them. The page shown again is up to date, so sending it
            # again is the "reload and try again"; the three workflow repairs check again in their transaction.
            errors["form"] = STALE
        if not errors:
            try:
                message = perform(values)
            except FormInvalid as exc:
                errors.update(exc.errors)
            except EngineError as exc:
                errors["form"] = str(exc)
                # A failed retry records the new failure: show (and carry in the form) the instance as it is now.
                db().refresh(instance)
            else:
                flash(message, "success")
                return redirect(url_for("admin.instance", instance_id=instance.id))
    case = db().get(Case, instance.case_id)
    return render_template("admin/confirm.html", instance=instance, case=case, heading=heading, intro=intro,
                           button=button, refusal=refusal, choices=choices, choice_label=choice_label,
                           data_field=data_field, values=values, errors=errors, danger=danger, warning=warning,
                           error_items=error_list(errors, {"form": "#reason", "choice": "#choice"}),
                           action_url=url_for(endpoint, **url_values), status=_status_words(instance))


def _revision() -> int | None:
    return form_int("revision")


def _actor() -> Any:
    return current_user.record


@bp.route("/instances/<int:instance_id>/suspend", methods=["GET", "POST"])
@staff
def suspend(instance_id: int) -> ResponseReturnValue:
    """Pause an instance: nothing moves on (no tasks can be done, no timers fire) until it is resumed."""
    item = instance_or_404(instance_id)
    refusal = None if item.status in ("running", "waiting_person", "waiting_timer", "failed") else \
        f"This instance is {_status_words(item)}, so it cannot be suspended."

    def perform(v: dict[str, str]) -> str:
        repair.suspend(engine(), item.id, _actor(), v["reason"])
        return "The instance is suspended. Nothing on it moves on until it is resumed."

    return _confirm(item, "admin.suspend", heading="Suspend this instance", button="Suspend the instance",
                    intro=["Nobody can complete its tasks and its timers do not fire until it is resumed. "
                           "Timers that fall due meanwhile fire when it is resumed."],
                    refusal=refusal, perform=perform)


@bp.route("/instances/<int:instance_id>/resume", methods=["GET", "POST"])
@staff
def resume(instance_id: int) -> ResponseReturnValue:
    """Carry on with a suspended instance."""
    item = instance_or_404(instance_id)
    refusal = None if item.status == "suspended" else \
        f"This instance is {_status_words(item)}, not suspended, so there is nothing to resume."

    def perform(v: dict[str, str]) -> str:
        repair.resume(engine(), item.id, _actor(), v["reason"])
        return "The instance has been resumed."

    return _confirm(item, "admin.resume", heading="Resume this instance", button="Resume the instance",
                    intro=["Its tasks can be done again and its timers fire, including any that fell due while it "
                           "was suspended."], refusal=refusal, perform=perform)


@bp.route("/instances/<int:instance_id>/terminate", methods=["GET", "POST"])
@staff
def terminate(instance_id: int) -> ResponseReturnValue:
    """End an instance for good: its open tasks are cancelled."""
    item = instance_or_404(instance_id)
    refusal = None if item.status in LIVE_STATUSES else f"This instance has already ended ({_status_words(item)})."

    def perform(v: dict[str, str]) -> str:
        repair.terminate(engine(), item.id, _actor(), v["reason"])
        return "The instance has been ended."

    return _confirm(item, "admin.terminate", heading="End this instance", button="End the instance", danger=True,
                    intro=["Its open tasks are cancelled and it never moves on again. This cannot be undone: to "
                           "carry on later, start the route again on the case."],
                    warning="Ending an instance cannot be undone.", refusal=refusal, perform=perform)


@bp.route("/instances/<int:instance_id>/retry", methods=["GET", "POST"])
@staff
def retry(instance_id: int) -> ResponseReturnValue:
    """Run the failed step of a failed instance again, as the person who first gave it."""
    item = instance_or_404(instance_id)
    refusal = None if item.status == "failed" else \
        f"This instance is {_status_words(item)}, not failed, so there is no failed step to retry."
    error = item.last_error or {}

    def perform(v: dict[str, str]) -> str:
        repair.retry(engine(), item.id, _actor(), v["reason"])
        return "The failed step ran again and the instance has moved on."

    intro = ["The step that failed runs again, as the person who first gave it. Fix the cause first (for example "
             "the instance data, or deploy a corrected version and migrate the instance)."]
    if error.get("message"):
        intro.append(f"It failed at {error.get('element_id') or 'an unknown element'}: {error['message']}")
    return _confirm(item, "admin.retry", heading="Retry the failed step", button="Retry the step", intro=intro,
                    refusal=refusal, perform=perform)


def _not_movable(item: ProcessInstance) -> str | None:
    """Why the repairs that move the route on (skip, move back, change the data) cannot run now, if they cannot."""
    if item.status not in LIVE_STATUSES:
        return f"This instance has already ended ({_status_words(item)}); it can no longer change."
    if item.status == "suspended":
        return "This instance is suspended: resume it first."
    return None


def _steps_or_refusal(item: ProcessInstance, load: Callable[[Any, int], list[repair.Step]],
                      none_message: str) -> tuple[list[repair.Step], str | None]:
    refusal = _not_movable(item)
    if refusal:
        return [], refusal
    try:
        steps = load(engine(), item.id)
    except Exception as exc:  # noqa: BLE001 - a broken saved state: say so instead of failing the page
        return [], unreadable(exc)
    return steps, (None if steps else none_message)


def unreadable(exc: Exception) -> str:
    return (f"The saved state of this instance could not be read ({type(exc).__name__}: {exc}). Repair its saved "
            "data (Repair the saved data, on the instance's page), move it to another version of its route, or end "
            "it.")


KIND_WORDS = {"task": "a person's task", "timer": "a timer", "message": "waiting for a message", "event": "an event"}


@bp.route("/instances/<int:instance_id>/skip", methods=["GET", "POST"])
@staff
def skip(instance_id: int) -> ResponseReturnValue:
    """Complete a stuck step without doing it: a ready task without its form, or a timer or message not waited for."""
    item = instance_or_404(instance_id)
    steps, refusal = _steps_or_refusal(item, repair.skippable_steps, "Nothing in this instance is waiting, so there "
                                                                     "is no step to skip.")
    choices = [{"value": s.guid, "text": s.name, "hint": f"{s.bpmn_id}: {KIND_WORDS[s.kind]}"} for s in steps]

    def perform(v: dict[str, str]) -> str:
        repair.skip_step(engine(), item.id, v["choice"], _actor(), v["reason"], _revision())
        return "The step was skipped and the instance has moved on."

    return _confirm(item, "admin.skip", heading="Skip a stuck step", button="Skip the step", choices=choices,
                    choice_label="The step to skip", refusal=refusal, perform=perform,
                    intro=["The step is treated as done without being done: a task is completed without its form, a "
                           "timer as if its date had come, a message as if it had arrived. The route then moves on "
                           "along that step's path."],
                    warning="A skipped task's answers are not recorded. A statutory deadline it was timing is "
                            "recorded as met now.")


@bp.route("/instances/<int:instance_id>/move-back", methods=["GET", "POST"])
@staff
def move_back(instance_id: int) -> ResponseReturnValue:
    """Go back to a task already done: everything after it is undone and it is open again."""
    item = instance_or_404(instance_id)
    steps, refusal = _steps_or_refusal(item, repair.earlier_tasks, "No earlier task of this instance can be gone "
                                                                   "back to.")
    choices = [{"value": s.guid, "text": s.name, "hint": s.bpmn_id} for s in steps]

    def perform(v: dict[str, str]) -> str:
        repair.move_back(engine(), item.id, v["choice"], _actor(), v["reason"], _revision())
        return "The instance is back at the task you chose; it is open again with the answers given last time."

    return _confirm(item, "admin.move_back", heading="Move back to an earlier task", button="Move back",
                    choices=choices, choice_label="The task to go back to", refusal=refusal, perform=perform,
                    intro=["Everything done after the task is undone (documents already issued stay issued) and the "
                           "task is open again, with the answers given last time ready to change."],
                    warning="Open tasks after that point are cancelled.")


@bp.route("/instances/<int:instance_id>/data", methods=["GET", "POST"])
@staff
def edit_data(instance_id: int) -> ResponseReturnValue:
    """Change the data the instance carries forward (the old and new values are kept in the audit trail)."""
    item = instance_or_404(instance_id)
    refusal = _not_movable(item)
    current = ""
    if refusal is None:
        try:
            current = pretty_json(repair.instance_data(engine(), item.id))
        except Exception as exc:  # noqa: BLE001 - a broken saved state: say so instead of failing the page
            refusal = unreadable(exc)

    def perform(v: dict[str, str]) -> str:
        changes = repair.edit_data(engine(), item.id, repair.parse_data(v["data"]), _actor(), v["reason"],
                                   _revision())
        names = sorted(set(changes["new"]) | set(changes["removed"]))
        return f"The instance data has been changed ({', '.join(names)})."

    return _confirm(item, "admin.edit_data", heading="Change the instance data", button="Save the data",
                    data_field=True, initial_data=current, refusal=refusal, perform=perform,
                    intro=["This is the data the route reads in its conditions, scripts and timers from now on. "
                           "Change only what is wrong; the old and new values are kept in the audit trail.",
                           "Timers set for a date are worked out again from the new data, and their statutory "
                           "deadlines move with them."]
                    + (["The instance stays failed: retry the failed step after saving."]
                       if item.status == "failed" else []))


@bp.route("/instances/<int:instance_id>/repair-data", methods=["GET", "POST"])
@staff
def repair_data(instance_id: int) -> ResponseReturnValue:
    """Repair an instance whose saved state cannot be read, by correcting the data it stores."""
    item = instance_or_404(instance_id)
    refusal = _not_movable(item)
    view = None
    if refusal is None:
        view = stored_view(engine(), item.id, _actor())
        if view.readable:
            refusal = ("The saved state of this instance can be read, so there is nothing to repair here: use "
                       "“Change the instance data”.")
        elif not view.is_json:
            refusal = (f"The saved state is not even JSON ({view.error}), so its data cannot be edited. Move the "
                       "instance to another version of its route, or end it.")

    def perform(v: dict[str, str]) -> str:
        changes = repair_stored_data(engine(), item.id, repair.parse_data(v["data"]), _actor(), v["reason"],
                                     _revision())
        cleared = f" {len(changes['cleared'])} value(s) in finished steps were cleared." if changes["cleared"] else ""
        retry = " Retry the failed step now." if item.status == "failed" else ""
        return f"The saved data has been repaired and the instance can be read again.{cleared}{retry}"

    intro = ["Its saved state holds a value the workflow engine cannot read back, so nothing can run on it. Below is "
             "the data it carries forward, as stored. Correct or remove the values named, then save: the data must "
             "be plain data, like any change of the instance data."]
    if view is not None and not view.readable:
        intro.append(f"Reading it fails with: {view.error}")
        if view.unreadable:
            intro.append("Values that cannot be read: " + "; ".join(view.unreadable) + ". Those in finished steps "
                         "are replaced by null when you save (they are history; the audit trail names each one).")
    if item.status == "failed":
        intro.append("The instance stays failed: retry the failed step after saving.")
    return _confirm(item, "admin.repair_data", heading="Repair the saved data", button="Save the repaired data",
                    data_field=True, initial_data=pretty_json(view.data) if view is not None else "",
                    refusal=refusal, perform=perform, intro=intro,
                    warning="The old and new values are kept in the audit trail with your reason.")


@bp.route("/instances/<int:instance_id>/migrate", methods=["GET", "POST"])
@staff
def migrate(instance_id: int) -> ResponseReturnValue:
    """Move the instance to another version of its route (and back), when no completed step would change."""
    item = instance_or_404(instance_id)
    refusal = None
    choices: list[Choice] = []
    if item.status not in LIVE_STATUSES:
        refusal = f"This instance has already ended ({_status_words(item)}), so it cannot move to another version."
    else:
        for version in other_versions(db(), item):
            try:
                check = repair.check_migration(engine(), item.id, version.id)
            except Exception as exc:  # noqa: BLE001 - shown as the reason this version cannot take it
                check = MigrationCheck(item.id, item.version.short_hash, version.short_hash,
                                       [f"it could not be checked ({type(exc).__name__}: {exc})"])
            deployed = version.deployed_at.strftime("%-d %B %Y")
            hint = ("Can move" + (f"; steps predicted again: {', '.join(check.reset_steps)}"
                                  if check.reset_steps else "")) if check.allowed else \
                "Cannot move: " + "; ".join(check.problems)
            choices.append({"value": version.id, "text": f"Version {version.short_hash} (deployed {deployed}"
                            f"{', current' if version.is_current else ''})", "hint": hint,
                            "disabled": not check.allowed})
        if not choices:
            refusal = "There is no other version of this route to move to."

    def perform(v: dict[str, str]) -> str:
        check = repair.migrate(engine(), item.id, int(v["choice"]), _actor(), v["reason"])
        return f"The instance now runs on version {check.to_version}. Move it back the same way if needed."

    return _confirm(item, "admin.migrate", heading="Move to another version of the route", button="Move the instance",
                    choices=choices, choice_label="The version to move to", refusal=refusal, perform=perform,
                    intro=[f"It runs on version {item.version.short_hash}. Steps already done must be the same in "
                           "the other version; waiting steps take the other version's forms and timers from now on."])


@bp.route("/tasks/<int:task_id>/reassign", methods=["GET", "POST"])
@staff
def reassign(task_id: int) -> ResponseReturnValue:
    """Give an open task of one of your organisations' instances to someone else with its role."""
    task = db().get(HumanTask, task_id)
    if task is None:
        abort(404)
    item = instance_or_404(task.instance_id)
    refusal = None
    if task.status != "open":
        refusal = "This task is no longer open, so it cannot be reassigned."
    elif task.role == Role.FAMILY.value:
        refusal = "This task is for the family, so it cannot be given to someone else."
    elif task.role is None:
        refusal = "This task's lane names no role, so there is nobody to give it to. Correct the route's lanes."
    elif task.organisation_id not in admin_orgs():
        refusal = "This task belongs to another organisation: its own administrators or managers can reassign it."
    candidates = reassign_candidates(db(), task) if refusal is None else []
    if refusal is None and not candidates:
        refusal = "Nobody active has the role this task needs. Give someone the role first."
    choices = [{"value": u.id, "text": u.name, "hint": u.email + (" (assigned now)" if u.id == task.assignee_id
                                                                  else "")} for u in candidates]

    def perform(v: dict[str, str]) -> str:
        repair.reassign(engine(), task.id, int(v["choice"]), _actor(), v["reason"])
        person = next(u for u in candidates if u.id == int(v["choice"]))
        return f"The task {task.name} is now assigned to {person.name}."

    return _confirm(item, "admin.reassign", heading=f"Reassign the task “{task.name}”", button="Reassign the task",
                    choices=choices, choice_label="Who should do it", refusal=refusal, perform=perform,
                    intro=["The person chosen sees it in their task list."], url_values={"task_id": task.id})
