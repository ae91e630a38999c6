"""The public pages to request an EHC needs assessment: the start page, one page per question, the setting's reports,
check your answers, and the confirmation with the date by which the local authority must decide."""

from __future__ import annotations

from webui.request import check, pages, reports, start  # noqa: F401 - each registers its views on the blueprint
from webui.request.blueprint import bp

__all__ = ["bp"]
