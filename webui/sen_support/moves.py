"""A child on SEN support who moves setting: the setting or the authority proposes the move (the family is asked to
agree, as a task on their pages), then moves the record once they have. The rules are in
``engine.casework.sen_support_move``."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from engine.casework import sen_support_move as moves
from engine.errors import InstanceFailed, InvalidState, NotAllowed, NotFound
from engine.lists import sen_support
from engine.store.models import Case
from webui.access import staff
from webui.context import db, engine, now
from webui.numbers import whole_number
from webui.sen_support.routes import bp


def _case_for_move(case_id: int) -> Case:
    """A case the user may read and move; otherwise not found (ids cannot be probed)."""
    case = db().get(Case, case_id)
    if case is None or not sen_support.may_read_record(db(), current_user.holder, case) \
            or not moves.may_manage_move(db(), current_user.record, case):
        abort(404)
    return case


@bp.route("/<int:case_id>/move", methods=["GET", "POST"])
@staff
def propose_move(case_id: int) -> ResponseReturnValue:
    """Choose the new setting; the family is then asked to agree to the record moving there."""
    case = _case_for_move(case_id)
    settings = moves.settings_to_move_to(db(), case.id)
    error = problem = None
    if request.method == "POST":
        chosen = whole_number(request.form.get("setting_id"))
        if chosen is None or chosen not in {s.id for s in settings}:
            error = "Select the new setting"
        else:
            try:
                moves.propose_move(engine(), case.id, chosen, current_user.record)
            except NotAllowed:
                abort(404)
            except (NotFound, InvalidState, InstanceFailed) as exc:
                problem = str(exc)
            else:
                flash("The family has been asked to agree to the record moving. You can move it once they have.",
                      "success")
                return redirect(url_for("sen_support.record", case_id=case.id))
    return render_template("sen_support/move.html", case=case, settings=settings, error=error, problem=problem,
                           status=moves.move_status(db(), case.id))


@bp.post("/<int:case_id>/move/confirm")
@staff
def move_record(case_id: int) -> ResponseReturnValue:
    """Move the record to the setting the family agreed to."""
    case = _case_for_move(case_id)
    try:
        target = moves.move_record(db(), case, current_user.record, now())
    except NotAllowed:
        abort(404)
    except InvalidState as exc:
        flash(str(exc), "error")
        return redirect(url_for("sen_support.record", case_id=case.id))
    db().commit()
    flash(f"The SEN support record is now with {target.name}.", "success")
    if sen_support.may_read_record(db(), current_user.holder, case):
        return redirect(url_for("sen_support.record", case_id=case.id))
    return redirect(url_for("sen_support.index"))
