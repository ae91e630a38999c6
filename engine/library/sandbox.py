"""The script environment for BPMN scripts, conditions and timer expressions.

The default SpiffWorkflow environment runs plain ``exec``: a BPMN file could do anything the server can. Here
every script and expression is compiled by RestrictedPython (which refuses ``_``-prefixed names and attributes at
compile time, so the ``().__class__.__base__.__subclasses__()`` escape never runs), with a short list of builtins
(no ``__import__``, ``open``, ``eval``, ``getattr``...) plus the statutory calendar.

This module is the one source of truth for what a script may contain: the checker (engine/library/lint) calls
``compile_check``, which compiles exactly as the sandbox does before running, so a script the check accepts never
fails at run time for want of a guard (tuple unpacking, ``f(*args)``), and one the sandbox would refuse is refused
at check time. engine/library/sandbox_limits.py bounds how much work a script may do.
"""

from __future__ import annotations

import builtins
import copy
from typing import Any

from RestrictedPython import compile_restricted_eval, compile_restricted_exec, limited_builtins, safe_builtins
from RestrictedPython.Eval import default_guarded_getitem, default_guarded_getiter
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
)
from RestrictedPython.PrintCollector import PrintCollector
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine, TaskDataEnvironment

from engine.library.sandbox_limits import (
    ARITH_GUARD,
    SCRIPT_FILENAME,
    Budget,
    CostGuardingTransformer,
    ScriptTooCostly,
    arith,
    check_budget,
    guarded_getattr,
    guarded_pow,
)

__all__ = ["GUARDS", "SAFE_BUILTINS", "SandboxError", "ScriptTooCostly", "SandboxedEnvironment", "compile_check",
           "make_script_engine"]


class SandboxError(Exception):
    """A script or expression the sandbox refuses.

    Deliberately not a SyntaxError: SpiffWorkflow's error formatter expects a SyntaxError to carry a line number.
    """


def _builtins() -> dict[str, Any]:
    allowed = dict(safe_builtins)
    allowed.update(limited_builtins)
    for name in ("max", "min", "sum", "any", "all", "enumerate", "sorted", "zip", "dict", "set", "map", "filter",
                 "reversed", "list"):
        allowed[name] = getattr(builtins, name)
    # Attribute writes and class definitions are not needed by a process model and widen the attack surface.
    for name in ("setattr", "delattr", "__build_class__"):
        allowed.pop(name, None)
    allowed["pow"] = guarded_pow  # pow(9, 9 ** 9) would run in C for ever
    return allowed


SAFE_BUILTINS = _builtins()

_INPLACE = {
    "+=": lambda x, y: arith("+", x, y),
    "-=": lambda x, y: x - y,
    "*=": lambda x, y: arith("*", x, y),
    "**=": lambda x, y: arith("**", x, y),
    "/=": lambda x, y: x / y,
    "//=": lambda x, y: x // y,
    "%=": lambda x, y: x % y,
}


def _inplacevar(op: str, x: Any, y: Any) -> Any:
    check_budget()
    if op not in _INPLACE:
        raise SandboxError(f"the operator {op} is not allowed in BPMN scripts")
    return _INPLACE[op](x, y)


def _apply(function: Any, *args: Any, **kwargs: Any) -> Any:
    """RestrictedPython routes calls with ``*args`` or ``**kwargs`` through this."""
    return function(*args, **kwargs)


def _compile(source: str, mode: str) -> Any:
    compiler = compile_restricted_exec if mode == "exec" else compile_restricted_eval
    return compiler(source, filename=SCRIPT_FILENAME, policy=CostGuardingTransformer)


def compile_check(source: str, mode: str) -> list[str]:
    """The sandbox's own objections to a script ('exec') or expression ('eval'), without running it.

    Each is ``"Line N: message"``, N counted from the first line of the source."""
    return list(_compile(source, mode).errors)


def _getiter(ob: Any) -> Any:
    check_budget()  # every loop and comprehension starts here
    return default_guarded_getiter(ob)


def _getitem(ob: Any, index: Any) -> Any:
    check_budget()
    return default_guarded_getitem(ob, index)


# Every guard name RestrictedPython's compiled code may call; without one, the script fails with a NameError.
GUARDS: dict[str, Any] = {
    "__builtins__": SAFE_BUILTINS,
    "_getattr_": guarded_getattr,
    "_getitem_": _getitem,
    "_getiter_": _getiter,
    "_write_": full_write_guard,
    "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
    "_unpack_sequence_": guarded_unpack_sequence,
    "_inplacevar_": _inplacevar,
    "_apply_": _apply,
    "_print_": PrintCollector,  # print() in a script is harmless: what it prints is dropped
    ARITH_GUARD: arith,
}


class SandboxedEnvironment(TaskDataEnvironment):
    def __init__(self, extra_globals: dict[str, Any] | None = None) -> None:
        guards = dict(extra_globals or {})
        guards.update(GUARDS)  # a script function can never replace a guard
        super().__init__(guards)
        self._compiled: dict[tuple[str, str], Any] = {}

    def _code(self, source: str, mode: str) -> Any:
        key = (source, mode)
        code = self._compiled.get(key)
        if code is None:
            result = _compile(source, mode)
            if result.errors:
                raise SandboxError("; ".join(result.errors))
            code = self._compiled[key] = result.code
        return code

    def evaluate(self, expression: str, context: dict[str, Any], external_context: dict[str, Any] | None = None) -> Any:
        code = self._code(expression, "eval")
        scope = dict(context)
        scope.update(external_context or {})
        scope.update(self.globals)  # the guards must win over task data
        with Budget():
            return eval(code, scope)  # noqa: S307 - compiled by RestrictedPython above

    def execute(self, script: str, context: dict[str, Any], external_context: dict[str, Any] | None = None) -> bool:
        code = self._code(script, "exec")
        self.check_for_overwrite(context, external_context or {})
        scope = copy.copy(self.globals)
        scope.update(external_context or {})
        context.update(scope)
        try:
            with Budget():
                exec(code, context)  # noqa: S102 - compiled by RestrictedPython above
        finally:
            self._remove_globals_and_functions_from_context(context, external_context)
        return True


def make_script_engine(extra_globals: dict[str, Any] | None = None) -> PythonScriptEngine:
    return PythonScriptEngine(environment=SandboxedEnvironment(extra_globals))
