"""What changed between two versions of a route, and moving running instances from one to the other (and back)."""

from __future__ import annotations

import re

from flask import abort, jsonify, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import current_user

from engine.admin.instance_migration import migrate_instance, plan_migration, running_on
from engine.authoring.deployments import instance_summaries
from engine.authoring.upload_changes import compare_versions, version_changes
from engine.errors import EngineError
from webui.access import staff
from webui.context import db, engine
from webui.owner.blueprint import bp
from webui.owner.guard import is_process_owner, process_owner, route_viewer
from webui.owner.routes import diagram_data, version_or_404

MAX_REASON = 500
_ELEMENT_ID = re.compile(r"\[([^\]]+)\]$")
# Not str.isdigit: it accepts '²', which int() refuses, and any length, which the database refuses.
_ID = re.compile(r"[0-9]{1,18}")


def _pair(route_version_id: int, other_route_version_id: int) -> tuple:
    old, new = version_or_404(route_version_id), version_or_404(other_route_version_id)
    if old.process_id != new.process_id or old.id == new.id:
        abort(404)
    return old, new


def _instances(ids: list[int]) -> dict:
    return instance_summaries(db(), ids)


def _compare_page(old, new, errors: list[dict[str, str]] | None = None, selected: set[int] | None = None,
                  reason: str = "") -> ResponseReturnValue:
    comparison = compare_versions(engine(), db(), old, new)
    diff = comparison.diff
    instances = _instances([*diff.can_migrate, *diff.cannot_migrate])
    return render_template("owner/compare.html", old=old, new=new, diff=diff, instances=instances,
                           not_checked=comparison.not_checked,
                           errors=errors or [], selected=selected or set(), reason=reason,
                           can_change=is_process_owner())


@bp.get("/versions/<int:route_version_id>/compare/<int:other_route_version_id>")
@staff
@route_viewer
def compare(route_version_id: int, other_route_version_id: int) -> ResponseReturnValue:
    """From the first version to the second: elements, forms and timers, and which instances on the first could move."""
    return _compare_page(*_pair(route_version_id, other_route_version_id))


@bp.get("/versions/<int:route_version_id>/compare/<int:other_route_version_id>/diagram.json")
@staff
@route_viewer
def compare_diagram(route_version_id: int, other_route_version_id: int) -> ResponseReturnValue:
    """The second version's diagram with the elements added or changed since the first highlighted (for bpmn-js)."""
    old, new = _pair(route_version_id, other_route_version_id)
    diff = version_changes(engine(), old, new)
    marked = sorted({m.group(1) for label in [*diff.added, *diff.changed] if (m := _ELEMENT_ID.search(label))})
    return jsonify({**diagram_data(new), "current": marked})


@bp.post("/versions/<int:route_version_id>/compare/<int:other_route_version_id>/migrate")
@staff
@process_owner
def migrate(route_version_id: int, other_route_version_id: int) -> ResponseReturnValue:
    """Moves the chosen instances from the first version to the second, after a confirmation page."""
    old, new = _pair(route_version_id, other_route_version_id)
    chosen = sorted({int(v) for v in request.form.getlist("instance_id") if _ID.fullmatch(v)})
    reason = " ".join((request.form.get("reason") or "").split())
    errors = []
    if not chosen:
        errors.append({"text": "Select the instances to move", "href": "#instances"})
    if len(reason) > MAX_REASON:
        errors.append({"text": f"The reason must be {MAX_REASON} characters or fewer", "href": "#reason"})
    if errors:
        return _compare_page(old, new, errors, set(chosen), reason[:2000])
    on_old = set(running_on(db(), old.id))
    if request.form.get("confirmed") != "yes":
        checks = {i: plan_migration(engine(), i, new.id) for i in chosen if i in on_old}
        return render_template("owner/migrate_confirm.html", old=old, new=new, checks=checks, reason=reason,
                               gone=[i for i in chosen if i not in on_old], instances=_instances(chosen))
    moved: list[int] = []
    refused: dict[int, str] = {}
    for instance_id in chosen:
        if instance_id not in on_old:
            refused[instance_id] = f"it does not run on version {old.short_hash} any more"
            continue
        try:
            migrate_instance(engine(), instance_id, new.id, current_user.record,
                             reason or f"moved by a process owner from the comparison of {old.short_hash} "
                                       f"and {new.short_hash}")
            moved.append(instance_id)
        except EngineError as exc:
            refused[instance_id] = str(exc)
    db().expire_all()
    return render_template("owner/migrate_done.html", old=old, new=new, moved=moved, refused=refused,
                           instances=_instances(chosen))
