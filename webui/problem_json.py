"""Errors as ``application/problem+json`` (RFC 9457), shared by the API's own handlers (webui/api/problems.py) and
the app's error pages: a URL under ``/api/`` that matches no view (an unknown path, an id that is not a number, a
method the view does not take) is refused before the API's handlers run, and must still answer as the API does."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, request

MEDIA_TYPE = "application/problem+json"
#: The ``type`` of each problem: a page of the API's own description (docs/api.md lists them).
TYPE_BASE = "/api/v1/docs#problem-"

TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    415: "Unsupported media type",
    422: "Unprocessable content",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}


def problem_response(status: int, detail: str, *, errors: dict[str, str] | None = None,
                     headers: dict[str, str] | None = None) -> Response:
    title = TITLES.get(status, "Error")
    body: dict[str, Any] = {"type": TYPE_BASE + str(status), "title": title, "status": status, "detail": detail,
                            "instance": request.path}
    if errors:
        body["errors"] = errors
    response = Response(json.dumps(body, ensure_ascii=False), status=status, mimetype=MEDIA_TYPE)
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="EHC Flow API"'
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


