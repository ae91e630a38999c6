"""Where a step's server CPU goes (run on demand, never by the test suite):

    .venv/bin/python -m bench.step_profile [--steps 300] [--open-tasks 2000] [--profile 40]

The headline benchmark's step (post the looping route's open task, then open the next task's page), run in this
process through Flask's test client rather than a server, so that it can be taken apart:

- without ``--profile``: the CPU of the whole step and of its parts (the engine's completion and, inside it, loading
  the instance, the projection, the flush, the commit; the task page's drawing; the page's own reads), each the
  mean per step, measured by wrapping those functions (no profiler, so the figures are the real ones);
- with ``--profile N``: cProfile's N heaviest entries by cumulative time (the profiler slows everything about
  twofold, evenly enough to compare parts).

The client's own work is in the whole step's figure (about 0.1 ms a request), so it reads a little above the
server's. Nothing here asserts a timing.
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import pstats
import re
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from bench.engine_bench import add_cases, setup
from bench.http_loop import open_task_id
from bench.people import PASSWORD, looping_instance, people
from engine.runtime import projection, workflow_engine
from engine.runtime.services import build
from engine.runtime.workflow_engine import WorkflowEngine
from webui.app import create_app
from webui.tasks import form_page

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')

#: (owner, attribute, label): what the split measures, in the order printed.
PARTS: list[tuple[Any, str, str]] = [
    (workflow_engine.WorkflowEngine, "complete_task", "engine: complete the task"),
    (workflow_engine.WorkflowEngine, "load_workflow", "  restore the instance"),
    (projection.Projector, "apply", "  projection (reads, timers, tasks)"),
    (projection.Projector, "flush_events", "  flush and audit"),
    (Session, "commit", "  commits"),
    (form_page, "_render", "web: draw the task page"),
    (form_page, "_page_context", "  the page's reads"),
    (form_page, "_task_or_404", "web: find the task, check access"),
]


class Stepper:
    """A signed-in caseworker's browser (the test client keeps the cookies) on one looping route."""

    def __init__(self, client: FlaskClient, engine: WorkflowEngine, instance_id: int) -> None:
        self.client, self.engine, self.instance_id = client, engine, instance_id
        self.task_id = open_task_id(engine, instance_id)
        self.token = self._token(client.get(f"/tasks/{self.task_id}").text)
        self.n = 0

    @staticmethod
    def _token(page: str) -> str:
        found = TOKEN.search(page)
        if found is None:
            raise RuntimeError("the task page has no CSRF token")
        return found.group(1)

    def step(self) -> None:
        self.n += 1
        posted = self.client.post(f"/tasks/{self.task_id}", data={"note": f"step {self.n} " + "x" * 40,
                                                                  "csrf_token": self.token})
        if posted.status_code != 302:
            raise RuntimeError(f"the post answered {posted.status_code}")
        self.task_id = open_task_id(self.engine, self.instance_id)
        page = self.client.get(f"/tasks/{self.task_id}")
        if page.status_code != 200:
            raise RuntimeError(f"the task page answered {page.status_code}")


def signed_in_stepper(open_tasks: int, workdir: Path, prepare: Callable[[Flask], None] | None = None) -> Stepper:
    """A caseworker signed in to the app (test client) on a new looping route, ``open_tasks`` others stored;
    ``prepare`` may add to the app before its first request."""
    url = f"sqlite:///{workdir}/step.sqlite3"
    engine, la_id = setup(url)
    add_cases(engine, la_id, open_tasks)
    email, _ = people(engine, la_id)
    instance_id = looping_instance(engine, la_id)
    app = create_app({"SECRET_KEY": "bench-" + "x" * 32, "SESSION_COOKIE_SECURE": False,
                      "INSTANCE_PATH": str(workdir / "instance")}, services=build(url))
    if prepare is not None:
        prepare(app)
    client = app.test_client()
    token = Stepper._token(client.get("/sign-in").text)
    answer = client.post("/sign-in", data={"email": email, "password": PASSWORD, "csrf_token": token})
    if answer.status_code != 302:
        raise RuntimeError(f"signing in answered {answer.status_code}")
    return Stepper(client, engine, instance_id)


def _wrap(owner: Any, name: str, label: str, spent: dict[str, float]) -> Callable[[], None]:
    """Charges the CPU of every call of owner.name to ``label``; returns what puts the original back."""
    original = getattr(owner, name)

    @functools.wraps(original)
    def measured(*args: Any, **kwargs: Any) -> Any:
        began = time.process_time()
        try:
            return original(*args, **kwargs)
        finally:
            spent[label] = spent.get(label, 0.0) + time.process_time() - began

    setattr(owner, name, measured)
    return lambda: setattr(owner, name, original)


def split(stepper: Stepper, steps: int) -> None:
    spent: dict[str, float] = {}
    undo = [_wrap(owner, name, label, spent) for owner, name, label in PARTS]
    try:
        began = time.process_time()
        for _ in range(steps):
            stepper.step()
        whole = time.process_time() - began
    finally:
        for put_back in undo:
            put_back()
    print(f"CPU per step, mean of {steps} (ms)\n\n| part | ms |\n|---|---|")
    print(f"| the whole step (two requests, the client's share included) | {whole * 1000 / steps:.2f} |")
    for _, _, label in PARTS:
        print(f"| {label.strip() if not label.startswith('  ') else '— ' + label.strip()} | "
              f"{spent.get(label, 0.0) * 1000 / steps:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.step_profile", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=300, help="steps measured (after 30 to warm up)")
    parser.add_argument("--open-tasks", type=int, default=2000, help="other open tasks bulk-loaded first")
    parser.add_argument("--profile", type=int, metavar="N", help="print cProfile's N heaviest entries instead")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ehcflow-step-") as folder:
        stepper = signed_in_stepper(args.open_tasks, Path(folder))
        for _ in range(30):
            stepper.step()
        if args.profile:
            profiler = cProfile.Profile()
            profiler.enable()
            for _ in range(args.steps):
                stepper.step()
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(args.profile)
        else:
            split(stepper, args.steps)


if __name__ == "__main__":
    main()
