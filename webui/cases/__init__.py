"""Case pages for staff: the case, the child's details, its routes, documents and plans, messages to its routes, the
young person's named parent, starting a route on the case by hand, and the case's contact log."""

from __future__ import annotations

from webui.cases import (  # noqa: F401 - each registers its views on the blueprint
    details,
    messages,
    notes,
    organisations,
    routes,
    starts,
    young_person,
)
from webui.cases.blueprint import bp

__all__ = ["bp"]
