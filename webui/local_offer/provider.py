"""Providers' own entries: a school's SENCO, a health body's staff or a charity's staff propose changes to the Local
Offer entries their organisation provides; each starts the LA's review route (engine/local_offer/review_route.py);
the LA's side is in changes.py."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from engine.errors import FormInvalid, NotFound
from engine.local_offer import proposals, review_route
from engine.local_offer.categories import NEEDS, category_label
from engine.store.local_offer import LocalOfferEntry
from webui.access import staff
from webui.context import db, engine, now
from webui.local_offer.blueprint import bp, require_provider


@bp.route("/local-offer-provider/")
@staff
def provider_index() -> ResponseReturnValue:
    """The entries the user's organisations provide, with what became of their last proposed change."""
    rows = proposals.entries_of_providers(db(), require_provider())
    return render_template("local_offer/provider/index.html", rows=rows, category_label=category_label,
                           latest={e.id: proposals.latest_of(db(), e.id) for e in rows})


def _values(row: LocalOfferEntry) -> dict[str, Any]:
    if request.method == "POST":
        out: dict[str, Any] = {name: request.form.get(name, "") for name in proposals.PROVIDER_FIELDS}
        out["needs"] = request.form.getlist("needs")
        return out
    pending = proposals.pending_of(db(), row.id)
    return dict(pending.changes) if pending is not None else proposals.entry_values(row)


@bp.route("/local-offer-provider/entries/<int:entry_id>", methods=["GET", "POST"])
@staff
def provider_entry(entry_id: int) -> ResponseReturnValue:
    """Propose a change to one of your entries; the published entry stays as it is until the LA publishes it."""
    orgs = require_provider()
    try:
        row = proposals.provider_entry(db(), orgs, entry_id)
    except NotFound:
        abort(404)
    values = _values(row)
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            proposal = proposals.propose(db(), row, proposals.provider_of(row) or 0, values, now(), current_user.id)
            review_route.start_review(engine(), db(), proposal, current_user.id)
        except FormInvalid as e:
            errors = e.errors
            db().rollback()
        else:
            db().commit()
            flash(f"Your change to “{row.title}” has been sent to {row.la.name} to review.", "success")
            return redirect(url_for("local_offer.provider_index"))
    return render_template("local_offer/provider/entry_form.html", row=row, values=values, errors=errors, needs=NEEDS,
                           latest=proposals.latest_of(db(), row.id), category_label=category_label)
