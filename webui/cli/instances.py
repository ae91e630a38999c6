"""``ehcflow instances``: an operator's repair of an instance whose saved state cannot be read, scriptable.

The same engine commands as the admin console's "Repair the saved data" and "Retry the failed step", run as the
system (no user): the reason is still required and kept in the audit trail.
"""

from __future__ import annotations

import json
import sys

import click

from engine.admin import instance_repair as repair
from engine.admin.stored_state import repair_stored_data, stored_view
from engine.errors import EngineError, FormInvalid
from webui.cli.group import build_services, main


def _fail(*lines: str) -> None:
    for line in lines:
        click.echo(line, err=True)
    sys.exit(1)


@main.group()
def instances() -> None:
    """Process instances: read and repair the data of one whose saved state cannot be read."""


@instances.command("stored-data")
@click.argument("instance_id", type=int)
def stored_data(instance_id: int) -> None:
    """Print the data INSTANCE_ID carries forward, as JSON (for a damaged one, as stored; what cannot be read is
    listed on standard error). Correct it and give it to `ehcflow instances repair-data`."""
    services = build_services()
    try:
        view = stored_view(services.engine, instance_id)
        data = repair.instance_data(services.engine, instance_id) if view.readable else view.data
    except EngineError as exc:
        _fail(str(exc))
    if not view.is_json:
        _fail(f"The saved state is not JSON ({view.error}): move the instance to another version, or end it.")
    click.echo(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, default=str))
    if view.readable:
        click.echo("The saved state can be read: nothing to repair.", err=True)
    else:
        click.echo(f"The saved state cannot be read: {view.error}", err=True)
        for place in view.unreadable:
            click.echo(f"cannot be read: {place}", err=True)


@instances.command("repair-data")
@click.argument("instance_id", type=int)
@click.option("--data", "data_file", type=click.File("r", encoding="utf-8"), required=True, metavar="FILE",
              help="The corrected data, a JSON object (- for standard input).")
@click.option("--reason", required=True, help="Why: kept in the audit trail.")
def repair_data(instance_id: int, data_file: click.utils.LazyFile, reason: str) -> None:
    """Replace the data of INSTANCE_ID, whose saved state cannot be read, with the corrected data in FILE.

    Values that cannot be read in finished steps are cleared (each is listed). A failed instance stays failed:
    retry it afterwards with `ehcflow instances retry`.
    """
    services = build_services()
    try:
        changes = repair_stored_data(services.engine, instance_id, repair.parse_data(data_file.read()), None, reason)
    except FormInvalid as exc:
        _fail(*(f"{name}: {message}" for name, message in exc.errors.items()))
    except EngineError as exc:
        _fail(str(exc))
    for place in changes["cleared"]:
        click.echo(f"cleared: {place}", err=True)
    names = sorted(set(changes["new"]) | set(changes["removed"]))
    click.echo(f"Instance {instance_id} repaired ({', '.join(names) or 'no live value changed'}); its saved state "
               "can be read again.")


@instances.command("retry")
@click.argument("instance_id", type=int)
@click.option("--reason", required=True, help="Why: kept in the audit trail.")
def retry(instance_id: int, reason: str) -> None:
    """Run the failed step of INSTANCE_ID again, as the person who first gave it."""
    services = build_services()
    try:
        repair.retry(services.engine, instance_id, None, reason)
    except FormInvalid as exc:
        _fail(*(f"{name}: {message}" for name, message in exc.errors.items()))
    except EngineError as exc:
        _fail(str(exc))
    click.echo(f"Instance {instance_id}: the failed step ran again.")
