"""``ehcflow organisations``: the first organisation of a new deployment (the council itself) from the command line,
before anyone can sign in to add the rest in the browser (docs/deploying.md)."""

from __future__ import annotations

import click
from sqlalchemy import select

from engine.people.users import ORGANISATION_KINDS, create_organisation
from engine.store.models import Organisation
from webui.cli.group import build_services, main


@main.group()
def organisations() -> None:
    """Organisations."""


@organisations.command("create")
@click.option("--name", required=True, help="e.g. \"Northshire Council\"")
@click.option("--kind", type=click.Choice(ORGANISATION_KINDS), default="local_authority", show_default=True)
@click.option("--code", default=None, help="A short code, used by `ehcflow users create --org` (e.g. NSH)")
@click.option("--email", default=None, help="The organisation's contact address (letters, notices)")
def organisations_create(name: str, kind: str, code: str | None, email: str | None) -> None:
    """Add an organisation (audited, with no actor: the operator at the server)."""
    services = build_services()
    with services.session_factory() as session:
        fields = {k: v.strip() for k, v in (("code", code), ("email", email)) if v and v.strip()}
        try:
            org = create_organisation(session, name, kind, services.engine.clock, **fields)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
        session.commit()
        click.echo(f"Added {org.name} ({kind}{', code ' + org.code if org.code else ''}).")


@organisations.command("list")
def organisations_list() -> None:
    """Every organisation: code, kind and name."""
    services = build_services()
    with services.session_factory() as session:
        for org in session.scalars(select(Organisation).order_by(Organisation.kind, Organisation.name)):
            click.echo(f"{org.code or '-':<10} {org.kind:<20} {org.name}{'' if org.active else ' (inactive)'}")
