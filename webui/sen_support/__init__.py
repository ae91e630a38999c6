"""The setting's SEN support pages (issue 19): the SENCO's list of pupils on SEN support with their next review date,
a pupil's SEN support record on one page (for the setting and the responsible authority's caseworkers), and the
provision map of the SENCO's settings as CSV. Reads only, through ``engine.lists.sen_support``; the route itself is
run from the task pages."""

from __future__ import annotations

from webui.sen_support.routes import bp

__all__ = ["bp"]
