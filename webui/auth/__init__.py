"""Signing in and out, the signed-in user and their sessions, and setting a password from an emailed link
(blueprint ``auth``)."""

from __future__ import annotations

from webui.auth import routes, set_password, sso, temporary  # noqa: F401 - each registers its views on the blueprint
from webui.auth.routes import bp

__all__ = ["bp"]
