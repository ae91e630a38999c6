"""What an administrator reads about people and organisations: only those of the organisations they administer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from engine.lists.paging import Page
from engine.people.api_tokens import is_token_account, token_accounts
from engine.people.roles import ROLE_LABELS, Role
from engine.people.users import grantable_roles  # the rule lives with grant_role, which applies it
from engine.store.models import Membership, Organisation, User


@dataclass
class RoleHeld:
    membership_id: int
    organisation_id: int | None
    organisation_name: str | None
    role: str

    @property
    def label(self) -> str:
        return ROLE_LABELS[Role(self.role)] if self.role in Role._value2member_map_ else self.role


@dataclass
class UserRow:
    id: int
    name: str
    email: str
    active: bool
    last_sign_in_at: datetime | None
    roles: list[RoleHeld]


def _roles_of(session: Session, user_ids: list[int]) -> dict[int, list[RoleHeld]]:
    out: dict[int, list[RoleHeld]] = {uid: [] for uid in user_ids}
    if not user_ids:
        return out
    for m, org_name in session.execute(
        select(Membership, Organisation.name).outerjoin(Organisation, Organisation.id == Membership.organisation_id)
        .where(Membership.user_id.in_(user_ids)).order_by(Membership.id)
    ):
        out[m.user_id].append(RoleHeld(m.id, m.organisation_id, org_name, m.role))
    return out


def users_list(session: Session, org_ids: list[int], q: str | None = None, organisation_id: int | None = None,
               page: int = 1, per_page: int = 25) -> Page[UserRow]:
    """People holding a role in the administrator's organisations, searched by name or email."""
    orgs = [organisation_id] if organisation_id in org_ids else org_ids
    members = select(Membership.user_id).where(Membership.organisation_id.in_(orgs))
    # An API token's own account is managed on the tokens page: a password reset here would let someone sign in as it.
    query = select(User).where(User.id.in_(members), User.id.not_in(token_accounts()))
    if q:
        text = " ".join(q.lower().split())
        query = query.where(or_(func.lower(User.name).contains(text, autoescape=True),
                                func.lower(User.email).contains(text, autoescape=True)))
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // per_page))
    page = max(1, min(page, pages))
    users = list(session.scalars(query.order_by(func.lower(User.name), User.id)
                                 .offset((page - 1) * per_page).limit(per_page)))
    roles = _roles_of(session, [u.id for u in users])
    return Page([UserRow(u.id, u.name, u.email, bool(u.active), u.last_sign_in_at, roles[u.id]) for u in users],
                total, page, per_page)


def user_for_admin(session: Session, org_ids: list[int], user_id: int) -> User | None:
    """The user, if they hold a role in one of the administrator's organisations."""
    user = session.get(User, user_id)
    if user is None or not org_ids or is_token_account(session, user_id):
        return None
    held = session.scalar(select(Membership.id).where(Membership.user_id == user_id,
                                                      Membership.organisation_id.in_(org_ids)).limit(1))
    return user if held is not None else None


def roles_of_user(session: Session, user_id: int) -> list[RoleHeld]:
    return _roles_of(session, [user_id])[user_id]


def administered_organisations(session: Session, org_ids: list[int]) -> list[Organisation]:
    if not org_ids:
        return []
    return list(session.scalars(select(Organisation).where(Organisation.id.in_(org_ids))
                                .order_by(func.lower(Organisation.name))))


def member_counts(session: Session, org_ids: list[int]) -> dict[int, int]:
    if not org_ids:
        return {}
    return dict(session.execute(select(Membership.organisation_id, func.count(func.distinct(Membership.user_id)))
                                .where(Membership.organisation_id.in_(org_ids),
                                       Membership.user_id.not_in(token_accounts()))
                                .group_by(Membership.organisation_id)).all())


__all__ = ["RoleHeld", "UserRow", "administered_organisations", "grantable_roles", "member_counts",
           "roles_of_user", "user_for_admin", "users_list"]
