"""How EHC Flow's processes log: plain text for a person at a terminal, or JSON lines for a council's log system.

Settings (read once, when a command starts):

- ``EHCFLOW_LOG_FORMAT``: ``text`` (the default) or ``json``: one JSON object per line, on standard error for the
  app and the timer worker, on standard output for the web server's access log.
- ``EHCFLOW_LOG_LEVEL``: ``DEBUG``, ``INFO``, ``WARNING`` (the default; ``ehcflow -v`` makes it INFO) or ``ERROR``.

Every JSON line has ``time`` (UTC, ISO 8601), ``level``, ``logger`` and ``message``. A line logged while a request is
handled adds its ``request_id``, ``method``, ``path`` and the signed-in ``user_id``; the access log's line for each
request adds ``status`` and ``duration_ms``. Never a person's name or email, and never the query string: searches
carry children's names. The request id is sent back in the ``X-Request-Id`` header (taken from the proxy's header when
``EHCFLOW_TRUST_PROXY`` is on), so that a person's report of a problem leads to its lines.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import click
from flask import Flask, Response, g, has_request_context, request

from engine.errors import SettingInvalid

FORMATS = ("text", "json")
LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
#: The request's fields the formatter copies from a record, in this order.
REQUEST_FIELDS = ("request_id", "method", "path", "status", "duration_ms", "user_id", "remote_addr")
#: The keys in the WSGI environ that carry the request id and the user to the web server's access log.
ENVIRON_REQUEST_ID = "ehcflow.request_id"
ENVIRON_USER_ID = "ehcflow.user_id"
#: An incoming request id is used only when it looks like one (nginx's $request_id is 32 hexadecimal digits).
REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")


def log_format() -> str:
    value = (os.environ.get("EHCFLOW_LOG_FORMAT") or "text").strip().lower()
    if value not in FORMATS:
        raise SettingInvalid(f"EHCFLOW_LOG_FORMAT must be text or json, not {value!r}")
    return value


def log_level(verbose: bool) -> int:
    value = (os.environ.get("EHCFLOW_LOG_LEVEL") or "").strip().upper()
    if not value:
        return logging.INFO if verbose else logging.WARNING
    if value not in LEVELS:
        raise SettingInvalid(f"EHCFLOW_LOG_LEVEL must be one of {', '.join(LEVELS)}, not {value!r}")
    return int(getattr(logging, value))


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line (a message's own line breaks are escaped inside its string)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in REQUEST_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        return json.dumps(line, ensure_ascii=False, default=str)


class RequestContext(logging.Filter):
    """Adds the current request's id, method, path and user to a record logged while it is handled."""

    def filter(self, record: logging.LogRecord) -> bool:
        if has_request_context():
            record.request_id = getattr(g, "request_id", None)
            record.method = request.method
            record.path = request.path
            record.user_id = signed_in_user_id()
        return True


def signed_in_user_id() -> int | None:
    """The signed-in user's id when this request has loaded them (Flask-Login keeps them in ``g``; the JSON API keeps
    its caller's as ``api_user_id``); looking them up only to log would cost a query on every request, static files
    included."""
    user = g.get("_login_user")
    if user is not None and getattr(user, "is_authenticated", False):
        return getattr(user, "id", None)
    api_user = g.get("api_user_id")
    return api_user if isinstance(api_user, int) else None


def formatter(kind: str) -> logging.Formatter:
    return JsonFormatter() if kind == "json" else logging.Formatter(TEXT_FORMAT)


def configure_logging(verbose: bool = False) -> str:
    """Sends every log record of this process to standard error in the configured format; returns the format.

    Like ``logging.basicConfig``, it leaves alone a process whose logging someone else configured already (a test
    runner capturing the logs); run again, it replaces only its own handler."""
    kind = log_format()
    level = log_level(verbose)
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_ehcflow", False)]:
        root.removeHandler(old)
    if root.handlers:
        return kind
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter(kind))
    handler.addFilter(RequestContext())
    handler._ehcflow = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    return kind


def announce(logger: str, message: str) -> None:
    """A line a command prints when it starts: plain on standard output, or a JSON record when logging as JSON (so
    that a log system reading the service's output sees nothing but JSON). Logged whatever the level: it says where
    the service listens, which an operator always needs."""
    if log_format() != "json":
        click.echo(message)
        return
    record = logging.getLogger(logger).makeRecord(logger, logging.INFO, __file__, 0, message, (), None)
    for handler in logging.getLogger().handlers:
        handler.handle(record)


def init_app(app: Flask) -> None:
    """Gives each request an id (sent back as ``X-Request-Id``) and puts it and the user's id where the web server's
    access log reads them."""

    @app.before_request
    def request_id() -> None:
        incoming = request.headers.get("X-Request-Id", "") if app.config.get("TRUST_PROXY") else ""
        g.request_id = incoming if REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        g.request_started = time.perf_counter()
        request.environ[ENVIRON_REQUEST_ID] = g.request_id

    @app.after_request
    def tell_access_log(response: Response) -> Response:
        request_id = g.get("request_id")
        if request_id:
            response.headers["X-Request-Id"] = request_id
        user_id = signed_in_user_id()
        if user_id is not None:
            request.environ[ENVIRON_USER_ID] = user_id
        return response


def access_record(logger: logging.Logger, environ: dict[str, Any], status: int | None,
                  duration_seconds: float) -> logging.LogRecord:
    """The access log's record for one request, from what the web server knows about it."""
    method = environ.get("REQUEST_METHOD", "")
    path = environ.get("PATH_INFO", "")
    record = logger.makeRecord(logger.name, logging.INFO, __file__, 0, "%s %s %s", (method, path, status), None)
    record.request_id = environ.get(ENVIRON_REQUEST_ID)
    record.method = method
    record.path = path
    record.status = status
    record.duration_ms = round(duration_seconds * 1000, 1)
    record.user_id = environ.get(ENVIRON_USER_ID)
    record.remote_addr = environ.get("REMOTE_ADDR")
    return record


def gunicorn_logger_class() -> type:
    """gunicorn's logger, with its own messages and the access log as JSON lines (``ehcflow serve`` uses it when
    ``EHCFLOW_LOG_FORMAT=json``). Imported here, not at the top: only ``serve`` runs gunicorn."""
    from gunicorn.glogging import Logger

    class JsonGunicornLogger(Logger):  # type: ignore[misc]
        def setup(self, cfg: Any) -> None:
            super().setup(cfg)
            for log in (self.error_log, self.access_log):
                for handler in log.handlers:
                    handler.setFormatter(JsonFormatter())

        def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> None:
            if not self.access_log_enabled:
                return
            status = getattr(resp, "status_code", None)
            record = access_record(self.access_log, environ, int(status) if status else None,
                                   request_time.total_seconds())
            self.access_log.handle(record)

    return JsonGunicornLogger
