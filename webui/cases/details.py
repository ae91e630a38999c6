"""The child's details on a case (names, date of birth, address, postcode, UPN, NHS number, ULN, sex and
ethnicity), corrected by the responsible authority's caseworkers and managers; the SEN2 export's "what to fix" links
here. The engine checks and audits every change (``engine.intake.child_details``)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from engine.errors import FormInvalid
from engine.intake.child_details import ETHNICITY_CODES, FIELDS, LABELS, SEX_CODES, update_child_details
from engine.store.models import Case
from webui.access import staff
from webui.cases.blueprint import bp, can_claim_exceptions, case_or_404
from webui.context import clock, db, today

DATE_PARTS = ("day", "month", "year")
TEXT_FIELDS = ("first_name", "last_name", "address", "postcode", "upn", "nhs_number", "uln", "sex", "ethnicity")
# How a change is named in the message after saving (the rest are their labels in lower case).
SHORT_NAMES = {"upn": "UPN", "nhs_number": "NHS number", "uln": "ULN"}
# Far more than any detail may hold (the engine says so on the field); a longer value is cut, never stored.
MAX_FIELD = 2_000


def _values(case: Case) -> dict[str, str]:
    """The form as the case has it now."""
    born = case.date_of_birth
    return {"first_name": case.child_first_name, "last_name": case.child_last_name, "address": case.address or "",
            "postcode": case.postcode or "", "upn": case.upn or "", "nhs_number": case.nhs_number or "",
            "uln": case.uln or "", "sex": case.sex or "",
            "ethnicity": case.ethnicity or "",
            "date_of_birth-day": str(born.day) if born else "", "date_of_birth-month": str(born.month) if born else "",
            "date_of_birth-year": str(born.year) if born else ""}


def _error_items(errors: dict[str, str], values: dict[str, str]) -> list[dict[str, str]]:
    """The error summary, in the page's order, each linking to its field (a date to its first part at fault)."""
    items = []
    for name in FIELDS:
        if name not in errors:
            continue
        anchor = name
        if name == "date_of_birth":
            empty = [p for p in DATE_PARTS if not values[f"date_of_birth-{p}"].strip()]
            anchor = f"date_of_birth-{empty[0] if empty and len(empty) < 3 else 'day'}"
        items.append({"text": errors[name], "href": f"#{anchor}"})
    return items


@bp.route("/<int:case_id>/details", methods=["GET", "POST"])
@staff
def details(case_id: int) -> ResponseReturnValue:
    """Correct the child's details."""
    case = case_or_404(case_id)
    if not can_claim_exceptions(case):
        abort(403)
    values = _values(case)
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = {name: (request.form.get(name) or "")[:MAX_FIELD]
                  for name in (*TEXT_FIELDS, *(f"date_of_birth-{p}" for p in DATE_PARTS))}
        raw: dict[str, str | tuple[str, str, str]] = {name: values[name] for name in TEXT_FIELDS}
        raw["date_of_birth"] = tuple(values[f"date_of_birth-{p}"] for p in DATE_PARTS)  # type: ignore[assignment]
        try:
            changes = update_child_details(db(), case, raw, current_user.record, clock().now(), today())
        except FormInvalid as exc:
            db().rollback()
            errors = exc.errors
        else:
            db().commit()
            flash("Saved: " + ", ".join(SHORT_NAMES.get(c.field, LABELS[c.field].lower()) for c in changes)
                  + " changed." if changes else "Nothing changed.", "success")
            return redirect(url_for("cases.case", case_id=case.id))
    return render_template("cases/details.html", case=case, values=values, errors=errors,
                           error_items=_error_items(errors, values), sexes=SEX_CODES, ethnicities=ETHNICITY_CODES,
                           labels=LABELS), 400 if errors else 200
