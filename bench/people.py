"""What the benchmarks that drive the app share: the people who sign in, and the looping route they step through."""

from __future__ import annotations

from engine.people.roles import Role
from engine.people.users import create_user
from engine.runtime.workflow_engine import WorkflowEngine
from engine.store.models import Organisation

PASSWORD = "bench-password-not-secret"


def people(engine: WorkflowEngine, la_id: int) -> tuple[str, str]:
    """A caseworker and an administrator of the authority; their email addresses."""
    with engine.session_factory() as s:
        la = s.get(Organisation, la_id)
        worker = create_user(s, "caseworker@bench.example", "Bench Caseworker", PASSWORD, engine.clock,
                             [(la, Role.CASEWORKER)])
        admin = create_user(s, "admin@bench.example", "Bench Admin", PASSWORD, engine.clock, [(la, Role.ADMIN)])
        s.commit()
        return worker.email, admin.email


def looping_instance(engine: WorkflowEngine, la_id: int) -> int:
    """A new case with the looping route started on it (it loops as long as anyone steps through it)."""
    with engine.session_factory() as s:
        case = engine.open_case(s, la_id, "Loop", "Http")
        s.commit()
        case_id = case.id
    return engine.start(case_id, "looping", {"steps": 0, "limit": 1_000_000})
