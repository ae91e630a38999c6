"""The admin exports (webui/admin/exports.py): a case's record for subject access and the audit trail by dates.
Only administrators of the case's local authority may export it (another authority's admin gets "not found", any
other role is refused), the POST needs its CSRF token and a reason, and each export is in the audit trail."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime

from flask import Flask
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from engine.runtime.services import Services
from engine.store.models import AuditEvent
from tests.conftest import World
from tests.web.conftest import Client, text_of
from webui import uploads


def _events(services: Services, action: str) -> list[AuditEvent]:
    with services.session_factory() as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def _upload(app: Flask, services: Services, world: World, case_id: int, content: bytes) -> None:
    uploads.store(FileStorage(io.BytesIO(content), "../evidence.txt"), uploads.folder(app.instance_path),
                  extensions=(".txt",), max_bytes=1000, scanner=uploads.eicar_scanner, case_id=case_id, task_id=None,
                  user_id=world.users["caseworker"].id, now=services.engine.clock.now())


def test_the_las_admin_exports_the_case_with_a_reason_and_it_is_audited(app: Flask, services: Services,
                                                                          world: World, as_user) -> None:
    _upload(app, services, world, world.case_id, b"our evidence")
    _upload(app, services, world, world.other_case_id, b"OTHER-CASE-EVIDENCE")
    admin: Client = as_user("admin")
    url = f"/admin/cases/{world.case_id}/export"
    page = admin.page(url)
    assert "Export this case’s record (subject access)" in text_of(page)
    refused = admin.post(url, {"reason": "  "}, status=200)
    assert "Enter the reason for doing this" in refused.get_data(as_text=True) and not _events(services,
                                                                                              "case_exported")
    response = admin.post(url, {"reason": "SAR 2026/14 from the mother"}, status=200)
    assert response.mimetype == "application/zip"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="case-')
    archive = zipfile.ZipFile(io.BytesIO(response.get_data()))
    assert json.loads(archive.read("case.json"))["id"] == world.case_id
    assert archive.read("uploads/1-evidence-txt") == b"our evidence"
    assert not any(b"OTHER-CASE-EVIDENCE" in archive.read(n) for n in archive.namelist())
    [event] = _events(services, "case_exported")
    assert (event.case_id, event.actor_id, event.detail["reason"]) == \
        (world.case_id, world.users["admin"].id, "SAR 2026/14 from the mother")


def test_only_the_cases_own_admins_may_export_it(services: Services, world: World, as_user) -> None:
    url = f"/admin/cases/{world.case_id}/export"
    as_user("other_admin").post(url, {"reason": "curious"}, status=404)  # another authority's case: not found
    as_user("other_admin").get(url, status=404)
    for role in ("caseworker", "manager", "parent"):
        response = as_user(role).post(url, {"reason": "curious"})
        assert response.status_code in (403, 404), role
    assert not _events(services, "case_exported")
    as_user("other_admin").get(f"/admin/cases/{world.other_case_id}/export", status=200)


def test_the_export_needs_its_csrf_token(services: Services, world: World, as_user) -> None:
    admin = as_user("admin")
    response = admin.post(f"/admin/cases/{world.case_id}/export", {"reason": "SAR"}, token=False)
    assert response.status_code == 400 and response.mimetype != "application/zip"
    response = admin.post("/admin/audit-export", {"from-day": "1", "from-month": "7", "from-year": "2026",
                                                  "to-day": "1", "to-month": "7", "to-year": "2026",
                                                  "format": "csv"}, token=False)
    assert response.status_code == 400
    assert not _events(services, "case_exported") and not _events(services, "audit_exported")


def test_audit_trail_export_by_dates_streams_only_the_admins_events(services: Services, world: World,
                                                                     as_user) -> None:
    """Wednesday 1 July 2026 in London (BST) runs from 23:00 UTC on 30 June to 23:00 UTC on 1 July."""
    with services.session_factory() as s:
        for case_id, at, summary in ((world.case_id, datetime(2026, 6, 30, 23, 0, tzinfo=UTC), "@mine"),
                                     (world.case_id, datetime(2026, 7, 1, 23, 0, tzinfo=UTC), "next day"),
                                     (world.other_case_id, datetime(2026, 7, 1, 9, 0, tzinfo=UTC), "theirs")):
            s.add(AuditEvent(at=at, case_id=case_id, action="note", summary=summary))
        s.commit()
    admin = as_user("admin")
    page = admin.page("/admin/audit-export")
    assert page.find(id="from-day") is not None and page.find(id="format") is not None
    fields = {"from-day": "1", "from-month": "7", "from-year": "2026", "to-day": "1", "to-month": "7",
              "to-year": "2026"}
    text = admin.post("/admin/audit-export", {**fields, "format": "csv"}, status=200).get_data(as_text=True)
    assert text.splitlines()[0].startswith("id,at,case_id") and "'@mine" in text
    assert "next day" not in text and "theirs" not in text
    lines = admin.post("/admin/audit-export", {**fields, "format": "jsonl"}, status=200).get_data(as_text=True)
    assert [json.loads(line)["summary"] for line in lines.splitlines()] == ["@mine"]
    bad = admin.post("/admin/audit-export", {**fields, "to-day": "31", "to-month": "2", "format": "xml"}, status=200)
    assert "Enter the last day as a real date" in bad.get_data(as_text=True)
    assert "Select a format" in bad.get_data(as_text=True)
    [first, second] = _events(services, "audit_exported")
    assert (first.actor_id, first.detail["format"], second.detail["format"]) == (world.users["admin"].id, "csv",
                                                                                  "jsonl")
    as_user("caseworker").get("/admin/audit-export", status=403)
