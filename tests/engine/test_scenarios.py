"""Scenario files: the process owner's way to test a route before deploying it."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.authoring.scenarios import ScenarioError, load_scenario, run_scenario
from engine.library.registry import ProcessRegistry
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


def test_a_step_of_the_wrong_shape_fails_with_its_number_not_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("process: runtime_demo\nsteps:\n  - start: {explode: false}\n  - advance: {fortnights: 1}\n"
                    "  - advance: [1, 2]\n")
    result = run_scenario(load_scenario(path), registry(), "s")
    assert [(s.number, s.passed) for s in result.steps] == [(1, True), (2, False)]
    assert result.steps[1].description == "advance the clock 1 fortnights"
    assert result.steps[1].message.startswith("this step is not written as engine/authoring/scenarios.py describes: ")
    assert "fortnights" in result.steps[1].message


def test_advancing_to_a_moment_is_described_as_such(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("process: runtime_demo\nsteps:\n  - start: {explode: false}\n"
                    "  - advance: {to: '2026-05-01T09:00:00+00:00'}\n")
    result = run_scenario(load_scenario(path), registry(), "s")
    assert result.passed
    assert result.steps[1].description == "advance the clock to 2026-05-01T09:00:00+00:00"


def test_a_route_started_by_its_message_can_be_expected_to_run_on(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    path = tmp_path / "s.yaml"
    path.write_text("process: disagreement_resolution\nclock: '2026-03-02T10:00:00+00:00'\nsteps:\n"
                    "  - message: appealable_decision_notified\n"
                    "    payload: {decision: refuse_assess, notice_sent_on: '2026-03-02'}\n"
                    "  - expect: {ended: false, tasks_open: [UT_adviser_contact]}\n")
    workflows = ProcessRegistry.from_files(sorted((root / "workflows").glob("*.bpmn")), root / "forms")
    result = run_scenario(load_scenario(path), workflows, "s")
    assert result.passed, [(s.description, s.message) for s in result.steps]
