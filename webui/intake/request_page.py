"""One request: its answers and attachments, the children EHC Flow may already know, registering it (on a case the
caseworker chooses, or a new one) and closing it with a reason."""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select

from engine.errors import EngineError, FormInvalid, InvalidState
from engine.intake.parties import ROLE_LABELS, suggested_parties
from engine.intake.questions import CHANNELS, COLUMNS, pages_for
from engine.intake.registration import matches_for, register_request
from engine.intake.requests import close_request, decide_by
from engine.statutory.calendar import as_date
from engine.store.models import Organisation, User
from engine.store.requests import AssessmentRequest
from webui import uploads
from webui.access import staff
from webui.context import db, engine, now
from webui.intake.blueprint import bp, request_or_404
from webui.intake.wording import label, options, page_title
from webui.jinja import long_date
from webui.numbers import whole_number

STATUS_LABELS = {"new": "New", "registered": "Registered", "closed": "Closed"}


def answer_sections(row: AssessmentRequest) -> list[dict[str, Any]]:
    """The request's answers, page by page, as the caseworker reads them (empty answers say so)."""
    sections = []
    for page in pages_for(row.requester_type):
        rows = []
        for q in page.questions:
            value = getattr(row, q.name) if q.name in COLUMNS else (row.answers or {}).get(q.name)
            if value in (None, ""):
                text = "Not given"
            elif q.kind == "radios":
                text = options(q).get(str(value), str(value))
            elif q.kind == "date":
                text = long_date(as_date(value))
            else:
                text = str(value)
            rows.append({"label": label(q), "text": text, "long": q.kind == "textarea"})
        sections.append({"title": page_title(page), "rows": rows})
    return sections


def _page(row: AssessmentRequest, problem: str | None = None, status: int = 200) -> ResponseReturnValue:
    people = {uid: db().get(User, uid) for uid in (row.registered_by_id, row.closed_by_id) if uid}
    return render_template(
        "intake/request.html", row=row, sections=answer_sections(row), matches=matches_for(db(), row)
        if row.status == "new" else [], decide_by=decide_by(row.received_at) if row.received_at else None,
        channel=CHANNELS.get(row.channel, row.channel), status_label=STATUS_LABELS.get(row.status, row.status),
        attachments=[a for a in (row.attachments or []) if isinstance(a, dict) and a.get("token")],
        people=people, problem=problem, errors={"case_id": problem} if problem else {},
        suggested=_suggested(row) if row.status == "new" else []), status


def _suggested(row: AssessmentRequest) -> list[tuple[str, str]]:
    """The organisations a new child's case will be linked to (a known child keeps theirs), as (role, name)."""
    names = {org.id: org.name for org in db().scalars(select(Organisation).where(
        Organisation.id.in_([i for i in suggested_parties(db(), row).values() if i is not None])))}
    return [(ROLE_LABELS[role], names.get(org_id, "None found: choose one on the case page") if org_id else
             "None found: choose one on the case page") for role, org_id in suggested_parties(db(), row).items()]


@bp.get("/<int:request_id>")
@staff
def request_page(request_id: int) -> ResponseReturnValue:
    """A request, with the likely matches to register it on."""
    return _page(request_or_404(request_id))


@bp.get("/<int:request_id>/attachments/<string:attachment>")
@staff
def attachment(request_id: int, attachment: str) -> ResponseReturnValue:
    """A report sent with the request (only to the authority's caseworkers and managers)."""
    row = request_or_404(request_id)
    if attachment not in {a.get("token") for a in (row.attachments or []) if isinstance(a, dict)}:
        abort(404)
    base = uploads.folder(current_app.instance_path)
    stored = uploads.load(base, attachment)
    if stored is None:
        abort(404)
    return send_file(uploads.path_of(base, stored), mimetype=stored.content_type, as_attachment=True,
                     download_name=stored.filename, max_age=0)


@bp.post("/<int:request_id>/register")
@staff
def register(request_id: int) -> ResponseReturnValue:
    """Register the request on the case the caseworker chose (``case_id``), or as a new child (empty)."""
    row = request_or_404(request_id)
    chosen = (request.form.get("case_id") or "").strip()
    case_id = whole_number(chosen)
    if chosen and case_id is None:
        return _page(row, "Choose the child's case again: that case could not be found")
    reference, received_at = row.reference, row.received_at
    try:
        case_id = register_request(engine(), row.id, current_user.record, case_id)
    except EngineError as exc:  # already registered, an open assessment, the route not deployed
        db().expire_all()
        return _page(request_or_404(request_id), str(exc))
    due = decide_by(received_at) if received_at else None
    flash(f"Request {reference} registered: the needs assessment has started; the LA must decide by "
          f"{long_date(due)}.", "success")
    return redirect(url_for("cases.case", case_id=case_id))


@bp.route("/<int:request_id>/close", methods=["GET", "POST"])
@staff
def close(request_id: int) -> ResponseReturnValue:
    """Close a request the authority will not take forward, with the reason the requester is sent."""
    row = request_or_404(request_id)
    if row.status != "new":
        flash(f"Request {row.reference} has already been {row.status}.", "info")
        return redirect(url_for("intake.request_page", request_id=row.id))
    errors: dict[str, str] = {}
    reason = (request.form.get("reason") or "")[:5000] if request.method == "POST" else ""
    if request.method == "POST":
        try:
            close_request(db(), row, current_user.record, reason, now())
        except FormInvalid as exc:
            db().rollback()
            errors = dict(exc.errors)
        except InvalidState as exc:
            db().rollback()
            flash(str(exc), "info")
            return redirect(url_for("intake.request_page", request_id=request_id))
        else:
            db().commit()
            told = f" We have emailed the reason to {row.requester_email}." if row.requester_email else \
                " There is no email address for the requester: tell them the reason yourself."
            flash(f"Request {row.reference} closed.{told}", "success")
            return redirect(url_for("intake.index"))
    return render_template("intake/close.html", row=row, reason=reason, errors=errors)
