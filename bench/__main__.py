"""Headline benchmark (issue 16), run on demand and never by the test suite:

    .venv/bin/python -m bench --quick --json

Builds a fresh SQLite database in a temporary folder (or uses DATABASE_URL, e.g. PostgreSQL), bulk-loads open tasks
(10,000 with --quick, 100,000 otherwise), serves the real app from a child process (bench/serve_app.py: gunicorn, as
`ehcflow serve` runs it, one worker process) and drives it
as a browser would, then measures the engine alone in this process. Prints one JSON object:

- step_cpu_ms_p50 / step_wall_ms_p50: server CPU (read from the server process) and client wall time for one step
  of a looping route: POST the task's form (with its CSRF token, the session cookie kept), GET the next task's page;
- age_ratio: median server CPU of the last 20 of those steps over the first 20 (the same instance growing older;
  age_ratio_mean with means);
- floor_ratio: engine-only complete-task p50 over the database's write floor p50 (one UPDATE + COMMIT of a row as
  big as a saved state, same database, same durability, same run);
- task_list_p95_ms / team_list_p95_ms / case_list_p95_ms / case_search_p95_ms (a name found among the cases) /
  case_search_none_p95_ms (a name found nowhere) / admin_list_p95_ms / admin_home_p95_ms at task_list_open_tasks open
  tasks (each with a running instance and its case), client wall time through the server;
- timers_per_s (one worker), starts_per_s (open a case and start its route), durability and the load at the time;
- stack_floor_ms, step_over_floor, engine_floor_ms, engine_over_floor: what SpiffWorkflow, Flask and SQLAlchemy cost
  for a step's share with none of EHC Flow's own work, and the step (floor_step_cpu_ms) and the engine's completion
  (floor_engine_complete_ms) over it, measured together in-process on SQLite (bench/stack_floor.py).
Progress goes to stderr. Nothing here asserts a timing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.engine_bench import add_cases, setup, timer_throughput
from bench.headline import complete_with_sizes, durability, p, starts_per_second, write_floor
from bench.http_loop import Browser, Server, page_times, step_loop
from bench.people import PASSWORD, looping_instance, people
from bench.stack_floor import headline_figures
from engine.runtime.workflow_engine import WorkflowEngine


def _say(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _http(url: str, workdir: Path, engine: WorkflowEngine, la_id: int, steps: int, samples: int,
          series: str | None, kind: str) -> dict[str, float]:
    worker_email, admin_email = people(engine, la_id)
    instance_id, warm_id = looping_instance(engine, la_id), looping_instance(engine, la_id)
    server = Server(url, workdir, kind)
    try:
        worker, admin = Browser(server.port), Browser(server.port)
        worker.sign_in(worker_email, PASSWORD)
        admin.sign_in(admin_email, PASSWORD)
        # Warm the server (templates compiled, caches filled) on another instance, so that the measured instance's
        # first steps show its youth rather than the server's first requests.
        step_loop(server, worker, engine, warm_id, 10)
        _say(f"HTTP loop: {steps} steps")
        step = step_loop(server, worker, engine, instance_id, steps)
        _say(f"list pages: {samples} samples each")
        lists = {name: page_times(browser, path, samples) for name, browser, path in (
            ("task_list", worker, "/tasks/"), ("team_list", worker, "/tasks/team"), ("case_list", worker, "/cases/"),
            # A name found among the cases (a dozen at 100,000) and one found nowhere (the worst case for a scan).
            ("case_search", worker, "/cases/?q=child4242"), ("case_search_none", worker, "/cases/?q=nobody"),
            ("admin_list", admin, "/admin/instances"), ("admin_home", admin, "/admin/"))}
        worker.close()
        admin.close()
    finally:
        server.stop()
    cpu = step["process_cpu"]
    if series:
        Path(series).write_text(json.dumps(step))
    return {
        "step_cpu_ms_p50": p(cpu, 50), "step_cpu_ms_p95": p(cpu, 95),
        "step_app_cpu_ms_p50": p(step["app_cpu"], 50),
        "step_wall_ms_p50": p(step["wall"], 50), "step_wall_ms_p95": p(step["wall"], 95),
        # Medians of each 20: one step caught by another process on the shared machine would move a mean by 5%.
        "age_ratio": round(statistics.median(cpu[-20:]) / statistics.median(cpu[:20]), 3),
        "age_ratio_mean": round(statistics.mean(cpu[-20:]) / statistics.mean(cpu[:20]), 3),
        "age_ratio_wall": round(statistics.median(step["wall"][-20:]) / statistics.median(step["wall"][:20]), 3),
        "steps": steps,
        **{f"{name}_p50_ms": p(values, 50) for name, values in lists.items()},
        **{f"{name}_p95_ms": p(values, 95) for name, values in lists.items()},
        "list_samples": samples,
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="10,000 open tasks and fewer samples (well under 5 minutes)")
    parser.add_argument("--json", action="store_true", help="print the JSON object on one line")
    parser.add_argument("--open-tasks", type=int, help="open tasks to bulk-load (default 10,000 quick, 100,000 full)")
    parser.add_argument("--steps", type=int, default=200, help="HTTP steps through the looping route (at least 40)")
    parser.add_argument("--keep", action="store_true", help="keep the run's folder (database, server log)")
    parser.add_argument("--series", help="also write each step's figures (ms) to this JSON file")
    parser.add_argument("--server", choices=("gunicorn", "werkzeug"), default="gunicorn",
                        help="serve the app as `ehcflow serve` does (gunicorn, default) or with Werkzeug's server")
    args = parser.parse_args()
    # Everything the run writes (the SQLite database, the server's instance folder and log) goes in one folder,
    # removed at the end unless --keep.
    workdir = Path(tempfile.mkdtemp(prefix="ehcflow-bench-"))
    try:
        figures = _run(args, workdir)
    finally:
        if args.keep:
            print(f"kept {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps(figures) if args.json else json.dumps(figures, indent=2))


def _run(args: argparse.Namespace, workdir: Path) -> dict[str, object]:
    open_tasks = args.open_tasks or (10_000 if args.quick else 100_000)
    steps, samples = max(40, args.steps), (20 if args.quick else 50)
    engine_samples, timers, starts = (100, 200, 200) if args.quick else (200, 300, 300)
    began = time.perf_counter()
    load_before = os.getloadavg()
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{workdir}/bench.sqlite3"
    engine, la_id = setup(url)
    db = engine.session_factory.kw["bind"]
    figures: dict[str, object] = {**durability(db), "database": db.dialect.name}
    _say(f"bulk-loading {open_tasks:,} open tasks ({figures['durability']})")
    add_cases(engine, la_id, open_tasks)
    figures["task_list_open_tasks"] = open_tasks
    figures["server"] = args.server
    figures.update(_http(url, workdir, engine, la_id, steps, samples, args.series, args.server))

    _say(f"engine complete-task and write floor: {engine_samples} samples each")
    complete, state_size = complete_with_sizes(engine, la_id, engine_samples)
    floor = write_floor(db, state_size, engine_samples)
    figures.update({"complete_task_ms_p50": p(complete, 50), "complete_task_ms_p95": p(complete, 95),
                    "write_floor_ms_p50": p(floor, 50), "write_floor_bytes": state_size,
                    "floor_ratio": round(percentile_ratio(complete, floor), 3)})
    _say(f"starts ({starts}) and timers ({timers})")
    figures["starts_per_s"] = round(starts_per_second(engine, la_id, starts), 1)
    figures["timers_per_s"] = round(timer_throughput(engine, la_id, timers), 1)
    _say("the stack's floor under the step (in-process, SQLite)")
    (workdir / "floor").mkdir()
    figures.update(headline_figures(workdir / "floor", 150 if args.quick else 300))

    figures.update({
        "machine": f"{platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "when": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "seconds": round(time.perf_counter() - began, 1),
    })
    return figures


def percentile_ratio(values: list[float], floor: list[float]) -> float:
    """Median over median: the two sets are measured back to back, so a busy spell on the shared machine touches
    both less than it would a mean."""
    return statistics.median(values) / statistics.median(floor)


if __name__ == "__main__":
    main()
