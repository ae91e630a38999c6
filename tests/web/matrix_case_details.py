"""Rows of the authorization matrix (tests/web/test_authorization.py) for the child's details on a case."""

from __future__ import annotations

from typing import Any

# (endpoint, method, variant) -> who may use it on the first case: the responsible authority's caseworkers and
# managers. Another authority's staff get "not found", everyone else "forbidden" (tests/web/test_case_details.py).
EXTRA_MATRIX: dict[tuple[str, str, str], Any] = {
    ("cases.details", "GET", ""): {"caseworker", "manager"},
    ("cases.details", "POST", ""): {"caseworker", "manager"},  # an empty form: the names are refused, nothing changes
}

EXTRA_POST_DATA: dict[str, dict[str, str]] = {"cases.details": {}}


def make_extra_targets(services: Any, engine: Any, app: Any, world: Any, case_id: int, clock: Any) -> dict[str, Any]:
    return {}  # the page names only the case
