"""Each instance's earliest due date of unfinished work (migration 0021), kept by the database's triggers, on SQLite
and on PostgreSQL: after every kind of write to a deadline or a task it equals what the definition gives, worked out
here in Python from the rows; the migration fills it for the instances already there; and the admin's overdue filter
that reads it finds exactly the late instances, the longest overdue first."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import delete, select, text, update

from engine.admin import instance_repair as repair
from engine.admin.instance_admin import InstanceFilters, instance_list
from engine.runtime.services import Services
from engine.store.models import Deadline, HumanTask, ProcessInstance
from tests.conftest import World
from tests.engine.test_runtime import deploy_demo, restore_roundtrip


@pytest.fixture(params=["sqlite", "postgresql"])
def two(request: pytest.FixtureRequest) -> tuple[Services, World, list[int]]:
    """Two running instances of runtime_demo on the world's case, each with its open register task."""
    services: Services = request.getfixturevalue("services" if request.param == "sqlite" else "pg_services")
    world = World(services)
    deploy_demo(services.engine)
    ids = [services.engine.start(world.case_id, "runtime_demo", {"explode": False}, world.users["caseworker"])
           for _ in range(2)]
    return services, world, ids


def stored(services: Services) -> dict[int, date | None]:
    with services.session_factory() as s:
        return {iid: due for iid, due in s.execute(select(ProcessInstance.id, ProcessInstance.earliest_due))}


def defined(services: Services) -> dict[int, date | None]:
    """The earliest due date of each instance's open or missed-and-unmet deadlines and open tasks, from the rows."""
    with services.session_factory() as s:
        found: dict[int, date | None] = {iid: None for iid in s.scalars(select(ProcessInstance.id))}
        dues = [(d.instance_id, d.due_date) for d in s.scalars(select(Deadline))
                if d.instance_id and (d.status == "open" or (d.status == "missed" and d.met_at is None))]
        dues += [(t.instance_id, t.due_date) for t in s.scalars(select(HumanTask).where(HumanTask.status == "open"))]
    for iid, due in dues:
        if due is not None:
            earliest = found[iid]
            found[iid] = due if earliest is None else min(earliest, due)
    return found


def test_every_write_to_a_deadline_or_a_task_keeps_it_true(two: tuple[Services, World, list[int]]) -> None:
    services, world, (first, second) = two
    assert stored(services) == defined(services)
    with services.session_factory() as s:
        task = s.scalars(select(HumanTask).where(HumanTask.instance_id == first)).one()
        task.due_date = date(2026, 3, 9)
        s.add(Deadline(case_id=world.case_id, instance_id=first, key="k1", name="One", due_date=date(2026, 2, 2)))
        s.add(Deadline(case_id=world.case_id, instance_id=second, key="k2", name="Two", due_date=date(2026, 5, 29)))
        s.add(Deadline(case_id=world.case_id, instance_id=None, key="k3", name="Case", due_date=date(2026, 1, 1)))
        s.commit()
    after = stored(services)
    assert after[first] == date(2026, 2, 2) and after == defined(services)
    changes = [
        update(Deadline).where(Deadline.key == "k1").values(status="met"),                        # met: the task's
        update(Deadline).where(Deadline.key == "k2").values(status="missed"),                     # missed, unmet
        update(Deadline).where(Deadline.key == "k2").values(met_at=services.engine.clock.now()),  # met late
        update(Deadline).where(Deadline.key == "k1").values(status="open", due_date=date(2026, 12, 31)),
        update(Deadline).where(Deadline.key == "k1").values(instance_id=second),                  # moved
        update(HumanTask).where(HumanTask.instance_id == first).values(status="completed"),
        update(HumanTask).where(HumanTask.instance_id == second).values(due_date=None),
        update(Deadline).where(Deadline.key == "k3").values(instance_id=first),                   # joined
        delete(Deadline).where(Deadline.key == "k1"),
    ]
    for change in changes:
        with services.session_factory() as s:
            s.execute(change)
            s.commit()
        assert stored(services) == defined(services), change
    assert stored(services) == {first: date(2026, 1, 1), second: None}


def test_the_route_keeps_it_and_the_overdue_filter_reads_it(two: tuple[Services, World, list[int]]) -> None:
    """Through the engine: the register task's deadline falls due on 13 April (six weeks from 2 March); completing
    one instance's task and firing its timer leaves it missed and unmet; the other's task falls due later."""
    services, world, (first, second) = two
    engine = services.engine
    with services.session_factory() as s:
        s.execute(update(HumanTask).where(HumanTask.instance_id == second).values(due_date=date(2026, 4, 20)))
        s.commit()
    with services.session_factory() as s:
        task_id = s.scalars(select(HumanTask.id).where(HumanTask.instance_id == first)).one()
    engine.complete_task(task_id, {"concern": "x"})
    restore_roundtrip(services, first)
    assert stored(services) == defined(services)
    engine.clock.set(datetime(2026, 4, 14, 9, 0, tzinfo=UTC))
    assert engine.fire_due_timers() == 1
    restore_roundtrip(services, first)
    assert stored(services) == defined(services) and stored(services)[first] == date(2026, 4, 13)

    def late(today: date, **chosen: object) -> list[int]:
        with services.session_factory() as s:
            page = instance_list(s, [world.la.id], InstanceFilters(overdue=True, **chosen), today, engine.clock.now())
        return [row.id for row in page.page.rows]
    assert late(date(2026, 4, 14)) == [first]
    assert late(date(2026, 4, 21)) == [first, second]  # the longest overdue first
    repair.suspend(engine, second, world.users["admin"], "waiting for the family's solicitor")
    assert late(date(2026, 4, 21)) == [first, second]
    assert late(date(2026, 4, 21), status="suspended") == [second]
    assert late(date(2026, 4, 21), status="waiting_person") == [first]
    assert late(date(2026, 4, 21), status="completed") == []
    assert late(date(2026, 4, 13)) == []


def test_the_migration_fills_it_for_the_instances_already_there(services: Services, world: World) -> None:
    from engine.store.migrate import downgrade, upgrade

    deploy_demo(services.engine)
    iid = services.engine.start(world.case_id, "runtime_demo", {"explode": False}, world.users["caseworker"])
    with services.session_factory() as s:
        s.execute(update(HumanTask).where(HumanTask.instance_id == iid).values(due_date=date(2026, 3, 20)))
        s.add(Deadline(case_id=world.case_id, instance_id=iid, key="k", name="Earlier", due_date=date(2026, 3, 10)))
        s.commit()
    downgrade(services.db, "0020")
    with services.db.begin() as connection:
        assert "earliest_due" not in {row[1] for row in connection.execute(text("PRAGMA table_info(process_instance)"))}
        connection.execute(text("UPDATE deadline SET due_date = '2026-03-05'"))  # no trigger now
    upgrade(services.db)
    assert stored(services) == {iid: date(2026, 3, 5)} == defined(services)
