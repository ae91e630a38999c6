"""Per-request access to the engine: the services, one database session per request, the clock."""

from __future__ import annotations

from datetime import date, datetime

from flask import Flask, current_app, g
from sqlalchemy.orm import Session

from engine.runtime.services import Services
from engine.runtime.workflow_engine import WorkflowEngine
from engine.statutory.clock import Clock


def services() -> Services:
    return current_app.extensions["ehcflow"]


def engine() -> WorkflowEngine:
    return services().engine


def db() -> Session:
    """The request's session, for reading (and small writes the view commits itself). Engine commands use their own."""
    if "db" not in g:
        g.db = services().session_factory()
    return g.db


def clock() -> Clock:
    return services().engine.clock


def now() -> datetime:
    return clock().now()


def today() -> date:
    return clock().today()


def init_app(app: Flask) -> None:
    @app.teardown_appcontext
    def close_session(_exc: BaseException | None) -> None:
        session = g.pop("db", None)
        if session is not None:
            session.close()
