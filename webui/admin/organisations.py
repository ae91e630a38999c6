"""Organisations: the ones you administer, and adding one (a local authority, health body, setting or service).

Whoever adds an organisation becomes its first administrator (``engine.people.users.create_organisation_as_admin``), so
that they can add its people; they can later give the role to someone there and take their own away.
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from engine.admin.user_admin import administered_organisations, member_counts
from engine.people.users import ORGANISATION_KIND_LABELS, create_organisation_as_admin, may_add_local_authority
from engine.store.models import Organisation
from webui.access import staff
from webui.admin.common import admin_orgs, bp, error_list, form_text
from webui.context import clock, db

SETTING_TYPES = {
    "maintained_school": "Maintained school",
    "maintained_nursery": "Maintained nursery",
    "academy": "Academy",
    "free_school": "Free school",
    "fe_college": "Further education college",
    "sixth_form_college": "Sixth form college",
    "non_maintained_special": "Non-maintained special school",
    "independent_s41": "Independent school (section 41 approved)",
    "early_years": "Early years setting",
}


@bp.get("/organisations")
@staff
def organisations() -> ResponseReturnValue:
    """The organisations you administer."""
    orgs = admin_orgs()
    return render_template("admin/organisations.html", organisations=administered_organisations(db(), orgs),
                           counts=member_counts(db(), orgs), kinds=ORGANISATION_KIND_LABELS)


@bp.get("/organisations/<int:organisation_id>")
@staff
def organisation(organisation_id: int) -> ResponseReturnValue:
    """One organisation you administer."""
    if organisation_id not in admin_orgs():
        abort(404)
    org = db().get(Organisation, organisation_id)
    if org is None:
        abort(404)
    maintaining = db().get(Organisation, org.maintaining_la_id) if org.maintaining_la_id else None
    return render_template("admin/organisation.html", org=org, kinds=ORGANISATION_KIND_LABELS,
                           setting_types=SETTING_TYPES, maintaining=maintaining,
                           members=member_counts(db(), [org.id]).get(org.id, 0))


@bp.route("/organisations/new", methods=["GET", "POST"])
@staff
def new_organisation() -> ResponseReturnValue:
    """Add an organisation; you become its first administrator."""
    orgs = admin_orgs()
    las = [o for o in administered_organisations(db(), orgs) if o.kind == "local_authority"]
    # A local authority is offered only to a system administrator (the engine refuses it to anyone else too).
    kinds = {k: v for k, v in ORGANISATION_KIND_LABELS.items()
             if k != "local_authority" or may_add_local_authority(db(), current_user.record)}
    values = {"name": "", "kind": "", "code": "", "email": "", "setting_type": "", "maintaining_la": ""}
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = {key: form_text(key, 1000) for key in values}
        if not values["name"]:
            errors["name"] = "Enter the organisation's name"
        elif len(values["name"]) > 200:
            errors["name"] = "The name must be 200 characters or fewer"
        if values["kind"] == "local_authority" and "local_authority" not in kinds:
            errors["kind"] = "Only a system administrator can add a local authority"
        elif values["kind"] not in kinds:
            errors["kind"] = "Select what kind of organisation it is"
        if values["kind"] == "setting" and values["setting_type"] not in SETTING_TYPES:
            errors["setting_type"] = "Select the type of setting"
        if values["code"] and (len(values["code"]) > 40 or not values["code"].replace("-", "").isalnum()):
            errors["code"] = "The code can only have letters, numbers and hyphens, up to 40"
        if len(values["email"]) > 200:
            errors["email"] = "The email address must be 200 characters or fewer"
        elif values["email"] and "@" not in values["email"]:
            errors["email"] = "Enter an email address in the correct format, like send@council.example"
        maintaining = next((o for o in las if str(o.id) == values["maintaining_la"]), None)
        if values["kind"] == "setting" and values["maintaining_la"] and maintaining is None:
            errors["maintaining_la"] = "Select a local authority you administer, or none"
        if not errors:
            fields: dict[str, object] = {"code": values["code"] or None, "email": values["email"] or None}
            if values["kind"] == "setting":
                fields["setting_type"] = values["setting_type"]
                fields["maintaining_la_id"] = maintaining.id if maintaining else None
            try:
                org = create_organisation_as_admin(db(), current_user.record, values["name"], values["kind"],
                                                   clock(), **fields)
                db().flush()
            except (ValueError, PermissionError) as exc:
                db().rollback()
                errors["code" if str(exc).startswith("An organisation with the code") else "name"] = str(exc)
            else:
                db().commit()
                flash(f"{org.name} has been added. You are its administrator: add its people.", "success")
                return redirect(url_for("admin.organisation", organisation_id=org.id))
    return render_template("admin/organisation_new.html", values=values, errors=errors,
                           kinds=kinds, setting_types=SETTING_TYPES, las=las,
                           error_items=error_list(errors))
