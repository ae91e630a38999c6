"""The list queries alone, without HTTP (issue 16: lists under 100 ms p95 at 100,000 open tasks):

    .venv/bin/python -m bench.list_bench --open-tasks 100000 --samples 30

Bulk-loads the open tasks as ``python -m bench`` does (into a fresh SQLite database in a temporary folder, or into
DATABASE_URL), then times each list query through the engine functions the pages call, each in a fresh session:
"My tasks" and "Team tasks" (first page, page 40, a status filter, a search, sorted by child), the case list and a
search, the admin instance list (all, the overdue filter) and the admin home counts, and pages past the numbered
ones (keyset paging: the page after page 40, and one half-way down each list). Prints a Markdown table of
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

from sqlalchemy import func, select

from bench.engine_bench import add_cases, percentile, setup
from engine.admin.instance_admin import InstanceFilters, admin_counts, instance_list
from engine.lists.cases import case_list, child_name_order
from engine.lists.keyset import Cursor, encode
from engine.lists.tasks import TaskFilters, task_list
from engine.people.roles import Role
from engine.people.users import create_user
from engine.runtime.workflow_engine import WorkflowEngine
from engine.store.models import Case, HumanTask, Organisation, ProcessInstance


def _caseworker(engine: WorkflowEngine, la_id: int) -> int:
    with engine.session_factory() as s:
        la = s.get(Organisation, la_id)
        user = create_user(s, "lists@bench.example", "List Reader", "bench-password-not-secret", engine.clock,
                           [(la, Role.CASEWORKER)])
        s.commit()
        return user.id


def deep_cursors(engine: WorkflowEngine, user_id: int, la_id: int, today: Any, now: datetime) -> dict[str, str]:
    """Links past the numbered pages, as "Next" gives them: just past page 40, and half-way down each list."""
    with engine.session_factory() as s:
        after_40 = {
            "tasks": task_list(s, user_id, TaskFilters(view="mine", page=40), today).after,
            "cases": case_list(s, user_id, None, 40).after,
            "instances": instance_list(s, [la_id], InstanceFilters(page=40), today, now).page.after,
        }
        middle = s.scalar(select(func.count(HumanTask.id)).where(HumanTask.status == "open")) // 2
        task = s.execute(select(HumanTask.due_date, HumanTask.id).where(
            HumanTask.status == "open", HumanTask.due_date >= today).order_by(HumanTask.due_date, HumanTask.id)
            .offset(middle // 2).limit(1)).one()
        case = s.execute(select(Case.child_last_name, Case.child_first_name, Case.id).order_by(
            *child_name_order(s), Case.id).offset(middle).limit(1)).one()
        instance = s.scalar(select(ProcessInstance.id).order_by(ProcessInstance.id.desc()).offset(middle).limit(1))
    found = {f"{name}_40": cursor for name, cursor in after_40.items() if cursor}
    found["tasks_middle"] = encode(Cursor(1, tuple(task)))  # the run of tasks due today or later
    found["cases_middle"] = encode(Cursor(0, tuple(case)))
    found["instances_middle"] = encode(Cursor(0, (instance,)))
    return found


def queries(user_id: int, la_id: int, today: Any, now: datetime,
            deep: dict[str, str]) -> dict[str, Callable[[Any], object]]:
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
        # Past the numbered pages, by keyset paging: the page after page 40, and one half-way down the list.
        "My tasks, page 41": tasks(view="mine", page=41, after=deep.get("tasks_40")),
        "My tasks, half-way down": tasks(view="mine", page=41, after=deep["tasks_middle"]),
        "Cases, page 41": lambda s: case_list(s, user_id, None, 41, after=deep.get("cases_40")),
        "Cases, half-way down": lambda s: case_list(s, user_id, None, 41, after=deep["cases_middle"]),
        "Admin instances, page 41": instances(page=41, after=deep.get("instances_40")),
        "Admin instances, half-way down": instances(page=41, after=deep["instances_middle"]),
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
    today, now = engine.clock.today(), engine.clock.now()
    for name, query in queries(user_id, la_id, today, now, deep_cursors(engine, user_id, la_id, today, now)).items():
        timings = []
        for _ in range(args.samples):
            with engine.session_factory() as s:
                began = time.perf_counter()
                query(s)
                timings.append((time.perf_counter() - began) * 1000)
        print(f"| {name} | {percentile(timings, 50):.1f} | {percentile(timings, 95):.1f} |")


if __name__ == "__main__":
    main()
