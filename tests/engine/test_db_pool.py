"""The connection pool is a setting: its size, its overflow, how long a request waits for a connection, and after how
long idle a PostgreSQL connection is tried before it is handed out."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError

from engine.errors import SettingInvalid
from engine.store.db import make_engine
from tests.conftest import require_postgres
from webui.cli import main

SETTINGS = ("EHCFLOW_DB_POOL_SIZE", "EHCFLOW_DB_MAX_OVERFLOW", "EHCFLOW_DB_POOL_TIMEOUT", "EHCFLOW_DB_PING_AFTER_IDLE")


@pytest.fixture(autouse=True)
def no_pool_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SETTINGS:
        monkeypatch.delenv(name, raising=False)


def pool_of(tmp_path: Path, **kwargs: int) -> tuple[int, int, float]:
    db = make_engine(f"sqlite:///{tmp_path / 'pool.sqlite3'}", **kwargs)
    pool = db.pool
    shape = (pool.size(), pool._max_overflow, pool._timeout)  # type: ignore[attr-defined]
    db.dispose()
    return shape


def test_the_defaults_are_sqlalchemys(tmp_path: Path) -> None:
    assert pool_of(tmp_path) == (5, 10, 30)


def test_the_settings_shape_the_pool_and_a_caller_may_still_choose(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EHCFLOW_DB_POOL_SIZE", "20")
    monkeypatch.setenv("EHCFLOW_DB_MAX_OVERFLOW", "0")
    monkeypatch.setenv("EHCFLOW_DB_POOL_TIMEOUT", " 5 ")
    assert pool_of(tmp_path) == (20, 0, 5)
    assert pool_of(tmp_path, pool_size=3) == (3, 0, 5)


def test_a_database_in_memory_has_no_pool_to_size(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EHCFLOW_DB_POOL_SIZE", "20")
    make_engine("sqlite://").dispose()  # SQLAlchemy's pool for it takes no size: no error


@pytest.mark.parametrize(("name", "value", "least"), [
    ("EHCFLOW_DB_POOL_SIZE", "0", 1), ("EHCFLOW_DB_POOL_SIZE", "ten", 1), ("EHCFLOW_DB_MAX_OVERFLOW", "-1", 0),
    ("EHCFLOW_DB_POOL_TIMEOUT", "2.5", 1), ("EHCFLOW_DB_POOL_TIMEOUT", "0", 1), ("EHCFLOW_DB_PING_AFTER_IDLE", "-1", 0),
])
def test_a_bad_value_stops_the_start_with_a_clear_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          name: str, value: str, least: int) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingInvalid, match=f"{name} must be a whole number of at least {least}, not '{value}'"):
        make_engine(f"sqlite:///{tmp_path / 'never.sqlite3'}")
    assert not (tmp_path / "never.sqlite3").exists()
    monkeypatch.setenv("EHCFLOW_INSTANCE_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    result = CliRunner().invoke(main, ["db", "upgrade"])
    assert result.exit_code == 1 and f"{name} must be a whole number" in result.output


def _backend(db: Engine) -> int:
    with db.connect() as conn:
        return int(conn.execute(text("select pg_backend_pid()")).scalar_one())


def _drop(url: str, pid: int) -> None:
    """What a server restart or a firewall's idle limit does to one connection."""
    other = make_engine(url, pool_size=1, max_overflow=0)
    with other.connect() as conn:
        assert conn.execute(text("select pg_terminate_backend(:pid)"), {"pid": pid}).scalar_one()
    other.dispose()


def _count_pings(db: Engine, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    pings: list[object] = []
    real = db.dialect.do_ping

    def counted(dbapi_connection: object) -> bool:
        pings.append(dbapi_connection)
        return real(dbapi_connection)

    monkeypatch.setattr(db.dialect, "do_ping", counted)
    return pings


def test_a_connection_dropped_while_idle_is_replaced_unseen(monkeypatch: pytest.MonkeyPatch) -> None:
    url = require_postgres()
    monkeypatch.setenv("EHCFLOW_DB_PING_AFTER_IDLE", "0")  # every connection handed back counts as idle
    db = make_engine(url, pool_size=1, max_overflow=0)
    pings = _count_pings(db, monkeypatch)
    first = _backend(db)
    assert pings == []  # a new connection is not tried
    _drop(url, first)
    second = _backend(db)  # no error: the ping found the connection gone and the pool opened another
    assert second != first and len(pings) == 1
    db.dispose()


def test_a_connection_used_a_moment_ago_is_not_tried_first(monkeypatch: pytest.MonkeyPatch) -> None:
    url = require_postgres()
    monkeypatch.setenv("EHCFLOW_DB_PING_AFTER_IDLE", "3600")
    db = make_engine(url, pool_size=1, max_overflow=0)
    pings = _count_pings(db, monkeypatch)
    first = _backend(db)
    assert _backend(db) == first and pings == []  # the same connection, without a round trip to try it
    # Dropped within the idle limit, it fails the one request that meets it; the next has a new connection.
    _drop(url, first)
    with pytest.raises(OperationalError):
        _backend(db)
    assert _backend(db) != first
    db.dispose()
