"""Rows of the authorization matrix (tests/web/test_authorization.py) for the admin area, and the objects its URLs name."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from engine.store.models import Case, Membership

ADMIN = {"admin"}
ANY_ADMIN = {"admin", "other_admin"}  # pages without an object: each admin sees their own organisations' things

_LISTS = ("admin.home", "admin.instances", "admin.users", "admin.organisations")
_FORMS = ("admin.new_user", "admin.new_organisation", "admin.import_plans")
_INSTANCE_ACTIONS = ("admin.suspend", "admin.resume", "admin.terminate", "admin.retry", "admin.skip",
                     "admin.move_back", "admin.edit_data", "admin.repair_data", "admin.migrate", "admin.reassign")
_USER_ACTIONS = ("admin.deactivate_user", "admin.reactivate_user", "admin.reset_password", "admin.grant",
                 "admin.revoke")

# (endpoint, method, variant) -> who may use it on the first case's organisation's objects.
EXTRA_MATRIX: dict[tuple[str, str, str], Any] = {
    **{(e, "GET", ""): ANY_ADMIN for e in _LISTS},
    **{(e, m, ""): ANY_ADMIN for e in _FORMS for m in ("GET", "POST")},
    ("admin.instance", "GET", ""): ADMIN,
    ("admin.instance_diagram", "GET", ""): ADMIN,
    ("admin.user", "GET", ""): ADMIN,
    ("admin.organisation", "GET", ""): ADMIN,
    **{(e, m, ""): ADMIN for e in _INSTANCE_ACTIONS + _USER_ACTIONS for m in ("GET", "POST")},
}

# What is posted: enough to reach the authorization checks, never enough to change anything (no reason is given, so
# every action stops at "Enter the reason"; the creation forms stop at their first missing field).
EXTRA_POST_DATA: dict[str, dict[str, str]] = {
    **{e: {"reason": ""} for e in _INSTANCE_ACTIONS + _USER_ACTIONS},
    "admin.new_user": {"name": "", "email": ""},
    "admin.new_organisation": {"name": ""},
    "admin.import_plans": {},  # no file: "Select a CSV file"
}


def make_extra_targets(services: Any, engine: Any, app: Any, world: Any, case_id: int, clock: Any) -> dict[str, Any]:
    """URL values (by URL variable name) for this area's endpoints, made for the case's organisation."""
    with services.session_factory() as s:
        la_id = s.scalars(select(Case.la_id).where(Case.id == case_id)).one()
        person = world.users["caseworker" if la_id == world.la.id else "other_caseworker"]
        membership_id = s.scalars(select(Membership.id).where(Membership.user_id == person.id)).first()
    return {"user_id": person.id, "membership_id": membership_id, "organisation_id": la_id}
