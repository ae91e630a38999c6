"""The routes as deployed: their versions, who deployed each and when, how many instances run on each, and the set of
files the current versions were built from (what an upload is checked against).

Each version row keeps the files it was built from (``ProcessVersion.files``), so a version deployed from the web
page can always be downloaded and committed to ``workflows/``; ``differs_from_folder`` says when the current
version is not what the folders hold, and ``web_versions_replaced`` when deploying the folders would replace (or go
back from) a version deployed from the web page: ``ehcflow workflows deploy`` refuses then, and ``ehcflow setup``
keeps the web page's version.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from lxml import etree
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engine.library.lint.document import NS
from engine.library.registry import ProcessRegistry
from engine.store.models import HumanTask, ProcessInstance, ProcessVersion, User

FINISHED = ("completed", "terminated")


@dataclass
class VersionSummary:
    id: int
    process_id: str
    name: str
    short_hash: str
    deployed_at: datetime
    deployed_by: str | None
    is_current: bool
    running: int
    files: list[str]


@dataclass
class RouteSummary:
    process_id: str
    name: str
    versions: list[VersionSummary] = field(default_factory=list)  # newest first
    # The current version's files that are missing from, or different in, workflows/ and forms/.
    not_in_folders: list[str] = field(default_factory=list)

    @property
    def current(self) -> VersionSummary | None:
        return next((v for v in self.versions if v.is_current), None)

    @property
    def running(self) -> int:
        return sum(v.running for v in self.versions)


def running_counts(session: Session) -> dict[int, int]:
    """Unfinished instances per version id."""
    rows = session.execute(select(ProcessInstance.process_version_id, func.count())
                           .where(ProcessInstance.status.not_in(FINISHED))
                           .group_by(ProcessInstance.process_version_id))
    return {version_id: count for version_id, count in rows}


def _summary(version: ProcessVersion, deployer: str | None, running: int) -> VersionSummary:
    return VersionSummary(version.id, version.process_id, version.name or version.process_id, version.short_hash,
                          version.deployed_at, deployer, version.is_current, running, sorted(version.files or {}))


def routes(session: Session, workflows_dir: Path | None = None, forms_dir: Path | None = None) -> list[RouteSummary]:
    """Every deployed route with its versions; with the folders given, which current files they do not hold."""
    counts = running_counts(session)
    rows = session.execute(select(ProcessVersion, User.name).outerjoin(User, User.id == ProcessVersion.deployed_by_id)
                           .order_by(ProcessVersion.process_id, ProcessVersion.deployed_at.desc(),
                                     ProcessVersion.id.desc()))
    by_id: dict[str, RouteSummary] = {}
    for version, deployer in rows:
        route = by_id.setdefault(version.process_id, RouteSummary(version.process_id, version.name or ""))
        route.versions.append(_summary(version, deployer, counts.get(version.id, 0)))
        if version.is_current:
            route.name = version.name or version.process_id
            if workflows_dir is not None and forms_dir is not None:
                route.not_in_folders = differs_from_folder(version, workflows_dir, forms_dir)
    for route in by_id.values():
        route.name = route.name or route.process_id
    return sorted(by_id.values(), key=lambda r: r.name.lower())


def version_summary(session: Session, version: ProcessVersion) -> VersionSummary:
    deployer = session.get(User, version.deployed_by_id).name if version.deployed_by_id else None
    return _summary(version, deployer, running_counts(session).get(version.id, 0))


def versions_of(session: Session, process_id: str) -> list[VersionSummary]:
    """The versions of one route, newest first."""
    counts = running_counts(session)
    rows = session.execute(select(ProcessVersion, User.name).outerjoin(User, User.id == ProcessVersion.deployed_by_id)
                           .where(ProcessVersion.process_id == process_id)
                           .order_by(ProcessVersion.deployed_at.desc(), ProcessVersion.id.desc()))
    return [_summary(version, deployer, counts.get(version.id, 0)) for version, deployer in rows]


def differs_from_folder(version: ProcessVersion, workflows_dir: Path, forms_dir: Path) -> list[str]:
    """The version's files that the folders do not hold as they are (missing or different)."""
    out = []
    for name, text in sorted((version.files or {}).items()):
        folder, _, base = name.partition("/")
        path = (workflows_dir if folder == "workflows" else forms_dir) / base
        try:
            on_disk = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            on_disk = None
        if on_disk != text:
            out.append(name)
    return out


def deployed_files(session: Session) -> dict[str, str]:
    """The files of every route's current version ('workflows/x.bpmn', 'forms/y.json'), the latest deployment
    winning where two versions hold different texts of one file."""
    files: dict[str, str] = {}
    versions = session.scalars(select(ProcessVersion).where(ProcessVersion.is_current.is_(True))
                               .order_by(ProcessVersion.deployed_at, ProcessVersion.id))
    for version in versions:
        files.update(version.files or {})
    return files


def process_ids(text: str) -> set[str]:
    """The ids of the processes a BPMN text defines, whatever prefix it gives the BPMN namespace; none when it does
    not parse (the checker says why)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    try:
        tree = etree.fromstring(text.encode("utf-8"), parser)
    except Exception:  # noqa: BLE001 - malformed files simply define nothing here
        return set()
    return {p.get("id") for p in tree.findall("bpmn:process", NS) if p.get("id")}


def registry_of_files(files: dict[str, str]) -> ProcessRegistry:
    """The processes of a set of checked files ('workflows/x.bpmn', 'forms/y.json'), parsed again."""
    bpmn = {n: t for n, t in files.items() if n.startswith("workflows/")}
    forms = {n[len("forms/"):]: t for n, t in files.items() if n.startswith("forms/")}
    return ProcessRegistry.from_texts(bpmn, None, forms)


@dataclass
class WebVersionKept:
    """A route whose current version was deployed from the web page and is not what the files being deployed hold."""

    process_id: str
    short_hash: str
    deployed_by: str
    deployed_at: datetime
    files_are_older: bool  # the files are a version deployed before it (deploying them would go back)

    def __str__(self) -> str:
        what = "would go back to an older version" if self.files_are_older else "would replace it"
        return (f"{self.process_id}: version {self.short_hash} was deployed from the Routes page by "
                f"{self.deployed_by} on {self.deployed_at:%Y-%m-%d}; the files being deployed {what}")


def web_versions_replaced(session: Session, registry: ProcessRegistry) -> list[WebVersionKept]:
    """The routes for which deploying the registry (typically the project's folders) would replace a version that a
    process owner deployed from the web page. Such a version's files are kept on its row; until they are committed to
    the folders, deploying the folders would silently undo the change."""
    out = []
    for process in registry.processes.values():
        row = session.execute(select(ProcessVersion, User.name).join(User, User.id == ProcessVersion.deployed_by_id)
                              .where(ProcessVersion.process_id == process.process_id,
                                     ProcessVersion.is_current.is_(True))).first()
        if row is None or row[0].version_hash == process.version_hash:
            continue
        current, deployer = row
        older = session.scalars(select(ProcessVersion.id).where(
            ProcessVersion.process_id == process.process_id, ProcessVersion.version_hash == process.version_hash,
            ProcessVersion.deployed_at <= current.deployed_at)).first() is not None
        out.append(WebVersionKept(process.process_id, current.short_hash, deployer, current.deployed_at, older))
    return out


def without(registry: ProcessRegistry, process_ids: set[str]) -> ProcessRegistry:
    """The registry less some processes (to deploy the others)."""
    return ProcessRegistry({pid: p for pid, p in registry.processes.items() if pid not in process_ids})


@dataclass
class InstanceSummary:
    id: int
    case_id: int
    status: str
    started_at: datetime
    open_steps: list[str]


def instance_summaries(session: Session, ids: list[int]) -> dict[int, InstanceSummary]:
    """The instances by id, with the names of their open tasks (from the projections; nothing is deserialized)."""
    if not ids:
        return {}
    steps: dict[int, list[str]] = {}
    for instance_id, name in session.execute(select(HumanTask.instance_id, HumanTask.name)
                                             .where(HumanTask.instance_id.in_(ids), HumanTask.status == "open")
                                             .order_by(HumanTask.id)):
        steps.setdefault(instance_id, []).append(name)
    rows = session.scalars(select(ProcessInstance).where(ProcessInstance.id.in_(ids)))
    return {r.id: InstanceSummary(r.id, r.case_id, r.status, r.created_at, steps.get(r.id, [])) for r in rows}
