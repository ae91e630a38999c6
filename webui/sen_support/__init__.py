"""The SEN support pages (issue 19): the SENCO's list of pupils on SEN support with their next review date, a pupil's
SEN support record on one page (for the setting and the responsible authority's caseworkers), the provision map of the
SENCO's settings as CSV, a move of setting with the family's consent (``moves``), and a health professional's notice
to the local authority about a young child (``early_years``). Reads through ``engine.lists.sen_support``; the route
itself is run from the task pages."""

from __future__ import annotations

from webui.sen_support import budget, early_years, moves  # noqa: F401 - each registers its views on the blueprint
from webui.sen_support.routes import bp

__all__ = ["bp"]
