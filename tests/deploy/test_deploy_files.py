"""The deployment files in scripts/ and the guide that explains them (docs/deploying.md) stay true to the code.

Every setting the code reads is explained in the guide and listed in the example environment file (and that file lists
nothing else); every command a systemd unit runs is an ``ehcflow`` command, and the units pass ``systemd-analyze
verify``; the nginx example sends the headers the app trusts behind one proxy and lets the largest request through;
``nginx -t`` accepts it. The tools' checks run where the tools are installed and are skipped, saying so, elsewhere.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import request

from engine.runtime.services import Services
from tests.conftest import ROOT
from tests.web.conftest import make_app
from webui.cli import main
from webui.cli.production import serve
from webui.config import defaults

SYSTEMD = ROOT / "scripts" / "systemd"
NGINX = ROOT / "scripts" / "nginx" / "ehcflow.conf"
ENV_EXAMPLE = SYSTEMD / "ehcflow.env.example"
GUIDE = ROOT / "docs" / "deploying.md"
UNITS = sorted(SYSTEMD.glob("*.service")) + sorted(SYSTEMD.glob("*.timer"))
VENV_EHCFLOW = "/opt/ehcflow/.venv/bin/ehcflow"


def settings_read_by_the_code() -> set[str]:
    found: set[str] = {"DATABASE_URL"}
    for package in ("engine", "webui"):
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" not in path.parts:
                found |= set(re.findall(r"\bEHCFLOW_[A-Z][A-Z0-9_]*[A-Z0-9]\b", path.read_text(encoding="utf-8")))
    return found


def example_settings() -> dict[str, str]:
    """NAME=value lines, and the commented-out defaults (#NAME=value), of the example environment file."""
    settings: dict[str, str] = {}
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        match = re.fullmatch(r"#?([A-Z][A-Z0-9_]*)=(.*)", line)
        if match:
            settings[match.group(1)] = match.group(2)
        else:
            assert not line or line.startswith("# ") or line == "#", f"not a setting or a comment: {line!r}"
    return settings


def unit(path: Path) -> dict[str, list[str]]:
    """A unit file's keys and their values (a key may be given more than once)."""
    keys: dict[str, list[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith(("#", ";", "[")):
            key, _, value = line.partition("=")
            keys.setdefault(key, []).append(value)
    return keys


def test_every_setting_is_explained_and_in_the_example_file() -> None:
    read = settings_read_by_the_code()
    guide = GUIDE.read_text(encoding="utf-8")
    assert {name for name in read if f"`{name}`" not in guide} == set()
    assert set(example_settings()) == read


def test_the_units_run_ehcflow_commands_with_the_example_settings() -> None:
    assert {path.name for path in UNITS} == {"ehcflow-web.service", "ehcflow-worker.service",
                                             "ehcflow-backup.service", "ehcflow-backup.timer"}
    settings = example_settings()
    for path in UNITS:
        if path.suffix != ".service":
            continue
        keys = unit(path)
        assert keys["EnvironmentFile"] == ["/etc/ehcflow/ehcflow.env"], path.name
        assert keys["User"] == ["ehcflow"] and keys["UMask"] == ["0077"], path.name
        # The instance folder systemd makes for the service is the one the settings name.
        assert "/var/lib/" + keys["StateDirectory"][0] == settings["EHCFLOW_INSTANCE_DIR"], path.name
        [command] = keys["ExecStart"]
        words = shlex.split(command)
        if words[0] == "/bin/sh":  # the backup names its file with the date
            words = shlex.split(words[2])[1:]
        assert words[0] == VENV_EHCFLOW, path.name
        arguments = [word for word in words[1:] if not word.startswith("/var/")]
        result = CliRunner().invoke(main, [*arguments, "--help"], prog_name="ehcflow")
        assert result.exit_code == 0 and f"Usage: ehcflow {arguments[0]} " in result.output, (path.name, result.output)
    web = unit(SYSTEMD / "ehcflow-web.service")
    assert web["ExecStart"] == [f"{VENV_EHCFLOW} serve"]  # it listens where nginx looks (EHCFLOW_BIND)
    assert settings["EHCFLOW_BIND"] == "127.0.0.1:8000" and settings["EHCFLOW_TRUST_PROXY"] == "1"
    # systemd waits for the requests under way (serve's timeout) before it kills what is left.
    assert int(web["TimeoutStopSec"][0]) > _serve_default("timeout")


def test_systemd_accepts_the_units(tmp_path: Path) -> None:
    verify = shutil.which("systemd-analyze")
    if verify is None:
        print("SKIP systemd-analyze is not installed")
        pytest.skip("systemd-analyze is not installed")
    ehcflow = Path(sys.executable).with_name("ehcflow")  # the venv's, whether or not it is on PATH
    assert ehcflow.is_file()
    for path in UNITS:  # the paths of this checkout, which exist here, for the paths of the guide's server
        text = path.read_text(encoding="utf-8").replace(VENV_EHCFLOW, str(ehcflow))
        (tmp_path / path.name).write_text(text.replace("/etc/ehcflow/ehcflow.env", str(ENV_EXAMPLE)))
    done = subprocess.run([verify, "verify", *(str(tmp_path / path.name) for path in UNITS)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ehcflow" not in done.stderr, done.stderr  # no warning about our units either


def _serve_default(name: str) -> int:
    [option] = [param for param in serve.params if param.name == name]
    return int(option.default)  # type: ignore[arg-type]


def test_nginx_sends_what_the_app_trusts_and_lets_the_largest_request_through() -> None:
    config = NGINX.read_text(encoding="utf-8")
    headers = dict(re.findall(r"proxy_set_header ([\w-]+) (.+);", config))
    assert headers["Host"] == "$host" and headers["X-Forwarded-Proto"] == "$scheme"
    assert headers["X-Forwarded-For"] == "$remote_addr"  # one hop: what the client sent is replaced
    assert headers["X-Forwarded-Host"] == "$host" and headers["X-Request-Id"] == "$request_id"
    size = re.search(r"client_max_body_size (\d+)m;", config)
    assert size and int(size.group(1)) * 1024 * 1024 >= defaults()["MAX_CONTENT_LENGTH"]
    read_timeout = re.search(r"proxy_read_timeout (\d+)s;", config)
    assert read_timeout and int(read_timeout.group(1)) > _serve_default("timeout")
    assert "server 127.0.0.1:8000;" in config


def test_nginx_accepts_the_example(tmp_path: Path) -> None:
    nginx = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    openssl = shutil.which("openssl")
    if nginx is None or openssl is None:
        print("SKIP nginx or openssl is not installed")
        pytest.skip("nginx or openssl is not installed")
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
                    "/CN=ehcflow.example.gov.uk", "-keyout", str(tmp_path / "key.pem"), "-out",
                    str(tmp_path / "cert.pem")], check=True, capture_output=True, timeout=60)
    site = NGINX.read_text(encoding="utf-8")
    site = site.replace("/etc/letsencrypt/live/ehcflow.example.gov.uk/fullchain.pem", str(tmp_path / "cert.pem"))
    site = site.replace("/etc/letsencrypt/live/ehcflow.example.gov.uk/privkey.pem", str(tmp_path / "key.pem"))
    (tmp_path / "site.conf").write_text(site)
    temp = " ".join(f"{kind}_temp_path {tmp_path / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi",
                                                                           "scgi"))
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path / 'nginx.pid'};\nerror_log {tmp_path / 'error.log'};\nevents {{}}\n"
        f"http {{\n  access_log off;\n  {temp}\n  include {tmp_path / 'site.conf'};\n}}\n")
    done = subprocess.run([nginx, "-t", "-q", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("trusted", [True, False])
def test_the_app_reads_the_proxy_headers_only_when_told_to(services: Services, tmp_path: Path, trusted: bool) -> None:
    app = make_app(services, tmp_path, TRUST_PROXY=trusted)
    app.add_url_rule("/_seen", "seen", lambda: f"{request.scheme} {request.remote_addr} {request.host}")
    seen = app.test_client().get("/_seen", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9",
                                                    "X-Forwarded-Host": "ehcflow.example.gov.uk"})
    expected = "https 203.0.113.9 ehcflow.example.gov.uk" if trusted else "http 127.0.0.1 localhost"
    assert seen.get_data(as_text=True) == expected


def test_the_guide_names_its_files_and_is_linked() -> None:
    guide = GUIDE.read_text(encoding="utf-8")
    for path in [*UNITS, ENV_EXAMPLE, NGINX]:
        assert str(path.relative_to(ROOT)) in guide, path.name
    for command in ("ehcflow db upgrade", "ehcflow backup", "ehcflow restore", "ehcflow serve", "ehcflow worker",
                    "createdb", "pg_restore"):
        assert command in guide, command
    assert "docs/deploying.md" in (ROOT / "README.md").read_text(encoding="utf-8")
    assert "deploying.md" in (ROOT / "docs" / "production.md").read_text(encoding="utf-8")
