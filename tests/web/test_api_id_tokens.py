"""The API with a member of staff's own ID token from their organisation's identity provider (docs/sso.md, a real
provider on a local port): they act with their own EHC Flow roles, and every token the sign-in page would refuse is
refused here too (401, application/problem+json)."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from engine.runtime.services import Services
from engine.store.models import AuditEvent
from tests.conftest import World
from tests.fixtures.oidc_provider import OidcProvider
from tests.web.matrix_api import bearer


@pytest.fixture
def provider(provider_id: int, oidc: OidcProvider) -> OidcProvider:
    """The world's authority with its identity provider connected (tests/web/conftest.py)."""
    return oidc


def _get(app: Flask, url: str, token: str) -> tuple[int, dict, str]:
    response = app.test_client().get(url, headers=bearer(token))
    return response.status_code, response.get_json(force=True, silent=True) or {}, response.mimetype


def test_a_caseworker_reads_their_cases_with_their_own_id_token(app: Flask, services: Services, world: World,
                                                                provider: OidcProvider) -> None:
    token = provider.id_token("Caseworker@Test.example", None)
    status, body, _ = _get(app, f"/api/v1/cases/{world.case_id}", token)
    assert status == 200 and body["child_first_name"] == "Alex"
    assert _get(app, f"/api/v1/cases/{world.other_case_id}", token)[0] == 404  # another authority's child
    with services.session_factory() as s:
        call = s.scalars(select(AuditEvent).where(AuditEvent.action == "api_call")
                         .order_by(AuditEvent.id.desc())).first()
        assert call.actor_id == world.users["caseworker"].id
        assert call.detail["via"] == "id_token" and call.detail["api_token_id"] is None


@pytest.mark.parametrize(("change", "email"), [
    ({"sign_with_other_key": True}, "caseworker@test.example"),  # a bad signature
    ({"audience": "another-client"}, "caseworker@test.example"),  # issued to another client
    ({"lifetime": -600}, "caseworker@test.example"),  # expired (beyond the allowed clock skew)
    ({}, "nobody@test.example"),  # a person EHC Flow does not know
    ({}, "school@test.example"),  # staff of another organisation than the provider's
])
def test_an_id_token_the_sign_in_page_would_refuse_is_refused(app: Flask, world: World, provider: OidcProvider,
                                                              change: dict, email: str) -> None:
    for name, value in change.items():
        setattr(provider, name, value)
    status, body, mimetype = _get(app, f"/api/v1/cases/{world.case_id}", provider.id_token(email, None))
    assert (status, mimetype, body["status"]) == (401, "application/problem+json", 401)
    assert "ID token was refused" in body["detail"]


def test_a_token_that_is_neither_ours_nor_a_jwt_is_unknown(app: Flask, world: World) -> None:
    status, body, _ = _get(app, f"/api/v1/cases/{world.case_id}", "not.a.jwt")
    assert status == 401 and "ID token was refused" in body["detail"]
    status, body, _ = _get(app, f"/api/v1/cases/{world.case_id}", "ehcf_unknown")
    assert status == 401 and body["detail"] == "The API token is not known."
