"""``ehcflow import plans FILE.csv [--skip-bad] [--dry-run]``: every problem as FILE:line N: column: message, exit status
1 when a row is refused (with --skip-bad only when no row was good), a summary, and the documented example file."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, update

from engine.runtime.services import Services
from engine.store.models import Case, Organisation, PlanVersion
from tests.conftest import ROOT, World
from tests.engine.test_plan_import import AVA, BAD, BEN, CAL, HEADER
from webui.cli import imports as imports_command
from webui.cli import main


@pytest.fixture
def cli(services: Services, world: World, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    with services.session_factory() as s:
        s.execute(update(Organisation).where(Organisation.id == world.school.id).values(code="TPS"))
        s.commit()
    monkeypatch.setattr(imports_command, "build_services", lambda: services)
    return CliRunner()


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "plans.csv"
    path.write_text(text, encoding="utf-8")
    return str(path)


def plan_count(services: Services) -> int:
    with services.session_factory() as s:
        return s.scalar(select(func.count()).select_from(PlanVersion)) or 0


def test_a_good_file_is_imported_once(cli: CliRunner, services: Services, tmp_path: Path) -> None:
    path = write(tmp_path, "\n".join([HEADER, AVA, BEN, CAL]) + "\n")
    result = cli.invoke(main, ["import", "plans", path])
    assert result.exit_code == 0, result.output
    with services.session_factory() as s:
        ava = s.scalar(select(Case.reference).where(Case.child_first_name == "Ava"))
    # Plan issued 31 August 2025, no review: due Monday 31 August 2026; the route starts 70 days before.
    assert (f"created {ava} Ava Stone (line 2): next review due Monday 31 August 2026 (annual); the review route "
            "starts on 22 June 2026") in result.output
    assert "Created 3, already there 0, refused 0." in result.output
    # Ben's review was due by Friday 28 February 2025: overdue on 2 March 2026.
    assert ("Ben Hart (line 3): next review due Friday 28 February 2025 (annual); the review is overdue: the route "
            "starts on the worker's next daily pass") in result.output

    again = cli.invoke(main, ["import", "plans", path])
    assert again.exit_code == 0, again.output
    assert f"already there: {ava} Ava Stone (line 2)" in again.output
    assert "Created 0, already there 3, refused 0." in again.output
    assert plan_count(services) == 3


def test_bad_rows_are_printed_with_the_file_and_line_and_nothing_is_written(cli: CliRunner, services: Services,
                                                                            tmp_path: Path) -> None:
    path = write(tmp_path, BAD)
    result = cli.invoke(main, ["import", "plans", path])
    assert result.exit_code == 1
    assert f"{path}:line 3: child_last_name: Enter the child's last name" in result.output
    assert f"{path}:line 6: child_last_name: The same child as on line 2" in result.output
    assert "Nothing was imported: correct the rows above, or give --skip-bad" in result.output
    assert plan_count(services) == 0

    skipped = cli.invoke(main, ["import", "plans", path, "--skip-bad"])
    assert skipped.exit_code == 0, skipped.output
    assert "Created 1, already there 0, refused 6." in skipped.output
    assert "Imported the good rows; the 6 refused rows are listed above." in skipped.output
    assert plan_count(services) == 1


def test_skip_bad_fails_when_no_row_is_good(cli: CliRunner, services: Services, tmp_path: Path) -> None:
    path = write(tmp_path, "\n".join([HEADER, "Dee,,2016-01-01,,,,TST,,2014-01-01,,,,"]) + "\n")
    result = cli.invoke(main, ["import", "plans", path, "--skip-bad"])
    assert result.exit_code == 1 and "Created 0, already there 0, refused 1." in result.output
    header = cli.invoke(main, ["import", "plans", write(tmp_path, "name,dob\n"), "--skip-bad"])
    assert header.exit_code == 1 and ":line 1: name: 'name' is not a column of the import" in header.output


def test_a_dry_run_writes_nothing(cli: CliRunner, services: Services, tmp_path: Path) -> None:
    result = cli.invoke(main, ["import", "plans", write(tmp_path, "\n".join([HEADER, AVA])), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "would create" in result.output and "Would create 1, already there 0, refused 0." in result.output
    assert "Dry run: nothing was written." in result.output
    assert plan_count(services) == 0


def test_help_and_a_missing_file(cli: CliRunner, tmp_path: Path) -> None:
    result = cli.invoke(main, ["import", "plans", "--help"])
    assert result.exit_code == 0 and "--skip-bad" in result.output and "--dry-run" in result.output
    missing = cli.invoke(main, ["import", "plans", str(tmp_path / "nope.csv")])
    assert missing.exit_code == 2 and "does not exist" in missing.output


def test_the_documented_example_imports_cleanly_into_the_demo_organisations(services: Services,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """docs/examples/plans-import.csv uses the demo's local authority and setting codes (demo/seed.py)."""
    from demo.seed import seed

    seed(services.engine)  # no route deployed: the organisations, people and families only
    monkeypatch.setattr(imports_command, "build_services", lambda: services)
    example = ROOT / "docs" / "examples" / "plans-import.csv"
    result = CliRunner().invoke(main, ["import", "plans", str(example)])
    assert result.exit_code == 0, result.output
    assert "Created 5, already there 0, refused 0." in result.output and "note:" not in result.output
