"""Staff sign in with their organisation's OpenID Connect provider (webui/auth/sso.py, engine/people/sso.py), against
a real provider on a local port (tests/fixtures/oidc_provider.py): a good sign-in, and each way it must be refused."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit, urlunsplit

import pytest
import requests
from sqlalchemy import select
from werkzeug.test import TestResponse

from engine.people import sso
from engine.people.sso_oidc import SsoFailure, authorization_request, discover, exchange_code
from engine.runtime.services import Services
from engine.statutory.clock import FrozenClock
from engine.store.models import AuditEvent, User
from engine.store.sso import IdentityProvider
from tests.conftest import World
from tests.fixtures.oidc_provider import CLIENT_SECRET, OidcProvider
from tests.web.conftest import Client, make_app, soup, text_of


def sign_in_with(client: Client, oidc: OidcProvider, provider_id: int, email: str,
                 tamper_state: bool = False) -> TestResponse:
    """The browser's round trip: to the provider (which approves at once as ``email``) and back with the code."""
    oidc.email = email
    start = client.get(f"/sign-in/sso/{provider_id}", status=302)
    to_provider = start.headers["Location"]
    assert to_provider.startswith(f"{oidc.issuer}/authorize?")
    at_provider = requests.get(to_provider, allow_redirects=False, timeout=10)
    assert at_provider.status_code == 302, at_provider.text
    back = urlsplit(at_provider.headers["Location"])
    assert back.path == "/sign-in/sso/callback"
    query = back.query.replace("state=", "state=x") if tamper_state else back.query
    return client.get(urlunsplit(("", "", back.path, query, "")), status=None)


def refusals(services: Services) -> list[dict]:
    with services.session_factory() as s:
        return [e.detail for e in s.scalars(select(AuditEvent).where(AuditEvent.action == "sso_sign_in_refused"))]


def test_a_caseworker_signs_in_with_their_organisations_account(client: Client, oidc: OidcProvider,
                                                                provider_id: int, services: Services,
                                                                world: World) -> None:
    page = client.page("/sign-in")
    link = page.find("a", string="Sign in with Testshire Council's account")
    assert link is not None and link["href"] == f"/sign-in/sso/{provider_id}"
    # Matched by email whatever its case; the roles are EHC Flow's own.
    response = sign_in_with(client, oidc, provider_id, "CaseWorker@Test.Example")
    assert response.status_code == 302 and response.headers["Location"] == "/tasks/"
    account = text_of(client.page("/account"))
    assert "caseworker@test.example" in account and "Testshire Council" in account
    # The authorization request used PKCE (S256) and a nonce; the code went back with its verifier.
    with services.session_factory() as s:
        events = s.scalars(select(AuditEvent).where(AuditEvent.action.in_(("signed_in", "sso_signed_in")))).all()
        assert {e.action for e in events} == {"signed_in", "sso_signed_in"}
        assert all(e.actor_id == world.users["caseworker"].id for e in events)
        assert s.get(User, world.users["caseworker"].id).last_sign_in_at is not None
    assert len(oidc.token_requests[-1]["code_verifier"]) >= 43


def test_the_authorization_request_carries_state_nonce_and_an_s256_challenge(client: Client, oidc: OidcProvider,
                                                                            provider_id: int) -> None:
    query = parse_qs(urlsplit(client.get(f"/sign-in/sso/{provider_id}", status=302).headers["Location"]).query)
    assert query["code_challenge_method"] == ["S256"] and query["response_type"] == ["code"]
    assert query["nonce"][0] and query["state"][0] and query["scope"] == ["openid email profile"]
    assert query["redirect_uri"] == ["http://localhost/sign-in/sso/callback"]


@pytest.mark.parametrize(("setting", "value", "reason"), [
    ("sign_with_other_key", True, "bad_signature"),
    ("audience", "someone-else", "wrong_audience"),
    ("audience", ["ehcflow-test-client", "someone-else"], "wrong_audience"),  # several audiences and no azp
    ("lifetime", -120, "expired_token"),  # expired two minutes ago: beyond the one minute allowed for clock skew
    ("nonce", "a-replayed-nonce", "wrong_nonce"),
    ("token_issuer", "https://attacker.example", "wrong_issuer"),
])
def test_a_bad_id_token_is_refused(client: Client, oidc: OidcProvider, provider_id: int, services: Services,
                                   world: World, setting: str, value: object, reason: str) -> None:
    setattr(oidc, setting, value)
    response = sign_in_with(client, oidc, provider_id, "caseworker@test.example")
    assert response.status_code == 400
    assert "Sorry, signing in did not work" in text_of(soup(response))
    assert client.get("/account", status=302).headers["Location"].startswith("/sign-in")
    assert refusals(services) == [{"reason": reason, "organisation_id": world.la.id, "email": None}]


def test_a_token_that_expires_within_the_allowed_skew_is_accepted(client: Client, oidc: OidcProvider,
                                                                  provider_id: int) -> None:
    oidc.lifetime = -30
    assert sign_in_with(client, oidc, provider_id, "caseworker@test.example").status_code == 302


def test_a_state_that_is_not_ours_is_refused(client: Client, oidc: OidcProvider, provider_id: int,
                                             services: Services) -> None:
    response = sign_in_with(client, oidc, provider_id, "caseworker@test.example", tamper_state=True)
    assert response.status_code == 400
    assert [d["reason"] for d in refusals(services)] == ["wrong_state"]
    # Coming back without having started here: refused, and nothing was tried against an account.
    assert client.get("/sign-in/sso/callback?code=x&state=y", status=400)
    assert len(refusals(services)) == 1


@pytest.mark.parametrize(("email", "reason", "says"), [
    ("nobody@test.example", "unknown_user", "There is no EHC Flow account for nobody@test.example at Testshire"),
    ("other_caseworker@test.example", "other_organisation", "There is no EHC Flow account for other_caseworker@"),
    ("parent@test.example", "family_user", "is a family account. Sign in with your email address and password"),
])
def test_a_person_who_is_not_staff_of_the_organisation_is_refused(client: Client, oidc: OidcProvider,
                                                                  provider_id: int, services: Services,
                                                                  world: World, email: str, reason: str,
                                                                  says: str) -> None:
    response = sign_in_with(client, oidc, provider_id, email)
    assert response.status_code == 403
    assert says in text_of(soup(response))
    assert refusals(services) == [{"reason": reason, "organisation_id": world.la.id, "email": email}]
    assert client.get("/account", status=302)


def test_a_deactivated_account_is_refused(client: Client, oidc: OidcProvider, provider_id: int,
                                          services: Services, world: World) -> None:
    with services.session_factory() as s:
        s.get(User, world.users["manager"].id).active = False
        s.commit()
    response = sign_in_with(client, oidc, provider_id, "manager@test.example")
    assert response.status_code == 403 and "has been deactivated" in text_of(soup(response))
    assert [d["reason"] for d in refusals(services)] == ["disabled_user"]


def test_refusals_count_towards_the_sign_in_limit_per_client_address(services: Services, tmp_path: Path,
                                                                     oidc: OidcProvider, provider_id: int) -> None:
    client = Client(make_app(services, tmp_path, SIGN_IN_IP_MAX_FAILURES=2))
    for _ in range(2):
        assert sign_in_with(client, oidc, provider_id, "nobody@test.example").status_code == 403
    assert client.get(f"/sign-in/sso/{provider_id}", status=429)
    # The password form is throttled by the same count.
    assert client.post("/sign-in", {"email": "caseworker@test.example", "password": "x"}).status_code == 429


def test_a_disabled_provider_is_not_offered_and_cannot_be_used(client: Client, oidc: OidcProvider,
                                                               provider_id: int, services: Services) -> None:
    with services.session_factory() as s:
        s.get(IdentityProvider, provider_id).enabled = False
        s.commit()
    assert "Sign in with" not in text_of(client.page("/sign-in"))
    client.get(f"/sign-in/sso/{provider_id}", status=404)


def test_a_provider_that_cannot_be_reached_gives_a_clear_page(client: Client, oidc: OidcProvider, provider_id: int,
                                                              services: Services) -> None:
    oidc.stop()
    response = client.get(f"/sign-in/sso/{provider_id}", status=502)
    assert "We could not reach your organisation's sign-in service" in text_of(soup(response))
    assert [d["reason"] for d in refusals(services)] == ["provider_unreachable"]


def test_a_secret_saved_under_another_app_key_fails_clearly(services: Services, tmp_path: Path,
                                                            oidc: OidcProvider, provider_id: int) -> None:
    client = Client(make_app(services, tmp_path, SECRET_KEY="a-different-key"))
    assert sign_in_with(client, oidc, provider_id, "caseworker@test.example").status_code == 400
    assert [d["reason"] for d in refusals(services)] == ["secret_unreadable"]


def test_the_token_endpoint_checks_the_pkce_verifier(oidc: OidcProvider) -> None:
    meta = discover(oidc.issuer)
    request = authorization_request(meta, oidc.client_id, "http://localhost/sign-in/sso/callback")
    back = requests.get(request.url, allow_redirects=False, timeout=10).headers["Location"]
    code = parse_qs(urlsplit(back).query)["code"][0]
    with pytest.raises(SsoFailure) as refused:
        exchange_code(meta, oidc.client_id, CLIENT_SECRET, "http://localhost/sign-in/sso/callback", code,
                      "a-verifier-that-was-never-sent-with-the-challenge-0123456789")
    assert refused.value.reason == "token_refused"


def test_an_id_token_presented_directly_names_its_user(services: Services, oidc: OidcProvider, provider_id: int,
                                                       world: World, clock: FrozenClock) -> None:
    """What the JSON API can reuse: a bearer ID token from an organisation's provider, validated in full."""
    with services.session_factory() as s:
        user, provider = sso.user_for_id_token(s, oidc.id_token("caseworker@test.example", None), clock.now())
        assert (user.id, provider.id) == (world.users["caseworker"].id, provider_id)
        with pytest.raises(SsoFailure) as refused:
            sso.user_for_id_token(s, oidc.id_token("school@test.example", None), clock.now())
        assert refused.value.reason == "other_organisation"
        oidc.sign_with_other_key = True
        with pytest.raises(SsoFailure) as refused:
            sso.user_for_id_token(s, oidc.id_token("caseworker@test.example", None), clock.now())
        assert refused.value.reason == "bad_signature"
        oidc.reset()
        oidc.audience = "another-client"  # no provider here has that client id
        with pytest.raises(SsoFailure) as refused:
            sso.user_for_id_token(s, oidc.id_token("caseworker@test.example", None), clock.now())
        assert refused.value.reason == "unknown_issuer"


def test_the_page_asked_for_is_kept_through_the_round_trip_but_never_another_site(client: Client, oidc: OidcProvider,
                                                                                  provider_id: int) -> None:
    page = client.page("/sign-in?next=/cases/")
    assert page.find("a", string="Sign in with Testshire Council's account")["href"] == \
        f"/sign-in/sso/{provider_id}?next=/cases/"
    oidc.email = "caseworker@test.example"
    for asked, lands in (("/cases/", "/cases/"), ("//evil.example/", "/tasks/")):
        fresh = Client(client.app)
        start = fresh.get(f"/sign-in/sso/{provider_id}?next={asked}", status=302)
        back = urlsplit(requests.get(start.headers["Location"], allow_redirects=False, timeout=10).headers["Location"])
        assert fresh.get(f"{back.path}?{back.query}", status=302).headers["Location"] == lands


def test_the_button_name_an_administrator_typed_is_shown_as_text(client: Client, provider_id: int,
                                                                 services: Services) -> None:
    with services.session_factory() as s:
        s.get(IdentityProvider, provider_id).display_name = "<script>alert(1)</script>"
        s.commit()
    html = client.get("/sign-in").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in html and "Sign in with &lt;script&gt;alert(1)&lt;/script&gt;" in html
