"""A problem found in a file, reported as ``file:line: element-id: message``, and the findings of one check run."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.library.lint.document import Document, top_process_id


@dataclass(frozen=True, order=True)
class Problem:
    file: str  # the path as given by the caller (str(path))
    line: int | None
    element_id: str | None
    message: str

    def __str__(self) -> str:
        line = "?" if self.line is None else str(self.line)
        return f"{self.file}:{line}: {self.element_id or '-'}: {self.message}"


def _sort_key(problem: Problem) -> tuple[str, int, str, str]:
    # Problems without a line sort first in their file; comparing None with an int would raise.
    return (problem.file, -1 if problem.line is None else problem.line, problem.element_id or "", problem.message)


class Findings:
    def __init__(self) -> None:
        self.problems: list[Problem] = []
        # Processes whose ids or references are broken: SpiffWorkflow's own errors for them are consequences,
        # often with misleading messages, so they are not reported on top.
        self.skip_structure: set[tuple[str, str]] = set()

    def add(self, file: str, line: int | None, element_id: str | None, message: str) -> None:
        self.problems.append(Problem(file, line, element_id, message))

    def skip(self, doc: Document, element: Any) -> None:
        process_id = top_process_id(element)
        if process_id:
            self.skip_structure.add((doc.path, process_id))

    def sorted(self) -> list[Problem]:
        return sorted(set(self.problems), key=_sort_key)
