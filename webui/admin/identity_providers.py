"""Single sign-on: each organisation's administrators connect its OpenID Connect provider (issuer, client id, client
secret, the name on the sign-in button, on or off). The engine checks and stores it (``engine.people.sso``); the
secret is never shown again, and leaving its field empty keeps the one stored."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from engine.admin.user_admin import administered_organisations
from engine.errors import FormInvalid, NotAllowed
from engine.people import sso
from engine.store.models import Organisation
from webui.access import staff
from webui.admin.common import admin_orgs, bp, error_list, form_text
from webui.context import clock, db


@bp.get("/identity-providers")
@staff
def identity_providers() -> ResponseReturnValue:
    """The organisations you administer and whether their staff sign in with their own accounts."""
    orgs = administered_organisations(db(), admin_orgs())
    return render_template("admin/identity_providers.html",
                           rows=[(org, sso.provider_of(db(), org.id)) for org in orgs])


@bp.route("/organisations/<int:organisation_id>/identity-provider", methods=["GET", "POST"])
@staff
def identity_provider(organisation_id: int) -> ResponseReturnValue:
    """Set up, change or turn off an organisation's identity provider."""
    if organisation_id not in admin_orgs():
        abort(404)
    org = db().get(Organisation, organisation_id)
    if org is None:
        abort(404)
    provider = sso.provider_of(db(), org.id)
    values = {"issuer": provider.issuer if provider else "", "client_id": provider.client_id if provider else "",
              "display_name": (provider.display_name or "") if provider else "",
              "enabled": provider.enabled if provider else True}
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = {"issuer": form_text("issuer", 1000), "client_id": form_text("client_id", 1000),
                  "display_name": form_text("display_name", 1000), "enabled": request.form.get("enabled") == "yes"}
        try:
            sso.save_provider(db(), current_user.record, org.id, issuer=str(values["issuer"]),
                              client_id=str(values["client_id"]), display_name=str(values["display_name"]),
                              client_secret=(request.form.get("client_secret") or "").strip(),
                              enabled=bool(values["enabled"]), app_secret_key=current_app.config["SECRET_KEY"],
                              clock=clock(), allow_http_loopback=current_app.testing or current_app.debug)
        except FormInvalid as exc:
            db().rollback()
            errors = dict(exc.errors)
        except NotAllowed:
            db().rollback()
            abort(404)
        else:
            db().commit()
            flash(f"Sign-in for {org.name} has been saved"
                  + ("." if values["enabled"] else ": it is turned off."), "success")
            return redirect(url_for("admin.identity_providers"))
    return render_template("admin/identity_provider.html", org=org, provider=provider, values=values, errors=errors,
                           error_items=error_list(errors),
                           redirect_uri=url_for("auth.sso_callback", _external=True))
