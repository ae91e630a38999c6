"""The process owners' area (blueprint ``owner``, under ``/routes``)."""

from __future__ import annotations

from webui.owner import compare, routes, scenario, upload  # noqa: F401 - each registers its views on the blueprint
from webui.owner.blueprint import bp

__all__ = ["bp"]
