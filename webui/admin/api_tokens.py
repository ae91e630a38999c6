"""API tokens: an administrator issues a token for another system to call the JSON API for one of their
organisations (docs/api.md), sees their organisations' tokens with their last use, and revokes one.

The token is shown once, on the page that answers its issue; only its hash is kept (engine/people/api_tokens.py)."""

from __future__ import annotations

from datetime import date

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from engine.admin.user_admin import administered_organisations
from engine.errors import FormInvalid, NotAllowed, NotFound
from engine.people.api_tokens import (
    SCOPE_LABELS,
    administered_token,
    issue_token,
    revoke_token,
    token_roles,
    token_state,
    tokens_of,
)
from engine.people.roles import Role
from engine.store.models import Organisation
from webui.access import staff
from webui.admin.common import admin_orgs, bp, error_list, form_int, form_text
from webui.context import clock, db, today


@bp.get("/api-tokens")
@staff
def api_tokens() -> ResponseReturnValue:
    """The API tokens of the organisations you administer, working ones first."""
    orgs = admin_orgs()
    names = {o.id: o.name for o in administered_organisations(db(), orgs)}
    return render_template("admin/api_tokens.html", tokens=tokens_of(db(), orgs), names=names, state=token_state,
                           today=today(), scopes=SCOPE_LABELS, role_label=role_label)


@bp.route("/api-tokens/new", methods=["GET", "POST"])
@staff
def new_api_token() -> ResponseReturnValue:
    """Issue a token: which organisation, a name, the role it acts with, read or write, and when it stops working."""
    orgs = administered_organisations(db(), admin_orgs())
    roles = {org.id: token_roles(db(), current_user.record, org.id) for org in orgs}
    values = {"organisation": str(orgs[0].id) if len(orgs) == 1 else "", "name": "", "role": "", "scope": "read",
              "expires-day": "", "expires-month": "", "expires-year": ""}
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = {key: form_text(key, 200) for key in values}
        org_id = form_int("organisation")
        expires_on, date_error = _date(values["expires-day"], values["expires-month"], values["expires-year"])
        if org_id not in roles:
            errors["organisation"] = "Select the organisation the token acts for"
        else:
            try:
                issued = issue_token(db(), current_user.record, org_id, values["name"], values["role"],
                                     values["scope"], expires_on, clock())
            except FormInvalid as exc:
                db().rollback()
                errors = dict(exc.errors)
            except NotAllowed:
                db().rollback()
                abort(403)
            else:
                db().commit()
                organisation = db().get(Organisation, issued.row.organisation_id)
                return render_template("admin/api_token_issued.html", row=issued.row, token=issued.token,
                                       organisation=organisation, scopes=SCOPE_LABELS, role_label=role_label)
        if date_error:
            errors["expires_on"] = date_error
    return render_template("admin/api_token_new.html", organisations=orgs, roles=roles, values=values, errors=errors,
                           error_items=error_list(errors, {"expires_on": "#expires-day", "organisation": "#organisation",
                                                           "role": "#role", "scope": "#scope"}),
                           scopes=SCOPE_LABELS)


@bp.route("/api-tokens/<int:token_id>/revoke", methods=["GET", "POST"])
@staff
def revoke_api_token(token_id: int) -> ResponseReturnValue:
    """Confirm, then revoke: the token stops working at once, for good."""
    admin_orgs()
    try:
        row = administered_token(db(), current_user.record, token_id)
    except NotFound:
        abort(404)
    if request.method == "POST" and request.form.get("_action") == "revoke":
        revoke_token(db(), current_user.record, row.id, clock())
        db().commit()
        flash(f"The API token “{row.name}” has been revoked. It no longer works.", "success")
        return redirect(url_for("admin.api_tokens"))
    return render_template("admin/api_token_revoke.html", row=row, organisation=db().get(Organisation,
                                                                                           row.organisation_id))


def role_label(role: str) -> str:
    return Role(role).label if role in Role._value2member_map_ else role


def _date(day: str, month: str, year: str) -> tuple[date | None, str | None]:
    """A GOV.UK date input's date, or what is wrong with it (in GOV.UK words)."""
    parts = {"day": day, "month": month, "year": year}
    if not any(parts.values()):
        return None, None  # the engine says it is missing
    missing = [name for name, value in parts.items() if not value]
    if missing:
        return None, f"The date the token stops working must include a {' and a '.join(missing)}"
    try:
        if len(year) != 4:
            raise ValueError
        return date(int(year), int(month), int(day)), None
    except ValueError:
        return None, "The date the token stops working must be a real date"
