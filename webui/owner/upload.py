"""Uploading changed BPMN files and forms: take them, check them with the deployed files, show the problems or the
changes, and deploy only when the process owner confirms."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from engine.authoring import route_uploads
from engine.authoring.route_uploads import CheckResult, DeployRefused, Upload, UploadRefused
from engine.authoring.upload_changes import upload_changes
from engine.store.models import ProcessVersion
from webui.access import staff
from webui.context import db, engine, now
from webui.owner.blueprint import bp
from webui.owner.guard import process_owner


def upload_or_404(token: str) -> Upload:
    upload = route_uploads.find(current_app.instance_path, token, current_user.record, now())
    if upload is None:
        abort(404)
    return upload


def _problem_errors(result: CheckResult) -> list[dict[str, str]]:
    return [{"text": f"{p.file}{':' + str(p.line) if p.line else ''}: {p.element_id + ': ' if p.element_id else ''}"
                     f"{p.message}", "href": f"#problem-{i}"} for i, p in enumerate(result.problems, 1)]


@bp.route("/upload", methods=["GET", "POST"])
@staff
@process_owner
def upload() -> ResponseReturnValue:
    """The upload form; a POST keeps the files aside and checks them."""
    if request.method == "GET":
        return render_template("owner/upload.html", errors=[], result=None, names=[])
    sent = [f for f in request.files.getlist("files") if f and f.filename]
    # Some browsers send the path the file came from; only its last part is the file's name.
    files = [((f.filename or "").replace("\\", "/").rsplit("/", 1)[-1], f.read(route_uploads.MAX_FILE_BYTES + 1))
             for f in sent]
    names = [name for name, _ in files]
    try:
        staged = route_uploads.stage(current_app.instance_path, files, current_user.record, now())
    except UploadRefused as exc:
        errors = [{"text": message, "href": "#files"} for message in exc.messages]
        return render_template("owner/upload.html", errors=errors, result=None, names=names)
    try:
        result = route_uploads.check(db(), staged)
    except Exception:
        route_uploads.discard(staged)  # the error page is all the person sees: nothing must be left behind
        raise
    if not result.passed:
        route_uploads.discard(staged)  # nothing is kept of files that cannot be deployed
        return render_template("owner/upload.html", errors=_problem_errors(result), result=result, names=names)
    return redirect(url_for("owner.upload_review", upload_token=staged.token))


def _review(upload: Upload, errors: list[dict[str, str]] | None = None) -> ResponseReturnValue:
    result = route_uploads.check(db(), upload)
    diffs: dict[str, Any] = {}
    if result.passed:
        assert result.registry is not None
        processes = result.registry.processes
        for change in result.changes:
            if change.changed and change.current_id is not None:
                current = db().get(ProcessVersion, change.current_id)
                assert current is not None
                diffs[change.process_id] = upload_changes(engine(), current, processes[change.process_id])
    errors = list(errors or []) + _problem_errors(result)
    return render_template("owner/review.html", upload=upload, result=result, diffs=diffs, errors=errors)


@bp.get("/uploads/<string:upload_token>")
@staff
@process_owner
def upload_review(upload_token: str) -> ResponseReturnValue:
    """What the checked upload would change; nothing is deployed until the process owner confirms here."""
    return _review(upload_or_404(upload_token))


@bp.post("/uploads/<string:upload_token>/deploy")
@staff
@process_owner
def deploy_upload(upload_token: str) -> ResponseReturnValue:
    upload = upload_or_404(upload_token)
    fingerprint = request.form.get("fingerprint", "")
    if not fingerprint:
        return _review(upload, [{"text": "Confirm that you want to deploy these files", "href": "#deploy"}])
    try:
        created = route_uploads.deploy(engine(), upload, current_user.record, fingerprint)
    except DeployRefused as exc:
        return _review(upload, [{"text": str(exc), "href": "#deploy"}])
    if created:
        flash("Deployed " + ", ".join(f"{v.name or v.process_id} version {v.short_hash}" for v in created)
              + ". New cases start on the new version; download its files and commit them to the project.", "success")
        return redirect(url_for("owner.version", route_version_id=created[0].id))
    flash("Nothing changed: every route in these files is already deployed as it is.", "info")
    return redirect(url_for("owner.home"))


@bp.post("/uploads/<string:upload_token>/discard")
@staff
@process_owner
def discard_upload(upload_token: str) -> ResponseReturnValue:
    upload = upload_or_404(upload_token)
    if request.form.get("discard") != "yes":
        return redirect(url_for("owner.upload_review", upload_token=upload.token))
    route_uploads.discard(upload)
    flash("The uploaded files were discarded; nothing was deployed.", "info")
    return redirect(url_for("owner.upload"))
