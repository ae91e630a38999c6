"""The projection's own walks of a workflow's tasks (engine/runtime/task_tree.all_tasks, projection.Snapshot.of) find
what SpiffWorkflow's ``get_tasks`` finds, in its order, on the shipped routes, call activities included."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow

from engine.authoring.scenarios import load_scenario, run_scenario
from engine.library.registry import ProcessRegistry
from engine.runtime import projection
from tests.conftest import real_routes

SCENARIOS = sorted((Path(__file__).resolve().parents[2] / "scenarios").glob("*.yaml"))


@pytest.fixture(scope="module")
def registry() -> ProcessRegistry:
    return real_routes()


def test_the_walks_agree_with_spiffworkflow_on_the_shipped_scenarios(registry: ProcessRegistry,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[dict[str, Any]] = []
    fast_walk, fast_snapshot = projection.all_tasks, projection.Snapshot.of.__func__

    def checked_walk(wf: BpmnWorkflow) -> list[Any]:
        walked = fast_walk(wf)
        seen.append({"same": [t.id for t in walked] == [t.id for t in wf.get_tasks()],
                     "subprocesses": len(wf.subprocesses), "tasks": len(walked)})
        return walked

    def checked_snapshot(cls: type[projection.Snapshot], wf: BpmnWorkflow) -> projection.Snapshot:
        taken = fast_snapshot(cls, wf)
        # Every task the tree walk finds is in the snapshot with its state (it may hold more, never less).
        seen.append({"same": all(taken.states.get(t.id) == t.state for t in wf.get_tasks()),
                     "subprocesses": len(wf.subprocesses), "tasks": len(taken.states)})
        return taken

    monkeypatch.setattr(projection, "all_tasks", checked_walk)
    monkeypatch.setattr(projection.Snapshot, "of", classmethod(checked_snapshot))
    for path in SCENARIOS:
        result = run_scenario(load_scenario(path), registry, path.name)
        assert result.passed, path.name
    assert seen and all(check["same"] for check in seen), [c for c in seen if not c["same"]][:3]
    # The shipped routes' call activities were walked into, not only flat workflows.
    assert any(check["subprocesses"] for check in seen)
