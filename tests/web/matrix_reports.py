"""Rows of the authorization matrix (tests/web/test_authorization.py) for the reports area, and the objects its URLs name."""

from __future__ import annotations

from typing import Any

# An authority's managers and administrators see its reports (another authority's see their own: the figures are
# theirs, tests/web/test_reports_pages.py checks that); process owners, other staff and families do not.
REPORTERS = {"manager", "admin", "other_manager", "other_admin"}

# (endpoint, method, variant) -> who may use it on the first case's organisation's objects.
EXTRA_MATRIX: dict[tuple[str, str, str], Any] = {
    ("reports.home", "GET", ""): REPORTERS,
    ("reports.timeliness", "GET", ""): REPORTERS,
    ("reports.work_in_progress", "GET", ""): REPORTERS,
    ("reports.sen2", "GET", ""): REPORTERS,
    ("reports.sen2_download", "GET", ""): REPORTERS,
}

# What is posted: enough to reach the authorization checks, never enough to change anything.
EXTRA_POST_DATA: dict[str, dict[str, str]] = {}


def make_extra_targets(services: Any, engine: Any, app: Any, world: Any, case_id: int, clock: Any) -> dict[str, Any]:
    """URL values (by URL variable name) for this area's endpoints, made for the case's organisation."""
    return {}
