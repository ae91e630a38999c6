"""The subject access export of a case (engine/admin/case_export.py) and the audit trail export
(engine/admin/audit_export.py): a real route run on both cases, read back from the ZIP and compared with the database.
The route's state is saved and restored between steps (restore_roundtrip)."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from engine.admin.audit_export import export_chunks, london_bounds, safe_cell
from engine.admin.case_export import CaseNotFound, case_record_zip, slug
from engine.runtime.services import Services
from engine.store.models import AuditEvent, Case, Deadline, Document, HumanTask
from tests.conftest import World
from tests.engine.test_runtime import deploy_demo, restore_roundtrip
from webui.cli import exports as exports_command
from webui.cli import main

EVIL = '<script>alert(1)</script> ../../etc/passwd'


def _document(services: Services, case_id: int, title: str, body: str) -> int:
    with services.session_factory() as s:
        doc = Document(case_id=case_id, kind="letter", title=title, body_html=body,
                       issued_at=services.engine.clock.now())
        s.add(doc)
        s.commit()
        return doc.id


@pytest.fixture
def run(services: Services, world: World) -> dict[str, int]:
    """The demo route on both cases; on the first one the register task is done (answers submitted) so there is a
    completed task, a deadline and audit events; the other case gets its own, which must not leak."""
    engine = services.engine
    deploy_demo(engine)
    mine = engine.start(world.case_id, "runtime_demo", {"explode": False}, world.users["caseworker"])
    theirs = engine.start(world.other_case_id, "runtime_demo", {"explode": False}, world.users["other_caseworker"])
    restore_roundtrip(services, mine)
    with services.session_factory() as s:
        task = s.scalars(select(HumanTask).where(HumanTask.instance_id == mine, HumanTask.status == "open")).one()
    engine.complete_task(task.id, {"concern": "speech " + EVIL}, world.users["caseworker"])
    restore_roundtrip(services, mine)
    restore_roundtrip(services, theirs)
    doc = _document(services, world.case_id, EVIL, "<p>Decision letter</p>")
    _document(services, world.other_case_id, "Secret of the other case", "<p>OTHER-CASE-SECRET</p>")
    return {"mine": mine, "theirs": theirs, "doc": doc}


def _zip(services: Services, case_id: int, **kwargs: object) -> zipfile.ZipFile:
    with services.session_factory() as s:
        return zipfile.ZipFile(io.BytesIO(case_record_zip(s, case_id, **kwargs)))  # type: ignore[arg-type]


def test_the_index_lists_every_item_and_the_contents_match_the_database(services: Services, world: World,
                                                                         run: dict[str, int]) -> None:
    archive = _zip(services, world.case_id, files=[("../../report <b>.pdf", b"%PDF-1.4 data")])
    names = archive.namelist()
    index = archive.read("index.html").decode()
    listed = re.findall(r'<a href="([^"]+)">', index)
    assert sorted(listed) == sorted(n for n in names if n != "index.html")
    doc_path = f"documents/{run['doc']}-script-alert-1-script-etc-passwd.html"
    assert {"case.json", "tasks.json", "deadlines.json", "audit.jsonl", doc_path, "uploads/1-report-b-pdf"} \
        <= set(names)
    assert archive.read("uploads/1-report-b-pdf") == b"%PDF-1.4 data"
    for name in names:  # nothing a user typed reaches a path
        assert ".." not in name and not name.startswith("/") and "<" not in name
    with services.session_factory() as s:
        case = s.get(Case, world.case_id)
        tasks = list(s.scalars(select(HumanTask).where(HumanTask.case_id == world.case_id).order_by(HumanTask.id)))
        deadlines = list(s.scalars(select(Deadline).where(Deadline.case_id == world.case_id)))
        events = list(s.scalars(select(AuditEvent).where(AuditEvent.case_id == world.case_id)
                                .order_by(AuditEvent.id)))
        details = json.loads(archive.read("case.json"))
        assert (details["reference"], details["child_first_name"], details["date_of_birth"]) == \
            (case.reference, "Alex", "2015-05-14")
        assert {p["role"] for p in details["parties"]} == {"health_body", "setting", "mediation_service", "family"}
        assert [p["person"]["email"] for p in details["parties"] if p["person"]] == ["parent@test.example"]
        exported_tasks = json.loads(archive.read("tasks.json"))
        assert [t["id"] for t in exported_tasks] == [t.id for t in tasks] and len(tasks) == 2
        done = next(t for t in exported_tasks if t["status"] == "completed")
        assert done["submitted_data"]["concern"] == "speech " + EVIL
        assert done["completed_by"]["email"] == "caseworker@test.example" and done["completed_at"]
        assert [d["key"] for d in json.loads(archive.read("deadlines.json"))] == [d.key for d in deadlines] \
            and deadlines
        lines = archive.read("audit.jsonl").decode().splitlines()
        assert [json.loads(line)["id"] for line in lines] == [e.id for e in events] and events
    assert "<script>" not in index and "&lt;script&gt;" in index  # the title is escaped in the index
    page = archive.read(doc_path).decode()
    assert "<p>Decision letter</p>" in page and "<title>&lt;script&gt;" in page


def test_nothing_of_another_case(services: Services, world: World, run: dict[str, int]) -> None:
    archive = _zip(services, world.case_id)
    everything = b"".join(archive.read(n) for n in archive.namelist())
    assert b"OTHER-CASE-SECRET" not in everything and b'"Bo"' not in everything and b"Otherham" not in everything
    assert all(json.loads(line)["case_id"] == world.case_id
               for line in archive.read("audit.jsonl").decode().splitlines())
    assert {t["instance_id"] for t in json.loads(archive.read("tasks.json"))} == {run["mine"]}
    with pytest.raises(CaseNotFound), services.session_factory() as s:
        case_record_zip(s, 999_999)


def test_slug_and_safe_cell() -> None:
    assert slug("../..//Étude: A&B") == "tude-a-b"
    assert slug("///") == "item"
    assert [safe_cell(v) for v in ("=1+1", "+1", "-2", "@SUM(A1)", "plain", None, 3)] == \
        ["'=1+1", "'+1", "'-2", "'@SUM(A1)", "plain", "", "3"]


def test_london_days_are_inclusive_and_follow_the_clock_change() -> None:
    """29 March 2026 is the day the clocks go forward: it starts at 00:00 GMT (00:00 UTC) and the next day starts at
    00:00 BST, which is 23:00 UTC on the 29th: a 23-hour day."""
    first, after = london_bounds(date(2026, 3, 29), date(2026, 3, 29))
    assert first.astimezone(UTC) == datetime(2026, 3, 29, 0, 0, tzinfo=UTC)
    assert after.astimezone(UTC) == datetime(2026, 3, 29, 23, 0, tzinfo=UTC)


def _add_event(services: Services, case_id: int | None, at: datetime, summary: str, actor_id: int | None) -> int:
    with services.session_factory() as s:
        event = AuditEvent(at=at, case_id=case_id, actor_id=actor_id, action="note", summary=summary)
        s.add(event)
        s.commit()
        return event.id


def test_audit_export_by_london_dates_for_the_admins_organisations(services: Services, world: World) -> None:
    """Events at the edges of Wednesday 1 July 2026 (BST, so the London day is 23:00 UTC on 30 June to 23:00 UTC on
    1 July): 22:59 UTC on 30 June is still 30 June in London and is left out; 22:59 UTC on 1 July is kept; 23:00 UTC
    on 1 July is already 2 July."""
    admin = world.users["admin"].id
    before = _add_event(services, world.case_id, datetime(2026, 6, 30, 22, 59, tzinfo=UTC), "before", admin)
    first = _add_event(services, world.case_id, datetime(2026, 6, 30, 23, 0, tzinfo=UTC), "=HYPERLINK(evil)", admin)
    last = _add_event(services, None, datetime(2026, 7, 1, 22, 59, tzinfo=UTC), "admin's own, no case", admin)
    _add_event(services, world.case_id, datetime(2026, 7, 1, 23, 0, tzinfo=UTC), "after", admin)
    _add_event(services, world.other_case_id, datetime(2026, 7, 1, 12, 0, tzinfo=UTC), "other LA", None)
    _add_event(services, None, datetime(2026, 7, 1, 12, 0, tzinfo=UTC), "other admin's",
               world.users["other_admin"].id)
    with services.session_factory() as s:
        jsonl = "".join(export_chunks(s, [world.la.id], date(2026, 7, 1), date(2026, 7, 1), "jsonl", batch=1))
        chunks = list(export_chunks(s, [world.la.id], date(2026, 7, 1), date(2026, 7, 1), "csv", batch=1))
    assert [json.loads(line)["id"] for line in jsonl.splitlines()] == [first, last]
    assert before not in [json.loads(line)["id"] for line in jsonl.splitlines()]
    rows = list(csv.reader(io.StringIO("".join(chunks))))
    assert rows[0][:3] == ["id", "at", "case_id"] and [r[0] for r in rows[1:]] == [str(first), str(last)]
    with services.session_factory() as s:
        reference = s.get(Case, world.case_id).reference
    assert (rows[1][3], rows[1][7]) == (reference, "'=HYPERLINK(evil)")  # a formula cell is quoted
    assert (rows[2][2], rows[2][3]) == ("", "")  # the admin's own event has no case
    assert len(chunks) == 3  # streamed: the header with the first row, the second row, the (empty) end
    with pytest.raises(ValueError), services.session_factory() as s:
        list(export_chunks(s, [world.la.id], date(2026, 7, 1), date(2026, 7, 1), "xlsx"))


@pytest.fixture
def cli(services: Services, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setattr(exports_command, "build_services", lambda: services)
    return CliRunner()


def test_cli_export_case_writes_the_zip_and_audits_it(cli: CliRunner, services: Services, world: World,
                                                      run: dict[str, int], tmp_path: Path) -> None:
    with services.session_factory() as s:
        reference = s.get(Case, world.case_id).reference
    out = tmp_path / "record.zip"
    refused = cli.invoke(main, ["export", "case", "NOPE-1", "--out", str(out), "--reason", "SAR"])
    assert refused.exit_code != 0 and "no case has the reference" in refused.output and not out.exists()
    empty = tmp_path / "uploads"
    empty.mkdir()
    result = cli.invoke(main, ["export", "case", reference, "--out", str(out), "--reason", "SAR 7",
                               "--uploads", str(empty)])
    assert result.exit_code == 0, result.output
    assert json.loads(zipfile.ZipFile(out).read("case.json"))["reference"] == reference
    with services.session_factory() as s:
        [event] = s.scalars(select(AuditEvent).where(AuditEvent.action == "case_exported")).all()
        assert (event.case_id, event.actor_id, event.detail["reason"]) == (world.case_id, None,
                                                                           "SAR 7 (command line)")


def _notes(path: Path) -> list[str]:
    """The summaries of the test's own events (the cases' "opened" events are on the same day)."""
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    return [r["summary"] for r in rows if r["action"] == "note"]


def test_cli_export_audit_by_dates_and_authority(cli: CliRunner, services: Services, world: World,
                                                 tmp_path: Path) -> None:
    """Monday 2 March 2026 (GMT: London days are UTC days)."""
    _add_event(services, world.case_id, datetime(2026, 3, 2, 10, 0, tzinfo=UTC), "ours", None)
    _add_event(services, world.other_case_id, datetime(2026, 3, 2, 11, 0, tzinfo=UTC), "theirs", None)
    _add_event(services, None, datetime(2026, 3, 2, 12, 0, tzinfo=UTC), "nobody's", None)
    out = tmp_path / "audit.jsonl"
    args = ["export", "audit", "--from", "2026-03-02", "--to", "2026-03-02", "--format", "jsonl", "--out", str(out)]
    assert cli.invoke(main, [*args, "--la", "tst"]).exit_code == 0
    assert _notes(out) == ["ours"]
    assert cli.invoke(main, args).exit_code == 0  # no --la: the whole trail
    assert _notes(out) == ["ours", "theirs", "nobody's"]
    bad = cli.invoke(main, ["export", "audit", "--from", "2026-03-03", "--to", "2026-03-02", "--out", str(out)])
    assert bad.exit_code != 0 and "the last day must not be before the first" in bad.output
    assert cli.invoke(main, [*args, "--la", "NOPE"]).exit_code != 0
