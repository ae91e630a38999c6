"""CPU per engine command, without HTTP: opening a case and starting its route, completing a task, and firing a
route's due timer.

    .venv/bin/python -m bench.command_cpu --routes 400

Starts ``--routes`` runtime_demo routes (after 20 as a warm-up), each on its own case, in a fresh SQLite database
in a temporary folder (or DATABASE_URL), completes each route's first task (the first 20 as a warm-up), then moves
the clock past their decision deadlines and fires them all with one worker. Prints the process CPU time and the wall
time per start, per completion and per firing. Nothing here asserts a timing.
"""

from __future__ import annotations

import argparse
import os
import time

from bench.engine_bench import first_tasks, setup
from engine.statutory.clock import FrozenClock

WARM = 20


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.command_cpu", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--routes", type=int, default=400)
    args = parser.parse_args()
    engine, la_id = setup(os.environ.get("DATABASE_URL"))
    first_tasks(engine, la_id, WARM, "Warm")
    cpu, wall = time.process_time(), time.perf_counter()
    tasks = first_tasks(engine, la_id, args.routes, "Route")
    print(f"open a case and start its route (and read its first task's id): "
          f"{(time.process_time() - cpu) / args.routes * 1000:.2f} ms CPU, "
          f"{(time.perf_counter() - wall) / args.routes * 1000:.2f} ms wall ({args.routes} routes)")
    for task_id in tasks[:WARM]:
        engine.complete_task(task_id, {"concern": "benchmark"})
    cpu, wall = time.process_time(), time.perf_counter()
    for task_id in tasks[WARM:]:
        engine.complete_task(task_id, {"concern": "benchmark"})
    done = len(tasks) - WARM
    print(f"complete a task: {(time.process_time() - cpu) / done * 1000:.2f} ms CPU, "
          f"{(time.perf_counter() - wall) / done * 1000:.2f} ms wall ({done} completions)")
    assert isinstance(engine.clock, FrozenClock)
    engine.clock.advance(weeks=10)
    cpu, wall, fired = time.process_time(), time.perf_counter(), 0
    while count := engine.fire_due_timers(limit=50):
        fired += count
    print(f"fire a due timer: {(time.process_time() - cpu) / fired * 1000:.2f} ms CPU, "
          f"{(time.perf_counter() - wall) / fired * 1000:.2f} ms wall ({fired} routes)")


if __name__ == "__main__":
    main()
