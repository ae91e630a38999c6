"""Importing a council's existing plans from a CSV file, into the local authorities the administrator administers.

The same import as ``ehcflow import plans`` (engine/intake/plan_import.py): every row is checked first and, unless the
administrator asks to skip bad rows, nothing is written while any row has a problem.
"""

from __future__ import annotations

from flask import abort, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import current_user
from werkzeug.datastructures import FileStorage

from engine.admin.user_admin import administered_organisations
from engine.intake import plan_import
from webui.access import staff
from webui.admin.common import admin_orgs, bp
from webui.context import db, engine, today

MB = 1024 * 1024
MAX_BYTES = 5 * MB
#: Problems listed on the page; the rest are counted (the command line lists every one).
SHOWN_PROBLEMS = 500


def _read(upload: FileStorage | None) -> tuple[bytes, str | None]:
    """The file's bytes, or why it cannot be imported (for the file field's error)."""
    if upload is None or not upload.filename:
        return b"", "Select a CSV file"
    if not upload.filename.lower().endswith(".csv"):
        return b"", "The selected file must be a CSV file (.csv)"
    data = upload.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        size = f"{MAX_BYTES // MB}MB" if MAX_BYTES >= MB else f"{MAX_BYTES // 1024}KB"
        return b"", f"The selected file must be smaller than {size}"
    if not data.strip():
        return b"", "The selected file is empty"
    return data, None


@bp.route("/import-plans", methods=["GET", "POST"])
@staff
def import_plans() -> ResponseReturnValue:
    """Upload a CSV of current plans; see the problems by line (nothing written), or what was imported."""
    las = [o for o in administered_organisations(db(), admin_orgs()) if o.kind == "local_authority"]
    if not las:
        abort(403)  # only a local authority's administrators import its plans
    file_error: str | None = None
    result = None
    skip_bad = request.method == "POST" and request.form.get("skip_bad") == "yes"
    if request.method == "POST":
        data, file_error = _read(request.files.get("file"))
        if file_error is None:
            result = plan_import.import_plans(engine(), data, current_user.record, la_ids={la.id for la in las},
                                              skip_bad=skip_bad)
    error_items = [{"text": file_error, "href": "#file"}] if file_error else []
    if result is not None and result.problems and not result.written:
        count = len(result.refused_lines)
        error_items = [{"text": f"{count} row{'s have' if count != 1 else ' has'} problems"
                                + ("" if skip_bad else ": nothing was imported"), "href": "#problems"}]
    return render_template("admin/import_plans.html", las=las, columns=plan_import.COLUMNS, result=result,
                           skip_bad=skip_bad, file_error=file_error, error_items=error_items, shown=SHOWN_PROBLEMS,
                           today=today())
