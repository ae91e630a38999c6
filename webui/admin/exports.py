"""Exports for administrators: a case's whole record for a subject access request, and the audit trail by dates.

Both are POSTs (CSRF-checked) that answer with a file. A case of another organisation is "not found", as on every
admin page; the audit trail holds only the events of the administrator's own organisations.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from flask import Response, abort, current_app, render_template, request, stream_with_context, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select

from engine.admin.audit_export import FORMATS, export_chunks
from engine.admin.case_export import export_case_record, slug
from engine.store.models import AuditEvent, Case, Organisation
from webui import uploads
from webui.access import staff
from webui.admin.common import admin_orgs, bp, error_list, form_reason
from webui.context import db, now, today

FORMAT_TEXT = {"csv": "CSV (a spreadsheet can open it)", "jsonl": "JSON lines (one event a line, for log systems)"}
MEDIA_TYPES = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson; charset=utf-8"}


def case_or_404(case_id: int) -> Case:
    case = db().get(Case, case_id)
    if case is None or case.la_id not in admin_orgs():
        abort(404)
    return case


def case_uploads(base: Path, case_id: int) -> list[tuple[str, bytes]]:
    """The files uploaded with the case's task forms (webui/uploads.py keeps them beside a ``<token>.json``)."""
    found: list[tuple[str, bytes]] = []
    for meta in sorted(base.glob("*.json")):
        try:
            stored = uploads.load(base, meta.stem)
        except (ValueError, TypeError, json.JSONDecodeError):
            continue  # a damaged record: the file is not this case's as far as anyone can tell
        if stored is not None and stored.case_id == case_id:
            found.append((stored.filename, uploads.path_of(base, stored).read_bytes()))
    return found


@bp.route("/cases/<int:case_id>/export", methods=["GET", "POST"])
@staff
def export_case(case_id: int) -> ResponseReturnValue:
    """Asks why (kept in the audit trail), then sends the ZIP of the case's whole record."""
    case = case_or_404(case_id)
    reason, errors = "", {}
    if request.method == "POST":
        reason, error = form_reason()
        if error:
            errors["reason"] = error
        else:
            files = case_uploads(uploads.folder(current_app.instance_path), case.id)
            content = export_case_record(db(), case.id, actor_id=current_user.record.id, reason=reason, now=now(),
                                         files=files)
            name = f"case-{slug(case.reference)}-{today().isoformat()}.zip"
            return Response(content, mimetype="application/zip",
                            headers={"Content-Disposition": f'attachment; filename="{name}"',
                                     "Cache-Control": "no-store"})
    return render_template("admin/export_case.html", case=case, reason=reason, errors=errors,
                           error_items=error_list(errors), action_url=url_for("admin.export_case", case_id=case.id))


def _date_field(prefix: str) -> tuple[dict[str, str], date | None]:
    raw = {p: (request.form.get(f"{prefix}-{p}") or "").strip()[:4] for p in ("day", "month", "year")}
    try:
        return raw, date(int(raw["year"]), int(raw["month"]), int(raw["day"]))
    except ValueError:
        return raw, None


@bp.route("/audit-export", methods=["GET", "POST"])
@staff
def export_audit() -> ResponseReturnValue:
    """From and to dates (London days, both kept) and a format; sends the events streamed in batches."""
    orgs = admin_orgs()
    values: dict[str, object] = {"from": {}, "to": {}, "format": "csv"}
    errors: dict[str, str] = {}
    if request.method == "POST":
        values["from"], start = _date_field("from")
        values["to"], end = _date_field("to")
        values["format"] = request.form.get("format") or ""
        if start is None:
            errors["from"] = "Enter the first day as a real date, for example 1 4 2026"
        if end is None:
            errors["to"] = "Enter the last day as a real date, for example 30 4 2026"
        if start and end and end < start:
            errors["to"] = "The last day must be the same as or after the first day"
        if values["format"] not in FORMATS:
            errors["format"] = "Select a format"
        if not errors and start and end:
            fmt = str(values["format"])
            db().add(AuditEvent(at=now(), actor_id=current_user.record.id, action="audit_exported",
                                summary=f"The audit trail from {start} to {end} was exported ({fmt})",
                                detail={"from": start.isoformat(), "to": end.isoformat(), "format": fmt,
                                        "organisations": orgs}))
            db().commit()
            name = f"audit-{start.isoformat()}-to-{end.isoformat()}.{fmt}"
            chunks = export_chunks(db(), orgs, start, end, fmt)
            return Response(stream_with_context(chunks), mimetype=MEDIA_TYPES[fmt].split(";")[0],
                            headers={"Content-Disposition": f'attachment; filename="{name}"',
                                     "Cache-Control": "no-store"})
    organisations = db().scalars(select(Organisation).where(Organisation.id.in_(orgs)).order_by(Organisation.name))
    return render_template("admin/export_audit.html", values=values, errors=errors, formats=FORMAT_TEXT,
                           organisations=list(organisations),
                           error_items=error_list(errors, {"from": "#from-day", "to": "#to-day",
                                                           "format": "#format"}))
