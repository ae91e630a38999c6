"""Rows of the authorization matrix (tests/web/test_authorization.py) for starting a route by hand, and the route its
URLs name: the complaint route, which the responsible authority's caseworkers (and so its managers) and the family
may start at any time."""

from __future__ import annotations

from typing import Any

from tests.conftest import ROOT, deploy_files

# (endpoint, method, variant) -> who may use it on the first case's objects. Staff of organisations acting on the
# case see the case but may not start the complaint route (403); the other authority's staff do not see it (404).
EXTRA_MATRIX: dict[tuple[str, str, str], Any] = {
    ("cases.start_route", "GET", ""): {"caseworker", "manager"},
    ("cases.start_route", "POST", ""): {"caseworker", "manager"},
    ("family.start_route", "GET", ""): {"parent"},
    ("family.start_route", "POST", ""): {"parent"},
}

# Anything but "start" draws the page again: the matrix never starts a route.
EXTRA_POST_DATA: dict[str, dict[str, str]] = {
    "cases.start_route": {"_action": "change"},
    "family.start_route": {"_action": "change"},
}


def make_extra_targets(services: Any, engine: Any, app: Any, world: Any, case_id: int, clock: Any) -> dict[str, Any]:
    """The complaint route, deployed (once: the second deploy of the same files changes nothing)."""
    deploy_files(engine, [ROOT / "workflows" / "complaint.bpmn"], ROOT / "forms")
    return {"process_id": "complaint"}
