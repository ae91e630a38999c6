"""Family accounts a request creates, and the one-off link that lets the person set its password.

A parent or young person who asks online needs no account: the request makes one (without a password) and sends a
link to set it through the outbox. Only the SHA-256 of the link's token is stored; it works once, for a week.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engine.errors import FormInvalid, NotFound
from engine.people.passwords import MIN_LENGTH, hash_password
from engine.people.roles import Role
from engine.store.models import AuditEvent, Membership, User
from engine.store.outbox import OutboxEmail
from engine.store.requests import AccountToken

TOKEN_DAYS = 7
SET_PASSWORD_PATH = "/account/set-password/"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def family_account(session: Session, email: str, name: str, now: datetime) -> tuple[User | None, bool]:
    """The family account with this email, or a new one without a password: (user, created).

    An email that belongs to a member of staff gives no account (None): what someone types on a request never makes
    a member of staff a family member of a case, with the family's view of it."""
    email = email.strip().lower()
    user = session.scalar(select(User).where(User.email == email))
    if user is not None:
        roles = set(session.scalars(select(Membership.role).where(Membership.user_id == user.id)))
        return (user, False) if roles <= {Role.FAMILY.value} else (None, False)
    user = User(email=email, name=" ".join(name.split()) or email, password_hash=None, active=True, created_at=now,
                failed_sign_ins=0)
    session.add(user)
    session.flush()
    session.add(Membership(user_id=user.id, organisation_id=None, role=Role.FAMILY.value))
    session.add(AuditEvent(at=now, action="user_created", summary=f"Family account {email} created by a request",
                           detail={"roles": [[None, Role.FAMILY.value]]}))
    return user, True


def send_set_password_link(session: Session, user: User, now: datetime, reason: str) -> str:
    """Queues the email with a new link to set the password; returns the token (the tests follow the link)."""
    token = secrets.token_urlsafe(32)
    session.add(AccountToken(user_id=user.id, token_hash=token_hash(token), purpose="set_password", created_at=now,
                             expires_at=now + timedelta(days=TOKEN_DAYS)))
    session.add(OutboxEmail(
        key=f"set_password:{user.id}:{token_hash(token)[:16]}", kind="set_password", to_user_id=user.id,
        to_address=user.email, subject="Set up your EHC Flow account",
        body=(f"Hello,\n\n{reason}\n\nSet a password for your account (the link works once, for {TOKEN_DAYS} days):\n"
              "{base_url}" + SET_PASSWORD_PATH + token + "\n\n"
              "If you did not expect this email, you can ignore it.\nThis email was sent automatically. Do not reply "
              "to it.\n"),
        link_path=SET_PASSWORD_PATH + token, case_id=None, created_at=now, status="pending", attempts=0,
        next_attempt_at=now))
    return token


def _usable_token(session: Session, token: str, now: datetime) -> AccountToken:
    row = session.scalar(select(AccountToken).where(AccountToken.token_hash == token_hash(token or "")))
    if row is None or row.used_at is not None or row.expires_at <= now or not row.user.active:
        raise NotFound("This link has expired or has already been used. Ask the local authority's SEND team "
                       "for a new one.")
    return row


def user_for_token(session: Session, token: str, now: datetime) -> User:
    return _usable_token(session, token, now).user


def set_password_with_token(session: Session, token: str, password: str, confirm: str, now: datetime) -> User:
    """Sets the password of the token's account and uses the token up; every problem is reported on its field."""
    row = _usable_token(session, token, now)
    errors: dict[str, str] = {}
    if len(password) < MIN_LENGTH:
        errors["password"] = f"Your password must be at least {MIN_LENGTH} characters long"
    elif len(password) > 256:
        errors["password"] = "Your password must be 256 characters or fewer"
    elif confirm != password:
        errors["confirm_password"] = "The passwords do not match: type your password again"
    if errors:
        raise FormInvalid(errors)
    row.used_at = now
    user = row.user
    user.password_hash = hash_password(password)
    user.failed_sign_ins = 0
    user.locked_until = None
    session.add(AuditEvent(at=now, actor_id=user.id, action="password_set",
                           summary=f"{user.email} set their password from an emailed link", detail={"user_id": user.id}))
    try:
        session.flush()
    except IntegrityError as exc:  # pragma: no cover - the token row is unique; a double use loses here
        raise NotFound("This link has already been used.") from exc
    return user
