"""The HTTP side of the headline benchmark: a client that behaves as a browser (cookies, the CSRF token from each
page, no JavaScript) against the real app served in its own process (bench/serve_app.py).

The step is what a caseworker does on a looping route: post the current task's form, then open the next task's page.
The server's CPU per step is read from the server process itself (its CPU time before and after the step); the
wall time is the client's.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy import select

from bench.serve_app import PROBE
from engine.runtime.workflow_engine import WorkflowEngine
from engine.store.models import HumanTask

ROOT = Path(__file__).parent.parent
TOKEN = re.compile(rb'name="csrf_token" value="([^"]+)"')


class Browser:
    """One person's browser: one kept-alive connection, the cookies the server set, the last CSRF token seen."""

    def __init__(self, port: int) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.cookies: dict[str, str] = {}
        self.token: str | None = None

    def request(self, method: str, path: str, fields: dict[str, str] | None = None,
                expect: int = 200) -> tuple[http.client.HTTPResponse, bytes]:
        headers = {"Accept": "text/html"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        body = None
        if fields is not None:
            body = urlencode({**fields, "csrf_token": self.token or ""})
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            # The server closed a connection left idle (gunicorn keeps one alive for 2 s) before reading this
            # request, so sending it again on a new connection does it once.
            self.conn.close()
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
        data = response.read()
        for cookie in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = cookie.partition("=")
            value = rest.split(";", 1)[0]
            if not value or "Max-Age=0" in cookie or "1970" in cookie:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        match = TOKEN.search(data)
        if match:
            self.token = match.group(1).decode()
        if response.status != expect:
            raise RuntimeError(f"{method} {path}: {response.status} (expected {expect}) {data[:500]!r}")
        return response, data

    def sign_in(self, email: str, password: str) -> None:
        self.request("GET", "/sign-in")
        self.request("POST", "/sign-in", {"email": email, "password": password}, expect=302)

    def close(self) -> None:
        self.conn.close()


class Server:
    """The app in a child process; stopped (terminated by its own pid) when the benchmark is done with it."""

    def __init__(self, url: str, workdir: Path, kind: str = "gunicorn") -> None:
        self.log = (workdir / "server.log").open("w")
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.process = subprocess.Popen([sys.executable, "-m", "bench.serve_app", url, str(workdir / "instance"), kind],
                                        cwd=ROOT, env=env,
                                        stdout=subprocess.PIPE, stderr=self.log, text=True)
        assert self.process.stdout is not None
        line = self.process.stdout.readline().strip()
        if not line.isdigit():
            self.stop()
            raise RuntimeError(f"the benchmark server did not start; see {self.log.name}")
        self.port = int(line)

    def cpu(self, probe: Browser) -> tuple[float, list[float]]:
        _, data = probe.request("GET", PROBE)
        answer = json.loads(data)
        return answer["process_cpu_ms"], answer["requests_cpu_ms"]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


def open_task_id(engine: WorkflowEngine, instance_id: int) -> int:
    with engine.session_factory() as s:
        return s.scalars(select(HumanTask.id).where(HumanTask.instance_id == instance_id,
                                                    HumanTask.status == "open")).one()


def step_loop(server: Server, browser: Browser, engine: WorkflowEngine, instance_id: int,
              steps: int) -> dict[str, list[float]]:
    """`steps` times: POST the open task's form, GET the next task's page. Returns per step the server's process CPU
    (between two probes, so it includes the probes' own small share), the app's CPU for the two requests alone, and
    the client's wall time for the two requests."""
    probe = Browser(server.port)
    task_id = open_task_id(engine, instance_id)
    browser.request("GET", f"/tasks/{task_id}")
    result: dict[str, list[float]] = {"process_cpu": [], "app_cpu": [], "wall": []}
    before, _ = server.cpu(probe)
    for n in range(steps):
        began = time.perf_counter()
        browser.request("POST", f"/tasks/{task_id}", {"note": f"step {n} " + "x" * 40}, expect=302)
        posted = time.perf_counter() - began
        task_id = open_task_id(engine, instance_id)  # what the next link on the list would say; not timed
        began = time.perf_counter()
        browser.request("GET", f"/tasks/{task_id}")
        wall = posted + time.perf_counter() - began
        after, requests = server.cpu(probe)
        result["process_cpu"].append(after - before)
        result["app_cpu"].append(sum(requests))
        result["wall"].append(wall * 1000)
        before = after
    probe.close()
    return result


def page_times(browser: Browser, path: str, samples: int) -> list[float]:
    """Client wall time of GET `path`, `samples` times (after one untimed warm-up)."""
    browser.request("GET", path)
    timings: list[float] = []
    for _ in range(samples):
        began = time.perf_counter()
        browser.request("GET", path)
        timings.append((time.perf_counter() - began) * 1000)
    return timings

