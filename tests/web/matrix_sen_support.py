"""Rows of the authorization matrix (tests/web/test_authorization.py) for the setting's SEN support pages: the SENCO's
list and provision map (the school role only), and a pupil's record (the case's setting and the responsible
authority's caseworkers and managers: need to know). The case's SEN support is started for the record to show."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from engine.store.models import HumanTask
from tests.conftest import ROOT, deploy_files

SENCO = {"school"}

EXTRA_MATRIX: dict[tuple[str, str, str], Any] = {
    ("sen_support.index", "GET", ""): SENCO,
    ("sen_support.provision_map_csv", "GET", ""): SENCO,
    ("sen_support.record", "GET", ""): SENCO | {"caseworker", "manager"},
}


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
