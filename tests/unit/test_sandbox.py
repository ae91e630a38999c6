"""engine.library.sandbox: what the checker accepts runs, what would hold a process is refused or stopped."""

from __future__ import annotations

import sys
from typing import Any

import pytest

from engine.library.sandbox import GUARDS, SandboxError, ScriptTooCostly, compile_check, make_script_engine
from engine.library.sandbox_limits import SCRIPT_FILENAME, Budget
from engine.library.script_functions import script_globals
from engine.statutory.clock import Clock


def environment() -> Any:
    return make_script_engine(script_globals(Clock())).environment


def run(script: str, **data: Any) -> dict[str, Any]:
    context = dict(data)
    environment().execute(script, context)
    return context


# ---- what the check accepts, the sandbox runs -----------------------------------------------------------------------
ACCEPTED_SCRIPTS = [
    ("x, y = 1, 2", {"x": 1, "y": 2}),
    ("(a, b), *rest = (1, 2), 3, 4", {"a": 1, "b": 2, "rest": [3, 4]}),
    ("pairs = [(k, v) for k, v in {'a': 1}.items()]", {"pairs": [("a", 1)]}),
    ("def total(*values, **named):\n    return sum(values) + len(named)\nz = total(*[1, 2], **{'k': 3})", {"z": 4}),
    ("m = 3\nm *= 4\nm **= 2\np = 2 ** 10 * 'ab'.count('a')", {"m": 144, "p": 1024}),
    ("print('not kept')\nshown = True", {"shown": True}),
    ("q = pow(2, 10) + pow(3, 200, 7)", {"q": 1024 + pow(3, 200, 7)}),
    ("s = 'x' * 3 + f'{1 + 1}'", {"s": "xxx2"}),
    ("t = 0\nfor i in range(999):\n    t += i", {"t": sum(range(999))}),
]


@pytest.mark.parametrize(("script", "expected"), ACCEPTED_SCRIPTS, ids=[s for s, _ in ACCEPTED_SCRIPTS])
def test_scripts_the_check_accepts_run(script: str, expected: dict[str, Any]) -> None:
    assert compile_check(script, "exec") == []
    result = run(script)
    assert {k: result[k] for k in expected} == expected


def test_every_restricted_python_guard_is_provided() -> None:
    # The names RestrictedPython's compiled code calls: one missing fails a script only when it runs.
    for name in ("_getattr_", "_getitem_", "_getiter_", "_write_", "_iter_unpack_sequence_", "_unpack_sequence_",
                 "_inplacevar_", "_apply_", "_print_", "_arith_"):
        assert name in GUARDS


def test_a_script_function_cannot_replace_a_guard() -> None:
    env = make_script_engine({"_getiter_": iter, "today": lambda: "2026-03-02"}).environment
    context: dict[str, Any] = {}
    env.execute("n = 0\nfor i in range(3):\n    n += 1", context)
    assert env.globals["_getiter_"] is GUARDS["_getiter_"]
    assert context["n"] == 3


# ---- obviously too costly: refused when compiled (so at check time) -----------------------------------------------------
@pytest.mark.parametrize(("source", "message"), [
    ("9 ** 9 ** 9", "the power 9 ** 387420489 is too large"),
    ("'x' * 10 ** 10", "repeating it 10000000000 times makes more than 1,000,000 items"),
    ("10 ** 10 * [0]", "repeating it 10000000000 times"),
    ("range(10 ** 6)", "range() gives fewer than 1000 numbers"),
    ("range(0, 5000, 2)", "range() gives fewer than 1000 numbers"),
    ("1 << 10 ** 9", "shifting by 1000000000 is too large"),
    ("'a'.ljust(10 ** 9)", ".ljust() to a width of more than 1,000,000 characters"),
    ("value ** 200000", "the power ** 200000 is too large"),
])
def test_constant_bombs_are_refused_at_compile_time(source: str, message: str) -> None:
    [objection] = compile_check(source, "eval")
    assert objection.startswith("Line 1: ") and message in objection
    with pytest.raises(SandboxError):
        environment().evaluate(source, {"value": 2})


@pytest.mark.parametrize("source", ["2 ** 64", "x ** 2", "10 ** 10", "'-' * 80", "range(999)", "[0] * 1000"])
def test_ordinary_arithmetic_is_not_refused(source: str) -> None:
    assert compile_check(source, "eval") == []


# ---- too costly at run time: values from task data -----------------------------------------------------------------
@pytest.mark.parametrize(("script", "message"), [
    ("s = 'x' * n", "repeating something of length 1 10000000000 times"),
    ("s = [0, 1] * n", "repeating something of length 2"),
    ("m = 9 ** (n // 10)", "the power 9 ** 1000000000 is too large"),
    ("m = pow(7, n)", "the power 7 ** 10000000000 is too large"),
    ("m = 1 << n", "the shift by 10000000000 is too large"),
    ("m = 'ab'\nm *= n", "repeating something of length 2"),
])
def test_costly_operations_on_task_data_are_stopped(script: str, message: str) -> None:
    assert compile_check(script, "exec") == []
    with pytest.raises(Exception, match="too large|makes more than") as caught:
        run(script, n=10 ** 10)
    assert message in str(caught.value)


@pytest.fixture
def lines_first(monkeypatch: pytest.MonkeyPatch) -> None:
    """The line budget, not the time limit, stops the script: on a slow or busy machine 200,000 traced lines can
    take longer than the default 2 seconds, and these tests are about counting lines."""
    monkeypatch.setenv("EHCFLOW_SCRIPT_MAX_SECONDS", "120")


@pytest.mark.usefixtures("lines_first")
def test_a_script_that_runs_too_many_lines_is_stopped() -> None:
    script = "t = 0\nfor i in range(999):\n    for j in range(999):\n        t += 1"
    with pytest.raises(Exception, match="ran more than 200,000 lines"):
        run(script)


@pytest.mark.usefixtures("lines_first")
def test_catching_the_stop_does_not_let_the_script_carry_on() -> None:
    script = ("t = 0\nfor i in range(999):\n    try:\n        for j in range(999):\n            t += 1\n"
              "    except:\n        t = -1")
    with pytest.raises(Exception, match="ran more than"):
        run(script)


@pytest.mark.usefixtures("lines_first")
def test_a_comprehension_counts_against_the_budget() -> None:
    with pytest.raises(Exception, match="ran more than"):
        run("r = [[i * j for i in range(999)] for j in range(999)]")


def test_the_time_limit_stops_a_slow_script() -> None:
    code = compile("for i in range(10 ** 9):\n    pass", SCRIPT_FILENAME, "exec")
    with pytest.raises(ScriptTooCostly, match="more than 0.2 seconds"), Budget(max_lines=10 ** 12, max_seconds=0.2):
        exec(code, {})  # noqa: S102 - a fixed test script


def test_the_budget_restores_the_tracer_that_was_set() -> None:
    previous = sys.gettrace()
    with Budget():
        pass
    assert sys.gettrace() is previous


def test_the_limits_are_settings_and_a_bad_one_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from engine.errors import SettingInvalid
    from engine.library.sandbox_limits import configured_limits

    assert configured_limits() == (200_000, 2.0)
    monkeypatch.setenv("EHCFLOW_SCRIPT_MAX_LINES", "500")
    monkeypatch.setenv("EHCFLOW_SCRIPT_MAX_SECONDS", "0.5")
    assert configured_limits() == (500, 0.5)
    with pytest.raises(Exception, match="ran more than 500 lines"):
        run("t = 0\nfor i in range(999):\n    t += 1")
    for bad in ("0", "-3", "lots"):
        monkeypatch.setenv("EHCFLOW_SCRIPT_MAX_SECONDS", bad)
        with pytest.raises(SettingInvalid, match=f"EHCFLOW_SCRIPT_MAX_SECONDS must be a number greater than 0, "
                                                 f"not '{bad}'"):
            configured_limits()


@pytest.mark.parametrize(("script", "message"), [
    ("s = 'x'\nfor i in range(40):\n    s = s + s", "joining things of length 524288 and 524288"),
    ("s = 'x'\nfor i in range(40):\n    s += s", "joining things of length 524288 and 524288"),
    ("l = [0]\nfor i in range(40):\n    l = l + l", "joining things of length 524288 and 524288"),
    ("s = 'x' * 999999\nt = s.replace('x', 'xx')", ".replace() makes more than 1,000,000 items"),
    ("s = 'ab' * 1000\nt = ','.join([s] * 999)", ".join() makes more than 1,000,000 items"),
    ("t = 'x'.rjust(n)", ".rjust() makes more than 1,000,000 items"),
])
def test_growing_text_or_lists_past_the_limit_is_stopped_before_it_is_made(script: str, message: str) -> None:
    """Each doubling or widening would run in C, out of reach of the line budget, until memory ran out."""
    with pytest.raises(Exception, match="makes more than 1,000,000 items") as caught:
        run(script, n=10 ** 9)
    assert message in str(caught.value)


def test_the_same_operations_on_ordinary_sizes_run() -> None:
    done = run("a = 1 + 2\nb = 'x' + 'y'\nc = [1] + [2]\nd = 'a,b'.replace(',', ';')\ne = '-'.join(['a', 'b'])\n"
               "f = 'x'.ljust(3)\ng = f'{a:>3}'\nb += 'z'")
    assert {k: done[k] for k in "abcdefg"} == {"a": 3, "b": "xyz", "c": [1, 2], "d": "a;b", "e": "a-b",
                                                "f": "x  ", "g": "  3"}


@pytest.mark.parametrize(("script", "message"), [
    ("t = f'{1:>{n}}'", "the format of a value in an f-string must be written out, not worked out"),
    ("t = f'{1:>10000000}'", "a width of more than 1,000,000 characters is too large"),
])
def test_an_f_string_width_that_could_be_huge_is_refused_at_check(script: str, message: str) -> None:
    assert compile_check(script, "exec") == [f"Line 1: {message}"]
