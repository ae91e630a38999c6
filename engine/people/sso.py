"""Staff single sign-on with an organisation's OpenID Connect provider: the provider's settings, and who a validated
ID token signs in.

One provider per organisation, set up by that organisation's administrator (``save_provider``). The person is found by
the token's ``email`` claim, case-insensitively, among the staff of THAT organisation; their roles stay in EHC Flow
(nothing is taken from the token but the email). Anyone else is refused with a reason for the audit trail
(``REFUSALS``): an address EHC Flow does not know, a member of another organisation, a deactivated account, a family
account (families sign in with a password). The protocol itself is in ``engine.people.sso_oidc``; the client secret
is stored encrypted (``engine.people.sso_secrets``).

``user_for_id_token`` is the whole check for a token that did not come through our own sign-in page (for the JSON
API: a bearer ID token issued by an organisation's provider to EHC Flow's client).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.errors import FormInvalid, NotAllowed
from engine.people.roles import Role
from engine.people.sso_oidc import (
    ProviderMetadata,
    SsoFailure,
    discover,
    exchange_code,
    fetch_keys,
    issuer_problem,
    validate_id_token,
)
from engine.people.sso_secrets import SecretUnreadable, decrypt_secret, encrypt_secret
from engine.statutory.clock import Clock
from engine.store.models import AuditEvent, Membership, Organisation, User
from engine.store.sso import IdentityProvider

# reason -> what the person is told (formatted with email and organisation). Token problems share one message.
REFUSALS = {
    "no_email": "Your organisation's account did not give EHC Flow an email address, so we cannot tell who you are. "
                "Ask your administrator to release the email claim to EHC Flow.",
    "email_unverified": "Your organisation's account says the email address {email} is not verified.",
    "unknown_user": "There is no EHC Flow account for {email} at {organisation}. Ask an administrator of "
                    "{organisation} to add you.",
    "other_organisation": "There is no EHC Flow account for {email} at {organisation}. Ask an administrator of "
                          "{organisation} to add you.",
    "disabled_user": "Your EHC Flow account ({email}) has been deactivated. Ask an administrator of {organisation} "
                     "if you need it again.",
    "family_user": "{email} is a family account. Sign in with your email address and password instead.",
}

SECRET_MAX = 2000


def provider_of(session: Session, organisation_id: int) -> IdentityProvider | None:
    return session.scalar(select(IdentityProvider).where(IdentityProvider.organisation_id == organisation_id))


def enabled_providers(session: Session) -> list[IdentityProvider]:
    """The providers offered on the sign-in page: enabled, of active organisations, by organisation name."""
    return list(session.scalars(
        select(IdentityProvider).join(Organisation, Organisation.id == IdentityProvider.organisation_id)
        .where(IdentityProvider.enabled.is_(True), Organisation.active.is_(True)).order_by(Organisation.name)))


def button_label(provider: IdentityProvider) -> str:
    return provider.display_name or f"{provider.organisation.name}'s account"


def _administers(session: Session, actor: User, organisation_id: int) -> bool:
    return session.scalar(select(Membership.id).where(
        Membership.user_id == actor.id, Membership.organisation_id == organisation_id,
        Membership.role == Role.ADMIN.value)) is not None


def save_provider(session: Session, actor: User, organisation_id: int, *, issuer: str, client_id: str,
                  client_secret: str, display_name: str, enabled: bool, app_secret_key: str | bytes, clock: Clock,
                  allow_http_loopback: bool = False,
                  check: Callable[[str], ProviderMetadata] = discover) -> IdentityProvider:
    """Creates or changes the organisation's provider (the caller commits). An empty ``client_secret`` keeps the stored
    one. An enabled provider is checked by reading its discovery document, so a mistyped issuer is caught here rather
    than by the first person who tries to sign in. ``allow_http_loopback``: accept http://localhost issuers (tests and
    development only). Raises FormInvalid (by field) or NotAllowed."""
    if not _administers(session, actor, organisation_id):
        raise NotAllowed("Only an administrator of the organisation can set up its sign-in")
    existing = provider_of(session, organisation_id)
    issuer, client_id, display_name = issuer.strip(), client_id.strip(), display_name.strip()
    errors: dict[str, str] = {}
    if problem := issuer_problem(issuer, allow_http_loopback):
        errors["issuer"] = problem
    if not client_id:
        errors["client_id"] = "Enter the client ID"
    elif len(client_id) > 300:
        errors["client_id"] = "The client ID must be 300 characters or fewer"
    if not client_secret and existing is None:
        errors["client_secret"] = "Enter the client secret"
    elif len(client_secret) > SECRET_MAX:
        errors["client_secret"] = f"The client secret must be {SECRET_MAX:,} characters or fewer"
    if len(display_name) > 200:
        errors["display_name"] = "The name on the button must be 200 characters or fewer"
    if not errors and enabled:
        try:
            check(issuer)
        except SsoFailure as failure:
            errors["issuer"] = str(failure)
    if errors:
        raise FormInvalid(errors)
    now = clock.now()
    provider = existing or IdentityProvider(organisation_id=organisation_id, created_at=now)
    provider.issuer, provider.client_id = issuer, client_id
    provider.display_name = display_name or None
    provider.enabled = enabled
    if client_secret:
        provider.client_secret_encrypted = encrypt_secret(app_secret_key, client_secret)
    provider.updated_at, provider.updated_by_id = now, actor.id
    session.add(provider)
    session.flush()
    action = "identity_provider_created" if existing is None else "identity_provider_changed"
    session.add(AuditEvent(at=now, actor_id=actor.id, action=action,
                           summary=f"Sign-in with {issuer} {'enabled' if enabled else 'disabled'} for organisation "
                                   f"{organisation_id}",
                           # never the secret itself: only whether it changed
                           detail={"organisation_id": organisation_id, "issuer": issuer, "client_id": client_id,
                                   "enabled": enabled, "secret_changed": bool(client_secret)}))
    return provider


def client_secret_of(provider: IdentityProvider, app_secret_key: str | bytes) -> str:
    try:
        return decrypt_secret(app_secret_key, provider.client_secret_encrypted)
    except SecretUnreadable as exc:
        raise SsoFailure("secret_unreadable") from exc


def staff_user_for(session: Session, provider: IdentityProvider, claims: dict[str, Any]) -> User:
    """The EHC Flow staff user of the provider's organisation the validated claims name, or SsoFailure."""
    email = claims.get("email")
    if not isinstance(email, str) or "@" not in email:
        raise SsoFailure("no_email", REFUSALS["no_email"])
    email = email.strip().lower()
    org = provider.organisation.name

    def refuse(reason: str) -> SsoFailure:
        return SsoFailure(reason, REFUSALS[reason].format(email=email, organisation=org), email=email)

    if claims.get("email_verified") is False:  # absent is fine: Entra ID, for one, does not send it
        raise refuse("email_unverified")
    user = session.scalar(select(User).where(func.lower(User.email) == email))
    if user is None:
        raise refuse("unknown_user")
    roles = {(m.organisation_id, m.role) for m in user.memberships}
    if not any(o == provider.organisation_id and r != Role.FAMILY.value for o, r in roles):
        raise refuse("family_user" if roles and all(r == Role.FAMILY.value for _, r in roles)
                     else "other_organisation")
    if not user.active:
        raise refuse("disabled_user")
    return user


def finish_sign_in(session: Session, provider: IdentityProvider, app_secret_key: str | bytes, redirect_uri: str,
                   code: str, code_verifier: str, nonce: str, now: datetime) -> tuple[User, dict[str, Any]]:
    """The browser came back with a code: exchange it, validate the ID token, find the person. (State was checked by
    the caller, which kept it.) Returns the user and the token's claims."""
    meta = discover(provider.issuer)
    id_token = exchange_code(meta, provider.client_id, client_secret_of(provider, app_secret_key), redirect_uri,
                             code, code_verifier)
    claims = validate_id_token(id_token, fetch_keys(meta), provider.issuer, provider.client_id, now, nonce)
    return staff_user_for(session, provider, claims), claims


def _unverified_claims(token: str) -> dict[str, Any]:
    """The payload of a JWT, NOT checked: only to choose which provider's keys check it."""
    try:
        payload = token.split(".")[1]
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError) as exc:
        raise SsoFailure("invalid_token") from exc
    if not isinstance(data, dict):
        raise SsoFailure("invalid_token")
    return data


def user_for_id_token(session: Session, id_token: str, now: datetime,
                      nonce: str | None = None) -> tuple[User, IdentityProvider]:
    """The staff user an ID token from an enabled organisation's provider names, after validating it fully
    (signature against the provider's JWKS, issuer, audience = that provider's client id, expiry, and the nonce when
    given). Raises SsoFailure. For callers that receive a token rather than run the sign-in (the JSON API)."""
    peek = _unverified_claims(id_token)
    audiences = peek.get("aud") if isinstance(peek.get("aud"), list) else [peek.get("aud")]
    candidates = [p for p in enabled_providers(session) if p.issuer == peek.get("iss") and p.client_id in audiences]
    if not candidates:
        raise SsoFailure("unknown_issuer")
    provider = candidates[0]  # issuer and client id together name one registration
    meta = discover(provider.issuer)
    claims = validate_id_token(id_token, fetch_keys(meta), provider.issuer, provider.client_id, now, nonce)
    return staff_user_for(session, provider, claims), provider


def record_refusal(session: Session, provider: IdentityProvider | None, failure: SsoFailure, now: datetime) -> None:
    """Appends the refusal to the audit trail (the caller commits)."""
    session.add(AuditEvent(at=now, actor_id=None, action="sso_sign_in_refused",
                           summary=f"Sign-in with an organisation's account refused ({failure.reason})",
                           detail={"reason": failure.reason,
                                   "organisation_id": provider.organisation_id if provider else None,
                                   "email": failure.email}))


def record_sign_in(session: Session, provider: IdentityProvider, user: User, claims: dict[str, Any],
                   now: datetime) -> None:
    user.last_sign_in_at = now
    session.add(AuditEvent(at=now, actor_id=user.id, action="sso_signed_in",
                           summary=f"{user.email} signed in with {provider.issuer}",
                           detail={"organisation_id": provider.organisation_id, "issuer": provider.issuer,
                                   "subject": claims.get("sub")}))
