"""The task pages' blueprint (``tasks``, under ``/tasks``): the lists and the task page register their views on it."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("tasks", __name__, url_prefix="/tasks")
