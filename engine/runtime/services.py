"""Builds the engine from settings: the one place that knows where the database and the workflow files are."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from engine.library.registry import ProcessRegistry
from engine.library.sandbox_limits import configured_limits
from engine.runtime.workflow_engine import WorkflowEngine
from engine.statutory.clock import Clock
from engine.store.db import PROJECT_ROOT, default_database_url, make_engine, make_session_factory


@dataclass
class Services:
    db: Engine
    session_factory: sessionmaker[Session]
    engine: WorkflowEngine
    workflows_dir: Path
    forms_dir: Path

    def load_registry(self) -> ProcessRegistry:
        return ProcessRegistry.load(self.workflows_dir, self.forms_dir)


def build(database_url: str | None = None, clock: Clock | None = None, workflows_dir: Path | None = None,
          forms_dir: Path | None = None) -> Services:
    configured_limits()  # a bad limit on scripts stops the start here, with its message
    db = make_engine(database_url or default_database_url())
    factory = make_session_factory(db)
    return Services(
        db=db,
        session_factory=factory,
        engine=WorkflowEngine(factory, clock),
        workflows_dir=Path(workflows_dir or os.environ.get("EHCFLOW_WORKFLOWS", PROJECT_ROOT / "workflows")),
        forms_dir=Path(forms_dir or os.environ.get("EHCFLOW_FORMS", PROJECT_ROOT / "forms")),
    )
