"""A command's reads flush only when its pending changes could alter them (engine/runtime/lean_flush.py), and its
deadlines of a key are found as the command has left them without a flush (engine/runtime/projection.py): the
answers are those a flush first would have given."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select

from engine.runtime import lean_flush
from engine.runtime.projection import Projector
from engine.runtime.services import Services
from engine.store.models import Deadline, HumanTask, ProcessInstance, Timer
from tests.conftest import World
from tests.engine.test_runtime import deploy_demo

NOW = datetime(2026, 3, 2, 10, tzinfo=UTC)


def started(services: Services, world: World) -> int:
    deploy_demo(services.engine)
    return services.engine.start(world.case_id, "runtime_demo", {"explode": False}, world.users["caseworker"])


def test_a_read_flushes_pending_rows_of_its_table_and_leaves_the_others(services: Services, world: World) -> None:
    instance_id = started(services, world)
    with services.session_factory() as s:
        s.add(Deadline(case_id=world.case_id, instance_id=instance_id, key="k", name="A", due_date=date(2026, 4, 1)))
        timer = Timer(instance_id=instance_id, case_id=world.case_id, task_guid="t", bpmn_id="b", due_at=NOW,
                      status="waiting")
        s.add(timer)
        found = lean_flush.execute(s, select(Deadline.key).where(Deadline.case_id == world.case_id), Deadline)
        assert list(found.scalars()) == ["k"]  # flushed first: the pending deadline is found
        assert timer not in s.new  # ... and so was the timer, in the same flush
        s.add(Timer(instance_id=instance_id, case_id=world.case_id, task_guid="u", bpmn_id="b", due_at=NOW,
                    status="waiting"))
        tasks = lean_flush.execute(s, select(HumanTask.id).where(HumanTask.instance_id == instance_id), HumanTask)
        assert len(list(tasks)) == 1 and any(isinstance(row, Timer) for row in s.new)  # no flush for a timer


def test_an_update_by_id_reaches_the_objects_the_session_holds(services: Services, world: World) -> None:
    instance_id = started(services, world)
    with services.session_factory() as s:
        task = s.scalars(select(HumanTask).where(HumanTask.instance_id == instance_id)).one()
        assert task.status == "open"
        lean_flush.update_by_id(s, HumanTask, [task.id], {"status": "cancelled", "completed_at": NOW},
                                HumanTask.__table__.c.status == "open")
        assert task.status == "cancelled"  # expired, read again
        task.name = "Renamed"
        lean_flush.update_by_id(s, HumanTask, [task.id], {"status": "open"})  # flushes the pending rename first
        s.commit()
    with services.session_factory() as s:
        again = s.get(HumanTask, task.id)
        assert again is not None and (again.status, again.name) == ("open", "Renamed")


def test_a_keys_deadlines_are_as_the_command_left_them(services: Services, world: World) -> None:
    instance_id = started(services, world)
    with services.session_factory() as s:
        for key, status in (("k", "open"), ("k", "missed"), ("k", "met"), ("other", "open")):
            s.add(Deadline(case_id=world.case_id, instance_id=instance_id, key=key, name=key, status=status,
                           due_date=date(2026, 4, 1)))
        s.commit()
    with services.session_factory() as s:
        instance = s.get(ProcessInstance, instance_id)
        assert instance is not None
        projector = Projector(s, instance, services.engine.load_workflow(instance), NOW, None, lambda t, e: None)
        open_row = projector._open_deadlines("k")[0]
        missed_row = projector._missed_unfinished("k")[0]
        assert (open_row.status, missed_row.status) == ("open", "missed")
        open_row.status = "met"  # changed in this command, not yet written
        missed_row.met_at = NOW
        added = Deadline(case_id=world.case_id, instance_id=instance_id, key="k", name="new", status="open",
                         due_date=date(2026, 5, 1))
        s.add(added)
        assert projector._open_deadlines("k") == [added]
        assert projector._missed_unfinished("k") == []
        assert open_row in s.dirty and added.id is None  # nothing was flushed to find them
