"""``ehcflow workflows``: checking, deploying and testing the BPMN routes."""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

import click

from engine.library.lint.checker import check_files
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
