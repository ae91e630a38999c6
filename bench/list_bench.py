"""The list queries alone, without HTTP (issue 16: lists under 100 ms p95 at 100,000 open tasks):

    .venv/bin/python -m bench.list_bench --open-tasks 100000 --samples 30

Bulk-loads the open tasks as ``python -m bench`` does (into a fresh SQLite database in a temporary folder, or into
DATABASE_URL), then times each list query through the engine functions the pages call, each in a fresh session:
"My tasks" and "Team tasks" (first page, page 40, a status filter, a search, sorted by child), the case list and a
search, the admin instance list (all, the overdue filter) and the admin home counts. Prints a Markdown table of
p50 and p95 in milliseconds. Nothing here asserts a timing.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from bench.engine_bench import add_cases, percentile, setup
from engine.admin.instance_admin import InstanceFilters, admin_counts, instance_list
from engine.lists.cases import case_list
from engine.lists.tasks import TaskFilters, task_list
from engine.people.roles import Role
from engine.people.users import create_user
from engine.runtime.workflow_engine import WorkflowEngine
from engine.store.models import Organisation


def _caseworker(engine: WorkflowEngine, la_id: int) -> int:
    with engine.session_factory() as s:
        la = s.get(Organisation, la_id)
        user = create_user(s, "lists@bench.example", "List Reader", "bench-password-not-secret", engine.clock,
                           [(la, Role.CASEWORKER)])
        s.commit()
        return user.id


def queries(user_id: int, la_id: int, today: Any, now: datetime) -> dict[str, Callable[[Any], object]]:
    """Each list as its page asks for it."""
    def tasks(**chosen: Any) -> Callable[[Any], object]:
        return lambda s: task_list(s, user_id, TaskFilters(**chosen), today)

    def instances(**chosen: Any) -> Callable[[Any], object]:
        return lambda s: instance_list(s, [la_id], InstanceFilters(**chosen), today, now)

    return {
        "My tasks": tasks(view="mine"),
        "Team tasks": tasks(view="team"),
        "My tasks, page 40": tasks(view="mine", page=40),
        "My tasks, overdue": tasks(view="mine", status="overdue"),
        "My tasks, due date descending": tasks(view="mine", descending=True),
        "My tasks, search": tasks(view="mine", q="child99"),
        "My tasks, search for a name found nowhere": tasks(view="mine", q="nobody"),
        "My tasks, by child": tasks(view="mine", sort="child"),
        "Cases": lambda s: case_list(s, user_id, None),
        "Cases, search": lambda s: case_list(s, user_id, "child123"),
        "Cases, search for a name found nowhere": lambda s: case_list(s, user_id, "nobody"),
        "Cases, search for two letters": lambda s: case_list(s, user_id, "zq"),
        "Admin instances": instances(),
        "Admin instances, overdue": instances(overdue=True),
        "Admin home counts": lambda s: admin_counts(s, [la_id], today),
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.list_bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--open-tasks", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=30)
    args = parser.parse_args()
    engine, la_id = setup(os.environ.get("DATABASE_URL"))
    add_cases(engine, la_id, args.open_tasks)
    user_id = _caseworker(engine, la_id)
    db = engine.session_factory.kw["bind"]
    print(f"{platform.platform()}, {os.cpu_count()} CPUs, {db.dialect.name}, {args.open_tasks:,} open tasks, "
          f"{args.samples} samples, load average {os.getloadavg()[0]:.2f}\n")
    print("| list query | p50 (ms) | p95 (ms) |\n|---|---|---|")
    for name, query in queries(user_id, la_id, engine.clock.today(), engine.clock.now()).items():
        timings = []
        for _ in range(args.samples):
            with engine.session_factory() as s:
                began = time.perf_counter()
                query(s)
                timings.append((time.perf_counter() - began) * 1000)
        print(f"| {name} | {percentile(timings, 50):.1f} | {percentile(timings, 95):.1f} |")


if __name__ == "__main__":
    main()
