"""The start page, the footer's pages, and the error pages."""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from flask import Blueprint, Flask, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from engine.lists.keyset import BadCursor
from webui.access import public
from webui.problem_json import problem_response

log = logging.getLogger(__name__)

bp = Blueprint("common", __name__)


@bp.get("/")
@public
def home() -> ResponseReturnValue:
    """Signed in: your tasks (or, for a family, your cases). Otherwise the service's front door: the Local Offer, the
    online request for an assessment, and signing in."""
    if not current_user.is_authenticated:
        return render_template("common/home.html")
    if current_user.is_family_only:
        return redirect(url_for("family.index"))
    return redirect(url_for("tasks.my_tasks"))


@bp.get("/cookies")
@public
def cookies() -> ResponseReturnValue:
    """The cookies this service sets (only essential ones)."""
    return render_template("common/cookies.html")


@bp.get("/accessibility")
@public
def accessibility() -> ResponseReturnValue:
    """The accessibility statement."""
    return render_template("common/accessibility.html")


ERRORS = {
    400: ("There is a problem with your request", "Go back, reload the page and try again."),
    403: ("You do not have permission to see this page",
          "If you think you should have access, speak to your manager or your organisation's administrator."),
    404: ("Page not found",
          "If you typed the web address, check it is correct. If you pasted the web address, check you copied the "
          "entire address. It may also be a case or task you do not have access to."),
    405: ("There is a problem with your request", "Go back and try again."),
    413: ("The file is too large", "Go back and choose a smaller file."),
    429: ("Too many requests", "Wait a few minutes, then try again."),
    503: ("The service is busy", "Nothing was saved. Wait a minute, then try again."),
    500: ("Sorry, there is a problem with the service", "Try again later. Nothing you entered has been lost if you "
                                                         "saved it as a draft."),
}


#: Where the JSON API lives: its errors are problem+json even when no API view was reached.
API_PREFIX = "/api/"


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> ResponseReturnValue:
        log.info("refused a form without a valid CSRF token: %s %s", request.method, request.path)
        return render_template("errors/error.html", title="This form has expired",
                               message="For your security, forms expire when you sign out or when they are left "
                                       "for a long time. Go back, reload the page and try again."), 400

    @app.errorhandler(BadCursor)
    def bad_page_link(error: BadCursor) -> ResponseReturnValue:
        # The API's own handler answers its views (webui/api/problems.py); this is the web pages'.
        kept = [(k, v) for k, v in request.args.items(multi=True) if k not in ("after", "before", "page")]
        first = request.path + (f"?{urlencode(kept)}" if kept else "")  # the same list, its search and filters
        return render_template("errors/error.html", title="This page link is not valid", message=str(error),
                               first_page=first), 400

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> ResponseReturnValue:
        code = error.code or 500
        title, message = ERRORS.get(code, (error.name, error.description or ""))
        if request.path.startswith(API_PREFIX):
            return problem_response(code, error.description or title)
        if request.path.endswith(".json"):
            return {"error": title}, code
        return render_template("errors/error.html", title=title, message=message), code

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> ResponseReturnValue:
        if isinstance(error, HTTPException):
            return http_error(error)
        if isinstance(error, PoolTimeout):
            # Every database connection stayed busy for EHCFLOW_DB_POOL_TIMEOUT seconds: a full house, not a fault.
            log.warning("no database connection free for %s %s", request.method, request.path)
            title, message = ERRORS[503]
            if request.path.startswith(API_PREFIX):
                return problem_response(503, message, headers={"Retry-After": "30"})
            return render_template("errors/error.html", title=title, message=message), 503, {"Retry-After": "30"}
        log.exception("unexpected error on %s %s", request.method, request.path)
        if app.testing and app.config.get("PROPAGATE_EXCEPTIONS", True):
            raise error
        title, message = ERRORS[500]
        return render_template("errors/error.html", title=title, message=message), 500
