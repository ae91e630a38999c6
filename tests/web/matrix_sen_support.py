"""Rows of the authorization matrix (tests/web/test_authorization.py) for the SEN support pages: the SENCO's list
and provision map (the school role only), a pupil's record (the case's setting and the responsible authority's
caseworkers and managers: need to know), a move of setting (the same people), the family's page (the family on the
case), the LA's figures (the reports' audience), and a health professional's notice about a young child (a health
body on the case). The case's SEN support is started for the record to show."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from engine.store.models import HumanTask
from tests.conftest import ROOT, deploy_files

SENCO = {"school"}
RECORD_READERS = SENCO | {"caseworker", "manager"}
REPORTERS = {"manager", "admin", "other_manager", "other_admin"}  # as tests/web/matrix_reports.py

EXTRA_MATRIX: dict[tuple[str, str, str], Any] = {
    ("sen_support.index", "GET", ""): SENCO,
    ("sen_support.provision_map_csv", "GET", ""): SENCO,
    ("sen_support.record_budget", "POST", ""): SENCO,  # no amount: the page again with the error, nothing recorded
    ("sen_support.record", "GET", ""): RECORD_READERS,
    # An empty choice is refused with the form again; with no family consent, moving only says so.
    ("sen_support.propose_move", "GET", ""): RECORD_READERS,
    ("sen_support.propose_move", "POST", ""): RECORD_READERS,
    ("sen_support.move_record", "POST", ""): RECORD_READERS,
    # The world's children are of school age: the page says the notice is not for them; the empty form is not sent.
    ("sen_support.early_years_notices", "GET", ""): {"health"},
    ("sen_support.early_years_notice", "GET", ""): {"health"},
    ("sen_support.early_years_notice", "POST", ""): {"health"},
    ("family.sen_support_record", "GET", ""): {"parent"},
    ("sen_support_reports.figures", "GET", ""): REPORTERS,
    ("sen_support_reports.figures_csv_file", "GET", ""): REPORTERS,
}

EXTRA_POST_DATA: dict[str, dict[str, str]] = {"sen_support.propose_move": {"setting_id": ""},
                                              "sen_support.record_budget": {"amount": ""},
                                              "sen_support.early_years_notice": {}}


def make_extra_targets(services: Any, engine: Any, app: Any, world: Any, case_id: int, clock: Any) -> dict[str, Any]:
    """SEN support started on the case by its school, the need identified (the record's first part)."""
    deploy_files(engine, [ROOT / "workflows" / "sen_support.bpmn"], ROOT / "forms")
    engine.start(case_id, "sen_support", None, world.users["school"])
    with services.session_factory() as s:
        task = s.scalars(select(HumanTask).where(HumanTask.case_id == case_id, HumanTask.bpmn_id == "UT_identify",
                                                 HumanTask.status == "open")).one()
        task_id = task.id
    day = clock.today().isoformat()
    engine.complete_task(task_id, {"concern_summary": "Slow progress in reading.", "identified_on": day,
                                   "identified_by": "Class teacher", "parents_told_on": day,
                                   "parents_told_how": "meeting", "family_views": "Agreed.",
                                   "child_views": "Reading is hard.", "senco_name": "Sam Senco"},
                         world.users["school"])
    return {}
