"""Scenario files: the process owner's way to test a route before deploying it."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.registry import ProcessRegistry
from engine.scenarios import ScenarioError, load_scenario, run_scenario
from webui.cli import main

DATA = Path(__file__).parent / "data"
SCENARIO = DATA / "scenarios" / "runtime_demo_missed.yaml"


def registry() -> ProcessRegistry:
    return ProcessRegistry.from_files([DATA / "runtime_demo.bpmn"], DATA / "forms")


def test_a_passing_scenario_reports_every_step() -> None:
    result = run_scenario(load_scenario(SCENARIO), registry(), "missed")
    assert result.passed, [(s.description, s.message) for s in result.steps]
    assert [s.description for s in result.steps][:3] == ["start", "complete UT_register",
                                                        "expect deadline_status, deadlines, tasks_open"]


def test_a_failing_expectation_says_what_differs(tmp_path: Path) -> None:
    text = SCENARIO.read_text().replace('deadlines: {decide: "2026-04-13"}', 'deadlines: {decide: "2026-04-14"}')
    path = tmp_path / "wrong.yaml"
    path.write_text(text)
    result = run_scenario(load_scenario(path), registry(), "wrong")
    assert not result.passed
    failed = [s for s in result.steps if not s.passed]
    assert [s.number for s in failed] == [3]
    assert failed[0].message == "deadline decide: expected 2026-04-14, found 2026-04-13"


def test_a_missing_task_stops_the_run_with_the_open_tasks_listed(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("process: runtime_demo\nsteps:\n  - start: {explode: false}\n  - complete: UT_nope\n"
                    "  - expect: {ended: true}\n")
    result = run_scenario(load_scenario(path), registry(), "s")
    assert [s.passed for s in result.steps] == [True, False]
    assert result.steps[1].message == "no open task UT_nope; open tasks: UT_register"


@pytest.mark.parametrize(("text", "message"), [
    ("process: [", "not valid YAML at line 1"),
    ("steps: []", "needs 'process'"),
    ("process: x\nsteps: [{start: {}, expect: {}}]", "exactly one of"),
])
def test_bad_scenario_files_are_refused_clearly(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioError, match=message):
        load_scenario(path)


def test_cli_runs_scenarios(tmp_path: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(main, ["workflows", "test", str(SCENARIO), "--workflows", str(DATA), "--forms",
                              str(DATA / "forms")])
    assert ok.exit_code == 0, ok.output
    assert "passed" in ok.output and "ok    2. complete UT_register" in ok.output
    bad = tmp_path / "bad.yaml"
    bad.write_text(SCENARIO.read_text().replace("tasks_open: [UT_escalation]", "tasks_open: []"))
    failed = runner.invoke(main, ["workflows", "test", str(bad), "--workflows", str(DATA), "--forms",
                                  str(DATA / "forms")])
    assert failed.exit_code == 1
    assert "FAIL  7. expect ended, tasks_open: tasks open: expected [], found ['UT_escalation']" in failed.output
