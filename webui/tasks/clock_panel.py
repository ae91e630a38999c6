"""The case page's 20-week clock panel (webui/templates/cases/case.html): a template global, so that the panel reads
the engine's clock (engine/lists/clock.py) wherever a case page is drawn."""

from __future__ import annotations

from engine.lists.clock import AssessmentClock, assessment_clock
from webui.context import db, today
from webui.tasks.blueprint import bp


@bp.app_template_global("assessment_clock")
def assessment_clock_for(case_id: int) -> AssessmentClock | None:
    """The case's 20 weeks on today's date, while an assessment or plan drafting runs; None otherwise."""
    return assessment_clock(db(), case_id, today())
