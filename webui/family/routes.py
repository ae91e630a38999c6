"""The family's view: a parent, carer or young person sees only their own cases, in plain English.

For each case: what they need to do, where each route is and what happens next (and by when), and the letters and
plans they have been sent. Staff pages (the timeline, internal tasks' details) are not shown here.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from engine.casework.case_messages import MESSAGES, family_schema, may_send, offered_messages
from engine.casework.named_parent import is_the_young_person, parents, rights_pass_on, set_named_parent
from engine.errors import InvalidState, NotFound
from engine.lists.cases import case_routes
from engine.lists.documents import case_documents
from engine.lists.family import family_cases, family_plan_versions, open_deadlines
from engine.lists.names import organisations_by_id
from engine.people.access import acts_for_young_person, may_see_document
from engine.people.roles import Role
from engine.store.models import Case, Document, Organisation
from webui.access import family
from webui.cases.messages import MessagePage
from webui.cases.routes import document_download
from webui.cases.starts import start_links
from webui.context import clock, db, engine, today
from webui.numbers import whole_number
from webui.sanitize import clean_html

bp = Blueprint("family", __name__, url_prefix="/family")


def case_or_404(case_id: int) -> Case:
    """One of the user's own cases; any other id is "not found"."""
    if case_id not in current_user.family_cases():
        abort(404)
    case = db().get(Case, case_id)
    if case is None:
        abort(404)
    return case


def who_does(role: str | None, organisation: Organisation | None, la: Organisation | None) -> str:
    """Who does a step, as a family would say it."""
    if role == Role.FAMILY.value:
        return "You"
    if role in (Role.CASEWORKER.value, Role.MANAGER.value, Role.EDUCATIONAL_PSYCHOLOGIST.value,
                Role.SOCIAL_CARE.value):
        name = la.name if la else "The local authority"
        if role == Role.EDUCATIONAL_PSYCHOLOGIST.value:
            return f"An educational psychologist at {name}"
        if role == Role.SOCIAL_CARE.value:
            return f"Social care at {name}"
        return name
    if role == Role.HEALTH.value:
        return f"Health services ({organisation.name})" if organisation else "Health services"
    if role == Role.SCHOOL.value:
        return organisation.name if organisation else "The school or college"
    if role == Role.MEDIATION.value:
        return organisation.name if organisation else "The mediation service"
    return organisation.name if organisation else "Someone involved"


@bp.get("/")
@family
def index() -> ResponseReturnValue:
    """Your cases."""
    return render_template("family/index.html", cases=family_cases(db(), current_user.id))


@bp.get("/cases/<int:case_id>")
@family
def case(case_id: int) -> ResponseReturnValue:
    """Where things are on one case, what happens next, and what you have been sent."""
    case = case_or_404(case_id)
    la = db().get(Organisation, case.la_id)
    routes = case_routes(db(), case.id)
    orgs = organisations_by_id(db(), [t.organisation_id for r in routes for t in r.open_tasks])
    # Not a task the route gave the young person, unless it is theirs or they named this parent to act for them.
    acting = acts_for_young_person(db(), current_user.record, case.id)
    my_tasks = [t for r in routes for t in r.open_tasks if t.role == Role.FAMILY.value
                and (t.assignee_id in (None, current_user.id) or acting)]
    steps: dict[int, list[dict[str, Any]]] = {
        r.id: [{"task": t, "who": who_does(t.role, orgs.get(t.organisation_id or -1), la)} for t in r.open_tasks]
        for r in routes
    }
    return render_template("family/case.html", case=case, la=la, routes=routes, steps=steps, my_tasks=my_tasks,
                           deadlines=open_deadlines(db(), case.id), today=today(),
                           documents=case_documents(db(), case.id, family_only=True),
                           plans=family_plan_versions(db(), case.id),
                           can_ask_drs=any(o.name == "drs_requested" for o in family_messages(case)),
                           is_young_person=is_the_young_person(db(), case.id, current_user.id),
                           start_options=start_links(case, as_family=True))


def family_messages(case: Case) -> list[Any]:
    """What the family can tell the case's routes now (asking for disagreement resolution)."""
    return offered_messages(engine(), db(), case, family=True)


def _document_or_404(case: Case, document_id: int) -> Document:
    """A document on the case that the family may read (sent to them or about them); any other is "not found"."""
    document = db().get(Document, document_id)
    if document is None or not may_see_document(db(), current_user.record, case, document, as_family=True):
        abort(404)
    return document


@bp.get("/cases/<int:case_id>/documents/<int:document_id>")
@family
def document(case_id: int, document_id: int) -> ResponseReturnValue:
    """A letter or notice you have been sent."""
    case = case_or_404(case_id)
    document = _document_or_404(case, document_id)
    return render_template("cases/document.html", case=case, document=document, body=clean_html(document.body_html),
                           issued_by=None, back_url=url_for("family.case", case_id=case.id) + "#documents",
                           download_url=url_for("family.document_file", case_id=case.id, document_id=document.id))


@bp.get("/cases/<int:case_id>/documents/<int:document_id>/download")
@family
def document_file(case_id: int, document_id: int) -> ResponseReturnValue:
    """A letter or notice you have been sent, to keep or print."""
    case = case_or_404(case_id)
    return document_download(_document_or_404(case, document_id))


def _plan_or_404(case: Case, version_id: int) -> Any:
    version = next((v for v in family_plan_versions(db(), case.id) if v.id == version_id), None)
    if version is None:
        abort(404)
    return version


@bp.get("/cases/<int:case_id>/plans/<int:version_id>")
@family
def plan(case_id: int, version_id: int) -> ResponseReturnValue:
    """A version of your child's (or your) EHC plan that you have been sent."""
    from engine.casework.plan_render import render_plan_html

    case = case_or_404(case_id)
    version = _plan_or_404(case, version_id)
    body = clean_html(render_plan_html(db(), version, standalone=False))
    return render_template("cases/plan.html", case=case, version=version, body=body, previous=None, family_view=True,
                           back_url=url_for("family.case", case_id=case.id) + "#plans",
                           pdf_url=url_for("family.plan_pdf", case_id=case.id, version_id=version.id))


@bp.get("/cases/<int:case_id>/plans/<int:version_id>/pdf")
@family
def plan_pdf(case_id: int, version_id: int) -> ResponseReturnValue:
    """The plan as a PDF."""
    from engine.casework.plan_render import pdf_filename, render_plan_pdf

    case = case_or_404(case_id)
    version = _plan_or_404(case, version_id)
    response = Response(render_plan_pdf(db(), version), mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{pdf_filename(db(), version)}"'
    return response


@bp.route("/cases/<int:case_id>/disagreement-resolution", methods=["GET", "POST"])
@family
def disagreement_resolution(case_id: int) -> ResponseReturnValue:
    """Ask for disagreement resolution, which a family may do at any time (it never affects the right to appeal)."""
    case = case_or_404(case_id)
    kind = MESSAGES["drs_requested"]
    if not may_send(db(), current_user.record, case, kind):
        abort(404)
    page = MessagePage(case, kind, family_schema(kind), url_for("family.disagreement_resolution", case_id=case.id),
                       url_for("family.case", case_id=case.id), family_view=True)
    return page.handle()


@bp.route("/cases/<int:case_id>/parent-acting-for-you", methods=["GET", "POST"])
@family
def named_parent(case_id: int) -> ResponseReturnValue:
    """The young person asks a parent on the case to act for them (or stops them); only the young person can."""
    case = case_or_404(case_id)
    if not is_the_young_person(db(), case.id, current_user.id):
        abort(403)
    here = url_for("family.named_parent", case_id=case.id)
    if request.method == "POST":
        user_id, action = whole_number(request.form.get("user_id")), request.form.get("action", "")
        if user_id is None or action not in ("name", "withdraw"):
            flash("Choose who you mean.", "error")
            return redirect(here)
        try:
            set_named_parent(db(), case, user_id, action == "name", current_user.record, clock().now())
        except (InvalidState, NotFound) as exc:
            db().rollback()
            flash(str(exc), "error")
            return redirect(here)
        db().commit()
        flash("Saved. The local authority will send your letters to you and to the people you have chosen.",
              "success")
        return redirect(here)
    starts = rights_pass_on(case)
    return render_template("family/named_parent.html", case=case, members=parents(db(), case.id), starts=starts,
                           rights_passed=starts is not None and today() >= starts)
