"""How much work one BPMN script or expression may do, so that none can hold a web or worker process.

A script runs inside a command that holds a database transaction (and, on the web, a request). Three things bound it:

- At compile time (``CostGuardingTransformer``, used by both the checker and the sandbox, so that what the check
  accepts is exactly what runs): operations on constants that are obviously too big (``9 ** 9 ** 9``,
  ``"x" * 10 ** 10``, ``1 << 10 ** 9``, ``range(10 ** 6)``) are refused, and every ``**``, ``*`` and ``<<`` is
  compiled into a call of ``_arith_``, which refuses at run time the same operations on values from task data.
  A single ``**`` or ``*`` runs in C and cannot be interrupted, so it must be refused before it starts.
- At run time, ``Budget`` counts the lines the script's own code runs (loops and comprehensions included) with
  ``sys.settrace`` on the current thread only, and stops the script after ``MAX_LINES`` lines or ``MAX_SECONDS``.
  Calls into the script functions (the statutory calendar) are not traced, so they cost nothing extra.
- ``range`` is RestrictedPython's, fewer than ``RANGE_LIMIT`` numbers (docs/bpmn-conventions.md says so).
"""

from __future__ import annotations

import ast
import math
import os
import re
import sys
import threading
import time
from types import FrameType
from typing import Any

from RestrictedPython import RestrictingNodeTransformer
from RestrictedPython.Guards import safer_getattr

from engine.errors import SettingInvalid

# Names of the guard functions the compiled code calls; they start with "_" so a script cannot name them.
ARITH_GUARD = "_arith_"
# SpiffWorkflow finds the line of a script's error in the traceback frames named "<string>" (python_engine.py),
# so the scripts keep that name: the incident then says which line failed.
SCRIPT_FILENAME = "<string>"

MAX_INT_BITS = 100_000  # about 30,000 decimal digits: far beyond any date or count, and computed in microseconds
MAX_ITEMS = 1_000_000  # characters or items made by one repetition ("x" * n, [0] * n)
RANGE_LIMIT = 1000  # RestrictedPython's limited_range refuses a range of this many numbers or more
MAX_LINES = 200_000  # lines of script code run by one script or expression (EHCFLOW_SCRIPT_MAX_LINES)
MAX_SECONDS = 2.0  # wall-clock, checked every 1,000 lines (EHCFLOW_SCRIPT_MAX_SECONDS)
# A width or precision of seven digits or more in a format specification ("{:>1000000}").
_HUGE_WIDTH = re.compile(r"\{[^{}]*:[^{}]*\d{7}")
_WIDTH_METHODS = frozenset({"ljust", "rjust", "center", "zfill", "expandtabs"})
_OPERATORS = {ast.Pow: "**", ast.Mult: "*", ast.LShift: "<<", ast.Add: "+"}


def configured_limits() -> tuple[int, float]:
    """The limits on one script: ``EHCFLOW_SCRIPT_MAX_LINES`` and ``EHCFLOW_SCRIPT_MAX_SECONDS``, or the defaults.

    Read when a script runs (a scenario's child process sees its parent's settings); ``services.build`` reads them
    once at start, so a bad value stops EHC Flow there with a message rather than failing each script."""
    limits: list[float] = []
    for name, default, kind in (("EHCFLOW_SCRIPT_MAX_LINES", MAX_LINES, int),
                                ("EHCFLOW_SCRIPT_MAX_SECONDS", MAX_SECONDS, float)):
        raw = os.environ.get(name)
        if raw is None or raw.strip() == "":
            limits.append(default)
            continue
        try:
            value = kind(raw)
        except ValueError:
            value = 0
        if not value > 0:
            raise SettingInvalid(f"{name} must be a number greater than 0, not {raw!r}")
        limits.append(value)
    return int(limits[0]), float(limits[1])


class ScriptTooCostly(Exception):
    """A script or expression that would do too much work; raised inside the script, which then fails."""


# Whether the running script (on this thread) has spent its budget. Python drops a tracer that raises, so after the
# first ScriptTooCostly the lines are no longer counted: the guards every loop, item access and arithmetic goes
# through then raise instead (``check_budget``), and ``Budget`` raises on exit even if the script caught the error.
_state = threading.local()


def check_budget() -> None:
    if getattr(_state, "spent", None):
        raise ScriptTooCostly(_state.spent)


# ---- run time: the operations -----------------------------------------------------------------------------------
def _int_bits(value: Any) -> int:
    return abs(value).bit_length() if isinstance(value, int) else 0


def _length(value: Any) -> int | None:
    return len(value) if isinstance(value, str | bytes | list | tuple) else None


def arith(op: str, left: Any, right: Any) -> Any:
    """``left op right`` for ``**``, ``*``, ``<<`` and ``+``, refused when the result would be too big to make
    quickly (``s = s + s`` in a loop doubles a text at every turn)."""
    check_budget()
    if op == "+":
        sizes = _length(left), _length(right)
        if sizes[0] is not None and sizes[1] is not None and sizes[0] + sizes[1] > MAX_ITEMS:
            raise ScriptTooCostly(f"joining things of length {sizes[0]} and {sizes[1]} makes more than "
                                  f"{MAX_ITEMS:,} items")
        return left + right
    if op == "**":
        if isinstance(left, int) and isinstance(right, int) and right > 0 and _int_bits(left) > 1 \
                and right * _int_bits(left) > MAX_INT_BITS:
            raise ScriptTooCostly(f"the power {left!r} ** {right!r} is too large to work out")
        return left ** right
    if op == "*":
        for sequence, count in ((left, right), (right, left)):
            size = _length(sequence)
            if size is not None and isinstance(count, int) and size * count > MAX_ITEMS:
                raise ScriptTooCostly(f"repeating something of length {size} {count} times makes more than "
                                      f"{MAX_ITEMS:,} items")
        if isinstance(left, int) and isinstance(right, int) and _int_bits(left) + _int_bits(right) > MAX_INT_BITS:
            raise ScriptTooCostly("the product is too large to work out")
        return left * right
    if op == "<<":
        if isinstance(left, int) and isinstance(right, int) and right + _int_bits(left) > MAX_INT_BITS:
            raise ScriptTooCostly(f"the shift by {right!r} is too large to work out")
        return left << right
    raise ScriptTooCostly(f"the operator {op} is not allowed")


def guarded_pow(base: Any, exponent: Any, modulus: Any = None) -> Any:
    """The builtin ``pow``: with a modulus it is cheap; without, the same limit as ``**``."""
    if modulus is not None:
        return pow(base, exponent, modulus)
    return arith("**", base, exponent)


# ---- run time: the line budget ----------------------------------------------------------------------------------
class Budget:
    """Stops the script's own code after ``max_lines`` lines or ``max_seconds`` (a context manager).

    Only frames compiled from BPMN (``SCRIPT_FILENAME``) are traced. The tracer that was set before (a debugger,
    coverage) is put back afterwards. A script that catches the exception gets no further (see ``_state``).
    """

    def __init__(self, max_lines: int | None = None, max_seconds: float | None = None) -> None:
        lines, seconds = configured_limits() if max_lines is None or max_seconds is None else (0, 0.0)
        self.max_lines = lines if max_lines is None else max_lines
        self.max_seconds = seconds if max_seconds is None else max_seconds
        self.lines = 0
        self._deadline = 0.0
        self._previous: Any = None

    def __enter__(self) -> Budget:
        self._outer = getattr(_state, "spent", None)  # a script function that evaluates an expression nests budgets
        _state.spent = None
        self.lines = 0
        self._deadline = time.monotonic() + self.max_seconds
        self._previous = sys.gettrace()
        sys.settrace(self._on_call)
        return self

    def __exit__(self, exc_type: object, exc: object, traceback: object) -> None:
        sys.settrace(self._previous)
        spent, _state.spent = _state.spent, self._outer
        if spent and exc_type is None:
            raise ScriptTooCostly(spent)

    def _spend(self, reason: str) -> None:
        _state.spent = reason
        raise ScriptTooCostly(reason)

    def _on_call(self, frame: FrameType, event: str, arg: Any) -> Any:
        return self._on_line if frame.f_code.co_filename == SCRIPT_FILENAME else None

    def _on_line(self, frame: FrameType, event: str, arg: Any) -> Any:
        if event == "line":
            self.lines += 1
            if self.lines > self.max_lines:
                self._spend(f"the script ran more than {self.max_lines:,} lines; it must do less work")
            if self.lines % 1000 == 0 and time.monotonic() > self._deadline:
                self._spend(f"the script ran for more than {self.max_seconds:g} seconds")
        return self._on_line


# ---- compile time ------------------------------------------------------------------------------------------------
def _constant(node: ast.AST) -> Any:
    """The value of a constant number expression when it is cheap to work out, else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float) and not isinstance(node.value, bool):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        value = _constant(node.operand)
        return None if value is None else (-value if isinstance(node.op, ast.USub) else value)
    if isinstance(node, ast.BinOp):
        left, right = _constant(node.left), _constant(node.right)
        if left is None or right is None:
            return None
        try:
            if isinstance(node.op, ast.Add):
                return left + right
            if isinstance(node.op, ast.Sub):
                return left - right
            if isinstance(node.op, ast.Mult | ast.Pow | ast.LShift) and _too_big(node.op, left, right) is None:
                return arith(_OPERATORS[type(node.op)], left, right)
        except (ArithmeticError, ScriptTooCostly, TypeError, ValueError):
            return None
    return None


def _too_big(op: ast.operator, left: Any, right: Any) -> str | None:
    """Why ``left op right`` on these constants is refused, or None."""
    if isinstance(op, ast.Pow) and isinstance(left, int) and isinstance(right, int | float) and right > 0:
        bits = right * math.log2(abs(left)) if abs(left) > 1 else 0
        if bits > MAX_INT_BITS:
            return f"the power {left} ** {right} is too large to work out"
    if isinstance(op, ast.LShift) and isinstance(right, int) and right > MAX_INT_BITS:
        return f"shifting by {right} is too large to work out"
    return None


def _size_of_literal(node: ast.AST) -> int | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str | bytes):
        return len(node.value)
    if isinstance(node, ast.List | ast.Tuple):
        return len(node.elts)
    if isinstance(node, ast.JoinedStr):
        return max(len(node.values), 1)
    return None


def cost_objection(node: ast.AST) -> str | None:
    """Why this node is obviously too costly to run, or None. Looks at this node only, not its children."""
    if isinstance(node, ast.BinOp):
        left, right = _constant(node.left), _constant(node.right)
        if isinstance(node.op, ast.Pow | ast.LShift) and left is not None and right is not None:
            return _too_big(node.op, left, right)
        if isinstance(node.op, ast.Pow) and isinstance(right, int) and right > MAX_INT_BITS:
            return f"the power ** {right} is too large to work out"
        if isinstance(node.op, ast.Mult):
            for literal, count in ((node.left, right), (node.right, left)):
                size = _size_of_literal(literal)
                if size is not None and isinstance(count, int) and max(size, 1) * count > MAX_ITEMS:
                    return f"repeating it {count} times makes more than {MAX_ITEMS:,} items"
    if isinstance(node, ast.Call):
        values = [_constant(arg) for arg in node.args]
        func = node.func
        if isinstance(func, ast.Name) and func.id == "range" and 1 <= len(values) <= 3 \
                and all(isinstance(v, int) for v in values):
            try:
                too_long = len(range(*values)) >= RANGE_LIMIT
            except (ValueError, OverflowError):
                too_long = True
            if too_long:
                return f"range() gives fewer than {RANGE_LIMIT} numbers"
        if isinstance(func, ast.Attribute) and func.attr in _WIDTH_METHODS \
                and any(isinstance(v, int) and v > MAX_ITEMS for v in values):
            return f".{func.attr}() to a width of more than {MAX_ITEMS:,} characters is too large"
    return None


def _too_long(size: int, what: str) -> None:
    if size > MAX_ITEMS:
        raise ScriptTooCostly(f"{what} makes more than {MAX_ITEMS:,} items")


def _sized_method(owner: str | bytes, name: str, method: Any) -> Any:
    """The text methods whose result can be far bigger than their inputs, each checking the size first
    (``format`` is refused by RestrictedPython already)."""
    if name == "join":
        def join(items: Any) -> Any:
            items = list(items)
            _too_long(len(owner) * max(len(items) - 1, 0) + sum(_length(i) or 0 for i in items), ".join()")
            return method(items)
        return join
    if name == "replace":
        def replace(old: Any, new: Any, count: int = -1) -> Any:
            found = owner.count(old) if count < 0 else min(count, owner.count(old))
            _too_long(len(owner) + found * max(len(new) - len(old), 0), ".replace()")
            return method(old, new, count)
        return replace
    if name in _WIDTH_METHODS:
        def widen(*args: Any) -> Any:
            _too_long(max([a for a in args if isinstance(a, int)] + [0]) * (8 if name == "expandtabs" else 1),
                      f".{name}()")
            return method(*args)
        return widen
    return method


def guarded_getattr(obj: Any, name: str, default: Any = None) -> Any:
    """RestrictedPython's ``getattr`` guard, with the text methods that can make huge results checked."""
    value = safer_getattr(obj, name, default)
    if isinstance(obj, str | bytes) and callable(value):
        return _sized_method(obj, name, value)
    return value


class CostGuardingTransformer(RestrictingNodeTransformer):
    """RestrictedPython's policy, plus the limits above: constant bombs refused, ``**``, ``*``, ``<<``, ``+``
    guarded, and a formatted value's width only as a number written in the script (``f"{x:>{n}}"`` could ask for
    any width)."""

    def visit_FormattedValue(self, node: ast.FormattedValue) -> Any:
        spec = node.format_spec
        if spec is not None:
            parts = spec.values if isinstance(spec, ast.JoinedStr) else [spec]
            if not all(isinstance(part, ast.Constant) for part in parts):
                self.error(node, "the format of a value in an f-string must be written out, not worked out")
            elif _HUGE_WIDTH.search("{:" + "".join(str(part.value) for part in parts) + "}"):
                self.error(node, f"a width of more than {MAX_ITEMS:,} characters is too large")
        return self.node_contents_visit(node)

    def visit_BinOp(self, node: ast.BinOp) -> Any:
        objection = cost_objection(node)
        if objection:
            self.error(node, objection)
        node = self.node_contents_visit(node)
        if isinstance(node.op, tuple(_OPERATORS)):
            call = ast.Call(func=ast.Name(id=ARITH_GUARD, ctx=ast.Load()),
                            args=[ast.Constant(_OPERATORS[type(node.op)]), node.left, node.right], keywords=[])
            return ast.fix_missing_locations(ast.copy_location(call, node))
        return node

    def visit_Call(self, node: ast.Call) -> Any:
        objection = cost_objection(node)
        if objection:
            self.error(node, objection)
        return super().visit_Call(node)
