"""Rows of the authorization matrix (tests/web/test_authorization.py) for the JSON API and the admin's API tokens, and
what the API's own matrix (tests/web/test_api_matrix.py) needs: a token for each member of staff of the world.

Signed in with the web's cookie, nobody reaches an API operation (401): a cookie never authenticates an API call. Who
may call each operation with a token is tried by tests/web/test_api_matrix.py, against the web pages' own decisions.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from engine.people.api_tokens import issue_token
from engine.people.roles import Role
from engine.people.users import create_user
from engine.store.models import Membership, Organisation, User
from tests.conftest import PASSWORD

PUBLIC = "public"
NOBODY: set[str] = set()
ANY_ADMIN = {"admin", "other_admin"}

EXTRA_MATRIX: dict[tuple[str, str, str], Any] = {
    ("api.openapi_json", "GET", ""): PUBLIC,
    ("api.docs", "GET", ""): PUBLIC,
    **{(endpoint, method, ""): NOBODY for endpoint, method in (
        ("api.cases", "GET"), ("api.case", "GET"), ("api.deadlines", "GET"), ("api.documents", "GET"),
        ("api.document", "GET"), ("api.document_file", "GET"), ("api.tasks", "GET"), ("api.task", "GET"),
        ("api.complete", "POST"), ("api.startable", "GET"), ("api.start", "POST"), ("api.offered", "GET"),
        ("api.send", "POST"), ("api.timeliness", "GET"), ("api.work_in_progress", "GET"))},
    ("admin.api_tokens", "GET", ""): ANY_ADMIN,
    ("admin.new_api_token", "GET", ""): ANY_ADMIN,
    ("admin.new_api_token", "POST", ""): ANY_ADMIN,  # an empty form: refused, nothing issued
    # Another authority's administrator does not see this authority's token (404).
    ("admin.revoke_api_token", "GET", ""): {"admin"},
    ("admin.revoke_api_token", "POST", ""): {"admin"},  # without "_action=revoke": the confirmation page again
}

EXTRA_POST_DATA: dict[str, dict[str, str]] = {"admin.new_api_token": {}, "admin.revoke_api_token": {}}


def make_extra_targets(services: Any, engine: Any, app: Any, world: Any, case_id: int, clock: Any) -> dict[str, Any]:
    """A token of the first authority, for its revoke page."""
    token_id, _ = token_for(services, world, "caseworker", "read", clock)
    return {"token_id": token_id}


def token_for(services: Any, world: Any, actor: str, scope: str, clock: Any,
              expires_on: date | None = None) -> tuple[int, str]:
    """A token with the organisation and role of one of the world's members of staff, issued by an administrator of
    that organisation (one is added where the world has none); returns its id and the token."""
    with services.session_factory() as s:
        org_id, role = s.execute(select(Membership.organisation_id, Membership.role)
                                 .where(Membership.user_id == world.users[actor].id)).one()
        admin = admin_of(s, org_id, clock)
        issued = issue_token(s, admin, org_id, f"{actor} system", role, scope,
                             expires_on or clock.today() + timedelta(days=90), clock)
        s.commit()
        return issued.row.id, issued.token


def admin_of(session: Any, org_id: int, clock: Any) -> User:
    found = session.scalars(select(User).join(Membership, Membership.user_id == User.id).where(
        Membership.organisation_id == org_id, Membership.role == Role.ADMIN.value)).first()
    if found is not None:
        return found
    org = session.get(Organisation, org_id)
    return create_user(session, f"admin-{org_id}@test.example", f"Admin of {org.name}", PASSWORD, clock,
                       [(org, Role.ADMIN)])


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
