"""A timer behind an event-based gateway reaches the worker like any other timer.

SpiffWorkflow folds the gateway's events into one MultipleEventDefinition on the gateway task, so its timer is not
listed as a timer by ``waiting_events()``; the engine reads it from the gateway. Dates worked out by hand: from
Monday 21 December 2026, five working days are 22, 23, 24, 29 and 30 December (25 December is Christmas Day and
Monday 28 December the substitute Boxing Day), so the chase is due at the end of Wednesday 30 December, 00:00 GMT
on 31 December.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from engine.library.registry import ProcessRegistry
from engine.runtime.services import Services
from engine.runtime.worker import run_once
from engine.runtime.workflow_engine import WorkflowEngine
from engine.store.models import HumanTask, ProcessInstance, Timer
from tests.conftest import World

DATA = Path(__file__).resolve().parent / "data"
DUE = datetime(2026, 12, 31, 0, 0, tzinfo=UTC)


def _start(engine: WorkflowEngine, world: World) -> int:
    engine.deploy(ProcessRegistry.from_texts(
        {"workflows/gateway_timer.bpmn": (DATA / "gateway_timer.bpmn").read_text()}, DATA / "forms"))
    engine.clock.set(datetime(2026, 12, 21, 10, 0, tzinfo=UTC))
    return engine.start(world.case_id, "gateway_timer")


def _state(services: Services, iid: int) -> tuple[ProcessInstance, list[Timer], list[str]]:
    with services.session_factory() as s:
        instance = s.get(ProcessInstance, iid)
        timers = list(s.scalars(select(Timer).where(Timer.instance_id == iid)))
        tasks = list(s.scalars(select(HumanTask.bpmn_id).where(HumanTask.instance_id == iid,
                                                              HumanTask.status == "open")))
        s.expunge_all()
        return instance, timers, tasks


def test_the_gateway_timer_is_indexed_and_fires_on_time(services: Services, world: World) -> None:
    engine = services.engine
    iid = _start(engine, world)
    instance, timers, tasks = _state(services, iid)
    assert instance.status == "waiting_timer"
    assert instance.next_timer_due == DUE
    assert [(t.bpmn_id, t.due_at, t.status) for t in timers] == [("EBG_wait", DUE, "waiting")]
    assert tasks == []

    engine.clock.set(datetime(2026, 12, 30, 23, 59, 59, tzinfo=UTC))
    assert run_once(engine) == 0
    engine.clock.set(datetime(2026, 12, 31, 0, 0, 1, tzinfo=UTC))
    assert run_once(engine) == 1
    instance, timers, tasks = _state(services, iid)
    assert tasks == ["UT_chase"]
    assert instance.next_timer_due is None
    assert [t.status for t in timers] == ["fired"]
    assert run_once(engine) == 0


def test_a_message_first_cancels_the_gateway_timer(services: Services, world: World) -> None:
    engine = services.engine
    iid = _start(engine, world)
    engine.clock.set(datetime(2026, 12, 23, 9, 0, tzinfo=UTC))
    assert engine.send_message(world.case_id, "reply_received", {"text": "attached"}) == iid
    instance, timers, tasks = _state(services, iid)
    assert tasks == ["UT_read"]
    assert instance.next_timer_due is None
    assert [t.status for t in timers] == ["cancelled"]
    engine.clock.set(datetime(2027, 1, 5, tzinfo=UTC))
    assert run_once(engine) == 0


def test_the_route_hooks_are_registered() -> None:
    """The routes rely on these two properties doing something: without them a notice would start no appeal route."""
    from engine.casework import route_links
    from engine.runtime import projection

    assert projection._hook(projection.COMPLETION_HOOKS["startsRoute"]) is route_links.starts_route_hook
    assert projection._hook(projection.COMPLETION_HOOKS["sendsMessage"]) is route_links.sends_message_hook
