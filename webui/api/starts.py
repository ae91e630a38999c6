"""Routes started by hand on a case (``engine.intake.route_starts``: what the route's start event allows, by whom and
when), as the case page's "Start something on this case" (webui/cases/starts.py)."""

from __future__ import annotations

from flask.typing import ResponseReturnValue

import webui.api.schemas as schemas
from engine.errors import InvalidState, NotAllowed, NotFound
from engine.intake.route_starts import StartOption, declaration, start_by_hand, start_option, startable_routes
from webui.api.auth import operation, user
from webui.api.blueprint import bp
from webui.api.common import case_or_404, command_problems, json_response, one
from webui.api.problems import ApiProblem
from webui.api.schemas import load_body
from webui.context import db, engine


def _option(option: StartOption) -> dict[str, object]:
    return {"process_id": option.process_id, "name": option.name, "label": option.label, "help": option.help,
            "allowed": option.allowed, "form": option.form_schema}


@bp.get("/cases/<int:case_id>/routes")
@operation("read", "The routes that may start on a case now", "routes", response=schemas.StartOption,
           errors=(401, 404, 429), extra={"list": True},
           description="Each says whether this token may start it (its role is on the route's start event).")
def startable(case_id: int) -> ResponseReturnValue:
    case = case_or_404(case_id)
    options = startable_routes(engine(), db(), case, user())
    return json_response({"items": schemas.StartOption(many=True).dump([_option(o) for o in options])})


@bp.post("/cases/<int:case_id>/routes/<string:process_id>")
@operation("write", "Start a route on a case", "routes", body=schemas.RouteStart, response=schemas.Started,
           status=201, errors=(400, 401, 403, 404, 409, 415, 422, 429),
           description="As on the case page: 403 when the token's role may not start it, 409 when it cannot start on "
                       "the case now (with the reason), 422 when the start form's answers are not valid.")
def start(case_id: int, process_id: str) -> ResponseReturnValue:
    case = case_or_404(case_id)
    try:
        declaration(engine(), db(), process_id)
    except (NotFound, NotAllowed):
        raise ApiProblem(404, "No deployed route with this id may be started by hand.") from None
    try:
        start_option(engine(), db(), case, process_id, user())
    except NotAllowed as exc:
        raise ApiProblem(403, str(exc)) from None
    except InvalidState as exc:
        raise ApiProblem(409, str(exc)) from None
    data = load_body(schemas.RouteStart)["data"]
    with command_problems("The answers do not meet the route's start form."):
        instance_id = start_by_hand(engine(), case.id, process_id, data, user())
    return one(schemas.Started, {"instance_id": instance_id, "case_id": case.id}, status=201)
