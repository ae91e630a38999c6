"""A backup restored into a fresh database runs (issue 20): ``ehcflow backup`` on a service with a route under way and
an uploaded document, ``ehcflow restore`` into a new database and instance folder, then the app on the restored copy:
a caseworker downloads the document, a parent signs in and completes their task on the web, and the engine completes
the last step. SQLite always; PostgreSQL (``pg_dump``/``pg_restore``) when TEST_DATABASE_URL is set.

A restore refuses a database that already has tables and an instance folder holding other versions of its files,
before writing anything.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import text
from sqlalchemy.engine import make_url

from engine.admin.backup import BackupFailed, read_manifest, restore
from engine.runtime.services import Services, build
from engine.statutory.clock import FrozenClock
from engine.store.db import make_engine
from engine.store.migrate import pending, upgrade
from engine.store.models import HumanTask, ProcessInstance
from tests.conftest import World, deploy_files, require_postgres
from tests.web.conftest import DATA, ROUTE, Client, make_app, open_task, soup
from tests.web.test_task_forms import VALID
from webui.cli import main

LETTER = b"Dear SEN team,\nPlease assess Alex.\n"


def ehcflow(args: list[str], url: str, instance: Path) -> Result:
    """The ``ehcflow`` command with the service's settings, as its environment file gives them."""
    return CliRunner().invoke(main, args, env={"DATABASE_URL": url, "EHCFLOW_INSTANCE_DIR": str(instance)})


@pytest.fixture(params=["sqlite", "postgresql"])
def databases(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """The service's database and a fresh, empty one to restore into."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'service.sqlite3'}", f"sqlite:///{tmp_path / 'restored' / 'ehcflow.sqlite3'}"
        return
    url = require_postgres()
    names = [f"ehcflow_backup_{os.getpid()}_{which}" for which in ("service", "restored")]
    admin = make_engine(url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for name in names:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            conn.execute(text(f"CREATE DATABASE {name}"))
    service, restored = (make_url(url).set(database=name).render_as_string(hide_password=False) for name in names)
    yield service, restored
    with admin.connect() as conn:
        for name in names:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
    admin.dispose()


def services_on(url: str) -> Services:
    return build(url, clock=FrozenClock(datetime(2026, 3, 2, 10, tzinfo=UTC)))


@pytest.mark.postgres
def test_a_backup_restored_into_a_fresh_database_runs(databases: tuple[str, str], tmp_path: Path) -> None:
    service_url, restored_url = databases
    service = services_on(service_url)
    upgrade(service.db)
    world = World(service)
    deploy_files(service.engine, [DATA / "web_route.bpmn"], DATA / "forms")
    instance_id = service.engine.start(world.case_id, ROUTE)
    app = make_app(service, tmp_path / "service")
    service_folder = Path(app.instance_path)

    # The caseworker records the request with the family's letter: a row in the database and a file in the folder.
    caseworker = Client(app)
    caseworker.sign_in(world.users["caseworker"].email)
    record = open_task(service, world.case_id, "UT_record")
    page = soup(caseworker.post(f"/tasks/{record.id}", VALID + [("_action", "add:contacts"),
                                                                 ("evidence", (io.BytesIO(LETTER), "letter.txt"))],
                                content_type="multipart/form-data", status=200))
    token = page.select_one("input[type=hidden][name=evidence]")["value"]
    caseworker.post(f"/tasks/{record.id}", VALID + [("evidence", token), ("_action", "submit")], status=302)
    views = open_task(service, world.case_id, "UT_views")

    backup_file = tmp_path / "backups" / "ehcflow.backup"
    made = ehcflow(["backup", str(backup_file)], service_url, service_folder)
    assert made.exit_code == 0, made.output
    assert oct(backup_file.stat().st_mode & 0o777) == "0o600"
    manifest = read_manifest(backup_file)
    assert f"uploads/{token}" in manifest["files"]  # type: ignore[operator]
    assert manifest["revision"] is not None

    restored_folder = tmp_path / "restored" / "instance"
    done = ehcflow(["restore", str(backup_file)], restored_url, restored_folder)
    assert done.exit_code == 0, done.output
    assert "Restored the" in done.output and "ehcflow db upgrade" not in done.output
    again = ehcflow(["restore", str(backup_file)], restored_url, tmp_path / "elsewhere")
    assert again.exit_code != 0 and "restore into a new, empty database" in again.output

    # The app starts on the restored copy (nothing to migrate), a person signs in and works.
    restored = services_on(restored_url)
    assert pending(restored.db) == []
    restored_app = make_app(restored, tmp_path / "restored")
    assert Path(restored_app.instance_path) == restored_folder.resolve()
    caseworker = Client(restored_app)
    caseworker.sign_in(world.users["caseworker"].email)
    assert caseworker.get(f"/tasks/{record.id}/files/{token}").data == LETTER
    parent = Client(restored_app)
    parent.sign_in(world.users["parent"].email)
    assert "Give your views" in parent.get(f"/tasks/{views.id}").get_data(as_text=True)
    parent.post(f"/tasks/{views.id}", {"views": "We agree.", "wants_meeting": "no", "_action": "submit"},
                status=302)
    decide = open_task(restored, world.case_id, "UT_decide")
    restored.engine.complete_task(decide.id, {"decision": "yes"}, world.users["manager"])
    with restored.session_factory() as s:
        assert s.get(HumanTask, views.id).submitted_data == {"views": "We agree.", "wants_meeting": False}
        assert s.get(ProcessInstance, instance_id).status == "completed"
    # The service's own database did not change.
    with service.session_factory() as s:
        assert s.get(HumanTask, views.id).status == "open"
    for services in (service, restored):
        services.db.dispose()


def test_a_restore_never_mixes_two_services(services: Services, tmp_path: Path) -> None:
    """Into a database with tables, or over other versions of the files: refused, and nothing written."""
    service_folder = tmp_path / "service"
    (service_folder / "uploads").mkdir(parents=True)
    (service_folder / "uploads" / "letter").write_bytes(LETTER)
    backup_file = tmp_path / "ehcflow.backup"
    made = ehcflow(["backup", str(backup_file)], services.db.url.render_as_string(hide_password=False),
                   service_folder)
    assert made.exit_code == 0, made.output

    fresh = tmp_path / "one-table.sqlite3"
    engine = make_engine(f"sqlite:///{fresh}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE notes (id INTEGER)"))
    engine.dispose()
    with pytest.raises(BackupFailed, match="already has 1 table"):
        restore(backup_file, f"sqlite:///{fresh}", tmp_path / "folder")
    assert not (tmp_path / "folder").exists()

    other = tmp_path / "other"
    (other / "uploads").mkdir(parents=True)
    (other / "uploads" / "letter").write_bytes(b"another service's letter")
    target = tmp_path / "new.sqlite3"
    with pytest.raises(BackupFailed, match="other versions of 1 file"):
        restore(backup_file, f"sqlite:///{target}", other)
    assert not target.exists()
    assert (other / "uploads" / "letter").read_bytes() == b"another service's letter"

    not_a_backup = tmp_path / "notes.txt"
    not_a_backup.write_text("hello")
    with pytest.raises(BackupFailed, match="not an EHC Flow backup"):
        restore(not_a_backup, f"sqlite:///{target}", tmp_path / "folder")


def test_the_live_sqlite_database_is_backed_up_once(tmp_path: Path) -> None:
    """The default layout keeps the SQLite database in the instance folder: it is in the backup as the database
    (a consistent copy), never as a file copied while it changes, and neither are its journal files."""
    folder = tmp_path / "instance"
    url = f"sqlite:///{folder / 'ehcflow.sqlite3'}"
    engine = make_engine(url)
    upgrade(engine)
    with engine.connect() as conn:  # an open connection keeps the -wal and -shm files
        conn.execute(text("SELECT 1"))
        (folder / "secret_key").write_text("kept")
        made = ehcflow(["backup", str(folder / "tonight.backup")], url, folder)
    engine.dispose()
    assert made.exit_code == 0, made.output
    assert read_manifest(folder / "tonight.backup")["files"] == ["secret_key"]
