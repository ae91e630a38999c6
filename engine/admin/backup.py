"""Backing up a whole EHC Flow service into one file, and restoring it into a fresh database and instance folder.

A backup is a gzip-compressed tar archive holding:

- ``manifest.json``: the format, when it was made, the kind of database and its migration revision, the files;
- ``database.sqlite3`` (SQLite's online backup: a consistent copy while the service runs) or ``database.pgdump``
  (``pg_dump --format=custom``: one consistent snapshot, restored with ``pg_restore``);
- ``instance/...``: the instance folder's files (uploaded documents, the outbox, the generated secret key), without
  the live SQLite database, which is already in the archive.

The database is copied before the files: a document row in the backup then always has its file (a file uploaded in
between is an orphan the restored service ignores, never a row without its file).

A restore writes only into a database that has no tables (SQLite: a file that does not exist yet or is empty;
PostgreSQL: a database made with ``createdb``) and refuses before writing anything when a file it would write already
exists with other content, so it never mixes two services' data. The schema is restored at the backup's revision: run
the migrations afterwards when the code is newer (``pending`` says so).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath

from sqlalchemy import inspect, make_url, text

from engine.errors import EngineError
from engine.store.db import make_engine, normalise_url

FORMAT = 1
MANIFEST = "manifest.json"
INSTANCE_PREFIX = "instance/"
DATABASE_MEMBERS = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}


class BackupFailed(EngineError):
    """The backup or the restore could not be made; the message says why and what to do."""


@dataclass
class BackupSummary:
    path: Path
    database: str
    revision: str | None
    files: list[str] = field(default_factory=list)


def database_kind(url: str) -> str:
    backend = make_url(normalise_url(url)).get_backend_name()
    if backend not in DATABASE_MEMBERS:
        raise BackupFailed(f"Backups support SQLite and PostgreSQL databases, not {backend}.")
    return backend


# ---- backing up ------------------------------------------------------------------------------------------------------

def backup(url: str, instance: Path, target: Path, now: datetime) -> BackupSummary:
    """Writes the backup of the database at ``url`` and the files of ``instance`` to ``target`` (readable by this
    user only). The archive is written beside the target and renamed into place, so a failed backup leaves no
    half-written file under the target's name."""
    kind = database_kind(url)
    target = target.resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    revision = _revision(url)
    files = _instance_files(instance, url, target)
    partial = target.with_name(target.name + ".partial")
    with tempfile.TemporaryDirectory(prefix="ehcflow-backup-") as scratch:
        dump = Path(scratch) / DATABASE_MEMBERS[kind]
        if kind == "sqlite":
            _sqlite_copy(_sqlite_path(url), dump)
        else:
            _pg_dump(url, dump)
        manifest = {"format": FORMAT, "created": now.isoformat(), "database": kind, "revision": revision,
                    "files": files}
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as archive:
                _add_bytes(archive, MANIFEST, json.dumps(manifest, indent=2).encode())
                archive.add(dump, arcname=dump.name, recursive=False, filter=_anonymous)
                for name in files:
                    archive.add(instance / name, arcname=INSTANCE_PREFIX + name, recursive=False, filter=_anonymous)
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)
    return BackupSummary(target, kind, revision, files)


def _revision(url: str) -> str | None:
    if database_kind(url) == "sqlite" and not _sqlite_path(url).exists():
        raise BackupFailed(f"There is no database at {_sqlite_path(url)}.")
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return None
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    finally:
        engine.dispose()


def _instance_files(instance: Path, url: str, target: Path) -> list[str]:
    """The regular files under the instance folder, as relative POSIX paths, without the live SQLite database (and
    its journal files) and without the backup being written. Links are not followed: they could point anywhere."""
    if not instance.is_dir():
        return []
    skip = {target}
    if database_kind(url) == "sqlite":
        live = _sqlite_path(url).resolve()
        skip |= {live, *(live.with_name(live.name + suffix) for suffix in ("-wal", "-shm", "-journal"))}
    found: list[str] = []
    for path in sorted(instance.rglob("*")):
        if path.is_symlink() or not path.is_file() or path.resolve() in skip or path.name.endswith(".partial"):
            continue
        found.append(path.relative_to(instance).as_posix())
    return found


def _anonymous(info: tarfile.TarInfo) -> tarfile.TarInfo:
    # The restoring user owns what it writes: this host's user names and modes mean nothing on another.
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    info.mode = 0o600
    return info


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o600
    archive.addfile(info, io.BytesIO(data))


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise BackupFailed("Backups need a SQLite database in a file.")
    return Path(database)


def _sqlite_copy(source: Path, destination: Path) -> None:
    """SQLite's online backup: a consistent copy of a database that others may be writing (WAL included)."""
    if not source.exists():
        raise BackupFailed(f"There is no database at {source}.")
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dst = sqlite3.connect(destination)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


# ---- PostgreSQL's own tools ------------------------------------------------------------------------------------------

def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """The URL pg_dump and pg_restore understand, and their environment: the password goes in PGPASSWORD rather than
    on the command line, where every user of the machine could read it in the process list."""
    parsed = make_url(normalise_url(url))
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return plain, env


def _run_tool(command: list[str], env: dict[str, str], what: str) -> None:
    tool = shutil.which(command[0])
    if tool is None:
        raise BackupFailed(f"{command[0]} was not found: install the PostgreSQL client tools (Debian: "
                           "postgresql-client) of the server's major version or newer.")
    done = subprocess.run([tool, *command[1:]], env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupFailed(f"{what} failed: {done.stderr.strip() or done.stdout.strip()}")


def _pg_dump(url: str, destination: Path) -> None:
    plain, env = _libpq(url)
    _run_tool(["pg_dump", "--format=custom", f"--file={destination}", f"--dbname={plain}"], env, "pg_dump")


def _pg_restore(url: str, source: Path) -> None:
    # One transaction: a restore that fails half-way leaves the database empty, ready to try again. Owners and grants
    # are the old server's: the tables belong to whoever restores them.
    plain, env = _libpq(url)
    _run_tool(["pg_restore", "--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error",
               f"--dbname={plain}", str(source)], env, "pg_restore")


# ---- restoring -------------------------------------------------------------------------------------------------------

def read_manifest(source: Path) -> dict[str, object]:
    try:
        with tarfile.open(source, mode="r:gz") as archive:
            member = archive.extractfile(MANIFEST)
            manifest = json.loads(member.read()) if member else None
    except (OSError, tarfile.TarError, KeyError, ValueError) as exc:
        raise BackupFailed(f"{source} is not an EHC Flow backup ({exc}).") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupFailed(f"{source} is not an EHC Flow backup of format {FORMAT}.")
    return manifest


def restore(source: Path, url: str, instance: Path) -> BackupSummary:
    """Restores the backup at ``source`` into the empty database at ``url`` and the instance folder ``instance``."""
    manifest = read_manifest(source)
    kind = database_kind(url)
    if manifest["database"] != kind:
        raise BackupFailed(f"This is a backup of a {manifest['database']} database; it restores into "
                           f"{manifest['database']} only, not into {kind}.")
    _require_empty(url, kind)
    with tarfile.open(source, mode="r:gz") as archive:
        files = _files_to_write(archive, instance)
        with tempfile.TemporaryDirectory(prefix="ehcflow-restore-") as scratch:
            dump = Path(scratch) / DATABASE_MEMBERS[kind]
            _extract_to(archive, DATABASE_MEMBERS[kind], dump)
            if kind == "sqlite":
                target = _sqlite_path(url)
                target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                os.close(os.open(target, os.O_CREAT | os.O_WRONLY, 0o600))
                _sqlite_copy(dump, target)
            else:
                _pg_restore(url, dump)
        for name, member in files:
            _extract_to(archive, member, instance / name)
    revision = manifest.get("revision")
    return BackupSummary(source, kind, revision if isinstance(revision, str) else None, [name for name, _ in files])


def _require_empty(url: str, kind: str) -> None:
    if kind == "sqlite":
        path = _sqlite_path(url)
        if not path.exists() or path.stat().st_size == 0:
            return
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            tables = inspect(conn).get_table_names()
    finally:
        engine.dispose()
    if tables:
        raise BackupFailed(f"The database {make_url(url).render_as_string(hide_password=True)} already has "
                           f"{len(tables)} table(s): restore into a new, empty database.")


def _files_to_write(archive: tarfile.TarFile, instance: Path) -> list[tuple[str, str]]:
    """The instance files in the archive as (relative path, member name), checked before anything is written: each
    name stays inside the instance folder, and none would overwrite a different file already there."""
    chosen: list[tuple[str, str]] = []
    clashes: list[str] = []
    for member in archive.getmembers():
        if not member.name.startswith(INSTANCE_PREFIX):
            continue
        relative = PurePosixPath(member.name[len(INSTANCE_PREFIX):])
        if not member.isfile() or relative.is_absolute() or ".." in relative.parts or not relative.parts:
            raise BackupFailed(f"The backup holds an unsafe entry {member.name!r}: it was not made by EHC Flow.")
        existing = instance / relative
        if existing.exists():
            packed = archive.extractfile(member)
            if packed is None or existing.read_bytes() != packed.read():
                clashes.append(str(relative))
            continue
        chosen.append((str(relative), member.name))
    if clashes:
        raise BackupFailed(f"The instance folder {instance} already has other versions of {len(clashes)} file(s) in "
                           f"the backup ({', '.join(clashes[:5])}): restore into an empty instance folder.")
    return chosen


def _extract_to(archive: tarfile.TarFile, member: str, destination: Path) -> None:
    packed = archive.extractfile(member)
    if packed is None:
        raise BackupFailed(f"The backup has no {member}.")
    destination.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(destination, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        shutil.copyfileobj(packed, out)
