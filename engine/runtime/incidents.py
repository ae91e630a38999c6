"""Turns an exception raised inside a workflow into where it happened: file, element id, line and message."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.exceptions import WorkflowException


@dataclass
class FailurePlace:
    file: str | None
    element_id: str | None
    line: int | None
    message: str


def _spec_file(task_spec: Any) -> str | None:
    process_spec = getattr(task_spec, "_wf_spec", None)
    filename = getattr(process_spec, "file", None)
    return str(filename) if filename else None


def describe_failure(exc: BaseException) -> FailurePlace:
    if isinstance(exc, WorkflowTaskException) and exc.task is not None:
        spec = exc.task.task_spec
        line = exc.line_number if isinstance(exc.line_number, int) and exc.line_number > 0 else None
        inner = exc.__cause__ or exc.__context__
        detail = f" ({type(inner).__name__}: {inner})" if inner is not None and str(inner) not in str(exc) else ""
        return FailurePlace(_spec_file(spec), spec.bpmn_id or spec.name, line, f"{exc}{detail}")
    if isinstance(exc, WorkflowException):
        spec = getattr(exc, "task_spec", None)
        if spec is not None:
            return FailurePlace(_spec_file(spec), getattr(spec, "bpmn_id", None) or spec.name, None, str(exc))
        return FailurePlace(None, None, None, str(exc))
    return FailurePlace(None, None, None, f"{type(exc).__name__}: {exc}")
