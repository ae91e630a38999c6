"""The young person's rights on the case page: the age milestones, and the parent they have named to act for them
(recorded by the responsible authority's caseworkers and managers, as the young person asks)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from engine.casework.named_parent import parents, rights_pass_on, set_named_parent
from engine.casework.reviews import age_milestones
from engine.errors import InvalidState, NotFound
from webui.access import staff
from webui.cases.blueprint import bp, can_claim_exceptions, case_or_404
from webui.context import clock, db, today
from webui.numbers import whole_number


@bp.route("/<int:case_id>/named-parent", methods=["GET", "POST"])
@staff
def named_parent(case_id: int) -> ResponseReturnValue:
    """Name (or stop naming) a parent to act for the young person."""
    case = case_or_404(case_id)
    if not can_claim_exceptions(case):
        abort(403)
    if request.method == "POST":
        user_id = whole_number(request.form.get("user_id"))
        action = request.form.get("action", "")
        if user_id is None or action not in ("name", "withdraw"):
            flash("Choose a parent and what to record.", "error")
            return redirect(url_for("cases.named_parent", case_id=case.id))
        try:
            set_named_parent(db(), case, user_id, action == "name", current_user.record, clock().now())
        except (InvalidState, NotFound) as exc:
            db().rollback()
            flash(str(exc), "error")
            return redirect(url_for("cases.named_parent", case_id=case.id))
        db().commit()
        flash("Recorded: notices now go to the young person and to the parents they name.", "success")
        return redirect(url_for("cases.named_parent", case_id=case.id))
    starts = rights_pass_on(case)
    return render_template("cases/named_parent.html", case=case, members=parents(db(), case.id), starts=starts,
                           rights_passed=starts is not None and today() >= starts,
                           milestones=age_milestones(case.date_of_birth) if case.date_of_birth else [],
                           today=today())
