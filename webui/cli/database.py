"""``ehcflow db``: the database migrations."""

from __future__ import annotations

import click

from webui.cli.group import build_services, main


@main.group()
def db() -> None:
    """The database."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply the database migrations."""
    from engine.store.migrate import upgrade

    services = build_services()
    upgrade(services.db)
    click.echo(f"Database is up to date ({services.db.url.render_as_string(hide_password=True)}).")
