"""``ehcflow setup``, ``ehcflow demo`` and ``ehcflow users``: a database ready to use, the demo data, people."""

from __future__ import annotations

import click

from engine.library.registry import RegistryError
from webui.cli.group import build_services, main


def _print_credentials(ctx: object) -> None:
    from demo.driver import DEMO_PASSWORD

    click.echo("\nDemo sign-in details (every demo user's password is: " + DEMO_PASSWORD + ")")
    for email, role, where in getattr(ctx, "credentials", []):
        click.echo(f"  {email:38} {role:32} {where}")


@main.command()
def demo() -> None:
    """Load the demo organisations, users and cases (once)."""
    from demo.seed import seed

    services = build_services()
    try:
        ctx = seed(services.engine)
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from exc
    _print_credentials(ctx)


@main.command()
@click.option("--demo/--no-demo", default=True, help="Load the demo data if the database has none.")
def setup(demo: bool) -> None:
    """Migrate the database, deploy the project's workflows and (once) load the demo data."""
    from demo.seed import already_seeded, seed
    from engine.authoring.deployments import web_versions_replaced, without
    from engine.store.migrate import upgrade

    services = build_services()
    upgrade(services.db)
    try:
        registry = services.load_registry()
    except RegistryError as exc:
        for problem in exc.problems:
            click.echo(str(problem))
        raise click.ClickException("The workflows have problems; nothing was deployed.") from exc
    with services.session_factory() as session:
        kept = web_versions_replaced(session, registry)
    for route in kept:
        click.echo(f"Kept {route.process_id} version {route.short_hash} from the Routes page: commit its files to "
                   f"workflows/ and forms/ (the folders' version was not deployed).")
    created = services.engine.deploy(without(registry, {route.process_id for route in kept}))
    for version in created:
        click.echo(f"Deployed {version.process_id} version {version.short_hash}")
    if demo:
        with services.session_factory() as session:
            seeded = already_seeded(session)
        if seeded:
            click.echo("Demo data is already loaded.")
            from demo.driver import DemoContext
            from demo.seed import credentials_from_db

            ctx = DemoContext(credentials=credentials_from_db(services.session_factory))
        else:
            ctx = seed(services.engine)
        _print_credentials(ctx)


@main.group()
def users() -> None:
    """Users."""


@users.command("create")
@click.option("--email", required=True)
@click.option("--name", required=True)
@click.option("--role", "role_codes", required=True, multiple=True,
              help="e.g. la_caseworker, la_manager, admin, family; repeat it for several roles at the organisation "
                   "(the first system administrator: --role admin --role system_admin)")
@click.option("--org", "org_code", default=None, help="The organisation's code (not needed for family)")
@click.option("--permanent", is_flag=True,
              help="The password is the person's own (you are creating your own account): not temporary")
@click.password_option()
def users_create(email: str, name: str, role_codes: tuple[str, ...], org_code: str | None, permanent: bool,
                 password: str) -> None:
    """Create a user with one or more roles in one organisation. The password is temporary (the person chooses their own
    when they first sign in, and it stops working after EHCFLOW_TEMP_PASSWORD_DAYS) unless --permanent."""
    from sqlalchemy import select

    from engine.people.roles import Role
    from engine.people.users import create_user
    from engine.store.models import Organisation

    try:
        roles = [Role(code) for code in dict.fromkeys(role_codes)]
    except ValueError:
        raise click.BadParameter(f"unknown role; use one of {', '.join(r.value for r in Role)}",
                                 param_hint="--role") from None
    if Role.FAMILY in roles and len(roles) > 1:
        raise click.BadParameter("a family member holds no other role", param_hint="--role")
    services = build_services()
    with services.session_factory() as session:
        org = None
        if roles != [Role.FAMILY]:
            if not org_code:
                raise click.BadParameter("this role needs an organisation", param_hint="--org")
            org = session.scalars(select(Organisation).where(Organisation.code == org_code)).first()
            if org is None:
                raise click.BadParameter(f"no organisation with the code {org_code!r}", param_hint="--org")
        try:
            create_user(session, email, name, password, services.engine.clock, [(org, role) for role in roles],
                        temporary=not permanent)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
        session.commit()
    click.echo(f"Created {email} as {' and '.join(r.label for r in roles)}{' at ' + org.name if org else ''}"
               f"{'' if permanent else ', with a temporary password: they choose their own when they first sign in'}.")
