"""The case's contact log: calls, emails, meetings, letters and visits with the family or the professionals, each with
who it was with, when it happened and what was said or agreed.

Need to know: a contact log holds what was said about a child in confidence, so only the responsible authority's SEN
caseworkers and managers read or add to it (not its administrators or process owners, nor the services, schools and
health bodies on the case, nor the family). Every entry is audited; the audit line names the kind of contact and who
recorded it, never what was said, because the case's timeline is read more widely than the log. Entries are never
changed or removed: a correction is a new entry.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.errors import FormInvalid, NotAllowed
from engine.people.access import roles_in
from engine.people.roles import Role
from engine.store.case_notes import CaseNote
from engine.store.models import AuditEvent, Case, User

KINDS: dict[str, str] = {
    "call": "Phone call",
    "email": "Email",
    "meeting": "Meeting",
    "letter": "Letter",
    "visit": "Visit",
    "other": "Other contact",
}
WITH_MAX = 200
SUMMARY_MAX = 5000
# The roles that may read and write an authority's contact logs.
NOTE_ROLES = (Role.CASEWORKER.value, Role.MANAGER.value)


def may_use_notes(held: set[tuple[int | None, str]] | frozenset[tuple[int | None, str]], case: Case) -> bool:
    """Whether someone with these (organisation, role) pairs may read and add to the case's contact log."""
    return any((case.la_id, role) in held for role in NOTE_ROLES)


def user_may_use_notes(session: Session, user: User, case: Case) -> bool:
    return bool(user.active) and may_use_notes(roles_in(session, user), case)


@dataclass(frozen=True)
class NoteRow:
    id: int
    kind: str
    kind_label: str
    happened_on: date
    with_whom: str
    summary: str
    recorded_at: datetime
    recorded_by: str | None


def _parse_date(day: str, month: str, year: str, today: date) -> tuple[date | None, str | None]:
    parts = [day.strip(), month.strip(), year.strip()]
    if not any(parts):
        return None, "Enter the date of the contact"
    if not all(parts):
        missing = [name for name, part in zip(("day", "month", "year"), parts, strict=True) if not part]
        return None, "Date of the contact must include a " + " and ".join(missing)
    if not all(p.isdigit() for p in parts) or len(parts[2]) != 4:
        return None, "Date of the contact must be a real date"
    try:
        when = date(int(parts[2]), int(parts[1]), int(parts[0]))
    except ValueError:
        return None, "Date of the contact must be a real date"
    if when > today:
        return None, "Date of the contact must be today or in the past"
    return when, None


def check_note(raw: Mapping[str, str], today: date) -> dict[str, object]:
    """The entry cleaned; raises FormInvalid with a GOV.UK message per field (``kind``, ``happened_on``,
    ``with_whom``, ``summary``)."""
    errors: dict[str, str] = {}
    kind = (raw.get("kind") or "").strip()
    if kind not in KINDS:
        errors["kind"] = "Select the kind of contact"
    happened_on, problem = _parse_date(raw.get("happened_on-day") or "", raw.get("happened_on-month") or "",
                                       raw.get("happened_on-year") or "", today)
    if problem:
        errors["happened_on"] = problem
    with_whom = " ".join((raw.get("with_whom") or "").split())
    if not with_whom:
        errors["with_whom"] = "Enter who the contact was with"
    elif len(with_whom) > WITH_MAX:
        errors["with_whom"] = f"Who the contact was with must be {WITH_MAX} characters or fewer"
    summary = (raw.get("summary") or "").replace("\r\n", "\n").strip()
    if not summary:
        errors["summary"] = "Enter what was said or agreed"
    elif len(summary) > SUMMARY_MAX:
        errors["summary"] = f"What was said or agreed must be {SUMMARY_MAX} characters or fewer"
    if errors:
        raise FormInvalid(errors)
    return {"kind": kind, "happened_on": happened_on, "with_whom": with_whom, "summary": summary}


def add_note(session: Session, case: Case, actor: User, raw: Mapping[str, str], now: datetime,
             today: date) -> CaseNote:
    """Checks and adds an entry to the contact log (in the caller's session, committed by the caller), and audits it.
    Raises NotAllowed for anyone without need to know, FormInvalid (saving nothing) for a bad entry."""
    if not user_may_use_notes(session, actor, case):
        raise NotAllowed("Only the local authority's caseworkers and managers can add to the contact log")
    clean = check_note(raw, today)
    note = CaseNote(case_id=case.id, kind=str(clean["kind"]), happened_on=clean["happened_on"],
                    with_whom=str(clean["with_whom"]), summary=str(clean["summary"]), recorded_at=now,
                    recorded_by_id=actor.id)
    session.add(note)
    session.flush()
    session.add(AuditEvent(at=now, case_id=case.id, actor_id=actor.id, action="case_note_added",
                           summary=f"Contact log: {KINDS[note.kind].lower()} recorded",
                           detail={"note_id": note.id, "kind": note.kind,
                                   "happened_on": note.happened_on.isoformat()}))
    return note


def case_notes(session: Session, case: Case, reader: User, limit: int | None = None) -> list[NoteRow]:
    """The contact log, latest contact first. Raises NotAllowed for anyone without need to know."""
    if not user_may_use_notes(session, reader, case):
        raise NotAllowed("Only the local authority's caseworkers and managers can read the contact log")
    query = (select(CaseNote, User.name).outerjoin(User, User.id == CaseNote.recorded_by_id)
             .where(CaseNote.case_id == case.id)
             .order_by(CaseNote.happened_on.desc(), CaseNote.id.desc()))
    if limit is not None:
        query = query.limit(limit)
    return [NoteRow(n.id, n.kind, KINDS.get(n.kind, n.kind), n.happened_on, n.with_whom, n.summary, n.recorded_at,
                    name) for n, name in session.execute(query).all()]


__all__ = ["KINDS", "NoteRow", "add_note", "case_notes", "check_note", "may_use_notes",
           "user_may_use_notes"]
