"""A case's whole record as one ZIP, for a subject access request.

Everything the database holds about the case goes in: the child's details and the parties (case.json), every task
with what was submitted, by whom and when (tasks.json), the statutory deadlines (deadlines.json), every audit event
(audit.jsonl) and each document's stored HTML (documents/). Files uploaded with task forms are stored by the web
layer (webui/uploads.py), which the engine must not import, so the caller passes them in as ``files``.

Every name inside the ZIP is made here from ids and a slug of letters, digits and hyphens: nothing typed by a user
(a title, an upload's original name) can reach a path with ``..`` or a slash in it.
"""

from __future__ import annotations

import html
import io
import json
import re
import zipfile
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.store.models import AuditEvent, Case, Deadline, Document, HumanTask, User


class CaseNotFound(LookupError):
    """No case with that id (or not one of the caller's organisations)."""


def slug(text: str, limit: int = 60) -> str:
    """Lower-case letters, digits and single hyphens only: safe as part of a file name on any system."""
    cleaned = re.sub(r"[^a-z0-9]+", "-", (text or "").lower()).strip("-")
    return cleaned[:limit].strip("-") or "item"


def _value(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value


def _dump(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=_value)


def _user(user: User | None) -> dict[str, Any] | None:
    return None if user is None else {"id": user.id, "name": user.name, "email": user.email}


def case_details(case: Case) -> dict[str, Any]:
    parties = [{"id": p.id, "role": p.role, "active": p.active, "relationship_to_child": p.relationship_to_child,
                "organisation": None if p.organisation is None else {"id": p.organisation.id,
                                                                     "name": p.organisation.name},
                "person": _user(p.user)}
               for p in sorted(case.parties, key=lambda p: p.id)]
    return {"id": case.id, "reference": case.reference, "child_first_name": case.child_first_name,
            "child_last_name": case.child_last_name, "date_of_birth": _value(case.date_of_birth),
            "address": case.address, "postcode": case.postcode, "upn": case.upn, "nhs_number": case.nhs_number,
            "uln": case.uln, "sex": case.sex, "ethnicity": case.ethnicity, "status": case.status,
            "stage": case.stage, "created_at": _value(case.created_at), "closed_at": _value(case.closed_at),
            "closed_reason": case.closed_reason, "local_authority": {"id": case.la.id, "name": case.la.name},
            "parties": parties}


def task_rows(session: Session, case_id: int) -> list[dict[str, Any]]:
    tasks = session.scalars(select(HumanTask).where(HumanTask.case_id == case_id).order_by(HumanTask.id))
    return [{"id": t.id, "instance_id": t.instance_id, "process_id": t.process_id, "bpmn_id": t.bpmn_id,
             "name": t.name, "detail": t.detail, "role": t.role, "organisation_id": t.organisation_id,
             "status": t.status, "due_date": _value(t.due_date), "created_at": _value(t.created_at),
             "completed_at": _value(t.completed_at), "completed_by": _user(t.completed_by),
             "submitted_data": t.submitted_data} for t in tasks]


def deadline_rows(session: Session, case_id: int) -> list[dict[str, Any]]:
    deadlines = session.scalars(select(Deadline).where(Deadline.case_id == case_id).order_by(Deadline.id))
    return [{"id": d.id, "key": d.key, "name": d.name, "process_id": d.process_id, "due_date": _value(d.due_date),
             "started_on": _value(d.started_on), "status": d.status, "met_at": _value(d.met_at),
             "missed": d.missed, "missed_at": _value(d.missed_at), "exception_reason": d.exception_reason,
             "exception_detail": d.exception_detail} for d in deadlines]


def audit_row(event: AuditEvent) -> dict[str, Any]:
    return {"id": event.id, "at": _value(event.at), "case_id": event.case_id, "instance_id": event.instance_id,
            "actor_id": event.actor_id, "action": event.action, "summary": event.summary, "detail": event.detail}


def case_record_zip(session: Session, case_id: int, *, files: Iterable[tuple[str, bytes]] = (),
                    generated_at: datetime | None = None) -> bytes:
    """The ZIP's bytes. ``files`` are (original name, content) of the case's uploads; each is stored under
    ``uploads/<n>-<slug>`` whatever its name was."""
    case = session.get(Case, case_id)
    if case is None:
        raise CaseNotFound(case_id)
    items: list[tuple[str, str]] = []  # (path in the ZIP, what it is) for the index
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        def put(path: str, content: str | bytes, what: str) -> None:
            archive.writestr(path, content)
            items.append((path, what))

        put("case.json", _dump(case_details(case)), "The child's details and everyone involved")
        put("tasks.json", _dump(task_rows(session, case_id)), "Every task, with the answers submitted")
        put("deadlines.json", _dump(deadline_rows(session, case_id)), "The statutory deadlines")
        events = session.scalars(select(AuditEvent).where(AuditEvent.case_id == case_id).order_by(AuditEvent.id))
        put("audit.jsonl", "".join(json.dumps(audit_row(e), ensure_ascii=False, sort_keys=True) + "\n"
                                   for e in events), "Every audit event (one JSON object a line)")
        documents = session.scalars(select(Document).where(Document.case_id == case_id).order_by(Document.id))
        for doc in documents:
            put(f"documents/{doc.id}-{slug(doc.title)}.html", _document_page(doc), f"Document: {doc.title}")
        for number, (name, content) in enumerate(files, start=1):
            put(f"uploads/{number}-{slug(name, 80)}", content, f"Uploaded file: {name}")
        archive.writestr("index.html", _index(case, items, generated_at))
    return buffer.getvalue()


def _document_page(doc: Document) -> str:
    """The document's stored HTML as issued (it was sanitised when it was made), with its title and date."""
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{html.escape(doc.title)}"
            f"</title></head><body>\n<p>Issued {html.escape(_value(doc.issued_at) or '')}</p>\n{doc.body_html}\n"
            "</body></html>\n")


def _index(case: Case, items: list[tuple[str, str]], generated_at: datetime | None) -> str:
    rows = "\n".join(f"<tr><td><a href=\"{html.escape(path)}\">{html.escape(path)}</a></td>"
                     f"<td>{html.escape(what)}</td></tr>" for path, what in items)
    when = f"<p>Made {html.escape(generated_at.isoformat())}</p>\n" if generated_at else ""
    return (f"<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Case record "
            f"{html.escape(case.reference)}</title></head><body>\n<h1>Case record {html.escape(case.reference)}"
            f"</h1>\n<p>{html.escape(case.child_name)}</p>\n{when}<table>\n<tr><th>File</th><th>What it is</th>"
            f"</tr>\n{rows}\n</table>\n</body></html>\n")


def export_case_record(session: Session, case_id: int, *, actor_id: int | None, reason: str, now: datetime,
                       files: Iterable[tuple[str, bytes]] = ()) -> bytes:
    """The ZIP, with a ``case_exported`` audit event (who, when, why) committed before the bytes are handed over: a
    subject access export is itself something the child's record must show."""
    content = case_record_zip(session, case_id, files=files, generated_at=now)
    session.add(AuditEvent(at=now, case_id=case_id, actor_id=actor_id, action="case_exported",
                           summary="The case's whole record was exported (subject access)",
                           detail={"reason": reason, "bytes": len(content)}))
    session.commit()
    return content
