"""The scenario files shipped in scenarios/ pass against the project's own routes, as
`ehcflow workflows test scenarios/<file>` runs them, so a process owner can copy one and start from a passing test."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.authoring.scenarios import load_scenario, run_scenario
from engine.library.registry import ProcessRegistry
from tests.conftest import real_routes

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted((ROOT / "scenarios").glob("*.yaml"))


@pytest.fixture(scope="module")
def registry() -> ProcessRegistry:
    return real_routes()


def test_scenarios_are_shipped() -> None:
    assert len(SCENARIOS) >= 4, "scenarios/ should hold a scenario for each main route"


@pytest.mark.parametrize("path", SCENARIOS, ids=[p.name for p in SCENARIOS])
def test_each_shipped_scenario_passes(registry: ProcessRegistry, path: Path) -> None:
    scenario = load_scenario(path)
    result = run_scenario(scenario, registry, path.name)
    failures = [f"{s.number}. {s.description}: {s.message}" for s in result.steps if not s.passed]
    assert result.passed, "\n".join(failures)
    # Every scenario checks something, not only drives the route.
    assert any("expect" in step for step in scenario["steps"])
