"""``ehcflow workflows``: checking, deploying and testing the BPMN routes."""

from __future__ import annotations

import os
import sys
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import click
from lxml import etree

from engine.library.lint.checker import check_files
from engine.library.lint.document import BPMN_NS
from engine.library.registry import ParsedProcess, ProcessRegistry, RegistryError
from engine.store.db import PROJECT_ROOT
from webui.cli.group import build_services, main


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


def _read(path: Path) -> Any:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        return etree.parse(str(path), parser).getroot()
    except (OSError, etree.XMLSyntaxError):
        return None


def _executable_processes(path: Path) -> set[str]:
    """The executable process ids a BPMN file defines (nothing when it cannot be read: it is not being checked)."""
    root = _read(path)
    if root is None:
        return set()
    return {p.get("id") for p in root.iterfind(f"{{{BPMN_NS}}}process")
            if p.get("id") and p.get("isExecutable", "true") == "true"}


def _called_processes(path: Path) -> set[str]:
    root = _read(path)
    return set() if root is None else {c.get("calledElement") for c in root.iter(f"{{{BPMN_NS}}}callActivity")
                                       if c.get("calledElement")}


def _sibling_files(bpmn: list[Path]) -> list[Path]:
    """The other BPMN files in the folders of the files being checked: the processes they may call."""
    checked = {p.resolve() for p in bpmn}
    folders = sorted({p.resolve().parent for p in bpmn})
    return [p for folder in folders for p in sorted(folder.glob("*.bpmn")) if p.resolve() not in checked]


def _deployed_processes() -> set[str]:
    """The processes deployed in the database, when one is configured (DATABASE_URL, or the instance's SQLite file).

    Never creates a database: checking a file must work on a machine where nothing is set up."""
    from sqlalchemy import select
    from sqlalchemy.exc import SQLAlchemyError

    from engine.store.db import default_database_url, make_engine
    from engine.store.models import ProcessVersion

    url = os.environ.get("DATABASE_URL") or default_database_url()
    if url.startswith("sqlite:///") and not Path(url[len("sqlite:///"):]).is_file():
        return set()
    try:
        db = make_engine(url)
        try:
            with db.connect() as connection:
                return set(connection.scalars(select(ProcessVersion.process_id).distinct()))
        finally:
            db.dispose()
    except SQLAlchemyError as exc:
        click.echo(f"(the deployed processes could not be read, so calls to them count as missing: "
                   f"{type(exc).__name__})", err=True)
        return set()


def _describe_checked(bpmn: list[Path], siblings: Iterable[Path], forms_dir: Path) -> list[str]:
    """What the checked files hold, parsed together with the sibling files defining the processes they call."""
    checked = {pid for path in bpmn for pid in _executable_processes(path)}
    files, remaining = list(bpmn), list(siblings)
    wanted = {pid for path in files for pid in _called_processes(path)}
    while True:  # the processes called, and those they call in turn
        found = [p for p in remaining if _executable_processes(p) & wanted]
        if not found:
            break
        files += found
        remaining = [p for p in remaining if p not in found]
        wanted |= {pid for path in found for pid in _called_processes(path)}
    texts = {f"workflows/{p.name}": p.read_text(encoding="utf-8") for p in files}
    try:
        registry = ProcessRegistry.from_texts(texts, forms_dir)
    except Exception:  # noqa: BLE001 - a called process that is only deployed: list the ids only
        return [f"{pid} (calls a process that is deployed but not in this folder)" for pid in sorted(checked)]
    return [line for pid in sorted(checked) if pid in registry.processes
            for line in _describe(registry.processes[pid])]


@main.group()
def workflows() -> None:
    """Check, deploy and test the BPMN routes."""


@workflows.command("check")
@click.argument("paths", nargs=-1)
@click.option("--forms", "forms_dir", default=str(PROJECT_ROOT / "forms"), show_default=True,
              help="Folder of form files.")
def workflows_check(paths: tuple[str, ...], forms_dir: str) -> None:
    """Check BPMN files (or folders of them): print every problem as file:line: element-id: message.

    A call activity may call a process of the files checked, of the other files in their folders, or deployed in
    the database (when one is configured): a process owner can check the one file they changed."""
    bpmn = _bpmn_paths(paths)
    siblings = _sibling_files(bpmn)
    elsewhere = {pid for path in siblings for pid in _executable_processes(path)} | _deployed_processes()
    problems = check_files(bpmn, Path(forms_dir), other_processes=elsewhere)
    if problems:
        for problem in problems:
            click.echo(str(problem))
        click.echo(f"{len(problems)} problem(s) found.", err=True)
        sys.exit(1)
    described = _describe_checked(bpmn, siblings, Path(forms_dir))
    for line in described:
        click.echo(line)
    count = sum(len(_executable_processes(path)) for path in bpmn)
    click.echo(f"OK: {len(bpmn)} file(s), {count} process(es), no problems.")


@workflows.command("deploy")
@click.argument("paths", nargs=-1)
@click.option("--forms", "forms_dir", default=str(PROJECT_ROOT / "forms"), show_default=True)
@click.option("--force", is_flag=True, help="Replace versions deployed from the Routes page too.")
def workflows_deploy(paths: tuple[str, ...], forms_dir: str, force: bool) -> None:
    """Check and deploy BPMN files; processes whose files are unchanged keep their version."""
    from engine.authoring.deployments import web_versions_replaced

    services = build_services()
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
    from engine.authoring.scenarios import ScenarioError, load_scenario, run_scenario

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
