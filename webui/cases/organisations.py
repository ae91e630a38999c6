"""Which school or setting, health body and mediation service work with the child on a case: the routes send their
tasks and notices to them. Changed by the responsible authority's caseworkers and managers."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from engine.errors import FormInvalid
from engine.intake.parties import ORGANISATION_ROLES, ROLE_LABELS, choices, current_parties, set_parties
from webui.access import staff
from webui.cases.blueprint import bp, can_claim_exceptions, case_or_404
from webui.context import clock, db
from webui.numbers import whole_number


@bp.route("/<int:case_id>/organisations", methods=["GET", "POST"])
@staff
def organisations(case_id: int) -> ResponseReturnValue:
    """Change the organisations working with the child."""
    case = case_or_404(case_id)
    if not can_claim_exceptions(case):
        abort(403)
    present = {role: party.organisation_id for role, party in current_parties(db(), case.id).items()}
    chosen: dict[str, str] = {role: str(present.get(role) or "") for role in ORGANISATION_ROLES}
    errors: dict[str, str] = {}
    if request.method == "POST":
        wanted: dict[str, int | None] = {}
        for role in ORGANISATION_ROLES:
            raw = request.form.get(role)
            if raw is None:
                errors[role] = f"Choose a {ROLE_LABELS[role].lower()}, or none"
                continue
            chosen[role] = raw
            wanted[role] = whole_number(raw) if raw else None
            if raw and wanted[role] is None:
                errors[role] = f"Choose a {ROLE_LABELS[role].lower()} from the list"
        if not errors:
            try:
                changed = set_parties(db(), case, wanted, current_user.record, clock().now())
            except FormInvalid as exc:
                db().rollback()
                errors = exc.errors
            else:
                db().commit()
                flash("Saved: the routes now send their tasks and notices to the organisations chosen." if changed
                      else "Nothing changed.", "success")
                return redirect(url_for("cases.case", case_id=case.id))
    options = {role: choices(db(), role) for role in ORGANISATION_ROLES}
    return render_template("cases/organisations.html", case=case, options=options, chosen=chosen, errors=errors,
                           error_items=[{"text": message, "href": f"#{role}"} for role, message in errors.items()],
                           labels=ROLE_LABELS), 400 if errors else 200
