"""The saved state holds the spec by reference and only the live part of the task tree, so it stays flat with age."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from engine.library.registry import ProcessRegistry
from engine.runtime.services import Services
from engine.store.models import Deadline, HumanTask, ProcessInstance
from tests.conftest import World

BENCH = Path(__file__).resolve().parent.parent.parent / "bench" / "data"


def test_looping_route_state_stays_flat_and_still_runs_correctly(services: Services, world: World) -> None:
    engine = services.engine
    engine.deploy(ProcessRegistry.from_texts({"workflows/looping.bpmn": (BENCH / "looping.bpmn").read_text()}, BENCH))
    iid = engine.start(world.case_id, "looping", {"steps": 0, "limit": 40})
    sizes = []
    for step in range(40):
        with services.session_factory() as s:
            task_id = s.scalars(select(HumanTask.id).where(HumanTask.instance_id == iid,
                                                           HumanTask.status == "open")).one()
        if step == 20:
            # A boundary timer armed before the history was pruned still fires afterwards.
            engine.clock.set(datetime(2027, 3, 2, 9, tzinfo=UTC))  # started_on + 52 weeks = 1 March 2027
            assert engine.fire_due_timers() == 1
        engine.complete_task(task_id, {"note": f"step {step}"})
        with services.session_factory() as s:
            instance = s.get(ProcessInstance, iid)
            sizes.append(len(instance.state))
            if instance.status != "completed":
                wf = engine.load_workflow(instance)  # restores
                assert engine.serializer.dumps(wf) == instance.state
    assert sizes[-2] < sizes[5] * 1.5, sizes  # no growth with age
    with services.session_factory() as s:
        instance = s.get(ProcessInstance, iid)
        assert instance.status == "completed"
        assert len(s.scalars(select(HumanTask).where(HumanTask.instance_id == iid,
                                                     HumanTask.status == "completed")).all()) == 40
        # The deadline is re-armed each time round the loop, due 1 March 2027. Steps 0-19 are done before then: met.
        # At step 20 the clock passes it: that one fires (missed), and every later round arms a deadline already
        # past, which is missed at once.
        statuses = [d.status for d in s.scalars(select(Deadline).order_by(Deadline.id))]
        assert statuses == ["met"] * 20 + ["missed"] * 20
