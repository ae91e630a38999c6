"""Creating users and organisations (used by the CLI, the demo data and the admin pages)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from engine.errors import FormInvalid
from engine.people.passwords import MIN_LENGTH, hash_password, verify_password
from engine.people.roles import ROLE_RANK, Role
from engine.statutory.clock import Clock
from engine.store.models import AuditEvent, Membership, Organisation, User

_ROLE_VALUES = frozenset(r.value for r in Role)

ORGANISATION_KINDS = ("local_authority", "health_body", "setting", "mediation_service", "voluntary_provider",
                      "service")


ORGANISATION_KIND_LABELS = {
    "local_authority": "Local authority",
    "health_body": "Health body (integrated care board or trust)",
    "setting": "School, college or early years setting",
    "mediation_service": "Mediation service",
    # A charity or voluntary group with entries in a Local Offer, whose staff keep them up to date (role
    # local_offer_provider).
    "voluntary_provider": "Charity or voluntary provider",
    "service": "Other service",
}


def create_organisation(session: Session, name: str, kind: str, clock: Clock, actor: User | None = None,
                        **fields: object) -> Organisation:
    if kind not in ORGANISATION_KINDS:
        raise ValueError(f"Unknown kind of organisation {kind!r}; use one of {', '.join(ORGANISATION_KINDS)}")
    if not name.strip():
        raise ValueError("Enter the organisation's name")
    if session.scalar(select(Organisation.id).where(func.lower(Organisation.name) == name.strip().lower())):
        raise ValueError(f"An organisation called {name!r} already exists")
    code = fields.get("code")
    if code and session.scalar(select(Organisation.id).where(Organisation.code == code)):
        raise ValueError(f"An organisation with the code {code} already exists")
    org = Organisation(name=name.strip(), kind=kind, **fields)
    session.add(org)
    session.flush()
    session.add(AuditEvent(at=clock.now(), actor_id=actor.id if actor else None, action="organisation_created",
                           summary=f"Organisation {org.name} created",
                           detail={"organisation_id": org.id, "kind": kind}))
    return org


def create_user(session: Session, email: str, name: str, password: str, clock: Clock,
                roles: list[tuple[Organisation | None, Role]] | None = None, actor: User | None = None,
                temporary: bool = False) -> User:
    """A new account. ``temporary``: someone else chose the password (an administrator, ``ehcflow users create``),
    so the person must choose their own when they first sign in, and it stops working after a while."""
    email = email.strip().lower()
    if "@" not in email or email.startswith("@") or email.endswith("@"):
        raise ValueError(f"{email!r} is not an email address")
    if not name.strip():
        raise ValueError("Enter the user's name")
    if session.scalar(select(User.id).where(User.email == email)):
        raise ValueError(f"A user with the email {email} already exists")
    user = User(email=email, name=name.strip(), password_hash=hash_password(password), active=True,
                created_at=clock.now(), failed_sign_ins=0,
                temporary_password_set_at=clock.now() if temporary else None)
    session.add(user)
    session.flush()
    for org, role in roles or []:
        session.add(Membership(user_id=user.id, organisation_id=org.id if org else None, role=Role(role).value))
    session.add(AuditEvent(at=clock.now(), actor_id=actor.id if actor else None, action="user_created",
                           summary=f"User {email} created",
                           detail={"roles": [[org.name if org else None, Role(role).value] for org, role in roles or []]}))
    session.flush()
    return user


# Roles that reach every organisation, not only the one they are held in: routes are shared by the whole
# deployment, so a process owner changes (and migrates) every authority's routes. Whatever their rank, they are
# above what one organisation's administrator holds, so only someone who holds the role passes it on.
DEPLOYMENT_WIDE_ROLES = frozenset({Role.PROCESS_OWNER, Role.SYSTEM_ADMIN})


def _rank_of(session: Session, actor: User, organisation_id: int | None) -> int:
    """The highest role rank the actor holds in that organisation."""
    ranks = [ROLE_RANK[Role(role)] for role in session.scalars(select(Membership.role).where(
        Membership.user_id == actor.id, Membership.organisation_id == organisation_id)) if role in _ROLE_VALUES]
    return max(ranks, default=-1)


def grantable_roles(session: Session, actor_id: int, organisation_id: int | None) -> list[Role]:
    """The roles the actor may give in that organisation, lowest first: none unless they administer it, none ranked
    above their own there, a deployment-wide role only if they hold it, and never the family role (not an
    organisation's)."""
    held = [(org, Role(role)) for org, role in session.execute(select(Membership.organisation_id, Membership.role)
                                                                .where(Membership.user_id == actor_id))
            if role in _ROLE_VALUES]
    if (organisation_id, Role.ADMIN) not in held:
        return []
    top = max(ROLE_RANK[role] for org, role in held if org == organisation_id)
    everywhere = {role for _, role in held}
    return sorted((r for r in Role if r != Role.FAMILY and ROLE_RANK[r] <= top
                   and (r not in DEPLOYMENT_WIDE_ROLES or r in everywhere)), key=lambda r: (ROLE_RANK[r], r.label))


def grant_role(session: Session, actor: User, user: User, organisation: Organisation | None, role: Role,
               clock: Clock, reason: str = "") -> Membership:
    """Gives a user a role, if it is one of ``grantable_roles`` for the actor there (a family role: any admin)."""
    org_id = organisation.id if organisation else None
    if role != Role.FAMILY and organisation is None:
        raise ValueError("This role needs an organisation")
    if role == Role.FAMILY and organisation is not None:
        raise ValueError("A family member does not belong to an organisation")
    if role == Role.FAMILY:
        if not _is_admin_anywhere(session, actor):
            raise PermissionError("Only an administrator can add a family member")
    elif role not in grantable_roles(session, actor.id, org_id):
        if not _is_admin_of(session, actor, org_id):
            raise PermissionError("Only an administrator of that organisation can grant its roles")
        if role in DEPLOYMENT_WIDE_ROLES and ROLE_RANK[role] <= _rank_of(session, actor, org_id):
            raise PermissionError(f"Only a {role.label.lower()} can make someone a {role.label.lower()}: the role "
                                  "reaches every organisation's routes, not only this one")
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
                                   f"{' at ' + organisation.name if organisation else ''}",
                           detail={"user_id": user.id, "organisation_id": org_id, "role": role.value,
                                   "reason": reason or None}))
    session.flush()
    return membership


def _administered(actor: User) -> Select[tuple[int | None]]:
    """The organisations the actor administers, as a subquery (never a NULL, which would make NOT IN match nothing)."""
    return select(Membership.organisation_id).where(Membership.user_id == actor.id, Membership.role == Role.ADMIN.value,
                                                    Membership.organisation_id.is_not(None))


def _is_admin_anywhere(session: Session, actor: User) -> bool:
    return session.scalar(_administered(actor).limit(1)) is not None


def _is_admin_of(session: Session, actor: User, organisation_id: int | None) -> bool:
    return session.scalar(_administered(actor).where(Membership.organisation_id == organisation_id)) is not None


def can_manage_user(session: Session, actor: User, user: User) -> bool:
    """An administrator manages the people who hold a role in an organisation they administer."""
    return session.scalar(select(Membership.id).where(Membership.user_id == user.id,
                                                      Membership.organisation_id.in_(_administered(actor)))
                          .limit(1)) is not None


def account_refusal(session: Session, actor: User, user: User) -> str | None:
    """Why the actor may not reset the password of, deactivate or reactivate this account, or None if they may.

    An account is one person across all their organisations: whoever resets its password can sign in as them
    everywhere, and deactivating it locks them out everywhere. So these need an administrator of every organisation
    the person works for, or an admin of one could take over (or lock out) an admin of another."""
    if not can_manage_user(session, actor, user):
        return "Only an administrator of one of this person's organisations can do that"
    elsewhere = sorted(set(session.scalars(
        select(Organisation.name).join(Membership, Membership.organisation_id == Organisation.id)
        .where(Membership.user_id == user.id, Membership.organisation_id.not_in(_administered(actor))))))
    instead = "To stop them working for your organisation, take away their roles here instead."
    if elsewhere:
        return (f"{user.name} also works for {', '.join(elsewhere)}, which you do not administer: only an "
                f"administrator of every organisation they work for can do this. {instead}")
    # A family member's account is theirs as a parent or young person, with their own child's case (perhaps
    # another authority's) behind it: no organisation administers that.
    if session.scalar(select(Membership.id).where(Membership.user_id == user.id,
                                                  Membership.organisation_id.is_(None)).limit(1)):
        return (f"{user.name} also uses EHC Flow as a parent or young person, which no organisation administers. "
                f"{instead}")
    return None


def password_reset_refusal(session: Session, actor: User, user: User) -> str | None:
    """As ``account_refusal``, and whoever knows the new password holds the person's deployment-wide roles, so
    resetting it is like granting them: only for someone who holds those roles too."""
    refusal = account_refusal(session, actor, user)
    if refusal:
        return refusal
    held = set(session.scalars(select(Membership.role).where(Membership.user_id == actor.id)))
    above = sorted(Role(role).label.lower() for role in set(session.scalars(
        select(Membership.role).where(Membership.user_id == user.id))) - held
        if role in _ROLE_VALUES and Role(role) in DEPLOYMENT_WIDE_ROLES)
    if above:
        return (f"{user.name} is a {' and a '.join(above)}, which reaches every organisation: only an administrator "
                f"who is a {' and a '.join(above)} too can reset their password.")
    return None


def _check(refusal: str | None) -> None:
    if refusal:
        raise PermissionError(refusal)


def set_active(session: Session, actor: User, user: User, active: bool, clock: Clock, reason: str = "") -> None:
    if actor.id == user.id and not active:
        raise ValueError("You cannot deactivate your own account")
    _check(account_refusal(session, actor, user))
    if user.active == active:
        raise ValueError(f"{user.name} is already {'active' if active else 'deactivated'}")
    user.active = active
    session.add(AuditEvent(at=clock.now(), actor_id=actor.id, action="user_activated" if active else "user_deactivated",
                           summary=f"{actor.name} {'reactivated' if active else 'deactivated'} {user.email}",
                           detail={"user_id": user.id, "reason": reason or None}))


def reset_password(session: Session, actor: User, user: User, new_password: str, clock: Clock,
                   reason: str = "") -> None:
    _check(password_reset_refusal(session, actor, user))
    user.password_hash = hash_password(new_password)
    user.failed_sign_ins = 0
    user.locked_until = None
    # The administrator knows it: it is temporary, like the one a new account is given.
    user.temporary_password_set_at = clock.now()
    session.add(AuditEvent(at=clock.now(), actor_id=actor.id, action="password_reset",
                           summary=f"{actor.name} reset the password of {user.email}",
                           detail={"user_id": user.id, "reason": reason or None}))


def revoke_refusal(session: Session, actor: User, membership: Membership) -> str | None:
    """Why the actor may not take this role away, or None. Nobody takes away their own administrator role, so an
    organisation always keeps one: whoever removes an administrator is one there."""
    if membership.organisation_id is None or not _is_admin_of(session, actor, membership.organisation_id):
        return "Only an administrator of that organisation can take away its roles"
    if membership.role not in _ROLE_VALUES or _rank_of(session, actor, membership.organisation_id) < \
            ROLE_RANK[Role(membership.role)]:
        return "You cannot take away a role above your own"
    if membership.user_id == actor.id and membership.role == Role.ADMIN.value:
        return "You cannot take away your own administrator role: ask another administrator"
    return None


def removable_roles(session: Session, actor: User, user: User) -> set[int]:
    """The ids of the user's memberships the actor may take away."""
    return {m.id for m in session.scalars(select(Membership).where(Membership.user_id == user.id))
            if revoke_refusal(session, actor, m) is None}


def revoke_role(session: Session, actor: User, membership: Membership, clock: Clock, reason: str = "") -> None:
    """Takes a role away; as with granting, only the organisation's administrators, never a role above their own.
    A deployment-wide role can be taken away by the organisation's administrator: it is held there, and taking it
    away gives nobody more than they had."""
    _check(revoke_refusal(session, actor, membership))
    role = Role(membership.role)
    user = session.get(User, membership.user_id)
    organisation = session.get(Organisation, membership.organisation_id)
    assert user is not None and organisation is not None
    session.delete(membership)
    session.add(AuditEvent(at=clock.now(), actor_id=actor.id, action="role_revoked",
                           summary=f"{actor.name} took the role {role.label} at {organisation.name} from {user.email}",
                           detail={"user_id": user.id, "organisation_id": organisation.id, "role": role.value,
                                   "reason": reason or None}))
    session.flush()


def create_organisation_as_admin(session: Session, actor: User, name: str, kind: str, clock: Clock,
                                 **fields: object) -> Organisation:
    """An administrator adds an organisation and becomes its first administrator, so they can add its people.

    A local authority is a new tenant of the deployment, with its own cases and administrators: only a system
    administrator adds one (any administrator could otherwise make an authority and be its administrator)."""
    if not _is_admin_anywhere(session, actor):
        raise PermissionError("Only an administrator can add an organisation")
    if kind == "local_authority" and not may_add_local_authority(session, actor):
        raise PermissionError("Only a system administrator can add a local authority")
    org = create_organisation(session, name, kind, clock, actor=actor, **fields)
    session.add(Membership(user_id=actor.id, organisation_id=org.id, role=Role.ADMIN.value))
    session.add(AuditEvent(at=clock.now(), actor_id=actor.id, action="role_granted",
                           summary=f"{actor.name} became an administrator of {org.name}, which they added",
                           detail={"user_id": actor.id, "organisation_id": org.id, "role": Role.ADMIN.value}))
    session.flush()
    return org


def may_add_local_authority(session: Session, actor: User) -> bool:
    return session.scalar(select(Membership.id).where(Membership.user_id == actor.id,
                                                      Membership.role == Role.SYSTEM_ADMIN.value).limit(1)) is not None


def change_own_password(session: Session, user: User, current: str, new: str, confirm: str, clock: Clock) -> None:
    """A person changes their own password; every problem is reported on its field (FormInvalid), nothing saved."""
    errors: dict[str, str] = {}
    if not verify_password(user.password_hash, current):
        errors["current_password"] = "Enter your current password correctly"
    errors.update(_new_password_problems(new, confirm, new == current,
                                         "Your new password must be different from your current one"))
    _save_own_password(session, user, new, clock, errors, f"{user.email} changed their password",
                       {"user_id": user.id})


def _new_password_problems(new: str, confirm: str, same_as_old: bool, same_message: str) -> dict[str, str]:
    """What is wrong with a new password and its confirmation, by field (GOV.UK wording)."""
    errors: dict[str, str] = {}
    if len(new) < MIN_LENGTH:
        errors["new_password"] = f"Your new password must be at least {MIN_LENGTH} characters long"
    elif len(new) > 256:
        errors["new_password"] = "Your new password must be 256 characters or fewer"
    elif same_as_old:
        errors["new_password"] = same_message
    if not errors.get("new_password") and confirm != new:
        errors["confirm_password"] = "The passwords do not match: type your new password again"
    return errors


def _save_own_password(session: Session, user: User, new: str, clock: Clock, errors: dict[str, str], summary: str,
                       detail: dict[str, object]) -> None:
    if errors:
        raise FormInvalid(errors)
    user.password_hash = hash_password(new)
    user.temporary_password_set_at = None
    session.add(AuditEvent(at=clock.now(), actor_id=user.id, action="password_changed", summary=summary,
                           detail=detail))


# ---- temporary passwords -------------------------------------------------------------------------------------------

def temporary_password_expired(user: User, now: datetime, days: int) -> bool:
    """A password someone else set stops signing in ``days`` after it was set: one that was never used (given to
    the wrong person, written down and forgotten) should not stay a way in for ever."""
    set_at = user.temporary_password_set_at
    return set_at is not None and now - set_at > timedelta(days=days)


def choose_own_password(session: Session, user: User, new: str, confirm: str, clock: Clock) -> None:
    """The person replaces the temporary password they signed in with by one only they know (FormInvalid: what is
    wrong, by field; nothing saved). They have just proved they know the temporary one, so it is not asked again."""
    errors = _new_password_problems(new, confirm, verify_password(user.password_hash, new),
                                    "Your new password must be different from the temporary one")
    _save_own_password(session, user, new, clock, errors,
                       f"{user.email} chose their own password in place of a temporary one",
                       {"user_id": user.id, "temporary": True})
