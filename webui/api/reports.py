"""The reports of the web's Reports pages (webui/reports/routes.py) as JSON: timeliness and work in progress, for the
authorities where the token is a manager or an administrator."""

from __future__ import annotations

from flask.typing import ResponseReturnValue
from sqlalchemy import select

import webui.api.schemas as schemas
from engine.lists.names import route_names
from engine.reports import timeliness as reports
from engine.store.models import Organisation
from webui.api.auth import operation, who
from webui.api.blueprint import bp
from webui.api.common import one
from webui.api.problems import ApiProblem
from webui.api.schemas import load_query
from webui.context import db, today
from webui.reports.routes import REPORT_ROLES


def _authority(asked: int | None) -> Organisation:
    """As the Reports pages: 403 for a token with no authority to report on, 404 for another's."""
    ids = {org for org, role in who().roles if org is not None and role in REPORT_ROLES}
    allowed = list(db().scalars(select(Organisation).where(Organisation.id.in_(ids),
                                                           Organisation.kind == "local_authority")
                                .order_by(Organisation.name))) if ids else []
    if not allowed:
        raise ApiProblem(403, "Only an authority's managers and administrators see its reports.")
    if asked is None:
        return allowed[0]
    chosen = next((la for la in allowed if la.id == asked), None)
    if chosen is None:
        raise ApiProblem(404, "There is no authority with this id whose reports this token may see.")
    return chosen


@bp.get("/reports/timeliness")
@operation("read", "Timeliness: the statutory measures by month or year", "reports", response=schemas.Timeliness,
           query=schemas.TimelinessArgs, errors=(400, 401, 403, 404, 429))
def timeliness() -> ResponseReturnValue:
    args = load_query(schemas.TimelinessArgs)
    la = _authority(args["la"])
    rows = reports.timeliness(db(), la_id=la.id, by=args["by"])
    return one(schemas.Timeliness, {"la_id": la.id, "la_name": la.name, "by": args["by"], "rows": rows,
                                    "plans_without_request": reports.plans_without_request(db(), la_id=la.id)})


@bp.get("/reports/work-in-progress")
@operation("read", "Work in progress: open cases by stage, overdue work by route and team", "reports",
           response=schemas.WorkInProgress, query=schemas.ReportArgs, errors=(400, 401, 403, 404, 429))
def work_in_progress() -> ResponseReturnValue:
    args = load_query(schemas.ReportArgs)
    la = _authority(args["la"])
    day, names = today(), route_names(db())
    return one(schemas.WorkInProgress, {
        "la_id": la.id, "la_name": la.name,
        "open_cases_by_stage": [{"label": reports.stage_label(stage, names), "count": n}
                                for stage, n in reports.open_cases_by_stage(db(), la_id=la.id)],
        "overdue_by_route": [{"label": names.get(p, p), "count": n}
                             for p, n in reports.overdue_by_route(db(), day, la_id=la.id)],
        "overdue_by_team": [{"label": team, "count": n} for team, n in reports.overdue_by_team(db(), day, la_id=la.id)],
        "open_tasks_by_stage": [{"route": names.get(p, p), "step": step, "count": n}
                                for p, step, n in reports.open_tasks_by_stage(db(), la_id=la.id)],
    })
