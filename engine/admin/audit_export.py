"""The audit trail between two dates for the council's log system, as CSV or JSON lines.

Dates are London days, both inclusive: "from 2026-03-29 to 2026-03-29" is the 23 hours of the clocks going forward.
Rows are read in batches keyed on id (never OFFSET, never the whole trail in memory) and yielded as text chunks, so
a year of events can be streamed to a file or an HTTP response.

Events are those of cases whose local authority is one of the given organisations, plus events with no case
written by someone who holds a role in one of them. ``None`` for the organisations (the command line, run by whoever
runs the server) is the whole trail, events of no organisation included.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from engine.admin.case_export import audit_row
from engine.statutory.calendar import LONDON
from engine.store.models import AuditEvent, Case, Membership

FORMATS = ("csv", "jsonl")
COLUMNS = ("id", "at", "case_id", "case_reference", "instance_id", "actor_id", "action", "summary", "detail")
BATCH = 500
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection): such a cell gets a quote first.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def london_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """The instants from the start of ``start`` to the start of the day after ``end``, London time."""
    first = datetime.combine(start, time(0), tzinfo=LONDON)
    after = datetime.combine(end + timedelta(days=1), time(0), tzinfo=LONDON)
    return first, after


def safe_cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def audit_events(session: Session, org_ids: list[int] | None, start: date, end: date,
                 batch: int = BATCH) -> Iterator[dict[str, object]]:
    """Each event as a dict (with the case's reference), oldest id first, fetched ``batch`` at a time."""
    first, after = london_bounds(start, end)
    query = (select(AuditEvent, Case.reference).outerjoin(Case, Case.id == AuditEvent.case_id)
             .where(AuditEvent.at >= first, AuditEvent.at < after))
    if org_ids is not None:
        members = select(Membership.user_id).where(Membership.organisation_id.in_(org_ids))
        query = query.where(or_(Case.la_id.in_(org_ids),
                                AuditEvent.case_id.is_(None) & AuditEvent.actor_id.in_(members)))
    last_id = 0
    while True:
        rows = session.execute(query.where(AuditEvent.id > last_id).order_by(AuditEvent.id).limit(batch)).all()
        if not rows:
            return
        for event, reference in rows:
            yield {**audit_row(event), "case_reference": reference}
        last_id = rows[-1][0].id


def export_chunks(session: Session, org_ids: list[int] | None, start: date, end: date, fmt: str,
                  batch: int = BATCH) -> Iterator[str]:
    """The export as text chunks: a header row then a chunk a batch (CSV), or one JSON object a line."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}")
    if fmt == "jsonl":
        for row in audit_events(session, org_ids, start, end, batch):
            yield json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n"
        return
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for count, row in enumerate(audit_events(session, org_ids, start, end, batch), start=1):
        detail = json.dumps(row["detail"], ensure_ascii=False, sort_keys=True) if row["detail"] is not None else ""
        writer.writerow([safe_cell(detail if c == "detail" else row[c]) for c in COLUMNS])
        if count % batch == 0:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()
