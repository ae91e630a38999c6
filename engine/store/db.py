"""Database engine and sessions: SQLite (WAL) in the instance folder by default, PostgreSQL through DATABASE_URL."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, make_url, text
from sqlalchemy.exc import InvalidatePoolError
from sqlalchemy.orm import Session, sessionmaker

from engine.errors import SettingInvalid

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def instance_dir() -> Path:
    path = Path(os.environ.get("EHCFLOW_INSTANCE_DIR", PROJECT_ROOT / "instance"))
    # Only this user may look in (it holds the database, the uploads and the secret key).
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
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


#: The connection pool, per process: ``EHCFLOW_DB_POOL_SIZE`` connections kept open, ``EHCFLOW_DB_MAX_OVERFLOW`` more
#: opened when busy, and ``EHCFLOW_DB_POOL_TIMEOUT`` seconds a request waits for one before it fails. A web request
#: holds at most one connection at a time (webui/context.py), so a process needs no more than it has threads.
POOL_SETTINGS: dict[str, tuple[str, int, int]] = {
    # keyword: (setting, default, smallest allowed)
    "pool_size": ("EHCFLOW_DB_POOL_SIZE", 5, 1),
    "max_overflow": ("EHCFLOW_DB_MAX_OVERFLOW", 10, 0),
    "pool_timeout": ("EHCFLOW_DB_POOL_TIMEOUT", 30, 1),
}


#: ``EHCFLOW_DB_PING_AFTER_IDLE``: a PostgreSQL connection that has waited in the pool this many seconds is tried with
#: a round trip before a request gets it (0: every time), and replaced if the server has dropped it.
PING_SETTING = ("EHCFLOW_DB_PING_AFTER_IDLE", 10, 0)


def _whole_number(name: str, default: int, least: int) -> int:
    value = (os.environ.get(name) or "").strip()
    if not value:
        return default
    if not value.isdigit() or int(value) < least:
        raise SettingInvalid(f"{name} must be a whole number of at least {least}, not {value!r}")
    return int(value)


def pool_settings() -> dict[str, int]:
    """The pool's size, overflow and timeout from the settings; a value that is not a whole number in range stops the
    start with a message (SettingInvalid), before anything connects."""
    return {keyword: _whole_number(*setting) for keyword, setting in POOL_SETTINGS.items()}


_IDLE_SINCE = "ehcflow_idle_since"


def _ping_after_idle(engine: Engine, seconds: int) -> None:
    """Tries a pooled connection before handing it out only when it has been idle ``seconds`` or more.

    SQLAlchemy's pre-ping tries every one, a round trip on each of the two or three connections a request takes in
    turn; a connection handed back a moment ago is alive. One that waited longer may have been dropped (the server
    restarted, a firewall's idle limit): the ping finds out and the pool replaces it, and every connection pooled
    before it, unseen by the request. A connection dropped within ``seconds`` of its last use fails its request once
    and is replaced, as SQLAlchemy does with any lost connection."""
    dialect = engine.dialect

    @event.listens_for(engine, "checkin")
    def idle_from(dbapi_connection: Any, record: Any) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def ping_if_idle(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        since = record.info.pop(_IDLE_SINCE, None)
        if since is None or time.monotonic() - since < seconds:
            return  # a new connection, or one in use a moment ago
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            if dialect.is_disconnect(error, dbapi_connection, None):
                raise InvalidatePoolError(f"a pooled database connection was lost: {error}") from error
            raise


def _uses_pool(url: str) -> bool:
    """A database in memory has one connection per thread (SQLAlchemy's own pool for it takes no size)."""
    parsed = make_url(url)
    return not (parsed.get_backend_name() == "sqlite" and parsed.database in (None, "", ":memory:"))


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


def _private_sqlite_file(url: str) -> None:
    """Creates the SQLite file readable and writable by this user only (0600), before SQLite creates it with the
    umask's mode (usually readable by every user of the machine); its -wal and -shm files take the same mode."""
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    """The engine for ``url`` (the configured database when not given); ``kwargs`` override the pool settings."""
    url = normalise_url(url or default_database_url())
    pool = pool_settings()  # a bad setting stops the start here, like a bad synchronous setting below
    ping_after = _whole_number(*PING_SETTING)
    if _uses_pool(url):
        kwargs = {**pool, **kwargs}
    if url.startswith("sqlite"):
        synchronous = sqlite_synchronous()  # a bad setting stops the start, before anything is written
        _private_sqlite_file(url)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 10}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas(synchronous))
    else:
        engine = create_engine(url, **kwargs)
        _ping_after_idle(engine, ping_after)
    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


def is_postgres(bind: Engine | Connection) -> bool:
    return bind.dialect.name == "postgresql"


_NEXT_ID = text("SELECT nextval(pg_get_serial_sequence(:table, 'id'))")


def reserve_id(session: Session, table: str) -> int | None:
    """On PostgreSQL, the next id of ``table``, taken from its sequence now so that the row can be inserted with it;
    None elsewhere (SQLite gives a row its id as it inserts it).

    For rows whose unique reference is made from their id: inserted with it, such a row never holds a placeholder
    reference, which every other transaction inserting the same placeholder would wait on until this one ended."""
    if not is_postgres(session.get_bind()):
        return None
    return int(session.execute(_NEXT_ID, {"table": table}).scalar_one())


#: PostgreSQL's SQLSTATEs for losing to another transaction: a serialization failure, a deadlock, a lock not got in
#: time. Trying again may well succeed; nothing about the work itself is wrong.
_CONTENTION_STATES = frozenset({"40001", "40P01", "55P03"})


def lost_to_contention(exc: BaseException) -> bool:
    """True when ``exc`` (as SQLAlchemy raised it) means another transaction held what this one needed: PostgreSQL
    chose it as a deadlock's victim or it waited past a lock timeout, or SQLite stayed busy past its timeout."""
    orig = getattr(exc, "orig", None)
    if orig is None:
        return False
    if getattr(orig, "sqlstate", None) in _CONTENTION_STATES:
        return True
    return type(orig).__name__ == "OperationalError" and "database is locked" in str(orig)
