"""``ehcflow run`` and ``ehcflow worker``: the web app and the timer worker."""

from __future__ import annotations

import threading

import click
from sqlalchemy import select

from engine.runtime.services import Services
from engine.store.db import default_database_url
from webui.cli.group import build_services, main


def sign_in_hint(services: Services) -> str:
    """How to sign in: with the demo data, a demo user and the demo password; otherwise how to make a user."""
    from demo.driver import DEMO_PASSWORD
    from engine.store.models import User

    with services.session_factory() as session:
        demo = session.scalar(select(User.email).where(User.email == "caseworker@northshire.example"))
    if demo:
        return (f"Sign in as {demo} with the password {DEMO_PASSWORD} (every demo user is listed by "
                "`ehcflow setup`; they all have that password)")
    return "Sign in with a user made by `ehcflow users create` (no demo data is loaded)"


def _notifier(services: Services):  # noqa: ANN202
    """Sends the outbox (emails about tasks and documents) after each worker pass."""
    from engine.casework.notifications import NotificationSettings, run_notifications

    settings = NotificationSettings.from_env()
    return lambda: run_notifications(services.session_factory, services.engine.clock, settings)


@main.command()
@click.option("--once", is_flag=True, help="Fire what is due now and exit (for cron).")
@click.option("--batch", default=20, show_default=True,
              help="Due instances taken at a time (fired up to 20 per transaction).")
@click.option("--recheck", default=5.0, show_default=True, help="Seconds between checks for new work.")
def worker(once: bool, batch: int, recheck: float) -> None:
    """Run the timer worker."""
    from engine.runtime.worker import Worker, run_daily_jobs, run_pass

    services = build_services()
    notify = _notifier(services)
    if once:
        run_daily_jobs(services.engine)
        done = run_pass(services.engine, batch)
        click.echo(f"Fired timers on {len(done.fired)} instance(s).")
        notify()
        if done.failed:
            click.echo(f"Timers failed on {len(done.failed)} instance(s): {', '.join(map(str, done.failed))} (each "
                       "is failed with an incident: see Admin > Instances).", err=True)
            raise SystemExit(1)
        return
    Worker(services.engine, batch, recheck).run_forever(after_pass=notify)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
@click.option("--worker/--no-worker", "with_worker", default=True, help="Also run the timer worker in-process.")
def run(host: str, port: int, with_worker: bool) -> None:
    """Start the web app (and the timer worker) for local use."""
    from werkzeug.serving import run_simple

    from engine.runtime.worker import Worker
    from engine.store.migrate import upgrade
    from webui.app import GenericServerRequestHandler, create_app

    services = build_services()
    upgrade(services.db)
    app = create_app(services=services)
    if with_worker:
        background = Worker(services.engine)
        threading.Thread(target=background.run_forever,
                         kwargs={"install_signals": False, "after_pass": _notifier(services)}, daemon=True,
                         name="timer-worker").start()
    click.echo(f"EHC Flow is running at http://{host}:{port}/  (database: {default_database_url()})")
    click.echo(sign_in_hint(services))
    run_simple(host, port, app, threaded=True, use_reloader=False, request_handler=GenericServerRequestHandler)
