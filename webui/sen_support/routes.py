"""Views of the SEN support pages: every one is for staff, and each checks the object itself (a case the user may not
read is "not found", so that ids cannot be probed; a page the user's role never opens is "forbidden")."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, abort, render_template
from flask.typing import ResponseReturnValue
from flask_login import current_user

from engine.lists import sen_support
from engine.statutory.clock import active_clock
from engine.store.models import Case, ProcessInstance
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
    """The pupils of the SENCO's settings on SEN support, overdue reviews first."""
    settings = _senco_only()
    rows = sen_support.pupils_on_sen_support(db(), current_user.holder, today())
    return render_template("sen_support/index.html", rows=rows, several_settings=len(settings) > 1,
                           statuses=sen_support.REVIEW_STATUSES)


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
    return render_template("sen_support/record.html", r=found, is_senco=is_senco)


@bp.get("/provision-map.csv")
@staff
def provision_map_csv() -> ResponseReturnValue:
    """The provision map of the SENCO's settings, as CSV."""
    _senco_only()
    lines = sen_support.provision_map(db(), current_user.holder)
    return Response(sen_support.provision_map_csv(lines), mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="provision-map-{today().isoformat()}.csv"',
        "X-Content-Type-Options": "nosniff",
    })
