"""The setting's notional SEN budget on the SENCO's SEN support page: recorded for this financial year and set against
the provision map (``engine.casework.sen_support_budget``)."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from engine.casework import sen_support_budget as budget
from engine.errors import FormInvalid, NotAllowed
from engine.lists import sen_support
from webui.access import staff
from webui.context import db, now, today
from webui.numbers import whole_number
from webui.sen_support.routes import bp, index_page


@bp.post("/budget")
@staff
def record_budget() -> ResponseReturnValue:
    """Records the notional SEN budget of one of the SENCO's settings for this financial year."""
    settings = sen_support.senco_settings(current_user.holder)
    if not settings:
        abort(403)
    organisation_id = whole_number(request.form.get("organisation_id"))
    if organisation_id is None and not request.form.get("organisation_id") and len(settings) == 1:
        organisation_id = next(iter(settings))  # a SENCO of one setting: the only one it can be
    if organisation_id is None or organisation_id not in settings:
        abort(404)
    year = budget.financial_year(today())
    try:
        budget.set_budget(db(), settings, organisation_id, year, request.form.get("amount", ""),
                          current_user.record, now())
    except NotAllowed:
        abort(404)
    except FormInvalid as exc:
        db().rollback()
        return index_page(budget_errors=exc.errors, budget_for=organisation_id,
                          typed=request.form.get("amount", "")), 400
    db().commit()
    flash(f"The notional SEN budget for {budget.year_label(year)} is recorded.", "success")
    return redirect(url_for("sen_support.index", _anchor="budget"))
