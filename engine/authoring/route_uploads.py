"""Changed BPMN files and forms uploaded by a process owner: kept aside, checked, and deployed only when confirmed.

An upload lives in its own folder under the instance folder (``route-uploads/<token>/``): ``uploaded/`` holds the
files as sent, under names that were checked to be plain file names. Checking copies the files of every route's
current version into a folder of its own (``check-*/workflows`` and ``check-*/forms``, removed straight after),
puts the uploaded files over them, and runs the same checker as ``ehcflow workflows check`` on that folder, so a call
to an unchanged route resolves and a form that was not uploaded is the deployed one. Problems name files as the CLI
run in the project folder would (``workflows/x.bpmn``, ``forms/y.json``). Nothing in an upload is run: the checker
only parses, and scenarios run in the sandbox on a throw-away database. Upload folders are removed when deployed or
discarded, and after a day.
"""

from __future__ import annotations

import fcntl
import json
import re
import secrets
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.authoring.deployments import deployed_files, process_ids, registry_of_files
from engine.library.lint.checker import check_files
from engine.library.lint.problems import Problem
from engine.library.registry import ProcessRegistry, version_hash
from engine.store.models import AuditEvent, ProcessVersion, User

FOLDER = "route-uploads"
MAX_FILES = 40
MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_TOTAL_BYTES = 10 * 1024 * 1024
KEEP_FOR = timedelta(days=1)
EXTENSIONS = {".bpmn": "workflows", ".json": "forms"}

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,98}\Z")
_TOKEN = re.compile(r"[0-9a-f]{32}\Z")


class UploadRefused(Exception):
    """The files cannot be taken at all (names, kinds, sizes); each message is for the person who sent them."""

    def __init__(self, messages: list[str]) -> None:
        self.messages = messages
        super().__init__("; ".join(messages))


@dataclass
class Upload:
    token: str
    folder: Path
    user_id: int
    created_at: datetime
    files: list[str]  # 'workflows/x.bpmn', 'forms/y.json', as uploaded

    @property
    def uploaded(self) -> Path:
        return self.folder / "uploaded"

    def text(self, name: str) -> str:
        return (self.uploaded / name).read_text(encoding="utf-8")


@dataclass
class ProcessChange:
    process_id: str
    name: str
    new_hash: str
    current_hash: str | None  # None: a route that is not deployed yet
    current_id: int | None

    @property
    def changed(self) -> bool:
        return self.new_hash != self.current_hash


@dataclass
class CheckResult:
    problems: list[Problem] = field(default_factory=list)
    changes: list[ProcessChange] = field(default_factory=list)
    unused_forms: list[str] = field(default_factory=list)  # uploaded forms no route uses
    fingerprint: str = ""  # what was checked: the deploy step refuses if this has changed since
    registry: ProcessRegistry | None = None  # the processes, when the check passed
    files: dict[str, str] = field(default_factory=dict)  # what was checked: the deployed files, the uploaded over them

    @property
    def passed(self) -> bool:
        return not self.problems


def root(instance_path: str | Path) -> Path:
    return Path(instance_path) / FOLDER


# ---- taking the files ------------------------------------------------------------------------------------------------
def refusals(files: Iterable[tuple[str, bytes]]) -> list[str]:
    """Why the files cannot be taken, one message per problem; [] when they can."""
    items = list(files)
    messages: list[str] = []
    if not items:
        return ["Select at least one .bpmn or .json file"]
    if len(items) > MAX_FILES:
        messages.append(f"Upload at most {MAX_FILES} files at once")
    seen: set[str] = set()
    total = 0
    for name, data in items:
        shown = name if len(name) <= 100 else name[:100] + "…"
        suffix = Path(name).suffix.lower()
        if suffix not in EXTENSIONS:
            messages.append(f"{shown}: only .bpmn files (routes) and .json files (forms) can be uploaded")
            continue
        if not _NAME.match(name) or name.startswith(".") or Path(name).suffix != suffix:
            messages.append(f"{shown}: a file name may only use letters, numbers, '-', '_' and '.', with a "
                            f"lower-case extension")
            continue
        if name in seen:
            messages.append(f"{shown}: the file was selected twice")
        seen.add(name)
        if not data:
            messages.append(f"{shown}: the file is empty")
        elif len(data) > MAX_FILE_BYTES:
            messages.append(f"{shown}: the file is larger than {MAX_FILE_BYTES // (1024 * 1024)}MB")
        else:
            try:
                data.decode("utf-8")
            except UnicodeDecodeError:
                messages.append(f"{shown}: the file is not UTF-8 text")
        total += len(data)
    if total > MAX_TOTAL_BYTES:
        messages.append(f"The files together are larger than {MAX_TOTAL_BYTES // (1024 * 1024)}MB")
    return messages


def stage(instance_path: str | Path, files: list[tuple[str, bytes]], user: User, now: datetime) -> Upload:
    """Keeps the files in a new upload folder (raising UploadRefused when they cannot be taken at all)."""
    messages = refusals(files)
    if messages:
        raise UploadRefused(messages)
    clean_old(instance_path, now)
    token = secrets.token_hex(16)
    folder = root(instance_path) / token
    names = []
    for name, data in files:
        relative = f"{EXTENSIONS[Path(name).suffix]}/{name}"
        target = folder / "uploaded" / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        names.append(relative)
    meta = {"user_id": user.id, "created_at": now.isoformat(), "files": sorted(names)}
    (folder / "upload.json").write_text(json.dumps(meta), encoding="utf-8")
    return Upload(token, folder, user.id, now, sorted(names))


def find(instance_path: str | Path, token: str, user: User, now: datetime | None = None) -> Upload | None:
    """The user's own upload with that token; another user's, one older than KEEP_FOR at ``now`` (the folder is
    removed at the next upload, and its check is a day old), or a token that is not one, is None."""
    if not _TOKEN.match(token):
        return None
    folder = root(instance_path) / token
    try:
        meta = json.loads((folder / "upload.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if meta.get("user_id") != user.id:
        return None
    created_at = datetime.fromisoformat(meta["created_at"])
    if now is not None and now - created_at > KEEP_FOR:
        return None
    return Upload(token, folder, user.id, created_at, list(meta["files"]))


def discard(upload: Upload) -> None:
    shutil.rmtree(upload.folder, ignore_errors=True)


def clean_old(instance_path: str | Path, now: datetime) -> None:
    base = root(instance_path)
    if not base.is_dir():
        return
    for folder in base.iterdir():
        try:
            meta = json.loads((folder / "upload.json").read_text(encoding="utf-8"))
            stale = now - datetime.fromisoformat(meta["created_at"]) > KEEP_FOR
        except (OSError, ValueError, KeyError, TypeError):
            stale = True
        if stale:
            shutil.rmtree(folder, ignore_errors=True)


# ---- checking --------------------------------------------------------------------------------------------------------
def _defined(files: dict[str, str]) -> set[str]:
    return set().union(*(process_ids(t) for n, t in files.items() if n.startswith("workflows/")))


def combined_files(session: Session, upload: Upload) -> dict[str, str]:
    """The deployed files with the uploaded ones over them. A deployed file whose every process an uploaded file of
    another name defines is left out (the upload renames it), so the check does not report the ids twice."""
    files = deployed_files(session)
    uploaded = {name: upload.text(name) for name in upload.files}
    redefined = _defined(uploaded)
    for name in [n for n in files if n.startswith("workflows/") and n not in uploaded]:
        ids = process_ids(files[name])
        if ids and ids <= redefined:
            del files[name]
    files.update(uploaded)
    return files


def routes_left_behind(session: Session, upload: Upload) -> list[Problem]:
    """Deployed routes whose file an uploaded file of the same name replaces without defining them (a renamed process
    id, a process taken out). Deploying would leave such a route current with no file of its own among the deployed
    files, so that no later upload could change it; a new route needs a file of its own."""
    deployed = deployed_files(session)
    uploaded = {name: upload.text(name) for name in upload.files if name.startswith("workflows/")}
    defined = _defined(uploaded)
    current = set(session.scalars(select(ProcessVersion.process_id).where(ProcessVersion.is_current.is_(True))))
    problems = []
    for name in sorted(uploaded):
        for process_id in sorted((process_ids(deployed.get(name, "")) & current) - defined):
            problems.append(Problem(name, None, None,
                                    f"the deployed file of this name holds the route {process_id}, which this file "
                                    f"does not define any more; a route cannot be renamed or removed by an upload: "
                                    f"keep its process id, or give a new route a file of its own"))
    return problems


def _write(folder: Path, files: dict[str, str]) -> list[Path]:
    for sub in ("workflows", "forms"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return sorted((folder / "workflows").glob("*.bpmn"))


def _as_in_project(problem: Problem, folder: Path) -> Problem:
    prefix = str(folder) + "/"
    return Problem(problem.file.replace(prefix, ""), problem.line, problem.element_id,
                   problem.message.replace(prefix, "").replace(str(folder), "."))


def check(session: Session, upload: Upload) -> CheckResult:
    """Checks the upload together with the deployed files, as ``ehcflow workflows check`` checks a folder."""
    files = combined_files(session, upload)
    # The fingerprint covers the current versions too: a deploy of the same file by someone else since the check
    # changes nothing in the combined files, but confirming would silently replace their version.
    current = {f"current/{pid}": h for pid, h in session.execute(
        select(ProcessVersion.process_id, ProcessVersion.version_hash).where(ProcessVersion.is_current.is_(True)))}
    result = CheckResult(fingerprint=version_hash({**files, **current}), files=files)
    # A folder per check, so that two requests on one upload never write over each other's files.
    with tempfile.TemporaryDirectory(prefix="check-", dir=upload.folder) as tmp:
        folder = Path(tmp)
        paths = _write(folder, files)
        result.problems = [_as_in_project(p, folder) for p in check_files(paths, folder / "forms")]
    if result.problems:
        return result
    result.problems = routes_left_behind(session, upload)  # only of files that parse, so after the checker
    if result.problems:
        return result
    registry = registry_of_files(files)
    result.registry = registry
    used = {name for process in registry.processes.values() for name in process.files}
    result.unused_forms = [n for n in upload.files if n.startswith("forms/") and n not in used]
    for process in registry.processes.values():
        row = session.scalars(select(ProcessVersion).where(ProcessVersion.process_id == process.process_id,
                                                           ProcessVersion.is_current.is_(True))).first()
        result.changes.append(ProcessChange(process.process_id, process.name, process.version_hash,
                                            row.version_hash if row else None, row.id if row else None))
    result.changes.sort(key=lambda c: (not c.changed, c.name.lower()))
    return result


# ---- deploying -------------------------------------------------------------------------------------------------------
class DeployRefused(Exception):
    def __init__(self, message: str, result: CheckResult | None = None) -> None:
        self.result = result
        super().__init__(message)


def deploy(engine: Any, upload: Upload, actor: User, fingerprint: str) -> list[ProcessVersion]:
    """Checks again and deploys: a new version for every process whose files changed, audited with the actor.

    ``fingerprint`` is the one shown when the person confirmed; if the deployed routes or the upload changed since,
    nothing is deployed and they are asked to look again.
    """
    # Without the lock two owners confirming at once both pass the fingerprint check before either has deployed, and
    # the second silently replaces the first's version.
    with _one_deploy_at_a_time(upload):
        with engine.session_factory() as session:
            result = check(session, upload)
        if not result.passed:
            raise DeployRefused("The files have problems; nothing was deployed", result)
        if fingerprint != result.fingerprint:
            raise DeployRefused("The deployed routes changed after you checked these files: look at the changes "
                                "again before you deploy", result)
        assert result.registry is not None
        created = engine.deploy(result.registry, actor)
        with engine.session_factory() as session:
            session.add(AuditEvent(
                at=engine.clock.now(), actor_id=actor.id, action="routes_uploaded",
                summary=f"Deployed uploaded files {', '.join(upload.files)}: "
                        + (", ".join(f"{v.process_id} version {v.short_hash}" for v in created) or "no route changed"),
                detail={"files": upload.files, "versions": [{"process_id": v.process_id, "hash": v.version_hash}
                                                           for v in created]}))
            session.commit()
    discard(upload)
    return created


@contextmanager
def _one_deploy_at_a_time(upload: Upload) -> Iterator[None]:
    """An exclusive lock for the check and deploy of an upload. Uploads live in one server's instance folder, so a
    lock there is held by every web worker that can see the upload."""
    lock = upload.folder.parent.parent / "route-deploy.lock"
    with open(lock, "a", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
