"""Per-request access to the engine: the services, one database session per request, the clock.

A request holds at most one database connection at a time. Engine commands open sessions of their own; when one of
them starts within a request, the request's session first ends its transaction, which gives its connection back to
the pool (``_one_connection_per_request``). Were both held, fifty people submitting at once would each keep one
connection while waiting for a second, the pool would run dry and every request would wait for its timeout and fail.
"""

from __future__ import annotations

from datetime import date, datetime

from flask import Flask, current_app, g, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

from engine.runtime.services import Services
from engine.runtime.workflow_engine import WorkflowEngine
from engine.statutory.clock import Clock


def services() -> Services:
    return current_app.extensions["ehcflow"]


def engine() -> WorkflowEngine:
    return services().engine


def db() -> Session:
    """The request's session, for reading (and small writes the view commits itself). Engine commands use their own,
    once this one has given its connection back (see the module's docstring)."""
    if "db" not in g:
        g.db = services().session_factory()
    return g.db


def clock() -> Clock:
    return services().engine.clock


def now() -> datetime:
    return clock().now()


def today() -> date:
    return clock().today()


def release_db() -> None:
    """Ends the request session's transaction, so that its connection goes back to the pool.

    What the view has written so far is committed, as it would be at the end of the view (a view never leaves writes
    for an engine command to see or to undo: the command could not see them on PostgreSQL, and would wait for their
    lock on SQLite). Loaded objects stay loaded (the sessions do not expire on commit); the next read takes a
    connection again. A transaction that has already failed can only be rolled back, and is: its connection too must
    go back before another is taken (the view's own rollback afterwards does nothing more).
    """
    session: Session | None = g.get("db")
    if session is None:
        return
    transaction = session.get_transaction()
    if transaction is None:
        return
    if transaction.is_active:
        session.commit()
    else:
        session.rollback()


def _one_connection_per_request(session: Session, transaction: SessionTransaction) -> None:
    """Before another session of the request (an engine command's) takes a connection, the request's gives its own
    back. ``after_transaction_create`` comes before the new transaction takes a connection from the pool."""
    if transaction.parent is not None or not has_app_context() or g.get("db") in (None, session):
        return
    release_db()


def _watch_sessions(factory: sessionmaker[Session]) -> None:
    if not event.contains(factory, "after_transaction_create", _one_connection_per_request):
        event.listen(factory, "after_transaction_create", _one_connection_per_request)


def init_app(app: Flask) -> None:
    _watch_sessions(app.extensions["ehcflow"].session_factory)

    @app.teardown_appcontext
    def close_session(_exc: BaseException | None) -> None:
        session = g.pop("db", None)
        if session is not None:
            session.close()
