"""Failed sign-ins counted per client address, and per email address that is not an account, in the database (and
failed uses of the one-off set-password links, per client address).

Kept in a table rather than in each web process's memory: with several gunicorn processes an attacker's attempts
land on all of them, and a limit counted per process would be that many times higher. Keys are stored as their
SHA-256 (the table never keeps what someone typed); rows older than the window are deleted as new ones are added,
so the table holds at most one window of failures.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from engine.store.sign_in import SignInFailure

#: ip and email: failed sign-ins; set_password: wrong or refused one-off set-password links, per client address;
#: req_draft and req_send: online requests for an assessment started and sent, per client address (not failures,
#: but counted the same way, so that the hourly limit holds across every web process).
KINDS = ("ip", "email", "set_password", "req_draft", "req_send")


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def failures(session: Session, kind: str, key: str, window: timedelta, now: datetime) -> int:
    """How many failures the key has had within the window."""
    return session.scalar(select(func.count(SignInFailure.id)).where(
        SignInFailure.kind == kind, SignInFailure.key == _digest(key), SignInFailure.at > now - window)) or 0


def blocked(session: Session, kind: str, key: str, limit: int, window: timedelta, now: datetime) -> bool:
    return failures(session, kind, key, window, now) >= limit


def record_failure(session: Session, kind: str, key: str, window: timedelta, now: datetime) -> None:
    """Counts one failure (the caller commits), and forgets this kind's failures that have left the window."""
    if kind not in KINDS:
        raise ValueError(f"Unknown kind of sign-in key {kind!r}")
    session.execute(delete(SignInFailure).where(SignInFailure.kind == kind, SignInFailure.at <= now - window))
    session.add(SignInFailure(kind=kind, key=_digest(key), at=now))
    session.flush()


def clear(session: Session, kind: str, key: str) -> None:
    session.execute(delete(SignInFailure).where(SignInFailure.kind == kind, SignInFailure.key == _digest(key)))
