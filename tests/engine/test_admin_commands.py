"""The engine's admin commands: ending a route stops its clocks; a refused retry leaves the instance as it was."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.errors import InstanceFailed, NotAllowed
from engine.runtime.services import Services
from engine.store.models import AuditEvent, Deadline, Incident, ProcessInstance, Timer, User
from tests.conftest import World
from tests.engine.test_runtime import deploy_demo, open_task


def test_ending_a_route_cancels_its_timers_and_deadlines(services: Services, world: World) -> None:
    engine = services.engine
    deploy_demo(engine)
    iid = engine.start(world.case_id, "runtime_demo", {"explode": False})
    engine.complete_task(open_task(services, "UT_register").id, {"concern": "x"})
    with services.session_factory() as s:
        assert [t.status for t in s.scalars(select(Timer).where(Timer.instance_id == iid))] == ["waiting"]
        assert [d.status for d in s.scalars(select(Deadline).where(Deadline.instance_id == iid))] == ["open"]

    engine.terminate(iid, world.users["admin"], "opened twice by mistake")

    with services.session_factory() as s:
        assert [t.status for t in s.scalars(select(Timer).where(Timer.instance_id == iid))] == ["cancelled"]
        assert [d.status for d in s.scalars(select(Deadline).where(Deadline.instance_id == iid))] == ["cancelled"]
        assert s.get(ProcessInstance, iid).next_timer_due is None
        ended = s.scalars(select(AuditEvent).where(AuditEvent.instance_id == iid,
                                                   AuditEvent.action == "terminated")).one()
        assert ended.detail == {"reason": "opened twice by mistake"}


def test_a_refused_retry_leaves_the_instance_failed(services: Services, world: World) -> None:
    engine = services.engine
    deploy_demo(engine)
    iid = engine.start(world.case_id, "runtime_demo", {"explode": True}, world.users["caseworker"])
    with pytest.raises(InstanceFailed):
        engine.complete_task(open_task(services, "UT_register").id, {"concern": "x"}, world.users["caseworker"])
    with services.session_factory() as s:
        s.get(User, world.users["caseworker"].id).active = False  # the person who gave the command has left
        s.commit()

    with pytest.raises(NotAllowed):
        engine.retry(iid, world.users["admin"], "the script is fixed")

    with services.session_factory() as s:
        assert s.get(ProcessInstance, iid).status == "failed"
        assert [i.resolved_at for i in s.scalars(select(Incident).where(Incident.instance_id == iid))] == [None]


def test_the_reason_for_suspending_is_kept_with_the_event(services: Services, world: World) -> None:
    engine = services.engine
    deploy_demo(engine)
    iid = engine.start(world.case_id, "runtime_demo", {"explode": False})
    engine.suspend(iid, world.users["admin"], "waiting for the family's solicitor")
    with services.session_factory() as s:
        event = s.scalars(select(AuditEvent).where(AuditEvent.instance_id == iid,
                                                   AuditEvent.action == "suspended")).one()
    assert event.detail == {"reason": "waiting for the family's solicitor"}
    assert event.summary == "Suspended: waiting for the family's solicitor"
