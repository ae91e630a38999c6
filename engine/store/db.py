"""Database engine and sessions: SQLite (WAL) in the instance folder by default, PostgreSQL through DATABASE_URL."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from engine.errors import SettingInvalid

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def instance_dir() -> Path:
    path = Path(os.environ.get("EHCFLOW_INSTANCE_DIR", PROJECT_ROOT / "instance"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def default_database_url() -> str:
    return os.environ.get("DATABASE_URL") or f"sqlite:///{instance_dir() / 'ehcflow.sqlite3'}"


def normalise_url(url: str) -> str:
    # Hosting platforms hand out postgres:// URLs; SQLAlchemy needs the driver named (psycopg 3).
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


#: ``EHCFLOW_SQLITE_SYNCHRONOUS``: FULL (the default) syncs the write-ahead log at every commit, so a step reported
#: as saved survives a power cut; NORMAL is faster but may lose the last commits then (never corrupts the database).
SYNCHRONOUS_SETTINGS = ("FULL", "NORMAL")


def sqlite_synchronous() -> str:
    value = (os.environ.get("EHCFLOW_SQLITE_SYNCHRONOUS") or "FULL").strip().upper()
    if value not in SYNCHRONOUS_SETTINGS:
        raise SettingInvalid(f"EHCFLOW_SQLITE_SYNCHRONOUS must be FULL or NORMAL, not {value!r}")
    return value


def _sqlite_pragmas(synchronous: str) -> Any:
    def apply(dbapi_connection: Any, connection_record: Any) -> None:
        cursor = dbapi_connection.cursor()
        # WAL lets the web app read while the timer worker writes; busy_timeout turns lock contention into waiting.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA synchronous={synchronous}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()

    return apply


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    url = normalise_url(url or default_database_url())
    if url.startswith("sqlite"):
        synchronous = sqlite_synchronous()  # a bad setting stops the start, before anything is written
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas(synchronous))
    else:
        engine = create_engine(url, pool_pre_ping=True, **kwargs)
    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"
