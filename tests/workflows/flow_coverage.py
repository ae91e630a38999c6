"""Flow coverage of a route: which flow nodes and sequence flows the scenario tests made the engine go through.

The nodes and flows come from the BPMN files; what was visited is read from the workflow state saved after every
engine command (the tests record it after each step). A flow node counts when a task of it COMPLETED; a sequence
flow from A to B counts when a completed task of A is the nearest BPMN ancestor of a task of B that was reached
(completed, ready, started or waiting): the SpiffWorkflow task tree keeps, for every task, the task that led to it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
FLOW_NODE_TAGS = {
    "startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent", "task",
    "userTask", "manualTask", "scriptTask", "serviceTask", "sendTask", "receiveTask", "businessRuleTask",
    "callActivity", "subProcess", "exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway",
}
REACHED = TaskState.COMPLETED | TaskState.READY | TaskState.STARTED | TaskState.WAITING


@dataclass
class FlowCoverage:
    nodes: dict[tuple[str, str], str] = field(default_factory=dict)  # (process, id) -> name
    flows: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)  # (process, id) -> (source, target)
    visited_nodes: set[tuple[str, str]] = field(default_factory=set)
    visited_flows: set[tuple[str, str]] = field(default_factory=set)
    tests: set[str] = field(default_factory=set)

    @classmethod
    def from_files(cls, paths: list[Path]) -> FlowCoverage:
        coverage = cls()

        def collect(container: etree._Element, pid: str) -> None:
            for element in container:
                tag = etree.QName(element).localname
                if tag in FLOW_NODE_TAGS:
                    coverage.nodes[(pid, element.get("id"))] = element.get("name") or ""
                    if tag == "subProcess":  # an embedded sub-process runs as a workflow named after its id
                        collect(element, element.get("id"))
                elif tag == "sequenceFlow":
                    coverage.flows[(pid, element.get("id"))] = (element.get("sourceRef"), element.get("targetRef"))

        for path in paths:
            for process in etree.parse(str(path)).iter(f"{{{BPMN}}}process"):
                collect(process, process.get("id"))
        return coverage

    def _flow_index(self) -> dict[tuple[str, str, str], str]:
        return {(pid, src, tgt): fid for (pid, fid), (src, tgt) in self.flows.items()}

    def record(self, wf: BpmnWorkflow, test: str) -> None:
        self.tests.add(test)
        index = self._flow_index()
        for task in wf.get_tasks():
            spec = task.task_spec
            if not spec.bpmn_id:
                continue
            pid = task.workflow.spec.name
            if task.has_state(TaskState.COMPLETED) and (pid, spec.bpmn_id) in self.nodes:
                self.visited_nodes.add((pid, spec.bpmn_id))
            if not task.has_state(REACHED):
                continue
            parent = task.parent
            while parent is not None and not parent.task_spec.bpmn_id:
                parent = parent.parent
            if parent is None or not parent.has_state(TaskState.COMPLETED):
                continue
            flow = index.get((pid, parent.task_spec.bpmn_id, spec.bpmn_id))
            if flow is not None:
                self.visited_flows.add((pid, flow))

    def missing_nodes(self) -> list[tuple[str, str]]:
        return sorted(set(self.nodes) - self.visited_nodes)

    def missing_flows(self) -> list[tuple[str, str]]:
        return sorted(set(self.flows) - self.visited_flows)

    def report(self) -> list[str]:
        by_process: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
        for key in self.nodes:
            by_process[key[0]][1] += 1
            by_process[key[0]][0] += key in self.visited_nodes
        for key in self.flows:
            by_process[key[0]][3] += 1
            by_process[key[0]][2] += key in self.visited_flows
        lines = [f"flow coverage over {len(self.tests)} scenario tests:"]
        for pid, (nv, nt, fv, ft) in sorted(by_process.items()):
            lines.append(f"  {pid}: flow nodes {nv}/{nt} ({100 * nv // max(nt, 1)}%), "
                         f"sequence flows {fv}/{ft} ({100 * fv // max(ft, 1)}%)")
        for pid, node in self.missing_nodes():
            lines.append(f"  not visited: {pid} node {node} ({self.nodes[(pid, node)]})")
        for pid, flow in self.missing_flows():
            src, tgt = self.flows[(pid, flow)]
            lines.append(f"  not visited: {pid} flow {flow} ({src} -> {tgt})")
        return lines


# The routes whose coverage the tests record, by name; tests/workflows/conftest.py prints them at the end of a run.
REGISTRY: dict[str, FlowCoverage] = {}


def register(name: str, paths: list[Path]) -> FlowCoverage:
    if name not in REGISTRY:
        REGISTRY[name] = FlowCoverage.from_files(paths)
    return REGISTRY[name]


def check_whole_module_covered(request: Any, coverage: FlowCoverage, module_globals: dict[str, Any]) -> None:
    """For a module's last test: when every scenario test of the module (those using the ``route`` fixture) ran in
    this session, every flow node and sequence flow of its route was visited; a partial run skips, saying so."""
    scenarios = {item.name for item in request.session.items
                 if item.module is request.module and item.name != request.node.name and "route" in item.fixturenames}
    everything = {name for name, value in module_globals.items() if name.startswith("test_") and callable(value)
                  and "route" in value.__code__.co_varnames[:value.__code__.co_argcount]}
    if scenarios != everything:
        pytest.skip("run the whole module to check the flow coverage")
    assert not coverage.missing_nodes(), "\n".join(coverage.report())
    assert not coverage.missing_flows(), "\n".join(coverage.report())
