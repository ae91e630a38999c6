"""Rows of the authorization matrix (tests/web/test_authorization.py) for intake (new requests for an assessment), and
the objects its URLs name."""

from __future__ import annotations

import io
from typing import Any

from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from engine.intake.requests import record_request
from engine.store.models import Case
from engine.store.requests import AssessmentRequest
from webui import uploads

LA_INTAKE = {"caseworker", "manager"}
# The list and the record form have no object: another authority's caseworkers and managers use them for their own
# authority's requests (tests/web/test_intake.py checks they see none of ours).
ANY_INTAKE = LA_INTAKE | {"other_caseworker", "other_manager"}

# (endpoint, method, variant) -> who may use it on the first case's organisation's objects.
EXTRA_MATRIX: dict[tuple[str, str, str], Any] = {
    ("intake.index", "GET", ""): ANY_INTAKE,
    ("intake.record", "GET", ""): ANY_INTAKE,
    ("intake.record", "POST", ""): ANY_INTAKE,  # an empty form: every question is refused, nothing is recorded
    ("intake.request_page", "GET", ""): LA_INTAKE,
    ("intake.attachment", "GET", ""): LA_INTAKE,
    ("intake.register", "POST", ""): LA_INTAKE,
    ("intake.close", "GET", ""): LA_INTAKE,
    ("intake.close", "POST", ""): LA_INTAKE,
}

# What is posted: enough to reach the authorization checks, never enough to change anything (a case id that is not a
# number is refused on the page; closing without a reason stops at "Enter why").
EXTRA_POST_DATA: dict[str, dict[str, str]] = {
    "intake.record": {},
    "intake.register": {"case_id": "none"},
    "intake.close": {"reason": ""},
}

ANSWERS = {
    "requester_type": "other", "requester_name": "Dr Lee", "relationship_to_child": "Health visitor",
    "requester_email": "dr.lee@health.example", "child_first_name": "Casey", "child_last_name": "Matrix",
    "child_date_of_birth": "2019-02-01", "child_address": "2 Test Road", "child_postcode": "TE1 1AA",
    "family_knows": "yes", "sen_support": "None yet.", "urgent": "no", "consent_to_share": "yes",
}


def make_extra_targets(services: Any, engine: Any, app: Any, world: Any, case_id: int, clock: Any) -> dict[str, Any]:
    """A request received by the case's authority, with a report attached."""
    base = uploads.folder(app.instance_path)
    stored = uploads.store(FileStorage(io.BytesIO(b"a report"), "report.txt"), base, extensions=(".txt",),
                           max_bytes=1000, scanner=uploads.eicar_scanner, case_id=0, task_id=0,
                           user_id=world.users["caseworker"].id, now=clock.now())
    with services.session_factory() as s:
        la_id = s.scalars(select(Case.la_id).where(Case.id == case_id)).one()
        row: AssessmentRequest = record_request(s, la_id, ANSWERS, "email", clock.now(), None, clock.now())
        row.attachments = [{"token": stored.token, "filename": stored.filename, "size": stored.size}]
        s.commit()
        return {"request_id": row.id, "attachment": stored.token}
