"""The signed-in user, and server-side sessions.

The session cookie (signed by Flask) carries the user's id and a random session token; the database keeps only the
token's SHA-256 in ``web_session``. Each request checks that row, so a session ends on the server when the user signs
out, after 30 minutes without a request, after 8 hours in all, or when the account is deactivated.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from flask import current_app, g, request, session
from flask_login import UserMixin
from sqlalchemy import bindparam, select, update

from engine.lists.holder import Holder, family_case_ids
from engine.people.access import remember_roles
from engine.people.roles import Role
from engine.store.models import Membership, Organisation, User
from engine.store.sign_in import WebSession
from webui.context import clock, db

SESSION_KEY = "sid"
# Writing last_seen on every request would make every page a write; once a minute is precise enough for a 30 minutes
# idle limit.
TOUCH_EVERY = timedelta(seconds=60)


class WebUser(UserMixin):
    """What the pages need to know about the signed-in person."""

    def __init__(self, record: User, who: Holder, organisations: dict[int, Organisation]) -> None:
        self.record = record
        self.holder = who
        self.organisations = organisations

    # Flask-Login
    def get_id(self) -> str:
        return str(self.record.id)

    @property
    def is_active(self) -> bool:  # type: ignore[override]
        return bool(self.record.active)

    # convenience
    @property
    def id(self) -> int:
        return self.record.id

    @property
    def name(self) -> str:
        return self.record.name

    @property
    def email(self) -> str:
        return self.record.email

    @property
    def is_staff(self) -> bool:
        return self.holder.is_staff

    @property
    def is_family(self) -> bool:
        return self.holder.is_family

    @property
    def is_family_only(self) -> bool:
        return self.holder.is_family and not self.holder.is_staff

    @property
    def organisation_name(self) -> str | None:
        """The organisation shown in the header: the user's local authority first, else their first organisation."""
        orgs = sorted(self.organisations.values(), key=lambda o: (o.kind != "local_authority", o.id))
        return orgs[0].name if orgs else None

    @property
    def role_labels(self) -> list[str]:
        labels = []
        for org, role in sorted(self.holder.roles, key=lambda r: (r[0] or 0, r[1])):
            label = Role(role).label if role in Role._value2member_map_ else role
            where = self.organisations[org].name if org in self.organisations else None
            labels.append(f"{label}, {where}" if where else label)
        return labels

    def holds(self, org: int | None, role: Role) -> bool:
        return self.holder.has(org, role)

    def family_cases(self) -> set[int]:
        if "family_cases" not in g:
            g.family_cases = family_case_ids(db(), self.record.id)
        return g.family_cases


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(user: User) -> str:
    """Records a new server-side session for the user and returns its token (for the cookie)."""
    token = secrets.token_urlsafe(32)
    now = clock().now()
    db().add(WebSession(token_hash=token_hash(token), user_id=user.id, created_at=now, last_seen_at=now,
                        ip_address=(request.remote_addr or "")[:64] or None))
    return token


def end_session(reason: str) -> None:
    token = session.get(SESSION_KEY)
    if not token:
        return
    db().execute(update(WebSession).where(WebSession.token_hash == token_hash(token), WebSession.ended_at.is_(None))
                 .values(ended_at=clock().now(), ended_reason=reason))
    db().commit()


def end_all_sessions(user_id: int, reason: str, now: datetime) -> None:
    """Ends every session of a user (for example when an administrator deactivates the account)."""
    db().execute(update(WebSession).where(WebSession.user_id == user_id, WebSession.ended_at.is_(None))
                 .values(ended_at=now, ended_reason=reason))


def end_other_sessions(user_id: int, reason: str, now: datetime) -> None:
    """Ends every session of the user but this request's own."""
    token = session.get(SESSION_KEY)
    query = update(WebSession).where(WebSession.user_id == user_id, WebSession.ended_at.is_(None))
    if token:
        query = query.where(WebSession.token_hash != token_hash(token))
    db().execute(query.values(ended_at=now, ended_reason=reason))


#: Built once (every request reads it; building it cost more than running it).
_SESSION_WITH_USER = (select(WebSession, User, Membership.organisation_id, Membership.role, Organisation)
                      .outerjoin(User, User.id == WebSession.user_id)
                      .outerjoin(Membership, Membership.user_id == User.id)
                      .outerjoin(Organisation, Organisation.id == Membership.organisation_id)
                      .where(WebSession.token_hash == bindparam("token_hash")))


def load_user(user_id: str) -> WebUser | None:
    """Flask-Login's user loader: the user only while their server-side session is alive.

    One query per request: the session row with its user, their memberships and their organisations (a row per
    membership; the session and user repeat on each)."""
    token = session.get(SESSION_KEY)
    if not token or not user_id.isdigit():
        return None
    s = db()
    found = s.execute(_SESSION_WITH_USER, {"token_hash": token_hash(token)}).all()
    row, user = (found[0][0], found[0][1]) if found else (None, None)
    if row is None or row.ended_at is not None or row.user_id != int(user_id):
        return None
    now = clock().now()
    idle = timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])
    absolute = timedelta(hours=current_app.config["SESSION_ABSOLUTE_HOURS"])
    reason = "idle" if now - row.last_seen_at > idle else "expired" if now - row.created_at > absolute else None
    if reason is None and (user is None or not user.active):
        reason = "user_inactive"
    if reason is not None:
        row.ended_at = now
        row.ended_reason = reason
        s.commit()
        g.session_ended = reason
        g.session_ended_user_id = row.user_id
        return None
    assert user is not None
    if now - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = now
        s.commit()
    roles: set[tuple[int | None, str]] = set()
    organisations: dict[int, Organisation] = {}
    for _, _, org_id, role, organisation in found:
        if role is None:
            continue  # no membership at all (the outer join's one row)
        roles.add((org_id, role))
        if organisation is not None:
            organisations[organisation.id] = organisation
    remember_roles(user, roles)
    return WebUser(user, Holder(user.id, frozenset(roles)), organisations)
