"""The benchmark's server process: the real web app over the benchmark's database, served as production serves it
(gunicorn, gthread worker, as `ehcflow serve` runs it) with one worker process, so that the CPU time the probe reads is
the server's alone (the client runs in the parent). `werkzeug` as the third argument serves it with Werkzeug's threaded
development server instead, for comparison.

`python -m bench.serve_app DATABASE_URL INSTANCE_FOLDER [gunicorn|werkzeug]` prints the port it listens on, then serves
until it is terminated. No access log is written by either: writing it would be charged to the step.

A thin WSGI wrapper answers `/__bench__/cpu` itself (the app never sees it) with this process's CPU time so far and
the CPU time each app request took since the last probe, so the client can charge a step with the server's CPU.
"""

from __future__ import annotations

import json
import logging
import secrets
import sys
import time
from collections.abc import Callable, Iterable
from typing import Any

PROBE = "/__bench__/cpu"
# One key for the run (a worker process gunicorn restarts would otherwise sign cookies with another).
SECRET = secrets.token_hex(32)


class CpuAccounting:
    """Records the process CPU time of every app request (requests come one at a time from the benchmark's client,
    so the process's CPU time while a request runs is that request's)."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.requests: list[float] = []

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == PROBE:
            body = json.dumps({"process_cpu_ms": time.process_time() * 1000, "requests_cpu_ms": self.requests})
            self.requests = []
            data = body.encode()
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
            return [data]
        began = time.process_time()
        result = self.app(environ, start_response)
        try:
            body_parts = list(result)  # the page is rendered while it is read
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        self.requests.append((time.process_time() - began) * 1000)
        return body_parts


def _app() -> CpuAccounting:
    from engine.runtime.services import build
    from webui.app import create_app

    url, instance = sys.argv[1], sys.argv[2]
    services = build(url)
    # Cookies over plain HTTP on the loopback (the benchmark has no TLS); everything else as in production.
    return CpuAccounting(create_app({"SECRET_KEY": SECRET, "SESSION_COOKIE_SECURE": False, "INSTANCE_PATH": instance},
                                    services=services))


def _werkzeug() -> None:
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server("127.0.0.1", 0, _app(), threaded=True)
    print(server.server_port, flush=True)
    server.serve_forever()


def _gunicorn() -> None:
    from gunicorn.app.base import BaseApplication

    class BenchServer(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            # As `ehcflow serve` (webui/cli/production.py) sets it, with one process: its CPU is the step's.
            for key, value in {"bind": "127.0.0.1:0", "workers": 1, "threads": 4, "worker_class": "gthread",
                               "timeout": 120, "errorlog": "-", "loglevel": "warning", "when_ready": _say_port,
                               "control_socket_disable": True}.items():
                if key in self.cfg.settings:
                    self.cfg.set(key, value)

        def load(self) -> CpuAccounting:
            return _app()

    BenchServer().run()


def _say_port(server: Any) -> None:
    print(server.LISTENERS[0].sock.getsockname()[1], flush=True)


def main() -> None:
    if len(sys.argv) > 3 and sys.argv[3] == "werkzeug":
        _werkzeug()
    else:
        _gunicorn()


if __name__ == "__main__":
    main()
