"""Rows of the authorization matrix (tests/web/test_authorization.py) for the admin exports (webui/admin/exports.py)."""

from __future__ import annotations

from typing import Any

ADMIN = {"admin"}  # the case's own authority's administrators; another authority's get "not found"
ANY_ADMIN = {"admin", "other_admin"}  # the audit trail: each administrator gets their own organisations' events

EXTRA_MATRIX: dict[tuple[str, str, str], Any] = {
    ("admin.export_case", "GET", ""): ADMIN,
    ("admin.export_case", "POST", ""): ADMIN,
    ("admin.export_audit", "GET", ""): ANY_ADMIN,
    ("admin.export_audit", "POST", ""): ANY_ADMIN,
}

# No reason and no dates: each stops at its form's errors, so nothing is exported or audited.
EXTRA_POST_DATA: dict[str, dict[str, str]] = {"admin.export_case": {"reason": ""}, "admin.export_audit": {}}


def make_extra_targets(services: Any, engine: Any, app: Any, world: Any, case_id: int, clock: Any) -> dict[str, Any]:
    return {}  # the case's id is a URL value every area already has
