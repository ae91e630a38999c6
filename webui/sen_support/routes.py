"""Views of the SEN support pages: every one is for staff, and each checks the object itself (a case the user may not
read is "not found", so that ids cannot be probed; a page the user's role never opens is "forbidden")."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, render_template
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy import select

from engine.casework import sen_support_budget as budget
from engine.casework import sen_support_move
from engine.lists import sen_support, sen_support_words
from engine.statutory.clock import active_clock
from engine.store.models import Case, Organisation, ProcessInstance
from webui.access import staff
from webui.context import db, engine, today

bp = Blueprint("sen_support", __name__, url_prefix="/sen-support")


def _load_workflow(instance: ProcessInstance) -> Any:
    """The route's state, restored as the engine restores it for a command (on the engine's clock)."""
    with active_clock(engine().clock):
        return engine().load_workflow(instance)


def _senco_only() -> set[int]:
    """The settings of a SENCO; anyone without the school role is refused (the pages are the setting's)."""
    settings = sen_support.senco_settings(current_user.holder)
    if not settings:
        abort(403)
    return settings


@bp.get("/")
@staff
def index() -> ResponseReturnValue:
    """The pupils of the SENCO's settings on SEN support, overdue reviews first; the provision map against the
    settings' notional SEN budgets."""
    return index_page()


def _setting_names(settings: set[int]) -> dict[int, str]:
    return {org_id: name for org_id, name in db().execute(
        select(Organisation.id, Organisation.name).where(Organisation.id.in_(sorted(settings))))}


def index_page(budget_errors: dict[str, str] | None = None, budget_for: int | None = None, typed: str = "") -> str:
    settings = _senco_only()
    rows = sen_support.pupils_on_sen_support(db(), current_user.holder, today())
    year = budget.financial_year(today())
    spending = budget.spending(_setting_names(settings), sen_support.provision_map(db(), current_user.holder),
                               budget.budgets(db(), settings, year))
    return render_template("sen_support/index.html", rows=rows, several_settings=len(settings) > 1,
                           statuses=sen_support.REVIEW_STATUSES, spending=spending,
                           year_label=budget.year_label(year), budget_errors=budget_errors or {},
                           budget_for=budget_for, typed=typed)


@bp.get("/<int:case_id>")
@staff
def record(case_id: int) -> ResponseReturnValue:
    """One pupil's SEN support record: identification, every cycle, specialists' advice, documents."""
    case = db().get(Case, case_id)
    if case is None or not sen_support.may_read_record(db(), current_user.holder, case):
        abort(404)
    found = sen_support.sen_support_record(db(), current_user.record, case, _load_workflow)
    if found is None:
        abort(404)
    is_senco = found.setting is not None and found.setting.id in sen_support.senco_settings(current_user.holder)
    return render_template("sen_support/record.html", r=found, is_senco=is_senco,
                           move=sen_support_move.move_status(db(), case.id),
                           can_move=sen_support_move.may_manage_move(db(), current_user.record, case),
                           **sen_support_words.record_labels(found.instance.version.files))


@bp.get("/provision-map.csv")
@staff
def provision_map_csv() -> ResponseReturnValue:
    """The provision map of the SENCO's settings, as CSV."""
    settings = _senco_only()
    lines = sen_support.provision_map(db(), current_user.holder)
    year = budget.financial_year(today())
    names = _setting_names(settings)
    recorded = {names[org_id]: amount for org_id, amount in budget.budgets(db(), settings, year).items()}
    csv_text = sen_support.provision_map_csv(lines, recorded, budget.year_label(year))
    return Response(csv_text, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="provision-map-{today().isoformat()}.csv"',
        "X-Content-Type-Options": "nosniff",
    })
