"""Case pages for staff: the case, its routes, documents and plans, messages to its routes, the young person's
named parent."""

from __future__ import annotations

from webui.cases import messages, routes, young_person  # noqa: F401 - each registers its views on the blueprint
from webui.cases.blueprint import bp

__all__ = ["bp"]
