"""Case pages for staff: the child, the people involved, the statutory clock, the routes with their diagrams, the
documents and plans, and everything that happened."""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

from flask import Response, abort, flash, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select

from engine.admin.unreadable_routes import unreadable_routes
from engine.casework import case_messages
from engine.casework.case_messages import MESSAGES
from engine.casework.transfer_package import PACKAGE_KIND, package_from_document, transfer_package_filename
from engine.errors import FormInvalid, InvalidState, NotAllowed, NotFound
from engine.lists.cases import PARTY_ROLE_LABELS, case_list, case_parties, case_routes, case_timeline, completed_task_ids
from engine.lists.documents import case_documents
from engine.lists.names import route_names
from engine.people.access import DocumentReader, document_reader
from engine.people.roles import Role
from engine.runtime.deadlines import EXCEPTION_REASONS, deadline_state, deadlines_for_case
from engine.store.models import Case, Deadline, Document, Organisation, ProcessInstance, ProcessVersion, User
from webui.access import staff
from webui.cases.blueprint import bp, can_claim_exceptions, can_export_package, case_or_404
from webui.cases.starts import start_links
from webui.context import db, engine, today
from webui.numbers import cursor, page_number
from webui.sanitize import clean_html


@bp.get("/")
@staff
def index() -> ResponseReturnValue:
    """The cases you can see, searched by child's name or case reference."""
    q = " ".join((request.args.get("q") or "").split())[:100]
    page_arg = request.args.get("page", "1")
    page = case_list(db(), current_user.id, q or None, page_number(page_arg), after=cursor(request.args.get("after")),
                     before=cursor(request.args.get("before")))
    return render_template("cases/index.html", page=page, q=q,
                           url_for_list=lambda **changes: url_for("cases.index", q=q or None, **changes))


@bp.get("/<int:case_id>")
@staff
def case(case_id: int) -> ResponseReturnValue:
    """Everything about one case."""
    case = case_or_404(case_id)
    # First, so a route found damaged shows as failed below and the message list does not restore it again.
    unreadable = unreadable_routes(engine(), db(), case.id)
    day = today()
    deadlines = [(d, deadline_state(d, day)) for d in deadlines_for_case(db(), case.id)]
    claimers = {d.exception_claimed_by_id for d, _ in deadlines if d.exception_claimed_by_id}
    people = dict(db().execute(select(User.id, User.name).where(User.id.in_(claimers))).all())
    routes = case_routes(db(), case.id, unreadable)
    org_ids = {t.organisation_id for r in routes for t in r.open_tasks if t.organisation_id}
    organisations = dict(db().execute(select(Organisation.id, Organisation.name)
                                      .where(Organisation.id.in_(org_ids))).all())
    timeline = case_timeline(db(), case.id, limit=15)
    can_message = any(case_messages.may_send(db(), current_user.record, case, m) for m in MESSAGES.values())
    return render_template(
        "cases/case.html", case=case, la=db().get(Organisation, case.la_id), parties=case_parties(db(), case.id),
        party_labels=PARTY_ROLE_LABELS, deadlines=deadlines, reasons=EXCEPTION_REASONS, claimers=people,
        can_claim=can_claim_exceptions(case), routes=routes, organisations=organisations,
        documents=case_documents(db(), case.id, reader=_reader(case)), plans=_plan_versions(case.id),
        timeline=timeline, today=day,
        role_label=_role_label, can_act=_can_act_ids(case.id, routes), can_message=can_message,
        messages=case_messages.offered_messages(engine(), db(), case) if can_message else [],
        package_kind=PACKAGE_KIND, can_export=can_export_package(case), start_options=start_links(case),
    )


def _role_label(role: str | None) -> str:
    return Role(role).label if role in Role._value2member_map_ else (role or "")


def _can_act_ids(case_id: int, routes: list[Any]) -> set[int]:
    """The open tasks on the page that the user may open (as ``engine.people.access.can_act_on_task`` decides)."""
    from engine.lists.tasks import can_act

    who = current_user.holder
    family = current_user.family_cases()
    return {t.id for r in routes for t in r.open_tasks
            if can_act(t.role, t.organisation_id, t.assignee_id, case_id, who, family)}


def _plan_versions(case_id: int) -> list[Any]:
    try:
        from engine.casework.plans import list_versions
    except ImportError:  # the plan module is part of the plan-drafting route
        return []
    return list_versions(db(), case_id)


@bp.get("/<int:case_id>/timeline")
@staff
def timeline(case_id: int) -> ResponseReturnValue:
    """Everything that happened on the case, newest first."""
    case = case_or_404(case_id)
    page_arg = request.args.get("page", "1")
    number = page_number(page_arg)
    per_page = 50
    entries = case_timeline(db(), case.id, limit=per_page, offset=(number - 1) * per_page)
    return render_template("cases/timeline.html", case=case, timeline=entries)


# ---- documents and plans -------------------------------------------------------------------------------------------

def _reader(case: Case) -> DocumentReader:
    """The signed-in member of staff as a reader of the case's documents (need to know)."""
    return document_reader(db(), current_user.record, case)


def document_or_404(case: Case, document_id: int) -> Document:
    """A document on the case that the signed-in member of staff may read: the responsible authority reads them all;
    another organisation what was sent to it, what it wrote and advice the family agreed to share with it (it may
    see the case, so a document it may not read is "forbidden", not "not found")."""
    document = db().get(Document, document_id)
    if document is None or document.case_id != case.id:
        abort(404)
    if not _reader(case).may_see(document, case.la_id):
        abort(403)
    return document


def download_name(title: str, suffix: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9]+", "-", title).strip("-").lower()[:80] or "document"
    return f"{slug}{suffix}"


def standalone_html(title: str, body: str) -> str:
    from markupsafe import escape

    return ("<!DOCTYPE html>\n<html lang=\"en-GB\"><head><meta charset=\"utf-8\">"
            f"<title>{escape(title)}</title><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            "<style>body{font-family:arial,sans-serif;max-width:48em;margin:2em auto;padding:0 1em;line-height:1.5;"
            "color:#0b0c0c}table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #b1b4b6;"
            "padding:.4em .6em .4em 0;text-align:left;vertical-align:top}</style></head><body>"
            f"{clean_html(body)}</body></html>\n")


def document_download(document: Document) -> Response:
    response = Response(standalone_html(document.title, document.body_html), mimetype="text/html")
    name = download_name(document.title, f"-{document.issued_at:%Y-%m-%d}.html")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@bp.get("/<int:case_id>/documents/<int:document_id>")
@staff
def document(case_id: int, document_id: int) -> ResponseReturnValue:
    """A document issued on the case, as a page."""
    case = case_or_404(case_id)
    document = document_or_404(case, document_id)
    issued_by = db().get(User, document.issued_by_id) if document.issued_by_id else None
    package_url = (url_for("cases.transfer_package", case_id=case.id, package_id=document.id)
                   if document.kind == PACKAGE_KIND and can_export_package(case) else None)
    return render_template("cases/document.html", case=case, document=document, body=clean_html(document.body_html),
                           issued_by=issued_by, back_url=url_for("cases.case", case_id=case.id) + "#documents",
                           package_url=package_url)


@bp.get("/<int:case_id>/documents/<int:document_id>/download")
@staff
def document_file(case_id: int, document_id: int) -> ResponseReturnValue:
    """A document issued on the case, as an HTML file to keep or print."""
    case = case_or_404(case_id)
    return document_download(document_or_404(case, document_id))


@bp.get("/<int:case_id>/transfer-packages/<int:package_id>")
@staff
def transfer_package(case_id: int, package_id: int) -> ResponseReturnValue:
    """A transfer package exported for an authority that does not use EHC Flow, as its JSON file."""
    case = case_or_404(case_id)
    document = document_or_404(case, package_id)
    if document.kind != PACKAGE_KIND:
        abort(404)
    if not can_export_package(case):
        abort(403)
    try:
        package = package_from_document(document)
    except NotFound:
        abort(404)
    response = Response(json.dumps(package, ensure_ascii=False, indent=2) + "\n", mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="{transfer_package_filename(package)}"'
    return response


def plan_or_404(case: Case, version_id: int) -> Any:
    try:
        from engine.casework.plans import get_version
    except ImportError:
        abort(404)
    try:
        version = get_version(db(), version_id)
    except NotFound:
        abort(404)
    if version.case_id != case.id:
        abort(404)
    return version


def previous_plan(version: Any) -> Any:
    from engine.casework.plans import list_versions

    if version.based_on_id:
        return db().get(type(version), version.based_on_id)
    older = [v for v in list_versions(db(), version.case_id) if v.number < version.number]
    return max(older, key=lambda v: v.number) if older else None


@bp.get("/<int:case_id>/plans/<int:version_id>")
@staff
def plan(case_id: int, version_id: int) -> ResponseReturnValue:
    """A version of the case's EHC plan."""
    from engine.casework.plan_render import render_plan_html

    case = case_or_404(case_id)
    version = plan_or_404(case, version_id)
    body = clean_html(render_plan_html(db(), version, standalone=False))
    return render_template("cases/plan.html", case=case, version=version, body=body, previous=previous_plan(version),
                           family_view=False, back_url=url_for("cases.case", case_id=case.id) + "#plans")


@bp.get("/<int:case_id>/plans/<int:version_id>/pdf")
@staff
def plan_pdf(case_id: int, version_id: int) -> ResponseReturnValue:
    """A version of the plan as a PDF."""
    from engine.casework.plan_render import pdf_filename, render_plan_pdf

    case = case_or_404(case_id)
    version = plan_or_404(case, version_id)
    response = Response(render_plan_pdf(db(), version), mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{pdf_filename(db(), version)}"'
    return response


@bp.get("/<int:case_id>/plans/<int:version_id>/changes")
@staff
def plan_changes(case_id: int, version_id: int) -> ResponseReturnValue:
    """What changed from the version before."""
    from engine.casework.plan_render import render_comparison_html

    case = case_or_404(case_id)
    version = plan_or_404(case, version_id)
    older = previous_plan(version)
    if older is None:
        abort(404)
    body = clean_html(render_comparison_html(db(), older, version))
    return render_template("cases/plan_changes.html", case=case, version=version, older=older, body=body,
                           back_url=url_for("cases.plan", case_id=case.id, version_id=version.id))


# ---- timescale exceptions ------------------------------------------------------------------------------------------

@bp.route("/<int:case_id>/deadlines/<int:deadline_id>/exception", methods=["GET", "POST"])
@staff
def exception(case_id: int, deadline_id: int) -> ResponseReturnValue:
    """Record why a statutory timescale could not be met (a caseworker or manager of the responsible LA)."""
    case = case_or_404(case_id)
    deadline = db().get(Deadline, deadline_id)
    if deadline is None or deadline.case_id != case.id:
        abort(404)
    if not can_claim_exceptions(case):
        abort(403)
    errors: dict[str, str] = {}
    values = {"reason": "", "detail": "", "day": "", "month": "", "year": ""}
    if deadline.exception_reason or deadline.status == "cancelled":
        flash("An exception is already recorded for this deadline." if deadline.exception_reason
              else "This deadline no longer applies.", "info")
        return redirect(url_for("cases.case", case_id=case.id) + "#clock")
    if request.method == "POST":
        values = {k: (request.form.get(k if k in ("reason", "detail") else f"family_told_on-{k}") or "").strip()
                  for k in values}
        told, date_error = _told_on(values["day"], values["month"], values["year"])
        try:
            engine().claim_exception(deadline.id, values["reason"], values["detail"], told, current_user.record)
        except FormInvalid as exc:
            errors = dict(exc.errors)
            if date_error:
                errors["family_told_on"] = date_error
        except (InvalidState, NotAllowed) as exc:
            flash(str(exc), "info")
            return redirect(url_for("cases.case", case_id=case.id) + "#clock")
        else:
            flash(f"The exception for “{deadline.name}” has been recorded.", "success")
            return redirect(url_for("cases.case", case_id=case.id) + "#clock")
    reasons = {k: v for k, v in EXCEPTION_REASONS.items()
               if k != "missed_appointment" or deadline.key.startswith("advice")}
    return render_template("cases/exception.html", case=case, deadline=deadline, reasons=reasons, errors=errors,
                           values=values, state=deadline_state(deadline, today()))


def _told_on(day: str, month: str, year: str) -> tuple[str | None, str | None]:
    """The date from a GOV.UK date input as ISO, or what is wrong with it (in GOV.UK words)."""
    parts = {"day": day, "month": month, "year": year}
    if not any(parts.values()):
        return None, None
    missing = [name for name, value in parts.items() if not value]
    if missing:
        return "invalid", f"The date the family was told must include a {' and a '.join(missing)}"
    try:
        if len(year) != 4:
            raise ValueError
        return date(int(year), int(month), int(day)).isoformat(), None
    except ValueError:
        return "invalid", "The date the family was told must be a real date"


# ---- diagrams ------------------------------------------------------------------------------------------------------

def bpmn_files(version: ProcessVersion) -> dict[str, str]:
    return {name: text for name, text in (version.files or {}).items() if not name.startswith("forms/")}


def defines(text: str, element_id: str) -> bool:
    return re.search(r'\bid="' + re.escape(element_id) + '"', text) is not None


@bp.get("/<int:case_id>/routes/<int:instance_id>/diagram.json")
@staff
def diagram(case_id: int, instance_id: int) -> ResponseReturnValue:
    """The BPMN of the version a route instance runs on, and the steps to highlight (for bpmn-js)."""
    case = case_or_404(case_id)
    instance = db().get(ProcessInstance, instance_id)
    if instance is None or instance.case_id != case.id:
        abort(404)
    version = db().get(ProcessVersion, instance.process_version_id)
    assert version is not None
    route = next((r for r in case_routes(db(), case.id) if r.id == instance.id), None)
    current = sorted({t.bpmn_id for t in route.open_tasks}) if route else []
    waiting = sorted({t.bpmn_id for t in route.waiting_timers}) if route else []
    files = bpmn_files(version)
    main = next((n for n, text in files.items() if defines(text, instance.process_id)), None)
    chosen = [main] if main else []
    for name, text in files.items():
        if name not in chosen and any(defines(text, element) for element in current):
            chosen.append(name)
    return jsonify({
        "process_id": instance.process_id,
        "version": version.short_hash,
        "status": instance.status,
        "current": current,
        "waiting": waiting,
        "done": sorted(completed_task_ids(db(), instance.id)),
        "diagrams": [{"name": name.rsplit("/", 1)[-1], "xml": files[name]} for name in chosen],
        "route_names": route_names(db()),  # captions each call activity with the route it starts
    })
