"""The step and its floor counted in instructions, which do not depend on the machine's spell (run on demand):

    .venv/bin/python -m bench.instructions [--steps 40] [--open-tasks 200] [--json]

``bench.stack_floor`` measures CPU time, which on a shared machine moves by a third from one hour to the next, so a
change worth a few per cent cannot be told from the spell. This runs the same parts (the step, the four parts of
its floor, the engine's own completion), each in a loop of its own, in a child Python under Valgrind's callgrind and
counts the instructions each executes, which repeat to within a few tenths of a per cent for the same code: a change
to EHC Flow is compared by running this in each tree's own folder, both at once (``python -m`` puts the current
folder before ``PYTHONPATH``, so ``PYTHONPATH=<tree>`` would run the same code twice).

Only the measured calls are counted: the set-up runs uninstrumented, and the child turns counting on and off around
each part (callgrind's client requests, from a small library built with ``cc`` for the run) and dumps the part's
count under its label. Instructions are the process's own (Python, SQLite, the C libraries); time in the kernel,
waiting on the disk and cache misses are not in them, so they compare code, not the durability or the machine, and
weigh the parts differently from CPU time. Needs valgrind (Debian's package ``valgrind``, with its headers) and a C
compiler; two to three minutes with the defaults. Nothing here asserts a count.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.stack_floor import ENGINE, ENGINE_FLOOR, FLOOR, STEP, Part, Runner, add_floor_views, parts_of, with_totals
from bench.step_profile import signed_in_stepper

_DUMP = re.compile(r"^desc: Trigger: Client Request: (\S+)\s*$", re.M)
_TOTAL = re.compile(r"^totals: (\d+)", re.M)


#: Callgrind's client requests (valgrind/callgrind.h), built into a small library that this process loads: exact
#: points at which counting starts and stops, where ``callgrind_control`` from outside lands wherever the process
#: happens to be.
_REQUESTS = """
#include <valgrind/callgrind.h>
void start(void) { CALLGRIND_START_INSTRUMENTATION; }
void stop(void) { CALLGRIND_STOP_INSTRUMENTATION; }
void zero(void) { CALLGRIND_ZERO_STATS; }
void toggle(void) { CALLGRIND_TOGGLE_COLLECT; }
void dump(const char *label) { CALLGRIND_DUMP_STATS_AT(label); }
"""


def _requests(workdir: Path) -> ctypes.CDLL:
    source, library = workdir / "requests.c", workdir / "requests.so"
    source.write_text(_REQUESTS)
    built = subprocess.run(["cc", "-O1", "-shared", "-fPIC", "-o", str(library), str(source)],
                           capture_output=True, text=True, check=False)
    if built.returncode != 0:
        raise SystemExit(f"could not build the callgrind requests (needs cc and valgrind's headers):\n{built.stderr}")
    return ctypes.CDLL(str(library))


def counter(requests: ctypes.CDLL) -> Runner:
    """A ``bench.stack_floor`` runner that counts each part's ``count`` calls in a loop of its own (the count does not
    depend on what ran before, as the time does) and dumps the total under the part's key (``before`` each call is
    not counted); the parent reads the figures from the dumps, so this returns zeros. Collection is on between
    parts, as callgrind starts."""

    def counted(parts: list[Part], count: int) -> dict[str, float]:
        for label, action, before in parts:
            for _ in range(max(5, count // 10)):
                if before is not None:
                    before()
                action()
            requests.start()
            if before is not None:
                requests.toggle()  # off: only the actions are counted
            requests.zero()
            for _ in range(count):
                if before is not None:
                    before()
                    requests.toggle()
                action()
                if before is not None:
                    requests.toggle()
            if before is not None:
                requests.toggle()  # on again, for the next part
            requests.stop()
            requests.dump(_key(label).encode())
        return dict.fromkeys((label for label, _, _ in parts), 0.0)

    return counted


def _key(label: str) -> str:
    """A label as one word, for the dump's trigger line."""
    return re.sub(r"\W+", "-", label).strip("-")[:60]


def _inside(workdir: Path, steps: int, open_tasks: int) -> None:
    counted = counter(_requests(workdir))
    parts = parts_of(signed_in_stepper(open_tasks, workdir, prepare=add_floor_views))
    counted(parts, steps)
    (workdir / "labels.json").write_text(json.dumps([label for label, _, _ in parts]))


def _per_call(workdir: Path, steps: int) -> dict[str, float]:
    """Instructions per call of each dumped part."""
    totals: dict[str, int] = {}
    for dump in workdir.glob("callgrind.out.*"):
        text = dump.read_text(errors="replace")
        trigger, total = _DUMP.search(text), _TOTAL.search(text)
        if trigger and total:
            totals[trigger.group(1)] = int(total.group(1))
    return {key: total / steps for key, total in totals.items()}


def run(steps: int, open_tasks: int) -> list[tuple[str, float]]:
    """Runs the parts in a child under callgrind; returns (label, instructions per call) with the totals of
    ``bench.stack_floor.with_totals``."""
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed: apt-get install valgrind")
    with tempfile.TemporaryDirectory(prefix="ehcflow-instructions-") as folder:
        workdir = Path(folder)
        child = [sys.executable, "-m", "bench.instructions", "--inside", str(workdir), "--steps", str(steps),
                 "--open-tasks", str(open_tasks)]
        done = subprocess.run(["valgrind", "--tool=callgrind", "--instr-atstart=no",
                               f"--callgrind-out-file={workdir}/callgrind.out", *child],
                              capture_output=True, text=True, check=False,
                              # The same hashes each run, so that sets and dicts iterate alike.
                              env={**os.environ, "PYTHONHASHSEED": "0"})
        if done.returncode != 0 or not (workdir / "labels.json").exists():
            raise SystemExit(f"the counted run failed:\n{done.stderr[-3000:]}")
        labels = json.loads((workdir / "labels.json").read_text())
        per_call = _per_call(workdir, steps)
    missing = [label for label in labels if _key(label) not in per_call]
    if missing:
        raise SystemExit(f"callgrind wrote no count for: {', '.join(missing)}")
    return with_totals({label: per_call[_key(label)] for label in labels})


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.instructions", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=40, help="calls counted of each part (after a tenth to warm)")
    parser.add_argument("--open-tasks", type=int, default=200, help="other open tasks bulk-loaded first")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    parser.add_argument("--inside", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inside is not None:
        _inside(args.inside, args.steps, args.open_tasks)
        return
    figures = run(args.steps, args.open_tasks)
    found = dict(figures)
    ratios = {"step_over_floor": round(found[STEP] / found[FLOOR], 3),
              "engine_over_floor": round(found[ENGINE] / found[ENGINE_FLOOR], 3)}
    if args.json:
        print(json.dumps({**{label: round(count) for label, count in figures}, **ratios}))
        return
    print(f"Instructions per call, millions, {args.steps} calls each\n\n| part | millions |\n|---|---|")
    for label, count in figures:
        print(f"| {label} | {count / 1e6:.2f} |")
    print(f"\nstep over floor {ratios['step_over_floor']}, engine over its floor {ratios['engine_over_floor']}")


if __name__ == "__main__":
    main()
