"""The tasks area: "My tasks", "Team tasks", claiming and reassigning, and the task page with its form."""

from __future__ import annotations

from webui.tasks import clock_panel, form_page, routes  # noqa: F401 - each registers its views on the blueprint
from webui.tasks.blueprint import bp

__all__ = ["bp"]
