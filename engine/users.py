"""Creating users and organisations (used by the CLI, the demo data and the admin pages)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.clock import Clock
from engine.models import AuditEvent, Membership, Organisation, User
from engine.passwords import hash_password
from engine.roles import Role

ORGANISATION_KINDS = ("local_authority", "health_body", "setting", "mediation_service", "service")


def create_organisation(session: Session, name: str, kind: str, clock: Clock, **fields: object) -> Organisation:
    if kind not in ORGANISATION_KINDS:
        raise ValueError(f"Unknown kind of organisation {kind!r}; use one of {', '.join(ORGANISATION_KINDS)}")
    if not name.strip():
        raise ValueError("Enter the organisation's name")
    if session.scalar(select(Organisation.id).where(func.lower(Organisation.name) == name.strip().lower())):
        raise ValueError(f"An organisation called {name!r} already exists")
    org = Organisation(name=name.strip(), kind=kind, **fields)
    session.add(org)
    session.flush()
    session.add(AuditEvent(at=clock.now(), action="organisation_created", summary=f"Organisation {org.name} created"))
    return org


def create_user(session: Session, email: str, name: str, password: str, clock: Clock,
                roles: list[tuple[Organisation | None, Role]] | None = None, actor: User | None = None) -> User:
    email = email.strip().lower()
    if "@" not in email or email.startswith("@") or email.endswith("@"):
        raise ValueError(f"{email!r} is not an email address")
    if not name.strip():
        raise ValueError("Enter the user's name")
    if session.scalar(select(User.id).where(User.email == email)):
        raise ValueError(f"A user with the email {email} already exists")
    user = User(email=email, name=name.strip(), password_hash=hash_password(password), active=True,
                created_at=clock.now(), failed_sign_ins=0)
    session.add(user)
    session.flush()
    for org, role in roles or []:
        session.add(Membership(user_id=user.id, organisation_id=org.id if org else None, role=Role(role).value))
    session.add(AuditEvent(at=clock.now(), actor_id=actor.id if actor else None, action="user_created",
                           summary=f"User {email} created",
                           detail={"roles": [[org.name if org else None, Role(role).value] for org, role in roles or []]}))
    session.flush()
    return user
