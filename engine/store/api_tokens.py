"""API tokens (engine/people/api_tokens.py), kept beside engine/store/models.py on the same metadata."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.store.models import Base


class ApiToken(Base):
    """A bearer token an organisation's administrator issued for another system to call the JSON API (/api/v1).

    Only the token's SHA-256 is kept: the token itself is shown once, when it is issued. The token acts through its
    own account (``user_id``, an account nobody signs in to) that holds exactly one role at the organisation, so that
    every check the web pages make on a person (engine/people/access.py) is made on the token in the same way, and
    the audit trail names it as the actor."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(40))
    # read: GET only; write: also complete tasks, start routes and send messages
    scope: Mapped[str] = mapped_column(String(10))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters of the token, shown in the list so that an administrator can tell tokens apart.
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    # The last day (London) on which the token works.
    expires_on: Mapped[date] = mapped_column(Date)
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
