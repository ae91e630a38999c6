"""``ehcflow serve``: the web app under gunicorn, several worker processes, for production.

The timer worker is not part of it: run ``ehcflow worker`` as its own process (one or more; they share the work
through the database). The database must already be migrated (``ehcflow db upgrade``): several web processes
starting at once must not race to change the schema, so ``serve`` refuses to start on a database that is behind.
"""

from __future__ import annotations

import os
from typing import Any

import click

from webui.cli.group import build_services, main
from webui.log_format import announce, gunicorn_logger_class, log_format


def default_workers() -> int:
    """Two per core plus one, as gunicorn advises, at most eight (each process holds its own database pool)."""
    return min(2 * (os.cpu_count() or 1) + 1, 8)


def _gunicorn_app(options: dict[str, Any]) -> Any:
    from gunicorn.app.base import BaseApplication

    from webui.app import create_app

    class EhcFlowApplication(BaseApplication):  # type: ignore[misc]
        """Each worker process builds its own app and database pool (``load`` runs after the fork)."""

        def load_config(self) -> None:
            for key, value in options.items():
                if key in self.cfg.settings:  # control_socket_disable is newer than some gunicorns
                    self.cfg.set(key, value)

        def load(self) -> Any:
            # gunicorn writes its own Server header ("gunicorn"): make it the app's generic one, and have the app
            # not add a second. The module global is read for each response, in this (forked) worker.
            import gunicorn.http.wsgi

            from webui.app import SERVER_HEADER

            gunicorn.http.wsgi.SERVER = SERVER_HEADER  # type: ignore[attr-defined]
            return create_app({"SERVER_HEADER": False})

    return EhcFlowApplication()


@main.command()
@click.option("--bind", default=lambda: os.environ.get("EHCFLOW_BIND", "127.0.0.1:8000"), show_default="127.0.0.1:8000",
              help="Address and port (or unix:PATH) to listen on; EHCFLOW_BIND.")
@click.option("--workers", type=click.IntRange(1, 64), default=lambda: int(os.environ.get("EHCFLOW_WEB_WORKERS", 0))
              or default_workers(), show_default="2 x cores + 1, at most 8", help="Web processes; EHCFLOW_WEB_WORKERS.")
@click.option("--threads", type=click.IntRange(1, 64), default=4, show_default=True, help="Threads per process.")
@click.option("--timeout", type=click.IntRange(5, 600), default=60, show_default=True,
              help="Seconds before a stuck request's process is replaced.")
def serve(bind: str, workers: int, threads: int, timeout: int) -> None:
    """Serve the web app for production (gunicorn); run `ehcflow worker` beside it."""
    from engine.store.db import instance_dir
    from engine.store.migrate import pending
    from webui.config import secret_key

    services = build_services()
    behind = pending(services.db)
    if behind:
        raise click.ClickException(f"The database is {len(behind)} migration(s) behind: run `ehcflow db upgrade` "
                                   "first, once, before starting the web processes.")
    if not os.environ.get("EHCFLOW_SECRET_KEY"):
        # Made once here, before the fork: every process must sign cookies with the same key.
        secret_key(instance_dir().resolve())
    services.db.dispose()
    announce("ehcflow.serve", f"EHC Flow is serving at http://{bind}/ with {workers} process(es) of {threads} "
             f"thread(s) (database: {services.db.url.render_as_string(hide_password=True)}). Run `ehcflow worker` "
             "for the timers.")
    options = {"bind": bind, "workers": workers, "threads": threads, "worker_class": "gthread",
               "timeout": timeout, "accesslog": "-", "errorlog": "-", "proc_name": "ehcflow",
               # No control socket: it lives in the home folder, shared by every server on the host.
               "control_socket_disable": True}
    if log_format() == "json":
        options["logger_class"] = gunicorn_logger_class()  # its own lines and the access log as JSON too
    _gunicorn_app(options).run()
