"""Committed means on disk: SQLite syncs its log at every commit unless the operator chooses otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from engine.errors import SettingInvalid
from engine.store.db import make_engine
from webui.cli import main


def synchronous_of(tmp_path: Path) -> int:
    db = make_engine(f"sqlite:///{tmp_path / 'durable.sqlite3'}")
    with db.connect() as conn:
        value = conn.execute(text("PRAGMA synchronous")).scalar_one()
    db.dispose()
    return value


def test_sqlite_is_fully_durable_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EHCFLOW_SQLITE_SYNCHRONOUS", raising=False)
    assert synchronous_of(tmp_path) == 2  # FULL


def test_an_operator_may_choose_normal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EHCFLOW_SQLITE_SYNCHRONOUS", "normal")
    assert synchronous_of(tmp_path) == 1  # NORMAL


def test_any_other_value_stops_the_start_with_a_clear_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EHCFLOW_SQLITE_SYNCHRONOUS", "OFF")
    with pytest.raises(SettingInvalid, match="must be FULL or NORMAL, not 'OFF'"):
        make_engine(f"sqlite:///{tmp_path / 'never.sqlite3'}")
    assert not (tmp_path / "never.sqlite3").exists()
    monkeypatch.setenv("EHCFLOW_INSTANCE_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    result = CliRunner().invoke(main, ["db", "upgrade"])
    assert result.exit_code == 1 and "EHCFLOW_SQLITE_SYNCHRONOUS must be FULL or NORMAL" in result.output
