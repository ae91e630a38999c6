"""The connection pool is a setting: its size, its overflow and how long a request waits for a connection."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.errors import SettingInvalid
from engine.store.db import make_engine
from webui.cli import main

SETTINGS = ("EHCFLOW_DB_POOL_SIZE", "EHCFLOW_DB_MAX_OVERFLOW", "EHCFLOW_DB_POOL_TIMEOUT")


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
    ("EHCFLOW_DB_POOL_TIMEOUT", "2.5", 1), ("EHCFLOW_DB_POOL_TIMEOUT", "0", 1),
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
