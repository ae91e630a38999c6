"""Scenario runs from the process owners' pages: a scenario typed or uploaded as text, run against a deployed version
or against uploaded files that are not deployed yet.

The scenario runner (engine/scenarios.py) deploys the files into a throw-away SQLite database in a temporary folder,
with its own people and case, so a run never touches the real database; scripts run in the same sandbox as in
production.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from engine.models import ProcessVersion
from engine.registry import ProcessRegistry, RegistryError
from engine.scenarios import ScenarioError, ScenarioResult, load_scenario, run_scenario

MAX_SCENARIO_BYTES = 200 * 1024


def parse_scenario(text: str, name: str = "the scenario") -> dict:
    """The scenario in the text, checked as ``ehcflow workflows test`` checks a file (ScenarioError says why not)."""
    if not text.strip():
        raise ScenarioError("Paste a scenario or choose a scenario file")
    if len(text.encode("utf-8")) > MAX_SCENARIO_BYTES:
        raise ScenarioError(f"A scenario must be smaller than {MAX_SCENARIO_BYTES // 1024}KB")
    with tempfile.TemporaryDirectory(prefix="ehcflow-scenario-text-") as tmp:
        path = Path(tmp) / "scenario.yaml"
        path.write_text(text, encoding="utf-8")
        try:
            return load_scenario(path)
        except ScenarioError as exc:
            raise ScenarioError(str(exc).replace(str(path), name)) from None


def registry_of_version(version: ProcessVersion) -> ProcessRegistry:
    """The processes of a deployed version, parsed again from the files it keeps."""
    files = version.files or {}
    bpmn = {n: t for n, t in files.items() if n.startswith("workflows/")}
    forms = {n[len("forms/"):]: t for n, t in files.items() if n.startswith("forms/")}
    return ProcessRegistry.from_texts(bpmn, None, forms)


def run_against(scenario: dict, registry: ProcessRegistry, name: str) -> ScenarioResult:
    """Runs the scenario; a step written in a way the runner cannot follow (a typed scenario can say anything) is
    reported as a ScenarioError rather than an error page."""
    try:
        return run_scenario(scenario, registry, name)
    except RegistryError as exc:  # pragma: no cover - the files were checked before they were deployed or kept
        raise ScenarioError(str(exc)) from exc
    except Exception as exc:  # noqa: BLE001 - e.g. `advance: {fortnights: 1}` or `start: a text`
        raise ScenarioError(f"{name}: the scenario could not be run: {type(exc).__name__}: {exc}") from exc
