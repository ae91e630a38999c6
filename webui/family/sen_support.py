"""The family's page for their child's SEN support (issue 19): the plan and the reviews in plain English, what the
family is asked to do before each review, and a move of setting they are asked to agree to. Only the family on the
case sees it (any other case is "not found"); the record is read with ``engine.lists.sen_support`` as the setting's
page reads it, and nothing here changes it: the family's own steps are task pages."""

from __future__ import annotations

from typing import Any

from flask import abort, render_template
from flask.typing import ResponseReturnValue
from flask_login import current_user

from engine.casework.named_parent import is_the_young_person
from engine.casework.sen_support_move import move_status
from engine.lists import sen_support, sen_support_words
from engine.people.roles import Role
from engine.statutory.clock import active_clock
from engine.store.models import ProcessInstance
from webui.access import family
from webui.context import db, engine
from webui.family.routes import bp, case_or_404

#: How a review's progress reads to a family.
PLAIN_PROGRESS = {"met": "achieved", "good": "good progress", "some": "some progress",
                  "little": "little or no progress so far"}
#: What a review decided, as a family would say it.
PLAIN_NEXT_STEPS = {
    "continue": "The support carries on as planned, with a new review date.",
    "change": "The support changes: the setting looks again at the needs and makes a new plan with you.",
    "specialist": "The setting asks a specialist for advice.",
    "request_assessment": "The setting asks the local authority for an EHC needs assessment.",
    "stop": "SEN support stops: the special help is no longer needed.",
}


def _load_workflow(instance: ProcessInstance) -> Any:
    with active_clock(engine().clock):
        return engine().load_workflow(instance)


@bp.get("/cases/<int:case_id>/sen-support")
@family
def sen_support_record(case_id: int) -> ResponseReturnValue:
    """Your child's SEN support: the plan now, each review, and what you are asked to do."""
    case = case_or_404(case_id)
    found = sen_support.sen_support_record(db(), current_user.record, case, _load_workflow)
    if found is None:
        abort(404)
    reviewed = [c for c in found.cycles if not c.get("in_progress")]
    current = found.cycles[-1] if found.cycles else None
    my_tasks = [t for t in found.open_tasks if t.role == Role.FAMILY.value]
    return render_template("family/sen_support.html", case=case, r=found, current=current, reviewed=reviewed,
                           my_tasks=my_tasks, progress=PLAIN_PROGRESS, next_steps=PLAIN_NEXT_STEPS,
                           move=move_status(db(), case.id),
                           is_young_person=is_the_young_person(db(), case.id, current_user.id),
                           **sen_support_words.record_labels(found.instance.version.files))
