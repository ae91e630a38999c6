"""The upload page after "the help tried so far": the setting's reports, checked as every uploaded file is (type,
first bytes, size, the virus-scan hook; ``webui.uploads``), at most five, each of which can be taken off again.

A request has no case or task yet, so a file is stored with neither, naming the request instead, and the request
keeps ``{token, filename, size}`` in ``AssessmentRequest.attachments``: only the tokens listed there are ever its own.
"""

from __future__ import annotations

from flask import current_app, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from engine.store.requests import AssessmentRequest
from webui import uploads
from webui.access import public
from webui.context import db, now
from webui.request.blueprint import REPORTS, back_url, bp, current_draft, next_url

MAX_FILES = 5
FIELD = "reports"


@bp.route("/reports", methods=["GET", "POST"])
@public
def reports() -> ResponseReturnValue:
    """Attach the setting's reports (optional)."""
    row = current_draft()
    if row is None:
        return redirect(url_for("request.start"))
    change = request.values.get("change") == "1"
    here = url_for("request.reports", change="1") if change else url_for("request.reports")
    error: str | None = None
    if request.method == "POST":
        action = request.form.get("_action", "continue")
        if action.startswith("remove:"):
            _remove(row, action.removeprefix("remove:"))
            db().commit()
            return redirect(here)
        error = _take_files(row)
        db().commit()
        if error is None:
            if action == "upload":
                return redirect(here)
            return redirect(url_for("request.check") if change else next_url(dict(row.answers or {}), REPORTS))
    errors = [{"text": error, "href": f"#{FIELD}"}] if error else []
    return render_template("request/reports.html", attachments=list(row.attachments or []), error=error,
                           errors=errors, change=change, max_files=MAX_FILES, field=FIELD,
                           back_url=back_url(dict(row.answers or {}), REPORTS, change))


def _take_files(row: AssessmentRequest) -> str | None:
    """Stores the files chosen with this post; the first problem, if any (the files before it are kept)."""
    chosen = [f for f in request.files.getlist(FIELD) if f.filename]
    attached = list(row.attachments or [])
    if len(attached) + len(chosen) > MAX_FILES:
        return f"You can attach up to {MAX_FILES} files: remove one before adding another" if len(attached) \
            >= MAX_FILES else f"You can attach up to {MAX_FILES} files: choose {MAX_FILES - len(attached)} or fewer"
    cfg = current_app.config
    base = uploads.folder(current_app.instance_path)
    problem: str | None = None
    for file in chosen:
        try:
            stored = uploads.store(file, base, extensions=tuple(cfg["UPLOAD_EXTENSIONS"]),
                                   max_bytes=cfg["UPLOAD_MAX_BYTES"], scanner=uploads.scanner_for(cfg),
                                   case_id=None, task_id=None, request_id=row.id, now=now(),
                                   user_id=current_user.id if current_user.is_authenticated else None)
        except uploads.UploadRejected as exc:
            problem = problem or f"{file.filename}: {exc}"
            continue
        attached.append({"token": stored.token, "filename": stored.filename, "size": stored.size})
    if len(attached) != len(row.attachments or []):
        row.attachments = attached  # a new list: the JSON column sees the change
        row.updated_at = now()
    return problem


def _remove(row: AssessmentRequest, token: str) -> None:
    attached = list(row.attachments or [])
    kept = [a for a in attached if a.get("token") != token]
    if len(kept) != len(attached):
        uploads.discard(uploads.folder(current_app.instance_path), token)
        row.attachments = kept
        row.updated_at = now()
