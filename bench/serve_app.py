"""The benchmark's server process: the real web app over the benchmark's database, served by Werkzeug's threaded
server, in a process of its own so that its CPU time is the server's alone (the client runs in the parent).

`python -m bench.serve_app DATABASE_URL INSTANCE_FOLDER` prints the port it listens on, then serves until it is terminated.

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

from werkzeug.serving import make_server

PROBE = "/__bench__/cpu"


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


def main() -> None:
    from engine.runtime.services import build
    from webui.app import create_app

    url, instance = sys.argv[1], sys.argv[2]
    services = build(url)
    # Cookies over plain HTTP on the loopback (the benchmark has no TLS); everything else as in production.
    app = create_app({"SECRET_KEY": secrets.token_hex(32), "SESSION_COOKIE_SECURE": False,
                      "INSTANCE_PATH": instance}, services=services)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no access log: writing it would be charged to the step
    server = make_server("127.0.0.1", 0, CpuAccounting(app), threaded=True)
    print(server.server_port, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
