"""Rows of the authorization matrix (tests/web/test_authorization.py) for staff single sign-on: the two public steps of
signing in (webui/auth/sso.py) and the admin pages that set up a provider (webui/admin/identity_providers.py)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from engine.store.models import Case
from engine.store.sso import IdentityProvider
from tests.fixtures.oidc_provider import shared_provider

ADMIN = {"admin"}  # the case's own authority's administrators; another authority's get "not found"
ANY_ADMIN = {"admin", "other_admin"}

EXTRA_MATRIX: dict[tuple[str, str, str], Any] = {
    # Anyone may start signing in (a signed-in person is sent home); the return step without a sign-in started here
    # is refused with a page (400), never an error.
    ("auth.sso_start", "GET", ""): "public",
    ("auth.sso_callback", "GET", ""): "public",
    ("admin.identity_providers", "GET", ""): ANY_ADMIN,
    ("admin.identity_provider", "GET", ""): ADMIN,
    ("admin.identity_provider", "POST", ""): ADMIN,
}

# No issuer: the form stops at its first error, so nothing is saved.
EXTRA_POST_DATA: dict[str, dict[str, str]] = {"admin.identity_provider": {}}


def make_extra_targets(services: Any, engine: Any, app: Any, world: Any, case_id: int, clock: Any) -> dict[str, Any]:
    """An enabled provider for the case's authority, answering from the shared test provider (the matrix only ever
    starts a sign-in, so the browser is sent there and never comes back)."""
    provider = shared_provider(clock.now)
    with services.session_factory() as s:
        la_id = s.scalars(select(Case.la_id).where(Case.id == case_id)).one()
        row = IdentityProvider(organisation_id=la_id, issuer=provider.issuer, client_id=provider.client_id,
                               client_secret_encrypted="not-used-by-the-matrix", enabled=True,
                               created_at=clock.now(), updated_at=clock.now())
        s.add(row)
        s.commit()
        return {"provider_id": row.id}
