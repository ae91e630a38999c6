"""``ehcflow reports sen2``: an authority's SEN2 export written to a file, and the records that cannot be exported.

The command exits with status 1 when a record misses an item the DfE requires (the file then holds the other
records), listing each such case and what to fix, so that a scheduled export cannot pass a gap by unnoticed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from sqlalchemy import select

from engine.reports.sen2 import sen2_export, sen2_years
from engine.store.models import Organisation
from webui.cli.group import build_services, main


@main.group()
def reports() -> None:
    """Statutory reports: the SEN2 export."""


@reports.command("sen2")
@click.option("--la", "la_code", default=None,
              help="The local authority's code, e.g. NSH (needed when the deployment has several).")
@click.option("--year", default=None, help="The calendar year of the return (YYYY); every year when not given.")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The CSV file to write.")
def sen2(la_code: str | None, year: str | None, out: Path) -> None:
    """Write an authority's SEN2 records to a CSV file; list the records that cannot be exported, with what to fix."""
    services = build_services()
    with services.session_factory() as session:
        las = list(session.scalars(select(Organisation).where(Organisation.kind == "local_authority")
                                   .order_by(Organisation.code)))
        if la_code is not None:
            la = next((o for o in las if (o.code or "").lower() == la_code.lower()), None)
            if la is None:
                raise click.BadParameter(f"no local authority has the code {la_code!r}", param_hint="--la")
        elif len(las) == 1:
            la = las[0]
        else:
            codes = ", ".join(o.code or str(o.id) for o in las) or "none"
            raise click.BadParameter(f"choose the local authority ({codes})", param_hint="--la")
        chosen: int | None = None
        if year is not None:
            years = sen2_years(services.engine.clock.today())
            if not year.isdigit() or int(year) not in years:
                raise click.BadParameter(f"give a year from {years[-1]} to {years[0]}", param_hint="--year")
            chosen = int(year)
        export = sen2_export(session, la.id, chosen)
        name = la.name
    out.write_text(export.csv(), encoding="utf-8")
    click.echo(f"{name}: {len(export.rows)} records written to {out}.")
    if export.refused:
        click.echo(f"{len(export.refused)} cases have a record that cannot be exported until fixed:", err=True)
        for r in export.refused:
            click.echo(f"  {r.case_reference} {r.child_name}", err=True)
            for problem in r.problems:
                click.echo(f"    - {problem}", err=True)
        sys.exit(1)
