"""Shared fixtures: a migrated database (SQLite by default, a fresh one per test), a frozen clock and the engine."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import text

from engine.library.registry import ProcessRegistry
from engine.people import passwords as password_module
from engine.people.roles import Role
from engine.people.users import create_organisation, create_user
from engine.runtime.services import Services
from engine.runtime.workflow_engine import WorkflowEngine
from engine.statutory.clock import FrozenClock
from engine.store.db import make_engine, make_session_factory
from engine.store.migrate import upgrade
from engine.store.models import CaseParty, Organisation, User

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct-horse-battery"


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 with its real cost takes most of a second per hash on a busy machine, and every test world creates a
    dozen users. The algorithm is the same, only cheaper (the stored hash records its parameters)."""
    monkeypatch.setattr(password_module, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 3, 2, 10, 0, tzinfo=UTC))


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'test.sqlite3'}"


@pytest.fixture
def services(database_url: str, clock: FrozenClock) -> Iterator[Services]:
    db = make_engine(database_url)
    upgrade(db)
    factory = make_session_factory(db)
    yield Services(db=db, session_factory=factory, engine=WorkflowEngine(factory, clock),
                   workflows_dir=ROOT / "workflows", forms_dir=ROOT / "forms")
    db.dispose()


@pytest.fixture
def engine(services: Services) -> WorkflowEngine:
    return services.engine


def postgres_url() -> str | None:
    """TEST_DATABASE_URL when PostgreSQL answers there, else None (the caller skips with the reason)."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        return None
    try:
        probe = make_engine(url)
        with probe.connect() as conn:
            conn.execute(text("select 1"))
        probe.dispose()
    except Exception:  # noqa: BLE001 - any failure means "not reachable"
        return None
    return url


def require_postgres() -> str:
    """TEST_DATABASE_URL when PostgreSQL answers there; otherwise the test is skipped, with the reason printed."""
    url = postgres_url()
    if url is None:
        reason = ("TEST_DATABASE_URL is not set" if not os.environ.get("TEST_DATABASE_URL")
                  else f"PostgreSQL is not reachable at {os.environ['TEST_DATABASE_URL']}")
        print(f"SKIP postgres test: {reason}")
        pytest.skip(reason)
    return url


@pytest.fixture
def pg_services(clock: FrozenClock) -> Iterator[Services]:
    url = require_postgres()
    db = make_engine(url, pool_size=10)
    with db.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    upgrade(db)
    factory = make_session_factory(db)
    yield Services(db=db, session_factory=factory, engine=WorkflowEngine(factory, clock),
                   workflows_dir=ROOT / "workflows", forms_dir=ROOT / "forms")
    db.dispose()


class World:
    """A small set of organisations, users and one case, for engine and web tests."""

    def __init__(self, services: Services) -> None:
        engine = services.engine
        clock = engine.clock
        with services.session_factory() as s:
            self.la = create_organisation(s, "Testshire Council", "local_authority", clock, code="TST")
            self.other_la = create_organisation(s, "Otherham Council", "local_authority", clock, code="OTH")
            self.health = create_organisation(s, "Testshire ICB", "health_body", clock, code="TICB")
            self.school = create_organisation(s, "Test Primary School", "setting", clock,
                                              setting_type="maintained_school", maintaining_la_id=self.la.id)
            self.mediation = create_organisation(s, "Test Mediation", "mediation_service", clock)
            self.users: dict[str, User] = {}
            for key, org, role in [
                ("caseworker", self.la, Role.CASEWORKER), ("manager", self.la, Role.MANAGER),
                ("ep", self.la, Role.EDUCATIONAL_PSYCHOLOGIST), ("socialcare", self.la, Role.SOCIAL_CARE),
                ("admin", self.la, Role.ADMIN), ("processowner", self.la, Role.PROCESS_OWNER),
                ("health", self.health, Role.HEALTH), ("school", self.school, Role.SCHOOL),
                ("mediation", self.mediation, Role.MEDIATION), ("other_caseworker", self.other_la, Role.CASEWORKER),
                ("other_manager", self.other_la, Role.MANAGER), ("other_admin", self.other_la, Role.ADMIN),
                ("parent", None, Role.FAMILY), ("other_parent", None, Role.FAMILY),
            ]:
                self.users[key] = create_user(s, f"{key}@test.example", key.replace("_", " ").title(), PASSWORD,
                                              clock, [(org, role)])
            case = engine.open_case(s, self.la.id, "Alex", "Taylor", "2015-05-14")
            other = engine.open_case(s, self.other_la.id, "Bo", "Other", "2016-01-01")
            for c, parent in ((case, self.users["parent"]), (other, self.users["other_parent"])):
                s.add(CaseParty(case_id=c.id, role="health_body", organisation_id=self.health.id))
                s.add(CaseParty(case_id=c.id, role="setting", organisation_id=self.school.id))
                s.add(CaseParty(case_id=c.id, role="mediation_service", organisation_id=self.mediation.id))
                s.add(CaseParty(case_id=c.id, role="family", user_id=parent.id, relationship_to_child="mother"))
            s.commit()
            self.case_id = case.id
            self.other_case_id = other.id


@pytest.fixture
def world(services: Services) -> World:
    return World(services)


def deploy_files(engine: WorkflowEngine, bpmn: list[Path], forms_dir: Path) -> ProcessRegistry:
    registry = ProcessRegistry.from_files(bpmn, forms_dir)
    engine.deploy(registry)
    return registry


@cache
def real_routes() -> ProcessRegistry:
    """The project's own workflows and forms, checked and parsed once per test run (deploying them is quick; parsing
    and checking fourteen files is not). Tests must not change the registry they share."""
    return ProcessRegistry.load(ROOT / "workflows", ROOT / "forms")


@pytest.fixture
def deployed(engine: WorkflowEngine) -> ProcessRegistry:
    """The project's own workflows, checked and deployed."""
    registry = real_routes()
    engine.deploy(registry)
    return registry


__all__ = ["World", "Organisation", "deploy_files", "real_routes", "PASSWORD"]
