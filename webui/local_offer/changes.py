"""The LA's review of providers' proposed changes: the list waiting (the editor's tasks on the route
workflows/local_offer_review.bpmn, with when each is due), and each compared with the published entry and decided on
the route's task (engine/local_offer/review_route.py): there is no other way to publish a provider's change."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from engine.errors import FormInvalid, InvalidState, TaskAlreadyCompleted
from engine.local_offer import proposals, review_route
from engine.store.local_offer import LocalOfferProposal
from webui.access import staff
from webui.context import db, engine, now, today
from webui.local_offer.blueprint import bp, chosen_la, own_la, require_editor

OUTCOME_MESSAGES = {"published": "was published", "returned": "was returned to the provider to change",
                    "rejected": "was rejected"}


@bp.route("/local-offer-editor/changes")
@staff
def editor_changes() -> ResponseReturnValue:
    la = chosen_la()
    return render_template("local_offer/editor/changes.html", la=la, rows=proposals.pending_for(db(), la.id))


def _choices(schema: dict[str, Any], field: str) -> list[tuple[str, str]]:
    """The decisions the route's form offers, with their labels (the form file is the source, not this page)."""
    spec = (schema.get("properties") or {}).get(field) or {}
    values = list(spec.get("enum") or [])
    return list(zip(values, list(spec.get("x-enum-titles") or values), strict=False))


@bp.route("/local-offer-editor/changes/<int:proposal_id>", methods=["GET", "POST"])
@staff
def editor_change(proposal_id: int) -> ResponseReturnValue:
    """Compare a provider's change with the published entry; decide it on the review route's task."""
    require_editor()
    row = db().get(LocalOfferProposal, proposal_id)
    if row is None:
        abort(404)
    la = own_la(row.entry.la_id)
    values = {"review_decision": "", "review_reason": ""}
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = {k: request.form.get(k, "").replace("\r\n", "\n").strip() for k in values}
        data = {k: v for k, v in values.items() if v}
        try:
            outcome = review_route.complete_review(engine(), db(), row, data, now(), today(), current_user.id)
        except (FormInvalid, TaskAlreadyCompleted, InvalidState) as e:
            db().rollback()
            errors = e.errors if isinstance(e, FormInvalid) else {"review_decision": str(e)}
            row = db().get(LocalOfferProposal, proposal_id)
            assert row is not None
        else:
            db().commit()
            flash(f"The change to “{row.entry.title}” {OUTCOME_MESSAGES[outcome]}. The provider has been told.",
                  "success")
            return redirect(url_for("local_offer.editor_changes", la=la.id))
    if row.status == "pending" and row.route_state is None:
        # Sent before the review was a route (migration 0018): its route starts when the editor first opens it, so
        # that it is decided on the route's task like every other change. Starting twice is not possible.
        review_route.start_review(engine(), db(), row, current_user.id)
        db().commit()
    task = review_route.review_task(engine(), db(), row)
    choices = _choices(task.schema, "review_decision") if task is not None else []
    return render_template("local_offer/editor/change.html", la=la, row=row, values=values, errors=errors,
                           differences=proposals.differences(row), task=task, choices=choices)
