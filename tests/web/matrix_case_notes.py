"""Rows of the authorization matrix (tests/web/test_authorization.py) for the case's contact log."""

from __future__ import annotations

from typing import Any

# Need to know: the responsible authority's caseworkers and managers only. Its administrators, process owners, EPs
# and social care, and the organisations on the case are refused; another authority's staff get "not found"
# (tests/web/test_case_notes.py).
EXTRA_MATRIX: dict[tuple[str, str, str], Any] = {
    ("cases.notes", "GET", ""): {"caseworker", "manager"},
    ("cases.notes", "POST", ""): {"caseworker", "manager"},  # an empty form: every field is refused, nothing is saved
}

EXTRA_POST_DATA: dict[str, dict[str, str]] = {"cases.notes": {}}


def make_extra_targets(services: Any, engine: Any, app: Any, world: Any, case_id: int, clock: Any) -> dict[str, Any]:
    return {}  # the page names only the case
