"""The one rule for data that enters a workflow from outside: it must be plain data.

Task forms, an administrator's edit of the instance data and a repair of a damaged instance's stored data all put
values into SpiffWorkflow's task data, which is saved as JSON with the instance state. Only plain JSON values survive
that unchanged: objects with text names, lists, text, whole and decimal numbers, true, false and null.

Anything else can damage the instance beyond repair. SpiffWorkflow's serializer
(``SpiffWorkflow.bpmn.serializer.helpers.dictionary.DictionaryConverter.restore``) reads every dict that holds the
key ``typename``, at any depth of the data, as one of its own serialized objects: an unknown name makes restoring
the state fail (``'NoneType' object is not callable``), a known one (``datetime``, ``UUID``, ``timedelta``, or one of
the engine's own classes) is turned into that object or fails on the missing fields. ``typename`` is the only key it
treats so (checked for SpiffWorkflow 3.2: the ``__uuid__``/``__bytes__`` keys of its old non-BPMN serializer are not
used here). Besides: PostgreSQL refuses infinite numbers and lone surrogates in JSON, and scripts walk data
recursively, so depth is bounded too.
"""

from __future__ import annotations

import math
from typing import Any

RESERVED_KEYS = frozenset({"typename"})
MAX_DEPTH = 32

# Exactly these types: a subclass (a bool is an int, which is fine; an IntEnum or a str subclass is not JSON's own).
_SCALARS = (str, int, float, bool, type(None))


def _where(path: str) -> str:
    return f" (at {path})" if path else ""


def _text_problem(text: str) -> str | None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "has a character that is not allowed (a lone \\u escape of half a character)"
    return None


def plain_data_problems(value: Any, limit: int = 20) -> dict[str, str]:
    """What is not plain data in ``value``, as {path: message} (at most ``limit`` of them; empty if all is well).

    A path names the place as a form field does: ``advice.reports[2].typename``; the empty path is the value itself.
    The walk is iterative, so a value nested thousands deep is reported, not a RecursionError.
    """
    problems: dict[str, str] = {}
    pending: list[tuple[Any, str, int]] = [(value, "", 0)]
    while pending and len(problems) < limit:
        item, path, depth = pending.pop()
        if depth > MAX_DEPTH:
            problems[path] = f"The data is nested too deeply{_where(path)}: at most {MAX_DEPTH} levels of lists and " \
                             "objects"
            continue
        kind = type(item)
        if kind is dict:
            children = []
            for key, sub in item.items():
                if type(key) is not str:
                    problems[path] = f"A name in the data is not text{_where(path)}: {key!r}"
                    break
                here = f"{path}.{key}" if path else key
                bad_name = _text_problem(key)
                if bad_name:
                    problems[here] = f"A name in the data {bad_name}"
                elif key in RESERVED_KEYS:
                    problems[here] = f"The name '{key}' is reserved by the workflow engine and cannot be used" \
                                     f"{_where(here)}"
                children.append((sub, here, depth + 1))
            pending.extend(reversed(children))
        elif kind is list:
            pending.extend(reversed([(sub, f"{path}[{index}]", depth + 1) for index, sub in enumerate(item)]))
        elif kind not in _SCALARS:
            problems[path] = f"Only plain data is allowed (text, numbers, true, false, null, lists and objects): " \
                             f"{kind.__name__} is not{_where(path)}"
        elif kind is float and not math.isfinite(item):
            problems[path] = f"A number in the data is too large or not a number{_where(path)}"
        elif kind is str:
            bad = _text_problem(item)
            if bad:
                problems[path] = f"The data {bad}{_where(path)}"
    return problems


def plain_data_problem(value: Any) -> str | None:
    """The first thing that is not plain data in ``value``, as one sentence, or None."""
    problems = plain_data_problems(value, limit=1)
    return next(iter(problems.values()), None)


__all__ = ["MAX_DEPTH", "RESERVED_KEYS", "plain_data_problem", "plain_data_problems"]
