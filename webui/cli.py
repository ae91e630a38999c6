"""The ``ehcflow`` command."""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections import defaultdict
from pathlib import Path

import click
from sqlalchemy import select

from engine.db import PROJECT_ROOT, default_database_url
from engine.lint import check_files
from engine.registry import ParsedProcess, ProcessRegistry, RegistryError
from engine.services import Services, build


def _services() -> Services:
    return build(os.environ.get("DATABASE_URL"))


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log more.")
def main(verbose: bool) -> None:
    """EHC Flow: statutory SEND routes as executable BPMN."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


# ---- database ------------------------------------------------------------------------------------------------------
@main.group()
def db() -> None:
    """The database."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply the database migrations."""
    from engine.migrate import upgrade

    services = _services()
    upgrade(services.db)
    click.echo(f"Database is up to date ({services.db.url.render_as_string(hide_password=True)}).")


# ---- workflows -----------------------------------------------------------------------------------------------------
def _bpmn_paths(paths: tuple[str, ...]) -> list[Path]:
    found: list[Path] = []
    for raw in paths or (str(PROJECT_ROOT / "workflows"),):
        path = Path(raw)
        if path.is_dir():
            found.extend(sorted(path.glob("*.bpmn")))
        elif path.exists():
            found.append(path)
        else:
            raise click.UsageError(f"{raw}: no such file or folder")
    if not found:
        raise click.UsageError("No .bpmn files found")
    return found


def _describe(process: ParsedProcess) -> list[str]:
    lines = [f"{process.process_id} ({process.name}) version {process.version_hash[:10]}"]
    by_lane: dict[str, list[str]] = defaultdict(list)
    for task in process.user_tasks:
        by_lane[task.lane or "(no lane)"].append(f"{task.name} [{task.bpmn_id}] form {task.form}")
    for lane in sorted(by_lane):
        lines.append(f"  {lane}:")
        lines.extend(f"    - {entry}" for entry in by_lane[lane])
    if process.timers:
        lines.append("  timers:")
        for timer in process.timers:
            deadline = f" (statutory deadline '{timer.deadline}')" if timer.deadline else ""
            on = f" on {timer.attached_to}" if timer.attached_to else ""
            lines.append(f"    - {timer.name} [{timer.bpmn_id}]{on}: {timer.expression}{deadline}")
    return lines


@main.group()
def workflows() -> None:
    """Check, deploy and test the BPMN routes."""


@workflows.command("check")
@click.argument("paths", nargs=-1)
@click.option("--forms", "forms_dir", default=str(PROJECT_ROOT / "forms"), show_default=True,
              help="Folder of form files.")
def workflows_check(paths: tuple[str, ...], forms_dir: str) -> None:
    """Check BPMN files (or folders of them): print every problem as file:line: element-id: message."""
    bpmn = _bpmn_paths(paths)
    problems = check_files(bpmn, Path(forms_dir))
    if problems:
        for problem in problems:
            click.echo(str(problem))
        click.echo(f"{len(problems)} problem(s) found.", err=True)
        sys.exit(1)
    registry = ProcessRegistry.from_files(bpmn, Path(forms_dir))
    for process in registry.processes.values():
        for line in _describe(process):
            click.echo(line)
    click.echo(f"OK: {len(bpmn)} file(s), {len(registry.processes)} process(es), no problems.")


@workflows.command("deploy")
@click.argument("paths", nargs=-1)
@click.option("--forms", "forms_dir", default=str(PROJECT_ROOT / "forms"), show_default=True)
@click.option("--force", is_flag=True, help="Replace versions deployed from the Routes page too.")
def workflows_deploy(paths: tuple[str, ...], forms_dir: str, force: bool) -> None:
    """Check and deploy BPMN files; processes whose files are unchanged keep their version."""
    from engine.deployments import web_versions_replaced

    services = _services()
    try:
        registry = ProcessRegistry.from_files(_bpmn_paths(paths), Path(forms_dir))
    except RegistryError as exc:
        for problem in exc.problems:
            click.echo(str(problem))
        click.echo("Nothing was deployed.", err=True)
        sys.exit(1)
    with services.session_factory() as session:
        kept = web_versions_replaced(session, registry)
    if kept and not force:
        for route in kept:
            click.echo(str(route))
        click.echo("Nothing was deployed: download those versions from the Routes page and commit their files, or "
                   "deploy with --force to replace them.", err=True)
        sys.exit(1)
    created = services.engine.deploy(registry)
    for version in created:
        click.echo(f"Deployed {version.process_id} version {version.short_hash}")
    if not created:
        click.echo("Nothing changed: every process is already deployed at this version.")


@workflows.command("test")
@click.argument("scenarios", nargs=-1, required=True)
@click.option("--workflows", "workflows_dir", default=str(PROJECT_ROOT / "workflows"), show_default=True,
              help="Folder of the BPMN files to test (deployed or not).")
@click.option("--forms", "forms_dir", default=str(PROJECT_ROOT / "forms"), show_default=True)
def workflows_test(scenarios: tuple[str, ...], workflows_dir: str, forms_dir: str) -> None:
    """Run scenario files against the routes in a folder, on a throw-away database; exit 1 if any step fails."""
    from engine.scenarios import ScenarioError, load_scenario, run_scenario

    try:
        registry = ProcessRegistry.from_files(_bpmn_paths((workflows_dir,)), Path(forms_dir))
    except RegistryError as exc:
        for problem in exc.problems:
            click.echo(str(problem))
        raise click.ClickException("The workflows have problems; fix them before testing.") from exc
    failed = 0
    for name in scenarios:
        try:
            scenario = load_scenario(Path(name))
        except ScenarioError as exc:
            click.echo(str(exc))
            failed += 1
            continue
        result = run_scenario(scenario, registry, name)
        click.echo(f"{name}: {'passed' if result.passed else 'FAILED'}")
        for step in result.steps:
            mark = "ok  " if step.passed else "FAIL"
            click.echo(f"  {mark} {step.number:>2}. {step.description}{': ' + step.message if step.message else ''}")
        failed += 0 if result.passed else 1
    if failed:
        sys.exit(1)


# ---- demo, users ---------------------------------------------------------------------------------------------------
def _print_credentials(ctx: object) -> None:
    from engine.demo import DEMO_PASSWORD

    click.echo("\nDemo sign-in details (every demo user's password is: " + DEMO_PASSWORD + ")")
    for email, role, where in getattr(ctx, "credentials", []):
        click.echo(f"  {email:38} {role:32} {where}")


@main.command()
def demo() -> None:
    """Load the demo organisations, users and cases (once)."""
    from engine.demo import seed

    services = _services()
    try:
        ctx = seed(services.engine)
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from exc
    _print_credentials(ctx)


@main.command()
@click.option("--demo/--no-demo", default=True, help="Load the demo data if the database has none.")
def setup(demo: bool) -> None:
    """Migrate the database, deploy the project's workflows and (once) load the demo data."""
    from engine.demo import already_seeded, seed
    from engine.deployments import web_versions_replaced, without
    from engine.migrate import upgrade

    services = _services()
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
            from engine.demo import DemoContext, credentials_from_db

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
@click.option("--role", "role_code", required=True, help="e.g. la_caseworker, la_manager, admin, family")
@click.option("--org", "org_code", default=None, help="The organisation's code (not needed for family)")
@click.password_option()
def users_create(email: str, name: str, role_code: str, org_code: str | None, password: str) -> None:
    """Create a user with one role in one organisation."""
    from sqlalchemy import select

    from engine.models import Organisation
    from engine.roles import Role
    from engine.users import create_user

    try:
        role = Role(role_code)
    except ValueError:
        raise click.BadParameter(f"unknown role; use one of {', '.join(r.value for r in Role)}",
                                 param_hint="--role") from None
    services = _services()
    with services.session_factory() as session:
        org = None
        if role != Role.FAMILY:
            if not org_code:
                raise click.BadParameter("this role needs an organisation", param_hint="--org")
            org = session.scalars(select(Organisation).where(Organisation.code == org_code)).first()
            if org is None:
                raise click.BadParameter(f"no organisation with the code {org_code!r}", param_hint="--org")
        try:
            create_user(session, email, name, password, services.engine.clock, [(org, role)])
        except ValueError as exc:
            raise click.ClickException(str(exc)) from exc
        session.commit()
    click.echo(f"Created {email} as {role.label}{' at ' + org.name if org else ''}.")


def _sign_in_hint(services: Services) -> str:
    """How to sign in: with the demo data, a demo user and the demo password; otherwise how to make a user."""
    from engine.demo import DEMO_PASSWORD
    from engine.models import User

    with services.session_factory() as session:
        demo = session.scalar(select(User.email).where(User.email == "caseworker@northshire.example"))
    if demo:
        return (f"Sign in as {demo} with the password {DEMO_PASSWORD} (every demo user is listed by "
                "`ehcflow setup`; they all have that password)")
    return "Sign in with a user made by `ehcflow users create` (no demo data is loaded)"


def _notifier(services: Services):  # noqa: ANN202
    """Sends the outbox (emails about tasks and documents) after each worker pass."""
    from engine.notifications import NotificationSettings, run_notifications

    settings = NotificationSettings.from_env()
    return lambda: run_notifications(services.session_factory, services.engine.clock, settings)


# ---- running -------------------------------------------------------------------------------------------------------
@main.command()
@click.option("--once", is_flag=True, help="Fire what is due now and exit (for cron).")
@click.option("--batch", default=20, show_default=True, help="Instances per batch.")
@click.option("--recheck", default=5.0, show_default=True, help="Seconds between checks for new work.")
def worker(once: bool, batch: int, recheck: float) -> None:
    """Run the timer worker."""
    from engine.worker import Worker, run_once

    services = _services()
    notify = _notifier(services)
    if once:
        click.echo(f"Fired timers on {run_once(services.engine, batch)} instance(s).")
        notify()
        return
    Worker(services.engine, batch, recheck).run_forever(after_pass=notify)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
@click.option("--worker/--no-worker", "with_worker", default=True, help="Also run the timer worker in-process.")
def run(host: str, port: int, with_worker: bool) -> None:
    """Start the web app (and the timer worker) for local use."""
    from werkzeug.serving import run_simple

    from engine.migrate import upgrade
    from engine.worker import Worker
    from webui.app import create_app

    services = _services()
    upgrade(services.db)
    app = create_app(services=services)
    if with_worker:
        background = Worker(services.engine)
        threading.Thread(target=background.run_forever,
                         kwargs={"install_signals": False, "after_pass": _notifier(services)}, daemon=True,
                         name="timer-worker").start()
    click.echo(f"EHC Flow is running at http://{host}:{port}/  (database: {default_database_url()})")
    click.echo(_sign_in_hint(services))
    run_simple(host, port, app, threaded=True, use_reloader=False)


if __name__ == "__main__":
    main()
