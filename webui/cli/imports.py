"""``ehcflow import plans``: bringing in a council's existing plans from a CSV file (docs/import-plans.md)."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import click

from engine.intake.plan_import import ImportResult, Outcome, import_plans
from webui.cli.group import build_services, main


@main.group("import")
def import_group() -> None:
    """Bring in a council's existing records."""


def _created(outcome: Outcome, dry_run: bool, today: date) -> str:
    review = outcome.review
    line = f"{'would create' if dry_run else 'created'} {outcome.reference} {outcome.child_name} (line {outcome.line})"
    if review is not None:
        line += f": next review due {review.due:%A %-d %B %Y} ({review.kind.replace('_', ' ')}); "
        line += (f"the review route starts on {review.start_on:%-d %B %Y}" if review.start_on > today else
                 f"the review is {'overdue' if review.due < today else 'due soon'}: the route starts on the worker's "
                 "next daily pass")
    return line


def _report(file: Path, result: ImportResult, skip_bad: bool, today: date) -> None:
    for problem in result.problems:
        click.echo(f"{file}:{problem}", err=True)
    for outcome in result.created:
        click.echo(_created(outcome, result.dry_run, today))
        for note in outcome.notes:
            click.echo(f"  note: {note}")
    for outcome in result.already_there:
        click.echo(f"already there: {outcome.reference} {outcome.child_name} (line {outcome.line})")
    refused = len(result.refused_lines)
    click.echo(f"{'Would create' if result.dry_run else 'Created'} {len(result.created)}, already there "
               f"{len(result.already_there)}, refused {refused}.")
    if result.problems and not skip_bad:
        click.echo("Nothing was imported: correct the rows above, or give --skip-bad to import the good rows only.",
                   err=True)
    elif result.dry_run:
        click.echo("Dry run: nothing was written.")
    elif refused:
        click.echo(f"Imported the good rows; the {refused} refused row{'s are' if refused != 1 else ' is'} listed "
                   "above.", err=True)


@import_group.command("plans")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path))
@click.option("--skip-bad", is_flag=True, help="Import the good rows and leave out the bad ones (each is reported).")
@click.option("--dry-run", is_flag=True, help="Check the file and say what would be imported, writing nothing.")
def plans(file: Path, skip_bad: bool, dry_run: bool) -> None:
    """Import the current EHC plans in FILE (CSV, UTF-8, a header row, one row per child; see
    docs/import-plans.md).

    Every row is checked first: each problem is printed as FILE:line N: column: message and, unless --skip-bad is
    given, nothing is written. Each child imported gets a case, the plan record and the next annual review on the
    case's statutory clock; a child already known (same LA and UPN, or same LA, name and date of birth) is left
    alone, so importing the same file twice creates nothing twice. Exit status 1 when a row is refused (with
    --skip-bad: when no row was good).
    """
    services = build_services()
    result = import_plans(services.engine, file.read_bytes(), skip_bad=skip_bad, dry_run=dry_run)
    _report(file, result, skip_bad, services.engine.clock.today())
    good = len(result.created) + len(result.already_there)
    if (result.problems and not skip_bad) or good == 0:
        sys.exit(1)
