"""The list of process instances, one instance's page, and its diagram data."""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import abort, jsonify, render_template, request, url_for
from flask.typing import ResponseReturnValue

from engine.admin.instance_admin import (
    AGES,
    INSTANCE_STATUSES,
    InstanceFilters,
    diagram_marks,
    instance_detail,
    instance_for_admin,
    instance_list,
    route_versions,
)
from engine.admin.instance_repair import instance_data
from engine.lists.names import organisations_by_id, route_names
from engine.people.roles import Role
from engine.store.models import ProcessInstance
from webui.access import staff
from webui.admin.common import admin_orgs, arg_int, bp
from webui.cases.routes import bpmn_files, defines
from webui.context import db, engine, now, today
from webui.numbers import cursor

PER_PAGE = 25

log = logging.getLogger(__name__)


def instance_or_404(instance_id: int) -> ProcessInstance:
    instance = instance_for_admin(db(), admin_orgs(), instance_id)
    if instance is None:
        abort(404)
    return instance


def _chosen() -> dict[str, Any]:
    args = request.args
    versions = {str(v[2]) for v in route_versions(db())}
    return {
        "route": (args.get("route") or "").strip()[:100],
        "version": args.get("version") if args.get("version") in versions else "",
        "status": args.get("status") if args.get("status") in INSTANCE_STATUSES else "",
        "overdue": "1" if args.get("overdue") == "1" else "",
        "age": args.get("age") if args.get("age") in AGES else "",
    }


def _list_url(chosen: dict[str, Any], **changes: Any) -> str:
    params = {k: v for k, v in {**chosen, **changes}.items() if v not in ("", None)}
    if params.get("page") in (1, "1"):
        params.pop("page")
    return url_for("admin.instances", **params)


@bp.get("/instances")
@staff
def instances() -> ResponseReturnValue:
    """Process instances of your organisations, filtered by route, version, status, overdue work and age."""
    orgs = admin_orgs()
    chosen = _chosen()
    filters = InstanceFilters(route=chosen["route"] or None,
                              version_id=int(chosen["version"]) if chosen["version"] else None,
                              status=chosen["status"] or None, overdue=bool(chosen["overdue"]),
                              age_days=int(chosen["age"]) if chosen["age"] else None,
                              page=arg_int("page", 1) or 1, per_page=PER_PAGE, after=cursor(request.args.get("after")),
                              before=cursor(request.args.get("before")))
    result = instance_list(db(), orgs, filters, today(), now())
    return render_template("admin/instances.html", result=result, page=result.page, chosen=chosen,
                           routes=route_names(db()), versions=route_versions(db()), statuses=INSTANCE_STATUSES,
                           ages=AGES, url_for_list=lambda **changes: _list_url(chosen, **changes),
                           filtered=any(chosen.values()))


def pretty_json(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)


@bp.get("/instances/<int:instance_id>")
@staff
def instance(instance_id: int) -> ResponseReturnValue:
    """One instance: where it is, what went wrong, its data and everything that happened to it."""
    item = instance_or_404(instance_id)
    detail = instance_detail(db(), item, arg_int("audit_page", 1) or 1)
    try:
        data_json, data_error = pretty_json(instance_data(engine(), item.id)), None
    except Exception as exc:  # noqa: BLE001 - a broken saved state is what this page is for: say so, show the rest
        log.warning("instance %s: saved state could not be read: %s", item.id, exc)
        data_json, data_error = "", f"The saved state could not be read: {type(exc).__name__}: {exc}"
    organisations = organisations_by_id(db(), [t.organisation_id for t in detail.open_tasks])
    return render_template("admin/instance.html", d=detail, instance=item, case=detail.case,
                           data_json=data_json, data_error=data_error, organisations=organisations,
                           statuses=INSTANCE_STATUSES,
                           role_label=lambda r: Role(r).label if r in Role._value2member_map_ else (r or ""),
                           pretty_json=pretty_json)


@bp.get("/instances/<int:instance_id>/diagram.json")
@staff
def instance_diagram(instance_id: int) -> ResponseReturnValue:
    """The BPMN of the instance's version with its done, current, waiting and failed elements (for bpmn-js)."""
    item = instance_or_404(instance_id)
    marks = diagram_marks(db(), item)
    files = bpmn_files(item.version)
    main = next((n for n, text in files.items() if defines(text, item.process_id)), None)
    chosen = [main] if main else []
    for name, text in files.items():
        if name not in chosen and any(defines(text, element) for element in marks["current"] + marks["failed"]):
            chosen.append(name)
    # route_names captions each call activity with the route it starts (calledElement -> the route's name).
    return jsonify({"process_id": item.process_id, "version": item.version.short_hash, "status": item.status,
                    **marks, "diagrams": [{"name": n.rsplit("/", 1)[-1], "xml": files[n]} for n in chosen],
                    "route_names": route_names(db())})
