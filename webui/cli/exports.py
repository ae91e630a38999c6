"""``ehcflow export case`` and ``ehcflow export audit``: the admin console's exports from the command line.

``export case`` writes a case's whole record (subject access) as a ZIP, with the files uploaded with its task forms
(read from the instance folder's uploads, as the web app stores them), and records ``case_exported`` in the audit
trail with the reason. ``export audit`` writes the audit trail between two London days, streamed in batches.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click
from sqlalchemy import func, select

from engine.admin.audit_export import FORMATS, export_chunks
from engine.admin.case_export import export_case_record
from engine.store.db import instance_dir
from engine.store.models import Case, Organisation
from webui import uploads
from webui.admin.exports import case_uploads
from webui.cli.group import build_services, main


@main.group("export")
def export() -> None:
    """Exports: a case's whole record (subject access), the audit trail by dates."""


@export.command("case")
@click.argument("reference")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The ZIP file to write.")
@click.option("--reason", required=True, help="Why (kept in the audit trail), e.g. the subject access request.")
@click.option("--uploads", "uploads_dir", default=None, type=click.Path(file_okay=False, path_type=Path),
              help="Where the uploaded files are (default: the instance folder's uploads).")
def export_case(reference: str, out: Path, reason: str, uploads_dir: Path | None) -> None:
    """Write the whole record of the case with this reference to a ZIP file."""
    if not reason.strip():
        raise click.BadParameter("give the reason for the export", param_hint="--reason")
    services = build_services()
    base = uploads_dir or uploads.folder(instance_dir())
    with services.session_factory() as session:
        case = session.scalars(select(Case).where(Case.reference == reference.strip())).first()
        if case is None:
            raise click.ClickException(f"no case has the reference {reference!r}")
        content = export_case_record(session, case.id, actor_id=None, reason=f"{reason.strip()} (command line)",
                                     now=services.engine.clock.now(), files=case_uploads(base, case.id))
    out.write_bytes(content)
    click.echo(f"{reference}: the record was written to {out} ({len(content):,} bytes).")


def _day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("give a date as YYYY-MM-DD", param_hint=option) from None


@export.command("audit")
@click.option("--from", "start", required=True, help="The first day (YYYY-MM-DD, London time).")
@click.option("--to", "end", required=True, help="The last day, included (YYYY-MM-DD).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="csv", show_default=True)
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The file to write.")
@click.option("--la", "la_code", default=None, help="Only this local authority's events (its code); default all.")
def export_audit(start: str, end: str, fmt: str, out: Path, la_code: str | None) -> None:
    """Write the audit trail between two days to a CSV or JSON lines file."""
    first, last = _day(start, "--from"), _day(end, "--to")
    if last < first:
        raise click.BadParameter("the last day must not be before the first", param_hint="--to")
    services = build_services()
    with services.session_factory() as session:
        org_ids: list[int] | None = None
        if la_code is not None:
            wanted = func.lower(Organisation.code) == la_code.strip().lower()
            la = session.scalars(select(Organisation).where(wanted)).first()
            if la is None or la.kind != "local_authority":
                raise click.BadParameter(f"no local authority has the code {la_code!r}", param_hint="--la")
            org_ids = [la.id]
        lines = 0
        with out.open("w", encoding="utf-8", newline="") as handle:
            for chunk in export_chunks(session, org_ids, first, last, fmt):
                handle.write(chunk)
                lines += chunk.count("\n")
    click.echo(f"Audit trail {first} to {last} written to {out} ({lines:,} lines).")
