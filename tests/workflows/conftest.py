"""Route scenario tests: prints the flow coverage the tests recorded (see tests/workflows/flow_coverage.py)."""

from __future__ import annotations

from typing import Any

from tests.workflows.flow_coverage import REGISTRY


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for name, coverage in sorted(REGISTRY.items()):
        if not coverage.tests:
            continue
        terminalreporter.section(f"{name}: flow coverage")
        for line in coverage.report():
            terminalreporter.write_line(line)
