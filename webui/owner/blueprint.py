"""The process owners' pages: the routes and their versions, uploads, differences, scenarios and migration."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("owner", __name__, url_prefix="/routes")
