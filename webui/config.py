"""Settings of the web app: defaults, then the environment, then what the caller passes (tests).

Environment variables:

- ``EHCFLOW_SECRET_KEY``: signs the session cookie and CSRF tokens. Without it a random key is generated once and
  kept in the instance folder (file ``secret_key``, readable only by its owner); set it when running on several hosts.
- ``EHCFLOW_SECURE_COOKIES``: ``1``/``0``, send cookies only over HTTPS (default: on, except in debug and tests).
- ``EHCFLOW_TRUST_PROXY``: ``1`` behind one reverse proxy: the client's address and scheme come from
  ``X-Forwarded-*``.
- ``EHCFLOW_SESSION_IDLE_MINUTES`` / ``EHCFLOW_SESSION_HOURS``: sign out after this long without a request (30), and
  after this long in all (8).
- ``EHCFLOW_CLAMD_SOCKET``: a ClamAV daemon socket to scan uploads with (see ``webui.uploads``).
- ``EHCFLOW_ORGANISATION``: the organisation named in the header before anyone signs in.
- ``EHCFLOW_API_RATE_LIMIT`` / ``EHCFLOW_API_RATE_WINDOW``: the JSON API's requests per token in each window of
  seconds (120 in 60).
"""

from __future__ import annotations

import logging
import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask

log = logging.getLogger(__name__)

MB = 1024 * 1024


def _flag(name: str) -> bool | None:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return None
    return value.strip().lower() in ("1", "true", "yes", "on")


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value and value.strip().isdigit() else default


def defaults() -> dict[str, Any]:
    return {
        "SERVICE_NAME": "EHC Flow",
        "SESSION_COOKIE_NAME": "ehcflow_session",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_IDLE_MINUTES": _int("EHCFLOW_SESSION_IDLE_MINUTES", 30),
        "SESSION_ABSOLUTE_HOURS": _int("EHCFLOW_SESSION_HOURS", 8),
        # The cookie is sent again only when the session changes, not with every response: it lasts as long as the
        # server-side session may (SESSION_ABSOLUTE_HOURS from signing in), and the server keeps the idle limit
        # (webui/auth/user.py), so a cookie renewed on each request would outlive nothing it guards.
        "SESSION_REFRESH_EACH_REQUEST": False,
        # A form may take a long time to fill in: the CSRF token lives as long as the signed-in session does.
        "WTF_CSRF_TIME_LIMIT": None,
        "WTF_CSRF_SSL_STRICT": True,
        "SIGN_IN_MAX_FAILURES": 5,
        "SIGN_IN_LOCK_MINUTES": 15,
        "SIGN_IN_IP_MAX_FAILURES": 20,
        "SIGN_IN_IP_WINDOW_MINUTES": 15,
        # A password an administrator set stops signing in after this many days (the person chooses their own).
        "TEMP_PASSWORD_DAYS": _int("EHCFLOW_TEMP_PASSWORD_DAYS", 7),
        # The public request pages and set-password links, per client address.
        "REQUEST_DRAFTS_PER_HOUR": 10,
        "REQUEST_SENDS_PER_HOUR": 5,
        "SET_PASSWORD_IP_MAX_ATTEMPTS": 10,
        "MAX_CONTENT_LENGTH": 25 * MB,
        "UPLOAD_MAX_BYTES": 10 * MB,
        "UPLOAD_EXTENSIONS": (".pdf", ".doc", ".docx", ".odt", ".rtf", ".txt", ".jpg", ".jpeg", ".png"),
        "VIRUS_SCANNER": None,  # callable(path, filename) -> reason to reject or None; None: webui.uploads default
        "CLAMD_SOCKET": os.environ.get("EHCFLOW_CLAMD_SOCKET") or None,
        "TRUST_PROXY": bool(_flag("EHCFLOW_TRUST_PROXY")),
        "JINJA_STRICT": False,
        "TASKS_PER_PAGE": 25,
        # The JSON API: requests per token (or per person with an ID token) in each window of seconds (webui/api).
        "API_RATE_LIMIT": _int("EHCFLOW_API_RATE_LIMIT", 120),
        "API_RATE_WINDOW": _int("EHCFLOW_API_RATE_WINDOW", 60),
    }


def secret_key(instance_path: Path) -> str:
    """EHCFLOW_SECRET_KEY, or a random key made once and kept in the instance folder (never a key in the code)."""
    from_env = os.environ.get("EHCFLOW_SECRET_KEY")
    if from_env:
        return from_env
    path = instance_path / "secret_key"
    instance_path.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="utf-8").strip()
    key = secrets.token_hex(32)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key)
    log.warning("EHCFLOW_SECRET_KEY is not set: generated a secret key in %s. Set EHCFLOW_SECRET_KEY when running "
                "on more than one host.", path)
    return key


def configure(app: Flask, overrides: dict[str, Any] | None) -> None:
    overrides = dict(overrides or {})
    app.config.from_mapping(defaults())
    app.config.update(overrides)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = secret_key(Path(app.instance_path))
    if "SESSION_COOKIE_SECURE" not in overrides:
        forced = _flag("EHCFLOW_SECURE_COOKIES")
        app.config["SESSION_COOKIE_SECURE"] = forced if forced is not None else not (app.debug or app.testing)
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=app.config["SESSION_ABSOLUTE_HOURS"])
    if app.testing and "JINJA_STRICT" not in overrides:
        app.config["JINJA_STRICT"] = True
