"""An organisation's administrator sets up, changes and turns off its identity provider
(webui/admin/identity_providers.py, engine/people/sso.py); the client secret is never stored in plain text."""

from __future__ import annotations

import socket

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select, text

from engine.errors import FormInvalid
from engine.people import sso
from engine.people.sso_secrets import decrypt_secret
from engine.runtime.services import Services
from engine.statutory.clock import FrozenClock
from engine.store.models import AuditEvent, Base, User
from engine.store.sso import IdentityProvider
from tests.conftest import World
from tests.fixtures.oidc_provider import CLIENT_SECRET, OidcProvider
from tests.web.conftest import APP_KEY, Client, soup, text_of


def form(oidc: OidcProvider, **changes: str) -> dict[str, str]:
    values = {"issuer": oidc.issuer, "client_id": oidc.client_id, "client_secret": CLIENT_SECRET,
              "display_name": "", "enabled": "yes"}
    values.update(changes)
    return {k: v for k, v in values.items() if v is not None}


def stored(services: Services, organisation_id: int) -> IdentityProvider | None:
    with services.session_factory() as s:
        return s.scalar(select(IdentityProvider).where(IdentityProvider.organisation_id == organisation_id))


def test_an_admin_sets_up_changes_and_turns_off_sign_in(as_user, world: World, services: Services,
                                                        oidc: OidcProvider) -> None:
    admin: Client = as_user("admin")
    listing = text_of(admin.page("/admin/identity-providers"))
    assert "Testshire Council" in listing and "Password only" in listing and "Otherham" not in listing
    url = f"/admin/organisations/{world.la.id}/identity-provider"
    # The redirect URI to register at the provider.
    assert admin.page(url).select_one(".govuk-inset-text code").text == "http://localhost/sign-in/sso/callback"
    admin.post(url, form(oidc), status=302)
    row = stored(services, world.la.id)
    assert row is not None and row.enabled and row.issuer == oidc.issuer and row.client_id == oidc.client_id
    # The secret is not in the database in plain text, in the column or anywhere in the row; the app key opens it.
    with services.session_factory() as s:
        raw = s.execute(text("SELECT * FROM identity_provider")).one()
        assert not any(CLIENT_SECRET in str(value) for value in raw)
        assert decrypt_secret(APP_KEY, row.client_secret_encrypted) == CLIENT_SECRET
        audit = s.scalars(select(AuditEvent).where(AuditEvent.action.like("identity_provider_%"))).one()
        assert CLIENT_SECRET not in str(audit.detail) and audit.detail["secret_changed"] is True
    assert "Sign in with Testshire Council's account" in text_of(Client(admin.app).page("/sign-in"))

    # An empty secret keeps the stored one; the button's name changes.
    admin.post(url, form(oidc, client_secret="", display_name="your Testshire account"), status=302)
    changed = stored(services, world.la.id)
    assert changed.client_secret_encrypted == row.client_secret_encrypted
    assert "Sign in with your Testshire account" in text_of(Client(admin.app).page("/sign-in"))
    assert 'value="' + CLIENT_SECRET not in admin.get(url).get_data(as_text=True)  # never shown again

    # Turned off: not offered; staff sign in with their passwords.
    admin.post(url, form(oidc, client_secret="", enabled=None), status=302)
    assert stored(services, world.la.id).enabled is False
    assert "Sign in with" not in text_of(Client(admin.app).page("/sign-in"))
    assert "Off" in text_of(admin.page("/admin/identity-providers"))


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"issuer": ""}, "issuer", "Enter the issuer URL"),
    ({"issuer": "http://login.example.com/tenant"}, "issuer", "Enter the issuer as an https:// address"),
    ({"client_id": ""}, "client_id", "Enter the client ID"),
    ({"client_secret": ""}, "client_secret", "Enter the client secret"),
    ({"issuer": "CLOSED"}, "issuer", "Could not read the identity provider's discovery document"),
    ({"issuer": "ISSUER/"}, "issuer", "enter the issuer exactly as the provider gives it"),
])
def test_a_provider_that_is_not_right_is_refused_with_the_field_to_change(as_user, world: World, services: Services,
                                                                          oidc: OidcProvider, changes: dict[str, str],
                                                                          field: str, message: str) -> None:
    issuer = changes.get("issuer", "")
    if issuer == "CLOSED":
        changes = {"issuer": f"http://127.0.0.1:{_closed_port()}"}
    elif issuer.startswith("ISSUER"):
        changes = {"issuer": oidc.issuer + "/"}  # the discovery document names the issuer without the slash
    admin: Client = as_user("admin")
    response = admin.post(f"/admin/organisations/{world.la.id}/identity-provider", form(oidc, **changes), status=200)
    page = soup(response)
    assert page.select_one(f'.govuk-error-summary a[href="#{field}"]') is not None
    assert message in text_of(page)
    assert stored(services, world.la.id) is None


def test_outside_tests_and_development_a_plain_http_issuer_on_this_machine_is_refused(
        services: Services, world: World, oidc: OidcProvider, clock: FrozenClock) -> None:
    with services.session_factory() as s, pytest.raises(FormInvalid) as refused:
        sso.save_provider(s, s.get(User, world.users["admin"].id), world.la.id, issuer=oidc.issuer,
                          client_id=oidc.client_id, client_secret=CLIENT_SECRET, display_name="", enabled=True,
                          app_secret_key=APP_KEY, clock=clock)
    assert refused.value.errors["issuer"].startswith("Enter the issuer as an https:// address")


def test_a_turned_off_provider_is_saved_without_reaching_it(as_user, world: World, services: Services,
                                                            oidc: OidcProvider) -> None:
    admin: Client = as_user("admin")
    issuer = f"http://127.0.0.1:{_closed_port()}"
    admin.post(f"/admin/organisations/{world.la.id}/identity-provider", form(oidc, issuer=issuer, enabled=None),
               status=302)
    assert stored(services, world.la.id).issuer == issuer


def test_another_organisations_admin_cannot_see_or_change_it(as_user, world: World, services: Services,
                                                             oidc: OidcProvider) -> None:
    other: Client = as_user("other_admin")
    url = f"/admin/organisations/{world.la.id}/identity-provider"
    other.get(url, status=404)
    other.post(url, form(oidc), status=404)
    assert stored(services, world.la.id) is None
    caseworker: Client = as_user("caseworker")
    caseworker.get("/admin/identity-providers", status=403)


def test_the_identity_provider_table_is_migrated_as_modelled(services: Services) -> None:
    with services.db.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    assert [d for d in differences if "identity_provider" in repr(d)] == []
