"""BPMN files as outside modelers write them (bpmn.io, Camunda Modeler, Signavio): each is accepted and runs to its
end, or is refused with ``file:line: element-id: message`` lines naming the elements EHC Flow cannot run.

The corpus is tests/fixtures/outside/. An accepted file is deployed to a throw-away database and driven through the
engine (start, complete each task, send each message, move the clock) by engine/authoring/scenarios.py, which saves
and restores the instance at every command, until the instance has ended.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

from engine.authoring.scenarios import run_scenario
from engine.library.lint.checker import check_files
from engine.library.registry import ProcessRegistry

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
OUTSIDE = FIXTURES / "outside"
FORMS = FIXTURES / "forms"

# file -> (process id, the steps that drive it to its end): accepted AND runnable.
ACCEPTED: dict[str, tuple[str, list[dict[str, Any]]]] = {
    # A plain task and a manual task: tasks with no form that the lane's role marks as done.
    "bpmnio_plain_and_manual_tasks.bpmn": ("outside_plain_tasks", [
        {"start": {}},
        {"expect": {"tasks_open": ["Activity_call"]}},
        {"complete": "Activity_call"},
        {"complete": "Activity_post"},
    ]),
    # A data object and a text annotation on the diagram only, not connected to tasks.
    "bpmnio_data_objects.bpmn": ("outside_data_objects", [
        {"start": {}},
        {"complete": "Activity_send"},
    ]),
    # A non-interrupting event sub-process started by a message runs beside the main flow.
    "bpmnio_event_subprocess.bpmn": ("outside_event_subprocess", [
        {"start": {}},
        {"message": "outside_note_received", "payload": {}},
        {"expect": {"tasks_open": ["Activity_review"], "ended": False}},
        {"complete": "Activity_review"},
    ]),
    # Tuple unpacking in a script, a userTask with a form, a condition; no bpmndi section at all.
    "no_diagram_interchange.bpmn": ("outside_no_di", [
        {"start": {}},
        {"complete": "UT_review", "data": {"answer": "yes"}},
    ]),
    # A parallel multi-instance task over a list, then a sequential one with a cardinality.
    "bpmnio_multi_instance.bpmn": ("outside_multi_instance_list", [
        {"start": {}},
        {"expect": {"tasks_open": ["Task_ask", "Task_ask"]}},
        {"complete": "Task_ask"},
        {"complete": "Task_ask"},
        {"expect": {"tasks_open": ["Task_thank"]}},
        {"complete": "Task_thank"},
        {"complete": "Task_thank"},
    ]),
    # Two pools: the family's pool is not executable (diagram only); the LA's pool waits for the family's message.
    "signavio_collaboration_pools.bpmn": ("outside_pools_la", [
        {"start": {}},
        {"complete": "sid-ask"},
        {"message": "outside_views_received", "payload": {"views": "happy"}},
        {"complete": "sid-read"},
    ]),
}

# file -> the element ids refused, each on one line of its own.
REFUSED: dict[str, list[str]] = {
    "camunda_service_and_rule_tasks.bpmn": ["Task_lookup_pupil", "Task_eligibility"],
    "signavio_data_store.bpmn": ["sid-DS-case-system", "sid-assoc"],
    "bpmnio_data_associations.bpmn": ["DataOutputAssociation_1", "DataInputAssociation_1"],
    "camunda_interrupting_event_subprocess.bpmn": ["Start_withdrawn"],
    "camunda_signal.bpmn": ["Event_wait_signal"],
    "camunda_escalation.bpmn": ["Sub_escalate", "Boundary_escalated"],
    "camunda_compensation.bpmn": ["Boundary_compensate", "Task_unbook", "Event_undo"],
    "camunda_gateways_and_send_receive.bpmn": ["Task_send_letter", "Gateway_complex"],
    "camunda_transaction_adhoc_conditional.bpmn": ["Tx_payment", "AdHoc_chores", "Event_until_ready"],
    "camunda_juel_conditions.bpmn": ["Flow_adult"],
    "zeebe_feel_conditions.bpmn": ["Flow_special", "Flow_mainstream"],
    "camunda_multi_instance.bpmn": ["Task_ask"],
}

_LINE = re.compile(r"\A(?P<file>[^\n]+?):(?P<line>\d+): (?P<id>[^\s:]+): (?P<message>[^\n]+)\Z")


def test_every_corpus_file_has_an_expected_outcome() -> None:
    assert sorted(p.name for p in OUTSIDE.glob("*.bpmn")) == sorted([*ACCEPTED, *REFUSED])


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_accepted_files_run_to_their_end(name: str) -> None:
    path = OUTSIDE / name
    assert check_files([path], FORMS) == []
    process_id, steps = ACCEPTED[name]
    registry = ProcessRegistry.from_files([path], FORMS)
    result = run_scenario({"process": process_id, "steps": [*steps, {"expect": {"ended": True}}]}, registry, name)

    assert result.passed, [(s.description, s.message) for s in result.steps if not s.passed]


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_refused_files_name_each_element_on_one_line(name: str) -> None:
    path = OUTSIDE / name
    problems = check_files([path], FORMS)

    lines = [str(problem) for problem in problems]
    for line in lines:
        match = _LINE.match(line)
        assert match, f"not a file:line: id: message line: {line!r}"
        assert match.group("file") == str(path)
        assert "SpiffWorkflow" not in line and "Error(" not in line, line
    assert sorted(p.element_id or "" for p in problems) == sorted(REFUSED[name]), "\n".join(lines)
    assert all("not supported" in p.message for p in problems), "\n".join(lines)
    tree = etree.parse(str(path))
    for problem in problems:
        [element] = tree.xpath("//*[@id=$id]", id=problem.element_id)
        last = max(e.sourceline for e in element.iter())
        assert problem.line is not None and element.sourceline <= problem.line <= last, str(problem)
