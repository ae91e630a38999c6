"""The transfer package: the plan, advice, documents, deadlines and history of a case moving to an LA not on EHC Flow.

``export_and_close`` (engine.casework.transfer) stores it on the case as a document of kind ``PACKAGE_KIND``, a
readable summary with the whole package as JSON inside it; ``write_transfer_package`` writes that JSON as a file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import date, datetime
from html import escape
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.casework.plans import current_plan
from engine.errors import NotFound
from engine.statutory import calendar
from engine.store.models import AuditEvent, Case, CaseParty, Deadline, Document, HumanTask, Organisation, PlanVersion, User

PACKAGE_FORMAT = "ehcflow-transfer-package"
PACKAGE_VERSION = 1
PACKAGE_KIND = "transfer_package"
_PACKAGE_SCRIPT_ID = "ehc-transfer-package"


def date_or_none(value: Any) -> date | None:
    """A date from route data, or None when there is none or it is not a date."""
    try:
        return calendar.as_date(value) if value not in (None, "") else None
    except ValueError:
        return None


def long_date(value: Any) -> str:
    """'2026-03-02' -> '2 March 2026'; a value that is not a date is shown as it is."""
    day = date_or_none(value)
    return f"{day.day} {day:%B %Y}" if day else str(value or "")


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def build_transfer_package(session: Session, case_id: int, *, generated_at: datetime, reason: str = "",
                           destination: Organisation | None = None, move: Mapping[str, Any] | None = None
                           ) -> dict[str, Any]:
    """Everything the new authority needs to carry on: the plan and its versions, the advice, the documents, the
    statutory clock and the case history, as JSON-ready data."""
    case = session.get(Case, case_id)
    if case is None:
        raise NotFound("No such case")
    plan = current_plan(session, case_id)
    versions = list(session.scalars(select(PlanVersion).where(PlanVersion.case_id == case_id)
                                    .order_by(PlanVersion.number)))
    parties = []
    for party in session.scalars(select(CaseParty).where(CaseParty.case_id == case_id).order_by(CaseParty.id)):
        entry: dict[str, Any] = {"role": party.role, "active": party.active,
                                 "relationship_to_child": party.relationship_to_child}
        if party.organisation is not None:
            entry["organisation"] = {"name": party.organisation.name, "code": party.organisation.code,
                                     "kind": party.organisation.kind, "email": party.organisation.email}
        if party.user is not None:
            entry["person"] = {"name": party.user.name, "email": party.user.email}
        parties.append(entry)
    # The advice: section K of the plan in force, and every form the advisers returned on the case's routes.
    advice: list[dict[str, Any]] = []
    if plan is not None:
        for item in (plan.sections.get("K") or {}).get("advice", []):
            advice.append({"source": "section K of the plan", **item})
    for row in session.scalars(select(HumanTask).where(
            HumanTask.case_id == case_id, HumanTask.status == "completed",
            HumanTask.role.in_(("educational_psychologist", "health", "social_care", "school")))
            .order_by(HumanTask.completed_at, HumanTask.id)):
        advice.append({"source": row.name, "role": row.role, "given_on": _iso(row.completed_at),
                       "answers": row.submitted_data or {}})
    documents = [{"kind": d.kind, "title": d.title, "issued_at": _iso(d.issued_at), "recipients": d.recipients,
                  "appealable": d.appealable, "body_html": d.body_html}
                 for d in session.scalars(select(Document).where(Document.case_id == case_id,
                                                                 Document.kind != PACKAGE_KIND)
                                          .order_by(Document.issued_at, Document.id))]
    deadlines = [{"key": d.key, "name": d.name, "due_date": _iso(d.due_date), "started_on": _iso(d.started_on),
                  "status": d.status, "met_at": _iso(d.met_at), "missed": d.missed,
                  "exception_reason": d.exception_reason, "exception_detail": d.exception_detail}
                 for d in session.scalars(select(Deadline).where(Deadline.case_id == case_id)
                                          .order_by(Deadline.due_date, Deadline.id))]
    history = []
    for event in session.scalars(select(AuditEvent).where(AuditEvent.case_id == case_id)
                                 .order_by(AuditEvent.at, AuditEvent.id)):
        actor = session.get(User, event.actor_id) if event.actor_id else None
        history.append({"at": _iso(event.at), "action": event.action, "summary": event.summary,
                        "by": actor.name if actor else None})
    la = case.la
    return {
        "format": PACKAGE_FORMAT,
        "version": PACKAGE_VERSION,
        "generated_at": _iso(generated_at),
        "reason": reason,
        "from_local_authority": {"name": la.name, "code": la.code, "email": la.email},
        "to_local_authority": ({"name": destination.name, "code": destination.code, "email": destination.email}
                               if destination is not None else None),
        "move": dict(move or {}),
        "child": {"reference": case.reference, "first_name": case.child_first_name,
                  "last_name": case.child_last_name, "date_of_birth": _iso(case.date_of_birth)},
        "parties": parties,
        "plan": {
            "in_force": plan.number if plan is not None else None,
            "versions": [{"number": v.number, "kind": v.kind, "label": v.label, "sections": v.sections,
                          "created_at": _iso(v.created_at), "issued_at": _iso(v.issued_at)} for v in versions],
        },
        "advice": advice,
        "documents": documents,
        "deadlines": deadlines,
        "history": history,
    }


def _json_in_html(package: Mapping[str, Any]) -> str:
    # Inside <script>, "</script>" or "<!--" in a document body would end or confuse the element: escape <, > and &
    # as JSON unicode escapes, which a JSON parser reads back unchanged.
    text = json.dumps(package, ensure_ascii=False, indent=1, sort_keys=False)
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def package_html(package: Mapping[str, Any]) -> str:
    """The stored document: a readable summary, with the whole package as JSON inside it (the file's content)."""
    child = package["child"]
    to = (package.get("to_local_authority") or {}).get("name") or "the new local authority"
    versions = package["plan"]["versions"]
    rows = "".join(
        f"<tr><td>{escape(str(v['label']))}</td><td>{escape(str(v['kind']))}</td>"
        f"<td>{escape(long_date((v['issued_at'] or v['created_at'] or '')[:10]))}</td></tr>" for v in versions)
    return (
        '<article class="ehc-document ehc-document--transfer-package">\n'
        f"  <h1 class=\"ehc-document__title\">Transfer package: {escape(child['first_name'])} "
        f"{escape(child['last_name'])} ({escape(child['reference'])})</h1>\n"
        f"  <p>From {escape(package['from_local_authority']['name'])} to {escape(to)}, made on "
        f"{escape(long_date(package['generated_at'][:10]))}.</p>\n"
        f"  <p>{escape(package['reason'])}</p>\n"
        "  <h2>What the package holds</h2>\n"
        "  <ul>\n"
        f"    <li>{len(versions)} version(s) of the EHC plan</li>\n"
        f"    <li>{len(package['advice'])} item(s) of advice</li>\n"
        f"    <li>{len(package['documents'])} document(s) issued on the case</li>\n"
        f"    <li>{len(package['deadlines'])} statutory deadline(s) and {len(package['history'])} history entries</li>\n"
        "  </ul>\n"
        + (f"  <table class=\"govuk-table\"><thead><tr><th>Version</th><th>Kind</th><th>Date</th></tr></thead>"
           f"<tbody>{rows}</tbody></table>\n" if versions else "")
        + f'  <script type="application/json" id="{_PACKAGE_SCRIPT_ID}">\n{_json_in_html(package)}\n  </script>\n'
        "</article>\n"
    )


_PACKAGE_RE = re.compile(rf'<script type="application/json" id="{_PACKAGE_SCRIPT_ID}">\n(.*)\n  </script>', re.S)


def package_from_document(document: Document) -> dict[str, Any]:
    """The package stored in a transfer-package document."""
    if document.kind != PACKAGE_KIND:
        raise NotFound("This document is not a transfer package")
    found = _PACKAGE_RE.search(document.body_html)
    if found is None:
        raise NotFound("The transfer package could not be read from this document")
    package: dict[str, Any] = json.loads(found.group(1))
    return package


def transfer_package_filename(package: Mapping[str, Any]) -> str:
    reference = re.sub(r"[^A-Za-z0-9-]+", "-", str(package["child"]["reference"]))
    return f"{reference}-transfer-package-{str(package['generated_at'])[:10]}.json"


def write_transfer_package(session: Session, document_id: int, directory: Path) -> Path:
    """Writes the package of a transfer-package document to a JSON file in ``directory``; returns its path."""
    document = session.get(Document, document_id)
    if document is None:
        raise NotFound("No such document")
    package = package_from_document(document)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / transfer_package_filename(package)
    path.write_text(json.dumps(package, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path


__all__ = [
    "PACKAGE_KIND", "build_transfer_package", "long_date", "package_from_document", "package_html",
    "transfer_package_filename", "write_transfer_package",
]
