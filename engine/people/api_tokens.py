"""API tokens: issued by an organisation's administrator for another system to call the JSON API, stored hashed,
scoped to read or write, expiring on a date and revocable.

A token acts through an account of its own that holds one staff role at the organisation (never the family role).
The web pages' checks (``engine.people.access``, the lists of ``engine.lists``) take a ``User`` and read its
memberships, so a token passes exactly the checks a person with that one role passes, and the audit trail names the
token's account as the actor. The account has no password and an address under ``.invalid`` (RFC 2606), so nobody
can sign in as it and no email can reach it.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from engine.errors import FormInvalid, NotAllowed, NotFound
from engine.people.roles import ROLE_PARTY, Role
from engine.people.users import grantable_roles
from engine.statutory.clock import Clock
from engine.store.api_tokens import ApiToken
from engine.store.models import AuditEvent, Membership, Organisation, User

SCOPES = ("read", "write")
SCOPE_LABELS = {"read": "Read only", "write": "Read and write"}
#: Tokens start with this, so that a secret scanner (or a person) can recognise one pasted somewhere it should not be.
TOKEN_PREFIX = "ehcf_"
#: The longest a token may live: a year, so that a forgotten token does not work for ever.
MAX_DAYS = 366
SERVICE_DOMAIN = "api-token.invalid"


def token_hash(token: str) -> str:
    """SHA-256 is enough for a random 256-bit token (nothing to guess, so no slow hash is needed)."""
    return hashlib.sha256(token.encode()).hexdigest()


def token_roles(session: Session, actor: User, organisation_id: int) -> list[Role]:
    """The roles a token of that organisation may be given by this administrator: the staff roles they could give a
    person there (``engine.people.users.grantable_roles``: none above their own, never the family's), without the
    deployment-wide roles, which change every authority's routes and are no business of another system, and the
    roles of another kind of organisation (an LA's caseworker at a health body would see nothing: a token that
    cannot work is refused when it is issued)."""
    organisation = session.get(Organisation, organisation_id)
    kind = organisation.kind if organisation is not None else None
    return [r for r in grantable_roles(session, actor.id, organisation_id)
            if r not in (Role.FAMILY, Role.SYSTEM_ADMIN, Role.PROCESS_OWNER) and ROLE_PARTY.get(r, kind) == kind]


@dataclass(frozen=True)
class Issued:
    row: ApiToken
    token: str  # shown once, never stored


def issue_token(session: Session, actor: User, organisation_id: int, name: str, role: str, scope: str,
                expires_on: date | None, clock: Clock) -> Issued:
    """A new token for the organisation. Raises NotAllowed unless the actor administers it, FormInvalid (by field)
    for a missing name, a role they may not give, an unknown scope or an expiry date not within a year."""
    organisation = session.get(Organisation, organisation_id)
    if organisation is None or (organisation_id, Role.ADMIN.value) not in _held(session, actor):
        raise NotAllowed("Only an administrator of the organisation can issue its API tokens")
    errors: dict[str, str] = {}
    name = " ".join(name.split())
    if not name:
        errors["name"] = "Enter a name for the token, for example the system that will use it"
    elif len(name) > 100:
        errors["name"] = "The name must be 100 characters or fewer"
    if role not in {r.value for r in token_roles(session, actor, organisation_id)}:
        errors["role"] = "Select the role the token acts with"
    if scope not in SCOPES:
        errors["scope"] = "Select what the token may do"
    today = clock.today()
    if expires_on is None:
        errors["expires_on"] = "Enter the date the token stops working"
    elif expires_on < today:
        errors["expires_on"] = "The date the token stops working must be today or in the future"
    elif (expires_on - today).days > MAX_DAYS:
        errors["expires_on"] = f"The date the token stops working must be within {MAX_DAYS} days from today"
    if errors:
        raise FormInvalid(errors)
    assert expires_on is not None
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    account = User(email=f"api-{secrets.token_hex(8)}@{SERVICE_DOMAIN}", name=f"API token: {name}",
                   password_hash=None, active=True, created_at=clock.now(), failed_sign_ins=0)
    session.add(account)
    session.flush()
    session.add(Membership(user_id=account.id, organisation_id=organisation_id, role=role))
    row = ApiToken(organisation_id=organisation_id, user_id=account.id, name=name, role=role, scope=scope,
                   token_hash=token_hash(token), prefix=token[:12], created_at=clock.now(), created_by_id=actor.id,
                   expires_on=expires_on)
    session.add(row)
    session.flush()
    session.add(AuditEvent(at=clock.now(), actor_id=actor.id, action="api_token_issued",
                           summary=f"{actor.name} issued the API token “{name}” for {organisation.name}",
                           detail={"api_token_id": row.id, "organisation_id": organisation_id, "role": role,
                                   "scope": scope, "expires_on": expires_on.isoformat()}))
    session.flush()
    return Issued(row, token)


def revoke_token(session: Session, actor: User, token_id: int, clock: Clock) -> ApiToken:
    """Ends the token for good (its account is deactivated too, so nothing it started can be done in its name).
    NotFound for a token of an organisation the actor does not administer."""
    row = administered_token(session, actor, token_id)
    if row.revoked_at is None:
        row.revoked_at = clock.now()
        row.revoked_by_id = actor.id
        account = session.get(User, row.user_id)
        if account is not None:
            account.active = False
        session.add(AuditEvent(at=clock.now(), actor_id=actor.id, action="api_token_revoked",
                               summary=f"{actor.name} revoked the API token “{row.name}”",
                               detail={"api_token_id": row.id, "organisation_id": row.organisation_id}))
        session.flush()
    return row


def administered_token(session: Session, actor: User, token_id: int) -> ApiToken:
    row = session.get(ApiToken, token_id)
    if row is None or (row.organisation_id, Role.ADMIN.value) not in _held(session, actor):
        raise NotFound("No such API token")
    return row


def tokens_of(session: Session, organisation_ids: list[int]) -> list[ApiToken]:
    """The tokens of these organisations, the working ones first, newest first."""
    rows = session.scalars(select(ApiToken).where(ApiToken.organisation_id.in_(organisation_ids))
                           .order_by(ApiToken.id.desc()))
    return sorted(rows, key=lambda r: r.revoked_at is not None)


def token_state(row: ApiToken, today: date) -> str:
    """active, expired or revoked."""
    if row.revoked_at is not None:
        return "revoked"
    return "expired" if row.expires_on < today else "active"


@dataclass(frozen=True)
class Caller:
    """Who calls: a token and its account, or a member of staff presenting their own organisation's ID token (no
    token row; they act with their own roles, as on the web pages)."""

    token: ApiToken | None
    user: User

    @property
    def may_write(self) -> bool:
        return self.token is None or self.token.scope == "write"

    @property
    def rate_key(self) -> str:
        return f"token:{self.token.id}" if self.token is not None else f"user:{self.user.id}"


@dataclass(frozen=True)
class Presented:
    """A presented token: its row and account when known, and why it is refused (unknown, expired, revoked) or
    None when it may be used."""

    token: ApiToken | None
    user: User | None
    refused: str | None


def authenticate(session: Session, presented: str, now: datetime, today: date) -> Presented:
    """Looks the token up by its hash; a working one has its last use written (the caller commits)."""
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash(presented)))
    if row is None:
        return Presented(None, None, "unknown")
    user = session.get(User, row.user_id)
    state = token_state(row, today)
    if state == "active" and (user is None or not user.active):
        state = "revoked"
    if state != "active":
        return Presented(row, user, state)
    row.last_used_at = now
    return Presented(row, user, None)


def is_token_account(session: Session, user_id: int) -> bool:
    return session.scalar(select(ApiToken.id).where(ApiToken.user_id == user_id)) is not None


def token_accounts() -> Select[tuple[int]]:
    """The tokens' own accounts, for the lists of people that should leave them out (``User.id.not_in(...)``): who
    to email about a task, whom to reassign one to, the admin's People page."""
    return select(ApiToken.user_id)


def _held(session: Session, actor: User) -> set[tuple[int | None, str]]:
    rows = session.execute(select(Membership.organisation_id, Membership.role).where(Membership.user_id == actor.id))
    return {(org, role) for org, role in rows}


__all__ = ["SCOPES", "SCOPE_LABELS", "Caller", "Issued", "Presented", "authenticate", "administered_token",
           "issue_token", "is_token_account", "revoke_token", "token_accounts", "token_hash", "token_roles",
           "token_state", "tokens_of"]
