"""The family's pages: their own cases, what to do, letters and plans, and what they may start or ask for."""

from __future__ import annotations

from webui.family import routes, sen_support, starts  # noqa: F401 - each registers its views on the blueprint
from webui.family.routes import bp

__all__ = ["bp"]
