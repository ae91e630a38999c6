"""The Flask app factory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask, Response
from werkzeug.routing import IntegerConverter, ValidationError
from werkzeug.serving import WSGIRequestHandler

from engine.runtime.services import Services, build
from engine.store.db import instance_dir
from webui import config as config_module
from webui import context, jinja, layout, log_format, security
from webui.admin import bp as admin_bp
from webui.api import bp as api_bp
from webui.auth import bp as auth_bp
from webui.auth.user import load_user
from webui.cases import bp as cases_bp
from webui.common.routes import bp as common_bp
from webui.common.routes import register_error_handlers
from webui.extensions import csrf, login_manager
from webui.family.routes import bp as family_bp
from webui.intake import bp as intake_bp
from webui.local_offer import bp as local_offer_bp
from webui.notices.routes import bp as notices_bp
from webui.owner import bp as owner_bp
from webui.reports.routes import bp as reports_bp
from webui.reports.sen_support import bp as sen_support_reports_bp
from webui.request import bp as request_bp
from webui.sen_support import bp as sen_support_bp
from webui.signed_out import unauthorized_response
from webui.tasks import bp as tasks_bp

#: What the ``Server`` header says: nothing about the web server's or Python's version (an attacker's first look-up).
SERVER_HEADER = "EHC Flow"
#: The largest id in the URL: ids are 32-bit integer columns on PostgreSQL (and SQLite refuses above 64 bits).
MAX_ID = 2**31 - 1


class IdConverter(IntegerConverter):
    """``<int:...>`` in every route: a number too large for the database's id columns matches no route (404), where
    Werkzeug's own converter passes it on to a query that fails (a 500). Checked on the length first: ``int`` of a
    string of thousands of digits raises."""

    def to_python(self, value: str) -> int:
        if len(value) > len(str(MAX_ID)) or int(value) > MAX_ID:
            raise ValidationError()
        return int(super().to_python(value))


def create_app(config: dict[str, Any] | None = None, services: Services | None = None) -> Flask:
    """Builds the web app over the engine's services (built from the environment when not given).

    Args:
        config: settings that override the defaults and the environment (tests pass ``TESTING`` and a key here);
            ``INSTANCE_PATH`` sets the instance folder (uploads, the generated secret key).
        services: the engine, its database and folders, shared with the CLI and the worker.
    """
    config = dict(config or {})
    instance_path = Path(config.pop("INSTANCE_PATH", None) or instance_dir())
    app = Flask(__name__, instance_path=str(instance_path.resolve()))
    app.url_map.converters["int"] = IdConverter  # before any route is added
    config_module.configure(app, config)
    services = services or build(app.config.get("DATABASE_URL"))
    app.extensions["ehcflow"] = services

    log_format.init_app(app)  # request ids, for the logs
    context.init_app(app)
    jinja.init_app(app)
    layout.init_app(app)
    security.init_app(app)
    csrf.init_app(app)
    _init_login(app)

    # One blueprint per area.
    for blueprint in (common_bp, auth_bp, tasks_bp, cases_bp, family_bp, owner_bp, reports_bp, admin_bp,
                      notices_bp, intake_bp, request_bp, local_offer_bp, sen_support_bp, sen_support_reports_bp,
                      api_bp):
        app.register_blueprint(blueprint)
    register_error_handlers(app)
    _server_header(app)
    return app


class GenericServerRequestHandler(WSGIRequestHandler):
    """Werkzeug's request handler (``ehcflow run``) without its own ``Server`` line ("Werkzeug/3.1 Python/3.11",
    written before the app's headers whatever they hold): the app's generic one is the only one sent."""

    def send_response(self, code: int, message: str | None = None) -> None:
        self.log_request(code)
        self.send_response_only(code, message)
        self.send_header("Date", self.date_time_string())


def _server_header(app: Flask) -> None:
    """Every response says ``Server: EHC Flow`` and no versions. Werkzeug's server adds its own line unless it runs
    with ``GenericServerRequestHandler``; gunicorn always writes its own (``webui.cli.production`` makes it this same
    generic one), so the app leaves it out there (``SERVER_HEADER`` False) rather than send two."""
    app.config.setdefault("SERVER_HEADER", SERVER_HEADER)

    @app.after_request
    def generic_server(response: Response) -> Response:
        if app.config["SERVER_HEADER"]:
            response.headers["Server"] = app.config["SERVER_HEADER"]
        return response


def _init_login(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.sign_in"
    login_manager.session_protection = "basic"
    login_manager.user_loader(load_user)

    @login_manager.unauthorized_handler
    def unauthorized() -> Any:
        return unauthorized_response()
