"""Messages to a case's routes (a tribunal's decision, a health body's reply): which ones the running routes wait for,
and sending one, with the checks of the case page's message form (``engine.casework.case_messages``)."""

from __future__ import annotations

from flask.typing import ResponseReturnValue

import webui.api.schemas as schemas
from engine.casework import case_messages
from engine.casework.case_messages import MESSAGES, OfferedMessage
from webui.api.auth import operation, user
from webui.api.blueprint import bp
from webui.api.common import case_or_404, command_problems, json_response, one
from webui.api.problems import ApiProblem
from webui.api.schemas import load_body
from webui.context import db, engine, today


def _offered(offer: OfferedMessage) -> dict[str, object]:
    kind = offer.message
    return {"name": kind.name, "title": kind.title, "summary": kind.summary, "form": kind.schema,
            "waiting": [{"instance_id": i, "route": name} for i, name in offer.waiting], "starts": offer.starts}


@bp.get("/cases/<int:case_id>/messages")
@operation("read", "The messages the case's routes would take now", "messages", response=schemas.OfferedMessage,
           errors=(401, 403, 404, 429), extra={"list": True},
           description="Only for the responsible authority's caseworkers and managers, who may send them (403 for "
                       "anyone else who sees the case).")
def offered(case_id: int) -> ResponseReturnValue:
    case = case_or_404(case_id)
    if not any(case_messages.may_send(db(), user(), case, m) for m in MESSAGES.values()):
        raise ApiProblem(403, "Only the responsible authority's caseworkers and managers send messages on a case.")
    offers = case_messages.offered_messages(engine(), db(), case)
    return json_response({"items": schemas.OfferedMessage(many=True).dump([_offered(o) for o in offers])})


@bp.post("/cases/<int:case_id>/messages/<string:message_name>")
@operation("write", "Send a message to the case's routes", "messages", body=schemas.MessageSend,
           response=schemas.Started, status=201, errors=(400, 401, 403, 404, 409, 415, 422, 429),
           description="409 when nothing on the case waits for the message now; 422 when its answers are not valid.")
def send(case_id: int, message_name: str) -> ResponseReturnValue:
    case = case_or_404(case_id)
    kind = MESSAGES.get(message_name)
    if kind is None:
        raise ApiProblem(404, f"There is no message called {message_name!r}.")
    if not case_messages.may_send(db(), user(), case, kind):
        raise ApiProblem(403, "Only the responsible authority's caseworkers and managers send this message.")
    payload = load_body(schemas.MessageSend)["payload"]
    errors = case_messages.check_payload(kind, payload, today())
    if errors:
        raise ApiProblem(422, "The answers do not meet the message's form.", errors=errors)
    with command_problems("The answers do not meet the message's form."):
        instance_id = case_messages.send_message(engine(), case.id, kind.name, payload, user())
    return one(schemas.Started, {"instance_id": instance_id, "case_id": case.id}, status=201)
