"""Scenario runs from the process owners' pages: a scenario typed or uploaded as text, run against a deployed version
or against uploaded files that are not deployed yet.

The scenario runner (engine/authoring/scenarios.py) deploys the files into a throw-away SQLite database in a
temporary folder, with its own people and case, so a run never touches the real database; scripts run in the same
sandbox as in production. The sandbox limits what a script may call, not how long it runs or how much memory it takes, and a
route that loops through script tasks never waits: so the run happens in a process of its own, started afresh
(nothing of the web worker, its database connections included, is inherited), killed after ``MAX_SECONDS`` and
limited to ``MAX_MEMORY`` bytes. The web worker waits for it, never longer than that, and runs at most
``MAX_RUNS_AT_ONCE`` at a time.
"""

from __future__ import annotations

import multiprocessing
import shutil
import tempfile
import threading
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from engine.authoring.deployments import registry_of_files
from engine.authoring.scenarios import ScenarioError, ScenarioResult, load_scenario, run_scenario
from engine.library.registry import RegistryError
from engine.store.models import ProcessVersion

MAX_SCENARIO_BYTES = 200 * 1024
MAX_STEPS = 500
MAX_SECONDS = 20  # the shipped scenarios take a second or two each; under the usual 30 seconds of a web worker
# The run's own limit on processor time, which the kernel enforces: a run goes even when the web worker waiting for it
# is killed first (by its server's timeout) and cannot kill the run.
MAX_CPU_SECONDS = MAX_SECONDS + 5
MAX_MEMORY = 2 * 1024 * 1024 * 1024  # address space of the run's process
MAX_MESSAGE = 2000  # characters of a step's message
MAX_RUNS_AT_ONCE = 2  # per web process: each run is a process that may use a processor and MAX_MEMORY to the full
_runs = threading.BoundedSemaphore(MAX_RUNS_AT_ONCE)


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
            scenario = load_scenario(path)
        except ScenarioError as exc:
            raise ScenarioError(str(exc).replace(str(path), name)) from None
    if len(scenario["steps"]) > MAX_STEPS:
        raise ScenarioError(f"{name}: a scenario may have at most {MAX_STEPS} steps; split it into several")
    return scenario


def files_of_version(version: ProcessVersion) -> dict[str, str]:
    """The files a deployed version was built from ('workflows/x.bpmn', 'forms/y.json')."""
    return dict(version.files or {})


def run_against(scenario: dict, files: dict[str, str], name: str) -> ScenarioResult:
    """Runs the scenario against the files in a process of its own; a run that does not finish in time, runs out of
    memory or is written in a way the runner cannot follow (a typed scenario can say anything) is reported as a
    ScenarioError rather than an error page or a worker that never answers."""
    if not _runs.acquire(blocking=False):
        raise ScenarioError(f"{MAX_RUNS_AT_ONCE} scenarios are running already; try again in a minute")
    try:
        return _run_in_a_process(scenario, files, name)
    finally:
        _runs.release()


def _run_in_a_process(scenario: dict, files: dict[str, str], name: str) -> ScenarioResult:
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    # The run's temporary files go in a folder of this process's making, so that they are removed even when the run
    # is killed before it could remove them itself.
    tmp = tempfile.mkdtemp(prefix="ehcflow-scenario-run-")
    process = context.Process(target=_child, args=(scenario, files, name, sender, tmp, MAX_CPU_SECONDS), daemon=True)
    try:
        process.start()
        sender.close()
        if not receiver.poll(MAX_SECONDS):
            raise ScenarioError(f"{name}: the scenario was stopped after {MAX_SECONDS} seconds; a route that loops "
                                f"through script tasks without waiting, or a timer that repeats very often over a "
                                f"long advance of the clock, never ends")
        try:
            outcome, value = receiver.recv()
        except EOFError:
            raise ScenarioError(f"{name}: the scenario run stopped without a result (it ran out of memory or of "
                                f"processor time)") from None
    finally:
        receiver.close()
        sender.close()
        try:
            if process.pid is not None:  # it started
                process.kill()
                process.join()
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    if outcome == "error":
        raise ScenarioError(value)
    return value  # type: ignore[no-any-return]


def _child(scenario: dict, files: dict[str, str], name: str, sender: Connection, tmp: str, cpu_seconds: int) -> None:
    """The run itself, in its own process (see the module's docstring)."""
    tempfile.tempdir = tmp
    try:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (MAX_MEMORY, MAX_MEMORY))
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
    except (ImportError, ValueError, OSError):  # pragma: no cover - not on Linux; the web worker's limit still holds
        pass
    outcome: tuple[str, Any]
    try:
        result = run_scenario(scenario, registry_of_files(files), name)
        for step in result.steps:  # a message can quote data a script made, of any size
            if len(step.message) > MAX_MESSAGE:
                step.message = step.message[:MAX_MESSAGE] + "…"
        outcome = ("result", result)
    except MemoryError:
        outcome = ("error", f"{name}: the scenario run ran out of memory (a run may use "
                            f"{MAX_MEMORY // (1024 * 1024 * 1024)}GB)")
    except RegistryError as exc:  # pragma: no cover - the files were checked before they were deployed or kept
        outcome = ("error", str(exc))
    except Exception as exc:  # noqa: BLE001 - e.g. `advance: {fortnights: 1}` or `start: a text`
        outcome = ("error", f"{name}: the scenario could not be run: {type(exc).__name__}: {exc}")
    try:
        sender.send(outcome)
    except MemoryError:  # pragma: no cover - a result too large to send
        sender.send(("error", f"{name}: the scenario run ran out of memory"))
    finally:
        sender.close()
