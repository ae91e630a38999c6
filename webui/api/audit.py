"""Every call made with a known token goes in the audit trail (``api_call``), refused ones too: which token, the
method, the path and the answer's status. The case is named in the detail rather than as the event's case, so that a
system reading a case many times a day does not fill the case's own history on its page."""

from __future__ import annotations

import logging

from flask import Response, g, request

from engine.store.models import AuditEvent
from webui.api.blueprint import bp
from webui.context import clock, services

log = logging.getLogger(__name__)


@bp.after_request
def audit_call(response: Response) -> Response:
    rate = g.get("api_rate")
    if rate is not None:
        response.headers["RateLimit-Limit"] = str(rate.limit)
        response.headers["RateLimit-Remaining"] = str(rate.remaining)
    token_id, user_id = g.get("api_token_id"), g.get("api_user_id")
    if token_id is None and user_id is None:
        return response
    detail = {"api_token_id": token_id, "via": "api_token" if token_id is not None else "id_token",
              "method": request.method, "path": request.path, "status": response.status_code,
              "endpoint": request.endpoint}
    if request.view_args and "case_id" in request.view_args:
        detail["case_id"] = request.view_args["case_id"]
    # Its own session: the request's may hold a transaction a failed command left to roll back.
    with services().session_factory() as session:
        session.add(AuditEvent(at=clock().now(), actor_id=user_id, action="api_call",
                               summary=f"API {request.method} {request.path}: {response.status_code}", detail=detail))
        session.commit()
    return response
