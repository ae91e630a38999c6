"""``ehcflow routes``: what may be started on a case by hand, and starting it, with the same checks as the case page."""

from __future__ import annotations

import json
import sys
from typing import Any

import click
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.errors import EngineError, FormInvalid, InstanceFailed, InvalidState, NotAllowed, NotFound
from engine.intake.route_starts import start_by_hand, startable_routes
from engine.people.access import roles_in
from engine.people.roles import Role
from engine.store.models import Case, User
from webui.cli.group import build_services, main


def _fail(*lines: str) -> None:
    for line in lines:
        click.echo(line, err=True)
    sys.exit(1)


def _case(session: Session, text: str) -> Case:
    """A case by its reference (any case) or its number."""
    case = session.scalar(select(Case).where(func.upper(Case.reference) == text.strip().upper()))
    if case is None and text.strip().isdigit():
        case = session.get(Case, int(text.strip()))
    if case is None:
        _fail(f"case: no case with the reference or number {text!r}")
    assert case is not None
    return case


def _user(session: Session, email: str | None) -> tuple[User | None, bool]:
    """The user to act as, and whether they act as the family (a user who is only ever family on cases)."""
    if not email:
        return None, False
    user = session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    if user is None:
        _fail(f"--as: no user with the email address {email!r}")
    assert user is not None
    roles = {role for _, role in roles_in(session, user)}
    return user, roles == {Role.FAMILY.value}


def _data(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        _fail(f"--data: not valid JSON ({exc.msg}, column {exc.colno})")
    if not isinstance(data, dict):
        _fail('--data: give a JSON object, for example {"start_date": "2026-03-02"}')
    return data


@main.group()
def routes() -> None:
    """Routes on a case: what may be started by hand, and starting one."""


@routes.command("list")
@click.argument("case")
@click.option("--as", "as_email", default=None, metavar="EMAIL",
              help="As this user (their email address); default: the operator, acting for the local authority.")
def routes_list(case: str, as_email: str | None) -> None:
    """List the routes that may be started on CASE now (a case reference such as EHC-2026-00001, or its number)."""
    services = build_services()
    with services.session_factory() as session:
        found = _case(session, case)
        user, as_family = _user(session, as_email)
        options = [o for o in startable_routes(services.engine, session, found, user, as_family=as_family)
                   if o.allowed]
        for option in options:
            form = "  (start data: " + ", ".join((option.form_schema or {}).get("properties", {})) + ")" \
                if option.form_schema else ""
            click.echo(f"{option.process_id:28} {option.label}{form}")
        click.echo(f"{len(options)} route(s) may be started on {found.reference}.", err=True)


@routes.command("start")
@click.argument("case")
@click.argument("process_id")
@click.option("--data", "data_json", default=None, metavar="JSON",
              help="The answers to the route's start form, as a JSON object (see `ehcflow routes list`).")
@click.option("--as", "as_email", default=None, metavar="EMAIL",
              help="Start it as this user (their email address), with their permissions; default: the operator, "
                   "acting for the local authority.")
def routes_start(case: str, process_id: str, data_json: str | None, as_email: str | None) -> None:
    """Start the route PROCESS_ID on CASE (a case reference such as EHC-2026-00001, or its number).

    Only a route whose start event declares that it may be started by hand, when it may start on this case (for
    example an early review only while the plan is in force and no review is under way).
    """
    services = build_services()
    data = _data(data_json)
    with services.session_factory() as session:
        found = _case(session, case)
        user, as_family = _user(session, as_email)
        case_id, reference = found.id, found.reference
    try:
        instance_id = start_by_hand(services.engine, case_id, process_id, data, user, as_family=as_family)
    except FormInvalid as exc:
        _fail(*(f"{name}: {message}" for name, message in exc.errors.items()))
    except (NotFound, NotAllowed, InvalidState, InstanceFailed) as exc:
        _fail(str(exc))
    except EngineError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Started {process_id} on case {reference} (instance {instance_id}).")
