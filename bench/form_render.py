"""What drawing each task form costs (run on demand, never by the test suite):

    .venv/bin/python -m bench.form_render [--samples 200] [--top 10]

Draws the fields of every form in forms/ as the task page does (webui/templates/tasks/_fields.html), empty and with
every required answer missing (the error messages in place), in the real app's Jinja environment, and prints a
Markdown table of the slowest forms: top-level fields, the CPU of one drawing (median of the samples, ms). A form
with many follow-up questions draws each of them. Nothing here asserts a timing.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.engine_bench import setup
from engine.errors import FormInvalid
from engine.library.forms import validate_form
from engine.runtime.services import build
from webui.app import create_app
from webui.context import db
from webui.forms import options as form_options
from webui.forms.build import build_form
from webui.forms.conversion import to_raw

FORMS = Path(__file__).parent.parent / "forms"
FIELDS = '{% from "tasks/_fields.html" import render_fields %}{{ render_fields(fields, 1) }}'


def _missing_answers(schema: dict[str, Any]) -> dict[str, str]:
    try:
        validate_form(schema, {})
    except FormInvalid as exc:
        return exc.errors
    return {}


def measure(samples: int) -> list[tuple[str, int, float, float]]:
    """Per form: (file, top-level fields, ms empty, ms with the errors)."""
    workdir = tempfile.mkdtemp(prefix="ehcflow-forms-")
    url = f"sqlite:///{workdir}/forms.sqlite3"
    setup(url)  # migrated and deployed, for the options forms read (organisations, schools)
    app = create_app({"SECRET_KEY": "bench-" + "x" * 32, "INSTANCE_PATH": workdir}, services=build(url))
    rows: list[tuple[str, int, float, float]] = []
    with app.test_request_context():
        template = app.jinja_env.from_string(FIELDS)
        options = form_options.provider(db())
        for path in sorted(FORMS.glob("*.json")):
            schema = json.loads(path.read_text())
            if not schema.get("properties"):
                continue
            timings = []
            for errors in ({}, _missing_answers(schema)):
                fields = build_form(schema, to_raw(schema, {}), errors, options, uploads=lambda _token: None).fields
                template.render(fields=fields)
                runs = []
                for _ in range(samples):
                    began = time.process_time()
                    template.render(fields=fields)
                    runs.append((time.process_time() - began) * 1000)
                timings.append(statistics.median(runs))
            rows.append((path.name, len(schema["properties"]), timings[0], timings[1]))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.form_render", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--samples", type=int, default=200, help="drawings of each form (the median is shown)")
    parser.add_argument("--top", type=int, default=10, help="how many of the slowest forms to list")
    args = parser.parse_args()
    rows = measure(args.samples)
    rows.sort(key=lambda row: row[3], reverse=True)
    print(f"{len(rows)} forms, {platform.python_version()}, median of {args.samples} drawings each, CPU ms\n")
    print("| form | top-level fields | empty | with errors |\n|---|---|---|---|")
    for name, count, empty, errors in rows[:args.top]:
        print(f"| {name} | {count} | {empty:.2f} | {errors:.2f} |")
    every = [row[2] for row in rows]
    print(f"\nAll forms, empty: median {statistics.median(every):.2f} ms, slowest {max(every):.2f} ms")


if __name__ == "__main__":
    main()
