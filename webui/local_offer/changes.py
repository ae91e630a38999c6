"""The LA's review of providers' proposed changes: the list waiting, and each compared with the published entry,
published or returned to the provider with a reason."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from engine.errors import FormInvalid
from engine.local_offer import proposals
from engine.store.local_offer import LocalOfferProposal
from webui.access import staff
from webui.context import db, now, today
from webui.local_offer.blueprint import bp, chosen_la, own_la, require_editor


@bp.route("/local-offer-editor/changes")
@staff
def editor_changes() -> ResponseReturnValue:
    la = chosen_la()
    return render_template("local_offer/editor/changes.html", la=la, rows=proposals.pending_for(db(), la.id))


@bp.route("/local-offer-editor/changes/<int:proposal_id>", methods=["GET", "POST"])
@staff
def editor_change(proposal_id: int) -> ResponseReturnValue:
    """Compare a provider's change with the published entry; publish it (the entry is checked today) or return it."""
    require_editor()
    row = db().get(LocalOfferProposal, proposal_id)
    if row is None:
        abort(404)
    la = own_la(row.entry.la_id)
    values = {"decision": "", "reason": ""}
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = {k: request.form.get(k, "") for k in values}
        try:
            proposals.decide(db(), row, values["decision"], values["reason"], now(), today(), current_user.id)
        except FormInvalid as e:
            errors = e.errors
            db().rollback()
        else:
            db().commit()
            flash(f"The change to “{row.entry.title}” was "
                  f"{'published' if row.status == 'published' else 'returned to the provider'}.", "success")
            return redirect(url_for("local_offer.editor_changes", la=la.id))
    return render_template("local_offer/editor/change.html", la=la, row=row, values=values, errors=errors,
                           differences=proposals.differences(row))
