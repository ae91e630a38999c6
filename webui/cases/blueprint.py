"""The case pages' blueprint (``cases``, under ``/cases``) and the rules every case page shares: which case a member
of staff may open and who may act for the responsible authority."""

from __future__ import annotations

from flask import Blueprint, abort
from flask_login import current_user

from engine.lists.cases import staff_can_see_case
from engine.people.roles import Role
from engine.store.models import Case
from webui.context import db

bp = Blueprint("cases", __name__, url_prefix="/cases")


def case_or_404(case_id: int) -> Case:
    """A case the signed-in member of staff may see; any other id is "not found"."""
    case = db().get(Case, case_id)
    if case is None or not staff_can_see_case(db(), current_user.holder, case):
        abort(404)
    return case


def can_claim_exceptions(case: Case) -> bool:
    return current_user.holds(case.la_id, Role.CASEWORKER) or current_user.holds(case.la_id, Role.MANAGER)


def can_export_package(case: Case) -> bool:
    """The transfer package is the responsible authority's to send on: it holds the whole case (every document,
    whoever it was addressed to, and all of the history), more than any one party on the case is shown. After a
    transfer by export the case stays, closed, with that authority, so its caseworkers can download it again."""
    return can_claim_exceptions(case)
