"""Errors as ``application/problem+json`` (RFC 9457): every refusal and failure of the API has a type, a title, the
status and a detail written for the developer of the calling system; form errors add ``errors`` by field."""

from __future__ import annotations

import logging

from flask import Response, request
from werkzeug.exceptions import HTTPException

from engine.lists.keyset import BadCursor
from webui.api.blueprint import bp
from webui.problem_json import MEDIA_TYPE, TITLES, problem_response

__all__ = ["MEDIA_TYPE", "TITLES", "ApiProblem", "problem_response"]

log = logging.getLogger(__name__)

class ApiProblem(Exception):
    """Raised by a view to answer with a problem; ``errors`` maps a field to what is wrong with it."""

    def __init__(self, status: int, detail: str, *, errors: dict[str, str] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status, self.detail, self.errors, self.headers = status, detail, errors, headers or {}


@bp.errorhandler(ApiProblem)
def _api_problem(error: ApiProblem) -> Response:
    return problem_response(error.status, error.detail, errors=error.errors, headers=error.headers)


@bp.errorhandler(BadCursor)
def _bad_cursor(error: BadCursor) -> Response:
    return problem_response(400, str(error), errors={"after": "Not a position in this list"})


@bp.errorhandler(HTTPException)
def _http_problem(error: HTTPException) -> Response:
    status = error.code or 500
    return problem_response(status, error.description or TITLES.get(status, "Error"))


@bp.errorhandler(Exception)
def _unexpected(error: Exception) -> Response:
    if isinstance(error, HTTPException):
        return _http_problem(error)
    # The caller learns only that it failed: the details (which may hold personal data) go to the log.
    log.exception("unexpected error on API %s %s", request.method, request.path)
    return problem_response(500, "Something went wrong on our side. Nothing you sent was lost; try again later.")
