"""The case's contact log (calls, emails, meetings: who, when, what), for the responsible authority's caseworkers and
managers only (``engine.casework.case_notes`` says why and enforces it). The case page shows the latest entries
through ``case_notes_preview``; this page lists them all and adds one."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from engine.casework.case_notes import KINDS, NoteRow, add_note, case_notes, user_may_use_notes
from engine.errors import FormInvalid
from engine.store.models import Case
from webui.access import staff
from webui.cases.blueprint import bp, case_or_404
from webui.context import clock, db, today

FIELDS = ("kind", "with_whom", "summary", "happened_on-day", "happened_on-month", "happened_on-year")
ERROR_ORDER = ("kind", "happened_on", "with_whom", "summary")
# Far more than any field may hold (the engine says so with its own message); a longer value is cut, never stored.
MAX_FIELD = 20_000
PREVIEW = 3


def _blank() -> dict[str, str]:
    """A new entry: a contact made today."""
    day = today()
    return {"kind": "", "with_whom": "", "summary": "", "happened_on-day": str(day.day),
            "happened_on-month": str(day.month), "happened_on-year": str(day.year)}


def _error_items(errors: dict[str, str]) -> list[dict[str, str]]:
    anchors = {"kind": "kind", "happened_on": "happened_on-day", "with_whom": "with_whom", "summary": "summary"}
    return [{"text": errors[name], "href": "#" + anchors[name]} for name in ERROR_ORDER if name in errors]


@bp.route("/<int:case_id>/contact-log", methods=["GET", "POST"])
@staff
def notes(case_id: int) -> ResponseReturnValue:
    """The contact log: every entry, latest first, and a form to add one."""
    case = case_or_404(case_id)
    if not user_may_use_notes(db(), current_user.record, case):
        abort(403)  # need to know: not the authority's administrators, nor the services and schools on the case
    values = _blank()
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = {name: (request.form.get(name) or "")[:MAX_FIELD] for name in FIELDS}
        try:
            note = add_note(db(), case, current_user.record, values, clock().now(), today())
        except FormInvalid as exc:
            db().rollback()
            errors = exc.errors
        else:
            db().commit()
            flash(f"{KINDS[note.kind]} with {note.with_whom} added to the contact log.", "success")
            return redirect(url_for("cases.notes", case_id=case.id))
    return render_template("cases/notes.html", case=case, notes=case_notes(db(), case, current_user.record),
                           kinds=KINDS, values=values, errors=errors,
                           error_items=_error_items(errors)), 400 if errors else 200


@bp.app_template_global()
def case_notes_preview(case: Case) -> dict[str, Any] | None:
    """The latest entries of the contact log for the case page, or None for someone without need to know."""
    if not current_user.is_authenticated or not current_user.is_staff:
        return None
    if not user_may_use_notes(db(), current_user.record, case):
        return None
    rows: list[NoteRow] = case_notes(db(), case, current_user.record, limit=PREVIEW + 1)
    return {"rows": rows[:PREVIEW], "more": len(rows) > PREVIEW}
