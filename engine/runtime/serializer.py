"""Instance state serialization that keeps the process spec out of every instance.

SpiffWorkflow's default workflow converter embeds the whole spec in each serialized instance (half or more of its
size). Specs are stored once per process version instead; an instance's state names its spec and is restored with the
spec object of the exact version it runs on, which the caller supplies.
"""

from __future__ import annotations

import contextlib
import contextvars
import copy
import json
from collections.abc import Iterator
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.util.task import TaskState

SpecPair = tuple[Any, dict[str, Any]]
_specs_for_restore: contextvars.ContextVar[SpecPair | None] = contextvars.ContextVar("ehcflow_specs", default=None)


# Finished history kept above the point where the live branches meet. SpiffWorkflow looks a few levels up from a
# task (boundary-event splits, gateways), never to the start of a long loop; the audit trail keeps the history.
KEEP_ANCESTORS = 8


def history_to_drop(workflow: BpmnWorkflow) -> set[UUID]:
    """Finished tasks above the live part of the tree, which the workflow will never look at again.

    SpiffWorkflow keeps every completed task, so without this a looping route's state (and the cost of every step)
    grows with its age. The live tasks (waiting, ready, predicted) all descend from one lowest common ancestor; the
    finished chain above it, less a margin of KEEP_ANCESTORS, is dropped.
    """
    root = workflow.task_tree
    if root is None or workflow.is_completed():
        return set()
    live_below: dict[UUID, bool] = {}
    order: list[Any] = []
    stack = [root]
    while stack:
        task = stack.pop()
        order.append(task)
        stack.extend(task.children)
    for task in reversed(order):
        live_below[task.id] = not task.has_state(TaskState.FINISHED_MASK) or any(
            live_below[child.id] for child in task.children)
    node = root
    while not node.has_state(TaskState.NOT_FINISHED_MASK):
        live_children = [child for child in node.children if live_below[child.id]]
        if len(live_children) != 1:
            break
        node = live_children[0]
    for _ in range(KEEP_ANCESTORS):
        if node.parent is None:
            return set()
        node = node.parent
    keep: set[UUID] = set()
    stack = [node]
    while stack:
        task = stack.pop()
        keep.add(task.id)
        stack.extend(task.children)
    return set(workflow.tasks) - keep


class SpecByReferenceConverter(BpmnWorkflowConverter):
    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dropped = history_to_drop(workflow)
        if dropped:
            dct = self._pruned(workflow, dropped)
        else:
            dct = WorkflowConverter.to_dict(self, workflow)
        dct["spec"] = workflow.spec.name
        dct["subprocess_specs"] = sorted(workflow.subprocess_specs)
        dct["subprocesses"] = {str(k): self.registry.convert(v) for k, v in workflow.subprocesses.items()
                               if k not in dropped}
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def _pruned(self, workflow: BpmnWorkflow, dropped: set[UUID]) -> dict[str, Any]:
        tasks = {str(tid): self.registry.convert(task) for tid, task in workflow.tasks.items() if tid not in dropped}
        new_root = next(task for tid, task in workflow.tasks.items()
                        if tid not in dropped and (task.parent is None or task.parent.id in dropped))
        # The new root carries its whole data: the others store a delta against their parent.
        root_dict = tasks[str(new_root.id)]
        root_dict["parent"] = None
        root_dict["data"] = self.registry.convert(self.registry.clean(new_root.data))
        root_dict["delta"] = {}
        last = workflow.last_task
        return {
            "data": self.registry.convert(self.registry.clean(workflow.data)),
            "correlations": workflow.correlations,
            "last_task": str(last.id) if last is not None and last.id not in dropped else None,
            "success": workflow.success,
            "completed": workflow.completed,
            "tasks": tasks,
            "root": str(new_root.id),
        }

    def from_dict(self, dct: dict[str, Any]) -> BpmnWorkflow:
        specs = _specs_for_restore.get()
        if specs is None:
            raise RuntimeError("restoring an instance needs its process version's specs")
        spec, subprocess_specs = specs
        name = dct.pop("spec")
        if name != spec.name:
            raise RuntimeError(f"state is for process {name!r} but the version supplied is for {spec.name!r}")
        dct.pop("subprocess_specs", None)
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _config() -> dict[Any, Any]:
    config = dict(SPIFF_CONFIG)  # a copy: the library's global config must stay as it is
    config[BpmnWorkflow] = SpecByReferenceConverter
    return config


class StateSerializer:
    """Serializes instances without their spec, and specs on their own."""

    def __init__(self) -> None:
        self._instances = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(_config()))
        self._specs = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(dict(SPIFF_CONFIG)))
        # The full serializer, for comparisons in the benchmarks.
        self.embedded = self._specs

    @property
    def spec_registry(self) -> Any:
        """The converter registry, which SpiffWorkflow's spec diff uses to compare task specs."""
        return self._specs.registry

    @property
    def version(self) -> str:
        return self._instances.VERSION

    def dumps(self, workflow: BpmnWorkflow) -> str:
        return self._instances.serialize_json(workflow)

    def loads(self, state: str, spec: Any, subprocess_specs: dict[str, Any]) -> BpmnWorkflow:
        with _restoring_with((spec, subprocess_specs)):
            return self._instances.deserialize_json(state)

    def restore_value(self, value: Any) -> Any:
        """A piece of saved task data as restoring the state would give it back, or the error restoring it raises:
        a dict holding ``typename`` is taken for one of SpiffWorkflow's serialized objects (an unknown name, or a
        known one without its fields, fails). Used to find what makes a damaged state unreadable."""
        return self._instances.registry.restore(copy.deepcopy(value))

    def dump_specs(self, spec: Any, subprocess_specs: dict[str, Any]) -> str:
        return json.dumps(
            {
                "spec": self._specs.to_dict(spec),
                "subprocess_specs": {name: self._specs.to_dict(s) for name, s in subprocess_specs.items()},
            }
        )

    def load_specs(self, text: str) -> SpecPair:
        dct = json.loads(text)
        spec = self._specs.from_dict(dct["spec"])
        subs = {name: self._specs.from_dict(s) for name, s in dct["subprocess_specs"].items()}
        return spec, subs


@contextlib.contextmanager
def _restoring_with(specs: SpecPair) -> Iterator[None]:
    token = _specs_for_restore.set(specs)
    try:
        yield
    finally:
        _specs_for_restore.reset(token)
