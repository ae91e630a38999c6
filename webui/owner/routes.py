"""The routes and their versions: the list, a version's page with its diagram, and its files to download."""

from __future__ import annotations

import io
import re
import zipfile
from collections import defaultdict

from flask import Response, abort, jsonify, render_template
from flask.typing import ResponseReturnValue

from engine.authoring.deployments import differs_from_folder, process_ids, routes, version_summary, versions_of
from engine.library.registry import describe
from engine.lists.names import route_names
from engine.store.models import ProcessVersion
from webui.access import staff
from webui.context import db, engine, services
from webui.owner.blueprint import bp
from webui.owner.guard import is_process_owner, route_viewer

MEDIA_TYPES = {"workflows": "application/xml", "forms": "application/json"}


def version_or_404(version_id: int) -> ProcessVersion:
    version = db().get(ProcessVersion, version_id)
    if version is None:
        abort(404)
    return version


@bp.get("/")
@staff
@route_viewer
def home() -> ResponseReturnValue:
    """Every route, its versions, who deployed each and when, and how many instances run on each."""
    s = services()
    return render_template("owner/home.html", routes=routes(db(), s.workflows_dir, s.forms_dir),
                           can_change=is_process_owner())


@bp.get("/versions/<int:route_version_id>")
@staff
@route_viewer
def version(route_version_id: int) -> ResponseReturnValue:
    """One version: its tasks by lane, timers, forms and files, the other versions to compare with, the diagram."""
    row = version_or_404(route_version_id)
    loaded = engine().load_version(row)
    user_tasks, timers, _ = describe(loaded.spec, loaded.subprocess_specs)
    by_lane: dict[str, list] = defaultdict(list)
    for task in user_tasks:
        by_lane[task.lane or "(no lane)"].append(task)
    s = services()
    return render_template(
        "owner/version.html", version=row, summary=version_summary(db(), row),
        others=[v for v in versions_of(db(), row.process_id) if v.id != row.id], by_lane=dict(sorted(by_lane.items())),
        timers=timers, not_in_folders=differs_from_folder(row, s.workflows_dir, s.forms_dir) if row.is_current else [],
        can_change=is_process_owner())


@bp.get("/versions/<int:route_version_id>/diagram.json")
@staff
@route_viewer
def version_diagram(route_version_id: int) -> ResponseReturnValue:
    """The version's BPMN files for bpmn-js, the route's own file first."""
    return jsonify(diagram_data(version_or_404(route_version_id)))


def diagram_data(row: ProcessVersion) -> dict:
    files = {n: t for n, t in (row.files or {}).items() if n.startswith("workflows/")}
    order = sorted(files, key=lambda n: (row.process_id not in process_ids(files[n]), n))
    return {"process_id": row.process_id, "version": row.short_hash, "current": [], "waiting": [], "done": [],
            "diagrams": [{"name": n.rsplit("/", 1)[-1], "xml": files[n]} for n in order],
            "route_names": route_names(db())}  # captions each call activity with the route it starts


@bp.get("/versions/<int:route_version_id>/files/<any(workflows, forms):route_file_kind>/<string:route_file_name>")
@staff
@route_viewer
def version_file(route_version_id: int, route_file_kind: str, route_file_name: str) -> ResponseReturnValue:
    """One file of a version, to commit to workflows/ or forms/."""
    row = version_or_404(route_version_id)
    text = (row.files or {}).get(f"{route_file_kind}/{route_file_name}")
    if text is None:
        abort(404)
    return Response(text, mimetype=MEDIA_TYPES[route_file_kind],
                    headers={"Content-Disposition": _attachment(route_file_name)})


@bp.get("/versions/<int:route_version_id>/files.zip")
@staff
@route_viewer
def version_zip(route_version_id: int) -> ResponseReturnValue:
    """Every file of a version in one zip, laid out as in the project (workflows/, forms/)."""
    row = version_or_404(route_version_id)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in sorted((row.files or {}).items()):
            archive.writestr(name, text)
    name = f"{row.process_id}-{row.short_hash}.zip"
    return Response(buffer.getvalue(), mimetype="application/zip", headers={"Content-Disposition": _attachment(name)})


def _attachment(name: str) -> str:
    # Stored names were checked when deployed, but a header is no place to trust that.
    safe = re.sub(r"[^A-Za-z0-9_.\-]", "_", name)
    return f'attachment; filename="{safe}"'
