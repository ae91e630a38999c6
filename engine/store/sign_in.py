"""Failed sign-ins and other counted attempts, in the database so that a limit holds across every web process
(engine/people/sign_in_throttle.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from engine.store.models import Base


class SignInFailure(Base):
    """A failed sign-in, counted against a client address or an email address that is not an account (the
    account's own lock is ``User.locked_until``). In the database so the limit holds across every web process."""

    __tablename__ = "sign_in_failure"
    __table_args__ = (Index("ix_sign_in_failure_kind_key_at", "kind", "key", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # ip, email
    key: Mapped[str] = mapped_column(String(64))  # SHA-256 of the address: the table never holds what was typed
    at: Mapped[datetime]


class WebSession(Base):
    """A signed-in browser session. The cookie holds a random token; only its SHA-256 is stored here, so signing out
    (or an administrator deactivating the user) ends the session on the server, whatever the browser kept."""

    __tablename__ = "web_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    # signed_out, idle, expired, user_inactive
    ended_reason: Mapped[str | None] = mapped_column(String(40))
    ip_address: Mapped[str | None] = mapped_column(String(64))
