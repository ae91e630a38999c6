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


def _rank_of(session: Session, actor: User, organisation_id: int | None) -> int:
    """The highest role rank the actor holds in that organisation (admins rank everywhere in their own one)."""
    from engine.roles import ROLE_RANK

    ranks = [ROLE_RANK[Role(m.role)] for m in session.scalars(select(Membership).where(Membership.user_id == actor.id))
             if m.organisation_id == organisation_id]
    return max(ranks, default=-1)


def grant_role(session: Session, actor: User, user: User, organisation: Organisation | None, role: Role,
               clock: Clock) -> Membership:
    """Gives a user a role; an actor can never grant a role ranked above their own in that organisation."""
    from engine.roles import ROLE_RANK

    org_id = organisation.id if organisation else None
    if role != Role.FAMILY and organisation is None:
        raise ValueError("This role needs an organisation")
    if role == Role.FAMILY and organisation is not None:
        raise ValueError("A family member does not belong to an organisation")
    # Only an organisation's admins manage its people; a family role is granted by the admin of any organisation.
    if role == Role.FAMILY:
        if not session.scalar(select(Membership.id).where(Membership.user_id == actor.id,
                                                          Membership.role == Role.ADMIN.value)):
            raise PermissionError("Only an administrator can add a family member")
    elif not _is_admin_of(session, actor, org_id):
        raise PermissionError("Only an administrator of that organisation can grant its roles")
    elif _rank_of(session, actor, org_id) < ROLE_RANK[role]:
        raise PermissionError("You cannot grant a role above your own")
    existing = session.scalars(select(Membership).where(Membership.user_id == user.id,
                                                        Membership.organisation_id == org_id,
                                                        Membership.role == role.value)).first()
    if existing is not None:
        raise ValueError(f"{user.name} already has that role")
    membership = Membership(user_id=user.id, organisation_id=org_id, role=role.value)
    session.add(membership)
    session.add(AuditEvent(at=clock.now(), actor_id=actor.id, action="role_granted",
                           summary=f"{actor.name} gave {user.email} the role {role.label}"
                                   f"{' at ' + organisation.name if organisation else ''}"))
    session.flush()
    return membership


def _is_admin_of(session: Session, actor: User, organisation_id: int | None) -> bool:
    return session.scalar(select(Membership.id).where(Membership.user_id == actor.id,
                                                      Membership.organisation_id == organisation_id,
                                                      Membership.role == Role.ADMIN.value)) is not None


def set_active(session: Session, actor: User, user: User, active: bool, clock: Clock) -> None:
    if actor.id == user.id and not active:
        raise ValueError("You cannot deactivate your own account")
    user.active = active
    session.add(AuditEvent(at=clock.now(), actor_id=actor.id, action="user_activated" if active else "user_deactivated",
                           summary=f"{actor.name} {'reactivated' if active else 'deactivated'} {user.email}"))


def reset_password(session: Session, actor: User, user: User, new_password: str, clock: Clock) -> None:
    user.password_hash = hash_password(new_password)
    user.failed_sign_ins = 0
    user.locked_until = None
    session.add(AuditEvent(at=clock.now(), actor_id=actor.id, action="password_reset",
                           summary=f"{actor.name} reset the password of {user.email}"))
