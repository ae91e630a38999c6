"""A command that loses to another transaction holding its rows (PostgreSQL: a deadlock's victim, a lock not got in
time) is a conflict the person can try again, not a fault of the route: no incident, the instance as it was."""

from __future__ import annotations

import pytest
from sqlalchemy import event, select, text

from engine.errors import ConcurrentUpdate
from engine.runtime.services import Services
from engine.runtime.workflow_engine import WorkflowEngine
from engine.statutory.clock import FrozenClock
from engine.store.db import lost_to_contention, make_engine, make_session_factory
from engine.store.models import Case, HumanTask, Incident, ProcessInstance
from tests.conftest import World, postgres_url
from tests.engine.test_runtime import deploy_demo, restore_roundtrip


def test_a_row_locked_elsewhere_is_a_conflict_and_the_command_runs_when_it_is_free(
        pg_services: Services, clock: FrozenClock) -> None:
    world = World(pg_services)
    deploy_demo(pg_services.engine)
    iid = pg_services.engine.start(world.case_id, "runtime_demo", {"explode": False})
    with pg_services.session_factory() as s:
        task_id = s.scalars(select(HumanTask.id).where(HumanTask.instance_id == iid)).one()
        revision = s.get(ProcessInstance, iid).revision
    # The same database through an engine whose sessions wait a short time for a lock, as a busy server would fail.
    impatient = make_engine(postgres_url(), connect_args={"options": "-c lock_timeout=300"})
    engine = WorkflowEngine(make_session_factory(impatient), clock)
    try:
        with pg_services.db.connect() as other:
            held = other.begin()
            other.execute(text("SELECT id FROM process_instance WHERE id = :i FOR UPDATE"), {"i": iid})
            with pytest.raises(ConcurrentUpdate, match="at the same moment") as raised:
                engine.complete_task(task_id, {"concern": "x"})
            assert lost_to_contention(raised.value.__cause__)
            held.rollback()
        with pg_services.session_factory() as s:
            assert s.scalars(select(Incident)).all() == []
            instance = s.get(ProcessInstance, iid)
            assert instance is not None and instance.status == "waiting_person" and instance.revision == revision
            assert s.get(HumanTask, task_id).status == "open"
        restore_roundtrip(pg_services, iid)
        engine.complete_task(task_id, {"concern": "x"})  # tried again, once the other transaction has gone
        restore_roundtrip(pg_services, iid)
        with pg_services.session_factory() as s:
            assert s.get(HumanTask, task_id).status == "completed"
    finally:
        impatient.dispose()


def test_other_database_errors_are_not_taken_for_contention() -> None:
    class Orig(Exception):
        sqlstate = "23505"  # a unique violation: a real fault

    class Wrapped(Exception):
        orig = Orig()

    assert not lost_to_contention(Wrapped()) and not lost_to_contention(ValueError("database is locked"))


def test_opening_a_case_does_not_wait_for_another_transaction_opening_one(
        pg_services: Services, clock: FrozenClock) -> None:
    """A new case's reference is unique and made from its id. Inserted first with a placeholder, every case being
    opened waited on the placeholder of any other not yet committed (a plan import opening many cases in one
    transaction held up every caseworker's); on PostgreSQL it is now written once, with its reference."""
    world = World(pg_services)
    # Sessions that give up after 300 ms waiting for a lock, so that waiting shows as an error, not a hang.
    impatient = make_engine(postgres_url(), connect_args={"options": "-c lock_timeout=300"})
    engine = WorkflowEngine(make_session_factory(impatient), clock)
    statements: list[str] = []
    event.listen(impatient, "before_cursor_execute", lambda *args: statements.append(args[2]))
    try:
        with engine.session_factory() as first, engine.session_factory() as second:
            one = engine.open_case(first, world.la.id, "Ana", "First")
            other = engine.open_case(second, world.la.id, "Ben", "Second")  # the first has not committed
            second.commit()
            first.commit()
            refs = {one.id: one.reference, other.id: other.reference}
    finally:
        impatient.dispose()
    assert refs == {one.id: f"EHC-2026-{one.id:05d}", other.id: f"EHC-2026-{other.id:05d}"}
    assert not [sql for sql in statements if sql.lstrip().upper().startswith("UPDATE CASE_RECORD")]
    with pg_services.session_factory() as s:
        stored = dict(s.execute(select(Case.id, Case.reference).where(Case.id.in_(refs))).all())
    assert stored == refs
