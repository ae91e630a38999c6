"""A health professional's notice to the local authority about a young child (Children and Families Act 2014 s.23):
the young children on the cases of their health bodies, and the form that sends the notice, which starts the
authority's consideration (workflows/early_years_notice.bpmn). The rules are in
``engine.casework.sen_support_early_years``."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select

from engine.casework import sen_support_early_years as notices
from engine.errors import FormInvalid, InstanceFailed, InvalidState, NotAllowed
from engine.people.roles import Role
from engine.store.models import Case, CaseParty
from webui.access import staff
from webui.context import db, engine, today
from webui.forms import options as form_options
from webui.forms.build import build_form
from webui.forms.conversion import from_raw, to_raw
from webui.forms.raw_values import clean_raw
from webui.sen_support.routes import bp


def _health_bodies() -> set[int]:
    """The health bodies of a health professional; anyone else is refused (the pages are theirs)."""
    bodies = {org for org, role in current_user.holder.roles if org is not None and role == Role.HEALTH.value}
    if not bodies:
        abort(403)
    return bodies


@bp.get("/early-years-notices")
@staff
def early_years_notices() -> ResponseReturnValue:
    """The children under compulsory school age on the open cases of the user's health bodies."""
    bodies = _health_bodies()
    day = today()
    cases = db().scalars(select(Case).join(CaseParty, CaseParty.case_id == Case.id).where(
        CaseParty.role == "health_body", CaseParty.active.is_(True), CaseParty.organisation_id.in_(sorted(bodies)),
        Case.status == "open", Case.date_of_birth.is_not(None)).distinct()
        .order_by(Case.child_last_name, Case.child_first_name, Case.id))
    children = [(case, notices.notices_sent(db(), case.id)) for case in cases
                if notices.under_compulsory_school_age(case, day)]
    return render_template("sen_support/early_years_notices.html", children=children)


@bp.route("/early-years-notices/<int:case_id>", methods=["GET", "POST"])
@staff
def early_years_notice(case_id: int) -> ResponseReturnValue:
    """Tell the local authority about this young child: the notice starts the authority's consideration."""
    _health_bodies()
    case = db().get(Case, case_id)
    if case is None or not notices.health_bodies_of(db(), current_user.record, case):
        abort(404)
    if not notices.may_send_notice(db(), current_user.record, case, today()):
        # A child of compulsory school age (or a closed case): the school or the family asks instead.
        return render_template("sen_support/early_years_notice.html", case=case, form=None, errors=[],
                               problem=None)
    schema = notices.NOTICE_SCHEMA
    raw = to_raw(schema, {}) if request.method == "GET" else clean_raw(schema, request.form.lists())
    errors: dict[str, str] = {}
    problem = None
    if request.method == "POST":
        converted = from_raw(schema, raw)
        errors = dict(converted.errors)
        if not errors:
            try:
                notices.send_notice(engine(), case.id, converted.data, current_user.record)
            except FormInvalid as exc:
                errors = dict(exc.errors)
            except NotAllowed:
                abort(403)
            except (InvalidState, InstanceFailed) as exc:
                problem = str(exc)
            else:
                flash(f"Your notice about {case.child_name} has been sent to the local authority.", "success")
                return redirect(url_for("sen_support.early_years_notices"))
    form = build_form(schema, raw, errors, form_options.provider(db()))
    return render_template("sen_support/early_years_notice.html", case=case, form=form, errors=form.error_list,
                           problem=problem)
