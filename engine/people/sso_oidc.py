"""The OpenID Connect protocol for staff sign-in: discovery, the authorization request with PKCE, the code exchange,
and validating the ID token.

Authlib speaks OAuth 2 (the authorization URL with its S256 code challenge, the token request with the client's
credentials); joserfc (Authlib's own JOSE library) checks the ID token: its signature against the provider's published
keys (JWKS), then issuer, audience, expiry, issue time and nonce. Only asymmetric signatures are accepted: a token
signed with ``none`` or with a shared key is refused, whatever its header says.

Every failure is an ``SsoFailure`` whose ``reason`` is a short code for the audit trail and whose message is safe to
show. Nothing here touches the database.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.common.security import is_secure_transport
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.errors import (
    BadSignatureError,
    ExpiredTokenError,
    InvalidClaimError,
    JoseError,
    MissingClaimError,
)
from joserfc.jwk import KeySet

from engine.errors import EngineError

SIGNING_ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")
SCOPE = "openid email profile"
TIMEOUT_SECONDS = 10
# Clocks differ a little between the provider and us: RFC 7519 allows "a few minutes"; one is enough.
LEEWAY_SECONDS = 60
_NOT_WORKING = "Signing in with your organisation's account did not work. Try again, or ask your administrator."


class SsoFailure(EngineError):
    """Signing in with a provider failed; ``reason`` names why for the audit trail."""

    def __init__(self, reason: str, message: str = _NOT_WORKING, email: str | None = None) -> None:
        self.reason = reason
        self.email = email  # who the provider said it was, when the token was good but the person is refused
        super().__init__(message)


@dataclass(frozen=True)
class ProviderMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str


@dataclass(frozen=True)
class AuthorizationRequest:
    """Where to send the browser, and what to remember (server side) until it comes back."""

    url: str
    state: str
    nonce: str
    code_verifier: str


def issuer_problem(issuer: str, allow_http_loopback: bool = False) -> str | None:
    """What is wrong with an issuer URL as typed, if anything: it must be HTTPS. Plain HTTP to this machine only when
    allowed (tests, development): otherwise an administrator could make the server probe its own local ports."""
    if not issuer:
        return "Enter the issuer URL"
    if len(issuer) > 500:
        return "The issuer URL must be 500 characters or fewer"
    secure = issuer.startswith("https://") or (allow_http_loopback and issuer.startswith("http://"))
    if not secure or not is_secure_transport(issuer):
        return "Enter the issuer as an https:// address, like https://login.microsoftonline.com/<tenant>/v2.0"
    if "?" in issuer or "#" in issuer:
        return "The issuer URL cannot have a query or a fragment"
    return None


def _get_json(url: str, what: str) -> dict[str, Any]:
    if not is_secure_transport(url):
        raise SsoFailure("insecure_endpoint", f"The identity provider's {what} is not an https:// address")
    try:
        response = requests.get(url, timeout=TIMEOUT_SECONDS, headers={"Accept": "application/json"})
        response.raise_for_status()
        data = response.json()
    except (requests.RequestException, ValueError) as exc:
        raise SsoFailure("provider_unreachable", f"Could not read the identity provider's {what} at {url}: "
                                                 f"{type(exc).__name__}") from exc
    if not isinstance(data, dict):
        raise SsoFailure("provider_unreachable", f"The identity provider's {what} at {url} is not a JSON object")
    return data


def discover(issuer: str) -> ProviderMetadata:
    """Reads ``<issuer>/.well-known/openid-configuration``. Its ``issuer`` must be exactly the one configured
    (OpenID Connect Discovery 1.0, section 4.3): otherwise another provider's document could be served."""
    data = _get_json(issuer.rstrip("/") + "/.well-known/openid-configuration", "discovery document")
    if data.get("issuer") != issuer:
        raise SsoFailure("wrong_issuer", f"The discovery document names the issuer {data.get('issuer')!r}, "
                                         f"not {issuer!r}: enter the issuer exactly as the provider gives it")
    missing = [k for k in ("authorization_endpoint", "token_endpoint", "jwks_uri") if not isinstance(data.get(k), str)]
    if missing:
        raise SsoFailure("provider_unreachable", f"The discovery document has no {', '.join(missing)}")
    return ProviderMetadata(issuer, data["authorization_endpoint"], data["token_endpoint"], data["jwks_uri"])


def authorization_request(meta: ProviderMetadata, client_id: str, redirect_uri: str) -> AuthorizationRequest:
    """The authorization code request, with a fresh state, nonce and PKCE verifier (S256)."""
    verifier = secrets.token_urlsafe(64)  # 86 characters: within RFC 7636's 43 to 128
    nonce = secrets.token_urlsafe(32)
    with OAuth2Session(client_id, redirect_uri=redirect_uri, scope=SCOPE, code_challenge_method="S256") as client:
        url, state = client.create_authorization_url(meta.authorization_endpoint, state=secrets.token_urlsafe(32),
                                                     code_verifier=verifier, nonce=nonce)
    return AuthorizationRequest(url, state, nonce, verifier)


def exchange_code(meta: ProviderMetadata, client_id: str, client_secret: str, redirect_uri: str, code: str,
                  code_verifier: str) -> str:
    """Swaps the authorization code (with the PKCE verifier) for tokens; returns the ID token."""
    if not is_secure_transport(meta.token_endpoint):
        raise SsoFailure("insecure_endpoint")
    try:
        with OAuth2Session(client_id, client_secret, redirect_uri=redirect_uri,
                           token_endpoint_auth_method="client_secret_basic") as client:
            token = client.fetch_token(meta.token_endpoint, grant_type="authorization_code", code=code,
                                       code_verifier=code_verifier, timeout=TIMEOUT_SECONDS)
    except (AuthlibBaseError, requests.RequestException, ValueError) as exc:  # the provider's error, or no answer
        raise SsoFailure("token_refused") from exc
    id_token = token.get("id_token")
    if not isinstance(id_token, str):
        raise SsoFailure("no_id_token")
    return id_token


def fetch_keys(meta: ProviderMetadata) -> KeySet:
    """The provider's published signing keys. Read at each sign-in, so a rotated key is never missed."""
    try:
        return KeySet.import_key_set(_get_json(meta.jwks_uri, "signing keys (JWKS)"))  # type: ignore[arg-type]
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise SsoFailure("bad_jwks") from exc


def validate_id_token(id_token: str, keys: KeySet, issuer: str, client_id: str, now: datetime,
                      nonce: str | None) -> dict[str, Any]:
    """The ID token's claims once its signature, issuer, audience, expiry, issue time and (when given) nonce are right
    (OpenID Connect Core 1.0, section 3.1.3.7). ``nonce`` None: a token not from our own sign-in (an API caller's)."""
    try:
        token = jwt.decode(id_token, keys, algorithms=list(SIGNING_ALGORITHMS))
    except BadSignatureError as exc:
        raise SsoFailure("bad_signature") from exc
    except (JoseError, ValueError, TypeError) as exc:
        raise SsoFailure("invalid_token") from exc
    claims = dict(token.claims)
    options: dict[str, Any] = {"iss": {"essential": True, "value": issuer},
                               "aud": {"essential": True, "value": client_id},
                               "sub": {"essential": True}, "exp": {"essential": True}, "iat": {"essential": True}}
    if nonce is not None:
        options["nonce"] = {"essential": True, "value": nonce}
    registry = jwt.JWTClaimsRegistry(now=int(now.timestamp()), leeway=LEEWAY_SECONDS, **options)
    try:
        registry.validate(claims)
    except ExpiredTokenError as exc:
        raise SsoFailure("expired_token") from exc
    except (InvalidClaimError, MissingClaimError) as exc:
        claim = str(getattr(exc, "claim", "") or exc.description)
        for name, reason in (("aud", "wrong_audience"), ("iss", "wrong_issuer"), ("nonce", "wrong_nonce")):
            if name in claim:
                raise SsoFailure(reason) from exc
        raise SsoFailure("invalid_token") from exc
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    # With other audiences besides us, the token must say it was issued to us (Core 1.0, 3.1.3.7 items 4 and 5).
    if len(audiences) > 1 and claims.get("azp") != client_id:
        raise SsoFailure("wrong_audience")
    return claims
